"""Joint-space homing of the real cell (pure numpy, no rclpy): a straight joint-space trajectory
from the measured joints to `franka.home_q` at a bounded joint speed, one small step per call.

The reset does it as SERL does, before the Cartesian reset motion: lift the tip straight up out
of the hole first (a Cartesian move), then home the joints (so the null-space posture never
drifts over many episodes), then the Cartesian move to the next start pose. The impedance
controller takes each joint target on `~/joint_target` (joint mode, reference limited around the
measured joints) until the next equilibrium pose.
"""
from __future__ import annotations

import numpy as np


class JointMotion:
    def __init__(self, start, goal, speed_rad_s: float):
        self.cmd = np.asarray(start, dtype=float).copy()  # the commanded joints, rad (7)
        self.goal = np.asarray(goal, dtype=float).copy()
        if self.cmd.shape != (7,) or self.goal.shape != (7,):
            raise ValueError(f"joint homing needs 7 joints, got {self.cmd.shape} -> {self.goal.shape}")
        self.speed = float(speed_rad_s)

    @property
    def finished(self) -> bool:
        """The commanded joints reached the goal (the arm may still be settling)."""
        return bool(np.all(self.cmd == self.goal))

    def step(self, dt: float) -> np.ndarray:
        """Advance by dt seconds: every joint moves in proportion, the fastest at `speed`."""
        d = self.goal - self.cmd
        far = float(np.max(np.abs(d)))
        reach = self.speed * max(dt, 0.0)
        self.cmd = self.goal.copy() if far <= reach else self.cmd + d * (reach / far)
        return self.cmd.copy()

    def settled(self, q, tol_rad: float) -> bool:
        """Commands done and every measured joint within tol_rad of home."""
        q = np.asarray(q, dtype=float)
        return self.finished and q.shape == (7,) and float(np.max(np.abs(q - self.goal))) <= tol_rad
