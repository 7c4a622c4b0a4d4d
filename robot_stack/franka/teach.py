"""Teaching the nominal hole pose (pure numpy): average a still arm's measured EE poses.

`rlif teach` records franka_ros2's `current_pose` for a moment while the peg's tip sits centred
at the hole entrance, aligned with the hole, and prints the mean as `franka.hole_pose`.
"""
from __future__ import annotations

import numpy as np

MAX_SPREAD_M = 0.0005  # the arm must be still while teaching: position spread below this, m
MIN_SAMPLES = 10


class TeachError(ValueError):
    """The samples cannot define a hole pose (too few, arm moving, bad quaternions)."""


def average_pose(positions, quats) -> tuple[np.ndarray, float]:
    """Mean pose (x y z m, qx qy qz qw, w >= 0) of N samples and their position spread (m)."""
    p = np.asarray(positions, dtype=float).reshape(-1, 3)
    q = np.asarray(quats, dtype=float).reshape(-1, 4)
    if len(p) < MIN_SAMPLES or len(q) != len(p):
        raise TeachError(f"{len(p)} pose samples; need at least {MIN_SAMPLES} (is the state broadcaster running?)")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise TeachError("non-finite pose samples")
    spread = float(np.max(np.linalg.norm(p - p.mean(axis=0), axis=1)))
    if spread > MAX_SPREAD_M:
        raise TeachError(f"the arm moved {1000 * spread:.1f} mm while teaching (max {1000 * MAX_SPREAD_M:.1f} mm): "
                         "hold it still and teach again")
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    q = q * np.where(q @ q[0] < 0, -1.0, 1.0)[:, None]  # one hemisphere (q and -q are one rotation)
    mean_q = q.mean(axis=0)
    mean_q /= np.linalg.norm(mean_q)
    if mean_q[3] < 0:
        mean_q = -mean_q
    return np.concatenate([p.mean(axis=0), mean_q]), spread
