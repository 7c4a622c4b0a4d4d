"""Twin in franka mode: the MuJoCo cell behind exactly the franka_ros2 topics the bridge uses.

Publishes at `franka.state_hz` (default 100 Hz, BEST_EFFORT depth 1 like
franka_robot_state_broadcaster's convenience topics): the peg-tip pose in the base (= MuJoCo
world) frame (PoseStamped), the contact wrench on the peg in the EE axes, torque about the tip
(WrenchStamped, force ON the robot, as franka's estimate), and joints 1-7 (JointState,
`fr3_joint1..7`). Subscribes the equilibrium pose (PoseStamped, base frame) and makes it the
twin's impedance target (`TwinCell.set_target`, clipped to the twin's own safety box). Each
state period runs one period of physics (`TwinCell.hold` with control_hz = state_hz), so the
twin runs in wall-clock time. The bridge's `franka.hole_pose` must be the twin's nominal hole
(launch/robot-twin.yaml has it; a mismatch is warned about at start, with the right value).

Decisions: the twin's random true-hole offset is drawn once at start (`train.seed`) and kept for
the run (a real cell's taught pose is off by a fixed amount too); episodes and resets belong to
the bridge, the twin never teleports the arm. The twin knows nothing of /rlif topics except
the heartbeat every node sends. Tests fake a dying driver with `-p stop_after_s:=S` (state stops
S s after the first target) and `-p stop_for_s:=D` (and comes back after D s).
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from robot_stack.franka import topics as FT
from robot_stack.franka.geometry import FLIP, HoleFrame, mat_to_quat
from robot_stack.nodes.base import RlifNode

JOINT_NAMES = tuple(f"fr3_joint{i}" for i in range(1, 8))
HOLE_MISMATCH_M = 0.001  # configured vs twin hole position difference warned about, m


class TwinFrankaNode(RlifNode):
    def __init__(self):
        super().__init__("twin_franka")
        from sim.cell import TwinCell

        fr = self.cfg.franka
        self.twin = TwinCell(replace(self.cfg.cell, control_hz=fr.state_hz), seed=self.cfg.train.seed)
        p, R = self.twin.hole_frame
        self.frame = HoleFrame((*p, *mat_to_quat(R @ FLIP)))  # the pose `rlif teach` would read on the twin
        self.check_hole_pose(fr.hole_pose)
        ft = FT.franka_topics(fr)
        self.pose_pub = self.create_publisher(ft.pose.msg_type, ft.pose.name, ft.pose.qos)
        self.wrench_pub = self.create_publisher(ft.wrench.msg_type, ft.wrench.name, ft.wrench.qos)
        self.joints_pub = self.create_publisher(ft.joints.msg_type, ft.joints.name, ft.joints.qos)
        self.create_subscription(ft.target.msg_type, ft.target.name, self.on_target, ft.target.qos)
        self.counters.update(ticks=0, targets=0, bad_targets=0)
        self.stopped = False  # tests: stop publishing state (a dead driver) S s after the first target
        self.stop_after_s = float(self.param("stop_after_s", 0.0))  # with -p stop_after_s:=S (0: never)
        self.stop_for_s = float(self.param("stop_for_s", 0.0))  # ... for this long (0: for good)
        self._first_target_t: float | None = None
        self.create_timer(1.0 / fr.state_hz, self.on_tick)

    def check_hole_pose(self, hole_pose) -> None:
        want = np.concatenate([self.frame.p, mat_to_quat(self.frame.R @ FLIP)])
        if np.linalg.norm(np.asarray(hole_pose[:3]) - want[:3]) > HOLE_MISMATCH_M:
            self.get_logger().warning(f"franka.hole_pose {list(hole_pose)} is not the twin's nominal hole; "
                                      f"set franka.hole_pose={np.round(want, 6).tolist()}")

    def status(self):
        return {"hole_offset_m": np.round(self.twin.hole_offset, 5).tolist(), "publishing": not self.stopped}

    def on_target(self, msg):
        pos, quat, _ = FT.unpack_pose(msg)
        if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(quat))) or not np.any(quat):
            self.counters["bad_targets"] += 1
            return
        self.twin.set_target(self.frame.from_base(pos, quat))
        self.counters["targets"] += 1
        if self._first_target_t is None:
            self._first_target_t = time.monotonic()

    def on_tick(self):
        self.twin.hold()  # one state period of physics towards the current target
        self.counters["ticks"] += 1
        t1, now_m = self._first_target_t, time.monotonic()
        if self.stop_after_s and t1 is not None:
            since = now_m - t1 - self.stop_after_s  # s into the outage
            self.stopped = since > 0 and (not self.stop_for_s or since < self.stop_for_s)
        if self.stopped:
            return
        now = time.time()
        pose = self.twin.ee_pose()  # peg tip, hole frame
        pos, quat = self.frame.to_base(pose)
        f_hole, tq_hole = self.twin.wrench()
        R_ee = HoleFrame.ee_to_hole_axes(pose)  # EE axes -> hole axes
        q, dq = self.twin.joint_state()
        self.pose_pub.publish(FT.pack_pose(pos, quat, now, self.cfg.franka.base_frame))
        self.wrench_pub.publish(FT.pack_wrench(R_ee.T @ f_hole, R_ee.T @ tq_hole, now, "fr3_EE"))
        self.joints_pub.publish(FT.pack_joints(JOINT_NAMES, q, dq, now))
