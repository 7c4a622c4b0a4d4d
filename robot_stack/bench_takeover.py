"""`rlif bench takeover`: spacemouse takeover -> the operator's command, over the real ROS 2 graph.

Launches cell (twin, wall clock, 10 Hz) + actor + mux + teleop (the fake spacemouse playing its
demo: two takeovers every 3.5 s) as separate processes, and listens beside them with DDS source
timestamps (the writers' clocks, so the listener's own scheduling does not count). Per takeover,
from the teleop node sending `intervening = True`:
- `ticks`: control steps that began after the takeover was sent, up to and including the first
  one the operator drove (0: the step already in flight became the operator's; target <= 1);
- `ms`: until the mux sent its first operator command.
The device -> `intervening` part is bounded by the reader and poll periods (teleop.poll_hz,
teleop.publish_hz: 5 + 10 ms) and not included. Target (docs/architecture.md): <= 1 tick.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

from robot_stack import config as cfgmod
from robot_stack import contract
from robot_stack.bench_loop import control_loop
from robot_stack.launcher import NodeSpec
from sim.contract import Source

Key = tuple[int, int]


def takeover_spans(flags: list[tuple[float, bool]]) -> list[tuple[float, float | None]]:
    """(takeover, release) times in `flags` ((time s, intervening), any order): a True flag after a
    False one, then the next False (None while the takeover lasts)."""
    flags = sorted(flags)
    out: list[tuple[float, float | None]] = []
    for (_, before), (t, on) in zip(flags, flags[1:]):
        if on and not before:
            out.append((t, None))
        elif not on and before and out and out[-1][1] is None:
            out[-1] = (out[-1][0], t)
    return out


def takeover_latencies(flags: list[tuple[float, bool]], observed: list[tuple[float, Key]],
                       commands: list[tuple[float, Key, Source]]) -> list[dict]:
    """One {t, ticks, ms} per takeover in `flags` (source time s, intervening), given when each
    step's observation and command were sent; takeovers with no operator command yet are left out."""
    commands = sorted(commands, key=lambda c: c[0])
    obs_t = {k: t for t, k in observed}
    out = []
    for t_on, _ in takeover_spans(flags):
        human = next(((t, k) for t, k, s in commands if t > t_on and s == Source.HUMAN), None)
        if human is None or human[1] not in obs_t:
            continue
        t_cmd, key = human
        ticks = sum(1 for t in obs_t.values() if t_on < t <= obs_t[key])
        out.append({"t": t_on, "ticks": ticks, "ms": (t_cmd - t_on) * 1000.0})
    return out


class Listener:
    """Records (source timestamp, ...) of flags, observations and commands (its own participant)."""

    def __init__(self, action_labels: tuple[str, ...]):
        from robot_stack import topics as T
        from robot_stack.participant import Participant

        self.participant = Participant("rlif_bench_takeover")
        self.flags: list[tuple[float, bool]] = []
        self.observed: list[tuple[float, Key]] = []
        self.commands: list[tuple[float, Key, Source]] = []
        self.lock = threading.Lock()

        def stamp(info) -> float:
            return info["source_timestamp"] * 1e-9

        def on_flag(msg, info):
            with self.lock:
                self.flags.append((stamp(info), T.unpack_intervening(msg)))

        def on_obs(msg, info):
            o = T.unpack_observation(msg, contract.OBS_LABELS)
            with self.lock:
                self.observed.append((stamp(info), (o.episode, o.step)))

        def on_cmd(msg, info):
            c = T.unpack_command(msg, action_labels)
            with self.lock:
                self.commands.append((stamp(info), (c.episode, c.step), c.source))

        for spec, cb in ((T.TELEOP_INTERVENING, on_flag), (T.OBSERVATION, on_obs), (T.COMMAND, on_cmd)):
            self.participant.node.create_subscription(spec.msg_type, spec.name, cb, spec.qos)
        self.participant.start()

    def close(self):
        self.participant.close()


def measure(rate_hz: float, seconds: float, progress: bool) -> dict:
    sets = [f"cell.control_hz={rate_hz}", "graph.accelerated=false", "cell.episode_steps=100000",
            "agent.hidden=[256, 256]", "teleop.device=fake"]
    labels = contract.action_labels(cfgmod.resolve("sim", sets).cell.action_space)
    listener = Listener(labels)
    try:
        with control_loop(sets, "rlif-bench-takeover", progress, extra_nodes=(NodeSpec("teleop", {"device": "fake"}),),
                          listeners=1) as (_, monitor):  # the listener sees every observation
            deadline = time.monotonic() + 30.0
            while not listener.observed and time.monotonic() < deadline:
                time.sleep(0.05)
            t_start = time.time()  # takeovers from the cell's first step on
            time.sleep(seconds)
            status, _ = monitor.snapshot()
    finally:
        listener.close()
    with listener.lock:
        flags = [(t, f) for t, f in listener.flags if t >= t_start - 1.0]
        takeovers = [x for x in takeover_latencies(flags, listener.observed, listener.commands) if x["t"] >= t_start]
    ticks = np.array([x["ticks"] for x in takeovers], dtype=float)
    ms = np.array([x["ms"] for x in takeovers], dtype=float)
    cell = status.get("cell", {})
    return {"rate_hz": rate_hz, "takeovers": len(takeovers),
            "ticks_max": int(ticks.max()) if len(ticks) else None,
            "ticks_mean": round(float(ticks.mean()), 2) if len(ticks) else None,
            "ms_p50": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
            "ms_max": round(float(ms.max()), 1) if len(ms) else None,
            "steps": cell.get("steps"), "missed_deadlines": cell.get("missed_deadlines")}


def run(quick: bool = False, progress: bool = True) -> dict:
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    return measure(10.0, 8.0 if quick else 60.0, progress)
