"""Reset motion: lift out first, bounded speed, ends exactly at the goal (robot_stack/franka/reset.py)."""
import numpy as np
import pytest

from robot_stack.franka.reset import ResetMotion

pytestmark = pytest.mark.unit


def run(motion, dt=0.02, n=10000):
    path = [motion.cmd.copy()]
    for _ in range(n):
        if motion.finished:
            break
        path.append(motion.step(dt))
    return np.array(path)


def test_lifts_straight_up_before_moving_sideways_then_descends_to_goal():
    start = np.array([0.003, -0.002, -0.01, 0.0, 0.0, 0.05])  # peg 1 cm inside the hole
    goal = np.array([0.015, 0.01, 0.04, 0.0, 0.0, 0.0])
    m = ResetMotion(start, goal, lift_z=0.05, speed_m_s=0.05, speed_rad_s=0.3)
    path = run(m)
    assert m.finished and np.allclose(path[-1], goal)
    top = int(np.argmax(path[:, 2] >= 0.05 - 1e-12))  # first sample at the lift height
    assert np.allclose(path[: top + 1, :2], start[:2])  # no sideways motion until lifted
    assert np.all(np.diff(path[: top + 1, 2]) >= 0)
    assert path[:, 2].max() == pytest.approx(0.05)


@pytest.mark.parametrize("dt", [0.001, 0.02, 0.1])
def test_speed_is_bounded_for_any_tick(dt):
    start = np.array([0.0, 0.0, 0.0, 0.2, 0.0, 0.0])
    goal = np.array([0.02, -0.02, 0.03, 0.0, 0.0, -0.1])
    m = ResetMotion(start, goal, lift_z=0.05, speed_m_s=0.05, speed_rad_s=0.3)
    path = run(m, dt)
    step_pos = np.linalg.norm(np.diff(path[:, :3], axis=0), axis=1)
    step_rot = np.linalg.norm(np.diff(path[:, 3:], axis=0), axis=1)
    assert step_pos.max() <= 0.05 * dt + 1e-12
    assert step_rot.max() <= 0.3 * dt + 1e-12
    assert np.allclose(path[-1], goal)


def test_starts_from_the_current_target_and_settles_on_measurement():
    start = np.array([0.01, 0.0, 0.06, 0, 0, 0])  # already above the lift height: no extra lift
    goal = np.array([0.0, 0.0, 0.04, 0, 0, 0])
    m = ResetMotion(start, goal, lift_z=0.05, speed_m_s=0.05, speed_rad_s=0.3)
    assert np.allclose(m.step(0.0), start)  # no jump
    run(m)
    assert m.settled(goal + [0.002, 0, 0, 0, 0, 0], tol_m=0.004)
    assert not m.settled(goal + [0.01, 0, 0, 0, 0, 0], tol_m=0.004)
