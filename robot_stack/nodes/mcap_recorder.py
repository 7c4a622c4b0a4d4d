"""MCAP recorder node (`--record-mcap`): every /rlif topic, and on the robot the Franka state, to
`RUN/mcap/rlif_NNN.mcap` for Foxglove (`robot_stack/mcap_writer.py` says what is written).

Each topic of the contract (`topics.ALL_TOPICS`; with `cell.kind=franka` also franka_ros2's
pose, wrench and joint state and the targets we send (pose, and joints while homing), `franka/topics.py`) is subscribed with its
contract's QoS (a deeper queue: the recorder may lag a moment) and `raw=True`, so a callback
only appends the CDR bytes rclpy received: nothing is deserialized or re-encoded. Latched topics
(events, policy weights) come with the history their writers keep. The clock's first step waits
for this node to see the observation and command publishers (`inputs_matched`), so episode 0 is
complete. Files rotate at `train.mcap_rotate_mb`; `close()` finishes the last one.
Status: `messages`, `files`.
"""
from __future__ import annotations

import dataclasses
from functools import partial

from robot_stack import topics as T
from robot_stack.mcap_writer import RotatingMcap, type_name
from robot_stack.nodes.base import RlifNode

RECORD_DEPTH = 1000  # messages a topic may queue while the recorder writes a chunk


def recorded_topics(cfg) -> list[T.TopicSpec]:
    specs = list(T.ALL_TOPICS)
    if cfg.cell.kind == "franka":
        from robot_stack.franka.topics import franka_topics

        ft = franka_topics(cfg.franka)
        specs += [ft.pose, ft.wrench, ft.joints, ft.target, ft.joint_target]
    return specs


class McapRecorderNode(RlifNode):
    def __init__(self):
        super().__init__("mcap_recorder")
        self.out = RotatingMcap(self.run_dir / "mcap", int(self.cfg.train.mcap_rotate_mb * 1e6))
        self.subs = {}
        for spec in recorded_topics(self.cfg):
            self.out.add_topic(spec.name, type_name(spec.msg_type))
            qos = dataclasses.replace(spec, depth=max(spec.depth, RECORD_DEPTH)).qos
            self.subs[spec.name] = self.create_subscription(spec.msg_type, spec.name,
                                                            partial(self.on_message, spec.name), qos, raw=True)
        self.counters.update(messages=0, files=1)

    def on_message(self, topic: str, cdr: bytes) -> None:
        self.out.write(topic, cdr)
        self.counters["messages"] = self.out.messages
        self.counters["files"] = len(self.out.files)

    def inputs_matched(self) -> bool:
        """The clock's observations and steps and the mux's commands reach us: episode 0 is whole."""
        return all(self.subs[t.name].get_publisher_count() >= 1 for t in (T.OBSERVATION, T.COMMAND, T.STEP)
                   if t.name in self.subs)

    def status(self):
        return {"mcap_file": self.out.files[-1].name}

    def close(self):
        self.out.close()
