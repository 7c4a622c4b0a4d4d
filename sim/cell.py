"""TwinCell: the MuJoCo peg-insertion cell with the cell contract (docs/architecture.md; observe, apply, reset).

The real Franka cell has the same methods, so everything above it (env, graph node, operators)
is cell-agnostic.

Control (profiled choice, see also scene.xml): the Cartesian impedance law runs INSIDE MuJoCo as
six position servos with a site transmission (peg tip relative to the nominal hole frame), body
gravcomp and joint damping, so a control period is a few `mj_step(model, data, nstep=10)` calls
with no Python per 1 ms step. A per-step numpy controller ran ~20x real time; this runs ~120x in
free space on an idle core and ~55x (CPU time) over contact-rich expert episodes, where the
cylinder-box contacts dominate (`rlif bench sim`; README "The twin"). Fidelity trade-offs, all
small at the 10 Hz / mm scale of the task:
the servos are exactly F = K (x_target - x) - D xdot with J^T mapping at 1 kHz (like the real
controller), but there is no Coriolis compensation and no nullspace posture spring (joint damping
keeps the redundant joint still); force limits are per Cartesian axis (100 N, 10 Nm) plus the
Panda's joint torque limits.

Rules: the target rule, safety box, force abort, depth and success are `sim.rules.CellRules`,
the same object the Franka core uses (here with MuJoCo's quaternion arithmetic); by default one
step pushing on the board winds up at most 2000 N/m x 1 cm = 20 N. `hold()` keeps the target.

Wrench: the F/T sensor between fingers and peg, minus the peg's static weight = the contact wrench
on the peg, expressed in the hole frame, torque about the peg tip (sign: force ON the peg).
The abort check reads it every 10 ms of physics.
"""
from __future__ import annotations

import math

import mujoco
import numpy as np

from sim import gl
from sim import kinematics as kin
from sim.cameras import CameraRig
from sim.config import CAMERAS, CellConfig, VisionConfig
from sim.contract import ACTION_LABELS, OBS_LABELS
from sim.model import HOME_Q, build
from sim.rules import CellRules, Rotations

CHUNK_S = 0.01  # physics between two force-limit checks, s


class TwinCell:
    """A cell: observe, apply, reset. Poses are in the NOMINAL hole frame (m, rotation vector rad)."""

    def __init__(self, cfg: CellConfig = CellConfig(), seed: int | None = None, vision: VisionConfig = VisionConfig()):
        cfg.validate()
        vision.validate()
        self.cfg, self.vision = cfg, vision
        self.model, self.ids = build(cfg)
        self.data = mujoco.MjData(self.model)
        self.obs_labels: tuple[str, ...] = OBS_LABELS
        self.action_labels: tuple[str, ...] = ACTION_LABELS[cfg.action_space]
        self.action_dim = len(self.action_labels)
        self.obs_dim = len(self.obs_labels)
        # the cell's rules (sim/rules.py) with MuJoCo's quaternion arithmetic: trajectories pinned bit for bit
        self.rules = CellRules(cfg, Rotations(kin.compose_rotvec, kin.diff_rotvec))
        dt = self.model.opt.timestep
        self._chunk = max(1, round(CHUNK_S / dt))
        self._n_chunks = max(1, round(1.0 / cfg.control_hz / dt / self._chunk))
        mujoco.mj_forward(self.model, self.data)
        self._nom_pos = self.data.site_xpos[self.ids.hole_nominal].copy()
        self._nom_rot = self.data.site_xmat[self.ids.hole_nominal].reshape(3, 3).copy()
        # Views into MjData's buffers (allocated once, valid while self.data lives): the hot loop
        # reads them without building new array wrappers. Same arrays, same arithmetic.
        d, ids = self.data, self.ids
        self._ft_mat = d.site_xmat[ids.ft].reshape(3, 3)
        self._f_sensor = d.sensordata[ids.force_adr:ids.force_adr + 3]
        self._t_sensor = d.sensordata[ids.torque_adr:ids.torque_adr + 3]
        self._linvel = d.sensordata[ids.linvel_adr:ids.linvel_adr + 3]
        self._angvel = d.sensordata[ids.angvel_adr:ids.angvel_adr + 3]
        self._ft_pos, self._ee_pos, self._hole_pos = d.site_xpos[ids.ft], d.site_xpos[ids.ee], d.site_xpos[ids.hole]
        self._ee_mat = d.site_xmat[ids.ee].reshape(3, 3)
        self._peg_mat, self._peg_pos = d.xmat[ids.peg_body].reshape(3, 3), d.xpos[ids.peg_body]
        self._rot_t = self._nom_rot.T  # the same transposed view the expressions below used
        self._board0 = self.model.body_pos[self.model.body("board").id].copy()
        self._peg_mass = float(self.model.body_subtreemass[self.ids.peg_body])
        self._peg_weight_n = 9.81 * self._peg_mass
        self._weight = np.array([0.0, 0.0, -9.81 * self._peg_mass])
        self._peg_com = self.model.body_ipos[self.ids.peg_body].copy()   # in the peg frame, m
        self._rng = np.random.default_rng(seed)
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self._rig = CameraRig(self.model, vision) if vision.enabled else None
        self._rig_rng = CameraRig.rng(seed)
        self.episode = 0
        self.step = 0
        self.hole_offset = np.zeros(2)
        self.target = np.zeros(6)
        self._max_force = 0.0
        self._aborted = False
        self.reset()
        self.episode = 0

    # ---- the contract -------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict]:
        """New episode: random true hole offset, random start pose above the nominal hole."""
        if seed is not None:
            self._rng, self._rig_rng = np.random.default_rng(seed), CameraRig.rng(seed)
        if self._rig is not None:
            self._rig.randomize(self._rig_rng)
        c, rng = self.cfg, self._rng
        self.hole_offset = rng.uniform(-c.hole_offset_m, c.hole_offset_m, 2)
        start = np.array([*rng.uniform(-c.start_xy_m, c.start_xy_m, 2), rng.uniform(*c.start_z_m), 0, 0, 0])
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.mocap_pos[self.ids.board_mocap] = self._board0 + self._nom_rot @ np.array([*self.hole_offset, 0.0])
        q = kin.solve_ik(m, d, self.ids.ee, *self._to_world(start), HOME_Q)
        d.qpos[:] = q
        d.qvel[:] = 0.0
        self.target = start
        d.ctrl[:] = start
        mujoco.mj_forward(m, d)
        self.episode += 1
        self.step = 0
        self._max_force = 0.0
        self._aborted = False
        return self.observe(), self._info()

    def apply(self, action: np.ndarray) -> tuple[np.ndarray, bool, bool, dict]:
        """One control period: move the target by one action (the target rule, `sim.rules`), then physics."""
        self.target = self.rules.next_target(self.target, self.ee_pose(), action)
        return self._run_period()

    def set_target(self, pose: np.ndarray) -> None:
        """Absolute impedance target in the nominal hole frame (x, y, z m; rotation vector rad),
        clipped to the safety box; applied by the next `hold()`. For franka mode, where the
        command is an equilibrium pose rather than a delta."""
        pose = np.asarray(pose, dtype=np.float64).reshape(6)
        if not np.all(np.isfinite(pose)):
            raise ValueError(f"target pose contains NaN/inf: {pose.tolist()}")
        self.target = self.rules.clip(pose)

    def hold(self) -> tuple[np.ndarray, bool, bool, dict]:
        """One control period keeping the current target (missed deadline, NaN, e-stop)."""
        return self._run_period()

    def observe(self) -> np.ndarray:
        pose = self.ee_pose()
        v = self._rot_t @ self._linvel
        w = self._rot_t @ self._angvel
        f, tq = self.wrench()
        return np.concatenate([pose, v, w, f, tq]).astype(np.float32)

    def render(self, camera: str = "front", width: int = 320, height: int = 240) -> np.ndarray:
        """RGB frame (uint8 HxWx3) from the `front` or `wrist` camera, headless. Raises
        `sim.gl.RenderUnavailable` (one line naming the fix) where no OpenGL library works."""
        if camera not in CAMERAS:
            raise ValueError(f"camera must be 'front' or 'wrist', got {camera!r}")
        r = self._renderers.get((width, height))
        if r is None:
            if gl.PROBLEM:
                raise gl.unavailable()
            gl.load_before_context()
            try:
                r = mujoco.Renderer(self.model, height, width)
            except (ImportError, AttributeError, RuntimeError, mujoco.FatalError) as e:  # no usable GL context
                raise gl.unavailable(f"{type(e).__name__}: {str(e).splitlines()[0][:160]}") from None
            self._renderers[(width, height)] = r
        r.update_scene(self.data, camera=camera)
        r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False      # 4x faster on software GL
        r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        return r.render().copy()

    def images(self) -> dict[str, np.ndarray]:
        """The frames of `vision.cameras` (uint8, image_size x image_size x 3) of the current state:
        after `reset` or `apply`, the state its observation describes."""
        if self._rig is None:
            raise ValueError("vision.image_size is 0: this cell has no image observations")
        s = self.vision.image_size
        return {camera: self.render(camera, s, s) for camera in self.vision.cameras}

    def close(self) -> None:
        for r in self._renderers.values():
            r.close()
        self._renderers.clear()

    # ---- state in the hole frame ---------------------------------------------------------
    def ee_pose(self) -> np.ndarray:
        """Peg tip pose in the nominal hole frame: x, y, z (m), rotation vector (rad)."""
        pos = self._rot_t @ (self._ee_pos - self._nom_pos)
        rot = kin.mat_to_rotvec(self._rot_t @ self._ee_mat)
        return np.concatenate([pos, rot])

    def contact_force(self) -> np.ndarray:
        """Contact force ON the peg (N), world axes: F/T reading minus the peg's static weight."""
        f_ext = -(self._ft_mat @ self._f_sensor)
        f_ext[2] += self._peg_weight_n
        return f_ext

    def wrench(self) -> tuple[np.ndarray, np.ndarray]:
        """Contact force (N) and torque about the peg tip (Nm) on the peg, hole-frame axes."""
        f_ext = self.contact_force()
        t_hand = self._ft_mat @ self._t_sensor
        r_com = self._peg_mat @ self._peg_com + self._peg_pos - self._ft_pos
        t_ext_site = -t_hand - _cross(r_com, self._weight)
        t_ext_tip = t_ext_site + _cross(self._ft_pos - self._ee_pos, f_ext)
        return self._rot_t @ f_ext, self._rot_t @ t_ext_tip

    def tip_to_hole(self) -> np.ndarray:
        """True peg tip minus true hole entrance, hole-frame axes, m (experts only)."""
        return self._rot_t @ (self._ee_pos - self._hole_pos)

    @property
    def hole_frame(self) -> tuple[np.ndarray, np.ndarray]:
        """The nominal hole frame in the robot base (world) frame: position (m), 3x3 rotation."""
        return self._nom_pos.copy(), self._nom_rot.copy()

    def joint_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Panda joint positions (rad) and velocities (rad/s), joints 1-7."""
        return self.data.qpos[:7].copy(), self.data.qvel[:7].copy()

    # ---- internals -----------------------------------------------------------------------
    def _to_world(self, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = self._nom_pos + self._nom_rot @ pose[:3]
        return pos, kin.mat_to_rotvec(self._nom_rot @ _rotvec_to_mat(pose[3:]))

    def _run_period(self) -> tuple[np.ndarray, bool, bool, dict]:
        m, d = self.model, self.data
        d.ctrl[:] = self.target
        force = 0.0
        step, chunk, mat, sensor = mujoco.mj_step, self._chunk, self._ft_mat, self._f_sensor
        weight, over, max_force = self._peg_weight_n, self.rules.over_force, self._max_force
        for _ in range(self._n_chunks):
            step(m, d, nstep=chunk)
            hx, hy, hz = (mat @ sensor).tolist()  # contact_force(), inlined: the same float operations
            fx, fy, fz = -hx, -hy, -hz + weight
            force = math.sqrt(fx * fx + fy * fy + fz * fz)
            max_force = max(max_force, force)
            if over(force):
                self._aborted = True
                break
        self._max_force = max_force
        self.step += 1
        info = self._info(force)
        terminated = bool(info["success"] or info["aborted"])
        truncated = bool(not terminated and self.step >= self.cfg.episode_steps)
        return self.observe(), terminated, truncated, info

    def _info(self, force: float | None = None) -> dict:
        t2h = self.tip_to_hole()
        depth = self.rules.depth(t2h)
        if force is None:
            force = float(np.linalg.norm(self.contact_force()))
        return {
            "success": self.rules.success(depth, self._aborted),
            "aborted": bool(self._aborted),
            "insertion_depth_m": depth,
            "hole_offset_m": self.hole_offset.copy(),
            "force_n": force,
            "max_force_n": self._max_force,
            "tip_to_hole_m": t2h,
        }


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3-vector cross product (np.cross is ~10x slower on tiny arrays)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _rotvec_to_mat(rotvec: np.ndarray) -> np.ndarray:
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, kin.rotvec_to_quat(rotvec))
    return mat.reshape(3, 3)
