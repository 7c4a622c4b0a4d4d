"""Reset motion of the real cell: lift out, then move to a (random) start pose, by moving the
impedance target at a bounded speed, one small step per call (never blocks). Pure numpy, no rclpy.

Waypoints (hole frame, m / rad): 1. straight up from where the target is to `lift_z` (out of the
hole before any sideways motion); 2. across at that height to above the goal, rotating to the
goal orientation; 3. down to the goal. The target starts from the CURRENT target (no jump).
Rotation vectors are interpolated linearly (small angles: the safety box allows 0.3 rad).
"""
from __future__ import annotations

import numpy as np


class ResetMotion:
    def __init__(self, start, goal, lift_z: float, speed_m_s: float, speed_rad_s: float):
        start, goal = np.asarray(start, dtype=float), np.asarray(goal, dtype=float)
        z = max(lift_z, start[2], goal[2])
        up = np.array([*start[:2], z, *start[3:]])
        across = np.array([*goal[:2], z, *goal[3:]])
        self.waypoints = [up, across, goal.copy()]
        self.cmd = start.copy()  # the commanded target, hole frame (6)
        self.goal = goal.copy()
        self.v, self.w = speed_m_s, speed_rad_s

    @property
    def finished(self) -> bool:
        """The commanded target has reached the goal (the arm may still be settling)."""
        return not self.waypoints

    def step(self, dt: float) -> np.ndarray:
        """Advance the target by dt seconds of motion; returns the new target."""
        budget = dt  # s of motion left in this call
        while self.waypoints and budget > 0:
            wp = self.waypoints[0]
            d_pos = wp[:3] - self.cmd[:3]
            d_rot = wp[3:] - self.cmd[3:]
            need = max(np.linalg.norm(d_pos) / self.v, np.linalg.norm(d_rot) / self.w)  # s to reach wp
            if need <= budget:
                self.cmd = wp.copy()
                self.waypoints.pop(0)
                budget -= need
            else:
                self.cmd = self.cmd + np.concatenate([d_pos, d_rot]) * (budget / need)
                budget = 0.0
        return self.cmd.copy()

    def settled(self, measured, tol_m: float) -> bool:
        """Target at the goal and the measured tip within tol_m of it."""
        return self.finished and float(np.linalg.norm(np.asarray(measured)[:3] - self.goal[:3])) <= tol_m
