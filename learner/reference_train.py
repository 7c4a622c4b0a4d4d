"""`rlif reference train`: train the reference agent once and derive the expert levels from it.

1. `demo_episodes` demonstrations by the privileged scripted expert (prior data only: the
   reference is a tool of the simulation protocol, like the paper's separately trained RLPD
   agent; it observes exactly what the learner observes);
2. RLPD (SAC) with the TASK reward (+1 on success; aborts end the episode with 0) for `steps`
   env steps, one update per env step, no operator;
3. every `snapshot_every` env steps the actor is saved and its deterministic success measured on
   `coarse_episodes` calibration seeds (`learner.seeds.CALIBRATION`);
4. for each level (low/mid/high, `learner.reference.LEVEL_TARGETS`), the snapshots whose coarse
   success is nearest the target are re-measured on `fine_episodes` calibration seeds and the
   nearest is kept; the final actor is measured the same way;
5. the reference file (final actor + critics + level actors + metadata) is written atomically.
Everything is seeded: the same arguments give the same file.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from learner import reference as refmod
from learner import safeio, seeds
from learner.agents import make_agent
from learner.config import AgentConfig, ReplayConfig
from learner.loop import evaluate, run_episode
from learner.policy import Policy
from learner.replay import ReplayStore


@dataclasses.dataclass(frozen=True)
class ReferenceSpec:
    steps: int = 40_000           # online env steps
    demo_episodes: int = 20       # privileged-expert demonstrations (prior data)
    snapshot_every: int = 500     # env steps between actor snapshots
    coarse_episodes: int = 20     # calibration episodes per snapshot
    fine_episodes: int = 100      # calibration episodes for the level candidates and the final actor
    candidates: int = 3           # snapshots re-measured per level
    seed: int = 0

    def validate(self) -> "ReferenceSpec":
        if min(self.steps, self.snapshot_every, self.coarse_episodes, self.fine_episodes, self.candidates) < 1:
            raise ValueError("reference: steps, snapshot_every, coarse/fine episodes and candidates must be >= 1")
        if self.demo_episodes < 0:
            raise ValueError("reference: demo_episodes must be >= 0")
        return self


def _success(cell, actor: bytes, episodes: int) -> dict[str, float]:
    ev = evaluate(cell, Policy.from_bytes(actor), episodes, seed=seeds.CALIBRATION)
    return {"success": ev["success_rate"], "abort_rate": ev["abort_rate"], "mean_steps": ev["mean_steps"],
            "episodes": episodes}


def pick_levels(snaps: list[dict], measure: Callable[[bytes], dict], candidates: int) -> dict[str, dict]:
    """For each level, re-measure the `candidates` snapshots nearest its target; keep the nearest."""
    out = {}
    fine: dict[int, dict] = {}
    for name, target in refmod.LEVEL_TARGETS.items():
        near = sorted(snaps, key=lambda s: (abs(s["coarse"]["success"] - target), s["step"]))[:candidates]
        for s in near:
            if s["step"] not in fine:
                fine[s["step"]] = measure(s["actor"])
        best = min(near, key=lambda s: (abs(fine[s["step"]]["success"] - target), s["step"]))
        out[name] = {"step": best["step"], "target": target, **fine[best["step"]], "actor": best["actor"]}
    return out


def train_reference(spec: ReferenceSpec, cell_cfg, agent_cfg: AgentConfig, replay_cfg: ReplayConfig,
                    work_dir: Path, out: Path, command: str = "",
                    progress: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    """Train, snapshot, pick levels, write `out`; returns the metadata written."""
    from sim.cell import TwinCell
    from sim.experts import ScriptedExpert

    spec.validate()
    t0 = time.perf_counter()
    agent_cfg = dataclasses.replace(agent_cfg, algo="rlpd", reward="task", seed=agent_cfg.seed + spec.seed)
    work_dir = Path(work_dir)
    if (work_dir / "replay.zarr").exists():
        shutil.rmtree(work_dir / "replay.zarr")
    (work_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    cell = TwinCell(cell_cfg, seed=spec.seed)
    eval_cell = TwinCell(cell_cfg, seed=spec.seed)
    store = ReplayStore.create(work_dir / "replay.zarr", cell.obs_labels, cell.action_labels, config=replay_cfg,
                               experiment="reference")
    try:
        agent = make_agent(agent_cfg, cell.obs_dim, cell.action_dim, seed=agent_cfg.seed, replay=replay_cfg)
        demo = ScriptedExpert("high", seed=spec.seed, cell_cfg=cell_cfg, information="privileged")
        rng = np.random.default_rng([13, spec.seed])
        k = 0
        for _ in range(spec.demo_episodes):
            run_episode(cell, agent, store, demo_expert=demo, rng=rng, train=False,
                        seed=seeds.REFERENCE_TRAIN + k, operator_name="demo")
            k += 1
        snaps: list[dict] = []
        steps, next_snap = 0, spec.snapshot_every
        while steps < spec.steps:
            r = run_episode(cell, agent, store, rng=rng, train=True, seed=seeds.REFERENCE_TRAIN + k,
                            operator_name="none")
            k += 1
            steps += r["steps"]
            if steps >= next_snap or steps >= spec.steps:
                actor = agent.export_actor()
                coarse = _success(eval_cell, actor, spec.coarse_episodes)
                snaps.append({"step": steps, "actor": actor, "coarse": coarse})
                safeio.atomic_write(work_dir / "snapshots" / f"actor-{steps:06d}.safetensors", actor)
                if progress is not None:
                    progress("snapshot", {"env_steps": steps, **coarse, "wall_s": round(time.perf_counter() - t0)})
                while next_snap <= steps:
                    next_snap += spec.snapshot_every
        final_actor = snaps[-1]["actor"]
        final = _success(eval_cell, final_actor, spec.fine_episodes)
        levels = pick_levels(snaps, lambda a: _success(eval_cell, a, spec.fine_episodes), spec.candidates)
        meta = {"reward": "task", "gamma": agent_cfg.gamma, "n_critics": agent_cfg.n_critics,
                "layer_norm": agent_cfg.layer_norm, "train_env_steps": steps, "demo_episodes": spec.demo_episodes,
                "final_success": final,
                "levels": {n: {k2: v for k2, v in lv.items() if k2 != "actor"} for n, lv in levels.items()},
                "snapshots": [{"step": s["step"], **s["coarse"]} for s in snaps],
                "cell": dataclasses.asdict(cell_cfg), "agent": dataclasses.asdict(agent_cfg),
                "spec": dataclasses.asdict(spec), "command": command,
                "wall_s": round(time.perf_counter() - t0, 1)}
        blob = refmod.encode(final_actor, agent.critic.state_dict(), {n: lv["actor"] for n, lv in levels.items()},
                             json.loads(json.dumps(meta, default=list)))
        safeio.atomic_write(Path(out), blob)
        return meta
    finally:
        store.close()
        cell.close()
        eval_cell.close()
