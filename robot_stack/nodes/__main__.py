"""`python -m robot_stack.nodes NAME[+NAME...] [--executor events] --ros-args -p run_dir:=D ...`:
run one node, or several composed in one process and one executor (their own parameters from a
`--params-file` keyed by node name)."""
from __future__ import annotations

import importlib
import sys

NODES = {
    "cell": "robot_stack.nodes.cell:CellNode",
    "actor": "robot_stack.nodes.actor:ActorNode",
    "mux": "robot_stack.nodes.mux:MuxNode",
    "recorder": "robot_stack.nodes.recorder:RecorderNode",
    "learner": "robot_stack.nodes.learner:LearnerNode",
    "operator": "robot_stack.nodes.operator:SimOperatorNode",
    "teleop": "robot_stack.nodes.teleop:TeleopNode",
    "supervisor": "robot_stack.nodes.supervisor:SupervisorNode",
    "franka_bridge": "robot_stack.franka.bridge:franka_bridge_node",
    "twin_franka": "robot_stack.franka.twin:TwinFrankaNode",
    "mcap_recorder": "robot_stack.nodes.mcap_recorder:McapRecorderNode",
    "video": "robot_stack.nodes.video:VideoNode",
}
EXECUTORS = ("single", "events")


def main() -> int:
    names = sys.argv[1].split("+") if len(sys.argv) > 1 else []
    if not names or any(n not in NODES for n in names) or len(set(names)) != len(names):
        print(f"usage: python -m robot_stack.nodes {{{'|'.join(NODES)}}}[+NAME...] [--executor "
              f"{'|'.join(EXECUTORS)}] --ros-args -p run_dir:=DIR", file=sys.stderr)
        return 2
    sys.argv.pop(1)
    executor = "single"
    if len(sys.argv) > 2 and sys.argv[1] == "--executor" and sys.argv[2] in EXECUTORS:
        executor = sys.argv[2]
        del sys.argv[1:3]
    factories = []
    for name in names:
        module, cls = NODES[name].split(":")
        factories.append(getattr(importlib.import_module(module), cls))
    from robot_stack.nodes.base import run_nodes

    return run_nodes(factories, executor)


if __name__ == "__main__":
    sys.exit(main())
