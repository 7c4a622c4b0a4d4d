"""Twin in franka mode: the MuJoCo cell behind exactly the franka_ros2 interface the bridge uses
(the state broadcaster's topics, rlif_impedance_controller's topics, franka's reflex and recovery).

State, at `franka.state_hz` (default 100 Hz, BEST_EFFORT depth 1 like
franka_robot_state_broadcaster's convenience topics): the peg-tip pose in the base (= MuJoCo
world) frame (PoseStamped); the external wrench in the stiffness frame as franka_ros2 publishes
it, i.e. libfranka's K_F_ext_hat_K, the robot's REACTION: `franka.wrench_sign` x the contact
wrench on the peg, EE axes, torque about the tip (WrenchStamped); joints 1-7 (JointState,
`fr3_joint1..7`).
The controller, as rlif_impedance_controller behaves: an equilibrium pose (base frame) that is not
finite or lies outside the safety box is refused and counted (the last target is held);
otherwise it is the twin's impedance target, reference-limited around the measured pose every
state period (one step, `cell.max_step_*`, then the box). A joint target (`~/joint_target`,
homing) switches to joint mode: a joint-space spring with the package YAML's joint gains, limited
around the measured joints, until the next accepted pose.
Reflex and recovery (`twin_admin.DriverEmulator`): a wrench axis over `franka.collision_*` turns
the hardware and every controller inactive, the state topics stop and the arm holds where it is;
the recovery steps are std_srvs/Trigger services (`~/error_recovery`, `~/activate_hardware`,
`~/activate_controllers`, `~/list_controllers`); on activation the controller holds the measured
pose. Each state period runs one period of physics (`TwinCell.hold` with control_hz = state_hz),
so the twin runs in wall-clock time. `franka.hole_pose` must be the twin's nominal hole (checked).
Cameras (`vision.image_size` > 0), as the RealSense ROS driver: sensor_msgs/Image rgb8 on each
camera's `franka.*_camera_topic` at `franka.camera_hz`, rendered from the twin's state then (its
`vision` camera rig), 4:3 like a D405's 640x480 but small to render fast (`CAMERA_HEIGHT_PX` rows,
at least `vision.image_size`; `franka.camera_resolution` when set), so the bridge's crop and
resize run as on the robot. Its centre square has the frame's vertical field of view: the twin's
square `images()` at that size.

Decisions: the twin's random true-hole offset is drawn once at start (`train.seed`) and kept; the
twin never teleports the arm. Test hooks (parameters): `stop_after_s` / `stop_for_s` (the state
stops S s after the first target, for D s); `push_n` (3 floats, N, world axes: a hand pressing the
peg) for `push_for_s` s, from `push_after_s` after start, or from the moment `push_n` is set at
run time (`/twin_franka/set_parameters`); `camera_on` (false: no camera frames, a dead camera; settable
at run time); `camera_encoding` (publish frames in this encoding instead of `franka.camera_encoding`:
a misconfigured driver).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import replace

import mujoco
import numpy as np
from rclpy.qos import QoSProfile

from robot_stack.franka import topics as FT
from robot_stack.franka.admin import controllers_of
from robot_stack.franka.camera_topics import camera_topics, pack_image
from robot_stack.franka.controller_params import package_params
from robot_stack.franka.geometry import FLIP, HoleFrame, mat_to_quat
from robot_stack.franka.twin_admin import SERVICES, DriverEmulator
from robot_stack.nodes.base import RlifNode
from sim.rules import CellRules

CAMERA_HEIGHT_PX = 120  # rows of the simulated camera frames (a D405 streams 480): small renders fast
HOLE_MISMATCH_M = 0.001  # configured vs twin hole position difference warned about, m
BOX_TOL_M, BOX_TOL_RAD = 1e-4, 1e-3  # the controller's tolerance on a target at the box edge


class TwinFrankaNode(RlifNode):
    def __init__(self):
        super().__init__("twin_franka")
        from std_srvs.srv import Trigger
        from sim.cell import TwinCell

        fr, c = self.cfg.franka, self.cfg.cell
        self.twin = TwinCell(replace(c, control_hz=fr.state_hz), seed=self.cfg.train.seed, vision=self.cfg.vision)
        p, R = self.twin.hole_frame
        self.frame = HoleFrame((*p, *mat_to_quat(R @ FLIP)))  # the pose `rlif teach` would read on the twin
        self.check_hole_pose(fr.hole_pose)
        self.rules = CellRules(c)
        self.box, self.box_rad = self.rules.box, c.safety_box_rad
        self.requested = self.twin.ee_pose()  # the controller's target, hole frame (6)
        fixed = package_params()
        self.kq, self.dq = np.asarray(fixed["joint_stiffness"]), np.asarray(fixed["joint_damping"])
        self.joint_step = float(fixed["max_joint_step_rad"])
        self.joint_target: np.ndarray | None = None  # joint mode while set
        self.driver = DriverEmulator(controllers_of(fr), fr.collision_force_n, fr.collision_torque_nm)
        ft = FT.franka_topics(fr)
        self.pose_pub = self.create_publisher(ft.pose.msg_type, ft.pose.name, ft.pose.qos)
        self.wrench_pub = self.create_publisher(ft.wrench.msg_type, ft.wrench.name, ft.wrench.qos)
        self.joints_pub = self.create_publisher(ft.joints.msg_type, ft.joints.name, ft.joints.qos)
        self.create_subscription(ft.target.msg_type, ft.target.name, self.on_target, ft.target.qos)
        self.create_subscription(ft.joint_target.msg_type, ft.joint_target.name, self.on_joint_target,
                                 ft.joint_target.qos)
        for name in SERVICES:
            self.create_service(Trigger, f"~/{name}", lambda req, res, n=name: self.on_admin(n, res))
        self.counters.update(ticks=0, targets=0, bad_targets=0, joint_targets=0, ignored_targets=0, reflexes=0,
                             late_ticks=0)  # a state period started over twice late: this process was starved
        self.max_tick_gap_ms = 0.0
        self._last_tick = time.monotonic()
        self.stopped = False  # tests: stop publishing state (a dead driver) S s after the first target
        self.stop_after_s = float(self.param("stop_after_s", 0.0))  # with -p stop_after_s:=S (0: never)
        self.stop_for_s = float(self.param("stop_for_s", 0.0))  # ... for this long (0: for good)
        self.push_n = np.asarray(self.param("push_n", [0.0, 0.0, 0.0]), float)  # tests: a hand on the peg
        self.push_for_s = float(self.param("push_for_s", 0.5))
        self._push_from = time.monotonic() + float(self.param("push_after_s", 0.0)) if np.any(self.push_n) else math.inf
        self.add_on_set_parameters_callback(self.on_set_params)
        self._first_target_t: float | None = None
        self.create_timer(1.0 / fr.state_hz, self.on_tick)
        self.camera_pubs = {c: self.create_publisher(spec.msg_type, spec.name, QoSProfile(depth=1))
                            for c, spec in camera_topics(fr, self.cfg.vision).items()}  # the driver's default QoS
        if self.camera_pubs:
            s = self.cfg.vision.image_size
            h = max(CAMERA_HEIGHT_PX, s)
            self.camera_wh = fr.camera_resolution if fr.camera_resolution[0] else (round(4 * h / 3), h)
            self.camera_encoding = str(self.param("camera_encoding", fr.camera_encoding))
            self.camera_on = bool(self.param("camera_on", True))
            self.counters.update(camera_frames=0)
            self.create_timer(1.0 / fr.camera_hz, self.on_camera)

    def check_hole_pose(self, hole_pose) -> None:
        want = np.concatenate([self.frame.p, mat_to_quat(self.frame.R @ FLIP)])
        if np.linalg.norm(np.asarray(hole_pose[:3]) - want[:3]) > HOLE_MISMATCH_M:
            self.get_logger().warning(f"franka.hole_pose {list(hole_pose)} is not the twin's nominal hole; "
                                      f"set franka.hole_pose={np.round(want, 6).tolist()}")

    def status(self):
        return {"hole_offset_m": np.round(self.twin.hole_offset, 5).tolist(), "publishing": not self.stopped,
                "max_tick_gap_ms": round(self.max_tick_gap_ms, 1),
                "joint_mode": self.joint_target is not None, **self.driver.snapshot()}

    # ------------------------------------------------------------ the controller's inputs
    def on_target(self, msg):
        if not self.driver.controlling:
            self.counters["ignored_targets"] += 1  # an inactive controller takes nothing
            return
        pos, quat, _ = FT.unpack_pose(msg)
        if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(quat))) or not np.any(quat):
            self.counters["bad_targets"] += 1
            return
        pose = self.frame.from_base(pos, quat)
        if np.any(np.abs(pose[:3]) > self.box + BOX_TOL_M) or np.linalg.norm(pose[3:]) > self.box_rad + BOX_TOL_RAD:
            self.counters["bad_targets"] += 1  # outside the safety box: held, never applied
            return
        self.requested, self.joint_target = pose, None
        self.counters["targets"] += 1
        if self._first_target_t is None:
            self._first_target_t = time.monotonic()

    def on_joint_target(self, msg):
        q, _, _ = FT.unpack_joints(msg)
        if not self.driver.controlling or q.shape != (7,) or not np.all(np.isfinite(q)):
            self.counters["ignored_targets"] += 1
            return
        self.joint_target = q
        self.counters["joint_targets"] += 1

    def on_admin(self, name: str, res):
        f, tq = self.ee_wrench()
        if name == "list_controllers":
            res.success, res.message = True, json.dumps(self.driver.snapshot())
            return res
        if name == "error_recovery":
            res.success, res.message = self.driver.error_recovery(f, tq)
        elif name == "activate_hardware":
            res.success, res.message = self.driver.activate_hardware()
        else:
            res.success, res.message = self.driver.activate_controllers()
            if res.success:  # the controller's on_activate: hold the measured pose
                self.requested, self.joint_target = self.clip(self.twin.ee_pose()), None
        self.get_logger().info(f"{name}: {res.message}")
        return res

    # ------------------------------------------------------------ physics and state
    def on_tick(self):
        now_m = time.monotonic()
        gap, self._last_tick = now_m - self._last_tick, now_m
        self.max_tick_gap_ms = max(self.max_tick_gap_ms, 1e3 * gap)
        if gap > 2.0 / self.cfg.franka.state_hz:
            self.counters["late_ticks"] += 1
            if gap > 0.5 * self.cfg.franka.stale_ms / 1000.0:
                self.get_logger().warning(f"state period {1e3 * gap:.0f} ms apart (this process was starved): "
                                          "the bridge may see stale state", throttle_duration_sec=5.0)
        self.apply_push(now_m)
        if self.joint_target is not None and self.driver.controlling:
            self.joint_period()
        else:
            self.twin.target = self.limit(self.requested) if self.driver.controlling else self.twin.target
            self.twin.hold()  # one state period of physics (towards the target, or holding after a reflex)
        self.counters["ticks"] += 1
        f, tq = self.ee_wrench()
        why = self.driver.check_reflex(f, tq)
        if why:
            self.counters["reflexes"] += 1
            self.twin.target, self.joint_target = self.twin.ee_pose(), None  # stopped where it is
            self.get_logger().warning(f"reflex ({why}): hardware and controllers inactive, state stops")
        t1 = self._first_target_t
        if self.stop_after_s and t1 is not None:
            since = now_m - t1 - self.stop_after_s  # s into the outage
            self.stopped = since > 0 and (not self.stop_for_s or since < self.stop_for_s)
        if self.stopped or not self.driver.publishing:
            return
        now = time.time()
        pos, quat = self.frame.to_base(self.twin.ee_pose())
        q, dq = self.twin.joint_state()
        sign = self.cfg.franka.wrench_sign  # franka_ros2 publishes the robot's reaction
        self.pose_pub.publish(FT.pack_pose(pos, quat, now, self.cfg.franka.base_frame))
        self.wrench_pub.publish(FT.pack_wrench(sign * f, sign * tq, now, "fr3_EE"))
        self.joints_pub.publish(FT.pack_joints(FT.JOINT_NAMES, q, dq, now))

    def on_camera(self):
        """One frame of each camera, of the twin's state now (none while `camera_on` is false)."""
        if not self.camera_on:
            return
        now = time.time()
        for camera, pub in self.camera_pubs.items():
            rgb = self.twin.render(camera, *self.camera_wh)
            pub.publish(pack_image(rgb, now, f"{camera}_camera_color_optical_frame", self.camera_encoding))
            self.counters["camera_frames"] += 1

    def ee_wrench(self) -> tuple[np.ndarray, np.ndarray]:
        """Contact wrench ON the peg in the EE (stiffness frame) axes: force (N), torque about the tip (Nm)."""
        f_hole, tq_hole = self.twin.wrench()
        R_ee = HoleFrame.ee_to_hole_axes(self.twin.ee_pose())  # EE axes -> hole axes
        return R_ee.T @ f_hole, R_ee.T @ tq_hole

    def apply_push(self, now_m: float) -> None:
        on = self._push_from <= now_m < self._push_from + self.push_for_s
        self.twin.data.xfrc_applied[self.twin.ids.peg_body, :3] = self.push_n if on else 0.0

    def on_set_params(self, params):
        from rcl_interfaces.msg import SetParametersResult

        for p in params:
            if p.name == "push_n":
                v = np.asarray(p.value, dtype=float)
                if v.shape != (3,) or not np.all(np.isfinite(v)):
                    return SetParametersResult(successful=False, reason="push_n: 3 finite numbers, N")
                self.push_n, self._push_from = v, time.monotonic()
            elif p.name == "push_for_s":
                self.push_for_s = float(p.value)
            elif p.name == "camera_on":
                self.camera_on = bool(p.value)
        return SetParametersResult(successful=True)

    def joint_period(self) -> None:
        """One state period of the controller's joint mode (homing): a limited joint spring."""
        m, d = self.twin.model, self.twin.data
        for _ in range(max(1, round(1.0 / (self.cfg.franka.state_hz * m.opt.timestep)))):
            q, dq = d.qpos[:7], d.qvel[:7]
            ref = np.clip(self.joint_target, q - self.joint_step, q + self.joint_step)
            d.qfrc_applied[:7] = self.kq * (ref - q) - self.dq * dq
            d.ctrl[:] = d.actuator_length  # the Cartesian servos only damp meanwhile
            mujoco.mj_step(m, d)
        d.qfrc_applied[:7] = 0.0
        self.twin.target = self.twin.ee_pose()

    def clip(self, pose6) -> np.ndarray:
        return self.rules.clip(pose6)

    def limit(self, target) -> np.ndarray:
        """The controller's reference: within one step of the measured pose, then in the box
        (the cell's rules, as rlif_impedance_controller clamps it)."""
        return self.rules.limit(target, self.twin.ee_pose())
