"""Test session set-up shared by every test.

- A `ROS_DOMAIN_ID` no other test session on this machine holds (a lock per domain, held for
  the session: parallel sessions and stray graphs never mix),
  `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`, `MUJOCO_GL=egl`, a temporary `ROS_LOG_DIR`.
  Set before anything imports rclpy, and inherited by every subprocess a test starts.
- After every test, any child process the test left behind (a node, a launcher, a writer) is
  terminated, then killed: no ROS process outlives its test.
"""
from __future__ import annotations

import fcntl
import os
import tempfile

import psutil
import pytest

_session_tmp = tempfile.mkdtemp(prefix="rlif-tests-")
_domain_locks = []  # open lock files: held (so the domain stays ours) until the session exits


def _claim_ros_domain() -> int:
    """A domain in 1..100 (safe for localhost-only discovery) that no other session holds, taken
    with an exclusive flock (released when this process ends, however it ends). Two sessions
    deriving a domain from their pids alone collide now and then."""
    for k in range(100):
        domain = 1 + (os.getpid() + k) % 100
        f = open(os.path.join(tempfile.gettempdir(), f"rlif-test-ros-domain-{domain}.lock"), "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        _domain_locks.append(f)
        return domain
    raise RuntimeError("every ROS domain 1-100 is held by another test session on this machine")


os.environ["ROS_DOMAIN_ID"] = str(_claim_ros_domain())
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

