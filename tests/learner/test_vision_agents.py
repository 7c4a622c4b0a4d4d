"""Agents that see camera frames: the encoder learns, the exported actor (format 3) acts as the
agent does, checkpoints carry the encoder, and mismatches between actor and profile are named."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from learner.agents import make_agent
from learner.checkpoint import load_checkpoint, load_policy, save_checkpoint
from learner.config import AgentConfig
from learner.errors import CheckpointError
from learner.loop import evaluate, run_episode
from learner.policy import Policy
from learner.replay import ReplayStore
from sim.cell import TwinCell
from sim.config import CellConfig, VisionConfig

pytestmark = pytest.mark.unit
S = 24
VISION = VisionConfig(image_size=S)
SMALL = AgentConfig(hidden=(32, 32), n_critics=2, batch_size=16, utd=2, encoder_channels=8, encoder_features=8,
                    warmup_rows=10)


def batch(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"obs": rng.normal(size=(n, 18)).astype(np.float32), "next_obs": rng.normal(size=(n, 18)).astype(np.float32),
            "action": rng.uniform(-1, 1, (n, 6)).astype(np.float32),
            "expert_action": rng.uniform(-1, 1, (n, 6)).astype(np.float32),
            "reward": -(rng.random((n, 1)) < 0.2).astype(np.float32), "mask": np.ones((n, 1), np.float32),
            "image_wrist": rng.integers(0, 256, (n, S, S, 3), dtype=np.uint8),
            "next_image_wrist": rng.integers(0, 256, (n, S, S, 3), dtype=np.uint8)}


def params(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("algo", ["rlpd", "bc", "hg-dagger", "dagger"])
def test_an_update_trains_the_encoder_and_the_export_acts_like_the_agent(algo):
    agent = make_agent(replace(SMALL, algo=algo), 18, 6, seed=0, vision=VISION)
    assert agent.cameras == ("wrist",) and agent.feature_dim == 18 + 8
    before = params(agent.encoder)
    agent.update(batch(32))
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.encoder.parameters()))
    b = batch(4, seed=1)
    obs, imgs = b["obs"], {"wrist": b["image_wrist"]}
    policy = Policy.from_bytes(agent.export_actor(), 18, 6, cameras=("wrist",), image_size=S)
    assert policy.cameras == ("wrist",) and policy.image_size == S and policy.algo == algo
    np.testing.assert_allclose(policy.act(obs, images=imgs), agent.act(obs, deterministic=True, images=imgs),
                               atol=1e-5)
    one = policy.act(obs[0], images={"wrist": imgs["wrist"][0]})
    np.testing.assert_allclose(one, policy.act(obs, images=imgs)[0], atol=1e-6)
    # the frames matter: another picture, another action
    assert not np.allclose(policy.act(obs, images={"wrist": 255 - imgs["wrist"]}), policy.act(obs, images=imgs))


def test_sac_trains_the_encoder_through_the_critic_only():
    """The encoder's parameters are in the critic's optimizer and the actor reads it detached
    (DrQ): with the critic's learning rate at zero the encoder stays while the actor moves."""
    agent = make_agent(SMALL, 18, 6, seed=0, vision=VISION)
    for g in agent.critic_opt.param_groups:
        g["lr"] = 0.0
    enc, actor = params(agent.encoder), params(agent.actor)
    agent.update(batch(32))
    assert all(torch.equal(a, b) for a, b in zip(enc, agent.encoder.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(actor, agent.actor.parameters()))


def test_bc_learns_what_only_the_picture_shows():
    """The target action is +0.8 or -0.8 in x by which half of the frame is bright; the state is
    all zeros. Through the encoder BC gets it right; without cameras it cannot tell them apart."""
    rng = np.random.default_rng(0)

    def data(n):
        side = rng.integers(0, 2, n)
        img = rng.integers(0, 60, (n, S, S, 3), dtype=np.uint8)
        for k, s in enumerate(side):
            img[k, :, s * (S // 2):(s + 1) * (S // 2)] += 150
        act = np.zeros((n, 6), np.float32)
        act[:, 0] = np.where(side == 1, 0.8, -0.8)
        return {"obs": np.zeros((n, 18), np.float32), "action": act, "image_wrist": img}, side

    cfg = replace(SMALL, algo="bc", batch_size=32, utd=1, lr=1e-3)
    seeing, blind = make_agent(cfg, 18, 6, seed=0, vision=VISION), make_agent(cfg, 18, 6, seed=0)
    for _ in range(150):
        b, _ = data(32)
        seeing.update(b)
        blind.update(b)
    test, side = data(200)
    right = seeing.act(test["obs"], deterministic=True, images={"wrist": test["image_wrist"]})[:, 0] > 0
    assert np.mean(right == (side == 1)) > 0.95
    blind_right = blind.act(test["obs"], deterministic=True)[:, 0] > 0
    assert np.mean(blind_right == (side == 1)) < 0.6  # one action for every picture


def test_actor_and_profile_must_agree_on_images():
    seeing = make_agent(SMALL, 18, 6, seed=0, vision=VISION).export_actor()
    blind = make_agent(SMALL, 18, 6, seed=0).export_actor()
    with pytest.raises(CheckpointError, match=r"trained on cameras \['wrist'\] at 24 px, this profile feeds state only"):
        Policy.from_bytes(seeing, 18, 6, cameras=(), image_size=0)
    with pytest.raises(CheckpointError, match=r"trained on state only .* feeds cameras \['wrist'\] at 24 px"):
        Policy.from_bytes(blind, 18, 6, cameras=("wrist",), image_size=S)
    with pytest.raises(CheckpointError, match="at 24 px, this profile feeds cameras .* at 64 px"):
        Policy.from_bytes(seeing, 18, 6, cameras=("wrist",), image_size=64)
    assert Policy.from_bytes(blind, 18, 6, cameras=(), image_size=0).cameras == ()
    policy = Policy.from_bytes(seeing)
    obs = np.zeros(18, np.float32)
    with pytest.raises(ValueError, match=r"sees cameras \['wrist'\] at 24 px; frames given: None"):
        policy.act(obs)
    with pytest.raises(ValueError, match="frame is uint8 \\(32, 32, 3\\)"):
        policy.act(obs, images={"wrist": np.zeros((32, 32, 3), np.uint8)})
    with pytest.raises(ValueError, match="frame is float64"):
        policy.act(obs, images={"wrist": np.zeros((S, S, 3))})


def test_a_state_only_actor_is_still_written_as_format_2_and_ignores_frames():
    blob = make_agent(SMALL, 18, 6, seed=0).export_actor()
    policy = Policy.from_bytes(blob)
    assert policy.meta["format"] == 2 and "vision" not in policy.meta
    obs = np.ones(18, np.float32)
    np.testing.assert_array_equal(policy.act(obs), policy.act(obs, images={"wrist": np.zeros((S, S, 3), np.uint8)}))


def test_bad_image_batches_are_refused_before_any_step():
    agent = make_agent(SMALL, 18, 6, seed=0, vision=VISION)
    before = params(agent.encoder)
    b = batch(32)
    with pytest.raises(ValueError, match="lacks \\['next_image_wrist'\\]"):
        agent.update({k: v for k, v in b.items() if k != "next_image_wrist"})
    with pytest.raises(ValueError, match="'image_wrist' is float32"):
        agent.update(dict(b, image_wrist=b["image_wrist"].astype(np.float32)))
    assert all(torch.equal(a, c) for a, c in zip(before, agent.encoder.parameters())) and agent.n_updates == 0
    with pytest.raises(ValueError, match="cuda_graph does not take image observations"):
        make_agent(replace(SMALL, cuda_graph=True), 18, 6, seed=0, vision=VISION)


def test_checkpoints_carry_the_encoder_and_refuse_the_other_kind_of_agent(tmp_path):
    agent = make_agent(SMALL, 18, 6, seed=0, vision=VISION)
    agent.update(batch(32))
    save_checkpoint(tmp_path / "ck", agent)
    again = make_agent(SMALL, 18, 6, seed=5, vision=VISION)
    load_checkpoint(tmp_path / "ck", again)
    b = batch(4, seed=2)
    imgs = {"wrist": b["image_wrist"]}
    np.testing.assert_array_equal(again.act(b["obs"], True, images=imgs), agent.act(b["obs"], True, images=imgs))
    policy = load_policy(tmp_path / "ck")
    assert policy.cameras == ("wrist",)
    np.testing.assert_allclose(policy.act(b["obs"], images=imgs), agent.act(b["obs"], True, images=imgs), atol=1e-5)
    blind = make_agent(SMALL, 18, 6, seed=0)
    with pytest.raises(CheckpointError, match="vision saved .*'cameras': \\['wrist'\\].* vs agent None"):
        load_checkpoint(tmp_path / "ck", blind)
    save_checkpoint(tmp_path / "blind", blind)
    with pytest.raises(CheckpointError, match="vision saved None vs agent"):
        load_checkpoint(tmp_path / "blind", agent)


def test_an_image_agent_trains_and_is_evaluated_on_the_rendering_twin(tmp_path):
    cfg = CellConfig(episode_steps=12)
    cell = TwinCell(cfg, seed=0, vision=VISION)
    store = ReplayStore.create(tmp_path / "r.zarr", cell.obs_labels, cell.action_labels,
                               images={"wrist": (S, S, 3)})
    agent = make_agent(SMALL, cell.obs_dim, cell.action_dim, seed=0, vision=VISION)
    try:
        rng = np.random.default_rng(0)
        results = [run_episode(cell, agent, store, rng=rng, seed=k) for k in range(3)]
        assert sum(r["updates"] for r in results) >= 1 and store.n_rows == sum(r["steps"] for r in results)
        policy = Policy.from_bytes(agent.export_actor(), cell.obs_dim, cell.action_dim, cameras=("wrist",),
                                   image_size=S)
        ev = evaluate(cell, policy, 2, seed=100)
        assert ev["episodes"] == 2 and ev["mean_steps"] >= 1
        with pytest.raises(ValueError, match="vision.image_size is 0"):  # a twin without cameras cannot feed it
            evaluate(TwinCell(cfg, seed=0), policy, 1)
    finally:
        store.close()
        cell.close()


def test_warm_up_runs_one_action_without_changing_the_policy():
    for vision in (VISION, None):
        blob = make_agent(SMALL, 18, 6, seed=0, vision=vision).export_actor()
        policy, fresh = Policy.from_bytes(blob), Policy.from_bytes(blob)
        policy.warm_up()
        b = batch(3, seed=4)
        imgs = {"wrist": b["image_wrist"]} if vision else None
        np.testing.assert_array_equal(policy.act(b["obs"], images=imgs), fresh.act(b["obs"], images=imgs))


def test_sac_learns_what_only_the_picture_shows():
    """A one-step task (mask 0) whose reward is -1 when the sign of the x action disagrees with
    which half of the frame is bright, 0 otherwise: the critic must learn Q from the picture
    through the encoder and the actor follow it (read detached). Without cameras: a coin flip."""
    rng = np.random.default_rng(0)

    def frames(side):
        img = rng.integers(0, 60, (len(side), S, S, 3), dtype=np.uint8)
        for k, s in enumerate(side):
            img[k, :, s * (S // 2):(s + 1) * (S // 2)] += 150
        return img

    cfg = replace(SMALL, batch_size=64, utd=1, lr=1e-3, init_temperature=0.05)
    seeing, blind = make_agent(cfg, 18, 6, seed=0, vision=VISION), make_agent(cfg, 18, 6, seed=0)
    for _ in range(400):
        side = rng.integers(0, 2, 64)
        a = rng.uniform(-1, 1, (64, 6)).astype(np.float32)
        img = frames(side)
        b = {"obs": np.zeros((64, 18), np.float32), "next_obs": np.zeros((64, 18), np.float32), "action": a,
             "reward": -(np.sign(a[:, 0]) != np.where(side == 1, 1, -1)).astype(np.float32)[:, None],
             "mask": np.zeros((64, 1), np.float32), "image_wrist": img, "next_image_wrist": img}
        seeing.update(b)
        blind.update(b)
    side = rng.integers(0, 2, 200)
    obs, img = np.zeros((200, 18), np.float32), frames(side)
    assert np.mean((seeing.act(obs, True, images={"wrist": img})[:, 0] > 0) == (side == 1)) > 0.95
    assert np.mean((blind.act(obs, True)[:, 0] > 0) == (side == 1)) < 0.65
