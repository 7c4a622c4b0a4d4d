"""`rlif bench loop`: tick -> command applied latency over the real ROS 2 graph.

Launches cell (twin, wall clock) + actor + mux as separate processes, at 10 Hz and at 100 Hz,
for a fixed number of steps each, and reads the cell's own measurement (monotonic time from
publishing an observation to applying the matching command) from its status heartbeat.
The actor runs a freshly initialised policy from a weights file: latency does not depend on
what the weights are. Targets (docs/architecture.md): p99 < 5 ms at 10 Hz; 100 Hz without missed deadlines;
with `--images`, a 128 px wrist frame per observation and an image actor, whose own inference
time (from its heartbeat) must stay p99 < 20 ms.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from contextlib import contextmanager

from robot_stack import config as cfgmod
from robot_stack import contract
from robot_stack.launcher import Launcher, NodeSpec
from robot_stack.monitor import GraphMonitor
from robot_stack.plan import set_observers

IMAGE_BENCH_PX = 128  # HIL-SERL's 128 x 128 crops: the size the inference target is set for
TARGET_INFER_P99_MS = 20.0  # image + state inference in the actor node, 2 CPU cores


def actor_weights(cfg, path: Path) -> Path:
    """A freshly initialised actor of the config's size (and cameras, when vision is on)."""
    from learner.agents import make_agent

    agent = make_agent(cfg.agent, len(contract.OBS_LABELS), len(contract.action_labels(cfg.cell.action_space)),
                       seed=0, vision=cfg.vision)
    path.write_bytes(agent.export_actor())
    return path


@contextmanager
def control_loop(sets: list[str], name: str, progress: bool, extra_nodes: tuple = (), listeners: int = 0):
    """Cell (twin, wall clock) + actor (fresh weights, deterministic) + mux + `extra_nodes` as
    separate processes, with the profile sim + `sets`; yields (config, monitor) once launched.
    `listeners`: participants of the caller that read every observation."""
    cfg = cfgmod.resolve("sim", sets)
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as d:
        run_dir = Path(d)
        cfgmod.save(cfg, run_dir / "config.yaml")
        weights = actor_weights(cfg, run_dir / "actor.safetensors")
        nodes = [NodeSpec("actor", {"weights": str(weights), "deterministic": True}), NodeSpec("mux"),
                 *extra_nodes, NodeSpec("cell")]
        set_observers(nodes, extra=listeners)
        monitor = GraphMonitor(f"{name.replace('-', '_')}_monitor")
        launcher = Launcher(run_dir, nodes, out=(lambda s: print(s, file=sys.stderr)) if progress else (lambda s: None))
        try:
            launcher.start(monitor)
            yield cfg, monitor
        finally:
            launcher.stop()
            monitor.close()


def measure(rate_hz: float, seconds: float, progress: bool, image_size: int = 0) -> dict:
    sets = [f"cell.control_hz={rate_hz}", f"graph.deadline_ms={min(50.0, 800.0 / rate_hz)}",
            "graph.accelerated=false", "cell.episode_steps=100000", "agent.hidden=[256, 256]",
            f"vision.image_size={image_size}"]
    with control_loop(sets, "rlif-bench-loop", progress) as (cfg, monitor):
        # the rate counts from the cell's first step (the clock waits for discovery), over the
        # cell's own step counter, read from heartbeats (+-1 heartbeat of 0.5 s over `seconds`)
        deadline = time.monotonic() + 30.0
        while monitor.snapshot()[0].get("cell", {}).get("steps", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        t0, steps0 = time.monotonic(), monitor.snapshot()[0].get("cell", {}).get("steps", 0)
        time.sleep(seconds)
        time.sleep(1.0 / cfg.graph.heartbeat_hz + 0.2)  # one more heartbeat with the latest figures
        status, _ = monitor.snapshot()
        elapsed = time.monotonic() - t0
    cell, actor = status.get("cell", {}), status.get("actor", {})
    steps = cell.get("steps", 0)
    out = {"rate_hz": rate_hz, "p50_ms": cell.get("latency_p50_ms"), "p99_ms": cell.get("latency_p99_ms"),
           "missed_deadlines": cell.get("missed_deadlines"), "steps": steps,
           "achieved_hz": round((steps - steps0) / elapsed, 1)}
    if image_size:
        out.update(image_size=image_size, actor_infer_p50_ms=actor.get("infer_p50_ms"),
                   actor_infer_p99_ms=actor.get("infer_p99_ms"))
    return out


def run(quick: bool = False, progress: bool = True, images: bool = False) -> dict:
    """State-only loop at 10 and 100 Hz; `images`: also at 10 Hz with a 128 px wrist frame in each
    observation and an image actor (target: actor inference p99 < 20 ms)."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    secs = 3.0 if quick else 20.0
    r10 = measure(10.0, secs, progress)
    r100 = measure(100.0, secs, progress)
    out = {"p50_ms": r10["p50_ms"], "p99_ms": r10["p99_ms"], "missed_deadlines": r10["missed_deadlines"],
           "rate_hz": r10["rate_hz"], "steps": r10["steps"], "at_100hz": r100}
    if images:
        out["with_images"] = measure(10.0, secs, progress, image_size=IMAGE_BENCH_PX)
        out["with_images"]["target_infer_p99_ms"] = TARGET_INFER_P99_MS
    return out
