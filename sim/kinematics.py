"""Pose helpers (rotation vectors, quaternions) and the reset IK of the twin.

Rotation vectors are axis * angle in rad; quaternions are MuJoCo's (w, x, y, z).
"""
from __future__ import annotations

import mujoco
import numpy as np


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z) -> rotation vector (rad), angle in [0, pi]."""
    out = np.zeros(3)
    mujoco.mju_quat2Vel(out, np.asarray(q, dtype=np.float64), 1.0)
    return out


def rotvec_to_quat(v: np.ndarray) -> np.ndarray:
    """Rotation vector (rad) -> unit quaternion (w, x, y, z)."""
    v = np.asarray(v, dtype=np.float64)
    angle = float(np.linalg.norm(v))
    q = np.array([1.0, 0.0, 0.0, 0.0])
    if angle > 1e-12:
        mujoco.mju_axisAngle2Quat(q, v / angle, angle)
    return q


def mat_to_rotvec(mat: np.ndarray) -> np.ndarray:
    """3x3 (or flat 9) rotation matrix -> rotation vector (rad)."""
    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, np.asarray(mat, dtype=np.float64).reshape(9))
    return quat_to_rotvec(q)


def compose_rotvec(delta: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rotation vector of R(delta) @ R(current): a delta applied in the reference (hole) frame."""
    q = np.zeros(4)
    mujoco.mju_mulQuat(q, rotvec_to_quat(delta), rotvec_to_quat(current))
    return quat_to_rotvec(q)


def diff_rotvec(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation vector d with R(d) @ R(b) = R(a): the rotation from b to a, reference frame."""
    qb = rotvec_to_quat(b)
    qb[1:] *= -1.0
    q = np.zeros(4)
    mujoco.mju_mulQuat(q, rotvec_to_quat(a), qb)
    return quat_to_rotvec(q)


def solve_ik(model: mujoco.MjModel, data: mujoco.MjData, site: int, pos: np.ndarray,
             rotvec: np.ndarray, q0: np.ndarray, iters: int = 100, tol_m: float = 1e-6) -> np.ndarray:
    """Joint angles that put `site` at world `pos` with world orientation `rotvec`.

    Damped least squares from q0, steps limited to 0.2 rad, joint limits respected. Leaves
    `data.qpos` at the solution (kinematics computed). Deterministic: same inputs, same answer.
    """
    target_q = rotvec_to_quat(rotvec)
    jac = np.zeros((6, model.nv))
    err = np.zeros(6)
    cur_q = np.zeros(4)
    q = np.array(q0, dtype=np.float64)
    lo, hi = model.jnt_range[:, 0], model.jnt_range[:, 1]
    for _ in range(iters):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        err[:3] = pos - data.site_xpos[site]
        mujoco.mju_mat2Quat(cur_q, data.site_xmat[site])
        mujoco.mju_subQuat(err[3:], target_q, cur_q)         # in the site's local frame
        err[3:] = data.site_xmat[site].reshape(3, 3) @ err[3:]  # -> world
        if np.linalg.norm(err[:3]) < tol_m and np.linalg.norm(err[3:]) < 1e-5:
            break
        mujoco.mj_jacSite(model, data, jac[:3], jac[3:], site)
        dq = jac.T @ np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), err)
        dq *= min(1.0, 0.2 / max(np.abs(dq).max(), 1e-12))
        q = np.clip(q + dq, lo, hi)
    return q
