"""robot_stack.logic.awake: a stall of the process counts as one capped gap; a quiet sender is
still seen by a watchdog reading the clock periodically."""
from __future__ import annotations

import pytest

from robot_stack.logic.awake import AwakeClock

pytestmark = pytest.mark.unit


class Wall:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_stall_counts_as_one_capped_gap_and_state_taken_after_it_is_fresh():
    wall = Wall()
    clock = AwakeClock(0.04, now=wall)
    wall.t += 0.01
    state_t = clock.read()  # a state message
    wall.t += 0.6  # the process is paused 600 ms; the driver kept publishing
    tick = clock.read()  # the watchdog's timer runs first after the stall...
    assert tick - state_t == pytest.approx(0.04) and clock.stalls == 1
    wall.t += 0.001
    state_t = clock.read()  # ...then the state that arrived meanwhile
    assert clock.read() - state_t < 0.3  # fresh: not a dead driver


def test_a_quiet_sender_is_seen_by_a_periodic_watchdog_even_when_every_tick_is_late():
    for tick_s in (0.02, 0.1):  # on time; starved (every gap capped at 40 ms)
        wall = Wall()
        clock = AwakeClock(0.04, now=wall)
        last_state = clock.read()
        n = 0
        while clock.read() - last_state <= 0.3:  # the watchdog: stale after 300 ms of running time
            wall.t += tick_s
            n += 1
        step = min(tick_s, 0.04)
        assert 0.3 < n * step <= 0.3 + step + 1e-9, (tick_s, n)  # caught; later on the wall when starved


def test_bad_gap_is_refused():
    with pytest.raises(ValueError, match="max_gap_s"):
        AwakeClock(0.0)
