"""Joint homing before the Cartesian reset: the pure motion, the reset state machine, and the
twin in franka mode following the controller's joint targets to `franka.home_q`."""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from robot_stack import config as cfgmod
from robot_stack.franka import topics as FT
from robot_stack.franka.cell import MAX_RESET_DT_S, FrankaCell
from robot_stack.franka.homing import JointMotion
from tests.helpers import wait_for
from tests.robot_stack.franka.conftest import FakeArm
from tests.robot_stack.franka.test_bridge_graph import launch, probe  # noqa: F401  (fixture)

HOME = (0.0, 0.1861, 0.0, -2.4005, 0.0, 2.5866, 0.7854)


@pytest.mark.unit
def test_joint_motion_is_straight_and_speed_limited():
    m = JointMotion(np.zeros(7), [0.6, -0.3, 0, 0, 0, 0, 0.15], speed_rad_s=0.3)
    q = m.step(1.0)
    assert np.allclose(q, [0.3, -0.15, 0, 0, 0, 0, 0.075])  # the farthest joint at 0.3 rad/s, the rest in proportion
    assert not m.finished
    assert np.allclose(m.step(5.0), m.goal) and m.finished
    assert m.settled(m.goal + 0.01, tol_rad=0.02) and not m.settled(m.goal + 0.03, tol_rad=0.02)
    with pytest.raises(ValueError, match="7 joints"):
        JointMotion(np.zeros(6), np.zeros(7), 0.3)


class HomingArm(FakeArm):
    """FakeArm with joints: the joint target is followed at once; the tip goes up to 5 cm at home."""

    def __init__(self, sink, pose6=(0.0, 0.0, 0.0, 0, 0, 0)):
        super().__init__(sink, pose6)
        self.q = np.zeros(7)

    def feed(self, dt=0.01, force=(0.0, 0.0, 0.0)):
        super().feed(dt, force)
        self.sink.on_joints(self.q, self.t)


def run(cell, arm, n=3000, dry_run=False):
    outcomes = []
    for _ in range(n):
        arm.feed(0.01)
        out = cell.reset_tick(arm.t, 0.01, dry_run=dry_run)
        if out:
            outcomes.append(out)
        q = cell.take_joint_outbox()
        if q is not None and not dry_run:
            arm.q = q
            arm.pose = np.array([0.0, 0.0, 0.05, 0, 0, 0])  # home: the tip above the hole
        t = cell.take_outbox()
        if t is not None and not dry_run and cell.reset_state != "homing":
            arm.follow(t)
        if cell.reset_state in ("done", "confirm"):
            break
    return outcomes


@pytest.mark.unit
def test_a_homing_reset_lifts_homes_then_moves(cfgs):
    cell = FrankaCell(cfgs[0], replace(cfgs[1], home_q=HOME, home_every=2))
    arm = HomingArm(cell)  # the peg in the hole
    assert run(cell, arm) == ["lifting", "homing", "homed", "moving", "done"]
    assert np.allclose(arm.q, HOME)
    cell.request_reset()
    assert "homing" not in run(cell, arm)  # reset 1: no homing (every 2nd)
    cell.request_reset()
    assert "homing" in run(cell, arm)  # reset 2: homing again


@pytest.mark.unit
def test_a_home_outside_the_box_waits_for_the_operator(cfgs):
    cell = FrankaCell(cfgs[0], replace(cfgs[1], home_q=HOME))
    arm = HomingArm(cell)
    for _ in range(3000):
        arm.feed(0.01)
        out = cell.reset_tick(arm.t, 0.01)
        q = cell.take_joint_outbox()
        if q is not None:
            arm.q, arm.pose = q, np.array([0.2, 0.0, 0.4, 0, 0, 0])  # this home_q puts the tip far away
        t = cell.take_outbox()
        if t is not None and cell.reset_state == "lifting":
            arm.follow(t)
        if out == "outside":
            break
    assert cell.reset_state == "confirm" and "at franka.home_q the tip is" in cell.reset_why
    assert cell.take_outbox() is None  # nothing sent: the controller holds home


@pytest.mark.graph
def test_the_first_reset_homes_the_twins_joints(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.0] * 6)
    lock, targets, joints = threading.Lock(), [], []
    cfg = cfgmod.resolve("robot-twin", [])
    ft = FT.franka_topics(cfg.franka)

    def on_target(m):
        with lock:
            targets.append(FT.unpack_joints(m)[0])

    def on_joints(m):
        with lock:
            joints.append(FT.unpack_joints(m)[0])

    # every measured sample (best effort like the driver's, but a deep reader queue): the bridge
    # calls the arm homed on its first sample within tolerance and moves on at once
    probe.node.create_subscription(ft.joints.msg_type, ft.joints.name, on_joints,
                                   replace(ft.joints, depth=1000).qos)
    # The bridge's first reset waits for two joint-target readers, the twin's and this probe's;
    # the probe's is created only once the twin's joint states reach the probe, so no sample of
    # the homing can be lost to the twin -> probe discovery (seen: matched after the homing).
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"],
                             node_params={"franka_bridge": {"joint_subscribers": 2}})
    try:
        wait_for(lambda: joints, 60, what="the twin's joint states at the probe")
        probe.node.create_subscription(ft.joint_target.msg_type, ft.joint_target.name, on_target, 10)
        wait_for(lambda: probe.events_of("episode_start"), 90, what="the first episode")
        first = wait_for(lambda: probe.obs_since(0), 20, what="its first observation")[0].obs
    finally:
        g.close()
    with lock:
        assert len(targets) >= 2 and np.allclose(targets[-1], cfg.franka.home_q, atol=1e-12)
        steps = np.abs(np.diff(np.array(targets), axis=0)).max()
        closest = min(float(np.max(np.abs(q - np.array(cfg.franka.home_q)))) for q in joints)
    assert steps <= cfg.franka.home_speed_rad_s * MAX_RESET_DT_S + 1e-9, steps  # bounded speed: a reset tick at most
    assert closest <= cfg.franka.home_tolerance_rad, closest  # the twin's joints reached home
    assert abs(first[0]) <= 0.024 and abs(first[1]) <= 0.024 and 0.026 <= first[2] <= 0.054, first  # the start pose
    assert "reset: homed" in (run_dir / "logs" / "franka_bridge.log").read_text()
