"""Evaluation of the experiment (learner.experiment): the final actor of a cell on held-out seeds,
and each expert alone on the same seeds.

Final evaluation of a cell's actor (seed ranges in `learner.seeds`, never used before):
- `held_out`: deterministic actor (tanh of the mean), no operator, default cell, HELD_OUT seeds;
- `held_out_sampled`: the same seeds, actions sampled from the policy (imitation baselines act
  with a std head their loss may never train: both modes are reported for every method);
- `shifted`: deterministic, a shifted cell (`SHIFT`: hole offset up to +-4 mm, clearance
  0.6 mm) on SHIFTED seeds: how far the behaviour carries;
- `deploy_human` / `deploy_value`: the deterministic actor runs with an operator on (the `human`
  model / the paper's `value` judge, each with the cell's expert), DEPLOY seeds: the
  deployment intervention rate (operator-driven steps of takeovers the policy caused / steps;
  the steps of takeovers with no reason, e.g. the human's whims, are counted apart as
  `random_rate`) and the success with help.
Each set keeps its per-episode outcomes (success 0/1; for deployments also operator-driven
steps and episode length) so the report can bootstrap confidence intervals over seeds and
episodes.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from learner import seeds
from learner.loop import run_episode

SHIFT = {"hole_offset_m": 0.004, "clearance_m": 0.0006}


def run_set(cell, policy, base: int, n: int, *, deterministic: bool = True, operator=None,
            demo_expert=None) -> dict[str, Any]:
    """n episodes (seeds base + k); per-episode outcomes and their rates."""
    succ, abort, steps, op, whim = [], [], [], [], []
    for k in range(n):
        before = operator.random_steps if operator is not None else 0
        r = run_episode(cell, policy, None, operator=operator, demo_expert=demo_expert, train=False,
                        deterministic=deterministic, seed=base + k)
        succ.append(int(r["success"]))
        abort.append(int(r["aborted"]))
        steps.append(int(r["steps"]))
        whim.append(operator.random_steps - before if operator is not None else 0)
        op.append(int(r["intervened_steps"]) - whim[-1])
    out = {"episodes": n, "success": float(np.mean(succ)) if n else float("nan"),
           "abort_rate": float(np.mean(abort)) if n else float("nan"),
           "mean_steps": float(np.mean(steps)) if n else float("nan"), "outcomes": succ}
    if operator is not None:  # takeovers with no reason (whims, p_good) are counted apart
        out.update(intervention_rate=sum(op) / max(sum(steps), 1), intervened=op, steps=steps,
                   random_rate=sum(whim) / max(sum(steps), 1), random_steps=whim,
                   takeovers=operator.takeovers, random_takeovers=operator.random_takeovers,
                   reasons=dict(operator.reasons))
    return out


def deploy_operator(cfgs, level: str, strategy: str, cell_cfg):
    """The operator a finished actor is deployed with: `strategy` + the cell's expert, fixed seed."""
    from learner.operators import make_operator

    return make_operator(replace(cfgs.operator, strategy=strategy, expert=level), cell_cfg, seed=seeds.DEPLOY)


def final_eval(make_cell: Callable[[Any], Any], policy, spec, cfgs, level: str) -> dict[str, dict]:
    """Every final set for one cell's actor; `make_cell(cell_cfg)` builds a (wrapped) cell."""
    out: dict[str, dict] = {}
    shifted_cfg = replace(cfgs.cell, **SHIFT)
    plan = [("held_out", cfgs.cell, seeds.HELD_OUT, spec.held_out_episodes, True, None),
            ("held_out_sampled", cfgs.cell, seeds.HELD_OUT, spec.sampled_episodes, False, None),
            ("shifted", shifted_cfg, seeds.SHIFTED, spec.shifted_episodes, True, None),
            ("deploy_human", cfgs.cell, seeds.DEPLOY, spec.deploy_episodes, True, "human"),
            ("deploy_value", cfgs.cell, seeds.DEPLOY, spec.deploy_episodes, True, "value")]
    for name, cell_cfg, base, n, det, strategy in plan:
        if n <= 0:
            continue
        cell = make_cell(cell_cfg)
        try:
            op = deploy_operator(cfgs, level, strategy, cell_cfg) if strategy else None
            out[name] = run_set(cell, policy, base, n, deterministic=det, operator=op)
        finally:
            cell.close()
    return out


def expert_eval(make_cell: Callable[[Any], Any], cfgs, level: str, spec) -> dict[str, Any]:
    """The expert of `level` driving alone: on the intermediate-eval, held-out and shifted seeds."""
    from learner.operators import make_expert

    out: dict[str, Any] = {"expert": level, "kind": cfgs.operator.expert_kind}
    shifted_cfg = replace(cfgs.cell, **SHIFT)
    for name, cell_cfg, base, n in (("eval", cfgs.cell, seeds.EVAL, spec.eval_episodes),
                                    ("held_out", cfgs.cell, seeds.HELD_OUT, spec.held_out_episodes),
                                    ("shifted", shifted_cfg, seeds.SHIFTED, spec.shifted_episodes)):
        if n <= 0:
            continue
        cell = make_cell(cell_cfg)
        try:
            ex = make_expert(replace(cfgs.operator, expert=level), cell_cfg, seed=base)
            out[name] = run_set(cell, None, base, n, demo_expert=ex)
        finally:
            cell.close()
    out["success"] = out["eval"]["success"] if "eval" in out else float("nan")
    return out
