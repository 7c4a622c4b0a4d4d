"""GET /api/videos and /api/videos/{name}: the run's latest episode videos for the dashboard."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from robot_stack.supervisor.app import create_app
from sim.video import video_path, write_mp4
from tests.robot_stack.supervisor.conftest import TOKEN
from tests.robot_stack.supervisor.test_browser import page  # noqa: F401 - the headless Chromium fixture



@pytest.fixture
def run_client(state, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(state, TOKEN, run_dir=tmp_path), base_url="http://127.0.0.1:8765") as c:
        yield c


@pytest.mark.unit
def test_lists_the_latest_videos_and_serves_them(run_client, tmp_path):
    assert run_client.get("/api/videos").json() == {"videos": []}
    frames = [np.full((48, 64, 3), 40 * k, np.uint8) for k in range(4)]
    for ep in (0, 3, 6, 9):
        write_mp4(video_path(tmp_path, ep), frames, 10.0)
    got = run_client.get("/api/videos").json()["videos"]
    assert [v["episode"] for v in got] == [9, 6, 3]
    r = run_client.get(got[0]["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    assert r.content == video_path(tmp_path, 9).read_bytes()
    assert len(run_client.get("/api/videos?n=10").json()["videos"]) == 4


@pytest.mark.unit
def test_only_episode_videos_of_the_run_are_served(run_client, tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "secret.txt").write_text("x")
    for name in ("episode-00001.mp4", "..%2Fsecret.txt", "secret.txt", "episode-1.mp4"):
        r = run_client.get(f"/api/videos/{name}")
        assert r.status_code == 404, name  # a slash matches no route at all


@pytest.mark.browser
def test_the_dashboard_links_the_latest_videos(page, tmp_path):
    import dataclasses

    from robot_stack.config import SupervisorConfig
    from robot_stack.supervisor.server import SupervisorServer
    from robot_stack.supervisor.state import SupervisorState

    frames = [np.full((48, 64, 3), 60, np.uint8)] * 3
    for ep in (0, 4, 8, 12):
        write_mp4(video_path(tmp_path, ep), frames, 10.0)
    cfg = dataclasses.replace(SupervisorConfig(), port=0)
    with SupervisorServer(create_app(SupervisorState(None), TOKEN, tmp_path, cfg), cfg) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("#videos a")
        links = page.eval_on_selector_all("#videos a", "as => as.map(a => [a.textContent, a.getAttribute('href')])")
        assert links == [[f"episode {e}", f"/api/videos/episode-{e:05d}.mp4"] for e in (12, 8, 4)]
        r = page.request.get(server.url + links[0][1])
        assert r.status == 200 and r.headers["content-type"] == "video/mp4"
