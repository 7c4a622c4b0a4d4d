"""Keyboard fallback driven through a real pseudo-terminal (the way it runs over SSH)."""
import os
import pty
import select
import termios
import time

import numpy as np
import pytest

from teleop.config import TeleopConfig
from teleop.errors import NoTerminal
from teleop.keyboard import KeyboardSource
from teleop.operator import HumanOperator
from tests.fakes.spacemouse import ManualClock

pytestmark = pytest.mark.unit


@pytest.fixture
def kb():
    master, slave = pty.openpty()
    cfg = TeleopConfig(device="keyboard", keyboard_tty=os.ttyname(slave), key_gain=0.5, key_hold_s=0.5,
                       release_hold_s=0.5, deadband=0.0)
    clock = ManualClock()
    src = KeyboardSource(cfg, clock)
    op = HumanOperator(src, cfg, "6d")

    def type_keys(keys: bytes, dt: float = 0.01):
        os.write(master, keys)
        deadline = time.monotonic() + 2.0  # wait until the bytes are readable (not a timing assert)
        while not select.select([src.fd], [], [], 0.01)[0] and time.monotonic() < deadline:
            pass
        return tick(dt)

    def tick(dt: float = 0.01):
        clock.advance(dt)
        src.pump()
        return op.poll()

    yield type_keys, tick, clock, src, master, slave
    src.stop()
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


@pytest.mark.parametrize("keys, axis, sign", [
    (b"w", 0, 1), (b"s", 0, -1), (b"a", 1, 1), (b"d", 1, -1), (b"r", 2, 1), (b"f", 2, -1),
    (b"u", 3, 1), (b"o", 3, -1), (b"i", 4, 1), (b"k", 4, -1), (b"j", 5, 1), (b"l", 5, -1),
    (b"\x1b[A", 0, 1), (b"\x1b[B", 0, -1), (b"\x1b[D", 1, 1), (b"\x1b[C", 1, -1),
])
def test_motion_keys_take_over_with_the_spacemouse_axis_convention(kb, keys, axis, sign):
    type_keys, *_ = kb
    s = type_keys(keys)
    expected = np.zeros(6)
    expected[axis] = 0.5 * sign
    assert s.intervening and s.events == ["takeover"]
    assert s.action == pytest.approx(expected)


def test_key_drives_for_the_hold_then_releases_after_release_hold(kb):
    type_keys, tick, clock, *_ = kb
    type_keys(b"w")
    t_press = clock.t
    while clock.t < t_press + 0.49:
        s = tick()
        assert s.action[0] == pytest.approx(0.5)
    s = tick(0.02)  # key hold over: stops, still intervening
    assert s.intervening and np.all(s.action == 0)
    while clock.t < t_press + 0.5 + 0.49:
        assert tick().intervening
    s = tick(0.02)
    assert not s.intervening and s.events == ["release"]


def test_success_abort_and_takeover_toggle(kb):
    type_keys, tick, *_ = kb
    s = type_keys(b"g")
    assert s.events == ["takeover", "request_success"]
    assert type_keys(b"b").events == ["request_abort"]
    for _ in range(100):
        tick(0.01)
    assert not tick().intervening
    s = type_keys(b" ")  # toggle on: drives (holding still) until toggled off
    assert s.events == ["takeover"] and np.all(s.action == 0)
    for _ in range(300):
        assert tick(0.01).intervening
    s = type_keys(b"w ")  # a motion key, then toggle off: release at once, motion stopped
    assert s.events == ["release"] and not s.intervening
    for _ in range(10):  # the pending motion key was cancelled: no re-takeover
        s = tick()
        assert not s.intervening and np.all(s.action == 0)


def test_escape_sequence_split_across_reads_and_unknown_keys_are_ignored(kb):
    type_keys, tick, *_ = kb
    assert type_keys(b"\x1b[").events == []
    s = type_keys(b"A")
    assert s.events == ["takeover"] and s.action[0] > 0
    type_keys(b"\x1b[1;5Dzx?")  # ctrl-left, unknown letters: no motion
    assert np.all(tick(0.6).action == 0)


def test_terminal_closed_mid_intervention_faults_and_holds(kb):
    type_keys, tick, clock, src, master, slave = kb
    type_keys(b"w")
    os.close(master)
    s = tick()
    assert s.events == ["fault"] and s.intervening and np.all(s.action == 0)
    for _ in range(200):
        assert tick(0.01).intervening


def test_terminal_mode_is_restored_on_stop():
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        src = KeyboardSource(TeleopConfig(keyboard_tty=os.ttyname(slave)))
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # cbreak: no echo
        src.stop()
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_not_a_terminal_names_the_fix(tmp_path):
    f = tmp_path / "plain-file"
    f.write_text("")
    with pytest.raises(NoTerminal, match="ssh -t"):
        KeyboardSource(TeleopConfig(keyboard_tty=str(f)))
