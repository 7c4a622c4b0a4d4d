"""learner/reference.py + learner/operators.py: the reference file (encode/load/verify), its numpy
Q equal to the torch critic, the value judge, reference experts, and clear errors naming the fix."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from learner import reference as refmod
from learner.operators import PolicyExpert, make_expert, make_operator, value_judge
from learner.reference import ReferenceError
from sim.config import CellConfig, OperatorConfig
from tests.learner.helpers import small_cfg

pytestmark = pytest.mark.unit


def _make(tmp_path, obs_dim=18, act_dim=6, name="ref.safetensors"):
    from learner.agents import make_agent

    agent = make_agent(small_cfg(n_critics=3), obs_dim, act_dim, seed=0)
    levels = {}
    for k, lv in enumerate(("low", "mid", "high")):
        other = make_agent(small_cfg(n_critics=3), obs_dim, act_dim, seed=10 + k)
        levels[lv] = other.export_actor()
    meta = {"reward": "task", "gamma": 0.99, "n_critics": 3, "layer_norm": True, "train_env_steps": 0,
            "final_success": {"success": 0.0}, "levels": {lv: {"step": 0, "success": 0.0, "target": 0.5}
                                                             for lv in levels}, "command": "test"}
    path = tmp_path / name
    path.write_bytes(refmod.encode(agent.export_actor(), agent.critic.state_dict(), levels, meta))
    return agent, path


def test_round_trip_and_numpy_q_equals_the_torch_critic(tmp_path):
    agent, path = _make(tmp_path)
    ref = refmod.load(path)
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((5, 18)).astype(np.float32) * 0.01
    act = rng.uniform(-1, 1, (5, 6)).astype(np.float32)
    with torch.no_grad():
        want = agent.critic(torch.as_tensor(obs), torch.as_tensor(act)).numpy()
    np.testing.assert_allclose(ref.critic.q(obs, act), want, rtol=1e-4, atol=1e-5)
    with torch.no_grad():  # Q_ref(s, a_k) for one state and K actions = the mean over members
        one = agent.critic(torch.as_tensor(np.repeat(obs[:1], 5, 0)), torch.as_tensor(act)).mean(0).numpy()
    np.testing.assert_allclose(ref.q(obs[0], act), one, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        a_ref = agent.actor.deterministic(torch.as_tensor(obs[:1])).numpy()[0]
    np.testing.assert_allclose(ref.action(obs[0]), a_ref, atol=1e-5)
    assert sorted(ref.levels) == ["high", "low", "mid"]
    assert refmod.describe(ref)["n_critics"] == 3


def test_value_judge_is_relative_to_the_reference_q(tmp_path):
    _, path = _make(tmp_path)
    ref = refmod.load(path)
    obs = np.zeros(18, np.float32)
    a_ref = ref.action(obs)
    judge = value_judge(ref, delta=0.03)
    assert judge(obs, a_ref) is False                     # the reference's own action is never worse
    q_ref = float(ref.q(obs, a_ref[None])[0])
    cands = np.random.default_rng(1).uniform(-1, 1, (200, 6)).astype(np.float32)
    q = ref.q(obs, cands)
    verdicts = np.array([judge(obs, a) for a in cands])
    np.testing.assert_array_equal(verdicts, q < q_ref - 0.03 * abs(q_ref))
    assert judge(np.zeros(20, np.float32), a_ref) is False  # extra features (+offset cells) are ignored


def test_reference_experts_and_operator(tmp_path):
    _, path = _make(tmp_path)
    cfg = OperatorConfig(strategy="value", expert_kind="reference", expert="mid", reference=str(path))
    ex = make_expert(cfg, CellConfig(), seed=0)
    assert isinstance(ex, PolicyExpert)
    obs = np.full(20, 0.001, np.float32)
    np.testing.assert_array_equal(ex.act(obs, {}), ex.label(obs, {}))
    op = make_operator(cfg, CellConfig(), seed=0)
    assert op.judge is not None and op.expert.name == "reference-mid"
    scripted = make_operator(replace(cfg, strategy="human", expert_kind="observed"), CellConfig())
    assert scripted.judge is None and scripted.expert.information == "observed"


def test_bad_files_name_the_fix(tmp_path):
    with pytest.raises(ReferenceError, match="not found.*rlif reference train"):
        refmod.load(tmp_path / "nope.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(ReferenceError, match="rlif reference train"):
        refmod.load(junk)
    _, small = _make(tmp_path, obs_dim=5, act_dim=2, name="small.safetensors")
    with pytest.raises(ReferenceError, match="obs_dim 5"):
        refmod.load(small)
    _, path = _make(tmp_path)
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF                                       # one flipped byte in the tensor data
    bad = tmp_path / "flipped.safetensors"
    bad.write_bytes(bytes(blob))
    with pytest.raises(ReferenceError, match="checksum"):
        refmod.load(bad)
    with pytest.raises(ReferenceError, match="no expert level 'expert'"):
        refmod.load(path).level("expert")


def test_the_shipped_reference_loads_and_has_three_levels():
    ref = refmod.load()
    assert sorted(ref.levels) == ["high", "low", "mid"]
    lv = ref.meta["levels"]
    assert lv["low"]["success"] < lv["mid"]["success"] < lv["high"]["success"] <= ref.meta["final_success"]["success"]
    assert ref.meta["command"].startswith("rlif reference train")
