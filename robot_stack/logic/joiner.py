"""The recorder's join: observation + policy action + command, matched by (episode, step).

Pure logic (no rclpy). Messages arrive on separate topics in any order; a step's row is final
when a later step's command (or its episode's end) has arrived, because the cell may replace a
late mux command by its own HOLD command (missed deadline), and the HOLD is what was executed.
Rows come out in step order, ready for `ReplayStore.append`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from learner.replay import Source


@dataclass
class Row:
    episode: int
    step: int
    t: float
    obs: np.ndarray
    action: np.ndarray
    policy_action: np.ndarray  # NaN when the policy did not answer in time
    source: Source

    @property
    def intervening(self) -> bool:
        # Operator-driven = the operator's action was executed. (A HOLD while the operator is
        # intervening, e.g. a stale device, is a hold, not an operator step.)
        return self.source == Source.HUMAN


@dataclass
class _Pending:
    obs: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict)
    policy: dict[int, np.ndarray] = field(default_factory=dict)
    command: dict[int, tuple[Source, np.ndarray]] = field(default_factory=dict)


class StepJoiner:
    def __init__(self, action_dim: int):
        self.action_dim = action_dim
        self.episode: int | None = None
        self.next_step = 0  # next step to emit
        self._p = _Pending()
        self.dropped = 0  # messages of old episodes or steps already emitted

    def _accept(self, episode: int, step: int) -> bool:
        if self.episode is None or episode > self.episode:
            self.episode, self.next_step, self._p = episode, 0, _Pending()
        if episode < self.episode or step < self.next_step:
            self.dropped += 1
            return False
        return True

    def on_observation(self, episode: int, step: int, t: float, obs: np.ndarray) -> None:
        if self._accept(episode, step):
            self._p.obs[step] = (t, obs)

    def on_policy_action(self, episode: int, step: int, action: np.ndarray) -> None:
        if self._accept(episode, step):
            self._p.policy[step] = action

    def on_command(self, episode: int, step: int, source: Source, action: np.ndarray) -> list[Row]:
        """Returns the rows that became final (all steps before this one)."""
        if not self._accept(episode, step):
            return []
        prev = self._p.command.get(step)
        if prev is None or source == Source.HOLD:  # the cell's HOLD overrides a late mux command
            self._p.command[step] = (source, action)
        return self._emit(upto=step)

    def end_episode(self, episode: int, steps: int) -> tuple[list[Row], bool]:
        """Flush the episode's rows; returns (rows, complete) where complete = all `steps` rows seen."""
        if self.episode != episode:
            return [], steps == 0
        rows = self._emit(upto=steps)
        return rows, self.next_step >= steps

    def _emit(self, upto: int) -> list[Row]:
        rows = []
        while self.next_step < upto:
            s = self.next_step
            if s not in self._p.command or s not in self._p.obs:
                break
            t, obs = self._p.obs.pop(s)
            source, action = self._p.command.pop(s)
            pol = self._p.policy.pop(s, None)
            if pol is None:
                pol = np.full(self.action_dim, np.nan, dtype=np.float32)
            rows.append(Row(self.episode, s, t, obs, action, pol, source))
            self.next_step += 1
        return rows
