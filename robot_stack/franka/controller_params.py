"""The impedance controller's cell parameters, written from the run config (no rclpy).

`controllers/rlif_impedance_controller` (C++) refuses to configure without every parameter of
its list (`include/rlif_impedance_controller/params.hpp`). Its package YAML
(`config/controllers.yaml`) holds the fixed engineering values; everything that must match the
twin and the cell comes from here, so the run config stays the one source: stiffness and damping
(`cell.stiffness_*`, `cell.damping_*`), the reference-limiting step (`cell.max_step_*`), the
safety box around the taught hole pose (`cell.safety_box_*`, `franka.hole_pose`) and franka's
collision (reflex) thresholds (`franka.collision_*`, above `cell.max_force_n`).
`rlif robot controller-params` prints the file; the driver container writes it at start-up
(docker/driver.sh) and the controller's launch file hands it to the spawner.
"""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "controllers" / "rlif_impedance_controller"
PACKAGE_YAML = PACKAGE / "config" / "controllers.yaml"


class ControllerNameError(ValueError):
    """`franka.target_topic` does not name a controller (`/<controller>/equilibrium_pose`)."""


def controller_name(franka) -> str:
    """The controller's node name, read off `franka.target_topic` (its `~/equilibrium_pose`)."""
    parts = franka.target_topic.strip("/").split("/")
    if len(parts) != 2 or parts[1] != "equilibrium_pose" or not parts[0]:
        raise ControllerNameError(f"franka.target_topic={franka.target_topic!r}: must be "
                                  "/<controller>/equilibrium_pose (e.g. /rlif_impedance_controller/equilibrium_pose)")
    return parts[0]


def broadcaster_name(franka) -> str:
    """franka_robot_state_broadcaster's node name, read off `franka.pose_topic`."""
    return franka.pose_topic.strip("/").split("/")[0]


def cell_params(cfg) -> dict[str, float | list[float]]:
    """The controller parameters that come from the run config (names of params.hpp)."""
    c, fr = cfg.cell, cfg.franka
    return {
        "translational_stiffness": float(c.stiffness_n_m),
        "rotational_stiffness": float(c.stiffness_nm_rad),
        "translational_damping": float(c.damping_n_s_m),
        "rotational_damping": float(c.damping_nm_s_rad),
        "max_step_m": float(c.max_step_m),
        "max_step_rad": float(c.max_step_rad),
        "nominal_pose": [float(v) for v in fr.hole_pose],
        "safety_box_m": [float(v) for v in c.safety_box_m],
        "safety_box_rad": float(c.safety_box_rad),
        "collision_wrench": [float(fr.collision_force_n)] * 3 + [float(fr.collision_torque_nm)] * 3,
        "collision_joint_torque": [float(v) for v in fr.collision_joint_torque_nm],
    }


def params_yaml(cfg) -> str:
    """A ROS 2 parameter file for the spawner (`--param-file`): the controller's cell parameters."""
    name = controller_name(cfg.franka)
    head = (f"# {name}: cell parameters from the run config (profile {cfg.profile}); written by\n"
            "# `rlif robot controller-params`, fixed values in the package's config/controllers.yaml\n")
    return head + yaml.safe_dump({name: {"ros__parameters": cell_params(cfg)}}, sort_keys=False,
                                 default_flow_style=None)


def package_params(path: Path = PACKAGE_YAML, controller: str = "rlif_impedance_controller") -> dict:
    """The controller's fixed parameters in the package YAML (one `/**:` mapping of every node)."""
    return dict(yaml.safe_load(path.read_text())["/**"][controller]["ros__parameters"])
