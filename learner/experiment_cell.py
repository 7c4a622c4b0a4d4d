"""One cell of `rlif experiment` (one method x expert level x run seed), from scratch.

1. `demo_episodes` demonstrations by the cell's expert (identical for every method: same expert
   seed, same episode seeds); not counted in the env-step budget.
2. Online episodes until `steps` env steps, one `agent.update()` per env step once the store
   holds `agent.warmup_rows` rows (`learner.loop.run_episode`). Who collects:
   - rlif: the policy drives, the training operator (`operator.strategy`, the presets' `human`)
     takes over; RLPD on the RLIF reward;
   - rlif-random: the same, but the operator takes over at random, at the takeover rate and for
     the mean takeover length the training operator had in the same seed's rlif cell
     (`p_random`, `steps`, set by the caller): the control for "is it the intervention signal,
     or termination and time cost?";
   - hg-dagger(+offset): BC on operator-driven rows, the same training operator intervening;
   - dagger(+offset): the policy always drives; the expert labels every visited state;
   - bc: the expert drives whole episodes (demo=True) for the whole budget.
   `+offset` cells observe the true hole offset as two extra features (`learner.cells`).
3. Evaluation points at env step 0 and every `eval_every` steps: deterministic actor, no
   operator, `eval_episodes` fixed episodes (`seeds.EVAL`), plus the deployment intervention
   rate of the same actor with the `human` operator on the same episodes.
4. The final actor's evaluation on held-out seeds (`learner.experiment_eval.final_eval`).
"""
from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from learner import seeds
from learner.agents import make_agent
from learner.cells import OFFSET_SCALE, OffsetObserved
from learner.errors import TrainingDiverged
from learner.experiment_eval import deploy_operator, final_eval, run_set
from learner.loop import run_episode
from learner.replay import ReplayStore

ALGO = {"rlif": "rlpd", "rlif-random": "rlpd", "hg-dagger": "hg-dagger", "dagger": "dagger", "bc": "bc",
        "hg-dagger+offset": "hg-dagger", "dagger+offset": "dagger"}


def cell_factory(method: str, vision=None) -> Callable[[Any], Any]:
    """cell_cfg -> a twin cell (rendering `vision`'s cameras when given), wrapped for the `+offset`
    controls."""
    def make(cell_cfg):
        from sim.cell import TwinCell
        from sim.config import VisionConfig

        cell = TwinCell(cell_cfg, seed=0, vision=vision or VisionConfig())
        return OffsetObserved(cell) if method.endswith("+offset") else cell
    return make


def observation_name(cfgs) -> str:
    """What the learners see, as the report names it: `state` or `state + wrist 64 px`."""
    if not cfgs.sees_images:
        return "state"
    return f"state + {' + '.join(cfgs.vision.cameras)} {cfgs.vision.image_size} px"


def _write_actor(path: Path, blob: bytes) -> None:
    from learner.experiment import write_atomic

    write_atomic(path, blob)


def run_cell(spec, cfgs, method: str, expert: str, seed: int, store_dir: Path,
             progress: Callable[[int], None] | None = None, actor_file: Path | None = None) -> dict[str, Any]:
    """Run one cell from scratch; returns its result dict and writes the final actor."""
    from learner.operators import make_expert, make_operator
    from sim.contract import OBS_SCALE

    t0 = time.perf_counter()
    vision = cfgs.vision if cfgs.sees_images else None  # the learners' cameras (None: state only)
    make_cell = cell_factory(method, vision)
    agent_cfg = replace(cfgs.agent, algo=ALGO[method], seed=cfgs.agent.seed + seed)
    if method.endswith("+offset"):
        agent_cfg = replace(agent_cfg, obs_scale=tuple(OBS_SCALE) + OFFSET_SCALE)
    if store_dir.exists():
        shutil.rmtree(store_dir)  # an unfinished earlier attempt
    store_dir.mkdir(parents=True)
    cell = make_cell(cfgs.cell)
    eval_cell = make_cell(cfgs.cell)
    store = ReplayStore.create(store_dir / "replay.zarr", cell.obs_labels, cell.action_labels, config=cfgs.replay,
                               images=vision.frame_shapes() if vision else None,  # the learner samples them
                               experiment=f"{method}-{expert}-s{seed}")
    try:
        agent = make_agent(agent_cfg, cell.obs_dim, cell.action_dim, seed=agent_cfg.seed, replay=cfgs.replay,
                           vision=vision)
        op_cfg = replace(cfgs.operator, expert=expert)
        ss = np.random.SeedSequence([7, seed]).spawn(2)
        demo = make_expert(op_cfg, cfgs.cell, seed=int(ss[0].generate_state(1)[0]))
        labeler = make_expert(op_cfg, cfgs.cell, seed=int(ss[1].generate_state(1)[0]))
        operator = make_operator(op_cfg, cfgs.cell, seed=seed)
        rng = np.random.default_rng([11, seed])
        base = seeds.train_base(seed)
        is_dagger = ALGO[method] == "dagger"
        demo_steps = 0
        for k in range(spec.demo_episodes):
            demo_steps += run_episode(cell, agent, store, demo_expert=demo, labeler=labeler if is_dagger else None,
                                      rng=rng, train=False, seed=base + k, operator_name="demo")["steps"]
        kw: dict[str, Any] = {"operator": operator, "operator_name": f"{op_cfg.strategy}-{expert}"}
        if is_dagger:
            kw = {"labeler": labeler, "operator_name": "expert-labels"}
        elif method == "bc":
            kw = {"demo_expert": demo, "operator_name": "demo"}

        points: list[dict] = []
        win = {"steps": 0, "op": 0, "eps": 0, "succ": 0, "takeovers": 0}
        tot = {"steps": 0, "op": 0, "updates": 0, "episodes": 0, "takeovers": 0, "policy_steps": 0}
        diverged = ""

        def eval_point() -> None:
            ev = run_set(eval_cell, agent, seeds.EVAL, spec.eval_episodes)
            dep = run_set(eval_cell, agent, seeds.EVAL, spec.eval_episodes,
                          operator=deploy_operator(cfgs, expert, "human", cfgs.cell)) if spec.point_deploy else {}
            points.append({"env_steps": tot["steps"], "success": ev["success"], "abort_rate": ev["abort_rate"],
                           "eval_mean_steps": ev["mean_steps"],
                           "deploy_intervention_rate": dep.get("intervention_rate", float("nan")),
                           "intervention_rate": win["op"] / win["steps"] if win["steps"] else float("nan"),
                           "takeovers_per_episode": win["takeovers"] / win["eps"] if win["eps"] else float("nan"),
                           "train_success": win["succ"] / win["eps"] if win["eps"] else float("nan"),
                           "episodes": tot["episodes"], "updates": tot["updates"],
                           "wall_s": round(time.perf_counter() - t0, 2)})
            win.update(steps=0, op=0, eps=0, succ=0, takeovers=0)

        eval_point()
        next_eval, k = spec.eval_every, spec.demo_episodes
        while tot["steps"] < spec.steps:
            try:
                r = run_episode(cell, agent, store, rng=rng, train=not diverged, seed=base + k, **kw)
            except TrainingDiverged as e:  # keep the run going; the agent stays as it was
                diverged = str(e)
                store.discard_episode()
                continue
            k += 1
            op = r["steps"] if method == "bc" else r["intervened_steps"]
            for d in (win, tot):
                d["steps"] += r["steps"]
                d["op"] += op
                d["takeovers"] += r["interventions"]
            tot["policy_steps"] += r["steps"] - op
            win["eps"] += 1
            win["succ"] += int(r["success"])
            tot["episodes"] += 1
            tot["updates"] += r["updates"]
            if progress is not None:
                progress(r["steps"])
            if tot["steps"] >= next_eval or tot["steps"] >= spec.steps:
                eval_point()
                while next_eval <= tot["steps"]:
                    next_eval += spec.eval_every
        actor = agent.export_actor()  # the actor the last eval point measured
        if actor_file is not None:
            _write_actor(actor_file, actor)
        final = final_eval(make_cell, agent, spec, cfgs, expert)
        windows = [p["intervention_rate"] for p in points[1:]]
        return {"method": method, "expert": expert, "seed": seed, "algo": agent_cfg.algo,
                "observation": observation_name(cfgs),
                "success": points[-1]["success"], "abort_rate": points[-1]["abort_rate"],
                "intervention_rate": tot["op"] / max(tot["steps"], 1),
                "intervention_rate_first": windows[0] if windows else float("nan"),
                "intervention_rate_last": windows[-1] if windows else float("nan"),
                "takeover_start_rate": (operator.takeovers / max(tot["policy_steps"] + operator.takeovers, 1)
                                        if "operator" in kw else None),
                "operator_reasons": dict(getattr(operator, "reasons", {})),
                "random_takeovers": int(getattr(operator, "random_takeovers", 0)),
                "p_random": cfgs.operator.p_random if cfgs.operator.strategy == "random" else None,
                "takeovers": tot["takeovers"], "env_steps": tot["steps"], "demo_steps": demo_steps,
                "episodes": tot["episodes"], "updates": tot["updates"], "diverged": diverged,
                "wall_s": round(time.perf_counter() - t0, 2), "actor_sha256": hashlib.sha256(actor).hexdigest(),
                "points": points, "final": final}
    finally:
        store.close()
        cell.close()
        eval_cell.close()
