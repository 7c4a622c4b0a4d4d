"""FrankaCell: reset state machine (bounded speed, lift first, confirm, force, timeout, outside
the box) and the cell methods CellNode calls (never terminal at apply time, outbox)."""
from dataclasses import replace

import numpy as np
import pytest

from robot_stack.franka.cell import FrankaCell
from tests.robot_stack.franka.conftest import FakeArm

pytestmark = pytest.mark.unit
DT = 0.02  # fast timer of the bridge, s


def run_reset(cell, arm, n=2000, force=(0.0, 0.0, 0.0), dry_run=False):
    sent, outcome = [], None
    for _ in range(n):
        arm.feed(DT, force)
        outcome = cell.reset_tick(arm.t, DT, dry_run=dry_run)
        t = cell.take_outbox()
        if t is not None:
            sent.append(t)
            if not dry_run:
                arm.follow(t, 0.5)  # the arm lags its equilibrium
        if outcome not in (None, "moving"):
            break
    return np.array(sent), outcome


def test_reset_waits_for_state_then_moves_at_bounded_speed_to_a_start_pose(cfgs):
    cell = FrankaCell(*cfgs, seed=3)
    assert cell.reset_tick(0.0, DT) is None and cell.reset_state == "pending"  # no state yet
    arm = FakeArm(cell, (0.002, 0.001, -0.012, 0, 0, 0.02))  # peg inside the hole
    sent, outcome = run_reset(cell, arm)
    assert outcome == "done" and cell.reset_state == "done"
    steps = np.linalg.norm(np.diff(sent[:, :3], axis=0), axis=1)
    assert steps.max() <= cfgs[1].reset_speed_m_s * DT + 1e-9
    assert np.linalg.norm(sent[0, :3] - [0.002, 0.001, -0.012]) <= cfgs[1].reset_speed_m_s * DT + 1e-9  # no jump
    c = cfgs[0]
    goal = sent[-1]
    assert np.all(np.abs(goal[:2]) <= c.start_xy_m) and c.start_z_m[0] <= goal[2] <= c.start_z_m[1]
    cell.start_episode()
    assert np.allclose(cell.core.target, goal)  # the episode starts on the reset target: no jump


def test_apply_is_never_terminal_and_sends_the_target(cfgs):
    cell = FrankaCell(*cfgs)
    arm = FakeArm(cell, (0.0, 0.0, -0.02, 0, 0, 0))  # deep in the hole: success, read at the next tick
    arm.feed()
    cell.core.start_episode()
    obs, term, trunc, info = cell.apply([0, 0, -0.1, 0, 0, 0])
    assert not term and not trunc and info["success"]
    assert np.allclose(cell.take_outbox(), cell.core.target) and cell.take_outbox() is None
    cell.hold()
    assert cell.take_outbox() is None  # holding sends nothing new: the controller keeps the target


def test_force_during_reset_holds_and_waits_for_the_operator(cfgs):
    cell = FrankaCell(*cfgs)
    arm = FakeArm(cell, (0.0, 0.0, 0.0, 0, 0, 0))
    sent, outcome = run_reset(cell, arm, n=5, force=(0, 0, cfgs[0].max_force_n + 5))
    assert outcome == "force" and cell.reset_state == "confirm" and "force" in cell.reset_why
    assert np.allclose(cell.core.target, cell.core.pose)  # anchored on the measured pose
    for _ in range(10):  # nothing moves until confirmed
        arm.feed(DT)
        assert cell.reset_tick(arm.t, DT) is None and cell.take_outbox() is None
    assert cell.confirm() and cell.reset_state == "pending"
    _, outcome = run_reset(cell, arm)
    assert outcome == "done"


def test_confirm_reset_option_waits_after_every_reset(cfgs):
    cell = FrankaCell(cfgs[0], replace(cfgs[1], confirm_reset=True))
    arm = FakeArm(cell)
    _, outcome = run_reset(cell, arm)
    assert outcome == "confirm" and cell.reset_state == "confirm"
    assert cell.confirm() and cell.reset_state == "done"
    assert not cell.confirm()  # only once


def test_reset_timeout_waits_for_the_operator(cfgs):
    cell = FrankaCell(cfgs[0], replace(cfgs[1], reset_timeout_s=0.5))
    arm = FakeArm(cell)
    outcome = None
    for _ in range(200):  # the arm never follows (stuck)
        arm.feed(DT)
        outcome = cell.reset_tick(arm.t, DT)
        if outcome not in (None, "moving"):
            break
    assert outcome == "timeout" and "reset not done" in cell.reset_why


def test_dry_run_reset_finishes_on_the_commanded_target(cfgs):
    cell = FrankaCell(*cfgs)
    arm = FakeArm(cell)
    _, outcome = run_reset(cell, arm, dry_run=True)  # the arm never moves
    assert outcome == "done"


def test_first_reset_refuses_to_start_outside_the_box(cfgs):
    cell = FrankaCell(*cfgs)
    arm = FakeArm(cell, (0.2, 0.0, 0.3, 0, 0, 0))  # 20 cm away from the hole
    sent, outcome = run_reset(cell, arm)
    assert outcome == "outside" and len(sent) == 0 and "outside the safety box" in cell.reset_why
