"""Cell wrappers used by the experiment's controls (no MuJoCo import here).

`OffsetObserved(cell)`: the observation gains the episode's true hole offset (x, y in m, the
nominal hole frame) as two extra features, `hole_dx`, `hole_dy`. With it, an expert that aims at
the true hole becomes imitable: the DAgger / HG-DAgger controls use it to show the imitation
baselines reach their expert when the information is there.
"""
from __future__ import annotations

import numpy as np

OFFSET_LABELS = ("hole_dx", "hole_dy")
OFFSET_SCALE = (100.0, 100.0)  # 1 cm -> 1, like the positions (sim.contract.OBS_SCALE)


class OffsetObserved:
    def __init__(self, cell):
        self.cell = cell
        self.obs_labels = tuple(cell.obs_labels) + OFFSET_LABELS
        self.action_labels = cell.action_labels
        self.obs_dim = cell.obs_dim + len(OFFSET_LABELS)
        self.action_dim = cell.action_dim
        self.cfg = cell.cfg

    @property
    def step(self) -> int:
        return self.cell.step

    def _aug(self, obs: np.ndarray, info: dict) -> np.ndarray:
        return np.concatenate([obs, np.asarray(info["hole_offset_m"], np.float32)]).astype(np.float32)

    def reset(self, seed: int | None = None):
        obs, info = self.cell.reset(seed=seed)
        return self._aug(obs, info), info

    def apply(self, action):
        obs, terminated, truncated, info = self.cell.apply(action)
        return self._aug(obs, info), terminated, truncated, info

    def images(self):
        return self.cell.images()

    def close(self) -> None:
        self.cell.close()
