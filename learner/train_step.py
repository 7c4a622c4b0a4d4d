"""The training step, once: the in-process loop (`learner.loop`) and the learner node both call it.

`train_step(agent, store, rng)` samples a batch of the agent's subset (`agent.sample_spec`) from
the replay store and runs `agent.update(batch)` (= `agent.cfg.utd` critic steps for SAC); it
returns the update's metrics, or None while the subset is still empty (`errors.EmptySubset`:
HG-DAgger before the first takeover), which callers treat as "wait for data", never as a failure.
A diverged or broken update raises (`errors.TrainingDiverged`, ...): the caller stops training.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from learner.errors import EmptySubset


def train_step(agent, store, rng: np.random.Generator) -> dict[str, Any] | None:
    try:
        batch = store.sample(rng=rng, **agent.sample_spec)
    except EmptySubset:
        return None
    return agent.update(batch)
