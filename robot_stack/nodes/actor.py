"""Actor node: policy inference on every observation, weights hot-swapped from `policy_weights`.

It acts only with real weights: the learner's (latched on `policy_weights`, so a late actor
still gets them) or a file given by `-p weights:=PATH` (eval, or a resume before the learner is
back). Until then it publishes nothing and the cell holds on its deadline: it never acts with
unloaded or random weights. A corrupt or mismatched blob is reported as a fault and the last good
weights stay in use. Weights must fit this graph's cameras (`vision.*`): under a vision profile
an actor trained on other cameras, another image size or the state alone is refused the same way
(and a state-only graph refuses an image actor), so the actor keeps waiting, never acts blind.
With cameras, each observation's frames go to the policy with its state. Parameter
`deterministic` (default false: sample during training). Status: `infer_p50_ms`, `infer_p99_ms`
(the policy's own time per observation, over the last `INFER_WINDOW`), `frames` (frames passed on).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from learner.seeds import stream_seed
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode

INFER_WINDOW = 2000  # inference times kept for the heartbeat's percentiles


class ActorNode(RlifNode):
    def __init__(self):
        super().__init__("actor")
        from learner.policy import Policy

        self._Policy = Policy
        self.deterministic = bool(self.param("deterministic", False))
        weights = str(self.param("weights", ""))
        self.obs_labels = contract.OBS_LABELS
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.cameras = self.cfg.vision.frame_shapes()  # {} without vision
        vision = self.cfg.vision
        self.policy_cameras = tuple(vision.cameras) if vision.enabled else ()
        self.image_size = int(vision.image_size)
        self.policy = None
        self.infer_ms: list[float] = []
        self.version = -1
        self.rng = np.random.default_rng(stream_seed(self.cfg.train.seed, "exploration"))
        self.counters.update(actions=0, weights_loaded=0, weights_rejected=0, malformed=0, frames=0)
        if self.cfg.graph.actor_threads > 0:
            import torch

            torch.set_num_threads(self.cfg.graph.actor_threads)
        if weights:
            self.load(Path(weights).read_bytes(), origin=weights)
        self.pub = self.create_publisher(T.POLICY_ACTION.msg_type, T.POLICY_ACTION.name, T.POLICY_ACTION.qos)
        self.obs_sub = self.create_subscription(T.OBSERVATION.msg_type, T.OBSERVATION.name, self.on_observation,
                                                T.OBSERVATION.qos)
        self.create_subscription(T.POLICY_WEIGHTS.msg_type, T.POLICY_WEIGHTS.name, self.on_weights,
                                 T.POLICY_WEIGHTS.qos)

    def status(self):
        infer = {}
        if self.infer_ms:
            ms = np.asarray(self.infer_ms)
            infer = {"infer_p50_ms": round(float(np.percentile(ms, 50)), 3),
                     "infer_p99_ms": round(float(np.percentile(ms, 99)), 3)}
        return {"policy_version": self.version, "weights": self.policy is not None,
                "deterministic": self.deterministic, **infer}

    def ready(self) -> bool:
        return self.policy is not None

    def inputs_matched(self) -> bool:
        return self.obs_sub.get_publisher_count() >= 1

    def load(self, blob: bytes, origin: str) -> None:
        try:
            policy = self._Policy.from_bytes(blob, len(self.obs_labels), len(self.action_labels), name=origin,
                                             cameras=self.policy_cameras, image_size=self.image_size)
        except Exception as e:  # noqa: BLE001 - any bad blob: keep the last good weights
            self.counters["weights_rejected"] += 1
            self.fault("policy weights rejected; keeping the last good ones", origin=origin, detail=str(e))
            return
        policy.warm_up()  # the first call builds the convolution kernels: not on a control step
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
        o = self.unpack(T.unpack_observation, msg, self.obs_labels, self.cameras)
        if o is None:
            return
        t0 = time.perf_counter()
        a = self.policy.act(o.obs, deterministic=self.deterministic, rng=self.rng, images=o.images)
        self.infer_ms.append(1e3 * (time.perf_counter() - t0))
        del self.infer_ms[:-INFER_WINDOW]
        self.counters["frames"] += len(o.images or ())
        self.pub.publish(T.pack_policy_action(T.PolicyAction(o.episode, o.step, a), self.action_labels))
        self.counters["actions"] += 1
