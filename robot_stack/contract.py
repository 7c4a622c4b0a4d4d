"""Labels of the cell contract shared by every cell (twin, Franka bridge) and every node.

Observation (18 floats): EE position and orientation (rotation vector) relative to the nominal
hole frame, EE linear and angular velocity, wrench at the EE (force, torque). Actions are EE
deltas in the hole frame; the profile's action space picks the axes.
"""
from __future__ import annotations

OBS_LABELS = ("ee_x", "ee_y", "ee_z", "ee_rx", "ee_ry", "ee_rz",
              "v_x", "v_y", "v_z", "w_x", "w_y", "w_z",
              "f_x", "f_y", "f_z", "tq_x", "tq_y", "tq_z")

ACTION_LABELS = {
    "6d": ("x", "y", "z", "rx", "ry", "rz"),
    "xyz": ("x", "y", "z"),
    "xyz_yaw": ("x", "y", "z", "rz"),
}


def action_labels(action_space: str) -> tuple[str, ...]:
    try:
        return ACTION_LABELS[action_space]
    except KeyError:
        raise ValueError(f"unknown action space {action_space!r}; known: {list(ACTION_LABELS)}") from None
