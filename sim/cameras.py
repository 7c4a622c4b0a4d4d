"""The twin's cameras as observations: per-episode camera pose and lighting noise.

A rig keeps the scene's camera poses (relative to the body each camera is mounted on) and its
lights' brightness as built, and at every episode's reset draws new ones around them from its
own random stream, so the physics' random draws, and every pinned trajectory, are untouched.
Frames are rendered by `TwinCell.images()` from the current state, the one the step's
observation describes. Sites are not rendered (group 4): a frame shows the board, the hole and
the peg as a camera would, never the marker of the true hole.
"""
from __future__ import annotations

import mujoco
import numpy as np

from sim import kinematics as kin
from sim.config import VisionConfig

STREAM = 1  # the rig's random stream of an episode seed s: numpy SeedSequence [s, STREAM]


class CameraRig:
    def __init__(self, model: mujoco.MjModel, vision: VisionConfig):
        self.model, self.vision = model, vision
        self.cam_ids = [model.camera(name).id for name in vision.cameras]
        self._pos0 = model.cam_pos[self.cam_ids].copy()  # in the parent body's frame, m
        self._quat0 = model.cam_quat[self.cam_ids].copy()
        self._diffuse0 = model.light_diffuse.copy()

    @staticmethod
    def rng(seed: int | None) -> np.random.Generator:
        """The rig's generator for episode seed `seed` (None: unseeded)."""
        return np.random.default_rng(None if seed is None else [int(seed), STREAM])

    def randomize(self, rng: np.random.Generator) -> None:
        """New camera poses and light brightness for an episode, around the scene's."""
        v, m = self.vision, self.model
        for k, cid in enumerate(self.cam_ids):
            m.cam_pos[cid] = self._pos0[k] + rng.uniform(-v.camera_jitter_m, v.camera_jitter_m, 3)
            tilt = kin.rotvec_to_quat(rng.uniform(-v.camera_jitter_rad, v.camera_jitter_rad, 3))
            q = np.zeros(4)
            mujoco.mju_mulQuat(q, self._quat0[k], tilt)  # tilted about the camera's own axes
            m.cam_quat[cid] = q
        scale = rng.uniform(1.0 - v.light_jitter, 1.0 + v.light_jitter, len(self._diffuse0))
        m.light_diffuse[:] = np.clip(self._diffuse0 * scale[:, None], 0.0, 1.0)
