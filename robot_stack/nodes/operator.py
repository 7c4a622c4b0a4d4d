"""Simulated operator node (twin only): an expert + an intervention strategy on the
same topics a human operator uses (`teleop/intervening`, `teleop/twist`).

It answers every policy action (episode, step) with exactly one `intervening` and one `twist`
stamped with that step's observation time, and the mux runs with `sync_operator:=true` so it
waits for both: runs are deterministic in accelerated mode. (No extra heartbeat: one flag per
step is the heartbeat.) What the operator knows beyond the observation (the true hole offset)
comes from the twin's `episode_start` event (`sim.hole_offset_m`): privileged, twin only.
"""
from __future__ import annotations

import numpy as np

from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode


class SimOperatorNode(RlifNode):
    def __init__(self):
        super().__init__("operator")
        from learner.operators import make_operator
        from sim.operators import info_from_observation

        self._info = info_from_observation
        self.obs_labels = contract.OBS_LABELS
        self.cameras = self.cfg.vision.frame_shapes()  # observations carry these frames (unused here)
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.axes = [T.TWIST_LABELS.index(a) for a in self.action_labels]
        self.op = make_operator(self.cfg.operator, self.cfg.cell, seed=self.cfg.train.seed + self.cfg.operator.seed)
        self.hole_offset = np.zeros(2)
        self.obs: dict[tuple[int, int], tuple[float, np.ndarray]] = {}
        self.episode = -1
        self.counters.update(steps=0, intervening_steps=0, takeovers=0)
        self.was_intervening = False
        self.flag_pub = self.create_publisher(T.TELEOP_INTERVENING.msg_type, T.TELEOP_INTERVENING.name,
                                              T.TELEOP_INTERVENING.qos)
        self.twist_pub = self.create_publisher(T.TELEOP_TWIST.msg_type, T.TELEOP_TWIST.name, T.TELEOP_TWIST.qos)
        self.obs_sub = self.create_subscription(T.OBSERVATION.msg_type, T.OBSERVATION.name, self.on_observation,
                                                T.OBSERVATION.qos)
        self.policy_sub = self.create_subscription(T.POLICY_ACTION.msg_type, T.POLICY_ACTION.name, self.on_policy,
                                                   T.POLICY_ACTION.qos)
        self.on_events(self.on_event)

    def status(self):
        return {"strategy": self.cfg.operator.strategy, "expert": self.cfg.operator.expert,
                "intervening": self.was_intervening}

    def inputs_matched(self) -> bool:
        return self.obs_sub.get_publisher_count() >= 1 and self.policy_sub.get_publisher_count() >= 1

    def on_event(self, e: T.Event):
        if e.kind == T.EventKind.EPISODE_START:
            self.hole_offset = np.asarray(e.data.get("sim", {}).get("hole_offset_m", [0.0, 0.0]), dtype=float)
            self.op.reset()
            self.obs.clear()

    def on_observation(self, msg):
        try:
            o = T.unpack_observation(msg, self.obs_labels, self.cameras)
        except T.TopicError as e:
            self.get_logger().warning(str(e))
            return
        self.obs = {(o.episode, o.step): (o.t, o.obs)}  # only the current step matters

    def on_policy(self, msg):
        try:
            p = T.unpack_policy_action(msg, self.action_labels)
        except T.TopicError as e:
            self.get_logger().warning(str(e))
            return
        got = self.obs.get((p.episode, p.step))
        if got is None:
            return
        t, obs = got
        action = np.nan_to_num(p.action)  # the expert judges a NaN action as "do nothing"
        intervening, op_action = self.op.step(obs, self._info(obs, self.hole_offset, self.cfg.cell), action)
        twist = np.zeros(6, dtype=np.float32)
        twist[self.axes] = op_action
        self.flag_pub.publish(T.pack_intervening(intervening))
        self.twist_pub.publish(T.pack_twist(twist, t))
        self.counters["steps"] += 1
        self.counters["intervening_steps"] += int(intervening)
        self.counters["takeovers"] += int(intervening and not self.was_intervening)
        self.was_intervening = intervening
