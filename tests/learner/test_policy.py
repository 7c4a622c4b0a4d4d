"""Actor export -> `Policy` (numpy inference for the actor node and eval)."""
import numpy as np
import pytest
import torch

from learner.errors import CheckpointError
from learner.policy import Policy, ZeroedObs
from tests.learner.helpers import ACT, OBS, random_batch, small_agent

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("algo", ["rlpd", "dagger"])
def test_policy_matches_the_agent(algo):
    a = small_agent(algo=algo)
    a.update(random_batch(32))
    pol = Policy.from_bytes(a.export_actor(), obs_dim=OBS, action_dim=ACT)
    obs = np.random.default_rng(0).standard_normal((7, OBS)).astype(np.float32)
    assert np.allclose(pol.act(obs), a.act(obs, deterministic=True), atol=1e-5)
    single = pol.act(obs[0])
    assert single.shape == (ACT,) and single.dtype == np.float32
    s = pol.act(obs, deterministic=False, rng=np.random.default_rng(1))
    assert s.shape == (7, ACT) and np.all(np.abs(s) <= 1)
    assert pol.algo == algo and pol.n_updates == 1


def test_version_counter_increments():
    a = small_agent()
    assert [Policy.from_bytes(a.export_actor()).version for _ in range(3)] == [1, 2, 3]


def test_dimension_mismatch_is_a_clear_error():
    blob = small_agent().export_actor()
    with pytest.raises(CheckpointError, match=f"obs_dim {OBS}, this cell has 18"):
        Policy.from_bytes(blob, obs_dim=18)
    with pytest.raises(CheckpointError, match="action_dim"):
        Policy.from_bytes(blob, action_dim=6)


@pytest.mark.parametrize("damage", [lambda b: b[:100], lambda b: b[:-1], lambda b: b"", lambda b: b"xyz" * 10,
                                    lambda b: b[:-50] + bytes([b[-50] ^ 1]) + b[-49:]])
def test_corrupt_blob_is_rejected(damage):
    blob = small_agent().export_actor()
    with pytest.raises(CheckpointError, match="<policy bytes>"):
        Policy.from_bytes(damage(blob))


def test_nan_weights_and_bad_obs_are_rejected():
    a = small_agent()
    with torch.no_grad():
        a.actor.head.bias.fill_(float("nan"))
    with pytest.raises(CheckpointError, match="NaN"):
        Policy.from_bytes(a.export_actor())
    pol = Policy.from_bytes(small_agent().export_actor())
    with pytest.raises(ValueError, match="obs of shape"):
        pol.act(np.zeros(OBS + 1))
    with pytest.raises(ValueError, match="rng"):
        pol.act(np.zeros(OBS), deterministic=False)


def test_observation_scale_travels_with_the_actor():
    """The contract's per-feature scale for the 18-D cell observation (cm, 0.1 rad, 10 N -> 1)
    is applied inside the networks and exported, so the actor node acts like the learner."""
    from learner.agents import make_agent
    from sim.contract import OBS_LABELS, OBS_SCALE
    from tests.learner.helpers import small_cfg

    n = len(OBS_LABELS)
    agent = make_agent(small_cfg(algo="bc"), n, ACT, 0)
    pol = Policy.from_bytes(agent.export_actor())
    assert np.allclose(pol.obs_scale, OBS_SCALE)
    obs = np.random.default_rng(0).standard_normal((5, n)).astype(np.float32) * 0.01
    assert np.allclose(pol.act(obs), agent.act(obs, deterministic=True), atol=1e-5)
    custom = make_agent(small_cfg(obs_scale=(2.0,) * OBS), OBS, ACT, 0)
    assert np.allclose(Policy.from_bytes(custom.export_actor()).obs_scale, 2.0)
    assert np.allclose(Policy.from_bytes(small_agent().export_actor()).obs_scale, 1.0)  # unknown size: ones
    with pytest.raises(ValueError, match="obs_scale"):
        make_agent(small_cfg(obs_scale=(1.0, 0.0)), OBS, ACT, 0)


def test_zeroed_obs_acts_as_if_those_features_read_zero():
    pol = Policy.from_bytes(small_agent().export_actor(), obs_dim=OBS, action_dim=ACT)
    obs = np.random.default_rng(0).standard_normal((5, OBS)).astype(np.float32) + 1.0  # no zeros
    ablated, before = ZeroedObs(pol, [0, 2]), obs.copy()
    expected = obs.copy()
    expected[:, [0, 2]] = 0.0
    assert np.allclose(ablated.act(obs), pol.act(expected))
    assert not np.allclose(ablated.act(obs), pol.act(obs))  # the features mattered
    assert np.allclose(ablated.act(obs[1]), pol.act(expected[1]))  # one observation too
    np.testing.assert_array_equal(obs, before)  # the caller's array is not modified
