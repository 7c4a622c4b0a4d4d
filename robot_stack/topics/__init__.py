"""The topic contract (docs/architecture.md "The graph (robot_stack)"): every topic's name, type, QoS and packing.

Nothing else in the project hard-codes a topic name or a QoS: nodes take `TopicSpec`s from here
and use `pack_*` / `unpack_*` to go between messages and small dataclasses.

Every `*MultiArray` carries one `layout.dim` entry per value, whose `label` names it
(`episode, step, ...` first), so receivers match by key, never by arrival order, and a message
of the wrong length or labels is rejected with a `TopicError` saying what differs. With cameras
(`vision.image_size` > 0) the observation and the step topic's records also carry each camera's
frame of the state their observation describes, one labelled block per camera after the values
(`robot_stack/wire.py`; `cameras` = `cfg.vision.frame_shapes()`): frames travel with the
record that needs them, never on a topic of their own to be joined back by step key.

Where each part lives (all re-exported here: nodes import `robot_stack.topics` alone):
- `specs`: every topic's name, type and QoS, and why each QoS;
- `arrays`: the labelled arrays (observation, policy action, command, step and episode end);
- `json_topics`: events and status heartbeats;
- `messages`: the operator's twist, flag and joystick, the actor's weights, camera JPEGs.
The other boundary, franka_ros2's topics (names from the config), is `robot_stack/franka/topics.py`.
"""
from robot_stack.events import EventKind  # the vocabulary lives where no ROS is needed
from robot_stack.topics.arrays import (
    END_COUNTS, Command, Observation, PolicyAction, command_labels, end_labels, observation_labels,
    pack_command, pack_episode_end, pack_observation, pack_policy_action, pack_step, policy_action_labels,
    step_labels, unpack_command, unpack_observation, unpack_policy_action, unpack_step)
from robot_stack.topics.json_topics import (
    CONTROL_STATUS, OPTIONAL_STATUS, PROCESS_START, STALE_MARGIN_S, Event, StaleEvent, pack_event, pack_status,
    unpack_event, unpack_status)
from robot_stack.topics.messages import (
    WEIGHTS_LABEL, pack_intervening, pack_joy, pack_jpeg, pack_twist, pack_weights, unpack_intervening,
    unpack_joy, unpack_jpeg, unpack_twist, unpack_weights)
from robot_stack.topics.specs import (
    ALL_TOPICS, CAMERA, COMMAND, DATA_DEPTH, EVENT_LIFESPAN_S, EVENTS, NAMESPACE, OBSERVATION, POLICY_ACTION,
    POLICY_WEIGHTS, STATUS, STEP, TELEOP_INTERVENING, TELEOP_JOY, TELEOP_TWIST, TWIST_LABELS, TopicSpec,
    qos_profile)
from robot_stack.wire import Shapes, TopicError

__all__ = [  # the contract's public names, whichever module defines them
    "ALL_TOPICS", "CAMERA", "COMMAND", "CONTROL_STATUS", "Command", "DATA_DEPTH", "END_COUNTS",
    "EVENTS", "EVENT_LIFESPAN_S", "Event", "EventKind", "NAMESPACE", "OBSERVATION", "OPTIONAL_STATUS",
    "Observation", "POLICY_ACTION", "POLICY_WEIGHTS", "PROCESS_START", "PolicyAction", "STALE_MARGIN_S",
    "STATUS", "STEP", "Shapes", "StaleEvent", "TELEOP_INTERVENING", "TELEOP_JOY", "TELEOP_TWIST",
    "TWIST_LABELS", "TopicError", "TopicSpec", "WEIGHTS_LABEL", "command_labels", "end_labels",
    "observation_labels", "pack_command", "pack_episode_end", "pack_event", "pack_intervening",
    "pack_joy", "pack_jpeg", "pack_observation", "pack_policy_action", "pack_status", "pack_step",
    "pack_twist", "pack_weights", "policy_action_labels", "qos_profile", "step_labels",
    "unpack_command", "unpack_event", "unpack_intervening", "unpack_joy", "unpack_jpeg",
    "unpack_observation", "unpack_policy_action", "unpack_status", "unpack_step", "unpack_twist",
    "unpack_weights"]
