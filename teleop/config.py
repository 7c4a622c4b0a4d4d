"""Config of the human operator's input devices (spacemouse, keyboard)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


def _f(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class TeleopConfig:
    """Spacemouse reading, mapping to action units, takeover / release."""

    device: Literal["spacemouse", "keyboard", "fake"] = _f("spacemouse", "input device")
    poll_hz: float = _f(200.0, "device polling rate, Hz (>= 100)")
    deadband: float = _f(0.08, "axis magnitude (of 1.0 full scale) treated as no input")
    scale: float = _f(1.0, "action units per full-scale deflection (after deadband)")
    axis_signs: tuple[float, float, float, float, float, float] = _f(
        (1.0, 1.0, 1.0, 1.0, 1.0, 1.0), "per-axis sign (x y z roll pitch yaw) to match the cell frame")
    release_hold_s: float = _f(0.5, "hand back to the policy after this long with no input, s")
    stale_ms: float = _f(100.0, "no device report this long while intervening -> fault, keep holding")
    button_success: int = _f(0, "button index that marks the episode a success")
    button_abort: int = _f(1, "button index that aborts the episode")

    def validate(self) -> None:
        if self.poll_hz < 100:
            raise ValueError(f"teleop.poll_hz={self.poll_hz}: must be >= 100 Hz")
        if not 0 <= self.deadband < 1:
            raise ValueError(f"teleop.deadband={self.deadband}: must be in [0, 1)")
        if self.release_hold_s <= 0:
            raise ValueError("teleop.release_hold_s must be > 0")
