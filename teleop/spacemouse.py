"""The spacemouse as an input source: drain every HID report, reconnect, warn on all-zero reports.

Each `pump()` (reader thread, `poll_hz` >= 100 Hz) calls pyspacemouse's `SpaceMouseDevice.read()`
until the device has nothing left: every read returns at most one HID report, and draining keeps
the kernel's report queue from building up lag. Each report becomes one `Reading`.

A read error (unplugged, wireless link lost) closes the device and marks the source disconnected;
`pump()` then retries the opener every `reconnect_s` and carries on when the device is back.
A device that keeps sending reports which all read zero (axes and buttons) for
`zero_warn_reports` reports in a row sets a warning: a real spacemouse at rest sends nothing, so
this is the known wireless-receiver symptom (wrong HID interface, or the mouse asleep / not paired).
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from teleop.config import TeleopConfig
from teleop.errors import TeleopDeviceError
from teleop.hid import HidTap
from teleop.source import PolledSource, Reading

MAX_READS_PER_POLL = 256  # reports drained in one pump at most (a full hidraw queue is 64)
ZERO_WARNING = ("spacemouse sends reports that all read zero ({n} in a row, report ids {ids}): "
                "some wireless receivers do this when the mouse is asleep or unpaired, or the wrong HID "
                "interface is open; wake or re-pair it, try the USB cable, or set teleop.hid_path")

Opener = Callable[[], "tuple[Any, HidTap]"]


class SpaceMouseSource(PolledSource):
    name = "spacemouse"
    continuous = True

    def __init__(self, opener: Opener, cfg: TeleopConfig, clock: Callable[[], float] = time.monotonic,
                 name: str = "spacemouse", must_open: bool = True):
        """`opener()` returns (pyspacemouse SpaceMouseDevice, HidTap) or raises TeleopDeviceError.
        The first open happens here: with `must_open` a missing device raises at once; without,
        the source starts disconnected (an operator fault) and keeps trying every `reconnect_s`."""
        super().__init__(cfg.poll_hz, clock)
        self.name = name
        self.cfg = cfg
        self.opener = opener
        self.dev, self.tap = None, None
        self._retry_t = 0.0
        self._zero_run = 0
        try:
            self.dev, self.tap = opener()
        except TeleopDeviceError as e:
            if must_open:
                raise
            self.connected, self.error = False, f"{name} not connected: {e}"
            self._retry_t = clock() + cfg.reconnect_s
            return
        self.button_names = tuple(self.dev.info.button_names)

    def _pump(self, now: float) -> None:
        if self.dev is None:
            self._try_reconnect(now)
            return
        for _ in range(MAX_READS_PER_POLL):
            before = self.tap.reports
            try:
                state = self.dev.read()  # one HID report at most, parsed by pyspacemouse
            except Exception as e:  # noqa: BLE001 - easyhid.HIDException, OSError: the device is gone
                self._lost(now, e)
                return
            if self.tap.reports == before:
                break
            axes = np.array([state.x, state.y, state.z, state.roll, state.pitch, state.yaw], dtype=np.float64)
            buttons = tuple(int(b) for b in state.buttons)
            self._check_zeros(axes, buttons)
            self._push(Reading(now, axes, buttons))

    def _check_zeros(self, axes: np.ndarray, buttons: tuple[int, ...]) -> None:
        if axes.any() or any(buttons):
            self._zero_run = 0
            if self.warning and self.warning.startswith("spacemouse sends reports that all read zero"):
                self.warning = None
            return
        self._zero_run += 1
        if self._zero_run == self.cfg.zero_warn_reports:
            ids = ", ".join(f"0x{i:02x}" for i in sorted(self.tap.ids))
            self.warning = ZERO_WARNING.format(n=self._zero_run, ids=ids)

    def _lost(self, now: float, e: Exception) -> None:
        try:
            self.dev.close()
        except Exception:  # noqa: BLE001 - closing a vanished device may fail; it is gone either way
            pass
        with self._lock:
            self.dev = None
            self.connected = False
            self.error = f"spacemouse lost ({type(e).__name__}: {e}); reconnecting every {self.cfg.reconnect_s:g} s"
        self._retry_t = now + self.cfg.reconnect_s

    def _try_reconnect(self, now: float) -> None:
        if now < self._retry_t:
            return
        self._retry_t = now + self.cfg.reconnect_s
        try:
            dev, tap = self.opener()
        except TeleopDeviceError as e:
            with self._lock:
                self.error = f"spacemouse lost; reconnecting: {e.what}"
            return
        with self._lock:
            self.dev, self.tap = dev, tap
            self.button_names = tuple(dev.info.button_names)
            self.connected, self.error = True, None
            self._zero_run = 0
        # a freshly opened device is at rest until it reports otherwise (not a report: no stale clock)
        self._push(Reading(now, np.zeros(6), tuple(0 for _ in dev.info.button_specs)), report=False)

    def _close(self) -> None:
        if self.dev is not None:
            try:
                self.dev.close()
            finally:
                self.dev = None
