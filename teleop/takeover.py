"""Who drives: the takeover / release state machine (pure; every time is passed in, in s).

- Takeover on the first input: an active axis outside the deadband, a button held, or the
  keyboard's takeover latch switched on. The event is stamped with that reading's time.
- While the input lasts the hold timer restarts; release `release_hold_s` after the input ended
  (the first reading back inside the deadband; not before), unless the latch is on. Switching the latch off releases at once.
- While `faulted` (device silent or gone), the machine never releases: the mux keeps holding and
  the policy never gets control back by itself. When the fault clears, the hold timer restarts
  from that moment, so the operator gets a full `release_hold_s` to grab the device again.
"""
from __future__ import annotations

TAKEOVER = "takeover"
RELEASE = "release"


class TakeoverMachine:
    def __init__(self, release_hold_s: float):
        self.release_hold_s = float(release_hold_s)
        self.intervening = False
        self.latched = False
        self.last_input_t = float("-inf")  # s, source clock
        self.faulted = False
        self.takeovers = 0
        self.releases = 0
        self.since_t: float | None = None  # when the current intervention started, s
        self._in_input = False  # the previous reading was input

    def on_input(self, t: float, is_input: bool, latched: bool = False) -> list[str]:
        """Feed one reading (or the current device state) at time `t`; returns events."""
        events: list[str] = []
        if self.latched and not latched and self.intervening:
            events += self._release()
        if latched and not self.latched:
            is_input = True  # switching the latch on is itself input
        self.latched = latched
        if is_input or self._in_input:  # input now, or it just ended at t: the hold timer starts from t
            self.last_input_t = max(self.last_input_t, t)
        self._in_input = is_input
        if is_input:
            if not self.intervening:
                self.intervening = True
                self.takeovers += 1
                self.since_t = t
                events.append(TAKEOVER)
        return events

    def update(self, now: float, faulted: bool = False) -> list[str]:
        """Advance the clock to `now`; releases when the hold time has passed without input."""
        if faulted:
            self.faulted = True
            return []
        if self.faulted:
            self.faulted = False
            self.last_input_t = max(self.last_input_t, now)
        if self.intervening and not self.latched and now - self.last_input_t >= self.release_hold_s:
            return self._release()
        return []

    def _release(self) -> list[str]:
        self.intervening = False
        self.latched = False
        self.releases += 1
        self.since_t = None
        return [RELEASE]
