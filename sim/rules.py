"""The cell's rules, once (numpy only): the twin (`sim.cell.TwinCell`), the real arm's core
(`robot_stack.franka.core.FrankaCore`) and the simulated operators apply exactly these, so a
policy trained on the twin meets the same rules on the robot (docs/architecture.md "The cell
contract").

- **Action**: values in [-1, 1] on the profile's axes (`sim.contract.ACTION_INDEX`), each times
  one full step (`cell.max_step_m`, `cell.max_step_rad`): a 6-vector delta in the hole frame.
- **Target rule**: target = previous target + delta, but never more than one full step from the
  MEASURED pose (position per axis, rotation by angle), then clipped to the safety box. Free
  motion does not drift (the target integrates the actions), and pushing on the board can never
  wind up more than stiffness x one step of force. The target never depends on who drives, so a
  hand-over between operator and policy never makes it jump.
- **Safety box**: position within +-`cell.safety_box_m` per axis of the nominal hole, rotation
  angle within `cell.safety_box_rad`.
- **Force abort**: |force on the peg| > `cell.max_force_n`.
- **Depth and success**: depth = how far the tip is below the board surface, inside the hole;
  success = depth >= `cell.success_depth_m` and no abort.

Poses are 6 floats in the NOMINAL hole frame: x, y, z (m), rotation vector (axis * angle, rad).
Rotations compose in the hole frame through unit quaternions; the arithmetic is a parameter
(`Rotations`): numpy here, MuJoCo's `mju_*` in the twin, whose trajectories are pinned bit for
bit. The two are the same maths and differ by float rounding only (tests/sim/test_rules.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sim.config import CellConfig
from sim.contract import ACTION_INDEX, action_labels

PEG_RADIUS_M = 0.006  # sim/assets/peg.xml: 12 mm diameter cylinder (the real peg matches)


def hole_radius_m(clearance_m: float) -> float:
    """Radius of the circle inscribed in the octagonal hole: peg radius + half the diametral clearance."""
    return PEG_RADIUS_M + clearance_m / 2.0


# ---- rotation vectors through unit quaternions (w, x, y, z), numpy / math only -----------------
def rotvec_to_quat(v) -> tuple[float, float, float, float]:
    v = np.asarray(v, dtype=np.float64)
    angle = float(np.linalg.norm(v))
    if angle <= 1e-12:
        return 1.0, 0.0, 0.0, 0.0
    ax, s = v / angle, math.sin(angle * 0.5)
    return math.cos(angle * 0.5), float(ax[0]) * s, float(ax[1]) * s, float(ax[2]) * s


def quat_to_rotvec(q) -> np.ndarray:
    """Unit quaternion (w, x, y, z) -> rotation vector, angle in [-pi, pi] (the short way)."""
    w, x, y, z = (float(c) for c in q)
    n = math.sqrt(x * x + y * y + z * z)
    if n < 1e-15:
        return np.zeros(3)
    angle = 2.0 * math.atan2(n, w)
    if angle > math.pi:
        angle -= 2.0 * math.pi
    k = angle / n
    return np.array([x * k, y * k, z * k])


def mul_quat(a, b) -> tuple[float, float, float, float]:
    return (a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
            a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
            a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
            a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0])


def compose_rotvec(delta, current) -> np.ndarray:
    """Rotation vector of R(delta) @ R(current): a delta applied in the reference (hole) frame."""
    return quat_to_rotvec(mul_quat(rotvec_to_quat(delta), rotvec_to_quat(current)))


def diff_rotvec(a, b) -> np.ndarray:
    """Rotation vector d with R(d) @ R(b) = R(a): the rotation from b to a, reference frame."""
    w, x, y, z = rotvec_to_quat(b)
    return quat_to_rotvec(mul_quat(rotvec_to_quat(a), (w, -x, -y, -z)))


@dataclass(frozen=True)
class Rotations:
    """The rotation arithmetic a cell's rules use (rotation vectors in, rotation vector out)."""

    compose: Callable[[np.ndarray, np.ndarray], np.ndarray]  # R(delta) @ R(current)
    diff: Callable[[np.ndarray, np.ndarray], np.ndarray]  # d with R(d) @ R(b) = R(a)


NUMPY_ROTATIONS = Rotations(compose_rotvec, diff_rotvec)


class CellRules:
    """The rules of one cell config (see the module docstring)."""

    def __init__(self, cfg: CellConfig, rotations: Rotations = NUMPY_ROTATIONS):
        self.cfg, self.rot = cfg, rotations
        self.action_labels = action_labels(cfg.action_space)
        self._idx = ACTION_INDEX[cfg.action_space]
        self.scale = np.array([cfg.max_step_m] * 3 + [cfg.max_step_rad] * 3)  # one full step, m and rad
        self.box = np.asarray(cfg.safety_box_m, dtype=np.float64)
        self.hole_radius_m = hole_radius_m(cfg.clearance_m)

    def delta(self, action) -> np.ndarray:
        """The hole-frame step (6: m, rad) of one action; ValueError for a wrong shape or NaN/inf."""
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (len(self._idx),):
            raise ValueError(f"action must have {len(self._idx)} values {self.action_labels}, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action contains NaN/inf: {a.tolist()} (labels {self.action_labels}); "
                             "the graph holds pose instead of applying it")
        d = np.zeros(6)
        d[self._idx] = np.clip(a, -1.0, 1.0)
        d *= self.scale
        return d

    def next_target(self, target, measured, action) -> np.ndarray:
        """The target after one action from `target`, with the tip measured at `measured` (both
        hole-frame poses): the delta added, then `limit`ed; a new array."""
        delta = self.delta(action)
        moved = np.empty(6)
        moved[:3] = target[:3] + delta[:3]
        moved[3:] = self.rot.compose(delta[3:], target[3:])
        return self.limit(moved, measured)

    def limit(self, target, measured) -> np.ndarray:
        """`target` at most one full step from the `measured` pose (position per axis, rotation by
        angle), then inside the safety box; a new array. The impedance controller clamps its
        reference the same way (controllers/rlif_impedance_controller)."""
        pose, lim = np.asarray(measured, dtype=np.float64), self.scale[:3]
        out = np.empty(6)
        out[:3] = np.clip(target[:3], pose[:3] - lim, pose[:3] + lim)
        err = self.rot.diff(target[3:], pose[3:])
        n = float(np.linalg.norm(err))
        out[3:] = self.rot.compose(err * (self.cfg.max_step_rad / n), pose[3:]) if n > self.cfg.max_step_rad \
            else target[3:]
        return self.clip(out)

    def clip(self, target) -> np.ndarray:
        """`target` inside the safety box (position per axis, rotation by angle); a new array."""
        t = np.array(target, dtype=np.float64)
        t[:3] = np.clip(t[:3], -self.box, self.box)
        n = float(np.linalg.norm(t[3:]))
        if n > self.cfg.safety_box_rad:
            t[3:] *= self.cfg.safety_box_rad / n
        return t

    def over_force(self, force_n: float) -> bool:
        """The force abort: |force on the peg| (N) over `cell.max_force_n`."""
        return force_n > self.cfg.max_force_n

    def depth(self, tip_to_hole_m, hole_known: bool = True) -> float:
        """Insertion depth (m) of a tip at `tip_to_hole_m` (tip minus hole entrance, hole axes).
        Without the true hole (`hole_known=False`: the real arm knows only the nominal one) the
        board itself is the evidence: the tip gets below its surface only inside the hole."""
        t = tip_to_hole_m
        inside = not hole_known or float(np.hypot(t[0], t[1])) < self.hole_radius_m
        return float(max(0.0, -t[2])) if inside else 0.0

    def success(self, depth_m: float, aborted: bool) -> bool:
        return bool(depth_m >= self.cfg.success_depth_m and not aborted)
