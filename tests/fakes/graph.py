"""Test-side helpers for graph tests: a probe participant and a graph launcher fixture helper.

`Probe` is a real rclpy participant (own context, spinning in a thread) that can act as the
operator or the actor and records commands, observations, executed steps (the clock's `step`
topic) and events with receive times. With `cameras` (`VisionConfig.frame_shapes`: the graph's vision)
it reads the frames that observations and steps carry.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import numpy as np

from sim.contract import EpisodeEnd, Step
from robot_stack import config as cfgmod
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.participant import Participant
from tests.helpers import wait_for


class Probe:
    def __init__(self, action_space: str = "6d", name: str = "test_probe", cameras: dict | None = None):
        self.participant = Participant(name)
        self.cameras = dict(cameras or {})
        self.node = self.participant.node
        self.action_labels = contract.action_labels(action_space)
        self.lock = threading.Lock()
        self.commands: list[tuple[float, T.Command]] = []
        self.commands_sent: list[tuple[float, T.Command]] = []  # (source timestamp, s)
        self.steps: list[tuple[float, Step]] = []
        self.ends: list[tuple[float, EpisodeEnd]] = []
        self.observations: list[tuple[float, T.Observation]] = []
        self.events: list[tuple[float, T.Event]] = []
        self.obs_sent: list[tuple[float, tuple[int, int]]] = []  # (source timestamp, (episode, step))
        n = self.node
        self.flag_pub = n.create_publisher(T.TELEOP_INTERVENING.msg_type, T.TELEOP_INTERVENING.name,
                                           T.TELEOP_INTERVENING.qos)
        self.twist_pub = n.create_publisher(T.TELEOP_TWIST.msg_type, T.TELEOP_TWIST.name, T.TELEOP_TWIST.qos)
        self.policy_pub = n.create_publisher(T.POLICY_ACTION.msg_type, T.POLICY_ACTION.name, T.POLICY_ACTION.qos)
        self.events_pub = n.create_publisher(T.EVENTS.msg_type, T.EVENTS.name, T.EVENTS.qos)
        n.create_subscription(T.COMMAND.msg_type, T.COMMAND.name, self._cmd, T.COMMAND.qos)
        n.create_subscription(T.STEP.msg_type, T.STEP.name, self._step, T.STEP.qos)
        n.create_subscription(T.OBSERVATION.msg_type, T.OBSERVATION.name, self._obs, T.OBSERVATION.qos)
        n.create_subscription(T.EVENTS.msg_type, T.EVENTS.name, self._evt, T.EVENTS.qos)
        self.flags: list[tuple[float, bool]] = []
        # (the publisher's source timestamp, s of wall clock): orders messages as their writers sent
        # them, whatever order this probe's executor takes them in
        self.flags_sent: list[tuple[float, bool]] = []
        self.heartbeats: list[tuple[float, dict]] = []  # (source timestamp, a node's status)
        self.joys: list[float] = []
        # a deep reader queue: a probe that fell behind a moment still sees every flag
        n.create_subscription(T.TELEOP_INTERVENING.msg_type, T.TELEOP_INTERVENING.name, self._flag,
                              dataclasses.replace(T.TELEOP_INTERVENING, depth=T.DATA_DEPTH).qos)
        n.create_subscription(T.STATUS.msg_type, T.STATUS.name, self._status,
                              dataclasses.replace(T.STATUS, depth=T.DATA_DEPTH).qos)
        n.create_subscription(T.TELEOP_JOY.msg_type, T.TELEOP_JOY.name, lambda m: self._append(self.joys, 1),
                              T.TELEOP_JOY.qos)
        self.on_observation = None  # optional callback(Observation) run in the probe's thread
        self.participant.start()

    def _append(self, lst, value):
        with self.lock:
            lst.append((time.monotonic(), value))

    def _cmd(self, msg, info):
        c = T.unpack_command(msg, self.action_labels)
        with self.lock:
            self.commands.append((time.monotonic(), c))
            self.commands_sent.append((info["source_timestamp"] * 1e-9, c))

    def _flag(self, msg, info):
        f = T.unpack_intervening(msg)
        with self.lock:
            self.flags.append((time.monotonic(), f))
            self.flags_sent.append((info["source_timestamp"] * 1e-9, f))

    def _status(self, msg, info):
        try:
            d = T.unpack_status(msg)
        except T.TopicError:  # a broken heartbeat (some tests send them): not a node's word
            return
        with self.lock:
            self.heartbeats.append((info["source_timestamp"] * 1e-9, d))

    def _step(self, msg):
        m = T.unpack_step(msg, contract.OBS_LABELS, self.action_labels, self.cameras)
        with self.lock:
            (self.ends if isinstance(m, EpisodeEnd) else self.steps).append((time.monotonic(), m))

    def _obs(self, msg, info):
        o = T.unpack_observation(msg, contract.OBS_LABELS, self.cameras)
        with self.lock:
            self.observations.append((time.monotonic(), o))
            self.obs_sent.append((info["source_timestamp"] * 1e-9, (o.episode, o.step)))
        if self.on_observation:
            self.on_observation(o)

    def _evt(self, msg):
        try:
            e = T.unpack_event(msg)
        except T.StaleEvent:  # a previous graph's history
            return
        with self.lock:
            self.events.append((time.monotonic(), e))

    # ------------------------------------------------------------ acting
    def intervene(self, flag: bool, twist=(0.0,) * 6) -> None:
        self.flag_pub.publish(T.pack_intervening(flag))
        self.twist_pub.publish(T.pack_twist(list(twist), time.time()))

    def act(self, episode: int, step: int, action) -> None:
        a = np.asarray(action, np.float32)
        self.policy_pub.publish(T.pack_policy_action(T.PolicyAction(episode, step, a), self.action_labels))

    def event(self, kind: str, **data) -> None:
        self.events_pub.publish(T.pack_event(T.Event(kind, data, source="test")))

    # ------------------------------------------------------------ reading
    def cmds_since(self, t0: float) -> list[T.Command]:
        with self.lock:
            return [c for t, c in self.commands if t >= t0]

    def cmds_sent_after(self, t0: float) -> list[T.Command]:
        """Commands their writer sent after wall-clock time t0 (s), in the order sent."""
        with self.lock:
            return [c for t, c in sorted(self.commands_sent, key=lambda tc: tc[0]) if t >= t0]

    def cmds_sent_between(self, t0: float, t1: float) -> list[T.Command]:
        """Commands their writer sent in (t0, t1), wall clock s, in the order sent."""
        with self.lock:
            return [c for t, c in sorted(self.commands_sent, key=lambda tc: tc[0]) if t0 < t < t1]

    def takeovers_sent(self, since: float) -> list[tuple[float, float | None]]:
        """(takeover, release) as the operator sent them after `since` (wall clock s; release None
        while the takeover lasts): a True flag after a False one, then the next False."""
        from robot_stack.bench_takeover import takeover_spans

        with self.lock:
            flags = [(t, f) for t, f in self.flags_sent if t >= since]
        return takeover_spans(flags)

    def said(self, node: str, field: str, value, t0: float, t1: float = float("inf")) -> float | None:
        """When (source timestamp, wall clock s) `node`'s heartbeat first said `field` == `value`
        in (t0, t1): what the node did after that, until it heard otherwise, it did knowing it.
        Judged by what the node said, not by how fast it heard."""
        with self.lock:
            beats = sorted(self.heartbeats, key=lambda b: b[0])
        return next((t for t, d in beats if t0 < t < t1 and d["node"] == node and d.get(field) == value), None)

    def mux_said(self, intervening: bool, t0: float, t1: float = float("inf")) -> float | None:
        """When the mux's heartbeat first said in (t0, t1) that the operator drives or not."""
        return self.said("mux", "intervening", intervening, t0, t1)

    def keys_observed_after(self, t0: float) -> set[tuple[int, int]]:
        """(episode, step) of the steps whose observation the clock sent after t0 (wall clock s)."""
        with self.lock:
            return {k for t, k in self.obs_sent if t > t0}

    def executed_since(self, t0: float, source=None) -> list[Step]:
        """The steps the clock executed (its `step` topic) that arrived after t0, of `source`."""
        with self.lock:
            return [s for t, s in self.steps if t >= t0 and (source is None or s.source == source)]

    def events_of(self, kind: str, since: float = 0.0) -> list[T.Event]:
        with self.lock:
            return [e for t, e in self.events if e.kind == kind and t >= since]

    def obs_since(self, t0: float) -> list[T.Observation]:
        with self.lock:
            return [o for t, o in self.observations if t >= t0]

    def steps_from(self, key: tuple[int, int]) -> tuple[list[T.Observation], list[T.Command]]:
        """Observations and commands of steps at or after `key` = (episode, step), in any order of
        arrival: what a held cell must never publish, judged by step keys, not by arrival times."""
        with self.lock:
            return ([o for _, o in self.observations if (o.episode, o.step) >= key],
                    [c for _, c in self.commands if (c.episode, c.step) >= key])

    def close(self):
        self.participant.close()


def cell_held_at(monitor, timeout: float = 10.0) -> tuple[int, int]:
    """Wait for the cell's heartbeat to report the e-stop phase; return the key (episode, step) of
    the first step it has not started. The cell starts no step while held, so the key is final."""
    def held():
        s = monitor.snapshot()[0].get("cell", {})
        return (int(s["episode"]), int(s["step"])) if s.get("phase") == "estop" else None

    return wait_for(held, timeout, what="the cell's heartbeat reporting the e-stop")


def write_run_config(run_dir: Path, sets: list[str], profile: str = "sim") -> cfgmod.RunConfig:
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = cfgmod.resolve(profile, sets)
    cfgmod.save(cfg, run_dir / "config.yaml")
    return cfg


def actor_weights_file(cfg: cfgmod.RunConfig, path: Path, seed: int = 0) -> Path:
    """A policy file for the actor node (a fresh agent's actor, with the config's cameras when vision
    is on: latency/wiring tests only)."""
    from learner.agents import make_agent

    agent = make_agent(cfg.agent, len(contract.OBS_LABELS), len(contract.action_labels(cfg.cell.action_space)),
                       seed=seed, vision=cfg.vision)
    path.write_bytes(agent.export_actor())
    return path
