"""Scripted insertion experts of tunable quality, like the paper's 10/40/90 % experts.

Two kinds of information, named on purpose:
- `observed` (the default, *realizable*): the expert acts on the observation the learner gets
  (peg-tip pose relative to the NOMINAL hole, velocities, wrench) plus its own memory of the
  episode. It does not know the true hole offset; it believes the hole is at the nominal place
  plus a per-episode bias, descends there, and when the peg lands on the board it searches the
  way a person with a force sensor does: the wrench of a peg resting on the hole's rim tilts it
  towards the hole (torque about the tip: tq_y < 0 when the hole lies at -x, tq_x > 0 when it
  lies at +y), so it steps along (tq_y, -tq_x); without a usable cue it spirals around its
  current estimate. Anything a learner could learn from the same observations.
- `privileged`: acts on `info["tip_to_hole_m"]` (true peg tip minus true hole, what the
  simulator knows) plus its bias. A learner never observes that vector, so imitating this
  expert is impossible by construction; kept only as an explicitly named variant.

What makes an expert worse (all scale with `1 - quality`): per-step action noise, hesitation
(idle steps), a larger belief bias, a less reliable reading of the contact cue (more spiral
steps), a coarser search. `LEVELS` maps names to quality per kind, calibrated with
`python -m sim.calibrate` on the default cell (README "The twin" gives the measured rates).

`act(obs, info)` advances the expert's memory (it is driving); `label(obs, info)` is the
noise-free action that also advances the memory (a labeller watching every step of the episode:
DAgger's labels therefore include the search); `plan(obs, info)` is noise-free and leaves the
memory untouched (a one-off judgement).
"""
from __future__ import annotations

import numpy as np

from sim.config import CellConfig
from sim.contract import ACTION_INDEX

# kind -> name -> quality in [0, 1]; calibrated with `python -m sim.calibrate` on the default cell
LEVELS = {
    "observed": {"high": 0.95, "mid": 0.68, "low": 0.45},
    "privileged": {"high": 0.91, "mid": 0.58, "low": 0.05},
}
INFORMATION = tuple(LEVELS)

# How the scripted expert works (not run settings): LEVELS above are calibrated with these values,
# so changing one redefines every level and every experiment's expert.
HOVER_M = 0.006        # height above the board while aligning, m
ALIGN_TOL_M = 0.0012   # descend once the believed lateral error is below this, m
CONTACT_N = 3.0        # an upward contact force above this with the tip at the surface = blocked, N
INSIDE_Z_M = -0.0015   # tip this far below the board surface = in the hole (the board blocks elsewhere), m
CUE_NM = 0.015         # a lateral torque above this while resting on the board is a usable cue, Nm


def quality_of(level: str | float, information: str = "observed") -> float:
    if information not in LEVELS:
        raise ValueError(f"expert information must be one of {list(LEVELS)}, got {information!r}")
    if isinstance(level, str):
        if level not in LEVELS[information]:
            raise ValueError(f"expert level must be one of {sorted(LEVELS[information])} or a float in [0, 1], "
                             f"got {level!r}")
        return LEVELS[information][level]
    q = float(level)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"expert quality must be in [0, 1], got {q}")
    return q


class ScriptedExpert:
    """`act(obs, info) -> action` in the cell's action space (units of max_step), seeded."""

    def __init__(self, level: str | float = "mid", seed: int = 0, cell_cfg: CellConfig = CellConfig(),
                 information: str = "observed"):
        self.level = level
        self.information = information
        self.quality = quality_of(level, information)
        self.cell_cfg = cell_cfg
        q = 1.0 - self.quality
        self.bias_std_m = 0.0001 + 0.0050 * q      # believed hole position error, per episode, m
        self.noise = 0.05 + 0.35 * q               # action noise std, action units
        self.p_hesitate = 0.25 * q                 # probability of an idle step
        self.search_step_m = 0.0003 + 0.0006 * q   # spiral pitch per search step, m
        self.gain = 0.6 - 0.2 * q                  # fraction of the believed error corrected per step
        self.p_cue = 1.0 - 0.9 * q                 # observed: probability a contact step reads the cue
        self.cue_step_m = 0.0016                     # observed: step along the cue, m
        self._idx = ACTION_INDEX[cell_cfg.action_space]
        self._rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        """Call at every episode start: draws this episode's belief bias, clears the memory."""
        self.bias = self._rng.normal(0.0, self.bias_std_m, 2)
        self.search_k = 0
        self.estimate = self.bias.copy()           # observed: believed hole position (nominal frame), m

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        return self._act(obs, info, self._rng)

    def label(self, obs: np.ndarray, info: dict) -> np.ndarray:
        """Noise-free action that advances the memory (a labeller watching every step)."""
        return self._act(obs, info, None)

    def plan(self, obs: np.ndarray, info: dict) -> np.ndarray:
        """Noise-free action, memory left untouched."""
        saved = (self.search_k, self.estimate.copy())
        a = self._act(obs, info, None)
        self.search_k, self.estimate = saved
        return a

    def _act(self, obs: np.ndarray, info: dict, rng: np.random.Generator | None) -> np.ndarray:
        c = self.cell_cfg
        obs = np.asarray(obs, dtype=np.float64)
        a6 = np.zeros(6)
        a6[3:] = np.clip(-0.5 * obs[3:6] / c.max_step_rad, -1, 1)  # stay upright
        if rng is not None and rng.random() < self.p_hesitate:
            return a6[self._idx].astype(np.float32) * 0.0
        if self.information == "privileged":
            self._privileged(obs, info, a6)
        else:
            self._observed(obs, a6, rng)
        if rng is not None:
            a6 += rng.normal(0.0, self.noise, 6) * np.array([1, 1, 1, 0.3, 0.3, 0.3])
        return np.clip(a6[self._idx], -1.0, 1.0).astype(np.float32)

    def _spiral(self, centre: np.ndarray) -> np.ndarray:
        self.search_k += 1
        k = self.search_k
        r = self.search_step_m * np.sqrt(k) * 1.5
        ang = 2.4 * k                                 # golden-angle-ish spiral, rad
        return centre + r * np.array([np.cos(ang), np.sin(ang)])

    def _approach(self, lateral_err: np.ndarray, height: float, a6: np.ndarray) -> None:
        """Free space: correct a fraction of the lateral error, hover until aligned, then descend."""
        c = self.cell_cfg
        a6[:2] = np.clip(self.gain * lateral_err / c.max_step_m, -1, 1)
        dist = float(np.linalg.norm(lateral_err))
        height_goal = HOVER_M if dist > ALIGN_TOL_M else -0.02
        a6[2] = np.clip(0.6 * (height_goal - height) / c.max_step_m, -0.6, 0.6)

    def _observed(self, obs: np.ndarray, a6: np.ndarray, rng: np.random.Generator | None) -> None:
        c = self.cell_cfg
        pos, f, tq = obs[:3], obs[12:15], obs[15:18]
        if pos[2] < INSIDE_Z_M:                       # in the hole: push straight down
            self.estimate = pos[:2].copy()
            a6[2] = -0.6
            return
        if pos[2] < 0.002 and f[2] > CONTACT_N:       # resting on the board: search
            cue = np.array([tq[1], -tq[0]])
            n = float(np.linalg.norm(cue))
            use_cue = n > CUE_NM and (rng is None or rng.random() < self.p_cue)
            if use_cue:
                goal = pos[:2] + self.cue_step_m * cue / n
                self.estimate = goal.copy()
            else:
                goal = self._spiral(self.estimate)
            a6[:2] = np.clip((goal - pos[:2]) / c.max_step_m, -1, 1)
            a6[2] = -0.25 if pos[2] > -0.0005 else 0.2
            return
        self._approach(self.estimate - pos[:2], float(pos[2]), a6)

    def _privileged(self, obs: np.ndarray, info: dict, a6: np.ndarray) -> None:
        c = self.cell_cfg
        t2h = np.asarray(info["tip_to_hole_m"], dtype=np.float64)
        believed = t2h[:2] + self.bias                   # believed tip - hole, lateral, m
        inside = info.get("insertion_depth_m", 0.0) > 0.001
        blocked = not inside and t2h[2] < 0.002 and float(obs[14]) > CONTACT_N
        if inside:
            a6[2] = -0.6                                  # push straight down, no lateral fight
        elif blocked:
            goal = self._spiral(-believed)                # spiral around the believed hole
            a6[:2] = np.clip(goal / c.max_step_m, -1, 1)
            a6[2] = -0.25 if t2h[2] > -0.0005 else 0.2    # keep light contact
            a6[2] += 0.4 if t2h[2] < -0.002 else 0.0
        else:
            self._approach(-believed, float(t2h[2]), a6)
