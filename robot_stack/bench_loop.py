"""`rlif bench loop`: tick -> command applied latency over the real ROS 2 graph.

Launches cell (twin, wall clock) + actor + mux as separate processes, at 10 Hz and at 100 Hz,
for a fixed number of steps each, and reads the cell's own measurement (monotonic time from
publishing an observation to applying the matching command) from its status heartbeat.
The actor runs a freshly initialised policy from a weights file: latency does not depend on
what the weights are. Targets (docs/architecture.md): p99 < 5 ms at 10 Hz; 100 Hz without missed deadlines.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from robot_stack import config as cfgmod
from robot_stack import contract
from robot_stack.launcher import Launcher, NodeSpec
from robot_stack.monitor import GraphMonitor
from robot_stack.plan import set_observers


def _actor_weights(cfg, path: Path) -> Path:
    from learner.agents import make_agent

    agent = make_agent(cfg.agent, len(contract.OBS_LABELS), len(contract.action_labels(cfg.cell.action_space)),
                       seed=0)
    path.write_bytes(agent.export_actor())
    return path


def measure(rate_hz: float, seconds: float, progress: bool) -> dict:
    sets = [f"cell.control_hz={rate_hz}", f"graph.deadline_ms={min(50.0, 800.0 / rate_hz)}",
            "graph.accelerated=false", "cell.episode_steps=100000", "agent.hidden=[256, 256]"]
    cfg = cfgmod.resolve("sim", sets)
    with tempfile.TemporaryDirectory(prefix="rlif-bench-loop-") as d:
        run_dir = Path(d)
        cfgmod.save(cfg, run_dir / "config.yaml")
        weights = _actor_weights(cfg, run_dir / "actor.safetensors")
        nodes = [NodeSpec("actor", {"weights": str(weights), "deterministic": True}), NodeSpec("mux"),
                 NodeSpec("cell")]
        set_observers(nodes)
        monitor = GraphMonitor("rlif_bench_loop")
        launcher = Launcher(run_dir, nodes, out=(lambda s: print(s, file=sys.stderr)) if progress else (lambda s: None))
        try:
            launcher.start(monitor)
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
        finally:
            launcher.stop()
            monitor.close()
    cell = status.get("cell", {})
    steps = cell.get("steps", 0)
    return {"rate_hz": rate_hz, "p50_ms": cell.get("latency_p50_ms"), "p99_ms": cell.get("latency_p99_ms"),
            "missed_deadlines": cell.get("missed_deadlines"), "steps": steps,
            "achieved_hz": round((steps - steps0) / elapsed, 1)}


def run(quick: bool = False, progress: bool = True) -> dict:
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    secs = 3.0 if quick else 20.0
    r10 = measure(10.0, secs, progress)
    r100 = measure(100.0, secs, progress)
    return {"p50_ms": r10["p50_ms"], "p99_ms": r10["p99_ms"], "missed_deadlines": r10["missed_deadlines"],
            "rate_hz": r10["rate_hz"], "steps": r10["steps"], "at_100hz": r100}
