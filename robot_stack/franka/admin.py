"""Franka error recovery behind one small protocol (`FrankaAdmin`), for the bridge and `rlif robot`.

After an FCI error (a reflex, a communication error) franka_hardware deactivates every
controller, the state broadcaster included, and the state topics stop. franka_ros2's recovery is
three steps, run by `recover()`:
  1. error recovery: franka_hardware's action `/action_server/error_recovery`
     (franka_msgs/action/ErrorRecovery, empty goal; libfranka's automaticErrorRecovery);
  2. the hardware component active again: controller_manager `set_hardware_component_state`
     (`franka.hardware_component`, FrankaHardwareInterface);
  3. the controllers switched on: controller_manager `switch_controller` (joint_state_broadcaster,
     the state broadcaster of `franka.pose_topic`, the impedance controller of `franka.target_topic`).
Implementations (`make_admin`, by `franka.admin`):
- `DriverAdmin` (the real driver): franka_msgs and controller_manager_msgs have no wheels for this
  rclpy (Kilted, PyPI), so it runs ROS 2 Jazzy's CLI of the robot image (`franka.ros2_cli`) with
  upstream's action / service names and types, and parses its output;
- `TwinAdmin` (robot_stack.franka.twin_admin): the twin in franka mode answers the same steps,
  with the same refusals, as std_srvs/Trigger services.
"""
from __future__ import annotations

import queue
import re
import shlex
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from robot_stack.franka.controller_params import broadcaster_name, controller_name

REQ_RECOVER = "request_recover"  # event: the Franka bridge runs `recover()` and re-arms the cell
RECOVERED = "robot_recovered"  # event (bridge): the recovery succeeded {steps}
JOINT_STATE_BROADCASTER = "joint_state_broadcaster"  # spawned by franka_bringup's franka.launch.py
ERROR_RECOVERY_ACTION = "/action_server/error_recovery"
ERROR_RECOVERY_TYPE = "franka_msgs/action/ErrorRecovery"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class AdminError(RuntimeError):
    """A recovery step failed; the message is one line naming the step and why."""


@dataclass(frozen=True)
class AdminState:
    hardware: str = ""  # lifecycle label of the hardware component: active | inactive | unconfigured
    controllers: dict[str, str] = field(default_factory=dict)  # name -> active | inactive | ...

    def inactive(self, names: Sequence[str]) -> list[str]:
        return [n for n in names if self.controllers.get(n) != "active"]


class FrankaAdmin(Protocol):
    def state(self) -> AdminState: ...
    def error_recovery(self) -> None: ...
    def activate_hardware(self) -> None: ...
    def activate_controllers(self, names: Sequence[str]) -> None: ...


def controllers_of(franka) -> tuple[str, str, str]:
    """The controllers the cell needs active, in start order."""
    return JOINT_STATE_BROADCASTER, broadcaster_name(franka), controller_name(franka)


def recover(admin: FrankaAdmin, names: Sequence[str], log: Callable[[str], None] = lambda s: None) -> list[str]:
    """The three steps, each checked; returns what was done. Raises AdminError naming the step."""
    done = []
    before = admin.state()
    log(f"before: hardware {before.hardware or '?'}, inactive controllers {before.inactive(names) or 'none'}")
    admin.error_recovery()
    done.append("error_recovery")
    log("1/3 error recovery done")
    admin.activate_hardware()
    done.append("hardware_active")
    log("2/3 hardware component active")
    todo = admin.state().inactive(names)
    if todo:
        admin.activate_controllers(todo)
        done.append("controllers_active")
    log(f"3/3 controllers active ({', '.join(todo) or 'were already'})")
    after = admin.state()
    if after.inactive(names):
        raise AdminError(f"recovery: still inactive after the switch: {', '.join(after.inactive(names))}")
    return done


def fci_error(state: AdminState, names: Sequence[str]) -> str | None:
    """What the admin state says about a stale robot state: None if every controller is active."""
    off = state.inactive(names)
    if not off:
        return None
    return (f"controllers not active ({', '.join(off)}; hardware {state.hardware or '?'}): franka_ros2 "
            "deactivated them after an FCI error (reflex?)")


class AdminWorker:
    """Admin calls take seconds (a CLI, services): run them in a worker thread, one at a time, and
    poll the results from the node's timer, so no callback ever blocks."""

    def __init__(self):
        self.busy = ""  # what runs now ("" = nothing)
        self._done: queue.Queue = queue.Queue()

    def start(self, what: str, fn: Callable[[], Any]) -> bool:
        if self.busy:
            return False
        self.busy = what

        def work():
            try:
                self._done.put((what, True, fn()))
            except Exception as e:  # noqa: BLE001 - AdminError, or the CLI / services failing otherwise
                self._done.put((what, False, str(e) if isinstance(e, AdminError) else f"{type(e).__name__}: {e}"))

        threading.Thread(target=work, name=f"franka-admin-{what}", daemon=True).start()
        return True

    def results(self) -> list[tuple[str, bool, Any]]:
        """(what, ok, value or the reason) of the calls finished since the last poll."""
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                break
        if out:
            self.busy = ""
        return out


# ---------------------------------------------------------------- the real driver, via ROS 2 Jazzy's CLI
class DriverAdmin:
    def __init__(self, cli: str, hardware: str, timeout_s: float = 30.0, run=subprocess.run):
        self.cli, self.hardware, self.timeout_s, self._run = shlex.split(cli), hardware, timeout_s, run

    def ros2(self, *args: str) -> str:
        cmd = [*self.cli, *args]
        try:
            r = self._run(cmd, capture_output=True, text=True, timeout=self.timeout_s)
        except FileNotFoundError:
            raise AdminError(f"cannot run {self.cli[0]!r}: franka.ros2_cli must start ROS 2 Jazzy's `ros2` "
                             "(the robot image's /entrypoint.sh ros2)") from None
        except subprocess.TimeoutExpired:
            raise AdminError(f"`ros2 {' '.join(args)}` took more than {self.timeout_s:.0f} s") from None
        out = _ANSI.sub("", (r.stdout or "") + (r.stderr or ""))
        if r.returncode != 0:
            last = [ln for ln in out.strip().splitlines() if ln.strip()][-1:] or ["no output"]
            raise AdminError(f"`ros2 {' '.join(args)}` failed (exit {r.returncode}): {last[0].strip()}")
        return out

    def state(self) -> AdminState:
        controllers = parse_list_controllers(self.ros2("control", "list_controllers"))
        hardware = parse_hardware_state(self.ros2("control", "list_hardware_components"), self.hardware)
        return AdminState(hardware, controllers)

    def error_recovery(self) -> None:
        out = self.ros2("action", "send_goal", ERROR_RECOVERY_ACTION, ERROR_RECOVERY_TYPE, "{}")
        if "SUCCEEDED" not in out:
            raise AdminError(f"error recovery: {ERROR_RECOVERY_ACTION} did not succeed "
                             f"({_status(out)}): is the arm still in contact, or the e-stop pressed?")

    def activate_hardware(self) -> None:
        self.ros2("control", "set_hardware_component_state", self.hardware, "active")

    def activate_controllers(self, names: Sequence[str]) -> None:
        self.ros2("control", "switch_controllers", "--activate", *names, "--strict")


def parse_list_controllers(text: str) -> dict[str, str]:
    """`ros2 control list_controllers` -> {name: state}; both the Jazzy table (`name  type  state`)
    and the older `name[type] state` form, colour codes removed."""
    out = {}
    for line in _ANSI.sub("", text).splitlines():
        if not line.strip() or line.startswith(("\t", " ")) or "No controllers" in line:
            continue
        tokens = line.split()
        out[tokens[0].split("[")[0]] = tokens[-1]
    return out


def parse_hardware_state(text: str, name: str) -> str:
    """The lifecycle label of hardware component `name` in `ros2 control list_hardware_components`."""
    current = None
    for line in _ANSI.sub("", text).splitlines():
        s = line.strip()
        if s.startswith("name:"):
            current = s.split(":", 1)[1].strip()
        elif s.startswith("state:") and current == name:
            m = re.search(r"label=(\w+)", s)
            return m.group(1) if m else s.split(":", 1)[1].strip()
    return ""


def _status(out: str) -> str:
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else "no result"


def make_admin(cfg, node=None) -> FrankaAdmin:
    """The admin of `franka.admin`: the driver's CLI, or the twin's services (needs an rclpy node
    that something spins: the bridge's, or `rlif robot`'s)."""
    fr = cfg.franka
    if fr.admin == "twin":
        from robot_stack.franka.twin_admin import TwinAdmin

        return TwinAdmin(node)
    return DriverAdmin(fr.ros2_cli, fr.hardware_component)
