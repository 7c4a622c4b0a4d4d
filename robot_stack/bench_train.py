"""`rlif bench train`: the same learning in process and over the ROS 2 graph, side by side.

One run, one config (the `sim` profile plus `--set`): the same agent, UTD ratio, operator and
cell on both sides.
- in process: `learner.loop.run_episode` (what `rlif experiment` runs): act, operator, apply,
  one `agent.update()` per env step once the store holds `agent.warmup_rows` rows;
- graph: `rlif train`'s graph (the plan of the profile: with `graph.compose`, one process for the
  control loop and one for the learner), accelerated, the learner pacing the cell by the UTD gate.
Each side is timed over a window of `seconds` of training after its warm-up: in process from the
first episode that starts with the warm-up rows in the store; on the graph from the first cell
heartbeat past the warm-up and the one episode the cell may run ahead of the learner (steady
state). Rates come from the nodes' own counters and clocks (cell steps over its uptime, learner
updates). Where the graph's time goes: the cell's split (physics, waiting for commands, held by
the UTD gate), the learner's (training, waiting for rows), CPU seconds per env step of each
process. The machine is shared: the load average is reported at the start and end of each side.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from robot_stack import config as cfgmod
from robot_stack import contract

PROFILE = "sim"


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def in_process(cfg: cfgmod.RunConfig, seconds: float, run_dir: Path, say) -> dict:
    """`learner.loop.run_episode` with the graph's objects and seeds, timed after the warm-up."""
    from learner.agents import make_agent
    from learner.seeds import episode_seed
    from learner.loop import run_episode
    from learner.operators import make_operator
    from learner.replay import ReplayStore
    from learner.seeds import stream_seed
    from sim.cell import TwinCell

    labels = contract.action_labels(cfg.cell.action_space)
    seed = cfg.train.seed
    cell = TwinCell(cfg.cell, seed=seed)
    agent = make_agent(cfg.agent, len(contract.OBS_LABELS), len(labels), seed=seed + cfg.agent.seed)
    operator = make_operator(cfg.operator, cfg.cell, seed=seed + cfg.operator.seed)
    rng = np.random.default_rng(stream_seed(seed, "sampler"))
    load0 = _load()
    store = ReplayStore.create(run_dir / "replay.zarr", contract.OBS_LABELS, labels, config=cfg.replay)
    steps = updates = episodes = 0
    t0 = None
    cpu0 = time.process_time()
    with store:
        k = 0
        while True:
            if t0 is None and store.n_rows >= cfg.agent.warmup_rows:
                t0, cpu0 = time.perf_counter(), time.process_time()
                say(f"in process: warm-up done ({store.n_rows} rows); timing {seconds:.0f} s")
            r = run_episode(cell, agent, store, operator=operator, rng=rng, seed=episode_seed(seed, k),
                            operator_name="sim")
            k += 1
            if t0 is not None:
                steps, updates, episodes = steps + r["steps"], updates + r["updates"], episodes + 1
                if time.perf_counter() - t0 >= seconds:
                    break
    wall = time.perf_counter() - t0
    return {"env_steps_per_s": round(steps / wall, 2), "updates_per_s": round(updates / wall, 2),
            "steps": steps, "episodes": episodes, "wall_s": round(wall, 1),
            "cpu_s_per_step": round((time.process_time() - cpu0) / max(steps, 1), 4),
            "load_avg_1m": [load0, _load()]}


def graph(cfg: cfgmod.RunConfig, seconds: float, run_dir: Path, say, timeout_s: float) -> dict:
    """`rlif train`'s graph on the same config, timed over the cell's and learner's counters."""
    from robot_stack.session import GraphSession

    prof = cfgmod.load_profile(PROFILE)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfgmod.save(cfg, run_dir / "config.yaml")
    faults: list[str] = []

    def on_event(e):
        if e.kind == "fault":
            faults.append(f"{e.source}: {e.data.get('what')}")

    load0 = _load()
    past_slack = cfg.agent.warmup_rows + cfg.cell.episode_steps
    quiet = (lambda s: None) if not os.environ.get("RLIF_BENCH_VERBOSE") else (lambda s: print(s, file=sys.stderr))
    with GraphSession(prof, cfg, run_dir, "sim", resume=False, out=quiet, on_event=on_event) as g:
        say(f"graph: processes {', '.join(p.name + '(' + '+'.join(p.node_names()) + ')' for p in g.launcher.processes)}")
        deadline = time.monotonic() + timeout_s

        def heartbeat(cond):
            """The first cell heartbeat (newer than the last one seen) for which cond(cell, learner)."""
            last = None
            while time.monotonic() < deadline:
                dead = g.launcher.poll()
                if dead:
                    raise RuntimeError(f"graph: node {dead} died (see {run_dir}/logs)")
                status = g.monitor.snapshot()[0]
                cell, learner = status.get("cell", {}), status.get("learner", {})
                if cell.get("uptime_s") != last and cell and cond(cell, learner):
                    return dict(cell), dict(learner)
                last = cell.get("uptime_s")
                time.sleep(0.02)
            raise RuntimeError(f"graph: no progress within {timeout_s:.0f} s (see {run_dir}/logs)")

        c0, l0 = heartbeat(lambda c, l: c.get("steps", 0) >= past_slack and l.get("updates", 0) > 0)
        cpu0 = {p.spec.name: _cpu_s(p.pid) for p in g.launcher.procs.values()}
        say(f"graph: warm-up done ({c0['steps']} steps, {l0['updates']} updates); timing {seconds:.0f} s")
        t_end = time.monotonic() + seconds
        c1, l1 = heartbeat(lambda c, l: time.monotonic() >= t_end)
        cpu1 = {p.spec.name: _cpu_s(p.pid) for p in g.launcher.procs.values()}
    wall = c1["uptime_s"] - c0["uptime_s"]
    steps = c1["steps"] - c0["steps"]
    updates = l1.get("updates", 0) - l0.get("updates", 0)

    def share(d1, d0, keys):
        return {k: round((d1.get(k, 0.0) - d0.get(k, 0.0)) / wall, 3) for k in keys}

    return {"env_steps_per_s": round(steps / wall, 2), "updates_per_s": round(updates / wall, 2),
            "steps": steps, "wall_s": round(wall, 1),
            "cell_time_share": share(c1, c0, ("apply_s", "await_s", "gate_wait_s")),
            "learner_time_share": share(l1, l0, ("train_s", "wait_s")),
            "cpu_s_per_step": {n: round((cpu1[n] - cpu0[n]) / max(steps, 1), 4) for n in cpu1},
            "missed_deadlines": c1.get("missed_deadlines", 0) - c0.get("missed_deadlines", 0),
            "faults": faults, "processes": len(cpu1), "load_avg_1m": [load0, _load()]}


def run(quick: bool = False, progress: bool = True, sets: list[str] | None = None) -> dict:
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    cfg = cfgmod.resolve(PROFILE, list(sets or []))
    seconds = 20.0 if quick else 120.0

    def say(s: str) -> None:
        if progress:
            print(f"[bench train] {s}", file=sys.stderr, flush=True)

    a = cfg.agent
    say(f"agent {a.algo} {a.n_critics}x{list(a.hidden)} utd {a.utd} batch {a.batch_size} warm-up {a.warmup_rows}; "
        f"operator {cfg.operator.strategy}/{cfg.operator.expert}; {seconds:.0f} s of training per side")
    with tempfile.TemporaryDirectory(prefix="rlif-bench-train-") as d:
        ip = in_process(cfg, seconds, Path(d) / "inprocess", say)
        say(f"in process: {ip['env_steps_per_s']} env steps/s")
        gr = graph(cfg, seconds, Path(d) / "graph", say, timeout_s=600.0 + 20 * seconds)
        say(f"graph: {gr['env_steps_per_s']} env steps/s")
    return {"inprocess_env_steps_per_s": ip["env_steps_per_s"], "graph_env_steps_per_s": gr["env_steps_per_s"],
            "ratio": round(gr["env_steps_per_s"] / ip["env_steps_per_s"], 3) if ip["env_steps_per_s"] else None,
            "inprocess_updates_per_s": ip["updates_per_s"], "graph_updates_per_s": gr["updates_per_s"],
            "seconds_per_side": seconds, "compose": cfg.graph.compose,
            "agent": {"algo": a.algo, "hidden": list(a.hidden), "n_critics": a.n_critics, "utd": a.utd,
                      "batch_size": a.batch_size, "warmup_rows": a.warmup_rows, "threads": a.threads},
            "operator": {"strategy": cfg.operator.strategy, "expert": cfg.operator.expert},
            "inprocess": ip, "graph": gr}
