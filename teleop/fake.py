"""A fake spacemouse that emits real HID report bytes, parsed by pyspacemouse's own code.

`FakeSpaceMouse` duck-types `easyhid.HIDDevice` (open, read, set_nonblocking, close, ids and
strings), so `teleop.hid.build_device` wraps it in a real `pyspacemouse.SpaceMouseDevice` and
every value the operator sees went through pyspacemouse's parser and axis convention.

Its physical state is given in the *HID* frame of the device (USB HID usage tables: +X right,
+Y toward the user, +Z down; Rx Ry Rz about them), full scale 1.0 = 350 counts, like a real cap.
So pushing the cap away from you (forward) is Y < 0, and pyspacemouse's ROS convention turns it
into +x. Reports are encoded from the model's layout in pyspacemouse's devices.toml (report id,
byte positions, sign), converted to the HID frame: the fake knows the byte *layout*, never how
values are read back.

Like a real device: while the cap is deflected it sends a report every 1/report_hz s; on a change
it sends at once; back at rest it sends one zero report, then nothing. Buttons report on change.
`unplug()` makes reads fail (as hidapi does when the device vanishes) until `replug()`;
`freeze()` stops reports without an error (a wireless link that went silent); `inject()` queues
raw report bytes (recorded from a real device, or broken ones such as all-zero reports).

Scripts: `play([Step(t_s, hid_axes, buttons), ...], loop=False)` applies each step when the
fake's clock passes `t_s` (relative to `play`). `DEMO` pushes forward for about a second, lets go,
then presses and releases button 0.
"""
from __future__ import annotations

import struct
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from teleop.errors import DeviceNotFound

HID_AXES = ("x", "y", "z", "roll", "pitch", "yaw")  # HID X Y Z Rx Ry Rz as pyspacemouse names them
COUNTS_FULL_SCALE = 350.0  # raw counts at full deflection (pyspacemouse axis_scale)


@dataclass(frozen=True)
class Step:
    t: float  # s after play() started
    axes: tuple[float, ...] = (0.0,) * 6  # HID frame X Y Z Rx Ry Rz, full scale 1.0
    buttons: tuple[int, ...] | None = None  # None = leave the buttons as they are


def hid(x: float = 0.0, y: float = 0.0, z: float = 0.0, rx: float = 0.0, ry: float = 0.0,
        rz: float = 0.0) -> tuple[float, ...]:
    """HID-frame axes tuple, e.g. hid(y=-0.6) = cap pushed forward (away from the operator)."""
    return (x, y, z, rx, ry, rz)


DEMO = (
    Step(0.3, hid(y=-0.6)),  # push forward ~1 s (ROS +x)
    Step(1.3, hid()),  # let go: release follows after teleop.release_hold_s
    Step(2.3, buttons=(1, 0)),  # press button 0 (mark success)
    Step(2.45, buttons=(0, 0)),
)
DEMO_PERIOD_S = 3.5  # the demo repeats this often when looped


class FakeSpaceMouse:
    """An easyhid-like HID device whose reports follow a script or direct `set()` calls."""

    def __init__(self, model: str = "SpaceMouseWireless", clock: Callable[[], float] = time.monotonic,
                 report_hz: float = 125.0):
        from pyspacemouse import AxisConvention, apply_axis_convention, get_device_specs

        self.model = model
        self.spec = get_device_specs()[model]
        self._hid_spec = apply_axis_convention(self.spec, AxisConvention.HID)
        self.clock = clock
        self.report_period = 1.0 / report_hz
        # easyhid.HIDDevice attributes
        self.path = f"fake://{model}"
        self.vendor_id, self.product_id = self.spec.vendor_id, self.spec.product_id
        self.product_string, self.manufacturer_string = f"{model} (fake)", "rlif fake"
        self.serial_number, self.release_number = "FAKE", 1
        self.usage_page, self.usage, self.interface_number = 0x01, 0x08, 0
        self._open = False
        self.plugged = True
        self.frozen = False
        self.axes = [0.0] * 6
        self.buttons = [0] * len(self.spec.button_specs)
        self._queue: deque[bytes] = deque(maxlen=64)  # hidraw keeps 64 reports
        self._last_emit = -1e9
        self._script: list[Step] = []
        self._script_t0 = 0.0
        self._loop_s: float | None = None
        self.reads = 0

    # ------------------------------------------------------------ easyhid.HIDDevice interface
    def open(self) -> None:
        from easyhid import HIDException

        if not self.plugged:
            raise HIDException("Failed to open device")
        self._open = True

    def close(self) -> None:
        self._open = False
        self._queue.clear()

    def is_open(self) -> bool:
        return self._open

    def set_nonblocking(self, enable: bool) -> None:
        pass  # reads never block

    def write(self, data: bytes, report_id: int = 0) -> int:
        return len(data) + 1  # LED reports are accepted and ignored

    def read(self, size: int = 64, timeout: int | None = None) -> bytearray:
        from easyhid import HIDException

        if not self.plugged or not self._open:
            raise HIDException("Failed to read from HID device: -1")
        self.reads += 1
        self._advance(self.clock())
        return bytearray(self._queue.popleft()[:size]) if self._queue else bytearray()

    # ------------------------------------------------------------ physical actions
    def set(self, axes: Sequence[float] | None = None, buttons: Sequence[int] | None = None) -> None:
        """Move the cap to `axes` (HID frame) and/or set the buttons; reports go out at once."""
        if axes is not None and list(axes) != self.axes:
            self.axes = [float(a) for a in axes]
            self._emit_axes(self.clock())
        if buttons is not None:
            b = [int(x) for x in buttons] + [0] * (len(self.buttons) - len(buttons))
            if b != self.buttons:
                self.buttons = b[: len(self.buttons)]
                self._queue.extend(self._encode_buttons())

    def play(self, steps: Sequence[Step], loop: bool = False, period_s: float | None = None) -> None:
        """Run a script from now; with `loop`, start over every `period_s` (default: last step + 1 s)."""
        self._script = sorted(steps, key=lambda s: s.t)
        self._script_t0 = self.clock()
        self._loop_s = (period_s or (self._script[-1].t + 1.0)) if loop and self._script else None
        self._next = 0

    def inject(self, reports: Iterable[bytes]) -> None:
        """Queue raw (e.g. recorded) HID reports exactly as given: report id first, then payload."""
        self._queue.extend(bytes(r) for r in reports)

    def unplug(self) -> None:
        self.plugged = False
        self._open = False

    def replug(self) -> None:
        self.plugged = True

    def freeze(self, frozen: bool = True) -> None:
        self.frozen = frozen

    def opener(self) -> Callable[[], tuple[Any, Any]]:
        """An opener for `SpaceMouseSource`: this fake as a pyspacemouse device, in the ROS convention."""
        from teleop.hid import build_device, ros_spec

        def open_fake():
            if not self.plugged:
                raise DeviceNotFound("fake spacemouse unplugged")
            return build_device(self, ros_spec(self.model))

        return open_fake

    # ------------------------------------------------------------ report generation
    def _advance(self, now: float) -> None:
        while self._script:
            t = now - self._script_t0
            if self._next >= len(self._script):
                if self._loop_s is None or t < self._loop_s:
                    break
                self._script_t0 += self._loop_s
                self._next = 0
                continue
            step = self._script[self._next]
            if step.t > t:
                break
            self._next += 1
            self.set(step.axes, step.buttons)
        if any(self.axes) and now - self._last_emit >= self.report_period and not self._queue:
            self._emit_axes(now)

    def _emit_axes(self, now: float) -> None:
        if self.frozen:
            return
        self._last_emit = now
        self._queue.extend(self._encode_axes())

    def _encode_axes(self) -> list[bytes]:
        reports: dict[int, bytearray] = {}
        for name, value in zip(HID_AXES, self.axes):
            m = self._hid_spec.mappings[name]
            buf = reports.setdefault(m.channel, bytearray([m.channel]))
            need = max(m.byte1, m.byte2) + 1
            buf.extend(b"\0" * max(0, need - len(buf)))
            raw = int(round(max(-1.0, min(1.0, value)) * COUNTS_FULL_SCALE * m.scale))
            lo, hi = struct.pack("<h", raw)
            buf[m.byte1], buf[m.byte2] = lo, hi
        return [bytes(reports[ch]) for ch in sorted(reports)]

    def _encode_buttons(self) -> list[bytes]:
        if self.frozen or not self.spec.button_specs:
            return []
        reports: dict[int, bytearray] = {}
        for pressed, spec in zip(self.buttons, self.spec.button_specs):
            buf = reports.setdefault(spec.channel, bytearray([spec.channel]))
            buf.extend(b"\0" * max(0, spec.byte + 1 - len(buf)))
            if pressed:
                buf[spec.byte] |= 1 << spec.bit
        return [bytes(reports[ch]) for ch in sorted(reports)]
