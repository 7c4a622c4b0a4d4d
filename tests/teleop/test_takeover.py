"""Takeover / release / buttons / faults, driven by real HID reports from the fake device on a
manual clock (no sleeps, no reader thread: every `source.pump()` is one reader iteration)."""
import numpy as np
import pytest

from teleop.takeover import TakeoverMachine
from tests.fakes.spacemouse import fake_operator, hid, run_for

pytestmark = pytest.mark.unit
DT = 0.005  # s between reader iterations (200 Hz)


def step(clock, source, op, dt=DT):
    clock.advance(dt)
    source.pump()
    return op.poll()


def test_takeover_on_the_first_report_outside_the_deadband():
    clock, fake, source, op = fake_operator(deadband=0.1)
    fake.set(hid(y=-0.05))  # inside the deadband: no takeover
    s = step(clock, source, op)
    assert not s.intervening and s.events == [] and np.all(s.action == 0)
    fake.set(hid(y=-0.3))  # the first report outside
    s = step(clock, source, op)
    assert s.intervening and s.events == ["takeover"]
    assert s.action[0] > 0 and s.outside.tolist() == [True, False, False, False, False, False]
    assert op.machine.since_t == clock.t


def test_takeover_within_one_poll_even_if_the_push_ended_before_it():
    clock, fake, source, op = fake_operator()
    fake.set(hid(x=0.6))
    clock.advance(DT)
    source.pump()
    fake.set(hid())
    clock.advance(DT)
    source.pump()  # push and let go between two polls
    s = op.poll()
    assert s.intervening and s.events == ["takeover"]


def test_release_after_the_hold_time_and_not_before():
    clock, fake, source, op = fake_operator(release_hold_s=0.5)
    fake.set(hid(z=-0.7))
    run_for(clock, source, op, 1.0)  # 1 s of continuous reports: still intervening
    assert op.poll().intervening
    fake.set(hid())  # let go: one zero report, then the device is silent
    s = step(clock, source, op)
    t_let_go = clock.t
    assert s.intervening and np.all(s.action == 0)  # holds still while waiting
    clock.t = t_let_go + 0.499
    source.pump()
    assert op.poll().intervening
    clock.t = t_let_go + 0.5
    source.pump()
    s = op.poll()
    assert not s.intervening and s.events == ["release"]


def test_input_keeps_the_intervention_alive_past_the_hold_time():
    clock, fake, source, op = fake_operator(release_hold_s=0.2)
    fake.set(hid(y=0.5))
    states = run_for(clock, source, op, 2.0)
    assert all(s.intervening for s in states)
    assert sum(s.events.count("takeover") for s in states) == 1


@pytest.mark.parametrize("button, event", [(0, "request_success"), (1, "request_abort")])
def test_buttons_take_over_and_request_success_or_abort(button, event):
    clock, fake, source, op = fake_operator()
    pressed = [0, 0]
    pressed[button] = 1
    fake.set(buttons=pressed)
    s = step(clock, source, op)
    assert s.events == ["takeover", event] and s.intervening
    s = step(clock, source, op)  # still held: no repeat
    assert s.events == []
    fake.set(buttons=[0, 0])
    assert step(clock, source, op).events == []
    assert op.poll().button_presses == 1


def test_a_button_tap_between_two_polls_is_not_lost():
    clock, fake, source, op = fake_operator()
    fake.set(buttons=[1, 0])
    clock.advance(DT)
    source.pump()
    fake.set(buttons=[0, 0])
    clock.advance(DT)
    source.pump()
    assert "request_success" in op.poll().events


def test_stale_device_mid_intervention_faults_and_keeps_holding():
    clock, fake, source, op = fake_operator(stale_ms=100.0, release_hold_s=0.5)
    fake.set(hid(y=-0.5))
    run_for(clock, source, op, 0.3)
    fake.freeze()  # the wireless link goes silent while the cap is deflected
    clock.advance(0.09)
    source.pump()
    s = op.poll()
    assert s.fault is None and s.intervening
    clock.advance(0.03)
    source.pump()
    s = op.poll()
    assert s.events == ["fault"] and "stale" in s.fault
    assert s.intervening and np.all(s.action == 0)  # hold: zero action, never hand back
    states = run_for(clock, source, op, 5.0)
    assert all(x.intervening and x.fault for x in states)
    fake.freeze(False)  # reports resume
    s = step(clock, source, op, 0.01)
    assert "fault_cleared" in s.events and s.fault is None and s.action[0] > 0
    fake.set(hid())
    states = run_for(clock, source, op, 1.0)
    assert [e for x in states for e in x.events] == ["release"]


def test_device_vanishing_mid_intervention_faults_holds_and_reconnects():
    clock, fake, source, op = fake_operator(reconnect_s=1.0, release_hold_s=0.5)
    fake.set(hid(x=0.8))
    run_for(clock, source, op, 0.2)
    fake.unplug()
    s = step(clock, source, op)
    assert s.events == ["fault"] and "lost" in s.fault
    assert s.intervening and np.all(s.action == 0)
    states = run_for(clock, source, op, 3.0)  # reconnect attempts fail while unplugged
    assert all(x.intervening and x.fault for x in states)
    assert not source.status().connected
    fake.set(hid())  # the operator let go meanwhile
    fake.replug()
    states = run_for(clock, source, op, 2.0)  # next reconnect attempt (<= 1 s) + the hold (0.5 s)
    events = [e for x in states for e in x.events]
    assert events[0] == "fault_cleared" and source.status().connected
    assert events[1:] == ["release"]  # untouched after the reconnect: released after a full hold
    cleared = next(x.t for x in states if "fault_cleared" in x.events)
    released = next(x.t for x in states if "release" in x.events)
    assert released - cleared >= 0.5 - 1e-9
    fake.set(hid(x=0.8))  # and the device works again
    assert step(clock, source, op).events == ["takeover"]


def test_a_spacemouse_at_rest_is_silent_and_that_is_not_a_fault():
    clock, fake, source, op = fake_operator()
    fake.set(hid(y=0.4))
    run_for(clock, source, op, 0.2)
    fake.set(hid())
    states = run_for(clock, source, op, 5.0)
    assert all(x.fault is None for x in states)
    assert not states[-1].intervening


def test_all_zero_reports_warn_once_with_the_likely_cause():
    clock, fake, source, op = fake_operator(zero_warn_reports=100)
    events = []
    for _ in range(4):
        fake.inject([bytes(13)[:0] + b"\x01" + bytes(12)] * 30)  # report id 1, all axes zero
        events += step(clock, source, op).events
    s = op.poll()
    assert events.count("warning") == 1
    assert "wireless receiver" in s.warning and "0x01" in s.warning
    fake.set(hid(y=0.3))
    assert step(clock, source, op).warning is None


def test_machine_never_releases_while_faulted_and_restarts_the_hold_after():
    m = TakeoverMachine(release_hold_s=0.5)
    assert m.on_input(0.0, True) == ["takeover"]
    m.on_input(0.1, False)
    assert m.update(5.0, faulted=True) == []
    assert m.update(5.1) == [] and m.intervening
    assert m.update(5.6) == ["release"]


def test_latch_holds_until_switched_off():
    m = TakeoverMachine(release_hold_s=0.5)
    assert m.on_input(0.0, False, latched=True) == ["takeover"]
    assert m.update(10.0) == [] and m.intervening
    assert m.on_input(10.1, False, latched=False) == ["release"]
