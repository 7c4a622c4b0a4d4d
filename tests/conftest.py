"""Test session set-up shared by every test.

- A unique `ROS_DOMAIN_ID` per test session (so parallel sessions and stray graphs never mix),
  `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`, `MUJOCO_GL=egl`, a temporary `ROS_LOG_DIR`.
  Set before anything imports rclpy, and inherited by every subprocess a test starts.
- After every test, any child process the test left behind (a node, a launcher, a writer) is
  terminated, then killed: no ROS process outlives its test.
"""
from __future__ import annotations

import os
import tempfile

import psutil
import pytest

_session_tmp = tempfile.mkdtemp(prefix="rlif-tests-")
# Domain IDs 1..100 are safe for localhost-only discovery; derive one from our pid.
os.environ["ROS_DOMAIN_ID"] = str(1 + os.getpid() % 100)
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ["MUJOCO_GL"] = "egl"
os.environ["ROS_LOG_DIR"] = os.path.join(_session_tmp, "ros-logs")
os.environ.setdefault("RLIF_TEST_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))


@pytest.fixture(autouse=True)
def _reap_children():
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    if not left:
        return
    for p in left:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(left, timeout=5)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


@pytest.fixture
def artifacts_dir():
    """Folder for files a test keeps for humans (screenshots, plots): test-artifacts/."""
    d = os.environ["RLIF_TEST_ARTIFACTS"]
    os.makedirs(d, exist_ok=True)
    return d

