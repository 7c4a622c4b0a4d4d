"""Rigid-body helpers for the Franka bridge (numpy only): quaternions (x, y, z, w, as ROS),
rotation matrices and rotation vectors (axis * angle, rad), and the hole frame.

Poses "in the hole frame" are 6 floats: tip position x, y, z (m) relative to the nominal hole
entrance in the hole's axes, and the rotation vector (rad) of R_hole^T R_ee (0 = aligned).
"""
from __future__ import annotations

import numpy as np


def quat_to_mat(q) -> np.ndarray:
    x, y, z, w = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def mat_to_quat(m: np.ndarray) -> np.ndarray:
    """Unit quaternion (x, y, z, w) with w >= 0 (Shepperd's method)."""
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    q = np.asarray(q)
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def rotvec_to_mat(r) -> np.ndarray:
    r = np.asarray(r, dtype=float)
    th = float(np.linalg.norm(r))
    if th < 1e-12:
        return np.eye(3)
    k = r / th
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(th) * K + (1 - np.cos(th)) * K @ K


def mat_to_rotvec(m: np.ndarray) -> np.ndarray:
    q = mat_to_quat(m)  # w >= 0: angle in [0, pi]
    s = float(np.linalg.norm(q[:3]))
    if s < 1e-12:
        return np.zeros(3)
    return q[:3] / s * 2.0 * np.arctan2(s, q[3])


# The Franka's EE (stiffness) frame has z along the peg, pointing out of the flange towards the
# tip, i.e. DOWN when the peg points down; the hole frame of the cell contract has z UP, out of
# the board. The tip frame used for observations is the EE frame turned 180 deg about x, so the
# taught pose (EE aligned with the hole) is rotation 0, and "above the board" is +z.
FLIP = np.diag([1.0, -1.0, -1.0])  # 180 deg about x; its own inverse


class HoleFrame:
    """The nominal hole frame from the TAUGHT pose: the EE (peg tip) pose in the base frame with
    the peg aligned at the hole entrance (position m, quaternion x y z w, read off `current_pose`).
    Hole axes: R = R_taught FLIP (z up out of the board). Pose of the tip (hole frame):
    position R^T (p_ee - p), rotation vector of R^T R_ee FLIP."""

    def __init__(self, taught_pose7):
        pose7 = np.asarray(taught_pose7, dtype=float)
        self.p = pose7[:3].copy()
        self.R = quat_to_mat(pose7[3:]) @ FLIP

    def from_base(self, pos, quat) -> np.ndarray:
        """Base-frame EE pose (position m, quaternion xyzw) -> 6-D tip pose in the hole frame."""
        pos_h = self.R.T @ (np.asarray(pos, dtype=float) - self.p)
        return np.concatenate([pos_h, mat_to_rotvec(self.R.T @ quat_to_mat(quat) @ FLIP)])

    def to_base(self, pose6) -> tuple[np.ndarray, np.ndarray]:
        """6-D tip pose in the hole frame -> base-frame EE position (m) and quaternion (x, y, z, w)."""
        pose6 = np.asarray(pose6, dtype=float)
        return self.p + self.R @ pose6[:3], mat_to_quat(self.R @ rotvec_to_mat(pose6[3:]) @ FLIP)

    @staticmethod
    def ee_to_hole_axes(pose6) -> np.ndarray:
        """3x3 rotation taking a vector in EE axes to hole axes, for a hole-frame tip pose."""
        return rotvec_to_mat(np.asarray(pose6, dtype=float)[3:]) @ FLIP
