"""In-process training loop (no ROS): cell + operator + agent + replay store, one control step at a
time, with the UTD ratio. The ROS nodes wrap the same objects; tests, `rlif experiment` and
`rlif eval` use this directly.

Each control step of `run_episode`:
  policy_action = agent.act(obs, images=frames)        (stochastic while training; frames only
                                                         for an agent with cameras)
  intervening, op_action = operator.step(obs, info, policy_action, intent)   (if an operator is
                                                  given; intent = the deterministic action)
  executed = op_action if intervening else policy_action     (source HUMAN / POLICY)
  expert label = labeler.label(obs, info)              (DAgger only: noise-free expert action; a
                                                         labeller with memory watches every step)
  writer.step(Step(...)); cell.apply(executed)          (learner.recording: the graph's recorder
                                                         writes the same records; with a store
                                                         that has cameras, each Step carries
                                                         cell.images() of the state obs describes)
  if training and store.n_rows >= warmup_rows: train_step(agent, store, rng)   (learner.train_step)
then `writer.end(EpisodeEnd(...))` commits the episode. One `update()` per control
step = cfg.utd critic steps (see `learner.agent`). `n_rows` counts committed rows only, so the
first updates start after the episode that crosses the warm-up; no update happens while the
agent's subset is still empty (HG-DAgger before the first takeover).

`demo_expert` instead lets a scripted expert drive the whole episode (source HUMAN, demo=True):
that is how BC's demonstrations and RLPD's prior data are collected. `evaluate` runs a policy
(an agent or a `learner.policy.Policy`) deterministically with no operator: the autonomous
success rate that `rlif eval` reports.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from learner.recording import EpisodeWriter
from learner.train_step import train_step
from sim.contract import EpisodeEnd, Source, Step


def run_episode(cell, agent, store=None, *, operator=None, labeler=None, demo_expert=None,
                rng: np.random.Generator | None = None, train: bool = True, deterministic: bool = False,
                warmup_rows: int | None = None, seed: int | None = None, operator_name: str = "",
                cell_name: str = "sim") -> dict[str, Any]:
    """One episode; returns {success, aborted, steps, interventions, intervened_steps, updates, metrics}."""
    if train and (store is None or rng is None):
        raise ValueError("run_episode: training needs a store and rng")
    warmup = agent.cfg.warmup_rows if warmup_rows is None and hasattr(agent, "cfg") else (warmup_rows or 0)
    obs, info = cell.reset(seed=seed)
    for who in (operator, labeler, demo_expert):
        if who is not None and hasattr(who, "reset"):
            who.reset()
    writer = None if store is None else EpisodeWriter(store, operator=operator_name, cell=cell_name)
    sees = bool(getattr(agent, "cameras", ()))  # the policy reads frames (an agent or Policy with cameras)
    keeps = bool(getattr(store, "images", None))  # the store keeps frames
    cameras = sees or keeps  # take the frames each step
    frames = cell.images() if cameras else None
    seen = frames if sees else None
    takeovers = intervened = updates = 0
    was_intervening, metrics = False, {}
    terminated = truncated = False
    k = 0  # step index
    while not (terminated or truncated):
        if demo_expert is not None:
            policy_action = np.asarray(demo_expert.act(obs, info), np.float32)
            intervening, executed, source = True, policy_action, Source.HUMAN
        else:
            policy_action = np.asarray(agent.act(obs, deterministic=deterministic, images=seen), np.float32)
            intervening, executed, source = False, policy_action, Source.POLICY
            if operator is not None:
                intent = None
                if getattr(operator, "wants_intent", False):  # the value judge looks at the mean action
                    intent = policy_action if deterministic else np.asarray(
                        agent.act(obs, deterministic=True, images=seen), np.float32)
                intervening, op_action = operator.step(obs, info, policy_action, intent)
                if intervening:
                    executed, source = np.asarray(op_action, np.float32), Source.HUMAN
        label = None if labeler is None else np.asarray(labeler.label(obs, info), np.float32)
        takeovers += int(intervening and not was_intervening)
        intervened += int(intervening)
        was_intervening = intervening
        if writer is not None:
            writer.step(Step(0, k, time.time(), obs, executed, policy_action, source, frames if keeps else None),
                        expert_action=label)
        k += 1
        obs, terminated, truncated, info = cell.apply(executed)
        frames = cell.images() if cameras else None
        seen = frames if sees else None
        if train and store.n_rows >= warmup:
            step_metrics = train_step(agent, store, rng)
            if step_metrics is not None:
                metrics = step_metrics
                updates += 1
    success = bool(info.get("success", False))
    if writer is not None:
        reason = ("success" if success else "force_abort" if info.get("aborted") else
                  "terminated" if terminated else "timeout")
        done = writer.end(EpisodeEnd(0, k, reason, obs, takeovers, intervened, final_images=frames if keeps else None),
                          demo=demo_expert is not None)
        if not done.committed:
            raise ValueError(f"run_episode: the episode was not stored: {done.why}")
    return {"success": success, "aborted": bool(info.get("aborted", False)), "steps": int(cell.step),
            "interventions": takeovers, "intervened_steps": intervened, "updates": updates, "metrics": metrics}


def run_loop(cell, agent, store, *, episodes: int, rng: np.random.Generator, operator=None, labeler=None,
             demo_episodes: int = 0, demo_expert=None, warmup_rows: int | None = None, seed: int = 0,
             operator_name: str = "", on_episode: Callable[[int, dict], None] | None = None) -> dict[str, Any]:
    """`demo_episodes` expert demonstrations (no training), then `episodes` training episodes.

    Episode k is reset with seed `seed + k` (reproducible starts). `on_episode(k, result)` is
    called after each episode (progress, checkpoints). Returns a summary dict.
    """
    if demo_episodes and demo_expert is None:
        raise ValueError("run_loop: demo_episodes needs demo_expert")
    t0, results = time.perf_counter(), []
    for k in range(demo_episodes):
        run_episode(cell, agent, store, demo_expert=demo_expert, labeler=labeler, rng=rng, train=False,
                    seed=seed + k, operator_name="demo")
    for k in range(episodes):
        r = run_episode(cell, agent, store, operator=operator, labeler=labeler, rng=rng, train=True,
                        warmup_rows=warmup_rows, seed=seed + demo_episodes + k, operator_name=operator_name)
        results.append(r)
        if on_episode is not None:
            on_episode(k, r)
    steps = sum(r["steps"] for r in results)
    return {"episodes": len(results), "env_steps": steps, "updates": sum(r["updates"] for r in results),
            "success_rate": float(np.mean([r["success"] for r in results])) if results else 0.0,
            "intervention_rate": sum(r["intervened_steps"] for r in results) / max(steps, 1),
            "takeovers": sum(r["interventions"] for r in results), "rows": store.n_rows,
            "wall_s": time.perf_counter() - t0, "last_metrics": results[-1]["metrics"] if results else {}}


def evaluate(cell, policy, episodes: int, seed: int = 10_000,
             progress: Callable[[int, dict], None] | None = None) -> dict[str, Any]:
    """Autonomous success rate: `policy.act(obs, deterministic=True)`, no operator, no training."""
    results = []
    for k in range(episodes):
        r = run_episode(cell, policy, None, train=False, deterministic=True, seed=seed + k)
        results.append(r)
        if progress is not None:
            progress(k, r)
    n = max(len(results), 1)
    return {"episodes": len(results), "success_rate": sum(r["success"] for r in results) / n,
            "abort_rate": sum(r["aborted"] for r in results) / n,
            "mean_steps": float(np.mean([r["steps"] for r in results])) if results else 0.0}
