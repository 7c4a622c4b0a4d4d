"""What every operator input source delivers, and the reader thread that polls it.

A source (spacemouse, fake spacemouse, keyboard) turns device input into `Reading`s: the 6 device
axes in the ROS convention (x forward, y left, z up, roll, pitch, yaw; full scale 1.0), the
buttons, and the keyboard's takeover latch, stamped with the source's clock (s). A reader thread
calls `pump()` at `poll_hz`; `drain()` hands every reading since the last call to the consumer
(`HumanOperator.poll`, one call per control tick), so a short tap or a button press between two
ticks is never lost. `status()` tells whether the device is connected, when it last reported,
and the measured poll and report rates. Tests skip the thread and call `pump()` themselves with
an injected clock.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

MAX_QUEUE = 4096  # readings kept between two drains (~20 s of reports at 200 Hz)
RATE_WINDOW_S = 1.0  # rates are measured over windows of this length, s


@dataclass(frozen=True)
class Reading:
    t: float  # source clock, s
    axes: np.ndarray  # (6,) x y z roll pitch yaw, ROS convention, full scale 1.0
    buttons: tuple[int, ...] = ()  # 1 = pressed
    latched: bool = False  # keyboard takeover toggle is on


@dataclass
class SourceStatus:
    name: str
    connected: bool
    error: str | None = None  # why the device is not usable right now
    warning: str | None = None  # device works but looks wrong (e.g. all-zero reports)
    last_report_t: float | None = None  # source clock of the newest report, s
    reports: int = 0  # reports read since start
    poll_hz: float = 0.0  # measured reader loop rate, Hz
    report_hz: float = 0.0  # measured device report rate, Hz
    pumps: int = 0  # reader loop iterations since start
    info: dict = field(default_factory=dict)


class _Rate:
    """Events per second over consecutive windows of RATE_WINDOW_S."""

    def __init__(self):
        self.t0: float | None = None
        self.n = 0
        self.hz = 0.0

    def tick(self, now: float, k: int = 1) -> None:
        if self.t0 is None:
            self.t0 = now
        self.n += k
        if now - self.t0 >= RATE_WINDOW_S:
            self.hz = self.n / (now - self.t0)
            self.t0, self.n = now, 0


class PolledSource:
    """Base of every input source: reading queue, rates, and the reader thread."""

    name = "source"
    button_names: tuple[str, ...] = ()  # names of the buttons, by index (for the live view)
    continuous = True  # reports keep coming while deflected, so silence while deflected = stale

    def __init__(self, poll_hz: float = 200.0, clock: Callable[[], float] = time.monotonic):
        self.poll_hz = float(poll_hz)
        self.clock = clock
        self._lock = threading.Lock()
        self._queue: deque[Reading] = deque(maxlen=MAX_QUEUE)
        self._poll_rate = _Rate()
        self._report_rate = _Rate()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = True
        self.error: str | None = None
        self.warning: str | None = None
        self.last_report_t: float | None = None
        self.reports = 0
        self.pumps = 0

    # ------------------------------------------------------------ subclass hooks
    def _pump(self, now: float) -> None:
        """Read whatever the device has (non-blocking); call `_push` per reading."""
        raise NotImplementedError

    def _close(self) -> None:
        """Release the device (called once by `stop()`)."""

    # ------------------------------------------------------------ used by subclasses
    def _push(self, reading: Reading, report: bool = True) -> None:
        with self._lock:
            self._queue.append(reading)
            if report:
                self.reports += 1
                self.last_report_t = reading.t
                self._report_rate.tick(reading.t)

    # ------------------------------------------------------------ public
    def pump(self) -> None:
        """One reader-loop iteration: read all pending input now (never blocks)."""
        now = self.clock()
        self._pump(now)
        with self._lock:
            self.pumps += 1
            self._poll_rate.tick(now)
            self._report_rate.tick(now, 0)

    def drain(self) -> list[Reading]:
        """Every reading since the previous call, oldest first."""
        with self._lock:
            out = list(self._queue)
            self._queue.clear()
        return out

    def status(self) -> SourceStatus:
        with self._lock:
            return SourceStatus(self.name, self.connected, self.error, self.warning, self.last_report_t,
                                self.reports, self._poll_rate.hz, self._report_rate.hz, self.pumps)

    def start(self) -> PolledSource:
        """Run `pump()` at `poll_hz` in a daemon thread (absolute schedule, no drift)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"teleop-{self.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._close()

    def _run(self) -> None:
        period = 1.0 / self.poll_hz
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                self.pump()
            except Exception as e:  # noqa: BLE001 - a reader bug must surface as a fault, not a dead thread
                with self._lock:
                    self.connected, self.error = False, f"reader error: {type(e).__name__}: {e}"
            next_t += period
            delay = next_t - time.monotonic()
            if delay < -period:  # fell behind (overloaded machine): do not try to catch up
                next_t = time.monotonic()
            elif delay > 0:
                self._stop.wait(delay)

    def __enter__(self) -> PolledSource:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
