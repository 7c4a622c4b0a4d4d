"""Build a simulated operator from its config: the expert that drives and, for the `value`
strategy, the reference judge (`sim.operators.SimulatedOperator` takes both injected).

- expert_kind observed / privileged: `sim.experts.ScriptedExpert` at `operator.expert`;
- expert_kind reference: the reference file's actor snapshot for that level (`PolicyExpert`),
  acting deterministically (a systematic, memoryless, realizable expert);
- strategy value: `value_judge`: clearly worse when
  Q_ref(s, a_policy) < Q_ref(s, a_ref) - delta * |Q_ref(s, a_ref)|, Q_ref the mean over the
  reference's critic ensemble, a_ref its deterministic action, a_policy the action the policy
  is about to execute (sampled while training), as the RLIF reference code judges it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

from learner import reference as refmod
from learner.policy import Policy


class PolicyExpert:
    """A frozen actor used as an expert: act = label = plan = its deterministic action."""

    def __init__(self, policy: Policy, name: str = "reference"):
        self.policy, self.name = policy, name

    def reset(self) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict | None = None) -> np.ndarray:
        return self.policy.act(np.asarray(obs, np.float32)[: self.policy.obs_dim], deterministic=True)

    label = act
    plan = act


@lru_cache(maxsize=4)
def load_reference(path: str, obs_dim: int = 18, action_dim: int = 6) -> refmod.Reference:
    """The reference file (cached per process: a judge per operator would reload it)."""
    return refmod.load(path or None, obs_dim, action_dim)


def value_judge(ref: refmod.Reference, delta: float) -> Callable[[np.ndarray, np.ndarray], bool]:
    def judge(obs: np.ndarray, action: np.ndarray) -> bool:
        o = np.asarray(obs, np.float32)[: ref.obs_dim]
        q_pol, q_ref = ref.q(o, np.stack([np.asarray(action, np.float32), ref.action(o)]))
        return bool(q_pol < q_ref - delta * abs(q_ref))
    return judge


def make_expert(cfg, cell_cfg, seed: int):
    """The expert of `cfg` (an OperatorConfig) for a cell: scripted or a reference snapshot."""
    from sim.experts import ScriptedExpert
    from sim.operators import expert_level

    if cfg.expert_kind == "reference":
        ref = load_reference(cfg.reference, 18, _action_dim(cell_cfg))
        return PolicyExpert(ref.level(str(cfg.expert)), f"reference-{cfg.expert}")
    return ScriptedExpert(expert_level(cfg.expert, cfg.expert_kind), seed=seed, cell_cfg=cell_cfg,
                          information=cfg.expert_kind)


def make_operator(cfg, cell_cfg, seed: int = 0):
    """A `SimulatedOperator` with its expert and (strategy value) its judge."""
    from sim.operators import SimulatedOperator

    cfg.validate()
    ex_seed = int(np.random.SeedSequence([cfg.seed, seed, 1]).generate_state(1)[0])
    judge = None
    if cfg.strategy == "value":
        judge = value_judge(load_reference(cfg.reference, 18, _action_dim(cell_cfg)), cfg.delta)
    return SimulatedOperator(cfg, cell_cfg, seed=seed, expert=make_expert(cfg, cell_cfg, ex_seed), judge=judge)


def _action_dim(cell_cfg) -> int:
    from sim.contract import ACTION_INDEX

    return len(ACTION_INDEX[cell_cfg.action_space])
