"""Demonstrations a twin run starts with: the simulated operator's expert drives whole episodes.

RLPD learns from prior data (half of every batch, `replay.symmetric`): the RLIF paper's and
HIL-SERL's runs start from a few demonstrations, and `rlif experiment` starts every cell with
`demo_episodes` of them. `rlif train` on the twin does the same (`operator.demo_episodes`):
before the graph starts, `seed_demos` runs the operator's expert on the twin in process and
writes its episodes to the run's store (source HUMAN, `demo` = True), the reset seeds being
those the cell node would use for the same episode numbers (`learner.seeds.episode_seed`), so the
graph's cell continues at episode `n` with the next seed. No ROS here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from learner.loop import run_episode
from learner.replay import ReplayStore


def seed_demos(store_path: Path, cell_cfg, operator_cfg, train_seed: int, n: int,
               replay_cfg=None, vision=None) -> dict[str, Any]:
    """`n` expert episodes into a new store at `store_path`; returns counts of what was written.
    `vision` (image_size > 0): the store gets the cameras' columns and every step its frames,
    as the graph's recorder will store them."""
    import numpy as np

    from learner.operators import make_expert
    from sim.cell import TwinCell
    from learner.seeds import episode_seed
    from sim.contract import OBS_LABELS, action_labels

    if n < 1:
        raise ValueError(f"seed_demos: n={n} must be >= 1")
    if Path(store_path).exists():
        raise FileExistsError(f"{store_path} exists: demonstrations seed a new store only")
    expert_seed = int(np.random.SeedSequence([operator_cfg.seed, train_seed, 2]).generate_state(1)[0])
    expert = make_expert(operator_cfg, cell_cfg, seed=expert_seed)
    from sim.config import VisionConfig

    vision = vision or VisionConfig()
    cell = TwinCell(cell_cfg, seed=train_seed, vision=vision)
    store = ReplayStore.create(store_path, OBS_LABELS, action_labels(cell_cfg.action_space), config=replay_cfg,
                               images=vision.frame_shapes())
    steps = successes = 0
    try:
        for k in range(n):
            r = run_episode(cell, None, store, demo_expert=expert, train=False,
                            seed=episode_seed(train_seed, k), operator_name="demo")
            steps += r["steps"]
            successes += int(r["success"])
    finally:
        store.close()
        cell.close()
    return {"episodes": n, "steps": steps, "successes": successes, "expert": getattr(expert, "name", "scripted")}
