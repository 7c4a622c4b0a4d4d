"""A person watching the cell with a hand on the spacemouse: when they take over and give back.

What the person sees is the true geometry (where the peg tip is relative to the real hole), seen
with a per-episode perception error (`perception_m`, std per axis) and per-step jitter
(`jitter_m`); plus the peg's tilt and, through the arm's behaviour, a large contact force.
They do NOT judge individual actions: exploration jitter of a policy that is getting there is
invisible to them. They react to visible, persistent errors:

- `force`: contact force above `force_frac` x the cell's abort limit (reacted to at once);
- `tilt`: the peg visibly tilted beyond `tilt_rad`;
- `misaligned`: the tip near the board (< `near_board_m` above it) and seen beside the hole by
  more than `lateral_tol_m`;
- `stalled`: the tip got less than `progress_m` closer to the inserted pose over `stall_steps`.

A tilt must last `persist_steps` steps and a misaligned peg `search_patience_steps` (a person
gives a search about two seconds) before the person decides (force and a stall at once); after
deciding they need a reaction delay (uniform in `reaction_steps`) before the spacemouse moves
(the policy keeps driving meanwhile; if the peg drops into the hole meanwhile, they relax).
Once in control they correct and let go, as spacemouse operators do: they hold it until the
situation is recovered (no visible error any more, and the peg either in the hole or at least
`progress_m` closer to the inserted pose than when they took over and back on track, within
`handback_m` of it: a peg that wandered off to a corner is brought back, not nudged), at least
`min_hold_steps`, at most `max_hold_steps`. While the peg is inserting (> 1 mm deep) only the
force rule applies. With probability `p_whim` per step they take over for no visible reason
(reason "random", counted apart from the takeovers the policy caused).

Blind spots (measured in the `full` experiment grid, docs/results/full-human): a peg jammed
part-way into the hole below the force threshold, and a peg looping through free space that comes
near the hole often enough to keep resetting the stall window, are never or rarely taken over.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from sim.config import CellConfig, OperatorConfig

REASONS = ("force", "tilt", "misaligned", "stalled")
IN_HOLE_M = 0.001  # deeper than this = inserting, m


class HumanWatcher:
    def __init__(self, cfg: OperatorConfig, cell_cfg: CellConfig, rng: np.random.Generator):
        self.cfg, self.cell_cfg, self.rng = cfg, cell_cfg, rng
        self.reset()

    def reset(self) -> None:
        self.bias = self.rng.normal(0.0, self.cfg.perception_m, 2)
        self._clear()
        self.hold = 0
        self.dist0 = 0.0

    def _clear(self) -> None:
        self.runs = {r: 0 for r in REASONS}
        self.history: deque[float] = deque(maxlen=self.cfg.stall_steps + 1)
        self.pending: tuple[int, str] | None = None   # (steps until the hand moves, reason)

    def step(self, obs: np.ndarray, info: dict, intervening: bool) -> tuple[bool, bool, str]:
        """(start a takeover now, keep holding control, reason of a start)."""
        c = self.cfg
        seen = np.asarray(info["tip_to_hole_m"], dtype=np.float64).copy()
        seen[:2] += self.bias + self.rng.normal(0.0, c.jitter_m, 2)
        lateral = float(np.hypot(seen[0], seen[1]))
        in_hole = float(info.get("insertion_depth_m", 0.0)) > IN_HOLE_M
        force = float(np.linalg.norm(np.asarray(obs[12:15], dtype=np.float64)))
        tilt = float(np.linalg.norm(np.asarray(obs[3:6], dtype=np.float64)))
        dist = lateral + max(0.0, seen[2] + self.cell_cfg.success_depth_m)  # to the inserted pose, m
        self.history.append(dist)
        too_hard = force > c.force_frac * self.cell_cfg.max_force_n
        beside = not in_hole and seen[2] < c.near_board_m and lateral > c.lateral_tol_m
        if intervening:                            # self.hold = steps already held
            visible_error = too_hard or tilt > c.tilt_rad or beside
            recovered = not visible_error and (in_hole or (self.dist0 - dist >= c.progress_m
                                                           and dist <= c.handback_m))
            if self.hold >= c.max_hold_steps or (self.hold >= c.min_hold_steps and recovered):
                self.hold = 0
                self._clear()                      # watches afresh from the hand-back
                return False, False, ""
            self.hold += 1
            return False, True, ""
        if self.pending is not None:
            left, reason = self.pending
            if in_hole and reason != "force":
                self.pending = None                # it went in while the hand was moving
            elif left <= 1:
                return self._start(reason, dist)
            else:
                self.pending = (left - 1, reason)
                return False, False, ""
        errors = set()
        if too_hard:
            errors.add("force")
        if not in_hole:
            if tilt > c.tilt_rad:
                errors.add("tilt")
            if beside:
                errors.add("misaligned")
            h = self.history
            if len(h) == h.maxlen and h[0] - h[-1] < c.progress_m:
                errors.add("stalled")
        for r in REASONS:
            self.runs[r] = self.runs[r] + 1 if r in errors else 0
        need = {"force": 1, "tilt": c.persist_steps, "misaligned": c.search_patience_steps, "stalled": 1}
        decided = next((r for r in REASONS if self.runs[r] >= need[r]), None)
        if decided is not None:
            lo, hi = c.reaction_steps
            delay = int(self.rng.integers(lo, hi + 1))
            if delay == 0:
                return self._start(decided, dist)
            self.pending = (delay, decided)
            return False, False, ""
        if self.rng.random() < c.p_whim:
            return self._start("random", dist)
        return False, False, ""

    def _start(self, reason: str, dist: float) -> tuple[bool, bool, str]:
        self.dist0 = dist
        self.pending = None
        self.runs = {r: 0 for r in REASONS}
        self.hold = 1
        return True, True, reason
