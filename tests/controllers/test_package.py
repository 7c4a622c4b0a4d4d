"""controllers/rlif_impedance_controller: the ros2_control plugin shell, package.xml, CMakeLists,
launch file and controller YAML are built only in the robot image (no rclcpp / ros2_control here),
so they are checked statically: names agree across files, the controller is registered and started
by default, the state broadcaster runs at 100 Hz, the launch file hands over the cell parameters."""
from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from robot_stack.franka import controller_params as CP

pytestmark = pytest.mark.unit
PKG = CP.PACKAGE
PLUGIN = "rlif_impedance_controller/RlifImpedanceController"


def cmake() -> str:
    return (PKG / "CMakeLists.txt").read_text()


def test_package_xml_declares_what_cmake_finds():
    root = ET.parse(PKG / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("name") == "rlif_impedance_controller"
    assert root.find("export/build_type").text == "ament_cmake"
    deps = {e.text for e in root if e.tag in ("depend", "build_depend")}
    found = set(re.findall(r"find_package\((\w+)", cmake())) - {"ament_cmake"}
    rosdep = {"Eigen3": "eigen"}  # CMake package -> rosdep key
    assert {rosdep.get(f, f) for f in found} <= deps, sorted({rosdep.get(f, f) for f in found} - deps)
    exec_deps = {e.text for e in root.findall("exec_depend")}
    assert {"franka_bringup", "franka_hardware", "franka_robot_state_broadcaster", "controller_manager"} <= exec_deps


def test_plugin_is_exported_under_the_type_the_yaml_uses():
    xml = ET.parse(PKG / "rlif_impedance_controller.xml").getroot()
    cls = xml.find("class")
    assert xml.get("path") == "rlif_impedance_controller" and cls.get("name") == PLUGIN
    assert cls.get("base_class_type") == "controller_interface::ControllerInterface"
    src = (PKG / "src" / "rlif_impedance_controller.cpp").read_text()
    assert re.search(r"PLUGINLIB_EXPORT_CLASS\(\s*" + re.escape(cls.get("type")) + r",\s*"
                     r"controller_interface::ControllerInterface\)", src)
    assert "pluginlib_export_plugin_description_file(controller_interface rlif_impedance_controller.xml)" in cmake()
    assert re.search(r"install\(DIRECTORY config launch DESTINATION share/\$\{PROJECT_NAME\}\)", cmake())


def test_controllers_yaml_registers_the_controller_and_runs_the_broadcaster_at_100_hz():
    doc = yaml.safe_load(CP.PACKAGE_YAML.read_text())
    assert list(doc) == ["/**"]  # one mapping: a repeated top-level key would silently drop a section
    cm = doc["/**"]["controller_manager"]["ros__parameters"]
    assert cm["update_rate"] == 1000
    assert cm["rlif_impedance_controller"]["type"] == PLUGIN
    assert cm["franka_robot_state_broadcaster"]["type"] == "franka_robot_state_broadcaster/FrankaRobotStateBroadcaster"
    assert cm["joint_state_broadcaster"]["type"] == "joint_state_broadcaster/JointStateBroadcaster"
    assert doc["/**"]["franka_robot_state_broadcaster"]["ros__parameters"]["convenience_publish_rate"] == 100


def test_the_shell_declares_every_law_parameter_and_reads_its_topics():
    src = (PKG / "src" / "rlif_impedance_controller.cpp").read_text()
    assert "for (const auto& s : param_specs())" in src and "declare_parameter(s.name" in src
    assert "parse_params(map, out)" in src and "refusing to configure" in src
    assert '"~/equilibrium_pose"' in src and '"~/joint_target"' in src
    assert "check_target(" in src  # a refused pose never reaches the law
    assert "/service_server/set_force_torque_collision_behavior" in src  # franka's collision thresholds


def test_launch_file_starts_franka_with_our_yaml_and_spawns_the_controller():
    text = (PKG / "launch" / "robot.launch.py").read_text()
    tree = ast.parse(text)
    assert any(isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description" for n in tree.body)
    assert '"franka.launch.py"' in text and '"controllers_yaml": controllers_yaml' in text
    assert '"controllers.yaml"' in text and '"load_gripper": "false"' in text
    assert re.search(r'arguments=\[CONTROLLER, "--param-file", LaunchConfiguration\("params_file"\)', text)
    assert 'CONTROLLER = "rlif_impedance_controller"' in text
    assert CP.controller_name(type("F", (), {"target_topic": "/rlif_impedance_controller/equilibrium_pose"})) \
        == "rlif_impedance_controller"
