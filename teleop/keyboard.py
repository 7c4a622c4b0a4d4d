"""Keyboard fallback, usable over SSH: the same `Reading`s as a spacemouse, from a terminal.

The terminal is put in cbreak mode (unbuffered, no echo; Ctrl-C still interrupts) and restored on
`stop()`. A terminal has no key-release events, so a motion key drives its axis at `key_gain`
(of full scale) for `key_hold_s` after its last press; the terminal's auto-repeat while a key is
held keeps it going, and it stops by itself `key_hold_s` after the key is let go.

    w / s  or Up / Down     +x / -x   (forward / back)
    a / d  or Left / Right  +y / -y   (left / right)
    r / f                   +z / -z   (up / down)
    u / o                   +roll / -roll
    i / k                   +pitch / -pitch
    j / l                   +yaw / -yaw
    space                   takeover toggle (on: operator drives and holds still until toggled off)
    g or 1                  mark success (button `button_success`)
    b or 2                  abort episode (button `button_abort`)

Any motion key also takes over (and releases after the hold time, as with the spacemouse).
Switching the toggle off stops all motion and releases at once. A closed terminal (EOF, SSH
dropped) disconnects the source: the operator faults and holds.
"""
from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from typing import Callable

import numpy as np

from teleop.config import TeleopConfig
from teleop.errors import NoTerminal
from teleop.source import PolledSource, Reading

MOTION_KEYS: dict[bytes, tuple[int, float]] = {
    b"w": (0, 1.0), b"s": (0, -1.0), b"a": (1, 1.0), b"d": (1, -1.0), b"r": (2, 1.0), b"f": (2, -1.0),
    b"u": (3, 1.0), b"o": (3, -1.0), b"i": (4, 1.0), b"k": (4, -1.0), b"j": (5, 1.0), b"l": (5, -1.0),
    b"\x1b[A": (0, 1.0), b"\x1b[B": (0, -1.0), b"\x1b[D": (1, 1.0), b"\x1b[C": (1, -1.0),
}
TOGGLE_KEYS = (b" ",)
SUCCESS_KEYS = (b"g", b"1")
ABORT_KEYS = (b"b", b"2")
HELP = ("keys: w/s a/d r/f (or arrows) move x y z; u/o i/k j/l roll pitch yaw; "
        "space takeover toggle; g success; b abort")


class KeyboardSource(PolledSource):
    name = "keyboard"
    continuous = False  # a terminal sends nothing between key repeats: silence is not staleness

    def __init__(self, cfg: TeleopConfig, clock: Callable[[], float] = time.monotonic):
        super().__init__(cfg.poll_hz, clock)
        self.cfg = cfg
        if cfg.keyboard_tty:
            try:
                self.fd = os.open(cfg.keyboard_tty, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
            except OSError as e:
                raise NoTerminal(f"cannot open {cfg.keyboard_tty}: {e.strerror}") from None
            self._own_fd = True
        else:
            self.fd = sys.stdin.fileno()
            self._own_fd = False
        if not os.isatty(self.fd):
            raise NoTerminal(f"{cfg.keyboard_tty or 'stdin'} is not a terminal")
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd, termios.TCSANOW)
        self.axes = np.zeros(6)
        self.until = np.zeros(6)  # s, when each axis stops
        n_buttons = max(cfg.button_success, cfg.button_abort) + 1
        self.buttons = (0,) * n_buttons
        names = [f"BUTTON_{i}" for i in range(n_buttons)]
        names[cfg.button_success], names[cfg.button_abort] = "g (success)", "b (abort)"
        self.button_names = tuple(names)
        self.latched = False
        self._buf = b""

    def _pump(self, now: float) -> None:
        if not self.connected:
            return
        data = b""
        try:
            while select.select([self.fd], [], [], 0)[0]:
                chunk = os.read(self.fd, 1024)
                if not chunk:
                    raise EOFError("terminal closed")
                data += chunk
        except (OSError, EOFError) as e:
            with self._lock:
                self.connected, self.error = False, f"keyboard lost: {e}"
            return
        changed = self._keys(self._buf + data, now)
        expired = (self.axes != 0) & (self.until <= now)
        if expired.any():
            self.axes[expired] = 0.0
            changed = True
        if changed:
            self._push(Reading(now, self.axes.copy(), self.buttons, self.latched))

    def _keys(self, data: bytes, now: float) -> bool:
        changed = False
        self._buf = b""
        i = 0
        while i < len(data):
            if data[i:i + 1] == b"\x1b":
                end = _escape_end(data, i)
                if end is None:
                    self._buf = data[i:]  # an escape sequence split across reads
                    break
                key, i = data[i:end], end
            else:
                key, i = data[i:i + 1], i + 1
            if key in MOTION_KEYS:
                axis, sign = MOTION_KEYS[key]
                self.axes[axis] = sign * self.cfg.key_gain
                self.until[axis] = now + self.cfg.key_hold_s
            elif key in TOGGLE_KEYS:
                self.latched = not self.latched
                if not self.latched:
                    self.axes[:] = 0.0  # toggling off stops all motion
            elif key in SUCCESS_KEYS or key in ABORT_KEYS:
                b = self.cfg.button_success if key in SUCCESS_KEYS else self.cfg.button_abort
                pressed = tuple(int(j == b) for j in range(len(self.buttons)))
                self._push(Reading(now, self.axes.copy(), pressed, self.latched))  # press ...
            else:
                continue
            changed = True  # ... and the release follows in the reading pushed by _pump
        return changed

    def _close(self) -> None:
        try:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        except (termios.error, OSError):
            pass
        if self._own_fd:
            os.close(self.fd)
            self._own_fd = False


def _escape_end(data: bytes, i: int) -> int | None:
    """End index of the escape sequence at data[i] (CSI "ESC [ ... final", SS3 "ESC O x"), None if cut."""
    if i + 1 >= len(data):
        return None
    if data[i + 1:i + 2] == b"O":
        return i + 3 if i + 2 < len(data) else None
    if data[i + 1:i + 2] != b"[":
        return i + 1  # a lone ESC (ignored)
    j = i + 2
    while j < len(data) and 0x20 <= data[j] <= 0x3F:  # parameter and intermediate bytes
        j += 1
    return j + 1 if j < len(data) else None
