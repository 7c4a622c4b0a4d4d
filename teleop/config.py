"""Config of the human operator's input devices (spacemouse, keyboard, fake)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.config_fields import doc_field as _f


@dataclass(frozen=True)
class TeleopConfig:
    """Spacemouse reading, mapping to action units, takeover / release, keyboard fallback."""

    device: Literal["spacemouse", "keyboard", "fake"] = _f("spacemouse", "input device")
    poll_hz: float = _f(200.0, "device polling rate of the reader thread, Hz (>= 100)", ge=100)
    deadband: float = _f(0.08, "axis magnitude (of 1.0 full scale) treated as no input", ge=0, lt=1)
    scale: float = _f(1.0, "action units per full-scale deflection (after deadband)", gt=0)
    axis_signs: tuple[float, float, float, float, float, float] = _f(
        (1.0, 1.0, 1.0, 1.0, 1.0, 1.0), "per-axis sign (x y z roll pitch yaw) to match the cell frame")
    axis_order: tuple[int, int, int, int, int, int] = _f(
        (0, 1, 2, 3, 4, 5), "device axis (ROS order x y z roll pitch yaw) feeding each action axis")
    publish_hz: float = _f(100.0, "teleop node: the operator's state is polled and `teleop/twist` sent at this "
                                  "rate while intervening, Hz (a takeover reaches the mux within one period + "
                                  "one hop)", ge=10, le=1000)
    heartbeat_hz: float = _f(10.0, "teleop node: `teleop/intervening` re-sent at this rate without a change, Hz",
                             gt=0, le=1000)
    joy_hz: float = _f(20.0, "teleop node: raw axes and buttons on `teleop/joy`, Hz", gt=0, le=1000)
    release_hold_s: float = _f(0.5, "hand back to the policy after this long with no input, s", gt=0)
    stale_ms: float = _f(100.0, "no device report this long while deflected and intervening -> fault, keep holding",
                         gt=0)
    reconnect_s: float = _f(1.0, "retry opening a lost device this often, s", gt=0)
    button_success: int = _f(0, "button index that marks the episode a success", ge=0)
    button_abort: int = _f(1, "button index that aborts the episode", ge=0)
    hid_path: str = _f("", "open this hidraw node (e.g. /dev/hidraw3) instead of the first spacemouse found")
    zero_warn_reports: int = _f(100, "this many all-zero reports in a row -> warn (some wireless receivers)", ge=1)
    key_gain: float = _f(0.5, "keyboard: deflection (of full scale 1.0) a held motion key simulates, mapped like the cap",
                         gt=0, le=1)
    key_hold_s: float = _f(0.5, "keyboard: a key press drives its axis this long, s (covers auto-repeat delay)", gt=0)
    keyboard_tty: str = _f("", "keyboard: terminal to read, e.g. /dev/pts/3 (empty = this process's stdin)")
    fake_model: str = _f("SpaceMouseWireless", "fake device: pyspacemouse model whose report layout it emits")

    def validate(self) -> None:
        if not 100 <= self.poll_hz < math.inf:
            raise ValueError(f"teleop.poll_hz={self.poll_hz}: must be a finite number >= 100 Hz")
        if not (10 <= self.publish_hz <= 1000 and 0 < self.heartbeat_hz <= 1000 and 0 < self.joy_hz <= 1000):
            raise ValueError("teleop.publish_hz must be in [10, 1000] Hz, teleop.heartbeat_hz and teleop.joy_hz "
                             "in (0, 1000] Hz")
        if not 0 <= self.deadband < 1:
            raise ValueError(f"teleop.deadband={self.deadband}: must be in [0, 1)")
        if not all(0 < x < math.inf for x in (self.release_hold_s, self.stale_ms, self.reconnect_s, self.key_hold_s)):
            raise ValueError("teleop.release_hold_s, teleop.stale_ms, teleop.reconnect_s and teleop.key_hold_s "
                             "must be finite numbers > 0")
        if sorted(self.axis_order) != [0, 1, 2, 3, 4, 5]:
            raise ValueError(f"teleop.axis_order={self.axis_order}: must be a permutation of 0..5")
        if any(s not in (-1.0, 1.0) for s in self.axis_signs):
            raise ValueError(f"teleop.axis_signs={self.axis_signs}: each must be 1 or -1")
