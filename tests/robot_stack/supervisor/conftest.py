"""Fixtures of the supervisor tests: a state wired to an `EventLog`, a TestClient, a real server."""
from __future__ import annotations

import dataclasses
import warnings

import pytest

from robot_stack.config import SupervisorConfig
from robot_stack.supervisor.app import create_app
from robot_stack.supervisor.state import SupervisorState
from tests.robot_stack.supervisor.helpers import EventLog

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def state(events) -> SupervisorState:
    s = SupervisorState(events, window=5)
    events.echo = s.on_event  # published events come back, as over the graph
    return s


@pytest.fixture
def client(state):
    with warnings.catch_warnings():  # starlette nags about httpx vs httpx2; not our concern here
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(state, TOKEN, cfg=SupervisorConfig(max_body_bytes=1024)),
                    base_url="http://127.0.0.1:8765") as c:
        yield c


@pytest.fixture
def live_server(state, tmp_path):
    """The app served by a real uvicorn on a free port; yields (server, base url)."""
    from robot_stack.supervisor.server import SupervisorServer

    cfg = dataclasses.replace(SupervisorConfig(), port=0, stream_hz=10.0)
    server = SupervisorServer(create_app(state, TOKEN, tmp_path, cfg), cfg)
    url = server.start()
    try:
        yield server, url
    finally:
        server.stop()
