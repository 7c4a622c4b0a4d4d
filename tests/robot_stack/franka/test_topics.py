"""robot_stack/franka/topics.py: franka_ros2 topic names from the config, QoS, packing round trips."""
import numpy as np
import pytest
from rclpy.qos import ReliabilityPolicy

from robot_stack import topics as T
from robot_stack.franka import topics as FT
from robot_stack.config import FrankaConfig

pytestmark = pytest.mark.unit


def test_names_come_from_the_config_and_state_is_best_effort_depth_1():
    fr = FrankaConfig(target_topic="/my_controller/equilibrium_pose")
    ft = FT.franka_topics(fr)
    assert ft.pose.name == "/franka_robot_state_broadcaster/current_pose"
    assert ft.wrench.name.endswith("external_wrench_in_stiffness_frame")
    assert ft.joints.name.endswith("measured_joint_states")
    assert ft.target.name == "/my_controller/equilibrium_pose"
    for spec in (ft.pose, ft.wrench, ft.joints):
        assert spec.qos.reliability == ReliabilityPolicy.BEST_EFFORT and spec.qos.depth == 1
    assert ft.target.qos.reliability == ReliabilityPolicy.RELIABLE and ft.target.qos.depth == 1
    assert ft.joint_target.name == "/my_controller/joint_target"  # the same controller's homing input
    assert ft.joint_target.qos.reliability == ReliabilityPolicy.RELIABLE
    assert T.OBSERVATION.qos.reliability == ReliabilityPolicy.RELIABLE  # the /rlif contract is unchanged


def test_pose_wrench_joints_round_trip():
    pos, quat, t = np.array([0.5, -0.1, 0.2]), np.array([1.0, 0.0, 0.0, 0.0]), 1234.56789
    msg = FT.pack_pose(pos, quat, t, "fr3_link0")
    assert msg.header.frame_id == "fr3_link0"
    p2, q2, t2 = FT.unpack_pose(msg)
    assert np.allclose(p2, pos) and np.allclose(q2, quat) and t2 == pytest.approx(t, abs=1e-6)
    f, tq, t3 = FT.unpack_wrench(FT.pack_wrench([1, 2, 3], [0.1, 0.2, 0.3], t, "fr3_EE"))
    assert np.allclose(f, [1, 2, 3]) and np.allclose(tq, [0.1, 0.2, 0.3]) and t3 == pytest.approx(t, abs=1e-6)
    names = [f"fr3_joint{i}" for i in range(1, 8)]
    q, dq, _ = FT.unpack_joints(FT.pack_joints(names, np.arange(7) * 0.1, np.ones(7), t))
    assert np.allclose(q, np.arange(7) * 0.1) and np.allclose(dq, 1.0)
    msg = FT.pack_joints(names, np.zeros(7), [], t)
    assert np.allclose(FT.unpack_joints(msg)[1], 0.0)  # no velocities published: zeros
