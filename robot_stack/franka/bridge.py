"""Franka bridge node: the real arm in the cell's role: the clock (`CellNode`) with a
`FrankaDriver` composed in, driving a `FrankaCell`.

franka_ros2 side (names, frame and hole pose from `franka.*`, QoS from `franka.topics.franka_topics`):
subscribes the state broadcaster's `current_pose` (PoseStamped), external wrench in the
stiffness frame (WrenchStamped) and `measured_joint_states` (JointState); publishes the
Cartesian impedance controller's equilibrium pose (PoseStamped, base frame). The RLIF side is
the twin's: 10 Hz tick, `observation` / `command` / `events` / `status` exactly as `CellNode`.

What differs from the twin cell (decisions):
- **Outcome at the next tick**: applying a command only moves the target; the arm moves during
  the control period. Before publishing each observation the bridge reads the state: success or
  a force abort (seen by any wrench sample, target re-anchored at once) ends the episode there,
  and every episode end (timeout, operator request) is completed at the next tick, so the final
  observation is the state one period after the last command.
- **Between episodes** a reset runs on a 50 Hz timer (`FrankaCell`: lift, across, down to a
  random start, bounded speed); no observations meanwhile. It waits for the operator
  (`request_start`: dashboard Start, POST /api/episode/start) after a force or a timeout during
  the reset, if the first reset finds the tip outside the safety box, and after every reset
  with `franka.confirm_reset`.
- **Stale robot state** (no pose or wrench for `franka.stale_ms`): a `fault` event, no new
  targets (the controller holds the last one) and no ticks; an episode in progress ends with
  reason `robot_fault` (truncated). When the state returns, the reset starts from the held target.
  Staleness is measured on this process's running time (`logic.awake.AwakeClock`): a stall of
  the bridge counts as one short gap and the state that arrived meanwhile is taken after it, so a
  busy PC is not a dead driver (status `late_ticks` counts the stalls). The fault also gives
  `stamp_age_ms`, the newest pose's header stamp against our wall clock: equal to the state age
  means the driver's messages stopped reaching us, not that we were late to take them.
- **FCI error** (a reflex over franka's collision thresholds, a communication error): franka_ros2
  deactivates every controller, so the state goes stale; the bridge then asks the driver
  (`admin.FrankaAdmin`, in a worker thread: callbacks never block) and, if the controllers are
  inactive, reports a `fault` "fci error" and waits. A `request_recover` event (`rlif robot
  recover`, the dashboard's Recover) runs the three recovery steps (`admin.recover`); on success
  it publishes `robot_recovered` and re-arms: the next reset starts from the MEASURED pose (as a
  first reset: it waits for the operator if the tip is outside the box), not from the old target.
- **Cameras** (`vision.image_size` > 0; `franka.*_camera_topic`): sensor_msgs/Image from the
  RealSense ROS driver on each camera's topic, each message one `FrankaCell.on_image` call (a
  refused frame: one `fault` per kind of refusal, the last good frame kept). A tick whose
  observation finds a camera without a frame younger than `franka.camera_max_age_ms` holds (no
  tick, the controller keeps the target; one `fault` "stale camera" naming it per spell) and the
  next tick tries again: nothing is recorded without its pictures. An episode's end is not held
  for a camera (a dead camera must not keep an episode open).
- **Homing** (`franka.home_q`): the reset lifts the tip, moves the joints home on the
  controller's `~/joint_target`, then does the Cartesian reset (`FrankaCell`).
- **E-stop**: holds within one tick (as the twin) and also pauses a reset motion.
- **Dry run** (`franka.dry_run`): everything is computed and the targets are logged (2 Hz) and
  counted in `status`, but nothing is published to the controller.
- **Episode numbers follow the store**: with `-p wait_recorder:=true` (set by the plan when the
  graph has a recorder, here or on a GPU box) the first episode starts only once the recorder's
  heartbeat was heard, and at its `n_episodes` if that is higher than `start_episode` (a robot PC
  restarted while the learner box kept the run); its first step waits, as the twin cell's, for
  the heartbeat to report `inputs_matched`. Until then the arm holds at the reset pose.
"""
from __future__ import annotations

import math
import time

import numpy as np

from sim.contract import Source
from learner.seeds import episode_seed
from robot_stack import topics as T
from robot_stack.franka import admin as A
from robot_stack.franka import topics as FT
from robot_stack.franka.camera_topics import CameraInputs
from robot_stack.franka.cell import FrankaCell
from robot_stack.logic.awake import AwakeClock
from robot_stack.nodes.cell import CellNode

WAIT_FAULTS = ("force", "timeout", "outside")  # reset outcomes that wait for the operator


def franka_bridge_node(name: str = "franka_bridge") -> CellNode:
    """The `franka_bridge` node: the clock with the real arm behind it."""
    return CellNode(name, driver=FrankaDriver)


class FrankaDriver:
    """The real arm behind the clock (`nodes.cell.CellDriver`): franka_ros2 state in, impedance
    targets out, resets between episodes, stale state, FCI errors and recovery."""

    def __init__(self, node: CellNode):
        n = self.node = node
        self.stale_why: str | None = None  # set while the robot state is stale
        self.estopped = False
        self.pending_end: str | None = None  # episode end completed at the next tick
        self.started_any = False  # an episode has begun since this node started
        self.waiting_recorder = n.wait_recorder  # until a recorder heartbeat
        # the first reset waits for this many readers of the target / joint-target topic (0: none):
        # a target published before its reader matched is lost
        self.listeners = {"target": int(n.param("target_subscribers", 0)),
                          "joint": int(n.param("joint_subscribers", 0))}
        fr = self.fr = n.cfg.franka
        self.awake = AwakeClock(2.0 / self.fr.fast_hz)  # the state's receive times and the staleness check
        self.cell = FrankaCell(n.cfg.cell, fr, seed=episode_seed(n.cfg.train.seed, n.episode), vision=n.cfg.vision,
                               clock=self.awake.read)
        ft = FT.franka_topics(fr)
        n.counters.update(targets=0, dry_run_targets=0, joint_targets=0, stale_faults=0, force_aborts=0,
                          resets=0, fci_errors=0, recoveries=0, late_ticks=0)
        self.target_pub = n.create_publisher(ft.target.msg_type, ft.target.name, ft.target.qos)
        self.joint_pub = n.create_publisher(ft.joint_target.msg_type, ft.joint_target.name, ft.joint_target.qos)
        self.admin = A.make_admin(n.cfg, node=n)
        self.admin_names = A.controllers_of(fr)
        self.fci_error: str | None = None  # set while franka_ros2 reports its controllers inactive
        self.rearm = False  # a recovery succeeded: the next reset starts from the measured pose
        self.worker = A.AdminWorker()  # admin calls off the executor thread
        n.create_subscription(ft.pose.msg_type, ft.pose.name, self.on_pose, ft.pose.qos)
        n.create_subscription(ft.wrench.msg_type, ft.wrench.name, self.on_wrench, ft.wrench.qos)
        n.create_subscription(ft.joints.msg_type, ft.joints.name, self.on_joints, ft.joints.qos)
        self.cameras = (CameraInputs(n, self.cell, fr, n.cfg.vision, self.awake.read)
                        if self.cell.camera is not None else None)  # vision off: no camera subscription
        self._t0 = self._last_fast = time.monotonic()
        self._no_state_reported = False
        self.last_pose_stamp = math.nan  # header stamp of the newest pose (s, the driver's clock)
        self.last_target: list[float] = []
        if fr.dry_run:
            n.get_logger().warning(f"DRY RUN: targets are computed and logged, never sent to {fr.target_topic}")
        n.create_timer(1.0 / self.fr.fast_hz, self.on_fast)

    def status(self):
        return {"reset_state": self.cell.reset_state, "reset_why": self.cell.reset_why,
                "stale": self.stale_why or "", "estop": self.estopped, "dry_run": self.fr.dry_run,
                "last_target_m_rad": self.last_target, "fci_error": self.fci_error or "",
                "recovering": self.worker.busy == "recover", **(self.cameras.status() if self.cameras else {})}

    # ------------------------------------------------------------ franka_ros2 state
    def on_pose(self, msg):
        pos, quat, stamp = FT.unpack_pose(msg)
        self.last_pose_stamp = stamp
        self.cell.on_pose(pos, quat, self.awake.read(), stamp)

    def on_wrench(self, msg):
        force, torque, _ = FT.unpack_wrench(msg)
        if self.cell.on_wrench(force, torque, self.awake.read()):
            self.node.counters["force_aborts"] += 1
            self.node.get_logger().warning(f"force {self.cell.core.max_force:.1f} N > {self.node.cfg.cell.max_force_n}"
                                           " N: target re-anchored on the measured pose")
            self.send_outbox()

    def on_joints(self, msg):
        q, _, _ = FT.unpack_joints(msg)
        if len(q) >= 7:
            self.cell.on_joints(q, self.awake.read())

    def send_outbox(self):
        n = self.node
        q = self.cell.take_joint_outbox()
        if q is not None:
            n.counters["joint_targets"] += 1
            if self.fr.dry_run:
                n.get_logger().info(f"dry run joint target (rad) {np.round(q, 4).tolist()}",
                                    throttle_duration_sec=0.5)
            else:
                self.joint_pub.publish(FT.pack_joints(FT.JOINT_NAMES, q, [], time.time()))
        target = self.cell.take_outbox()
        if target is None:
            return
        n.counters["targets"] += 1
        self.last_target = [round(float(v), 5) for v in target]
        pos, quat = self.cell.core.frame.to_base(target)
        if self.fr.dry_run:
            n.counters["dry_run_targets"] += 1
            n.get_logger().info(f"dry run target (hole frame m, rad) {self.last_target} base xyz "
                                f"{np.round(pos, 4).tolist()}", throttle_duration_sec=0.5)
            return
        self.target_pub.publish(FT.pack_pose(pos, quat, time.time(), self.fr.base_frame))

    # ------------------------------------------------------------ episodes (the clock's hooks)
    def start_episode(self):
        """Episode over (or first start): reset first; `begin_episode` when the reset is done."""
        self.cell.request_reset()
        self.node.phase = "reset"
        self.node.counters["resets"] += 1

    def begin_episode(self):
        self.started_any = True
        self.cell.start_episode()
        self.node.phase = "ready"
        self.node.begin_episode(self.cell.observe())

    def defer_end(self, reason: str) -> bool:
        self.pending_end, self.node.phase = reason, "ending"  # completed by the next tick
        return True

    def before_tick(self) -> bool:
        n = self.node
        if self.stale_why or n.phase not in ("ready", "ending"):
            return False
        n.obs = self.cell.observe()  # the state now = the outcome of the last command
        reason = self.pending_end or (n.book.end_reason(False, False, self.cell.info()) if n.book.steps else None)
        if reason:
            self.pending_end = None
            n.finish_episode(reason)
            return False
        return self.cameras is None or self.cameras.tick_ok()  # a camera without a recent frame: hold

    def executed(self, source, action):
        if self.stale_why and source != Source.HOLD:
            return Source.HOLD, None
        return source, action

    def after_apply(self):
        self.send_outbox()

    # ------------------------------------------------------------ fast timer: stale state, resets
    def on_fast(self):
        n = self.node
        now = time.monotonic()
        dt, self._last_fast = now - self._last_fast, now
        self.admin_results()
        # staleness on this process's running time: a stall of the bridge (a busy PC) is not a
        # dead driver; the state that arrived meanwhile is taken after it (robot_stack.logic.awake)
        awake = self.awake.read()
        n.counters["late_ticks"] = self.awake.stalls
        why = self.cell.stale(awake)
        if why and not self.cell.core.has_state():
            if not self._no_state_reported and now - self._t0 > self.fr.startup_s:
                self._no_state_reported = True
                n.fault("no robot state", detail=f"nothing on {self.fr.pose_topic} / {self.fr.wrench_topic} for "
                        f"{self.fr.startup_s:.0f} s: is franka_ros2 running with franka_robot_state_broadcaster?")
            return
        if why:
            if self.stale_why is None:
                oldest = min(self.cell.core.pose_t, self.cell.core.wrench_t)
                self.on_stale(why, state_age_ms=round(1e3 * (awake - oldest), 1), check_gap_ms=round(1e3 * dt, 1),
                              stamp_age_ms=round(1e3 * (time.time() - self.last_pose_stamp), 1))
            return
        if self.stale_why is not None:
            n.get_logger().info(f"robot state is back after: {self.stale_why}")
            self.stale_why = None
        if self.rearm and n.phase == "reset":
            self.rearm = False
            self.cell.core.target = None  # start from the measured pose, as a first reset
            self.cell.request_reset()
        if n.phase == "reset" and not self.estopped and self._listeners_matched():
            outcome = self.cell.reset_tick(now, dt, dry_run=self.fr.dry_run)
            self.send_outbox()
            if outcome in WAIT_FAULTS:
                n.fault(f"reset: {outcome}", detail=f"{self.cell.reset_why}; holding. Continue with the "
                        "dashboard's Start (POST /api/episode/start)")
            elif outcome == "confirm":
                n.get_logger().info("reset done: waiting for the operator's start (request_start)")
            elif outcome in ("homing", "homed"):
                n.get_logger().info(f"reset: {outcome} (franka.home_q)")
            if self.cell.reset_state == "done" and not self.waiting_recorder:
                self.begin_episode()
            elif self.cell.reset_state == "done" and now - self._t0 > self.fr.startup_s:
                n.get_logger().warning("waiting for the recorder's heartbeat before the first episode "
                                       "(is the learner box up, with the same ROS_DOMAIN_ID?)",
                                       throttle_duration_sec=10.0)

    def _listeners_matched(self) -> bool:
        """True once the target and joint-target publishers have the readers the params ask for."""
        if self.listeners is None:
            return True
        pubs = {"target": self.target_pub, "joint": self.joint_pub}
        if all(pubs[k].get_subscription_count() >= n for k, n in self.listeners.items()):
            self.listeners = None  # matched once: later resets never wait
        return self.listeners is None

    def on_stale(self, why: str, **timing: float):
        """Hold (no new targets, no ticks) and report; end the episode in progress; ask the driver
        why. `timing`: the age of the oldest state stream and the gap since our previous check, ms."""
        n = self.node
        self.stale_why = why
        n.counters["stale_faults"] += 1
        n.fault("stale robot state", detail=why, episode=n.episode, **timing)
        self.worker.start("diagnose", self.admin.state)
        if n.phase == "await":
            n.apply(Source.HOLD, None)
        if n.phase in ("ready", "estop", "ending"):
            reason, self.pending_end = self.pending_end or "robot_fault", None
            if n.book.steps == 0:
                self.start_episode()  # nothing recorded yet: the same episode starts after the next reset
            else:
                n.finish_episode(reason)

    def on_status(self, s: dict) -> None:
        if self.started_any or not self.waiting_recorder or s["node"] != "recorder":
            return
        self.waiting_recorder = False
        count = s["n_episodes"]  # a control field (topics.CONTROL_STATUS)
        if count > self.node.episode:
            self.node.get_logger().info(f"the store holds {count} episodes: continuing at episode {count}")
            self.node.episode = count

    # ------------------------------------------------------------ FCI errors and recovery
    def admin_results(self):
        n = self.node
        for what, ok, value in self.worker.results():
            if what == "diagnose":
                err = A.fci_error(value, self.admin_names) if ok else None
                if not ok:
                    n.get_logger().warning(f"could not ask franka_ros2 why the state stopped: {value}")
                elif err and self.stale_why and not self.fci_error:
                    self.fci_error = err
                    n.counters["fci_errors"] += 1
                    n.fault("fci error", detail=f"{err}. Recover: `rlif robot recover` or the dashboard's "
                                                "Recover button", episode=n.episode)
            elif ok:
                n.counters["recoveries"] += 1
                self.fci_error, self.rearm = None, True
                n.get_logger().info(f"franka recovered ({', '.join(value)}): re-armed, resetting from the "
                                    "measured pose")
                n.publish_event(A.RECOVERED, steps=list(value))
            else:
                n.fault("recovery failed", detail=value)

    def on_recover_request(self):
        def job():
            return A.recover(self.admin, self.admin_names, log=self.node.get_logger().info)

        if not self.worker.start("recover", job):
            self.node.get_logger().warning(f"recovery requested while '{self.worker.busy}' runs: ignored")

    def on_event(self, e: T.Event) -> bool:
        if e.kind == A.REQ_RECOVER:
            self.on_recover_request()
            return True
        if e.kind == T.EventKind.ESTOP:
            self.estopped = True
        elif e.kind == T.EventKind.ESTOP_CLEAR:
            self.estopped = False
        elif e.kind == T.EventKind.REQ_START:
            if self.node.phase == "reset" and self.cell.confirm():
                self.node.get_logger().info("operator confirmed: continuing")
            return True
        return self.node.phase in ("reset", "done")  # between episodes: nothing to hold, succeed or abort
