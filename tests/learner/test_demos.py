"""learner/demos.py: the demonstrations a twin run starts with, in a real store on the real twin."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from learner.demos import seed_demos
from learner.replay import ReplayStore
from learner.replay_verify import verify
from sim.cell import TwinCell
from sim.config import CellConfig, OperatorConfig
from learner.seeds import episode_seed

CELL = replace(CellConfig(), episode_steps=40)
OPERATOR = OperatorConfig(strategy="human", expert_kind="reference", expert="high")


def test_the_experts_episodes_are_stored_as_demonstrations_on_the_cells_seeds(tmp_path):
    path = tmp_path / "replay.zarr"
    d = seed_demos(path, CELL, OPERATOR, train_seed=3, n=3)
    assert d["episodes"] == 3 and d["expert"] == "reference-high" and 3 <= d["steps"] <= 3 * 40
    with ReplayStore.open(path, readonly=True) as s:
        assert s.n_episodes == 3 and s.n_rows == d["steps"]
        e = s.episodes
        assert e["demo"].all() and int(e["success"].sum()) == d["successes"]
        assert (s.column("source") == 1).all() and s.column("intervening").all()  # the operator drove every step
        first_obs = s.column("obs")[e["start"]]
    assert verify(path) == []
    for k in range(3):  # episode k starts where the graph's cell would start episode k of this run
        cell = TwinCell(CELL, seed=3)
        try:
            obs, _ = cell.reset(seed=episode_seed(3, k))
        finally:
            cell.close()
        np.testing.assert_allclose(first_obs[k], obs, atol=1e-6)


def test_only_a_new_store_is_seeded_and_n_must_be_positive(tmp_path):
    path = tmp_path / "replay.zarr"
    seed_demos(path, CELL, OPERATOR, train_seed=0, n=1)
    with pytest.raises(FileExistsError, match="new store only"):
        seed_demos(path, CELL, OPERATOR, train_seed=0, n=1)
    with ReplayStore.open(path, readonly=True) as s:
        assert s.n_episodes == 1  # nothing lost
    with pytest.raises(ValueError, match="n=0"):
        seed_demos(tmp_path / "other.zarr", CELL, OPERATOR, train_seed=0, n=0)
    assert not (tmp_path / "other.zarr").exists()
