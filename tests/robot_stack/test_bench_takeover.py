"""How `rlif bench takeover` counts: ticks from the takeover being sent to the first step the
operator drove, judged by the writers' timestamps (synthetic timelines at 10 Hz)."""
from __future__ import annotations

from robot_stack.bench_takeover import takeover_latencies
from sim.contract import Source

P, H, X = Source.POLICY, Source.HUMAN, Source.HOLD


def timeline(sources, t_obs0=0.0, dt=0.1, decide_after=0.005):
    """Steps 0.. of episode 0: observation at t_obs0 + k dt, its command `decide_after` later."""
    observed = [(t_obs0 + k * dt, (0, k)) for k in range(len(sources))]
    commands = [(t + decide_after, key, s) for (t, key), s in zip(observed, sources)]
    return observed, commands


def test_the_next_step_driven_by_the_operator_is_one_tick():
    observed, commands = timeline([P, P, H, H])
    flags = [(0.0, False), (0.15, True), (0.25, True)]  # takeover sent between steps 1 and 2; a heartbeat
    (x,) = takeover_latencies(flags, observed, commands)
    assert x["ticks"] == 1 and abs(x["ms"] - 55.0) < 1e-6


def test_the_step_in_flight_becoming_the_operators_is_zero_ticks():
    observed, commands = timeline([P, H, H], decide_after=0.02)
    flags = [(0.05, False), (0.11, True)]  # sent after step 1's observation, before its decision
    (x,) = takeover_latencies(flags, observed, commands)
    assert x["ticks"] == 0


def test_policy_or_held_steps_after_the_takeover_count():
    observed, commands = timeline([P, P, P, X, H])
    (x,) = takeover_latencies([(0.0, False), (0.15, True)], observed, commands)
    assert x["ticks"] == 3  # steps 2, 3 and the operator's step 4


def test_each_takeover_counts_once_and_unanswered_ones_are_left_out():
    observed, commands = timeline([P, H, H, P, P, P])
    flags = [(0.0, False), (0.05, True), (0.15, True), (0.25, False), (0.45, True)]  # the last: no answer yet
    xs = takeover_latencies(flags, observed, commands)
    assert [x["t"] for x in xs] == [0.05] and xs[0]["ticks"] == 1


def test_takeover_spans_pair_each_takeover_with_its_release_whatever_the_arrival_order():
    from robot_stack.bench_takeover import takeover_spans

    flags = [(0.3, False), (0.0, False), (0.1, True), (0.2, True), (0.5, True), (0.4, False)]
    assert takeover_spans(flags) == [(0.1, 0.3), (0.5, None)]  # heartbeats and repeated releases ignored
    assert takeover_spans([(0.0, True), (0.1, True)]) == []  # no False before it: not a takeover seen starting
