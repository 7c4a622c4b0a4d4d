"""Labels of the cell contract (docs/architecture.md "The cell contract"), shared by every cell (the twin,
the Franka bridge), every node and the replay store's metadata. Pure data, no MuJoCo.

Observation (18 floats): peg-tip position (m) and orientation (rotation vector, rad) relative to
the nominal hole frame, its linear (m/s) and angular (rad/s) velocity, and the wrench at the EE
(force N, torque Nm). Actions are peg-tip deltas in the hole frame in [-1, 1] (scaled by the
cell's max step); the profile's action space picks the axes.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

OBS_LABELS = ("ee_x", "ee_y", "ee_z", "ee_rx", "ee_ry", "ee_rz",
              "v_x", "v_y", "v_z", "w_x", "w_y", "w_z",
              "f_x", "f_y", "f_z", "tq_x", "tq_y", "tq_z")
# Named groups of OBS_LABELS (`rlif eval --zero-obs force` etc.).
OBS_GROUPS = {"pos": OBS_LABELS[0:3], "rot": OBS_LABELS[3:6], "vel": OBS_LABELS[6:12], "force": OBS_LABELS[12:18]}

# Per-feature multipliers that bring the observation to O(1) inside the learner's networks:
# 1 cm, 0.1 rad, 5 cm/s, 0.5 rad/s, 10 N, 1 Nm -> 1. Positions matter at the mm level (the hole's
# clearance is 0.5 mm a side), so an unscaled MLP would see its most important inputs as ~1e-3.
OBS_SCALE = (100.0, 100.0, 100.0, 10.0, 10.0, 10.0,
             20.0, 20.0, 20.0, 2.0, 2.0, 2.0,
             0.1, 0.1, 0.1, 1.0, 1.0, 1.0)

ACTION_LABELS = {
    "6d": ("x", "y", "z", "rx", "ry", "rz"),
    "xyz": ("x", "y", "z"),
    "xyz_yaw": ("x", "y", "z", "rz"),
}

# Which of the six pose axes (x y z rx ry rz) each action space drives.
ACTION_INDEX = {"6d": [0, 1, 2, 3, 4, 5], "xyz": [0, 1, 2], "xyz_yaw": [0, 1, 2, 5]}


def action_labels(action_space: str) -> tuple[str, ...]:
    try:
        return ACTION_LABELS[action_space]
    except KeyError:
        raise ValueError(f"unknown action space {action_space!r}; known: {list(ACTION_LABELS)}") from None



class Source(IntEnum):
    """Who produced the executed action of a step (the store's `source` column, `command`, `step`)."""

    POLICY = 0
    HUMAN = 1  # the operator (human or simulated) was driving
    HOLD = 2  # nobody: the cell held pose (missed deadline, NaN, stale teleop, e-stop, stale robot)


# Why an episode ended (`EpisodeEnd.reason`): terminal = no bootstrapping past the last step
# (success, a force abort); the others are truncations.
END_REASONS = ("success", "force_abort", "operator_abort", "terminated", "timeout", "robot_fault")
TERMINAL_REASONS = ("success", "force_abort", "terminated")
ABORT_REASONS = ("force_abort", "operator_abort", "robot_fault")


@dataclass(frozen=True)
class Step:
    """One control step as the cell executed it: what every writer stores, one row of the replay store.

    `obs` is the observation the step was decided on; `action` the executed action (zeros for a
    HOLD); `policy_action` what the policy proposed (NaN where it did not answer in time);
    `t` the cell clock, s; `images` the camera frames of the state `obs` describes ({camera:
    uint8 H x W x 3}, `vision.*`; None without cameras; in process only so far)."""

    episode: int
    step: int
    t: float
    obs: np.ndarray
    action: np.ndarray
    policy_action: np.ndarray
    source: Source
    images: dict | None = None

    @property
    def intervening(self) -> bool:
        """Operator-driven = the operator's action was executed. A HOLD while the operator holds
        the device (a stale spacemouse, an e-stop) is a hold, not an operator step."""
        return self.source == Source.HUMAN


@dataclass(frozen=True)
class EpisodeEnd:
    """How an episode ended, published by the clock after its last step (`steps` steps)."""

    episode: int
    steps: int
    reason: str  # one of END_REASONS
    final_obs: np.ndarray  # the observation after the last step
    interventions: int = 0  # takeovers: switches to the operator
    intervention_steps: int = 0  # operator-driven steps
    holds: int = 0
    missed_deadlines: int = 0
    final_images: dict | None = None  # camera frames of the state after the last step (like final_obs)

    def __post_init__(self):
        if self.reason not in END_REASONS:
            raise ValueError(f"unknown episode end reason {self.reason!r}; known: {list(END_REASONS)}")

    @property
    def success(self) -> bool:
        return self.reason == "success"

    @property
    def terminal(self) -> bool:
        return self.reason in TERMINAL_REASONS

    @property
    def truncated(self) -> bool:
        return not self.terminal

    @property
    def aborted(self) -> bool:
        return self.reason in ABORT_REASONS
