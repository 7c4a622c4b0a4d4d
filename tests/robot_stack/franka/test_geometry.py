"""Quaternions, rotation vectors and the hole frame of the Franka bridge (robot_stack/franka/geometry.py)."""
import numpy as np
import pytest

from robot_stack.franka.geometry import HoleFrame, mat_to_quat, mat_to_rotvec, quat_to_mat, rotvec_to_mat

pytestmark = pytest.mark.unit


def _random_rotvecs(n, seed=0):
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(n, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    return axes * rng.uniform(0, np.pi - 1e-3, size=(n, 1))


def test_rotvec_matrix_quaternion_round_trips():
    for r in _random_rotvecs(200):
        m = rotvec_to_mat(r)
        assert np.allclose(m @ m.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(m), 1.0)
        assert np.allclose(mat_to_rotvec(m), r, atol=1e-9)
        q = mat_to_quat(m)
        assert q[3] >= 0 and np.isclose(np.linalg.norm(q), 1.0)
        assert np.allclose(quat_to_mat(q), m, atol=1e-12)
    assert np.allclose(mat_to_rotvec(np.eye(3)), 0.0)


def test_known_quaternion_is_ros_order_xyzw():
    # 90 deg about z: x axis -> y axis
    q = [0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4)]
    assert np.allclose(quat_to_mat(q) @ [1, 0, 0], [0, 1, 0])
    # the Franka's usual "pointing down" EE: 180 deg about x
    assert np.allclose(quat_to_mat([1, 0, 0, 0]) @ [0, 0, 1], [0, 0, -1])


def test_hole_frame_round_trip_and_axes():
    hole = HoleFrame((0.5, -0.1, 0.2, 1.0, 0.0, 0.0, 0.0))  # taught with the EE pointing down
    for r in _random_rotvecs(50, seed=1) * 0.3:
        pose = np.array([0.01, -0.02, 0.03, *r])
        pos, quat = hole.to_base(pose)
        assert np.allclose(hole.from_base(pos, quat), pose, atol=1e-9)
    pos, quat = hole.to_base([0, 0, 0.05, 0, 0, 0])  # 5 cm above the board, taught orientation
    assert np.allclose(pos, [0.5, -0.1, 0.25])
    assert np.allclose(quat, [1, 0, 0, 0])
    assert np.allclose(hole.from_base([0.5, -0.1, 0.2], [1, 0, 0, 0]), 0.0)  # the taught pose is 0


def test_hole_frame_of_a_tilted_board_keeps_z_out_of_the_board():
    tilt = 0.2  # board tilted 0.2 rad about the base y axis; the EE taught along its normal
    taught_R = rotvec_to_mat([0, tilt, 0]) @ np.diag([1.0, -1.0, -1.0])
    hole = HoleFrame((0.4, 0.0, 0.1, *mat_to_quat(taught_R)))
    pos, _ = hole.to_base([0, 0, 0.01, 0, 0, 0])
    assert np.allclose(pos - [0.4, 0, 0.1], 0.01 * np.array([np.sin(tilt), 0, np.cos(tilt)]))
    v_ee = np.array([0.0, 0.0, 1.0])  # along the peg, towards the tip
    assert np.allclose(HoleFrame.ee_to_hole_axes(np.zeros(6)) @ v_ee, [0, 0, -1])
