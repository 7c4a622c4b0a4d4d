"""The replay store: the one module that knows the store's schema (DESIGN.md "Data").

(Being built: see issue "Crash-safe zarr replay store".)
"""
from __future__ import annotations

from enum import IntEnum


class Source(IntEnum):
    """Who produced the executed action of a step (the `source` column and the `command` topic)."""

    POLICY = 0
    HUMAN = 1  # the operator (human or simulated) was driving
    HOLD = 2  # nobody: the cell held pose (missed deadline, NaN, stale teleop, e-stop)
