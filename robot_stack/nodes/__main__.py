"""`python -m robot_stack.nodes NAME --ros-args -p run_dir:=D ...`: run one node in this process."""
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
    "franka_bridge": "robot_stack.franka.bridge:FrankaBridgeNode",
    "twin_franka": "robot_stack.franka.twin:TwinFrankaNode",
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in NODES:
        print(f"usage: python -m robot_stack.nodes {{{'|'.join(NODES)}}} --ros-args -p run_dir:=DIR", file=sys.stderr)
        return 2
    name = sys.argv.pop(1)
    module, cls = NODES[name].split(":")
    node_cls = getattr(importlib.import_module(module), cls)
    from robot_stack.nodes.base import run_node

    return run_node(node_cls)


if __name__ == "__main__":
    sys.exit(main())
