"""Episode bookkeeping shared by every cell node (twin and Franka bridge): counts, end reasons.

Pure logic. A cell node owns one `EpisodeBook`; it says when an episode ends and why, and
builds the episode's `EpisodeEnd` record (`sim.contract`: which reasons are terminal, which
are aborts) and the `episode_end` event payload from it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.contract import EpisodeEnd, Source


@dataclass
class EpisodeBook:
    episode: int = 0
    steps: int = 0
    intervention_steps: int = 0  # operator-driven steps
    interventions: int = 0  # takeovers: switches to the operator (as in the store's episodes table)
    holds: int = 0
    missed_deadlines: int = 0
    requested_end: str | None = None  # "success" | "abort" from the operator / supervisor
    _last_source: Source = field(default=Source.POLICY)

    def start(self, episode: int) -> None:
        self.episode, self.steps, self.intervention_steps, self.interventions, self.holds = episode, 0, 0, 0, 0
        self.missed_deadlines, self.requested_end, self._last_source = 0, None, Source.POLICY

    def on_applied(self, source: Source, missed_deadline: bool = False) -> None:
        self.steps += 1
        if source == Source.HUMAN:
            self.intervention_steps += 1
            if self._last_source != Source.HUMAN:
                self.interventions += 1
        elif source == Source.HOLD:
            self.holds += 1
        self.missed_deadlines += int(missed_deadline)
        self._last_source = source

    def end_reason(self, terminated: bool, truncated: bool, info: dict) -> str | None:
        """None while the episode goes on; else success | force_abort | operator_abort | timeout."""
        if info.get("success") or self.requested_end == "success":
            return "success"
        if info.get("aborted"):
            return "force_abort"
        if self.requested_end == "abort":
            return "operator_abort"
        if terminated:
            return "terminated"
        if truncated:
            return "timeout"
        return None

    def finish(self, reason: str, final_obs, final_images: dict | None = None) -> EpisodeEnd:
        return EpisodeEnd(self.episode, self.steps, reason, np.asarray(final_obs, dtype=np.float32),
                          self.interventions, self.intervention_steps, self.holds, self.missed_deadlines,
                          final_images)


def end_payload(end: EpisodeEnd) -> dict:
    """The `episode_end` event's data (for people and the stop conditions; the recorder takes
    the same record from the `step` topic)."""
    return {"episode": end.episode, "steps": end.steps, "success": end.success, "aborted": end.aborted,
            "terminal": end.terminal, "truncated": end.truncated, "reason": end.reason,
            "interventions": end.interventions, "intervention_steps": end.intervention_steps,
            "holds": end.holds, "missed_deadlines": end.missed_deadlines}
