"""The Franka core modules are pure: importing them loads no rclpy (the nodes are bridge.py, twin.py)."""
import subprocess
import sys

import pytest

from tests.test_layering import ROOT

pytestmark = pytest.mark.unit
PURE = ("robot_stack.franka.core", "robot_stack.franka.geometry", "robot_stack.franka.reset",
        "robot_stack.franka.cell", "robot_stack.franka.teach")


def test_franka_core_modules_load_no_rclpy():
    code = ("import importlib, sys\n"
            f"for m in {PURE!r}:\n"
            "    importlib.import_module(m)\n"
            "bad = [k for k in sys.modules if k.split('.')[0] in ('rclpy', 'geometry_msgs', 'sensor_msgs')]\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
