"""The supervisor API through FastAPI's TestClient: auth, JSON errors, control -> events + status."""
from __future__ import annotations

import pytest

from robot_stack.supervisor.state import SupervisorState
from robot_stack.topics import EventKind as K
from tests.robot_stack.supervisor.conftest import AUTH, TOKEN
from tests.robot_stack.supervisor.helpers import EventLog, tiny_jpeg

pytestmark = pytest.mark.unit
CONTROL = ["/api/episode/start", "/api/episode/success", "/api/episode/abort", "/api/training/pause",
           "/api/training/resume", "/api/estop", "/api/estop/clear"]


def make_client(state, max_body=1024):
    import warnings

    from robot_stack.config import SupervisorConfig
    from robot_stack.supervisor.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(create_app(state, TOKEN, cfg=SupervisorConfig(max_body_bytes=max_body)),
                      base_url="http://127.0.0.1:8765")


@pytest.mark.parametrize("path", CONTROL)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": TOKEN}])
def test_control_without_the_right_token_is_401_json(client, events, path, headers):
    r = client.post(path, headers=headers)
    assert r.status_code == 401 and r.headers["content-type"] == "application/json"
    assert "token" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
    assert events.events == [] and not client.get("/api/status").json()["estop"]


def test_auth_comes_before_body_validation(client):
    assert client.post("/api/estop", json={"reason": 5}).status_code == 401
    assert client.post("/api/episode/abort", json={"reason": 5}).status_code == 401


@pytest.mark.parametrize("path, expected", [
    ("/api/episode/start", K.REQ_START), ("/api/episode/success", K.REQ_SUCCESS),
    ("/api/episode/abort", K.REQ_ABORT), ("/api/training/pause", K.TRAINING_PAUSE),
    ("/api/training/resume", K.TRAINING_RESUME), ("/api/estop", K.ESTOP), ("/api/estop/clear", K.ESTOP_CLEAR)])
def test_each_control_call_publishes_its_event(client, events, path, expected):
    r = client.post(path, headers=AUTH)
    assert r.status_code == 200 and r.json()["ok"]
    assert events.kinds() == [expected] and events.events[0][1]["by"] == "supervisor"


def test_estop_clear_pause_resume_change_the_status(client, events):
    r = client.post("/api/estop", headers=AUTH, json={"reason": "hand in the cell"})
    assert r.json()["status"]["estop"] and client.get("/api/status").json()["estop_reason"] == "hand in the cell"
    assert events.events[-1] == (K.ESTOP, {"reason": "hand in the cell", "by": "supervisor"})
    assert client.post("/api/estop/clear", headers=AUTH).json()["status"]["estop"] is False
    assert client.post("/api/training/pause", headers=AUTH).json()["status"]["paused"] is True
    assert client.get("/api/status").json()["paused"] is True
    assert client.post("/api/training/resume", headers=AUTH).json()["status"]["paused"] is False
    assert client.post("/api/episode/abort", headers=AUTH, json={"reason": "jammed"}).status_code == 200
    assert events.kinds() == [K.ESTOP, K.ESTOP_CLEAR, K.TRAINING_PAUSE, K.TRAINING_RESUME, K.REQ_ABORT]
    assert events.events[-1][1]["reason"] == "jammed"


BAD_BODIES = [{"json": {"reason": 5}}, {"json": {"reason": "x" * 201}}, {"json": {"why": "extra field"}},
              {"json": [1, 2]}, {"content": b"{not json", "headers": {"content-type": "application/json"}}]


@pytest.mark.parametrize("kwargs", BAD_BODIES)
def test_bad_bodies_are_422_json(client, events, kwargs):
    headers = {**AUTH, **kwargs.pop("headers", {})}
    r = client.post("/api/episode/abort", headers=headers, **kwargs)
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["detail"] == "invalid request" and r.json()["errors"]
    assert events.events == []


@pytest.mark.parametrize("kwargs", BAD_BODIES + [{"content": b'{"reason": "x"}',
                                                  "headers": {"content-type": "application/x-www-form-urlencoded"}}])
def test_a_malformed_body_never_blocks_an_estop(client, events, kwargs):
    headers = {**AUTH, **kwargs.pop("headers", {})}
    readable = kwargs.get("content") == b'{"reason": "x"}'  # JSON under a form content type: taken
    r = client.post("/api/estop", headers=headers, **kwargs)
    assert r.status_code == 200 and r.json()["status"]["estop"] and events.kinds() == [K.ESTOP]
    assert (r.json()["warning"] is None) if readable else ("body ignored" in r.json()["warning"])


@pytest.mark.parametrize("query", ["since=-1", "since=abc", "limit=0"])
def test_bad_queries_are_422_json(client, query):
    r = client.get(f"/api/metrics?{query}")
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][0] == "query"


def test_oversized_bodies_are_413_json(client, events):
    r = client.post("/api/estop", headers=AUTH, content=b"x" * 2000)
    assert r.status_code == 413 and r.headers["content-type"] == "application/json"
    assert "too large" in r.json()["detail"]

    def chunks():  # no Content-Length: counted while it streams
        for _ in range(10):
            yield b" " * 300

    r = client.post("/api/estop", headers={**AUTH, "content-type": "application/json"}, content=chunks())
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    assert events.events == []


def test_other_errors_are_json_too(client):
    for r, code in [(client.get("/api/nope"), 404), (client.get("/api/estop"), 405),
                    (client.get("/api/camera.jpg"), 404)]:
        assert r.status_code == code and r.headers["content-type"] == "application/json" and r.json()["detail"]


def test_read_only_state_answers_409_token_or_not():
    c = make_client(SupervisorState(None))
    for path in CONTROL:
        for headers in ({}, AUTH):
            r = c.post(path, headers=headers)
            assert r.status_code == 409 and "no live graph" in r.json()["detail"]
    assert c.get("/api/status").json()["read_only"] is True


def test_a_failing_publisher_is_503_and_nothing_changes():
    state = SupervisorState(EventLog(fail=True))
    r = make_client(state).post("/api/estop", headers=AUTH)
    assert r.status_code == 503 and "could not publish" in r.json()["detail"]
    assert not state.status()["estop"]


def test_status_metrics_and_camera_reads(client, state):
    state.on_event(K.EPISODE_END, {"episode": 0, "steps": 20, "success": True, "interventions": 4})
    state.on_event(K.EPISODE_END, {"episode": 1, "steps": 10, "success": True, "interventions": 0})
    st = client.get("/api/status").json()
    assert st["episodes"] == 2 and st["success_rate"] == 1.0 and st["autonomous_success_rate"] == 0.5
    m = client.get("/api/metrics").json()
    assert [r["episode"] for r in m["rows"]] == [0, 1] and m["next"] == 2 and m["window"] == 5
    assert client.get("/api/metrics?since=1").json()["rows"][0]["episode"] == 1
    assert client.get("/api/metrics?since=2").json() == {"rows": [], "next": 2, "window": 5}
    jpeg = tiny_jpeg()
    state.on_camera(jpeg)
    r = client.get("/api/camera.jpg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content == jpeg


def test_reads_need_no_token_and_docs_are_served(client):
    assert client.get("/api/status").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ["/api/status", "/api/metrics", "/api/stream", "/api/camera.jpg", *CONTROL]:
        assert path in spec["paths"], path
    assert "HTTPBearer" in str(spec["components"]["securitySchemes"])
    assert client.get("/docs").status_code == 200


def test_dashboard_and_its_static_files_are_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "E-STOP" in r.text
    for f in ["dashboard.js", "charts.js", "style.css"]:
        assert client.get(f"/static/{f}").status_code == 200
    assert "http" not in client.get("/static/dashboard.js").text.replace("http.", "")  # nothing from the internet


def test_non_finite_numbers_never_break_the_json(client, state):
    state.add_metrics([{"episode": 0, "success": 1, "updates_per_s": float("nan"), "wall_time": float("inf")}])
    state.on_status({"node": "learner", "updates_per_s": float("nan")})
    state.on_event(K.EPISODE_END, {"episode": 1, "steps": 10, "success": True, "interventions": 0,
                                   "final_obs": [0.1, float("nan")]})
    rows = client.get("/api/metrics").json()["rows"]
    assert rows[0]["updates_per_s"] is None and rows[0]["wall_time"] is None and rows[1]["updates_per_s"] == 0.0
    assert client.get("/api/status").json()["updates_per_s"] == 0.0


@pytest.mark.parametrize("host, ok", [("127.0.0.1:8765", True), ("localhost:8765", True), ("[::1]:8765", True),
                                      ("localhost", True), ("evil.example:8765", False), ("10.0.0.5:8765", False),
                                      ("127.0.0.1.evil.example", False)])
def test_loopback_bound_app_answers_only_loopback_host_names(client, host, ok):
    r = client.get("/api/status", headers={"host": host})
    assert (r.status_code == 200) if ok else (r.status_code == 400 and "not allowed" in r.json()["detail"])


def test_an_exposed_app_accepts_any_host(state):
    import dataclasses
    import warnings

    from robot_stack.config import SupervisorConfig
    from robot_stack.supervisor.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    cfg = dataclasses.replace(SupervisorConfig(), host="0.0.0.0")
    c = TestClient(create_app(state, TOKEN, cfg=cfg), base_url="http://robot-pc.lab:8765")
    assert c.get("/api/status").status_code == 200
