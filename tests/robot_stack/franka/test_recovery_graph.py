"""Franka's reflex and its recovery end to end on a real rclpy graph.

The twin in franka mode trips a reflex as franka_ros2 does (a hand pushing the peg over the
collision threshold: hardware and controllers inactive, the state stops); the bridge reports the
FCI error; recovery is refused while the peg is still pressed, then `rlif robot recover` (through
the running bridge) brings the controllers and the state back and the cell re-arms and resumes.
Without a bridge, `rlif robot recover` runs the three steps against the twin itself.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter

from robot_stack import topics as T
from robot_stack.franka import topics as FT
from tests.helpers import wait_for
from tests.robot_stack.franka.test_bridge_graph import launch, probe  # noqa: F401  (fixture)

pytestmark = pytest.mark.graph
RLIF = [sys.executable, "-m", "robot_stack.cli.main"]
STEPS = ["error_recovery", "hardware_active", "controllers_active"]


def set_twin_params(probe, **values) -> None:
    """Set twin_franka parameters at run time (its test hooks), as `ros2 param set` would."""
    cli = probe.node.create_client(SetParameters, "/twin_franka/set_parameters")
    assert cli.wait_for_service(timeout_sec=10.0)
    done = threading.Event()
    fut = cli.call_async(SetParameters.Request(parameters=[Parameter(k, value=v).to_parameter_msg()
                                                           for k, v in values.items()]))
    fut.add_done_callback(lambda _: done.set())
    assert done.wait(10.0) and all(r.successful for r in fut.result().results)


def faults(probe, what: str, since: float = 0.0):
    return [e for e in probe.events_of("fault", since=since) if e.data.get("what") == what]


class TwinStatus:
    def __init__(self, probe):
        self.last: dict = {}
        probe.node.create_subscription(T.STATUS.msg_type, T.STATUS.name, self._cb, T.STATUS.qos)

    def _cb(self, msg):
        s = T.unpack_status(msg)
        if s["node"] == "twin_franka":
            self.last = s


def test_reflex_fci_error_refused_then_recovered_through_the_bridge(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.0] * 6)
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"])
    try:
        twin = TwinStatus(probe)
        wait_for(lambda: probe.obs_since(0), 90, what="an episode running")
        set_twin_params(probe, push_for_s=4.0, push_n=[0.0, 0.0, 150.0])  # a hand pushes the peg up, hard
        t_push = time.monotonic()
        fci = wait_for(lambda: faults(probe, "fci error"), 20, what="the bridge's FCI error")
        assert "franka_robot_state_broadcaster" in fci[0].data["detail"]
        assert "rlif robot recover" in fci[0].data["detail"]
        wait_for(lambda: twin.last.get("hardware") == "inactive", 5, what="the twin's heartbeat (2 Hz)")
        assert "cartesian_reflex" in twin.last.get("reflex", "")
        assert probe.events_of("episode_end")[-1].data["reason"] == "robot_fault"
        t_off = time.monotonic()
        time.sleep(0.5)
        assert probe.obs_since(t_off) == []  # no ticks while the arm is off
        probe.event("request_recover")  # what the dashboard's Recover button publishes
        failed = wait_for(lambda: faults(probe, "recovery failed"), 30, what="recovery refused while pressed")
        assert "still pressed" in failed[0].data["detail"]
        time.sleep(max(0.0, t_push + 4.5 - time.monotonic()))  # the hand lets go
        r = subprocess.run([*RLIF, "robot", "recover", "--run-dir", str(run_dir), "--json"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out == {"ok": True, "via": "bridge", "steps": STEPS, "re_armed": True}
        assert probe.events_of("robot_recovered")[0].data["steps"] == STEPS
        starts = wait_for(lambda: probe.events_of("episode_start", since=t_off), 60, what="an episode after recovery")
        wait_for(lambda: probe.obs_since(time.monotonic() - 0.5), 20, what="observations again")
        wait_for(lambda: twin.last.get("hardware") == "active", 5, what="the twin's heartbeat (2 Hz)")
        assert starts[0].data["episode"] >= 1
    finally:
        g.close()
    assert g.launcher.exit_codes()["franka_bridge"] == 0


def test_recover_without_a_bridge_runs_the_steps_against_the_twin(tmp_path, probe):
    g, cfg, run_dir = launch(tmp_path, ["twin_franka"], node_params={
        "twin_franka": {"push_n": [0.0, 0.0, 150.0], "push_after_s": 1.0, "push_for_s": 0.5}})
    try:
        twin = TwinStatus(probe)
        poses = []
        ft = FT.franka_topics(cfg.franka)
        probe.node.create_subscription(ft.pose.msg_type, ft.pose.name, lambda m: poses.append(time.monotonic()),
                                       ft.pose.qos)
        wait_for(lambda: twin.last.get("hardware") == "inactive", 30, what="the reflex")
        time.sleep(1.0)  # the push is over
        t0 = time.monotonic()
        assert not [t for t in poses if t > t0 - 0.5]  # silent since the reflex
        r = subprocess.run([*RLIF, "robot", "recover", "--run-dir", str(run_dir), "--json"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        assert json.loads(r.stdout.strip().splitlines()[-1]) == {"ok": True, "via": "twin", "steps": STEPS,
                                                                  "re_armed": False}
        wait_for(lambda: [t for t in poses if t > t0], 10, what="the state topics again")
    finally:
        g.close()
