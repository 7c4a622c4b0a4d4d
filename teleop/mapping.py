"""Device axes -> action units: axis order, per-axis sign, deadband, scale, active axes.

Input: 6 device axes in the ROS convention (REP 103, seen from the operator: x forward, y left,
z up; roll, pitch, yaw about them), full-scale deflection = 1.0 (pyspacemouse: raw counts / 350).
Output: the 6-D action (x y z rx ry rz) in action units, float32 in [-1, 1]; axes the cell's
action space does not use are 0. The deadband is removed and the rest re-stretched so the output
starts at 0 at the deadband edge (no jump) and reaches `scale` at full deflection.

Only *active* axes count as input: with action space "xyz", twisting the cap neither takes over
nor keeps an intervention alive (the action would be zero anyway; spacemouse cross-talk between
push and twist must not delay a release).
"""
from __future__ import annotations

import numpy as np

from teleop.config import TeleopConfig

ACTION_AXES = ("x", "y", "z", "rx", "ry", "rz")
DEVICE_AXES = ("x", "y", "z", "roll", "pitch", "yaw")  # pyspacemouse names, ROS convention
ACTIVE_AXES: dict[str, tuple[bool, ...]] = {
    "6d": (True, True, True, True, True, True),
    "xyz": (True, True, True, False, False, False),
    "xyz_yaw": (True, True, True, False, False, True),
}


def active_mask(action_space: str) -> np.ndarray:
    """Boolean (6,) mask of the action axes used by `action_space` ("6d" | "xyz" | "xyz_yaw")."""
    try:
        return np.array(ACTIVE_AXES[action_space], dtype=bool)
    except KeyError:
        raise ValueError(f"unknown action space {action_space!r}; known: {list(ACTIVE_AXES)}") from None


class AxisMapper:
    """Stateless mapping of one device reading to action units (see module docstring)."""

    def __init__(self, cfg: TeleopConfig, action_space: str):
        self.order = np.asarray(cfg.axis_order, dtype=int)
        self.signs = np.asarray(cfg.axis_signs, dtype=np.float64)
        self.deadband = float(cfg.deadband)
        self.scale = float(cfg.scale)
        self.mask = active_mask(action_space)

    def oriented(self, axes: np.ndarray) -> np.ndarray:
        """Device axes reordered and signed into the cell frame (full scale 1.0, no deadband)."""
        return np.asarray(axes, dtype=np.float64)[self.order] * self.signs

    def outside_deadband(self, axes: np.ndarray) -> np.ndarray:
        """(6,) bool: which action axes are outside the deadband (inactive axes always False)."""
        return (np.abs(self.oriented(axes)) > self.deadband) & self.mask

    def is_input(self, axes: np.ndarray) -> bool:
        """True when any active axis is outside the deadband."""
        return bool(self.outside_deadband(axes).any())

    def action(self, axes: np.ndarray) -> np.ndarray:
        """(6,) float32 action in [-1, 1]: deadband removed, re-stretched, scaled, masked."""
        v = np.clip(self.oriented(axes), -1.0, 1.0)
        mag = np.clip((np.abs(v) - self.deadband) / (1.0 - self.deadband), 0.0, None)
        out = np.clip(np.sign(v) * mag * self.scale, -1.0, 1.0)
        out[~self.mask] = 0.0
        return out.astype(np.float32)
