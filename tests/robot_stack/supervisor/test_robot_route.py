"""POST /api/robot/recover (the dashboard's Recover arm button): authenticated, publishes
`request_recover` for the Franka bridge (which runs franka's recovery and re-arms the cell)."""
from __future__ import annotations

import pytest

from robot_stack.franka.admin import REQ_RECOVER
from robot_stack.supervisor.app import STATIC_DIR
from robot_stack.supervisor.state import SupervisorState
from tests.robot_stack.supervisor.conftest import AUTH
from tests.robot_stack.supervisor.test_api import make_client

pytestmark = pytest.mark.unit


def test_recover_needs_the_token_and_publishes_request_recover(client, events):
    r = client.post("/api/robot/recover")
    assert r.status_code == 401 and events.events == []
    r = client.post("/api/robot/recover", headers=AUTH)
    assert r.status_code == 200 and r.json()["ok"]
    assert events.kinds() == [REQ_RECOVER] and events.events[0][1]["by"] == "supervisor"


def test_recover_on_a_browsed_run_is_409():
    r = make_client(SupervisorState(None)).post("/api/robot/recover", headers=AUTH)
    assert r.status_code == 409 and "no live graph" in r.json()["detail"]


def test_the_dashboard_has_the_button_for_franka_graphs():
    html, js = (STATIC_DIR / "index.html").read_text(), (STATIC_DIR / "dashboard.js").read_text()
    assert 'id="btn-recover"' in html
    assert 'post("/api/robot/recover")' in js and '"franka_bridge" in s.nodes' in js
