"""Opening a 3Dconnexion spacemouse through pyspacemouse, with errors that name the fix.

Decisions:
- Axes come in the ROS convention (pyspacemouse's `AxisConvention.ROS`: x forward, y left, z up,
  seen from the operator), so `teleop/` never re-derives signs from raw HID axes.
- We pick the HID *interface* ourselves: a wireless receiver exposes several, and opening the
  wrong one is a known cause of "reads all zeros". The multi-axis controller interface (usage page
  0x01, usage 0x08) wins; else the first one. `teleop.hid_path` forces a node.
- The HID device is wrapped in `HidTap`, which only counts reports and remembers their report ids
  (so the reader knows whether a read returned a report, and the all-zero warning can say which
  report ids arrived). Parsing stays pyspacemouse's own `SpaceMouseDevice.read()`; the fake device
  plugs in under the same tap.
- pyspacemouse's backend `easyhid` dlopens libhidapi at import: an OSError, or an AttributeError
  at enumeration (dlopen fell back to libc), both mean hidapi is missing.
"""
from __future__ import annotations

import contextlib
import io
import os
from collections import Counter
from typing import Any

from teleop.config import TeleopConfig
from teleop.errors import DeviceNotFound, DevicePermission, HidapiMissing, TeleopDeviceError

SPACEMOUSE_VENDORS = (0x256F, 0x046D)  # 3Dconnexion, Logitech (older 3Dconnexion devices)
MULTI_AXIS_USAGE = (0x01, 0x08)  # HID usage page Generic Desktop, usage Multi-axis Controller


def pyspacemouse_module() -> Any:
    """Import pyspacemouse (and its hidapi backend) or raise `HidapiMissing`."""
    try:
        import pyspacemouse
    except OSError as e:
        raise HidapiMissing(str(e).splitlines()[0]) from None
    except ImportError as e:
        raise TeleopDeviceError(f"pyspacemouse not importable ({e})", "run ./rlif.sh doctor to rebuild .venv") from None
    return pyspacemouse


def ros_spec(model: str) -> Any:
    """pyspacemouse's `DeviceInfo` of `model` (a devices.toml name), converted to the ROS convention."""
    psm = pyspacemouse_module()
    specs = psm.get_device_specs()
    if model not in specs:
        raise ValueError(f"unknown spacemouse model {model!r}; known: {sorted(specs)}")
    return psm.apply_axis_convention(specs[model], psm.AxisConvention.ROS)


class HidTap:
    """Pass-through around an easyhid-like device: counts reports, remembers their ids."""

    def __init__(self, hid: Any):
        self.hid = hid
        self.reports = 0
        self.ids: Counter[int] = Counter()

    def read(self, size: int = 64, timeout: int | None = None) -> bytearray:
        data = self.hid.read(size, timeout) if timeout is not None else self.hid.read(size)
        if data:
            self.reports += 1
            self.ids[data[0]] += 1
        return data

    def __getattr__(self, name: str) -> Any:  # open, close, write, set_nonblocking, product_string, ...
        return getattr(self.hid, name)


def build_device(hid: Any, spec: Any) -> tuple[Any, HidTap]:
    """Open `hid` as a pyspacemouse `SpaceMouseDevice` (non-blocking reads) behind a `HidTap`."""
    psm = pyspacemouse_module()
    tap = HidTap(hid)
    dev = psm.SpaceMouseDevice(info=spec, device=tap)
    dev.open()
    hid.set_nonblocking(True)
    return dev, tap


def _enumerate() -> list[Any]:
    pyspacemouse_module()
    from easyhid import Enumeration

    try:
        return Enumeration().find()
    except AttributeError as e:  # dlopen fell back to libc: no hid_enumerate symbol
        raise HidapiMissing(str(e)) from None


def find_spacemouse(cfg: TeleopConfig) -> tuple[Any, Any]:
    """(easyhid device, ROS-convention spec) of the spacemouse to open, or `DeviceNotFound`."""
    psm = pyspacemouse_module()
    specs = {(s.vendor_id, s.product_id): name for name, s in psm.get_device_specs().items()}
    devices = _enumerate()
    if cfg.hid_path:
        devices = [d for d in devices if d.path == cfg.hid_path]
        if not devices:
            if os.path.exists(cfg.hid_path) and not os.access(cfg.hid_path, os.R_OK | os.W_OK):
                raise DevicePermission(cfg.hid_path)
            raise DeviceNotFound(f"no HID device at teleop.hid_path={cfg.hid_path}")
    ours = [d for d in devices if d.vendor_id in SPACEMOUSE_VENDORS]
    known = [d for d in ours if (d.vendor_id, d.product_id) in specs]
    if not known:
        if ours:
            ids = ", ".join(sorted({f"{d.vendor_id:04x}:{d.product_id:04x}" for d in ours}))
            raise DeviceNotFound(f"3Dconnexion/Logitech HID device {ids} is not a model pyspacemouse 2.1 knows")
        raise DeviceNotFound()
    known.sort(key=lambda d: ((d.usage_page, d.usage) != MULTI_AXIS_USAGE, d.interface_number, d.path))
    hid = known[0]
    return hid, ros_spec(specs[(hid.vendor_id, hid.product_id)])


def open_spacemouse(cfg: TeleopConfig) -> tuple[Any, HidTap]:
    """Find and open the spacemouse; every failure is a `TeleopDeviceError` naming the fix."""
    hid, spec = find_spacemouse(cfg)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # keep stdout clean for --json
            return build_device(hid, spec)
    except RuntimeError as e:
        if not os.access(hid.path, os.R_OK | os.W_OK):
            raise DevicePermission(hid.path) from None
        raise TeleopDeviceError(f"spacemouse at {hid.path} cannot be opened ({e})",
                                "replug it; stop other programs that hold it (spacenavd, a second rlif)") from None
