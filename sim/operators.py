"""Simulated operators (twin only): a scripted expert + an intervention strategy.

Same outputs as the human operator: each control step, `step(obs, info, policy_action)` returns
(intervening, action in action units; zeros when not intervening). Strategies (OperatorConfig):

- `reference` (the paper's value-based strategy, adapted): the operator judges the policy's
  proposed action against what its own expert would do (`expert.plan`, noise-free) with a
  cost-to-go estimate `cost_to_go`: the peg-tip position after the step (tip + action x
  max_step), measured as lateral distance to the hole axis + remaining height down to the success
  depth + a tilt term, where the board blocks any descent while the tip is laterally outside the
  clearance. The judgement uses the true geometry (what a person watching the cell sees) while
  the expert's action comes from its biased belief, so a policy better than the expert is not
  judged worse than it (RLIF's premise: the operator recognises good behaviour better than it
  performs it). The policy's action is *clearly worse* when its cost exceeds the expert's by more
  than `margin_m`: then take over with p = p_bad (0.95), else with p = p_good (0.05).
- `random`: take over with probability p_random per step.
- `never`: never takes over (autonomous evaluation, BC/DAgger data collection).
A takeover lasts `steps` control steps (default 4), then hands back. The operator never
intervenes once the episode succeeded. All randomness comes from (cfg.seed, seed).
"""
from __future__ import annotations

import numpy as np

from sim.config import CellConfig, OperatorConfig
from sim.contract import ACTION_INDEX
from sim.experts import LEVELS, ScriptedExpert
from sim.model import hole_radius_m

TILT_LEVER_M = 0.02   # a tilt of 1 rad costs like 20 mm of lateral error (peg tip lever arm), m/rad


def info_from_observation(obs: np.ndarray, hole_offset_m: np.ndarray, cell_cfg: CellConfig) -> dict:
    """Rebuild the `info` an operator/expert needs from a published observation and the episode's
    true hole offset (the twin's privileged `episode_start` data), e.g. in the operator node.

    The true hole entrance sits at (offset_x, offset_y, 0) in the nominal hole frame, so
    tip_to_hole = ee position - that; depth and success follow the cell's own rules.
    `aborted` is unknown from one observation and reported False.
    """
    obs = np.asarray(obs, dtype=np.float64)
    off = np.asarray(hole_offset_m, dtype=np.float64).reshape(2)
    t2h = obs[:3] - np.array([off[0], off[1], 0.0])
    inside = float(np.hypot(t2h[0], t2h[1])) < hole_radius_m(cell_cfg.clearance_m)
    depth = float(max(0.0, -t2h[2])) if inside else 0.0
    return {"success": depth >= cell_cfg.success_depth_m, "aborted": False, "insertion_depth_m": depth,
            "hole_offset_m": off, "force_n": float(np.linalg.norm(obs[12:15])), "tip_to_hole_m": t2h}


def expert_level(name: str | float) -> str | float:
    """OperatorConfig.expert ('low' | 'mid' | 'high' or a float in [0, 1] as text) -> expert level."""
    if isinstance(name, str) and name in LEVELS:
        return name
    try:
        return float(name)
    except (TypeError, ValueError):
        raise ValueError(f"operator.expert must be one of {sorted(LEVELS)} or a float in [0, 1], got {name!r}") from None


class SimulatedOperator:
    def __init__(self, cfg: OperatorConfig, cell_cfg: CellConfig, seed: int = 0):
        cfg.validate()
        self.cfg, self.cell_cfg = cfg, cell_cfg
        ss_op, ss_ex = np.random.SeedSequence([cfg.seed, seed]).spawn(2)
        self._rng = np.random.default_rng(ss_op)
        self.expert = ScriptedExpert(expert_level(cfg.expert), seed=int(ss_ex.generate_state(1)[0]), cell_cfg=cell_cfg)
        self._idx = ACTION_INDEX[cell_cfg.action_space]
        self._dim = len(self._idx)
        self._scale = np.array([cell_cfg.max_step_m] * 3 + [cell_cfg.max_step_rad] * 3)
        self._clear_m = cell_cfg.clearance_m / 2.0
        self.remaining = 0
        self.takeovers = 0
        self.intervened_steps = 0
        self.steps = 0

    def reset(self) -> None:
        """Call at every episode start (draws the expert's belief for the new episode)."""
        self.expert.reset()
        self.remaining = 0

    def step(self, obs: np.ndarray, info: dict, policy_action: np.ndarray) -> tuple[bool, np.ndarray]:
        self.steps += 1
        if info.get("success", False):
            self.remaining = 0
            return False, np.zeros(self._dim, np.float32)
        if self.remaining == 0:
            if self._rng.random() >= self._p_takeover(obs, info, policy_action):
                return False, np.zeros(self._dim, np.float32)
            self.remaining = self.cfg.steps
            self.takeovers += 1
        self.remaining -= 1
        self.intervened_steps += 1
        return True, self.expert.act(obs, info)

    def _p_takeover(self, obs: np.ndarray, info: dict, policy_action: np.ndarray) -> float:
        s = self.cfg.strategy
        if s == "never":
            return 0.0
        if s == "random":
            return self.cfg.p_random
        return self.cfg.p_bad if self.clearly_worse(obs, info, policy_action) else self.cfg.p_good

    def clearly_worse(self, obs: np.ndarray, info: dict, policy_action: np.ndarray) -> bool:
        """The reference judgement: policy cost-to-go > expert cost-to-go + margin_m."""
        a = np.asarray(policy_action, dtype=np.float64).reshape(-1)
        if a.shape != (self._dim,) or not np.all(np.isfinite(a)):
            return True                      # a broken action is always clearly worse
        expert_a = self.expert.plan(obs, info)
        return self.cost_to_go(obs, info, a) > self.cost_to_go(obs, info, expert_a) + self.cfg.margin_m

    def cost_to_go(self, obs: np.ndarray, info: dict, action: np.ndarray) -> float:
        """Predicted distance to insertion after `action`, m (judged on what the operator sees: the
        true tip-to-hole vector; its own expert's actions still come from its biased belief)."""
        a6 = np.zeros(6)
        a6[self._idx] = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        d = a6 * self._scale
        nxt = np.asarray(info["tip_to_hole_m"], dtype=np.float64) + d[:3]
        lateral = float(np.hypot(nxt[0], nxt[1]))
        if lateral > self._clear_m and info.get("insertion_depth_m", 0.0) <= 0.0:
            nxt[2] = max(nxt[2], 0.0)         # the board: no descent beside the hole
        remaining_z = abs(nxt[2] + self.cell_cfg.success_depth_m)
        tilt = float(np.linalg.norm(np.asarray(obs[3:6], dtype=np.float64) + d[3:]))
        return lateral + remaining_z + TILT_LEVER_M * tilt

    @property
    def intervention_rate(self) -> float:
        return self.intervened_steps / self.steps if self.steps else 0.0
