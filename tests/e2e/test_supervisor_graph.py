"""The supervisor as a node of a running sim graph: e-stop over HTTP holds the cell (no step starts
once the cell has it, judged by step keys: arrival times on a loaded 2-core machine say nothing
about the cell); the dashboard in headless Chromium fills its charts from real episodes and its e-stop
button holds the cell. A screenshot is kept in test-artifacts/."""
from __future__ import annotations

import os
import time

import httpx
import pytest

from robot_stack.session import GraphSession
from tests.fakes.graph import Probe, actor_weights_file, cell_held_at, write_run_config
from tests.helpers import wait_for

HZ = 20.0
TICK = 1.0 / HZ
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def graph(tmp_path):
    run_dir = tmp_path / "run"
    cfg = write_run_config(run_dir, [f"cell.control_hz={HZ}", "graph.accelerated=false", "graph.deadline_ms=30",
                                     "cell.episode_steps=10", "agent.hidden=[32, 32]"])
    w = actor_weights_file(cfg, run_dir / "actor.safetensors")
    g = GraphSession({"name": "test", "nodes": ["cell", "actor", "mux", "recorder"]}, cfg, run_dir, "none",
                     resume=False, out=lambda s: None, serve=True, port=0)
    for spec in g.specs:
        if spec.name == "actor":
            spec.params.update(weights=str(w), deterministic=True)
    probe = Probe()
    with g:
        url = wait_for(lambda: g.monitor.snapshot()[0].get("supervisor", {}).get("url"), 60, what="supervisor url")
        token = (run_dir / "supervisor.token").read_text().strip()
        yield g, probe, url, token, run_dir
    probe.close()


@pytest.mark.graph
def test_estop_post_holds_the_cell_until_cleared(graph):
    g, probe, url, token, run_dir = graph
    assert oct(os.stat(run_dir / "supervisor.token").st_mode & 0o777) == "0o600"
    wait_for(lambda: len(probe.obs_since(0)) >= 3, 30, what="steps")
    with httpx.Client(base_url=url, timeout=5) as c:
        assert c.post("/api/estop").status_code == 401  # no token, no e-stop... and no state change
        r = c.post("/api/estop", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        held = cell_held_at(g.monitor)
        time.sleep(10 * TICK)
        assert probe.steps_from(held) == ([], [])  # no step starts while held
        assert wait_for(lambda: c.get("/api/status").json()["estop"], 5, what="status shows the e-stop")
        r = c.post("/api/estop/clear", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        wait_for(lambda: probe.steps_from(held)[0], 5, what="steps after the clear")


@pytest.mark.browser
@pytest.mark.e2e
def test_dashboard_on_a_live_sim_graph(graph, artifacts_dir):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `./rlif.sh test` installs it (apt package chromium)")
    from playwright.sync_api import sync_playwright

    g, probe, url, token, run_dir = graph
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(f"{url}/?token={token}")
            # 10-step episodes at 20 Hz: a new metrics row every ~0.5 s
            page.wait_for_function("document.querySelector('#chart-success').dataset.points >= 3")
            page.wait_for_selector("#camera:not([hidden])")  # the twin's rendered front camera
            assert page.get_attribute("#drives", "data-drives") in ("policy", "hold")
            page.click("#btn-estop")
            page.wait_for_selector("body[data-estop='true']")
            held = cell_held_at(g.monitor)
            time.sleep(10 * TICK)
            assert probe.steps_from(held) == ([], [])  # the cell holds: no new step
            page.screenshot(path=os.path.join(artifacts_dir, "dashboard-live-sim-graph.png"), full_page=True)
        finally:
            browser.close()
