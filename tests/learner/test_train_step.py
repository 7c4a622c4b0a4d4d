"""learner.train_step: the one training step of the in-process loop and the learner node. An
agent whose subset is still empty gets None (no update, nothing raised); with rows it updates."""
from __future__ import annotations

import numpy as np
import pytest

from learner.agents import make_agent
from learner.config import AgentConfig
from learner.replay import ReplayStore, Source
from learner.train_step import train_step
from tests.learner.test_replay import ACT, OBS, fill

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("algo", ["hg-dagger", "bc"])
def test_an_empty_subset_waits_then_the_operator_rows_train(tmp_path, algo):
    agent = make_agent(AgentConfig(algo=algo, hidden=[16, 16], batch_size=4, utd=1, threads=1), len(OBS), len(ACT),
                       seed=0)
    rng = np.random.default_rng(0)
    with ReplayStore.create(tmp_path / "r.zarr", OBS, ACT) as store:
        fill(store, "PPPP")  # policy steps only: nothing for an imitation agent
        assert train_step(agent, store, rng) is None
        assert agent.n_updates == 0
        fill(store, "PHHP", ep0=1)
        metrics = train_step(agent, store, rng)
        assert metrics is not None and np.isfinite(float(metrics["bc_loss"])) and agent.n_updates == 1
        assert (store.sample(8, rng, subset="operator")["source"] == Source.HUMAN).all()


def test_a_store_error_that_is_not_an_empty_subset_raises(tmp_path):
    agent = make_agent(AgentConfig(hidden=[16, 16], batch_size=4, utd=1, threads=1, n_critics=2), len(OBS),
                       len(ACT), seed=0)
    with ReplayStore.create(tmp_path / "r.zarr", OBS, ACT) as store:
        fill(store, "PPPP")
        asks_unknown_reward = type("A", (), {"sample_spec": dict(agent.sample_spec, reward="sparse"),
                                             "update": agent.update})()
        with pytest.raises(ValueError, match="allowed"):
            train_step(asks_unknown_reward, store, np.random.default_rng(0))
