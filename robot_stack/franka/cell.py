"""FrankaCell: the real cell as `CellNode` drives it (FrankaCore + reset motions), no rclpy.

Cell methods (`apply`, `hold`, `observe`, `info`) act NOW: applying moves the impedance target
and returns the state measured at this moment, never terminal. The arm then moves for a control
period under franka's 1 kHz controller, and the outcome (success, force abort) is read at the
next tick: the bridge node checks `info()` before publishing each observation, so a terminal
step's final observation is the state one period after its command, as in the twin.

Reset (between episodes), driven by `reset_tick(now, dt)` from a fast timer:
  pending  -> no robot state yet: wait
  lifting  -> (homing resets only) the target straight up to `franka.lift_m`, out of the hole
  homing   -> (homing resets only) `JointMotion` to `franka.home_q` on the controller's joint
              target, before the first reset and then every `franka.home_every` resets; done when
              the joints are within `franka.home_tolerance_rad`; the tip must then be in the box
  moving   -> `ResetMotion`: lift to `franka.lift_m`, across, down to a random start pose above
              the nominal hole, the target interpolated at `franka.reset_speed_*`
  confirm  -> wait for the operator (`confirm()`, the `request_start` event): always after a
              force above `cell.max_force_n` or a timeout during the reset (the arm holds its
              anchored target), when the first reset finds the tip outside the safety box (no
              jump into the box), and after every reset when `franka.confirm_reset`
  done     -> the node starts the episode (`start_episode`)
Every target leaves through `outbox`, every joint target through `joint_outbox` (the node
publishes them, or only logs them in a dry run).

Camera frames (`vision.image_size` > 0; `camera.CameraFrames`): the bridge feeds every image
(`on_image`); each `observe()` (and so `apply`, `hold`) also takes the cameras' frames at that
moment, and `images()` returns them: {camera: uint8 (S, S, 3)} of the state the latest observation
describes, the contract of `TwinCell.images`. When a camera had no frame or only an old one at
that moment, `images()` raises `camera.StaleFrames` naming it (`frames_stale()` says so without
raising): the bridge holds that step (no tick), so no step is recorded without its pictures.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from robot_stack import contract
from robot_stack.franka.camera import CameraFrames, StaleFrames
from robot_stack.franka.core import FrankaCore
from robot_stack.franka.homing import JointMotion
from robot_stack.franka.reset import ResetMotion

MAX_RESET_DT_S = 0.05  # one reset_tick never moves the target by more than this much time of motion, s


class FrankaCell:
    def __init__(self, cell_cfg, franka_cfg, seed: int = 0, vision=None,
                 clock: Callable[[], float] = time.monotonic):
        """`vision` (a `VisionConfig`; None or image_size 0: no cameras) with `clock`, the time (s)
        the bridge stamps received images with (`on_image`'s t), read at each `observe()`."""
        self.core = FrankaCore(cell_cfg, franka_cfg, seed)
        self.camera = camera_frames(franka_cfg, vision) if vision is not None and vision.enabled else None
        self.clock = clock
        self._images: dict | StaleFrames = StaleFrames((), "no observation yet")  # taken at the latest observe()
        self.fr = franka_cfg
        self.obs_labels = contract.OBS_LABELS
        self.action_labels = contract.action_labels(cell_cfg.action_space)
        self.reset_state = "pending"  # pending | lifting | homing | moving | confirm | done
        self.reset_why = ""  # why the reset waits for the operator
        self.motion: ResetMotion | None = None
        self.homing: JointMotion | None = None
        self.n_resets = 0  # resets completed (homing before reset 0, home_every, 2 x home_every, ...)
        self._homed = False  # this reset's homing is done
        self._wait_stage = ""  # the stage a wait for the operator interrupted
        self._reset_t0 = 0.0
        self.outbox: list[np.ndarray] = []  # hole-frame targets to send, oldest first
        self.joint_outbox: list[np.ndarray] = []  # joint targets (homing), rad

    # ---------------------------------------------------------------- state in
    def on_pose(self, pos, quat, t: float, stamp: float | None = None) -> None:
        self.core.on_pose(pos, quat, t, stamp)

    def on_wrench(self, force, torque, t: float) -> bool:
        """True when this sample exceeded the force limit (the target was re-anchored: send it)."""
        hit = self.core.on_wrench(force, torque, t)
        if hit and self.core.target is not None:
            self._send(self.core.target)
        return hit

    def on_joints(self, q, t: float) -> None:
        self.core.on_joints(q, t)

    def stale(self, now: float) -> str | None:
        return self.core.stale(now)

    def on_image(self, camera: str, height: int, width: int, encoding: str, step: int, data, t: float,
                 stamp: float = float("nan")) -> str | None:
        """One image received at t (s, `clock`'s time): None if taken, else why it was refused."""
        return self.camera.on_image(camera, height, width, encoding, step, data, t, stamp)

    # ---------------------------------------------------------------- episode steps
    def observe(self) -> np.ndarray:
        """The state now; with cameras, their frames now too (`images()`)."""
        if self.camera is not None:
            try:
                self._images = self.camera.frames(self.clock())
            except StaleFrames as e:
                self._images = e
        return self.core.observe()

    def images(self) -> dict[str, np.ndarray]:
        """{camera: uint8 (S, S, 3) RGB} of the state the latest observation describes (taken with
        it); `StaleFrames` naming the camera when one had no frame, or only an old one, then."""
        if self.camera is None:
            raise ValueError("vision.image_size is 0: this cell has no image observations")
        if isinstance(self._images, StaleFrames):
            raise StaleFrames(self._images.cameras, str(self._images))
        return {c: f.copy() for c, f in self._images.items()}

    def frames_stale(self) -> StaleFrames | None:
        """Why the latest observation has no frames (None: it has them, or there are no cameras)."""
        return self._images if self.camera is not None and isinstance(self._images, StaleFrames) else None

    def info(self) -> dict:
        return self.core.info()

    def apply(self, action):
        """Move the target by one action (target rule in core.py); state measured now."""
        if not self.core.aborted:
            self.core.target = self.core.next_target(action)
            self._send(self.core.target)
        return self.hold()

    def hold(self):
        """Keep the target (the controller holds the arm there); state measured now."""
        return self.observe(), False, False, self.info()

    def start_episode(self) -> None:
        """The reset is done: the episode starts where the reset target is (no jump)."""
        target = self.motion.cmd if self.motion is not None else None
        self.core.start_episode(target)
        self.motion = None

    # ---------------------------------------------------------------- reset
    def request_reset(self) -> None:
        """Ask for a reset; it starts at the next `reset_tick` that has robot state."""
        self.reset_state, self.reset_why, self.motion, self.homing, self._homed = "pending", "", None, None, False

    def homing_due(self) -> bool:
        return len(self.fr.home_q) == 7 and not self._homed and self.n_resets % self.fr.home_every == 0

    def confirm(self) -> bool:
        """The operator's go (`request_start`): True if the reset was waiting for it."""
        if self.reset_state != "confirm":
            return False
        if self._wait_stage == "moving" and self.motion is not None and self.motion.finished:
            self.reset_state = "done"  # at the start pose: the episode may start
            self.n_resets += 1
        else:
            self.reset_state = "pending"  # interrupted reset: start over from where the arm is
        self.reset_why = ""
        return True

    def reset_tick(self, now: float, dt: float, dry_run: bool = False) -> str | None:
        """Advance the reset by dt (s); returns what just happened: None | 'lifting' | 'homing' |
        'homed' | 'moving' | 'done' | 'confirm' (operator asked) | 'force' | 'timeout' | 'outside'
        (all wait for the operator). Call it only while the robot state is fresh."""
        core = self.core
        if self.reset_state == "pending":
            if not core.has_state():
                return None
            if core.target is None:  # first reset: start from the measured pose, which must be in the box
                off = self._outside_m()
                if off > self.fr.outside_box_m:
                    return self._wait("outside", f"the peg tip is {100 * off:.1f} cm outside the safety box: "
                                                 "guide the arm above the hole, then confirm")
                core.target = core.clip(core.pose)
            start = core.target
            core.max_force, core.aborted = 0.0, False
            if self.homing_due():  # out of the hole first: the same lift, nothing sideways
                up = np.array([*start[:2], max(self.fr.lift_m, start[2]), *start[3:]])
                self.motion = ResetMotion(start, up, self.fr.lift_m, self.fr.reset_speed_m_s, self.fr.reset_speed_rad_s)
                self.reset_state, self._reset_t0 = "lifting", now
                return "lifting"
            self.motion = ResetMotion(start, core.random_start(), self.fr.lift_m,
                                      self.fr.reset_speed_m_s, self.fr.reset_speed_rad_s)
            self.reset_state, self._reset_t0 = "moving", now
            return "moving"
        if self.reset_state not in ("lifting", "homing", "moving"):
            return None
        if core.aborted:  # force limit hit during the reset: core re-anchored the target
            return self._wait("force", f"force {core.max_force:.0f} N > {core.cell.max_force_n:.0f} N during reset")
        if now - self._reset_t0 > self.fr.reset_timeout_s:
            return self._wait("timeout", f"reset not done within {self.fr.reset_timeout_s:.0f} s ({self.reset_state})")
        if self.reset_state == "homing":
            return self._homing_tick(now, dt, dry_run)
        core.set_target(self.motion.step(min(dt, MAX_RESET_DT_S)))
        self._send(core.target)
        if not (self.motion.finished and (dry_run or self.motion.settled(core.pose, self.fr.reset_tolerance_m))):
            return None
        if self.reset_state == "lifting":
            self.homing = JointMotion(core.q, self.fr.home_q, self.fr.home_speed_rad_s)
            self.reset_state, self._reset_t0 = "homing", now
            return "homing"
        if self.fr.confirm_reset:
            return self._wait("confirm", "reset done: confirm to start the episode")
        self.reset_state = "done"
        self.n_resets += 1
        return "done"

    def _homing_tick(self, now: float, dt: float, dry_run: bool) -> str | None:
        core = self.core
        self._send_joints(self.homing.step(min(dt, MAX_RESET_DT_S)))
        if not (self.homing.finished and (dry_run or self.homing.settled(core.q, self.fr.home_tolerance_rad))):
            return None
        self._homed = True
        off = self._outside_m()
        if off > self.fr.outside_box_m and not dry_run:
            core.target = core.clip(core.pose)  # not sent: the controller holds home until the operator acts
            return self._wait("outside", f"at franka.home_q the tip is {100 * off:.1f} cm outside the safety "
                                         "box: set home_q to joints with the tip above the hole "
                                         "(`rlif robot joints`), guide the arm there, then confirm")
        if not dry_run:
            core.target = core.clip(core.pose)
            self._send(core.target)  # back to Cartesian mode, holding where homing ended
        self.reset_state = "pending"  # the Cartesian reset motion starts from here
        return "homed"

    def _outside_m(self) -> float:
        return float(np.linalg.norm(self.core.clip(self.core.pose)[:3] - self.core.pose[:3]))

    def _wait(self, what: str, why: str) -> str:
        self._wait_stage = self.reset_state
        self.reset_state, self.reset_why = "confirm", why
        return what

    def _send(self, target) -> None:
        self.outbox.append(np.array(target, dtype=float))
        del self.outbox[:-10]  # the node drains it every callback; never grows

    def _send_joints(self, q) -> None:
        self.joint_outbox.append(np.array(q, dtype=float))
        del self.joint_outbox[:-10]

    def take_joint_outbox(self) -> np.ndarray | None:
        """The newest joint target to send (None if nothing new)."""
        if not self.joint_outbox:
            return None
        q = self.joint_outbox[-1]
        self.joint_outbox.clear()
        return q

    def take_outbox(self) -> np.ndarray | None:
        """The newest target to send (None if nothing new); older ones are superseded."""
        if not self.outbox:
            return None
        t = self.outbox[-1]
        self.outbox.clear()
        return t


def camera_frames(fr, vision) -> CameraFrames:
    """The cameras of `vision.cameras` with the `franka.*camera*` settings."""
    topics = {c: getattr(fr, f"{c}_camera_topic") for c in vision.cameras}
    return CameraFrames(vision.cameras, vision.image_size, fr.camera_max_age_ms / 1000.0, fr.camera_encoding,
                        fr.camera_resolution, topics)
