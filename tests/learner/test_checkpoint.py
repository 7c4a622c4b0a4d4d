"""Checkpoints: round trip, exact resume, atomic files, and clear errors that never half-load."""
import random

import numpy as np
import pytest
import torch

from learner.checkpoint import (ACTOR_FILE, checkpoint_paths, latest_checkpoint, load_checkpoint,
                                load_policy, save_checkpoint)
from learner.errors import CheckpointError, TrainingDiverged
from learner.policy import Policy
from tests.learner.helpers import ACT, OBS, params_equal, random_batch, small_agent

pytestmark = pytest.mark.unit
ALGOS = ["rlpd", "bc", "hg-dagger", "dagger"]


@pytest.mark.parametrize("algo", ALGOS)
def test_round_trip_restores_everything(tmp_path, algo):
    a = small_agent(seed=1, algo=algo)
    for i in range(3):
        a.update(random_batch(32, seed=i))
    path = save_checkpoint(tmp_path, a, extra={"env_steps": 123})
    b = small_agent(seed=2, algo=algo)  # different init
    assert not params_equal(a, b)
    assert load_checkpoint(path, b) == {"env_steps": 123}
    assert params_equal(a, b)
    assert b.counters() == a.counters() and b.n_updates == 3
    for name, opt in a.optimizers().items():
        sa, sb = opt.state_dict()["state"], b.optimizers()[name].state_dict()["state"]
        assert sa.keys() == sb.keys()
        for pid in sa:
            for k in sa[pid]:
                assert torch.equal(torch.as_tensor(sa[pid][k]), torch.as_tensor(sb[pid][k]))


@pytest.mark.parametrize("algo", ["rlpd", "bc"])
def test_resume_reproduces_the_next_update_exactly(tmp_path, algo):
    a = small_agent(seed=3, algo=algo)
    for i in range(4):
        a.update(random_batch(32, seed=i))
    save_checkpoint(tmp_path, a)
    b = small_agent(seed=99, algo=algo)
    load_checkpoint(tmp_path, b)  # a folder: newest checkpoint
    batch = random_batch(32, seed=7)
    ma, mb = a.update(batch), b.update(batch)
    assert ma == mb
    assert params_equal(a, b)
    obs = np.ones(OBS, np.float32)
    assert np.array_equal(a.act(obs), b.act(obs))  # the agent's own RNG stream resumed too


def test_global_rngs_are_restored(tmp_path):
    a = small_agent()
    save_checkpoint(tmp_path, a)
    expect = (torch.rand(3), np.random.rand(3), random.random())
    torch.rand(5), np.random.rand(5), random.random()
    load_checkpoint(tmp_path, small_agent())
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(expect[0], got[0]) and np.array_equal(expect[1], got[1]) and expect[2] == got[2]


def test_files_latest_pruning_and_actor_file(tmp_path):
    a = small_agent()
    for i in range(5):
        a.update(random_batch(32, seed=i))
        save_checkpoint(tmp_path, a, keep=3)
    names = [p.name for p in checkpoint_paths(tmp_path)]
    assert names == [f"ckpt-{n:09d}.safetensors" for n in (3, 4, 5)]
    assert latest_checkpoint(tmp_path).name.endswith("000000005.safetensors")
    assert not list(tmp_path.glob(".*.tmp"))  # no temp leftovers
    pol = Policy.load(tmp_path / ACTOR_FILE, obs_dim=OBS, action_dim=ACT)
    assert pol.version == 5 and pol.n_updates == 5
    obs = np.linspace(-1, 1, OBS).astype(np.float32)
    assert np.allclose(pol.act(obs), a.act(obs, deterministic=True), atol=1e-5)
    assert np.allclose(load_policy(latest_checkpoint(tmp_path)).act(obs), pol.act(obs), atol=1e-6)


def _mutate(path, fn):
    blob = bytearray(path.read_bytes())
    path.write_bytes(bytes(fn(blob)))


@pytest.mark.parametrize("damage", ["truncate", "flip_data", "garbage", "empty"])
def test_corrupt_checkpoint_raises_and_never_half_loads(tmp_path, damage):
    a = small_agent(seed=1)
    a.update(random_batch(32))
    path = save_checkpoint(tmp_path, a)
    fns = {"truncate": lambda b: b[: len(b) // 2], "garbage": lambda b: b"\x00" * 8 + b"nonsense",
           "empty": lambda b: b"", "flip_data": lambda b: b[:-100] + bytes([b[-100] ^ 0xFF]) + b[-99:]}
    _mutate(path, fns[damage])
    b = small_agent(seed=2)
    before = small_agent(seed=2)
    with pytest.raises(CheckpointError, match=str(path.name)):
        load_checkpoint(path, b)
    assert params_equal(b, before) and b.n_updates == 0


@pytest.mark.parametrize("change", [dict(hidden=(16, 16)), dict(n_critics=3), dict(algo="bc")])
def test_mismatched_checkpoint_names_the_problem(tmp_path, change):
    path = save_checkpoint(tmp_path, small_agent())
    other = small_agent(**change)
    with pytest.raises(CheckpointError, match="does not match this agent"):
        load_checkpoint(path, other)


def test_wrong_dims_and_missing_folder(tmp_path):
    from learner.agents import make_agent
    from tests.learner.helpers import small_cfg

    path = save_checkpoint(tmp_path / "a", small_agent())
    with pytest.raises(CheckpointError, match="obs_dim"):
        load_checkpoint(path, make_agent(small_cfg(), OBS + 1, ACT, 0))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "empty", small_agent())
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(tmp_path / "nope.safetensors", small_agent())


def test_an_actor_file_is_not_a_checkpoint(tmp_path):
    save_checkpoint(tmp_path, small_agent())
    with pytest.raises(CheckpointError, match="expected 'rlif-learner-checkpoint'"):
        load_checkpoint(tmp_path / ACTOR_FILE, small_agent())


def test_failure_while_applying_restores_the_agent(tmp_path, monkeypatch):
    a = small_agent(seed=1)
    a.update(random_batch(32))
    path = save_checkpoint(tmp_path, a)
    b, ref = small_agent(seed=2), small_agent(seed=2)
    opt = b.optimizers()["critic"]
    real, calls = opt.load_state_dict, []

    def boom(sd):  # the first call (applying the checkpoint) fails, the restore works
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk gremlin")
        return real(sd)
    monkeypatch.setattr(opt, "load_state_dict", boom)  # fails after the modules were copied
    with pytest.raises(CheckpointError, match="agent unchanged"):
        load_checkpoint(path, b)
    assert params_equal(b, ref) and b.n_updates == 0


def test_diverged_agent_is_never_saved(tmp_path):
    a = small_agent()
    a.update(random_batch(32))
    good = save_checkpoint(tmp_path, a)
    with torch.no_grad():
        a.critic.weights[0].fill_(float("nan"))
    with pytest.raises(TrainingDiverged):
        a.update(random_batch(32, seed=1))
    with pytest.raises(TrainingDiverged, match="refusing"):
        save_checkpoint(tmp_path, a)
    assert latest_checkpoint(tmp_path) == good
    fresh = small_agent()
    load_checkpoint(tmp_path, fresh)
    fresh.update(random_batch(32, seed=1))  # training continues from the last good state


def test_resume_with_a_new_learning_rate_uses_it(tmp_path):
    save_checkpoint(tmp_path, small_agent())
    b = small_agent(lr=1e-5)
    load_checkpoint(tmp_path, b)
    assert all(g["lr"] == 1e-5 for o in b.optimizers().values() for g in o.param_groups)
