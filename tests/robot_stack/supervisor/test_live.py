"""`start_supervisor`: token file, history from the run folder, link printed once, read-only mode."""
from __future__ import annotations

import dataclasses
import stat

import httpx
import numpy as np
import pytest

from robot_stack.config import SupervisorConfig
from robot_stack.supervisor.live import encode_jpeg, start_supervisor
from robot_stack.supervisor.metrics_file import COLUMNS
from robot_stack.topics import EventKind as K
from tests.robot_stack.supervisor.helpers import EventLog

pytestmark = pytest.mark.unit
CFG = dataclasses.replace(SupervisorConfig(), port=0)


def test_live_supervisor_for_a_run(tmp_path):
    (tmp_path / "metrics.csv").write_text(",".join(COLUMNS) + "\n0,1,0,0,10,1,2,1\n")
    lines, log = [], EventLog()
    sup = start_supervisor(tmp_path, CFG, log, window=3, announce=lines.append)
    try:
        assert len(lines) == 1 and sup.dashboard_link in lines[0] and str(sup.token_path) in lines[0]
        assert stat.S_IMODE(sup.token_path.stat().st_mode) == 0o600
        assert sup.token_path.read_text().strip() == sup.token
        assert sup.state.status()["episodes"] == 1 and sup.state.window == 3
        r = httpx.post(sup.url + "/api/estop", headers={"Authorization": f"Bearer {sup.token}"}, timeout=5)
        assert r.status_code == 200 and log.kinds() == [K.ESTOP]
    finally:
        sup.stop()


def test_read_only_supervisor_writes_no_token(tmp_path):
    lines = []
    sup = start_supervisor(tmp_path, CFG, None, announce=lines.append)
    try:
        assert sup.token_path is None and not list(tmp_path.iterdir())
        assert "read-only" in lines[0] and "token" not in lines[0]
        assert httpx.post(sup.url + "/api/estop", timeout=5).status_code == 409
    finally:
        sup.stop()


def test_encode_jpeg():
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[:, :16] = 255
    jpeg = encode_jpeg(rgb)
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
