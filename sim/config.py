"""Config dataclasses of the twin cell and the simulated operator (no rclpy here)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal


def _f(default: Any, doc: str, **limits: float) -> Any:
    """A field with its doc line and its allowed range (gt/ge/lt/le; robot_stack.config checks them)."""
    return field(default=default, metadata={"doc": doc, **limits})


@dataclass(frozen=True)
class CellConfig:
    """The cell contract of DESIGN.md: rates, action scaling, geometry, safety limits."""

    kind: Literal["twin", "franka"] = _f("twin", "twin = MuJoCo cell; franka = real arm via franka_ros2")
    control_hz: float = _f(10.0, "policy / operator control rate, Hz", gt=0)
    episode_steps: int = _f(100, "an episode is at most this many control steps (truncation)", ge=1)
    action_space: Literal["6d", "xyz", "xyz_yaw"] = _f("6d", "which EE deltas the action holds")
    max_step_m: float = _f(0.01, "m per step for a translation action of 1.0", gt=0)
    max_step_rad: float = _f(0.05, "rad per step for a rotation action of 1.0", gt=0)
    physics_dt_s: float = _f(0.001, "twin physics step, s (1 kHz; 2 ms at most)", gt=0, le=0.002)
    clearance_m: float = _f(0.001, "diametral clearance between peg and hole, m (0.2-3 mm)", ge=0.0002, le=0.003)
    success_depth_m: float = _f(0.015, "peg tip this deep below the board surface = success, m", gt=0)
    max_force_n: float = _f(60.0, "contact force above this aborts the episode, N", gt=0)
    safety_box_m: tuple[float, float, float] = _f((0.04, 0.04, 0.08),
                                                 "half extents of the target box around the nominal hole, m", gt=0)
    safety_box_rad: float = _f(0.3, "max target rotation from the nominal orientation, rad", gt=0)
    hole_offset_m: float = _f(0.003, "true hole offset from nominal: uniform in +-this on x and y, m", ge=0)
    start_xy_m: float = _f(0.02, "start pose: uniform in +-this on x and y around the nominal hole, m", ge=0)
    start_z_m: tuple[float, float] = _f((0.03, 0.05), "start pose: peg tip height above the board, m", ge=0)
    stiffness_n_m: float = _f(2000.0, "Cartesian impedance: translational stiffness, N/m", gt=0)
    stiffness_nm_rad: float = _f(150.0, "Cartesian impedance: rotational stiffness, Nm/rad", gt=0)
    damping_n_s_m: float = _f(120.0, "Cartesian impedance: translational damping, N s/m", ge=0)
    damping_nm_s_rad: float = _f(8.0, "Cartesian impedance: rotational damping, Nm s/rad", ge=0)
    render: bool = _f(False, "graph: publish the twin's front camera on the camera topic (2 Hz) even "
                             "without the dashboard (--serve turns it on anyway); images are not "
                             "part of the observation")

    def validate(self) -> None:
        if not 0 < self.physics_dt_s <= 0.002:
            raise ValueError(f"cell.physics_dt_s={self.physics_dt_s}: must be in (0, 0.002] s")
        if not 0.0002 <= self.clearance_m <= 0.003:
            raise ValueError(f"cell.clearance_m={self.clearance_m}: must be within 0.2-3 mm")
        if not 0 < self.control_hz < math.inf or self.episode_steps <= 0:
            raise ValueError("cell.control_hz (finite) and cell.episode_steps must be > 0")
        # Safety limits: `not 0 < x < inf` refuses NaN and inf too (`x <= 0` lets NaN through,
        # and a NaN or inf limit never fires).
        if not all(0 < x < math.inf for x in (self.max_step_m, self.max_step_rad, self.max_force_n)):
            raise ValueError("cell.max_step_m, max_step_rad and max_force_n must be finite numbers > 0")
        if min(self.stiffness_n_m, self.stiffness_nm_rad) <= 0 or min(self.damping_n_s_m, self.damping_nm_s_rad) < 0:
            raise ValueError("cell.stiffness_* must be > 0 and cell.damping_* >= 0")
        if not all(0 < x < math.inf for x in (*self.safety_box_m, self.safety_box_rad)):
            raise ValueError("cell.safety_box_m and cell.safety_box_rad: every half extent must be a finite number > 0")


@dataclass(frozen=True)
class OperatorConfig:
    """A simulated operator = a scripted expert at a level + an intervention strategy."""

    strategy: Literal["reference", "random", "never"] = _f("reference", "when the operator takes over")
    expert: str = _f("mid", "expert level: low | mid | high, or a float quality in [0, 1]")
    p_bad: float = _f(0.95, "reference: takeover probability when the policy's action is clearly worse")
    p_good: float = _f(0.05, "reference: takeover probability otherwise")
    p_random: float = _f(0.1, "random: takeover probability per step")
    steps: int = _f(4, "an intervention lasts this many control steps, then hands back")
    margin_m: float = _f(0.002, "reference: 'clearly worse' = predicted distance larger by this, m")
    seed: int = _f(0, "operator RNG seed (offset by the run seed)")

    def validate(self) -> None:
        for name in ("p_bad", "p_good", "p_random"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"operator.{name}={v}: must be a probability in [0, 1]")
        if self.steps < 1:
            raise ValueError("operator.steps must be >= 1")
