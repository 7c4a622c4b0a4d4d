"""The human operator as one object the graph polls: `HumanOperator(source, cfg, action_space)`.

    op = HumanOperator(open_source(cfg), cfg, action_space="6d").start()
    state = op.poll(now)   # once per timer tick; never blocks
    op.close()

`poll(now)` drains every reading the source's reader thread collected since the last call,
runs the takeover machine over them in order, checks the device's health, and returns:

`TeleopState`
  t            the `now` it was computed for (source clock, s)
  intervening  the operator drives (the mux must use `action`, never the policy's)
  action       (6,) float32, x y z rx ry rz in action units [-1, 1], zeros for axes the action space
               does not use; zeros when not intervening or while faulted (hold still)
  axes         (6,) float64, the newest device axes, ROS convention, full scale 1.0 (for `joy`)
  buttons      tuple of 0/1, the newest buttons (for `joy`)
  events       what happened since the last poll, in order: "takeover", "release",
               "request_success", "request_abort" (equal to robot_stack.topics.EventKind.REQ_*),
               "fault", "fault_cleared", "warning"
  fault        why the device cannot be trusted right now, or None. While faulted the state stays
               intervening if it was (the mux holds); the policy never gets control back by itself.
  warning      the device works but looks wrong (e.g. all-zero reports), or None
  outside      (6,) bool, which action axes are outside the deadband (live view)
  source, poll_hz, report_hz, takeovers, releases, button_presses: for status / the live view

Faults: the device vanished (read error, terminal closed), or a `continuous` device (spacemouse)
sent nothing for `stale_ms` while its last report was deflected (a frozen wireless link). A
spacemouse at rest is silent by design, so silence within the deadband is not a fault.
Buttons: a press (0 -> 1 edge) of `button_success` / `button_abort` emits the request; any
button held counts as input (takeover), as the contract says.

A simulated operator can produce the same `TeleopState` (this module imports nothing from sim/).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from teleop.config import TeleopConfig
from teleop.mapping import AxisMapper
from teleop.source import PolledSource, Reading
from teleop.takeover import RELEASE, TAKEOVER, TakeoverMachine

REQUEST_SUCCESS = "request_success"  # == robot_stack.topics.EventKind.REQ_SUCCESS
REQUEST_ABORT = "request_abort"  # == robot_stack.topics.EventKind.REQ_ABORT
FAULT = "fault"  # == robot_stack.topics.EventKind.FAULT
FAULT_CLEARED = "fault_cleared"
WARNING = "warning"
EVENTS = (TAKEOVER, RELEASE, REQUEST_SUCCESS, REQUEST_ABORT, FAULT, FAULT_CLEARED, WARNING)


@dataclass
class TeleopState:
    t: float
    intervening: bool
    action: np.ndarray
    axes: np.ndarray
    buttons: tuple[int, ...]
    events: list[str] = field(default_factory=list)
    fault: str | None = None
    warning: str | None = None
    outside: np.ndarray = field(default_factory=lambda: np.zeros(6, dtype=bool))
    source: str = ""
    poll_hz: float = 0.0
    report_hz: float = 0.0
    takeovers: int = 0
    releases: int = 0
    button_presses: int = 0


class HumanOperator:
    """Spacemouse or keyboard operator: readings -> takeover machine -> `TeleopState`."""

    def __init__(self, source: PolledSource, cfg: TeleopConfig | None = None, action_space: str = "6d",
                 clock: Callable[[], float] | None = None):
        self.cfg = cfg or TeleopConfig()
        self.cfg.validate()
        self.source = source
        self.clock = clock or source.clock
        self.mapper = AxisMapper(self.cfg, action_space)
        self.machine = TakeoverMachine(self.cfg.release_hold_s)
        self.last: Reading | None = None
        self.fault: str | None = None
        self.warning: str | None = None
        self.button_presses = 0

    def start(self) -> HumanOperator:
        """Start the source's reader thread (not needed when a test pumps the source itself)."""
        self.source.start()
        return self

    def close(self) -> None:
        self.source.stop()

    def __enter__(self) -> HumanOperator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def poll(self, now: float | None = None) -> TeleopState:
        now = self.clock() if now is None else now
        events: list[str] = []
        for r in self.source.drain():
            events += self._on_reading(r)
        st = self.source.status()
        fault = self._fault(now, st)
        if fault and not self.fault:
            events.append(FAULT)
        elif self.fault and not fault:
            events.append(FAULT_CLEARED)
        self.fault = fault
        if st.warning and st.warning != self.warning:
            events.append(WARNING)
        self.warning = st.warning
        if self.last is not None and not fault:  # the device's current state still counts as input
            events += self.machine.on_input(now, self._is_input(self.last), self.last.latched)
        events += self.machine.update(now, faulted=fault is not None)
        axes = self.last.axes if self.last is not None else np.zeros(6)
        driving = self.machine.intervening and fault is None
        action = self.mapper.action(axes) if driving else np.zeros(6, dtype=np.float32)
        return TeleopState(
            t=now, intervening=self.machine.intervening, action=action, axes=np.array(axes, dtype=np.float64),
            buttons=self.last.buttons if self.last is not None else (), events=events, fault=fault,
            warning=st.warning, outside=self.mapper.outside_deadband(axes), source=st.name,
            poll_hz=st.poll_hz, report_hz=st.report_hz, takeovers=self.machine.takeovers,
            releases=self.machine.releases, button_presses=self.button_presses)

    # ------------------------------------------------------------ internals
    def _is_input(self, r: Reading) -> bool:
        return self.mapper.is_input(r.axes) or any(r.buttons)

    def _on_reading(self, r: Reading) -> list[str]:
        prev = self.last.buttons if self.last is not None else ()
        self.last = r
        events = self.machine.on_input(r.t, self._is_input(r), r.latched)
        for i, b in enumerate(r.buttons):
            if b and not (i < len(prev) and prev[i]):
                self.button_presses += 1
                if i == self.cfg.button_success:
                    events.append(REQUEST_SUCCESS)
                elif i == self.cfg.button_abort:
                    events.append(REQUEST_ABORT)
        return events

    def _fault(self, now: float, st) -> str | None:
        if not st.connected:
            return st.error or f"{st.name} disconnected"
        if (self.source.continuous and self.last is not None and st.last_report_t is not None
                and self.mapper.is_input(self.last.axes)
                and (now - st.last_report_t) * 1e3 > self.cfg.stale_ms):
            return (f"{st.name} stale: no report for {(now - st.last_report_t) * 1e3:.0f} ms "
                    f"(> {self.cfg.stale_ms:g} ms) while deflected")
        return None


def open_source(cfg: TeleopConfig, device: str | None = None, clock: Callable[[], float] = time.monotonic,
                demo: bool = True, must_open: bool = True) -> PolledSource:
    """The source for `device` ("spacemouse" | "keyboard" | "fake"; default `cfg.device`).

    Raises a `teleop.errors.TeleopDeviceError` (with the fix) when the device is not usable;
    with `must_open=False` a spacemouse that is not there yet starts as a fault and is opened
    as soon as it appears (a node started before the device is plugged in).
    The fake plays the built-in demo in a loop when `demo` is true; its `FakeSpaceMouse` is
    available as `source.fake`.
    """
    device = device or cfg.device
    if device == "spacemouse":
        from teleop.hid import open_spacemouse
        from teleop.spacemouse import SpaceMouseSource

        return SpaceMouseSource(lambda: open_spacemouse(cfg), cfg, clock, must_open=must_open)
    if device == "fake":
        from teleop.fake import DEMO, DEMO_PERIOD_S, FakeSpaceMouse
        from teleop.spacemouse import SpaceMouseSource

        fake = FakeSpaceMouse(cfg.fake_model, clock=clock)
        src = SpaceMouseSource(fake.opener(), cfg, clock, name="fake")
        src.fake = fake  # type: ignore[attr-defined]
        if demo:
            fake.play(DEMO, loop=True, period_s=DEMO_PERIOD_S)
        return src
    if device == "keyboard":
        from teleop.keyboard import KeyboardSource

        return KeyboardSource(cfg, clock)
    raise ValueError(f"unknown teleop device {device!r}; known: spacemouse, keyboard, fake")
