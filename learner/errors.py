"""Errors the learner raises on purpose (callers catch these by type)."""
from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint or actor blob is corrupt, truncated or does not match the agent.

    The message names the file (or "<bytes>") and the problem. Raised before anything is
    copied into a live agent or policy, so the caller keeps its last good weights.
    """


class TrainingDiverged(RuntimeError):
    """A loss became non-finite (NaN/inf). Raised before that optimizer step is applied.

    The agent is then marked `diverged` and refuses to be checkpointed, so the last good
    checkpoint on disk stays the newest one; resume from it.
    """


class EmptySubset(ValueError):
    """The agent's sampling subset has no committed rows yet (HG-DAgger before the first takeover,
    DAgger before the first labelled row). Not a failure: training waits for data."""
