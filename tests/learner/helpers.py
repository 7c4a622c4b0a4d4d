"""Small agents and random batches for the learner tests (no replay store needed)."""
from __future__ import annotations

import numpy as np

from learner.agents import make_agent
from learner.config import AgentConfig

OBS, ACT = 5, 2


def small_cfg(**kw) -> AgentConfig:
    base = dict(hidden=(32, 32), n_critics=4, batch_size=16, utd=2, device="cpu")
    base.update(kw)
    return AgentConfig(**base)


def small_agent(seed: int = 0, **kw):
    return make_agent(small_cfg(**kw), OBS, ACT, seed)


def random_batch(n: int, seed: int = 0, obs_dim: int = OBS, act_dim: int = ACT) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = np.float32
    a = rng.uniform(-1, 1, (n, act_dim)).astype(f)
    return {"obs": rng.standard_normal((n, obs_dim)).astype(f), "action": a,
            "next_obs": rng.standard_normal((n, obs_dim)).astype(f),
            "reward": -(rng.random(n) < 0.2).astype(f), "mask": (rng.random(n) > 0.05).astype(f),
            "expert_action": a.copy()}


def params_equal(a, b) -> bool:
    import torch

    for name, mod in a.modules().items():
        for (k, x), (_, y) in zip(mod.state_dict().items(), b.modules()[name].state_dict().items()):
            if not torch.equal(x, y):
                return False
    return all(torch.equal(x, b.extra_tensors()[k]) for k, x in a.extra_tensors().items())
