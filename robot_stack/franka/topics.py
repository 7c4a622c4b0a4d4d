"""The franka_ros2 boundary's contract: the arm's state and target topics and their packing.

Names come from the run config (`franka.*_topic`, absolute, outside /rlif); `TopicSpec` is the
graph contract's (`robot_stack.topics`). Only the Franka bridge, its twin
stand-in and `rlif teach` use these.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from geometry_msgs.msg import PoseStamped, WrenchStamped
from sensor_msgs.msg import JointState

from robot_stack.topics import TopicSpec

JOINT_NAMES = tuple(f"fr3_joint{i}" for i in range(1, 8))  # franka_description's FR3 joints

# QoS:
# franka_robot_state_broadcaster publishes its convenience topics (current_pose,
# external_wrench_in_stiffness_frame, measured_joint_states) BEST_EFFORT, depth 1, volatile; a
# BEST_EFFORT depth-1 subscriber matches that and any RELIABLE publisher (the twin in franka
# mode), and only the newest sample matters. The equilibrium pose is published RELIABLE depth 1,
# which matches a controller subscribing either way; so is the homing joint target, the same
# controller's `~/joint_target` (rlif_impedance_controller).
@dataclass(frozen=True)
class FrankaTopics:
    pose: TopicSpec
    wrench: TopicSpec
    joints: TopicSpec
    target: TopicSpec
    joint_target: TopicSpec


def franka_topics(fr) -> FrankaTopics:
    """The franka_ros2 topics of a `FrankaConfig`."""
    state = dict(depth=1, best_effort=True)
    return FrankaTopics(
        pose=TopicSpec(fr.pose_topic, PoseStamped, doc="measured EE pose, base frame", **state),
        wrench=TopicSpec(fr.wrench_topic, WrenchStamped, doc="external wrench, stiffness frame", **state),
        joints=TopicSpec(fr.joints_topic, JointState, doc="measured joints", **state),
        target=TopicSpec(fr.target_topic, PoseStamped, depth=1, doc="impedance equilibrium pose, base frame"),
        joint_target=TopicSpec(fr.target_topic.rsplit("/", 1)[0] + "/joint_target", JointState, depth=1,
                               doc="homing: the controller's joint target (joint mode until the next pose)"))


def set_stamp(header, stamp_s: float, frame_id: str) -> None:
    """Write a time in seconds and a frame into a std_msgs Header (the inverse of `stamp_s`)."""
    header.frame_id = frame_id
    header.stamp.sec = int(stamp_s // 1)
    header.stamp.nanosec = int(round((stamp_s - stamp_s // 1) * 1e9)) % 1_000_000_000


def stamp_s(header) -> float:
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def pack_pose(pos: Sequence[float], quat: Sequence[float], stamp_s_: float, frame_id: str) -> PoseStamped:
    """Position (m) and quaternion (x, y, z, w) -> PoseStamped."""
    msg = PoseStamped()
    set_stamp(msg.header, stamp_s_, frame_id)
    p, o = msg.pose.position, msg.pose.orientation
    p.x, p.y, p.z = (float(v) for v in pos)
    o.x, o.y, o.z, o.w = (float(v) for v in quat)
    return msg


def unpack_pose(msg: PoseStamped) -> tuple[np.ndarray, np.ndarray, float]:
    """PoseStamped -> position (m), quaternion (x, y, z, w), stamp (s)."""
    p, o = msg.pose.position, msg.pose.orientation
    return np.array([p.x, p.y, p.z]), np.array([o.x, o.y, o.z, o.w]), stamp_s(msg.header)


def pack_wrench(force: Sequence[float], torque: Sequence[float], stamp_s_: float, frame_id: str) -> WrenchStamped:
    """Force (N) and torque (Nm) -> WrenchStamped."""
    msg = WrenchStamped()
    set_stamp(msg.header, stamp_s_, frame_id)
    f, t = msg.wrench.force, msg.wrench.torque
    f.x, f.y, f.z = (float(v) for v in force)
    t.x, t.y, t.z = (float(v) for v in torque)
    return msg


def unpack_wrench(msg: WrenchStamped) -> tuple[np.ndarray, np.ndarray, float]:
    f, t = msg.wrench.force, msg.wrench.torque
    return np.array([f.x, f.y, f.z]), np.array([t.x, t.y, t.z]), stamp_s(msg.header)


def pack_joints(names: Sequence[str], q: Sequence[float], dq: Sequence[float], stamp_s_: float) -> JointState:
    """Joint positions (rad) and velocities (rad/s) -> JointState (efforts left empty)."""
    msg = JointState()
    set_stamp(msg.header, stamp_s_, "")
    msg.name = list(names)
    msg.position = [float(v) for v in q]
    msg.velocity = [float(v) for v in dq]
    return msg


def unpack_joints(msg: JointState) -> tuple[np.ndarray, np.ndarray, float]:
    """JointState -> positions (rad), velocities (rad/s; zeros if absent), stamp (s)."""
    q = np.asarray(msg.position, dtype=float)
    dq = np.asarray(msg.velocity, dtype=float) if len(msg.velocity) == len(q) else np.zeros_like(q)
    return q, dq, stamp_s(msg.header)
