"""Gymnasium env `RLIF/PegInsertion-v0` around TwinCell (registered by `import sim`).

Observation: the cell's 18 labelled floats (`env.unwrapped.obs_labels`), float32, unbounded box.
Action: float32 in [-1, 1]^n, n = 6 / 3 / 4 for action_space 6d / xyz / xyz_yaw
(`env.unwrapped.action_labels`). Reward: 1.0 on success, else 0.0 (RLIF never uses it: its
reward comes from interventions at sample time; kept for task-reward ablations).
`reset(seed=s)` reseeds the cell: the same seed gives the same episode, bit for bit.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from sim.cell import TwinCell
from sim.config import CellConfig


class PegInsertionEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, config: CellConfig | None = None, render_mode: str | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.config = config or CellConfig()
        self.render_mode = render_mode
        self.cell = TwinCell(self.config)
        self.obs_labels = self.cell.obs_labels
        self.action_labels = self.cell.action_labels
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.cell.obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (self.cell.action_dim,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None:  # draw the cell's episode seed from the env's seeded generator
            seed = int(self.np_random.integers(0, 2**31 - 1))
        return self.cell.reset(seed=seed)

    def step(self, action):
        obs, terminated, truncated, info = self.cell.apply(action)
        return obs, float(info["success"]), terminated, truncated, info

    def render(self):
        if self.render_mode == "rgb_array":
            return self.cell.render("front")
        return None

    def close(self):
        self.cell.close()
