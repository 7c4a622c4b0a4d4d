"""sim/rules.py: the cell's rules (action, target, safety box, force abort, depth, success), once."""
import subprocess
import sys

import numpy as np
import pytest

from sim import kinematics as kin
from sim.config import CellConfig
from sim.rules import CellRules, Rotations, compose_rotvec, diff_rotvec

pytestmark = pytest.mark.unit
MUJOCO = Rotations(kin.compose_rotvec, kin.diff_rotvec)


def test_numpy_rotations_are_mujoco_s_maths_to_rounding():
    rng = np.random.default_rng(0)
    for scale in (1e-4, 0.05, 0.5, 2.5):
        for _ in range(500):
            a, b = rng.normal(0, scale, 3), rng.normal(0, scale, 3)
            np.testing.assert_allclose(compose_rotvec(a, b), kin.compose_rotvec(a, b), rtol=0, atol=1e-12)
            np.testing.assert_allclose(diff_rotvec(a, b), kin.diff_rotvec(a, b), rtol=0, atol=1e-12)
    assert np.allclose(diff_rotvec(np.zeros(3), np.zeros(3)), 0.0)


@pytest.mark.parametrize("rotations", [None, MUJOCO], ids=["numpy", "mujoco"])
def test_target_integrates_actions_within_one_step_of_the_measured_pose(rotations):
    cfg = CellConfig()
    rules = CellRules(cfg) if rotations is None else CellRules(cfg, rotations)
    target, measured = np.array([0.0, 0.0, 0.03, 0, 0, 0]), np.array([0.0, 0.0, 0.03, 0, 0, 0])
    t = rules.next_target(target, measured, [1.0, 0, -1.0, 0, 0, 1.0])
    assert np.allclose(t, [cfg.max_step_m, 0, 0.03 - cfg.max_step_m, 0, 0, cfg.max_step_rad])
    t2 = rules.next_target(t, measured, [1.0, 0, -1.0, 0, 0, 1.0])  # the arm did not move: wind-up bounded
    assert np.allclose(t2, t)
    assert np.allclose(rules.next_target(t, measured, [5.0, 0, 0, 0, 0, 0])[0], cfg.max_step_m)  # clipped to [-1, 1]


def test_safety_box_clips_position_per_axis_and_rotation_by_angle():
    cfg = CellConfig()
    rules = CellRules(cfg)
    box = np.asarray(cfg.safety_box_m)
    far = np.array([1.0, -1.0, 1.0, 0.0, 0.0, 3.0])
    t = rules.clip(far)
    assert np.allclose(t[:3], [box[0], -box[1], box[2]]) and np.isclose(np.linalg.norm(t[3:]), cfg.safety_box_rad)
    assert far[0] == 1.0  # a new array: the input is untouched
    measured = np.array([box[0], 0, 0.03, 0, 0, 0])
    assert rules.next_target(measured, measured, [1.0, 0, 0, 0, 0, 0])[0] == pytest.approx(box[0])


def test_bad_actions_are_refused_with_the_labels():
    rules = CellRules(CellConfig(action_space="xyz"))
    with pytest.raises(ValueError, match=r"3 values \('x', 'y', 'z'\)"):
        rules.delta([0.0] * 6)
    with pytest.raises(ValueError, match="NaN/inf"):
        rules.delta([0.0, np.nan, 0.0])
    assert np.allclose(rules.delta([1.0, 0.0, -0.5]), [CellConfig().max_step_m, 0, -0.5 * CellConfig().max_step_m, 0, 0, 0])


def test_depth_success_and_force_abort():
    cfg = CellConfig()
    rules = CellRules(cfg)
    deep = -(cfg.success_depth_m + 0.001)
    assert rules.depth([0.0, 0.0, deep]) == pytest.approx(-deep) and rules.success(-deep, False)
    assert not rules.success(-deep, True)  # an aborted episode never succeeds
    beside = [2 * rules.hole_radius_m, 0.0, deep]  # below the surface but outside the true hole: no depth
    assert rules.depth(beside) == 0.0 and rules.depth(beside, hole_known=False) == pytest.approx(-deep)
    assert rules.depth([0.0, 0.0, 0.01]) == 0.0  # above the board
    assert rules.over_force(cfg.max_force_n + 1e-6) and not rules.over_force(cfg.max_force_n)


def test_the_rules_import_numpy_only():
    code = ("import sys\n"
            "for m in ('mujoco', 'gymnasium', 'torch', 'rclpy', 'zarr'):\n"
            "    sys.modules[m] = None\n"
            "import sim.rules, sim.contract\n"
            "sim.rules.CellRules(sim.rules.CellConfig()).next_target([0.0] * 6, [0.0] * 6, [0.1] * 6)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
