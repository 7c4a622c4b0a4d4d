"""Accelerated mode: run the twin as fast as the slowest consumer allows, keeping the UTD ratio.

With a learner in the graph, env step n may start only once the learner has done
`n - warmup - slack` updates (one `agent.update()` per env step, each of `agent.utd` gradient
steps), where `slack` lets one episode be in flight (the learner only sees committed
episodes). A learner that reports it is waiting for data (it has trained on every committed
row, e.g. after an episode was discarded) never blocks the cell: that would deadlock.
Without a learner there is no gate.
"""
from __future__ import annotations


# the learner's heartbeat `state`s that other nodes act on: in these it cannot update until the cell steps
WAITING_FOR_DATA = "waiting_for_data"  # fewer committed rows than agent.warmup_rows
WAITING_FOR_SUBSET = "waiting_for_subset"  # no row of the agent's subset yet (HG-DAgger before a takeover)
LEARNER_STARVED = (WAITING_FOR_DATA, WAITING_FOR_SUBSET)


class UtdGate:
    def __init__(self, warmup_rows: int, slack_steps: int, enabled: bool = True):
        self.warmup, self.slack, self.enabled = warmup_rows, slack_steps, enabled
        self.learner_updates = 0
        self.learner_starved = False

    def on_learner_updates(self, updates: int, starved: bool = False) -> None:
        self.learner_updates = max(self.learner_updates, int(updates))
        self.learner_starved = starved

    def may_step(self, env_steps: int) -> bool:
        if not self.enabled:
            return True
        owed = env_steps - self.warmup - self.slack
        return owed <= 0 or self.learner_updates >= owed or self.learner_starved
