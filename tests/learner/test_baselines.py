"""BC, HG-DAgger and DAgger: same interface, different data (sample_spec) and targets."""
import numpy as np
import pytest

from learner.agents import make_agent
from tests.learner.helpers import small_cfg

pytestmark = pytest.mark.unit
OBS, ACT = 4, 2
M = np.array([[0.5, -0.3, 0.2, 0.0], [0.1, 0.4, -0.2, 0.3]], dtype=np.float32)  # linear expert


def expert(obs):
    return np.clip(obs @ M.T, -0.95, 0.95).astype(np.float32)


def batch(n, rng, garbage_executed=False):
    obs = rng.standard_normal((n, OBS)).astype(np.float32)
    good = expert(obs)
    executed = rng.uniform(-1, 1, good.shape).astype(np.float32) if garbage_executed else good
    return {"obs": obs, "action": executed, "expert_action": good}


@pytest.mark.parametrize("algo,loss", [("bc", "mse"), ("hg-dagger", "mse"), ("bc", "nll"), ("dagger", "mse")])
def test_imitation_reproduces_a_linear_expert(algo, loss):
    cfg = small_cfg(algo=algo, bc_loss=loss, hidden=(64, 64), batch_size=64, utd=1, lr=1e-3)
    agent = make_agent(cfg, OBS, ACT, seed=0)
    rng = np.random.default_rng(0)
    # DAgger must follow expert_action even when the executed actions are garbage.
    for _ in range(400):
        agent.update(batch(64, rng, garbage_executed=(algo == "dagger")))
    test = rng.standard_normal((500, OBS)).astype(np.float32)
    err = np.mean((agent.act(test, deterministic=True) - expert(test)) ** 2)
    assert err < 0.01, err


def test_sample_specs_pick_the_right_rows():
    specs = {a: make_agent(small_cfg(algo=a), OBS, ACT, 0).sample_spec for a in ("rlpd", "bc", "hg-dagger", "dagger")}
    assert specs["rlpd"] == {"batch_size": 32, "reward": "rlif", "symmetric": True, "subset": "all"}
    assert specs["hg-dagger"]["subset"] == specs["bc"]["subset"] == "operator"
    assert specs["dagger"]["subset"] == "expert_labeled"
    assert not specs["dagger"]["symmetric"]


def test_dagger_rejects_unlabeled_rows():
    agent = make_agent(small_cfg(algo="dagger", utd=1), OBS, ACT, 0)
    b = batch(16, np.random.default_rng(0))
    b["expert_action"][3] = np.nan
    with pytest.raises(ValueError, match="expert_action.*NaN"):
        agent.update(b)
    assert agent.n_updates == 0
