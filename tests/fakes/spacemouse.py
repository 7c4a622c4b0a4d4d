"""Shared spacemouse fakes for tests: teleop's fake HID device plus a manual clock and a builder.

    clock, fake, source, op = fake_operator(action_space="xyz")
    fake.set(hid(y=-0.5)); clock.advance(0.01); source.pump(); state = op.poll()

Everything runs on the manual clock, without the reader thread: tests call `source.pump()`
(one reader iteration) themselves, so timing is exact and nothing sleeps.
"""
from __future__ import annotations

from dataclasses import replace

from teleop.config import TeleopConfig
from teleop.fake import DEMO, DEMO_PERIOD_S, FakeSpaceMouse, Step, hid
from teleop.operator import HumanOperator
from teleop.spacemouse import SpaceMouseSource

__all__ = ["DEMO", "DEMO_PERIOD_S", "FakeSpaceMouse", "ManualClock", "Step", "fake_operator", "hid", "run_for"]


class ManualClock:
    """A clock that only moves when told to (s)."""

    def __init__(self, t: float = 100.0):
        self.t = float(t)

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> float:
        self.t += dt
        return self.t


def fake_operator(action_space: str = "6d", model: str = "SpaceMouseWireless", **cfg_overrides):
    """(clock, fake device, SpaceMouseSource, HumanOperator) wired together on a ManualClock."""
    cfg = replace(TeleopConfig(device="fake", fake_model=model), **cfg_overrides)
    clock = ManualClock()
    fake = FakeSpaceMouse(model, clock=clock)
    source = SpaceMouseSource(fake.opener(), cfg, clock, name="fake")
    return clock, fake, source, HumanOperator(source, cfg, action_space)


def run_for(clock: ManualClock, source, op, seconds: float, dt: float = 0.005):
    """Pump the source every `dt` s (a 200 Hz reader) and poll every 0.1 s; all states polled."""
    states = []
    n = int(round(seconds / dt))
    per_tick = int(round(0.1 / dt))
    for i in range(1, n + 1):
        clock.advance(dt)
        source.pump()
        if i % per_tick == 0:
            states.append(op.poll())
    return states
