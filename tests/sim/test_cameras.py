"""Image observations on the twin (sim/cameras.py, TwinCell.images): frames of the state the
observation describes, per-episode camera and light noise from their own random stream (the
physics is untouched), the hole visible and no marker of where it truly is."""
from __future__ import annotations

import mujoco
import numpy as np
import pytest

from sim.cell import TwinCell
from sim.config import CellConfig, VisionConfig

pytestmark = pytest.mark.unit
CFG = CellConfig(episode_steps=10)
STILL = VisionConfig(image_size=64, cameras=("wrist", "front"), camera_jitter_m=0.0, camera_jitter_rad=0.0,
                     light_jitter=0.0)


def test_frames_of_each_camera_at_the_configured_size():
    cell = TwinCell(CFG, seed=0, vision=VisionConfig(image_size=48, cameras=("wrist", "front")))
    try:
        frames = cell.images()
        assert sorted(frames) == ["front", "wrist"]
        assert all(f.shape == (48, 48, 3) and f.dtype == np.uint8 for f in frames.values())
        assert frames["wrist"].std() > 5  # a scene, not a blank frame
    finally:
        cell.close()


def test_a_state_only_cell_has_no_images():
    cell = TwinCell(CFG, seed=0)
    with pytest.raises(ValueError, match="vision.image_size is 0"):
        cell.images()


@pytest.mark.parametrize("bad, match", [
    (VisionConfig(image_size=64, cameras=("side",)), "vision.cameras"),
    (VisionConfig(image_size=64, cameras=("wrist", "wrist")), "vision.cameras"),
    (VisionConfig(image_size=64, cameras=()), "vision.cameras"),
    (VisionConfig(image_size=300), "vision.image_size"),
    (VisionConfig(light_jitter=1.0), "light_jitter"),
])
def test_bad_vision_settings_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        TwinCell(CFG, seed=0, vision=bad)


def test_rendering_changes_no_physics():
    """Same seeds and actions with and without images: the same observations, bit for bit."""
    rng = np.random.default_rng(3)
    actions = rng.uniform(-1, 1, (12, 6))
    runs = []
    for vision in (VisionConfig(), VisionConfig(image_size=32)):
        cell = TwinCell(CFG, seed=5, vision=vision)
        obs = [cell.reset(seed=7)[0]]
        for a in actions:
            obs.append(cell.apply(a)[0])
            if vision.enabled:
                cell.images()
        runs.append(np.stack(obs))
        cell.close()
    np.testing.assert_array_equal(runs[0], runs[1])


def test_camera_and_light_noise_is_per_episode_and_seeded():
    vision = VisionConfig(image_size=32)
    a, b = TwinCell(CFG, seed=0, vision=vision), TwinCell(CFG, seed=0, vision=vision)
    try:
        a.reset(seed=11)
        b.reset(seed=11)
        np.testing.assert_array_equal(a.images()["wrist"], b.images()["wrist"])  # same episode seed: same frame
        pose_11 = a.model.cam_pos.copy(), a.model.light_diffuse.copy()
        a.reset(seed=12)
        assert not np.array_equal(a.model.cam_pos, pose_11[0]) and not np.array_equal(a.model.light_diffuse,
                                                                                        pose_11[1])
        wrist = a.model.camera("wrist").id
        base = TwinCell(CFG, seed=0).model.cam_pos[wrist]
        assert np.abs(a.model.cam_pos[wrist] - base).max() <= vision.camera_jitter_m + 1e-12
    finally:
        a.close()
        b.close()


def test_the_camera_sees_the_hole_move():
    """The same peg pose over a board moved by 3 mm: the wrist frame changes; unmoved, it does not."""
    cell = TwinCell(CFG, seed=0, vision=STILL)
    try:
        cell.reset(seed=2)
        before = cell.images()["wrist"].astype(int)
        assert np.array_equal(cell.images()["wrist"], before)
        cell.data.mocap_pos[cell.ids.board_mocap] += np.array([0.003, 0.0, 0.0])
        mujoco.mj_forward(cell.model, cell.data)
        moved = cell.images()["wrist"].astype(int)
        changed = np.abs(moved - before).sum(axis=2) > 30
        assert changed.sum() >= 10, changed.sum()  # the hole's edge moved by a few pixels
    finally:
        cell.close()


def test_no_marker_of_the_true_hole_is_rendered():
    """The sites marking the hole (true: red, nominal: green) are never drawn."""
    cell = TwinCell(CFG, seed=0, vision=VisionConfig(image_size=128, cameras=("wrist", "front")))
    try:
        cell.reset(seed=4)
        for name, f in cell.images().items():
            r, g, b = (f[..., k].astype(int) for k in range(3))
            marker = ((r > 200) & (g < 60) & (b < 60)) | ((g > 200) & (r < 60) & (b < 60))
            assert marker.sum() == 0, (name, marker.sum())
    finally:
        cell.close()
