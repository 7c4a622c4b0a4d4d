"""Accelerated mode: run the twin as fast as the slowest consumer allows, keeping the UTD ratio.

With a learner in the graph, env step n may start only once the learner has done
`n - warmup - slack` updates (one `agent.update()` per env step, each of `agent.utd` gradient
steps), where `slack` lets one episode be in flight (the learner only sees committed
episodes). Without a learner there is no gate.
"""
from __future__ import annotations


class UtdGate:
    def __init__(self, warmup_rows: int, slack_steps: int, enabled: bool = True):
        self.warmup, self.slack, self.enabled = warmup_rows, slack_steps, enabled
        self.learner_updates = 0
        self.learner_seen = False

    def on_learner_updates(self, updates: int) -> None:
        self.learner_seen = True
        self.learner_updates = max(self.learner_updates, int(updates))

    def may_step(self, env_steps: int) -> bool:
        if not self.enabled:
            return True
        owed = env_steps - self.warmup - self.slack
        return owed <= 0 or self.learner_updates >= owed
