"""The learner node's training step on its own: `learner.train_step` (a batch sampled from a real
`ReplayStore`, then one agent update) at the RLPD real-robot ratio.

RLPD on a real arm runs UTD 20 at a 10 Hz control rate: 200 critic steps/s is what a learner
must sustain to keep up. This measures that call exactly as the learner node makes it (same
store, same sampler, same agent config path), at the bench's network size (batch 256, 10 critics
of 256x256, 18-D obs, 6-D action), on the bench's device, with the CUDA-graph update where CUDA
is present (`agent.cuda_graph`; eagerly elsewhere). ROS itself is not in the loop: the node adds
one publish of weights per `learner.publish_every` updates.

The store is written to a temporary folder with synthetic episodes (half operator-driven rows,
a prior half flagged as demos, so the symmetric RLPD sample draws from both halves).
"""
from __future__ import annotations

import tempfile
import time

import numpy as np
import torch

UTD, TARGET_CRITIC_STEPS_PER_S = 20, 200.0  # RLPD real-robot ratio: UTD 20 at 10 Hz


def _fill(store, episodes: int, length: int, rng: np.random.Generator) -> None:
    from learner.replay import Source

    obs_dim, act_dim = len(store.obs_labels), len(store.action_labels)
    for ep in range(episodes):
        for step in range(length):
            human = (step // 10) % 2 == 1
            a = rng.uniform(-1, 1, act_dim).astype(np.float32)
            store.append(rng.standard_normal(obs_dim).astype(np.float32), a, a,
                         Source.HUMAN if human else Source.POLICY, human, t=0.1 * step)
        store.end_episode(terminal=ep % 2 == 0, success=ep % 2 == 0, truncated=ep % 2 == 1,
                          final_obs=rng.standard_normal(obs_dim).astype(np.float32), operator="bench",
                          cell="bench", demo=ep < episodes // 2)


def run(quick: bool = False, device: str = "auto") -> dict:
    """critic steps/s of `train_step` at UTD 20 (quick: tiny nets, UTD 2, a few steps)."""
    from learner.agents import make_agent
    from learner.config import AgentConfig, ReplayConfig
    from learner.replay import ReplayStore
    from learner.train_step import train_step

    obs, act = 18, 6
    utd, hidden, critics, batch = (2, (32, 32), 2, 16) if quick else (UTD, (256, 256), 10, 256)
    episodes, length = (4, 20) if quick else (100, 200)
    warm, n = (1, 2) if quick else (5, 60)
    cfg = AgentConfig(n_critics=critics, hidden=hidden, batch_size=batch, utd=utd, device=device,
                      cuda_graph=True, metrics_every=100)
    replay_cfg = ReplayConfig(symmetric=True)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="rlif-bench-train-step-") as tmp:
        store = ReplayStore.create(f"{tmp}/replay.zarr", [f"o{i}" for i in range(obs)],
                                   [f"a{i}" for i in range(act)], config=replay_cfg)
        _fill(store, episodes, length, rng)
        agent = make_agent(cfg, obs, act, seed=0, replay=replay_cfg)
        for _ in range(warm):  # capture happens here on CUDA
            train_step(agent, store, rng)
        sync = torch.cuda.synchronize if agent.device.type == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            train_step(agent, store, rng)
        sync()
        dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(n):
            store.sample(rng=rng, **agent.sample_spec)
        sample_s = (time.perf_counter() - t0) / n
        graphed = getattr(agent, "_graphed", None)
        store.close()
    steps = n * utd / dt
    return {"train_step_utd": utd, "train_step_rows": episodes * length,
            "train_step_updates_per_s": round(n / dt, 2), "train_step_critic_steps_per_s": round(steps, 1),
            "train_step_target_critic_steps_per_s": TARGET_CRITIC_STEPS_PER_S,
            "train_step_sample_ms": round(1e3 * sample_s, 3),
            "train_step_graph_captured": bool(graphed is not None and graphed.use_graph
                                              and graphed._graph is not None)}
