"""The in-process loop on the twin: store rows, operator takeovers, RLIF labels, updates, eval."""
import numpy as np
import pytest

from learner.agents import make_agent
from learner.loop import evaluate, run_episode, run_loop
from learner.policy import Policy
from learner.replay import ReplayStore, Source
from sim.cell import TwinCell
from sim.config import CellConfig, OperatorConfig
from sim.experts import ScriptedExpert
from sim.operators import SimulatedOperator
from tests.learner.helpers import small_cfg

pytestmark = pytest.mark.unit
CELL = CellConfig(episode_steps=25)


@pytest.fixture
def cell():
    c = TwinCell(CELL, seed=0)
    yield c
    c.close()


def _store(tmp_path, cell):
    return ReplayStore.create(tmp_path / "replay.zarr", cell.obs_labels, cell.action_labels)


def test_rlpd_loop_with_a_simulated_operator(tmp_path, cell):
    agent = make_agent(small_cfg(utd=1, warmup_rows=20), cell.obs_dim, cell.action_dim, seed=0)
    store = _store(tmp_path, cell)
    op = SimulatedOperator(OperatorConfig(strategy="random", p_random=0.3), CELL, seed=0)
    seen = []
    out = run_loop(cell, agent, store, episodes=3, rng=np.random.default_rng(0), operator=op,
                   operator_name="random", on_episode=lambda k, r: seen.append(r))
    assert out["episodes"] == 3 and len(seen) == 3
    assert store.n_rows == out["env_steps"] == out["rows"]
    assert out["updates"] > 0 and agent.n_updates == out["updates"]
    assert out["takeovers"] > 0 and 0 < out["intervention_rate"] < 1
    b = store.sample(256, np.random.default_rng(1), reward="rlif", subset="all")
    human = b["source"] == Source.HUMAN
    assert human.any() and (b["intervening"] == human).all()
    assert (b["reward"] <= 0).all() and (b["reward"] < 0).any()  # RLIF: -1 before takeovers
    pol_rows = ~human
    assert np.allclose(b["action"][pol_rows], b["policy_action"][pol_rows])


def test_dagger_labels_and_demos(tmp_path, cell):
    agent = make_agent(small_cfg(algo="dagger", utd=1, warmup_rows=20), cell.obs_dim, cell.action_dim, seed=0)
    store = _store(tmp_path, cell)
    expert = ScriptedExpert("high", seed=0, cell_cfg=CELL)
    out = run_loop(cell, agent, store, episodes=1, rng=np.random.default_rng(0), labeler=expert,
                   demo_episodes=1, demo_expert=ScriptedExpert("high", seed=1, cell_cfg=CELL))
    assert out["updates"] > 0
    b = store.sample(64, np.random.default_rng(0), subset="expert_labeled")
    assert np.isfinite(b["expert_action"]).all()
    ops = store.sample(64, np.random.default_rng(0), subset="operator")
    assert (ops["source"] == Source.HUMAN).all()  # the demo episode


def test_evaluate_an_exported_policy(cell):
    agent = make_agent(small_cfg(), cell.obs_dim, cell.action_dim, seed=0)
    pol = Policy.from_bytes(agent.export_actor(), obs_dim=cell.obs_dim, action_dim=cell.action_dim)
    res = evaluate(cell, pol, episodes=2)
    assert res["episodes"] == 2 and 0.0 <= res["success_rate"] <= 1.0 and res["mean_steps"] > 0
    r = run_episode(cell, agent, None, train=False, deterministic=True, seed=3)
    assert r["updates"] == 0 and r["interventions"] == 0
