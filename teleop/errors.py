"""Why the operator's device cannot be used, each with the fix (one line for the CLI).

`TeleopDeviceError.fix` is the action that resolves it; `str(e)` is "what is missing: fix".
"""
from __future__ import annotations

UDEV_HINT = ("install the udev rule: sudo cp docker/99-spacemouse.rules /etc/udev/rules.d/ && "
             "sudo udevadm control --reload-rules && sudo udevadm trigger, then replug the device")
APT_HIDAPI = "sudo apt-get install -y libhidapi-hidraw0"


class TeleopDeviceError(RuntimeError):
    """The input device is missing or unusable; `what` says what, `fix` how to resolve it."""

    def __init__(self, what: str, fix: str):
        super().__init__(f"{what}: {fix}")
        self.what = what
        self.fix = fix


class HidapiMissing(TeleopDeviceError):
    """libhidapi (pyspacemouse's HID backend) cannot be loaded."""

    def __init__(self, detail: str = ""):
        what = "hidapi library not found" + (f" ({detail})" if detail else "")
        super().__init__(what, APT_HIDAPI)


class DeviceNotFound(TeleopDeviceError):
    """No supported 3Dconnexion device is visible."""

    def __init__(self, what: str = "no 3Dconnexion spacemouse found"):
        super().__init__(what, "plug it in (cable or its wireless receiver); if it is plugged in, " + UDEV_HINT)


class DevicePermission(TeleopDeviceError):
    """The device is there but its hidraw node cannot be opened (permissions)."""

    def __init__(self, path: str):
        super().__init__(f"spacemouse at {path} cannot be opened (permission denied)", UDEV_HINT)


class NoTerminal(TeleopDeviceError):
    """The keyboard fallback needs a terminal to read keys from."""

    def __init__(self, detail: str):
        super().__init__(f"keyboard needs a terminal ({detail})",
                         "run it in a terminal (ssh -t for remote), or set teleop.keyboard_tty=/dev/pts/N")
