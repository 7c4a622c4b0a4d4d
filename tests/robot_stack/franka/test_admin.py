"""Franka recovery: the driver admin against upstream's CLI interface (commands and output formats
of ros2controlcli / ros2 action on Jazzy), the twin's emulation of franka_ros2's error states, and
`recover()`'s three checked steps."""
import subprocess

import pytest

from robot_stack.config import FrankaConfig
from robot_stack.franka import admin as A
from robot_stack.franka.twin_admin import DriverEmulator

pytestmark = pytest.mark.unit
ESC = "\x1b[92m"  # list_controllers colours its states (bcolors)
LIST_ACTIVE = (f"{ESC}joint_state_broadcaster       \x1b[0m joint_state_broadcaster/JointStateBroadcaster  "
               f"{ESC}active  \x1b[0m\n"
               f"{ESC}franka_robot_state_broadcaster\x1b[0m franka_robot_state_broadcaster/FrankaRobotStateBroadcaster  "
               f"{ESC}active  \x1b[0m\n"
               f"{ESC}rlif_impedance_controller     \x1b[0m rlif_impedance_controller/RlifImpedanceController  "
               f"{ESC}active  \x1b[0m\n")
LIST_AFTER_REFLEX = ("joint_state_broadcaster[joint_state_broadcaster/JointStateBroadcaster] inactive\n"
                     "franka_robot_state_broadcaster[franka_robot_state_broadcaster/FrankaRobotStateBroadcaster] inactive\n"
                     "rlif_impedance_controller[rlif_impedance_controller/RlifImpedanceController] inactive\n")
HARDWARE = ("Hardware Component 1\n\tname: FrankaHardwareInterface\n\ttype: system\n"
            "\tplugin name: franka_hardware/FrankaHardwareInterface\n\tstate: id=2 label=inactive\n"
            "\tcommand interfaces\n\t\tfr3_joint1/effort [available] [unclaimed]\n")
NAMES = A.controllers_of(FrankaConfig(target_topic="/rlif_impedance_controller/equilibrium_pose"))


def test_controller_names_come_from_the_topics():
    assert NAMES == ("joint_state_broadcaster", "franka_robot_state_broadcaster", "rlif_impedance_controller")


def test_parsing_of_list_controllers_and_hardware_components():
    assert A.parse_list_controllers(LIST_ACTIVE) == {n: "active" for n in NAMES}
    assert A.parse_list_controllers(LIST_AFTER_REFLEX) == {n: "inactive" for n in NAMES}
    assert A.parse_list_controllers("No controllers are currently loaded!\n") == {}
    assert A.parse_hardware_state(HARDWARE, "FrankaHardwareInterface") == "inactive"
    assert A.parse_hardware_state(HARDWARE, "other") == ""


class Ros2:
    """Records the argv the admin runs and answers with upstream's output for it."""

    def __init__(self, answers):
        self.calls, self.answers = [], answers

    def __call__(self, cmd, capture_output, text, timeout):
        self.calls.append(cmd)
        i = next(k for k, w in enumerate(cmd) if w in ("control", "action"))  # after the CLI prefix
        verb = " ".join(cmd[i:i + 2])
        out, rc = self.answers.get(verb, ("", 0))
        return subprocess.CompletedProcess(cmd, rc, out, "")


def test_driver_admin_runs_upstreams_commands_in_order():
    state = {"controllers": LIST_AFTER_REFLEX}
    ros2 = Ros2({"control list_controllers": (None, 0), "control list_hardware_components": (HARDWARE, 0),
                 "action send_goal": ("Goal accepted with ID: 1a2b\n\nResult:\n\nGoal finished with status: SUCCEEDED\n", 0)})

    def run(cmd, **kw):
        if cmd[2:4] == ["control", "list_controllers"]:
            return subprocess.CompletedProcess(cmd, 0, state["controllers"], "")
        if cmd[2:4] == ["control", "switch_controllers"]:
            state["controllers"] = LIST_ACTIVE
        return ros2(cmd, **kw)

    admin = A.DriverAdmin("/entrypoint.sh ros2", "FrankaHardwareInterface", run=run)
    assert A.fci_error(admin.state(), NAMES).startswith("controllers not active")
    assert A.recover(admin, NAMES) == ["error_recovery", "hardware_active", "controllers_active"]
    steps = [c[2:] for c in ros2.calls if c[2:4] != ["control", "list_hardware_components"]]
    assert steps == [
        ["action", "send_goal", "/action_server/error_recovery", "franka_msgs/action/ErrorRecovery", "{}"],
        ["control", "set_hardware_component_state", "FrankaHardwareInterface", "active"],
        ["control", "switch_controllers", "--activate", *NAMES, "--strict"],
    ]
    assert all(c[:2] == ["/entrypoint.sh", "ros2"] for c in ros2.calls)
    assert A.fci_error(admin.state(), NAMES) is None


def test_driver_admin_failures_name_the_step():
    aborted = Ros2({"action send_goal": ("Goal accepted\nGoal finished with status: ABORTED\n", 0)})
    with pytest.raises(A.AdminError, match="error recovery: /action_server/error_recovery did not succeed \\(ABORTED\\)"):
        A.DriverAdmin("ros2", "FrankaHardwareInterface", run=aborted).error_recovery()
    refused = Ros2({"control set_hardware_component_state": ("Error: component is in state 'unconfigured'\n", 1)})
    with pytest.raises(A.AdminError, match="set_hardware_component_state FrankaHardwareInterface active` failed "
                                           "\\(exit 1\\): Error: component"):
        A.DriverAdmin("ros2", "FrankaHardwareInterface", run=refused).activate_hardware()
    with pytest.raises(A.AdminError, match="franka.ros2_cli must start ROS 2 Jazzy"):
        A.DriverAdmin("/no/such/ros2", "FrankaHardwareInterface").state()


class EmulatedAdmin:
    """`FrankaAdmin` straight on a DriverEmulator (the twin's services minus the transport)."""

    def __init__(self, emu, wrench=((0, 0, 0), (0, 0, 0))):
        self.emu, self.wrench = emu, wrench

    def state(self):
        s = self.emu.snapshot()
        return A.AdminState(s["hardware"], s["controllers"])

    def _ok(self, res):
        if not res[0]:
            raise A.AdminError(res[1])

    def error_recovery(self):
        self._ok(self.emu.error_recovery(*self.wrench))

    def activate_hardware(self):
        self._ok(self.emu.activate_hardware())

    def activate_controllers(self, names):
        self._ok(self.emu.activate_controllers())


def test_the_emulated_reflex_and_its_recovery_follow_upstream():
    emu = DriverEmulator(NAMES, force_limit_n=80.0, torque_limit_nm=25.0)
    assert emu.publishing and emu.controlling
    assert emu.check_reflex((0, 0, 79.0), (0, 0, 0)) == ""  # per axis, as franka's thresholds
    assert emu.check_reflex((0, 60.0, 60.0), (0, 0, 0)) == ""  # |F| = 85 N but no axis over 80
    assert "force 90 N > 80 N" in emu.check_reflex((0, 0, -90.0), (0, 0, 0))
    assert not emu.publishing and not emu.controlling and emu.hardware == "inactive"
    ok, why = emu.activate_hardware()
    assert not ok and "run error recovery" in why  # not before error recovery
    ok, why = emu.activate_controllers()
    assert not ok and "hardware component is inactive" in why
    pressed = EmulatedAdmin(emu, ((0, 0, 95.0), (0, 0, 0)))
    with pytest.raises(A.AdminError, match="still pressed"):
        A.recover(pressed, NAMES)
    assert A.recover(EmulatedAdmin(emu), NAMES) == ["error_recovery", "hardware_active", "controllers_active"]
    assert emu.publishing and emu.controlling and emu.reflex == ""
    assert "torque" in emu.check_reflex((0, 0, 0), (30.0, 0, 0))


def test_the_worker_runs_one_call_at_a_time_off_the_callers_thread():
    import threading
    import time

    gate, worker = threading.Event(), A.AdminWorker()
    assert worker.start("recover", lambda: gate.wait(5) and ["error_recovery"])
    assert not worker.start("diagnose", lambda: None) and worker.busy == "recover"  # one at a time
    assert worker.results() == []  # the caller never waits
    gate.set()
    deadline = time.monotonic() + 5
    got = []
    while not got and time.monotonic() < deadline:
        got = worker.results()
        time.sleep(0.01)
    assert got == [("recover", True, ["error_recovery"])] and worker.busy == ""
    assert worker.start("diagnose", lambda: (_ for _ in ()).throw(A.AdminError("no such service")))
    time.sleep(0.2)
    assert worker.results() == [("diagnose", False, "no such service")]
