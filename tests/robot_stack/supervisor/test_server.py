"""A real uvicorn (background thread, free port) and an httpx client: control, SSE, clean stop."""
from __future__ import annotations

import io
import json
import time

import httpx
import pytest

from robot_stack.supervisor.server import SupervisorServer, is_loopback, warn_if_exposed
from robot_stack.topics import EventKind as K
from tests.robot_stack.supervisor.conftest import AUTH

pytestmark = pytest.mark.unit


class SSE:
    """Server-sent events parsed from one streaming httpx response."""

    def __init__(self, response):
        self.chunks = response.iter_text()
        self.buf = ""

    def read(self, want, timeout=10.0):
        """Events until `want(events)` is true (or the stream ends / times out)."""
        events, deadline = [], time.monotonic() + timeout
        for chunk in self.chunks:
            self.buf += chunk
            while "\n\n" in self.buf:
                block, self.buf = self.buf.split("\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
                if "event" in fields:
                    events.append((fields["event"], json.loads(fields["data"]), fields.get("id")))
            if want(events) or time.monotonic() > deadline:
                break
        return events


def test_control_over_http_and_status(live_server, events):
    _, url = live_server
    with httpx.Client(base_url=url, timeout=5) as c:
        assert c.post("/api/estop").status_code == 401
        r = c.post("/api/estop", headers=AUTH, json={"reason": "http test"})
        assert r.status_code == 200 and r.json()["status"]["estop"]
        assert c.get("/api/status").json()["estop"] and events.kinds() == [K.ESTOP]
        assert c.post("/api/estop", headers=AUTH, content=b"x" * 100_000).status_code == 413


def test_sse_stream_delivers_status_and_new_metrics_rows(live_server, state):
    _, url = live_server
    state.on_event(K.EPISODE_END, {"episode": 0, "steps": 10, "success": True, "interventions": 1})
    with httpx.Client(base_url=url, timeout=10) as c:
        with c.stream("GET", "/api/stream") as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            sse = SSE(r)
            first = sse.read(lambda ev: any(e[0] == "status" for e in ev))
            assert first[0][0] == "metrics" and first[0][1]["rows"][0]["episode"] == 0 and first[0][2] == "1"
            state.on_command(1, 3, 1)
            state.on_event(K.EPISODE_END, {"episode": 1, "steps": 10, "success": False, "interventions": 0})
            later = sse.read(lambda ev: any(e[0] == "metrics" for e in ev)
                             and any(e[0] == "status" and e[1]["drives"] == "operator" for e in ev))
    rows = [row for kind, data, _ in later if kind == "metrics" for row in data["rows"]]
    assert [row["episode"] for row in rows] == [1]  # only the new row
    assert [e for e in later if e[0] == "status"][-1][1]["episodes"] == 2
    with httpx.Client(base_url=url, timeout=10) as c:  # resume after a reconnect: nothing twice
        with c.stream("GET", "/api/stream", headers={"Last-Event-ID": "1"}) as r:
            again = SSE(r).read(lambda ev: any(e[0] == "status" for e in ev))
    assert [row["episode"] for k, d, _ in again if k == "metrics" for row in d["rows"]] == [1]


def test_stop_ends_open_streams_and_frees_the_port(live_server):
    server, url = live_server
    with httpx.Client(base_url=url, timeout=10) as c:
        with c.stream("GET", "/api/stream") as r:
            sse = SSE(r)
            sse.read(lambda ev: len(ev) >= 1)
            t0 = time.monotonic()
            server.stop()
            sse.read(lambda ev: False)  # the stream ends instead of hanging
            assert time.monotonic() - t0 < 5
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/status", timeout=2)


def test_a_busy_port_is_a_clear_error(live_server, state):
    import dataclasses

    from robot_stack.config import SupervisorConfig
    from robot_stack.supervisor.app import create_app

    server, _ = live_server
    cfg = dataclasses.replace(SupervisorConfig(), port=server.port)
    with pytest.raises(RuntimeError, match="could not listen"):
        SupervisorServer(create_app(state, "t", cfg=cfg), cfg).start(timeout=5)


def test_non_loopback_hosts_are_warned_about():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")
    out = io.StringIO()
    assert warn_if_exposed("0.0.0.0", out) and "WARNING" in out.getvalue() and "0.0.0.0" in out.getvalue()
    assert not warn_if_exposed("127.0.0.1", out)
