"""The one write path into the replay store: `Step` records in, committed episodes out.

The clock that executed a step is the only one that knows it whole (the observation it decided
on, the policy's proposal, the action it really executed and who drove), so it emits one `Step`
per control step and one `EpisodeEnd` after the last (`sim.contract`). Every writer feeds them
here: the graph's recorder node (from the `step` topic), `learner.loop.run_episode` in process
(`rlif experiment`, `rlif eval`, demos, tests).

An episode is committed only whole: its steps must arrive as 0, 1, ... and their count must
equal the end's `steps`. A writer that starts in the middle of an episode (a recorder restarted
while the cell ran on) keeps nothing of it and says why; nothing is ever stored with a hole.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.contract import EpisodeEnd, Step


@dataclass(frozen=True)
class Outcome:
    """What `EpisodeWriter.end` did: `index` = the store's episode index when committed."""

    committed: bool
    index: int | None = None
    why: str = ""  # why not committed


class EpisodeWriter:
    """Appends an episode's steps to `store` and commits it on its end (see the module docstring)."""

    def __init__(self, store, operator: str = "", cell: str = "sim"):
        self.store = store
        self.operator = operator
        self.cell = cell
        self.episode: int | None = None  # the episode whose rows are pending in the store
        self.next_step = 0
        self.broken: str | None = None  # why the pending episode cannot be committed

    def step(self, s: Step, expert_action: np.ndarray | None = None) -> bool:
        """Append one step; False when it is not stored (its episode is already incomplete)."""
        if s.episode != self.episode:
            self._drop_pending()
            self.episode, self.next_step = s.episode, 0
            self.broken = None if s.step == 0 else f"its steps 0-{s.step - 1} never reached this writer"
        if self.broken is None and s.step != self.next_step:
            self.broken = f"step {s.step} arrived where step {self.next_step} was due"
        if self.broken is not None:
            return False
        self.store.append(s.obs, s.action, s.policy_action, int(s.source), s.intervening,
                          t=s.t, expert_action=expert_action, images=s.images)
        self.next_step += 1
        return True

    def end(self, e: EpisodeEnd, demo: bool = False) -> Outcome:
        """Commit the episode `e` ends, or discard what is pending of it and say why."""
        if e.steps == 0:
            why = "it ended before its first step"
        elif e.episode != self.episode:
            why = "none of its steps reached this writer"
        elif self.broken is not None:
            why = self.broken
        elif self.next_step != e.steps:
            why = f"{self.next_step} of its {e.steps} steps reached this writer"
        else:
            try:
                index = self.store.end_episode(terminal=e.terminal, success=e.success, truncated=e.truncated,
                                               final_obs=e.final_obs, final_images=e.final_images,
                                               operator=self.operator, cell=self.cell, aborted=e.aborted,
                                               demo=demo)
            except ValueError as err:  # values the store refuses (non-finite): not committed
                why = str(err)
            else:
                self.episode = None
                return Outcome(True, index)
        if e.episode == self.episode:
            self._drop_pending()
        return Outcome(False, why=why)

    def _drop_pending(self) -> None:
        if self.store.n_pending:
            self.store.discard_episode()
        self.episode, self.broken = None, None
