"""FrankaCore: the real cell's math, no rclpy (docs/architecture.md "The cell contract", "Safety and faults").

The bridge node feeds it franka_ros2's state (`on_pose`, `on_wrench`, `on_joints`, times in s)
and asks it for observations and targets. It has the twin's cell methods (`apply`, `hold`), so
`CellNode` drives it like `TwinCell`; the difference is that applying only moves the impedance
target (the arm moves between ticks, at 1 kHz, under franka's controller).

Decisions (the same rules as the twin, so policies transfer):
- **Frame**: every pose is the peg tip in the NOMINAL hole frame (`geometry.HoleFrame` of the
  taught `franka.hole_pose`: z up out of the board, rotation 0 = the taught orientation): x, y,
  z (m), rotation vector (rad). The observed wrench is the estimated external wrench on the
  stiffness frame (= the EE, configured at the peg tip), rotated into the hole axes: force ON the
  robot (N), torque about the tip (Nm), like the twin's F/T reading.
- **Wrench sign**: franka_ros2 publishes libfranka's K_F_ext_hat_K unchanged, which is the
  robot's reaction (pulling the EE along +z_K reads negative z); `on_wrench` converts it once,
  times `franka.wrench_sign` (-1), into the wrench on the robot. The README's push test checks it.
- **Rules**: the target rule (previous target + action delta, at most one full step from the
  MEASURED pose, clipped to the safety box), the force abort and success are
  `sim.rules.CellRules`, the object the twin applies (tests/robot_stack/franka/test_core.py
  compares both on the same inputs).
- **Velocity**: finite difference of measured poses at least `franka.velocity_window_s` apart.
- **Force abort**: checked at every wrench sample (1 kHz / the convenience rate), not only at
  ticks; the bridge then re-anchors the target on the measured pose at once.
- **Success**: the rules' depth without the true hole: the board stops the tip anywhere but in
  the hole, so depth below the nominal surface alone is the evidence.
- **Stale**: no pose or no wrench for `franka.stale_ms` -> `stale()` names what is missing.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from robot_stack.franka.geometry import HoleFrame, mat_to_rotvec, rotvec_to_mat
from sim.rules import CellRules

HISTORY_S = 0.5  # measured poses kept for the velocity estimate, s


class FrankaCore:
    def __init__(self, cell, franka, seed: int = 0):
        self.cell, self.fr = cell, franka
        self.frame = HoleFrame(franka.hole_pose)
        self.rules = CellRules(cell)  # the twin's rules: target, safety box, force abort, success
        self.action_labels = self.rules.action_labels
        self.rng = np.random.default_rng(seed)
        self.pose: np.ndarray | None = None  # measured tip pose, hole frame (6)
        self.pose_t = -np.inf  # time of the last pose / wrench / joints sample, s
        self.wrench_t = -np.inf
        self.joints_t = -np.inf
        self.q = np.zeros(7)  # joint positions, rad
        self._hist: deque[tuple[float, np.ndarray]] = deque()
        self.force = np.zeros(3)  # external force on the tip, hole axes, N
        self.torque = np.zeros(3)  # external torque about the tip, hole axes, Nm
        self.target: np.ndarray | None = None  # impedance target, hole frame (6)
        self.max_force = 0.0  # N, this episode
        self.aborted = False

    # ---------------------------------------------------------------- state in
    def on_pose(self, pos, quat, t: float, stamp: float | None = None) -> None:
        """Measured EE pose in the base frame (m, quaternion x y z w), received at time t (s,
        the bridge's monotonic clock: staleness); `stamp` (s, the message header: velocity)
        defaults to t. A non-finite pose is ignored (and so turns stale)."""
        if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(quat))) or not np.any(quat):
            return
        self.pose = self.frame.from_base(pos, quat)
        self.pose_t = t
        ts = t if stamp is None else stamp
        if self._hist and ts < self._hist[-1][0]:
            self._hist.clear()  # stamps went backwards (driver restart): start the estimate over
        self._hist.append((ts, self.pose))
        while self._hist and self._hist[0][0] < ts - HISTORY_S:
            self._hist.popleft()

    def on_wrench(self, force, torque, t: float) -> bool:
        """External wrench as franka_ros2 publishes it (stiffness-frame axes, N, Nm; sign
        `franka.wrench_sign`). True when it just caused an abort."""
        if self.pose is None or not (np.all(np.isfinite(force)) and np.all(np.isfinite(torque))):
            return False
        R = HoleFrame.ee_to_hole_axes(self.pose) * self.fr.wrench_sign  # reaction in EE axes -> on the robot, hole axes
        self.force = R @ np.asarray(force, dtype=float)
        self.torque = R @ np.asarray(torque, dtype=float)
        self.wrench_t = t
        f = float(np.linalg.norm(self.force))
        self.max_force = max(self.max_force, f)
        if self.rules.over_force(f) and not self.aborted:
            self.aborted = True
            self.anchor()  # stop pushing: equilibrium on the measured pose
            return True
        return False

    def on_joints(self, q, t: float) -> None:
        self.q = np.asarray(q, dtype=float)[:7]
        self.joints_t = t

    def has_state(self) -> bool:
        return self.pose is not None and np.isfinite(self.wrench_t)

    def stale(self, now: float) -> str | None:
        """What is missing for longer than `franka.stale_ms` (None if the state is fresh)."""
        lim = self.fr.stale_ms / 1000.0
        old = [name for name, t in (("pose", self.pose_t), ("wrench", self.wrench_t)) if now - t > lim]
        return f"no robot {' / '.join(old)} for > {self.fr.stale_ms:.0f} ms" if old else None

    # ---------------------------------------------------------------- observation
    def velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Linear (m/s) and angular (rad/s) velocity of the tip, hole axes."""
        if len(self._hist) < 2:
            return np.zeros(3), np.zeros(3)
        t1, p1 = self._hist[-1]
        t0, p0 = self._hist[0]
        for t, p in reversed(self._hist):
            if t1 - t >= self.fr.velocity_window_s:
                t0, p0 = t, p
                break
        dt = t1 - t0
        if dt <= 0:
            return np.zeros(3), np.zeros(3)
        w = mat_to_rotvec(rotvec_to_mat(p1[3:]) @ rotvec_to_mat(p0[3:]).T) / dt
        return (p1[:3] - p0[:3]) / dt, w

    def observe(self) -> np.ndarray:
        """The 18 observation values of the cell contract (contract.OBS_LABELS), float32."""
        pose = self.pose if self.pose is not None else np.zeros(6)
        v, w = self.velocity()
        return np.concatenate([pose, v, w, self.force, self.torque]).astype(np.float32)

    def info(self) -> dict:
        # the nominal hole is all we know: the board is the evidence (sim.rules.CellRules.depth)
        depth = self.rules.depth(self.pose[:3], hole_known=False) if self.pose is not None else 0.0
        return {"success": self.rules.success(depth, self.aborted),
                "aborted": bool(self.aborted), "insertion_depth_m": depth,
                "force_n": float(np.linalg.norm(self.force)), "max_force_n": self.max_force}

    # ---------------------------------------------------------------- targets
    def clip(self, target) -> np.ndarray:
        """Clip a hole-frame target into the safety box (position per axis, rotation by angle)."""
        return self.rules.clip(target)

    def anchor(self) -> None:
        """Target = the measured pose (clipped): episode start, after stale state, after an abort."""
        if self.pose is not None:
            self.target = self.clip(self.pose)

    def next_target(self, action) -> np.ndarray:
        """Target after one action (the target rule, `sim.rules`); does not store it."""
        self.rules.delta(action)  # a bad action raises before anything moves
        if self.target is None:
            self.anchor()
        return self.rules.next_target(self.target, self.pose, action)

    def set_target(self, pose6) -> None:
        self.target = self.clip(pose6)

    def target_base(self) -> tuple[np.ndarray, np.ndarray]:
        """The current target in the base frame: position (m), quaternion (x, y, z, w)."""
        return self.frame.to_base(self.target)

    # ---------------------------------------------------------------- the cell methods
    def start_episode(self, target=None) -> None:
        """New episode: flags cleared; the target stays where the reset left it (`target`, no
        jump) or, without one, is anchored on the measured pose."""
        self.max_force, self.aborted = 0.0, False
        if target is not None:
            self.set_target(target)
        else:
            self.anchor()

    def random_start(self) -> np.ndarray:
        """A start pose above the nominal hole (the twin's ranges: cell.start_xy_m, start_z_m)."""
        c = self.cell
        return np.array([*self.rng.uniform(-c.start_xy_m, c.start_xy_m, 2), self.rng.uniform(*c.start_z_m), 0, 0, 0])

    def apply(self, action) -> tuple[np.ndarray, bool, bool, dict]:
        """Move the target by one action; observation and flags are the state measured now."""
        if not self.aborted:
            self.target = self.next_target(action)
        return self.hold()

    def hold(self) -> tuple[np.ndarray, bool, bool, dict]:
        info = self.info()
        return self.observe(), bool(info["success"] or info["aborted"]), False, info
