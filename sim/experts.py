"""Scripted insertion experts of tunable quality, like the paper's 10/40/90 % experts.

The strategy a person uses: align over the hole, descend, and if the peg lands on the board,
press lightly and search in a growing spiral around where they believe the hole is; once the tip
is in the hole, push straight down while keeping the peg upright.

What makes an expert worse (all scale with `1 - quality`): a per-episode bias in where it
believes the hole is (the dominant term: a bias beyond the 0.5 mm radial clearance must be
found by searching), per-step action noise, hesitation (idle steps), a coarser, slower search.
The expert reads `info["tip_to_hole_m"]` (true peg tip minus true hole entrance: what a person
watching the cell sees) plus its own bias; the policy never gets that vector. Levels: `LEVELS` maps names to
quality, calibrated on the default cell so high/mid/low succeed ~90/50/15 % (README table).
"""
from __future__ import annotations

import numpy as np

from sim.config import CellConfig
from sim.contract import ACTION_INDEX

# name -> quality in [0, 1]; calibrated with `python -m sim.calibrate` on the default cell
LEVELS = {"high": 0.91, "mid": 0.58, "low": 0.05}

HOVER_M = 0.006        # height above the board while aligning, m
ALIGN_TOL_M = 0.0012   # descend once the believed lateral error is below this, m
CONTACT_N = 3.0        # an upward contact force above this with the tip at the surface = blocked, N


def quality_of(level: str | float) -> float:
    if isinstance(level, str):
        if level not in LEVELS:
            raise ValueError(f"expert level must be one of {sorted(LEVELS)} or a float in [0, 1], got {level!r}")
        return LEVELS[level]
    q = float(level)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"expert quality must be in [0, 1], got {q}")
    return q


class ScriptedExpert:
    """`act(obs, info) -> action` in the cell's action space (units of max_step), seeded."""

    def __init__(self, level: str | float = "mid", seed: int = 0, cell_cfg: CellConfig = CellConfig()):
        self.level = level
        self.quality = quality_of(level)
        self.cell_cfg = cell_cfg
        q = 1.0 - self.quality
        self.bias_std_m = 0.0001 + 0.0050 * q      # believed hole position error, per episode, m
        self.noise = 0.05 + 0.35 * q               # action noise std, action units
        self.p_hesitate = 0.25 * q                 # probability of an idle step
        self.search_step_m = 0.0003 + 0.0006 * q   # spiral pitch per search step, m
        self.gain = 0.6 - 0.2 * q                  # fraction of the believed error corrected per step
        self._idx = ACTION_INDEX[cell_cfg.action_space]
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        """Call at every episode start: draws this episode's belief bias."""
        self.bias = self._rng.normal(0.0, self.bias_std_m, 2)
        self.search_k = 0

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        return self._act(obs, info, self._rng)

    def plan(self, obs: np.ndarray, info: dict) -> np.ndarray:
        """The action the expert would take, noise-free and without advancing any state (DAgger
        labels, the reference-based operator's judgement)."""
        saved = self.search_k
        a = self._act(obs, info, None)
        self.search_k = saved
        return a

    def _act(self, obs: np.ndarray, info: dict, rng: np.random.Generator | None) -> np.ndarray:
        c = self.cell_cfg
        t2h = np.asarray(info["tip_to_hole_m"], dtype=np.float64)
        believed = t2h[:2] + self.bias                   # believed tip - hole, lateral, m
        a6 = np.zeros(6)
        a6[3:] = np.clip(-0.5 * np.asarray(obs[3:6], dtype=np.float64) / c.max_step_rad, -1, 1)  # stay upright
        if rng is not None and rng.random() < self.p_hesitate:
            return a6[self._idx].astype(np.float32) * 0.0
        inside = info.get("insertion_depth_m", 0.0) > 0.001
        blocked = not inside and t2h[2] < 0.002 and float(obs[14]) > CONTACT_N
        if inside:
            a6[2] = -0.6                                  # push straight down, no lateral fight
        elif blocked:
            self.search_k += 1                            # spiral around the believed hole
            k = self.search_k
            r = self.search_step_m * np.sqrt(k) * 1.5
            ang = 2.4 * k                                 # golden-angle-ish spiral, rad
            goal = -believed + r * np.array([np.cos(ang), np.sin(ang)])
            a6[:2] = np.clip(goal / c.max_step_m, -1, 1)
            a6[2] = -0.25 if t2h[2] > -0.0005 else 0.2    # keep light contact
            a6[2] += 0.4 if t2h[2] < -0.002 else 0.0
        else:
            err = -believed
            a6[:2] = np.clip(self.gain * err / c.max_step_m, -1, 1)
            dist = float(np.linalg.norm(err))
            height_goal = HOVER_M if dist > ALIGN_TOL_M else -0.02
            a6[2] = np.clip(0.6 * (height_goal - t2h[2]) / c.max_step_m, -0.6, 0.6)
        if rng is not None:
            a6 += rng.normal(0.0, self.noise, 6) * np.array([1, 1, 1, 0.3, 0.3, 0.3])
        return np.clip(a6[self._idx], -1.0, 1.0).astype(np.float32)
