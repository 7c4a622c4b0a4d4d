"""Config dataclasses of the twin cell and the simulated operator (no rclpy here)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.config_fields import doc_field as _f


@dataclass(frozen=True)
class CellConfig:
    """The cell contract (docs/architecture.md): rates, action scaling, geometry, safety limits."""

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
    render: bool = _f(False, "graph: publish the twin's front camera on the camera topic (supervisor."
                             "camera_hz) even without the dashboard (--serve turns it on anyway); for "
                             "the dashboard only: image observations are vision.*")

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
    """A simulated operator = an expert that drives when it takes over + a rule for when
    (sim.operators, sim.human; the reference agent of `value` is learner.reference)."""

    strategy: Literal["human", "value", "random", "never"] = _f(
        "human", "when the operator takes over: human = reacts to visible persistent errors (a person); "
                 "value = the RLIF paper's Q-judge; random = p_random per step; never")
    expert: str = _f("mid", "expert level: low | mid | high, or a float quality in [0, 1] (scripted kinds)")
    expert_kind: Literal["observed", "privileged", "reference"] = _f(
        "observed", "who the expert is: observed = scripted, acts on the learner's observation + memory "
                    "(realizable); privileged = scripted, reads the true hole (not realizable); "
                    "reference = an actor snapshot of the reference agent")
    reference: str = _f("", "reference agent file (value judge, reference experts); '' = the shipped "
                            "learner/assets/reference.safetensors")
    p_bad: float = _f(0.95, "value: takeover probability when the policy's action is clearly worse")
    p_good: float = _f(0.005, "value: takeover probability otherwise (counted as random takeovers)")
    delta: float = _f(0.01, "value: clearly worse = Q_ref(s, a_policy) < Q_ref(s, a_ref) - delta * |Q_ref(s, a_ref)| "
                            "(0.01 ~ one step of delay at gamma 0.99; the paper's 0.03 lets a policy hover)")
    judge_action: Literal["mean", "executed"] = _f(
        "mean", "value: judge the policy's deterministic action (its intent) or the sampled one it executes "
                "(the paper's code); the graph's operator node sees only the executed one")
    p_random: float = _f(0.1, "random: takeover probability per step")
    steps: int = _f(4, "value / random: an intervention lasts this many control steps, then hands back")
    reaction_steps: tuple[int, int] = _f((1, 3), "human: reaction delay after deciding, uniform in [lo, hi] steps")
    persist_steps: int = _f(4, "human: a visible tilt must last this many steps before the person decides")
    search_patience_steps: int = _f(20, "human: the peg may rest beside the hole (searching) this many steps "
                                        "before the person decides (20 = 2 s at 10 Hz; at 10 the person "
                                        "took over a 97 %-successful policy in 1 of 3 episodes)")
    lateral_tol_m: float = _f(0.0015, "human: peg beside the hole by more than this near the board is an error, m")
    near_board_m: float = _f(0.003, "human: 'near the board' = tip less than this above the surface, m")
    perception_m: float = _f(0.001, "human: std of the person's per-episode error in seeing where the hole is, m")
    jitter_m: float = _f(0.0003, "human: std of the per-step perception noise, m")
    tilt_rad: float = _f(0.15, "human: a visible tilt above this is an error, rad")
    force_frac: float = _f(0.6, "human: a force above this fraction of cell.max_force_n is an error (at once)")
    stall_steps: int = _f(15, "human: no progress over this many steps is an error")
    progress_m: float = _f(0.002, "human: 'progress' = the tip got this much closer to the inserted pose, m")
    handback_m: float = _f(0.03, "human: a correction ends only with the peg in the hole or this near the inserted "
                                 "pose (lateral + height above it), m: a peg far off track is brought back first")
    min_hold_steps: int = _f(3, "human: holds control at least this many steps; then lets go once no error "
                                "is visible and the peg is in the hole or progress_m closer than at the takeover "
                                "and within handback_m")
    max_hold_steps: int = _f(30, "human: hands back after this many steps whatever the state")
    p_whim: float = _f(0.002, "human: probability per step of a takeover for no visible reason (counted apart)")
    seed: int = _f(0, "operator RNG seed (offset by the run seed)")

    def validate(self) -> None:
        for name in ("p_bad", "p_good", "p_random", "p_whim", "force_frac"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"operator.{name}={v}: must be a probability / fraction in [0, 1]")
        for name in ("steps", "persist_steps", "search_patience_steps", "stall_steps", "min_hold_steps",
                     "max_hold_steps"):
            if not getattr(self, name) >= 1:
                raise ValueError(f"operator.{name} must be >= 1")
        lo, hi = self.reaction_steps
        if not 0 <= lo <= hi:
            raise ValueError(f"operator.reaction_steps={self.reaction_steps}: need 0 <= lo <= hi")
        if self.min_hold_steps > self.max_hold_steps:
            raise ValueError("operator.min_hold_steps must be <= operator.max_hold_steps")
        for name in ("delta", "lateral_tol_m", "near_board_m", "perception_m", "jitter_m", "tilt_rad",
                     "progress_m", "handback_m"):
            v = getattr(self, name)
            if not 0.0 <= v < math.inf:
                raise ValueError(f"operator.{name}={v}: must be a finite number >= 0")
        if self.strategy not in ("human", "value", "random", "never"):
            raise ValueError(f"operator.strategy={self.strategy!r}: one of human, value, random, never")
        if self.judge_action not in ("mean", "executed"):
            raise ValueError(f"operator.judge_action={self.judge_action!r}: one of mean, executed")
        if self.expert_kind not in ("observed", "privileged", "reference"):
            raise ValueError(f"operator.expert_kind={self.expert_kind!r}: one of observed, privileged, reference")


CAMERAS = ("wrist", "front")  # the twin's cameras (sim/assets: panda.xml hand, task.xml world)


@dataclass(frozen=True)
class VisionConfig:
    """Camera images as observations (off by default: the policy sees the state vector only).
    Each control step's frames are taken of the state its observation was taken of."""

    image_size: int = _f(0, "square RGB frames of this many pixels per side in each observation (0: state "
                            "only; 64 for CPU experiments, 128 as in HIL-SERL)", ge=0, le=256)
    cameras: tuple[str, ...] = _f(("wrist",), "cameras whose frames join the observation: wrist, front")
    camera_jitter_m: float = _f(0.002, "twin: per-episode random shift of each camera, m (uniform in +-this "
                                       "per axis), so a policy cannot memorise pixels", ge=0, le=0.01)
    camera_jitter_rad: float = _f(0.02, "twin: per-episode random tilt of each camera, rad (uniform in "
                                        "+-this per axis)", ge=0, le=0.1)
    light_jitter: float = _f(0.2, "twin: per-episode brightness of each light, uniform in 1 +- this times "
                                  "the scene's", ge=0, lt=1)

    @property
    def enabled(self) -> bool:
        return self.image_size > 0

    def frame_shapes(self) -> dict[str, tuple[int, int, int]]:
        """{camera: (S, S, 3)} of the frames each observation carries; {} when images are off. The
        store's image columns, the graph's pixel blocks and the twin's renders all have these."""
        s = self.image_size
        return {cam: (s, s, 3) for cam in self.cameras} if s > 0 else {}

    def validate(self) -> None:
        if not 0 <= self.image_size <= 256:
            raise ValueError(f"vision.image_size={self.image_size}: must be 0 (off) or 1-256 pixels")
        if self.enabled and (not self.cameras or len(set(self.cameras)) != len(self.cameras)
                             or any(c not in CAMERAS for c in self.cameras)):
            raise ValueError(f"vision.cameras={list(self.cameras)}: one or more distinct names of {list(CAMERAS)}")
        if not (0 <= self.camera_jitter_m <= 0.01 and 0 <= self.camera_jitter_rad <= 0.1
                and 0 <= self.light_jitter < 1):
            raise ValueError("vision.camera_jitter_m must be in [0, 0.01] m, vision.camera_jitter_rad in "
                             "[0, 0.1] rad, vision.light_jitter in [0, 1)")
