"""The `events` topic's vocabulary (no ROS here: the read-only dashboard `rlif serve` uses it too;
`robot_stack.topics` re-exports it with the topic contract)."""


class EventKind:
    """The `events` vocabulary. Requests (`REQ_*`) ask the owner to act; the rest report facts."""

    EPISODE_START = "episode_start"  # cell: {episode}
    EPISODE_END = "episode_end"  # cell: {episode, steps, success, aborted, truncated, interventions, reason}
    FAULT = "fault"  # anyone: {what, detail}; the reporting node holds where it can
    ESTOP = "estop"  # anyone: cell holds within one tick until ESTOP_CLEAR
    ESTOP_CLEAR = "estop_clear"
    REQ_SUCCESS = "request_success"  # operator button / supervisor: end the episode as a success
    REQ_ABORT = "request_abort"  # operator button / supervisor: end the episode as aborted
    REQ_START = "request_start"  # supervisor: start the next episode (operator-confirmed reset)
    TRAINING_PAUSE = "training_pause"  # supervisor -> learner
    TRAINING_RESUME = "training_resume"
    WEIGHTS_LOADED = "weights_loaded"  # actor: {version}
    CHECKPOINT = "checkpoint"  # learner: {path, updates}
