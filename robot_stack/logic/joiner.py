"""The recorder's join: observation + policy action + command, matched by (episode, step).

Pure logic (no rclpy). Messages arrive on separate topics in any order, and in accelerated mode
the next episode's messages may arrive before the previous episode's `episode_end` event, so
every open episode keeps its own pending messages. A step's row is final once a later step's
command (or its episode's end) has arrived, because the cell may replace a late mux command by
its own HOLD command (missed deadline), and the HOLD is what was executed.
Rows come out per episode in step order, ready for `ReplayStore.append`.
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
class _Episode:
    obs: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict)
    policy: dict[int, np.ndarray] = field(default_factory=dict)
    command: dict[int, tuple[Source, np.ndarray]] = field(default_factory=dict)
    next_step: int = 0  # next step to emit


class StepJoiner:
    def __init__(self, action_dim: int):
        self.action_dim = action_dim
        self.eps: dict[int, _Episode] = {}
        self.closed_below = 0  # episodes below this are finished (committed or discarded)
        self.dropped = 0  # messages of finished episodes or of steps already emitted

    def _get(self, episode: int, step: int) -> _Episode | None:
        if episode < self.closed_below:
            self.dropped += 1
            return None
        ep = self.eps.setdefault(episode, _Episode())
        if step < ep.next_step:
            self.dropped += 1
            return None
        return ep

    def open_episodes(self) -> list[int]:
        return sorted(self.eps)

    def on_observation(self, episode: int, step: int, t: float, obs: np.ndarray) -> None:
        if (ep := self._get(episode, step)) is not None:
            ep.obs[step] = (t, obs)

    def on_policy_action(self, episode: int, step: int, action: np.ndarray) -> None:
        if (ep := self._get(episode, step)) is not None:
            ep.policy[step] = action

    def on_command(self, episode: int, step: int, source: Source, action: np.ndarray) -> None:
        if (ep := self._get(episode, step)) is not None:
            if step not in ep.command or source == Source.HOLD:  # the cell's HOLD overrides a late mux command
                ep.command[step] = (source, action)

    def take(self, episode: int) -> list[Row]:
        """Rows of `episode` that are final (a later step's command has arrived)."""
        ep = self.eps.get(episode)
        if ep is None or not ep.command:
            return []
        return self._emit(episode, ep, upto=max(ep.command))

    def end_episode(self, episode: int, steps: int) -> tuple[list[Row], bool]:
        """All remaining rows of an ended episode; (rows, complete). Complete closes it."""
        ep = self.eps.get(episode)
        rows = self._emit(episode, ep, upto=steps) if ep is not None else []
        complete = steps == 0 if ep is None else ep.next_step >= steps
        if complete:
            self.close(episode)
        return rows, complete

    def close(self, episode: int) -> None:
        """Forget an episode (committed, or discarded with its missing rows)."""
        self.eps.pop(episode, None)
        self.closed_below = max(self.closed_below, episode + 1)
        for e in [e for e in self.eps if e < self.closed_below]:
            del self.eps[e]

    def _emit(self, episode: int, ep: _Episode, upto: int) -> list[Row]:
        rows = []
        while ep.next_step < upto:
            s = ep.next_step
            if s not in ep.command or s not in ep.obs:
                break
            t, obs = ep.obs.pop(s)
            source, action = ep.command.pop(s)
            pol = ep.policy.pop(s, None)
            if pol is None:
                pol = np.full(self.action_dim, np.nan, dtype=np.float32)
            rows.append(Row(episode, s, t, obs, action, pol, source))
            ep.next_step += 1
        return rows
