"""The time a process has been running: a clock for watchdogs that must not fire on a busy PC.

`AwakeClock.read()` advances by the wall (monotonic) time since the previous reading, but by at
most `max_gap_s`: a stall of this process (CPU starved, paused) counts as one short gap. Messages
that arrived during the stall are taken after it (their callbacks read the clock then), so "no
state for X s of our running time" means the sender went quiet, not that we did. A watchdog on
this clock still fires when the sender is gone: each of our own readings (a periodic check)
advances it by up to `max_gap_s`, so detection is late by at most the ratio of stall to gap.
"""
from __future__ import annotations

import time
from typing import Callable


class AwakeClock:
    def __init__(self, max_gap_s: float, now: Callable[[], float] = time.monotonic):
        if not max_gap_s > 0:
            raise ValueError(f"max_gap_s must be > 0, got {max_gap_s}")
        self.max_gap_s, self._now = max_gap_s, now
        self._last = now()
        self.t = 0.0  # s of running time since construction
        self.stalls = 0  # readings whose gap was capped

    def read(self) -> float:
        m = self._now()
        gap = m - self._last
        if gap > self.max_gap_s:
            gap, self.stalls = self.max_gap_s, self.stalls + 1
        self.t += max(gap, 0.0)
        self._last = m
        return self.t
