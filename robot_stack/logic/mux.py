"""Who drives: the mux's decision for one control step, with the safety rules of docs/architecture.md.

Pure logic (no rclpy); the mux node feeds it messages and publishes its decisions.

Rules, in priority order:
1. e-stop active -> HOLD.
2. operator intervening:
   - teleop silent longer than `teleop_timeout_s` (no twist and no intervening heartbeat)
     -> HOLD + fault. The mux stays in "intervening": it never hands control back to the
     policy by itself; only an explicit `intervening = False` from the operator does.
   - non-finite twist -> HOLD + fault; else HUMAN with the twist's active axes, clipped to [-1, 1].
3. otherwise the policy: no action for this step -> HOLD; non-finite -> HOLD + fault;
   else POLICY, clipped to [-1, 1] (out-of-range is clipped, not refused).

Twists are 6 values (x y z rx ry rz); the cell's action labels select the active axes, so an
operator's input is mapped exactly like the policy's (same units, same bounds: the cell clips
both to the same safety box afterwards).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.contract import Source

TWIST_AXES = ("x", "y", "z", "rx", "ry", "rz")


@dataclass(frozen=True)
class Decision:
    source: Source
    action: np.ndarray  # float32, the cell's action space; zeros for HOLD
    fault: str | None = None  # set when this decision reports a fault (published as an event)


class MuxCore:
    def __init__(self, action_labels: tuple[str, ...], teleop_timeout_s: float = 0.1):
        unknown = [a for a in action_labels if a not in TWIST_AXES]
        if unknown:
            raise ValueError(f"action labels {unknown} are not twist axes {TWIST_AXES}")
        self._axes = np.array([TWIST_AXES.index(a) for a in action_labels])
        self.action_dim = len(action_labels)
        self.teleop_timeout_s = teleop_timeout_s
        self.intervening = False
        self.estop = False
        self._twist = np.zeros(6, dtype=np.float32)
        self._last_teleop: float | None = None
        self._silent_reported = False

    # ------------------------------------------------------------ inputs
    def on_intervening(self, flag: bool, now: float) -> None:
        self.intervening = bool(flag)
        self._last_teleop = now
        if not flag:
            self._twist[:] = 0.0

    def on_twist(self, action6: np.ndarray, now: float) -> None:
        self._twist = np.asarray(action6, dtype=np.float32).reshape(6).copy()
        self._last_teleop = now

    def on_estop(self, active: bool) -> None:
        self.estop = bool(active)

    def teleop_silent(self, now: float) -> bool:
        return self._last_teleop is None or now - self._last_teleop > self.teleop_timeout_s

    # ------------------------------------------------------------ decision
    def decide(self, policy_action: np.ndarray | None, now: float) -> Decision:
        hold = np.zeros(self.action_dim, dtype=np.float32)
        if self.estop:
            return Decision(Source.HOLD, hold)
        if self.intervening:
            if self.teleop_silent(now):
                first = not self._silent_reported
                self._silent_reported = True
                return Decision(Source.HOLD, hold, "teleop silent while intervening" if first else None)
            self._silent_reported = False
            a = self._twist[self._axes]
            if not np.all(np.isfinite(a)):
                return Decision(Source.HOLD, hold, "non-finite operator action")
            return Decision(Source.HUMAN, np.clip(a, -1.0, 1.0).astype(np.float32))
        if policy_action is None:
            return Decision(Source.HOLD, hold)
        a = np.asarray(policy_action, dtype=np.float32)
        if a.shape != (self.action_dim,):
            return Decision(Source.HOLD, hold, f"policy action has shape {a.shape}, expected ({self.action_dim},)")
        if not np.all(np.isfinite(a)):
            return Decision(Source.HOLD, hold, "non-finite policy action")
        return Decision(Source.POLICY, np.clip(a, -1.0, 1.0))
