"""Actor node: policy inference on every observation, weights hot-swapped from `policy_weights`.

It acts only with real weights: the learner's (latched on `policy_weights`, so a late actor
still gets them) or a file given by `-p weights:=PATH` (eval, or a resume before the learner is
back). Until then it publishes nothing and the cell holds on its deadline: it never acts with
unloaded or random weights. A corrupt or mismatched blob is reported as a fault and the last good
weights stay in use. Parameter `deterministic` (default false: sample during training).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from learner.seeds import stream_seed
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode


class ActorNode(RlifNode):
    def __init__(self):
        super().__init__("actor")
        from learner.policy import Policy

        self._Policy = Policy
        self.deterministic = bool(self.param("deterministic", False))
        weights = str(self.param("weights", ""))
        self.obs_labels = contract.OBS_LABELS
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.policy = None
        self.version = -1
        self.rng = np.random.default_rng(stream_seed(self.cfg.train.seed, "exploration"))
        self.counters.update(actions=0, weights_loaded=0, weights_rejected=0, malformed=0)
        if weights:
            self.load(Path(weights).read_bytes(), origin=weights)
        self.pub = self.create_publisher(T.POLICY_ACTION.msg_type, T.POLICY_ACTION.name, T.POLICY_ACTION.qos)
        self.obs_sub = self.create_subscription(T.OBSERVATION.msg_type, T.OBSERVATION.name, self.on_observation,
                                                T.OBSERVATION.qos)
        self.create_subscription(T.POLICY_WEIGHTS.msg_type, T.POLICY_WEIGHTS.name, self.on_weights,
                                 T.POLICY_WEIGHTS.qos)

    def status(self):
        return {"policy_version": self.version, "weights": self.policy is not None,
                "deterministic": self.deterministic}

    def ready(self) -> bool:
        return self.policy is not None

    def inputs_matched(self) -> bool:
        return self.obs_sub.get_publisher_count() >= 1

    def load(self, blob: bytes, origin: str) -> None:
        try:
            policy = self._Policy.from_bytes(blob, len(self.obs_labels), len(self.action_labels), name=origin)
        except Exception as e:  # noqa: BLE001 - any bad blob: keep the last good weights
            self.counters["weights_rejected"] += 1
            self.fault("policy weights rejected; keeping the last good ones", origin=origin, detail=str(e))
            return
        self.policy, self.version = policy, int(getattr(policy, "version", self.version + 1))
        self.counters["weights_loaded"] += 1
        self.publish_event(T.EventKind.WEIGHTS_LOADED, version=self.version, origin=origin)
        if self.counters["weights_loaded"] == 1 and hasattr(self, "obs_sub"):
            self.publish_status()  # ready now: the clock may be waiting for us

    def on_weights(self, msg):
        try:
            blob = T.unpack_weights(msg)
        except T.TopicError as e:
            self.counters["weights_rejected"] += 1
            self.fault("malformed policy_weights message", detail=str(e))
            return
        self.load(blob, origin="topic")

    def on_observation(self, msg):
        if self.policy is None:
            return
        o = self.unpack(T.unpack_observation, msg, self.obs_labels)
        if o is None:
            return
        a = self.policy.act(o.obs, deterministic=self.deterministic, rng=self.rng)
        self.pub.publish(T.pack_policy_action(T.PolicyAction(o.episode, o.step, a), self.action_labels))
        self.counters["actions"] += 1
