"""The real-arm profiles resolve and plan the right nodes; robot-twin's hole pose is the twin's."""
from dataclasses import replace

import numpy as np
import pytest

from robot_stack import config as cfgmod
from robot_stack.config import ConfigError
from robot_stack.franka.geometry import FLIP, HoleFrame, mat_to_quat
from robot_stack.plan import plan_nodes

pytestmark = pytest.mark.unit


def plan(name, tmp_path, operator=None):
    prof, cfg = cfgmod.load_profile(name), cfgmod.resolve(name)
    return cfg, [s.name for s in plan_nodes(prof, cfg, tmp_path, operator)]


def test_robot_profile_runs_the_bridge_on_the_wall_clock_with_a_spacemouse(tmp_path):
    cfg, names = plan("robot", tmp_path)
    assert cfg.cell.kind == "franka" and not cfg.graph.accelerated and not cfg.franka.dry_run
    assert names == ["franka_bridge", "actor", "mux", "recorder", "learner", "teleop"]
    assert cfg.franka.pose_topic == "/franka_robot_state_broadcaster/current_pose"
    with pytest.raises(ConfigError, match="simulated operator"):
        plan("robot", tmp_path, operator="sim")


def test_two_machine_halves_make_up_the_robot_graph(tmp_path):
    _, pc = plan("robot-pc", tmp_path)
    _, box = plan("learner-box", tmp_path)
    _, whole = plan("robot", tmp_path)
    assert sorted(pc + box) == sorted(whole)
    box_cfg = cfgmod.resolve("learner-box")
    assert cfgmod.resolve("robot-pc") == replace(box_cfg, profile="robot-pc")  # one config on both machines


def test_robot_twin_hole_pose_is_the_twin_nominal_hole(tmp_path):
    from sim.cell import TwinCell

    cfg, names = plan("robot-twin", tmp_path)
    assert names[:2] == ["twin_franka", "franka_bridge"] and "teleop" not in names
    p, R = TwinCell(cfg.cell).hole_frame
    taught = np.array([*p, *mat_to_quat(R @ FLIP)])  # what teaching on the twin would read
    assert np.allclose(cfg.franka.hole_pose, taught, atol=1e-6)
    assert np.allclose(HoleFrame(cfg.franka.hole_pose).R, R, atol=1e-9)


def test_the_bridge_waits_for_the_recorder_here_or_on_the_learner_box(tmp_path):
    for name, n_obs in (("robot", 2), ("robot-pc", 2), ("robot-twin", 2)):
        prof, cfg = cfgmod.load_profile(name), cfgmod.resolve(name)
        bridge = next(s for s in plan_nodes(prof, cfg, tmp_path) if s.name == "franka_bridge")
        assert bridge.params["wait_recorder"] is True, name
        assert bridge.params["expect_obs_subscribers"] == n_obs, name  # actor, mux (the recorder reads `step`)
    prof = {"name": "t", "nodes": ["twin_franka", "franka_bridge", "mux"], "operator": "none"}
    bridge = next(s for s in plan_nodes(prof, cfgmod.resolve("robot-twin"), tmp_path) if s.name == "franka_bridge")
    assert bridge.params["wait_recorder"] is False
