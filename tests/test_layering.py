"""House rule: the pure core (sim/, teleop/, learner/) never imports rclpy."""
import ast
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit
ROOT = pathlib.Path(__file__).resolve().parent.parent
CORE = ("sim", "teleop", "learner")


@pytest.mark.parametrize("pkg", CORE)
def test_no_core_module_imports_rclpy(pkg):
    offenders = []
    for path in (ROOT / pkg).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                if n.split(".")[0] in ("rclpy", "robot_stack") or n.endswith("_msgs.msg"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {n}")
    assert not offenders, offenders


def test_importing_every_core_module_loads_no_rclpy():
    code = (
        "import importlib, pkgutil, sys\n"
        f"for pkg in {CORE!r}:\n"
        "    m = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(m.__path__, pkg + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "bad = [k for k in sys.modules if k.split('.')[0] in ('rclpy', 'robot_stack')]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
