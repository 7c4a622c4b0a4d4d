"""FrankaCore: frame, target rule (box, one-step limit, hand-over), velocity, force abort, stale."""
from dataclasses import replace

import numpy as np
import pytest

from robot_stack.config import FrankaConfig
from robot_stack.franka.core import FrankaCore
from sim.config import CellConfig
from tests.robot_stack.franka.conftest import FakeArm

pytestmark = pytest.mark.unit


def make(cfgs, pose6=(0.0, 0.0, 0.04, 0, 0, 0)):
    core = FrankaCore(*cfgs)
    arm = FakeArm(core, pose6)
    arm.feed()
    core.start_episode()
    return core, arm


def test_observation_is_the_tip_in_the_nominal_hole_frame(cfgs):
    core, arm = make(cfgs, (0.01, -0.005, 0.03, 0.0, 0.0, 0.1))
    obs = core.observe()
    assert obs.dtype == np.float32 and obs.shape == (18,)
    assert np.allclose(obs[:6], [0.01, -0.005, 0.03, 0.0, 0.0, 0.1], atol=1e-6)
    assert np.allclose(core.target, obs[:6], atol=1e-6)  # anchored on the measured pose


def test_wrench_is_rotated_from_the_ee_axes_into_the_hole_axes(cfgs):
    core, arm = make(cfgs, (0, 0, 0.03, 0, 0, np.pi / 2))  # EE yawed 90 deg in the hole frame
    core.on_wrench((-1.0, 0.0, -5.0), (0.0, -0.2, 0.0), arm.t)  # franka's reaction: on the robot (1, 0, 5)
    # EE z points down along the peg: +5 N on EE z is -5 N on the hole's z (up); then the yaw
    assert np.allclose(core.force, [0.0, 1.0, -5.0], atol=1e-9)
    assert np.allclose(core.torque, [0.2, 0.0, 0.0], atol=1e-9)


def test_wrench_sign_converts_franka_s_reaction_once(cfgs):
    """libfranka's K_F_ext_hat_K is the robot's reaction: the board pushing the peg UP (+z in the
    hole frame, the twin's reading) arrives as +z on the EE axis (EE z points down the peg)."""
    core, arm = make(cfgs, (0, 0, 0.0, 0, 0, 0))
    core.on_wrench((0.0, 0.0, 10.0), (0, 0, 0), arm.t)
    assert np.allclose(core.force, [0.0, 0.0, 10.0], atol=1e-9)
    flipped, arm2 = make((cfgs[0], replace(cfgs[1], wrench_sign=1)), (0, 0, 0.0, 0, 0, 0))
    flipped.on_wrench((0.0, 0.0, 10.0), (0, 0, 0), arm2.t)
    assert np.allclose(flipped.force, [0.0, 0.0, -10.0], atol=1e-9)


def test_velocity_from_pose_differences(cfgs):
    core, arm = make(cfgs)
    for _ in range(10):
        arm.pose[0] += 0.001  # 1 mm per 10 ms = 0.1 m/s
        arm.feed(0.01)
    v, w = core.velocity()
    assert np.allclose(v, [0.1, 0.0, 0.0], atol=1e-6) and np.allclose(w, 0.0, atol=1e-9)


def test_target_integrates_actions_and_is_limited_to_one_step_from_the_measured_pose(cfgs):
    core, arm = make(cfgs)
    a = np.array([1.0, 0, 0, 0, 0, 0])
    core.apply(a)
    core.apply(a)  # the arm did not move: the target stays one full step (1 cm) ahead
    assert core.target[0] == pytest.approx(0.01)
    arm.follow(core.target)
    arm.feed()
    core.apply(a * 0.5)
    assert core.target[0] == pytest.approx(0.015)


def test_target_outside_the_box_is_clipped(cfgs):
    core, arm = make(cfgs, (0.035, 0.0, 0.075, 0, 0, 0.28))
    box = np.asarray(cfgs[0].safety_box_m)
    for _ in range(5):
        core.apply([1.0, -1.0, 1.0, 0, 0, 1.0])
        arm.follow(core.target)
        arm.feed()
        assert np.all(np.abs(core.target[:3]) <= box + 1e-12)
        assert np.linalg.norm(core.target[3:]) <= cfgs[0].safety_box_rad + 1e-12
    assert core.target[0] == pytest.approx(box[0]) and core.target[2] == pytest.approx(box[2])
    pos, _ = core.target_base()
    assert pos[2] == pytest.approx(0.1 + box[2])  # hole z is up, out of the board


def test_hand_over_between_policy_and_operator_does_not_jump_the_target(cfgs):
    """The target is the previous target + the new delta whoever drives: no jump on hand-over."""
    core, arm = make(cfgs)
    targets = []
    for i, a in enumerate([[0.5, 0, 0, 0, 0, 0]] * 3 + [[0, 0.5, 0, 0, 0, 0]] * 3 + [[0, 0, -0.5, 0, 0, 0]] * 3):
        before = core.target.copy()
        core.apply(a)  # steps 0-2 policy, 3-5 operator, 6-8 policy again: the core never knows who
        targets.append(core.target.copy())
        assert np.linalg.norm(core.target[:3] - before[:3]) <= 0.5 * cfgs[0].max_step_m + 1e-12
        arm.follow(core.target, 0.7)
        arm.feed()


def test_action_space_xyz_and_bad_actions(cfgs):
    from dataclasses import replace

    cell, fr = cfgs
    core, arm = make((replace(cell, action_space="xyz"), fr))
    core.apply([0, 0, -1.0])
    assert core.target[2] == pytest.approx(0.03)
    with pytest.raises(ValueError, match="3 values"):
        core.next_target([0, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        core.next_target([np.nan, 0, 0])


def test_force_abort_re_anchors_the_target_and_is_terminal(cfgs):
    core, arm = make(cfgs, (0.0, 0.0, 0.001, 0, 0, 0))
    core.apply([0, 0, -1.0, 0, 0, 0])  # pushing on the board
    assert core.target[2] < arm.pose[2]
    hit = core.on_wrench((0.0, 0.0, cfgs[0].max_force_n + 1.0), (0, 0, 0), arm.t)
    assert hit and core.aborted
    assert np.allclose(core.target, arm.pose)  # equilibrium on the measured pose: stops pushing
    before = core.target.copy()
    obs, term, trunc, info = core.apply([0, 0, -1.0, 0, 0, 0])  # aborted: actions no longer move it
    assert term and info["aborted"] and not info["success"]
    assert np.allclose(core.target, before)
    core.start_episode()
    assert not core.aborted and core.max_force == 0.0


def test_success_is_depth_below_the_board(cfgs):
    core, arm = make(cfgs, (0.0, 0.0, -cfgs[0].success_depth_m - 0.001, 0, 0, 0))
    _, term, _, info = core.hold()
    assert term and info["success"] and info["insertion_depth_m"] > cfgs[0].success_depth_m


def test_stale_names_what_is_missing(cfgs):
    core = FrankaCore(*cfgs)
    assert core.stale(0.0) is not None and not core.has_state()
    arm = FakeArm(core)
    arm.feed()
    assert core.has_state() and core.stale(arm.t + 0.05) is None
    assert "pose / wrench" in core.stale(arm.t + 0.2)
    core.on_wrench((0, 0, 0), (0, 0, 0), arm.t + 0.15)
    assert core.stale(arm.t + 0.2) == f"no robot pose for > {cfgs[1].stale_ms:.0f} ms"


def test_non_finite_state_is_ignored(cfgs):
    core, arm = make(cfgs)
    t = arm.t
    core.on_pose([np.nan, 0, 0], [0, 0, 0, 1], t + 0.05)
    core.on_wrench([np.inf, 0, 0], [0, 0, 0], t + 0.05)
    assert core.pose_t == t and core.wrench_t == t and np.all(np.isfinite(core.observe()))


def test_the_twin_and_the_franka_core_apply_the_same_rules():
    """Same measured pose, same target, same action -> the same next target (to float rounding of
    the base-frame round trip and the two rotation arithmetics); same depth -> same outcome."""
    from sim.cell import TwinCell

    cell = CellConfig()
    twin = TwinCell(cell, seed=4)
    rng = np.random.default_rng(1)
    hole = (0.5, 0.0, 0.1, 1.0, 0.0, 0.0, 0.0)
    for i in range(40):
        measured = np.array([*rng.uniform(-0.008, 0.008, 2), rng.uniform(0.0, 0.04), *rng.normal(0, 0.05, 3)])
        target = measured + np.array([*rng.normal(0, 0.004, 3), *rng.normal(0, 0.02, 3)])
        action = rng.uniform(-1.5, 1.5, 6) if i % 3 else rng.uniform(-0.3, 0.3, 6)
        core = FrankaCore(cell, FrankaConfig(hole_pose=hole))
        arm = FakeArm(core, measured)
        arm.feed()
        core.set_target(target)
        want = twin.rules.next_target(twin.rules.clip(target), measured, action)  # what TwinCell.apply computes
        np.testing.assert_allclose(core.next_target(action), want, rtol=0, atol=1e-9)
    for z, aborted in ((-0.02, False), (-0.02, True), (-0.001, False), (0.01, False)):
        core, arm = make((cell, FrankaConfig(hole_pose=hole)), (0.0, 0.0, z, 0, 0, 0))
        core.aborted = aborted
        depth = twin.rules.depth([0.0, 0.0, z])  # the twin's tip straight above/in the true hole
        assert core.info()["insertion_depth_m"] == pytest.approx(depth)
        assert core.info()["success"] == twin.rules.success(depth, aborted)
    twin.close()
