"""The cell contract's labels for the ROS side: re-exported from `sim.contract`, their one home
(the core defines them, so the twin, the Franka bridge and every node agree by construction)."""
from sim.contract import ACTION_INDEX, ACTION_LABELS, OBS_LABELS, action_labels

__all__ = ["ACTION_INDEX", "ACTION_LABELS", "OBS_LABELS", "action_labels"]
