"""Simulated operators (twin only): an expert that drives when the operator takes over, plus the
rule that decides when. Same outputs as a person on the spacemouse: each control step,
`step(obs, info, policy_action)` returns (intervening, action in action units; zeros when not).

Strategies (`OperatorConfig.strategy`):
- `human` (default of `rlif train` and the graph): a person watching the cell (`sim.human`):
  reacts to visible, persistent errors after a reaction delay, holds control until the situation
  is recovered, ignores jitter while the peg is inserting; rare random takeovers counted apart.
- `value` (the RLIF paper's simulated operator): a judge (the reference agent's Q-function,
  `learner.reference`) compares the policy's action with the reference's; clearly worse ->
  take over with p_bad, else with p_good; a takeover lasts `steps` control steps. Which policy
  action is judged (`judge_action`): `mean` = the policy's deterministic action (its intent,
  passed as `intent` by the caller; falls back to the executed one when not given), or
  `executed` = the sampled action about to be executed, as the paper's code does.
- `random`: take over with p_random per step, for `steps` steps (an uninformative operator).
- `never`: never takes over (deployment without an operator, data collection).
The operator never intervenes once the episode succeeded. All randomness comes from
(cfg.seed, seed). The expert and the judge are injected (`learner.operators.make_operator`
builds them from the config); a scripted expert is the default.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from sim.config import CellConfig, OperatorConfig
from sim.contract import ACTION_INDEX
from sim.experts import LEVELS, ScriptedExpert
from sim.human import HumanWatcher
from sim.rules import CellRules


class Expert(Protocol):
    def reset(self) -> None: ...
    def act(self, obs: np.ndarray, info: dict) -> np.ndarray: ...
    def label(self, obs: np.ndarray, info: dict) -> np.ndarray: ...


# judge(obs, policy_action) -> True when the action is clearly worse than the reference's
Judge = Callable[[np.ndarray, np.ndarray], bool]


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
    rules = CellRules(cell_cfg)
    depth = rules.depth(t2h)
    return {"success": rules.success(depth, False), "aborted": False, "insertion_depth_m": depth,
            "hole_offset_m": off, "force_n": float(np.linalg.norm(obs[12:15])), "tip_to_hole_m": t2h}


def expert_level(name: str | float, information: str = "observed") -> str | float:
    """OperatorConfig.expert ('low' | 'mid' | 'high' or a float in [0, 1] as text) -> expert level."""
    if isinstance(name, str) and name in LEVELS.get(information, LEVELS["observed"]):
        return name
    try:
        return float(name)
    except (TypeError, ValueError):
        raise ValueError(f"operator.expert must be one of {sorted(LEVELS['observed'])} or a float in [0, 1], "
                         f"got {name!r}") from None


class SimulatedOperator:
    def __init__(self, cfg: OperatorConfig, cell_cfg: CellConfig, seed: int = 0, expert: Expert | None = None,
                 judge: Judge | None = None):
        cfg.validate()
        self.cfg, self.cell_cfg = cfg, cell_cfg
        ss_op, ss_ex, ss_h = np.random.SeedSequence([cfg.seed, seed]).spawn(3)
        self._rng = np.random.default_rng(ss_op)
        if expert is None:
            if cfg.expert_kind not in ("observed", "privileged"):
                raise ValueError(f"operator.expert_kind={cfg.expert_kind!r} needs its expert built by "
                                 "learner.operators.make_operator")
            expert = ScriptedExpert(expert_level(cfg.expert, cfg.expert_kind), seed=int(ss_ex.generate_state(1)[0]),
                                    cell_cfg=cell_cfg, information=cfg.expert_kind)
        if cfg.strategy == "value" and judge is None:
            raise ValueError("operator.strategy=value needs the reference judge: build the operator with "
                             "learner.operators.make_operator")
        self.expert, self.judge = expert, judge
        self.human = HumanWatcher(cfg, cell_cfg, np.random.default_rng(ss_h)) if cfg.strategy == "human" else None
        self._dim = len(ACTION_INDEX[cell_cfg.action_space])
        self.remaining = 0            # value/random: steps left in the current takeover
        self.intervening = False
        self.takeovers = 0
        self.random_takeovers = 0     # takeovers with no reason (human whims, value p_good, random)
        self.intervened_steps = 0
        self.steps = 0
        self.reasons: dict[str, int] = {}        # takeovers per reason
        self.reason_steps: dict[str, int] = {}   # operator-driven steps per reason of their takeover
        self._reason = ""

    def reset(self) -> None:
        """Call at every episode start (the expert draws its belief for the new episode)."""
        self.expert.reset()
        self.remaining = 0
        self.intervening = False
        if self.human is not None:
            self.human.reset()

    def step(self, obs: np.ndarray, info: dict, policy_action: np.ndarray,
             intent: np.ndarray | None = None) -> tuple[bool, np.ndarray]:
        """One control step; `intent` = the policy's deterministic action (judged when
        `judge_action` is `mean`), `policy_action` = what it is about to execute."""
        self.steps += 1
        if info.get("success", False):
            self.intervening, self.remaining = False, 0
            return False, np.zeros(self._dim, np.float32)
        if self.human is not None:
            start, hold, reason = self.human.step(obs, info, self.intervening)
        else:
            judged = intent if (intent is not None and self.cfg.judge_action == "mean") else policy_action
            start, hold, reason = self._timed(obs, judged)
        if start:
            self.takeovers += 1
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            self.random_takeovers += int(reason == "random")
            self._reason = reason
        self.intervening = start or hold
        if not self.intervening:
            return False, np.zeros(self._dim, np.float32)
        self.intervened_steps += 1
        self.reason_steps[self._reason] = self.reason_steps.get(self._reason, 0) + 1
        return True, np.asarray(self.expert.act(obs, info), np.float32)

    def _timed(self, obs: np.ndarray, policy_action: np.ndarray) -> tuple[bool, bool, str]:
        """value / random / never: (start a takeover now, keep holding, reason)."""
        if self.remaining > 0:
            self.remaining -= 1
            return False, True, ""
        s = self.cfg.strategy
        if s == "never":
            return False, False, ""
        if s == "random":
            p, reason = self.cfg.p_random, "random"
        else:
            worse = self.clearly_worse(obs, policy_action)
            p, reason = (self.cfg.p_bad, "value") if worse else (self.cfg.p_good, "random")
        if self._rng.random() >= p:
            return False, False, ""
        self.remaining = self.cfg.steps - 1
        return True, True, reason

    def clearly_worse(self, obs: np.ndarray, policy_action: np.ndarray) -> bool:
        a = np.asarray(policy_action, dtype=np.float64).reshape(-1)
        if a.shape != (self._dim,) or not np.all(np.isfinite(a)):
            return True                      # a broken action is always clearly worse
        return bool(self.judge(obs, a))

    @property
    def wants_intent(self) -> bool:
        """True when `step` should get the policy's deterministic action as `intent`."""
        return self.cfg.strategy == "value" and self.cfg.judge_action == "mean"

    @property
    def intervention_rate(self) -> float:
        return self.intervened_steps / self.steps if self.steps else 0.0

    @property
    def random_steps(self) -> int:
        """Operator-driven steps of takeovers that had no reason (whims, p_good, random)."""
        return self.reason_steps.get("random", 0)
