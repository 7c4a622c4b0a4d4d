"""franka_ros2's error states and recovery, as the twin in franka mode fakes them, and the
`FrankaAdmin` client (`TwinAdmin`) that `recover()` uses against it.

`DriverEmulator` (pure, no rclpy) follows upstream's behaviour: a reflex (any axis of the
external force or torque over `franka.collision_force_n` / `collision_torque_nm`, franka's
collision thresholds) deactivates the hardware component and every controller, the state
broadcaster included, so the state topics stop and the arm stops. The recovery steps refuse as
upstream's do: error recovery fails while the wrench is still over the threshold (the arm is
still pressed), the hardware cannot be activated before error recovery, controllers cannot be
activated on an inactive hardware component.
twin_franka serves the steps as std_srvs/srv/Trigger (`~/error_recovery`, `~/activate_hardware`,
`~/activate_controllers`, `~/list_controllers`, whose message is JSON
`{"hardware": label, "controllers": {name: label}, "reflex": why}`).
"""
from __future__ import annotations

import json
import threading
from typing import Sequence

import numpy as np

from robot_stack.franka.admin import AdminError, AdminState

SERVICES = ("error_recovery", "activate_hardware", "activate_controllers", "list_controllers")


class DriverEmulator:
    def __init__(self, controllers: Sequence[str], force_limit_n: float, torque_limit_nm: float):
        self.names = tuple(controllers)  # joint_state_broadcaster, state broadcaster, impedance controller
        self.controllers = {n: "active" for n in self.names}
        self.hardware = "active"
        self.reflex = ""  # why the last reflex tripped ("" = none pending)
        self.force_limit, self.torque_limit = force_limit_n, torque_limit_nm

    @property
    def publishing(self) -> bool:
        """The state broadcaster publishes (hardware and broadcaster active)."""
        return self.hardware == "active" and self.controllers[self.names[1]] == "active"

    @property
    def controlling(self) -> bool:
        """The impedance controller runs (hardware and controller active)."""
        return self.hardware == "active" and self.controllers[self.names[2]] == "active"

    def over(self, force, torque) -> str:
        f, t = np.abs(np.asarray(force, float)), np.abs(np.asarray(torque, float))
        if np.any(f > self.force_limit):
            return f"cartesian_reflex: force {f.max():.0f} N > {self.force_limit:.0f} N"
        if np.any(t > self.torque_limit):
            return f"cartesian_reflex: torque {t.max():.1f} Nm > {self.torque_limit:.0f} Nm"
        return ""

    def check_reflex(self, force, torque) -> str:
        """A reflex on this wrench (EE axes): everything inactive. Returns why ("" = none)."""
        why = self.over(force, torque) if self.hardware == "active" else ""
        if why:
            self.reflex, self.hardware = why, "inactive"
            self.controllers = {n: "inactive" for n in self.names}
        return why

    def error_recovery(self, force, torque) -> tuple[bool, str]:
        still = self.over(force, torque)
        if still:
            return False, f"automatic error recovery failed: {still} (still pressed)"
        self.reflex = ""
        return True, "automatic recovery succeeded"

    def activate_hardware(self) -> tuple[bool, str]:
        if self.reflex:
            return False, f"hardware component cannot activate: robot in reflex ({self.reflex}); run error recovery"
        self.hardware = "active"
        return True, "hardware component active"

    def activate_controllers(self) -> tuple[bool, str]:
        if self.hardware != "active":
            return False, "controllers cannot activate: the hardware component is inactive"
        self.controllers = {n: "active" for n in self.names}
        return True, "controllers active: " + ", ".join(self.names)

    def snapshot(self) -> dict:
        return {"hardware": self.hardware, "controllers": dict(self.controllers), "reflex": self.reflex}


class TwinAdmin:
    """`FrankaAdmin` over twin_franka's Trigger services. `node` must be spun by someone else
    (the bridge's executor, or `rlif robot`'s thread); never call it from that executor's thread."""

    def __init__(self, node, twin: str = "twin_franka", timeout_s: float = 10.0):
        from std_srvs.srv import Trigger

        self.node, self.timeout_s = node, timeout_s
        self.clients = {name: node.create_client(Trigger, f"/{twin}/{name}") for name in SERVICES}
        self._req = Trigger.Request

    def _call(self, name: str) -> str:
        client = self.clients[name]
        if not client.wait_for_service(timeout_sec=self.timeout_s):
            raise AdminError(f"{client.srv_name}: no such service within {self.timeout_s:.0f} s "
                             "(is twin_franka running?)")
        done = threading.Event()
        future = client.call_async(self._req())
        future.add_done_callback(lambda _: done.set())
        if not done.wait(self.timeout_s):
            raise AdminError(f"{client.srv_name}: no answer within {self.timeout_s:.0f} s")
        res = future.result()
        if not res.success:
            raise AdminError(f"{name}: {res.message}")
        return res.message

    def state(self) -> AdminState:
        s = json.loads(self._call("list_controllers"))
        return AdminState(s["hardware"], dict(s["controllers"]))

    def error_recovery(self) -> None:
        self._call("error_recovery")

    def activate_hardware(self) -> None:
        self._call("activate_hardware")

    def activate_controllers(self, names: Sequence[str]) -> None:
        self._call("activate_controllers")
