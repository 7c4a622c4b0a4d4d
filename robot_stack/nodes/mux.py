"""Mux node: publishes `command` = operator's action while intervening, else the policy's.

One decision per (episode, step), made by `logic.mux.MuxCore` (safety rules live there).
- Human operator (default): teleop messages set the current state; a step is decided as soon
  as its policy action arrives, or at once on the observation when the operator is driving
  (so the operator can drive even with the actor dead).
- Synchronous operator (`sync_operator:=true`, the simulated operator on the twin): the operator
  answers every policy action with one `intervening` and one `twist` stamped with the step's
  observation time `t`; the mux waits for the twist of this step and an `intervening` received
  since this step's observation, which makes runs deterministic in accelerated mode. It waits at
  most `graph.teleop_timeout_ms` on the wall clock, and `graph.accelerated_wait_s / 2` with the
  accelerated twin (sim time stops meanwhile: a busy machine is waited for; only a dead or stuck
  operator is reported, and before the cell's own wait runs out).
"""
from __future__ import annotations

import time

import numpy as np

from robot_stack import contract
from robot_stack import topics as T
from robot_stack.logic.mux import MuxCore
from robot_stack.nodes.base import RlifNode

FAULT_REPEAT_S = 1.0


class MuxNode(RlifNode):
    def __init__(self):
        super().__init__("mux")
        self.sync = bool(self.param("sync_operator", False))
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.obs_labels = contract.OBS_LABELS
        self.cameras = self.cfg.vision.frame_shapes()  # observations carry these frames (unused here)
        g = self.cfg.graph
        self.core = MuxCore(self.action_labels, g.teleop_timeout_ms / 1000.0)
        self.timeout_s = g.accelerated_wait_s / 2 if g.accelerated else g.teleop_timeout_ms / 1000.0
        self.key: tuple[int, int] | None = None  # current step
        self.t_of_key = 0.0
        self.policy: np.ndarray | None = None
        self.early: dict[tuple[int, int], np.ndarray] = {}
        self.last_fault: tuple[str, float] = ("", 0.0)
        self.decided: tuple[int, int] | None = None
        self.waiting_since: float | None = None
        self.n_twists = self.n_flags = 0
        self.twist_stamp = -1.0
        self.flag_since_obs = False  # sync: an `intervening` arrived since this step's observation
        self.counters.update(commands=0, policy=0, human=0, hold=0, malformed=0)
        self.pub = self.create_publisher(T.COMMAND.msg_type, T.COMMAND.name, T.COMMAND.qos)
        # rclpy's executor takes the messages of one wake-up in the order the subscriptions were
        # created. A human operator's topics come first: a takeover waiting beside the step's
        # observation and the policy's answer (the mux was descheduled a moment) decides that step.
        # The simulated operator (sync) answers each observation, so its answer must follow it.
        subs = [("flag_sub", T.TELEOP_INTERVENING, self.on_flag), ("twist_sub", T.TELEOP_TWIST, self.on_twist),
                ("obs_sub", T.OBSERVATION, self.on_observation), ("policy_sub", T.POLICY_ACTION, self.on_policy)]
        for attr, spec, callback in (subs[2:] + subs[:2] if self.sync else subs):
            setattr(self, attr, self.create_subscription(spec.msg_type, spec.name, callback, spec.qos))
        self.on_events(self.on_event)
        # sync mode: one timer, armed per step and cancelled by the decision (no polling)
        self.sync_timer = self.create_timer(self.timeout_s, self.on_timer)
        self.sync_timer.cancel()

    def status(self):
        return {"intervening": self.core.intervening, "estop": self.core.estop, "sync_operator": self.sync}

    def inputs_matched(self) -> bool:
        """We see the clock's observations and the policy's actions, and (sync) the operator's
        answers: the clock's first step waits for this (else step 0's answers can be lost)."""
        subs = [self.obs_sub, self.policy_sub] + ([self.flag_sub, self.twist_sub] if self.sync else [])
        return all(s.get_publisher_count() >= 1 for s in subs)

    # ------------------------------------------------------------ inputs
    def on_observation(self, msg):
        o = self.unpack(T.unpack_observation, msg, self.obs_labels, self.cameras)
        if o is None:
            return
        self.key, self.t_of_key = (o.episode, o.step), o.t
        self.policy = self.early.pop(self.key, None)  # the policy may have answered before we saw the step
        self.early.clear()
        self.waiting_since = time.monotonic()
        self.flag_since_obs = False
        if self.sync:
            self.sync_timer.reset()
        else:  # the operator drives, or the policy answered before this observation reached us
            self.try_decide()

    def on_policy(self, msg):
        p = self.unpack(T.unpack_policy_action, msg, self.action_labels, fault="malformed policy action")
        if p is None:
            return
        key = (p.episode, p.step)
        if self.key is None or key > self.key:
            self.early[key] = p.action  # arrived before its observation reached us
            return
        if key != self.key:
            return  # stale: an earlier step, already decided or held by the cell
        self.policy = p.action
        self.try_decide()

    def on_flag(self, msg):
        self.core.on_intervening(T.unpack_intervening(msg), time.monotonic())
        self.n_flags += 1
        self.flag_since_obs = True
        self.try_decide()

    def on_twist(self, msg):
        action, stamp = T.unpack_twist(msg)
        self.core.on_twist(action, time.monotonic())
        self.n_twists += 1
        self.twist_stamp = stamp
        if self.sync:
            self.try_decide()

    def on_event(self, e: T.Event):
        if e.kind == T.EventKind.ESTOP:
            self.core.on_estop(True)
        elif e.kind == T.EventKind.ESTOP_CLEAR:
            self.core.on_estop(False)

    def on_timer(self):
        if self.key is None or self.decided == self.key:
            self.sync_timer.cancel()
            return
        if time.monotonic() - (self.waiting_since or 0.0) < 0.99 * self.timeout_s:
            return  # a stale timer event: this step's wait started since
        if self.policy is not None:  # (else the timer fires again: the policy may still answer)
            self.decide()  # operator did not answer: the core holds (and reports) if it was intervening

    # ------------------------------------------------------------ decision
    def sync_ready(self) -> bool:
        return self.flag_since_obs and abs(self.twist_stamp - self.t_of_key) < 1e-6

    def try_decide(self):
        if self.key is None or self.decided == self.key:
            return
        if self.sync:
            if self.policy is not None and self.sync_ready():
                self.decide()
        elif self.policy is not None or self.core.intervening:
            self.decide()

    def decide(self):
        d = self.core.decide(self.policy, time.monotonic())
        ep, st = self.key
        self.decided = self.key
        if self.sync:
            self.sync_timer.cancel()
        self.pub.publish(T.pack_command(T.Command(ep, st, d.source, d.action, self.policy), self.action_labels))
        self.counters["commands"] += 1
        self.counters[d.source.name.lower()] += 1
        now = time.monotonic()
        if d.fault and (d.fault != self.last_fault[0] or now - self.last_fault[1] > FAULT_REPEAT_S):
            self.fault(d.fault, episode=ep, step=st)  # the same fault at most once per FAULT_REPEAT_S
            self.last_fault = (d.fault, now)
