"""Frames through the one write path in process: with a store that has cameras, `run_episode`
stores each step's frame of the state its observation describes, and the final frame."""
from __future__ import annotations

import numpy as np
import pytest

from learner.loop import run_episode
from learner.replay import ReplayStore
from sim.cell import TwinCell
from sim.config import CellConfig, VisionConfig
from sim.experts import ScriptedExpert

pytestmark = pytest.mark.unit
CFG = CellConfig(episode_steps=8)
VISION = VisionConfig(image_size=16)


def test_each_stored_frame_is_the_frame_of_its_steps_state(tmp_path):
    cell = TwinCell(CFG, seed=0, vision=VISION)
    store = ReplayStore.create(tmp_path / "r.zarr", cell.obs_labels, cell.action_labels, images={"wrist": (16, 16, 3)})
    try:
        run_episode(cell, None, store, demo_expert=ScriptedExpert("mid", seed=0, cell_cfg=CFG), train=False, seed=5)
        frames, actions = store.column("image_wrist"), store.column("action")
        final = store.episodes["final_image_wrist"][0]
        assert len(frames) == store.n_rows >= 1
        # the same episode again (same seeds, the stored actions): the same frames, step by step
        again = TwinCell(CFG, seed=0, vision=VISION)
        again.reset(seed=5)
        for k in range(store.n_rows):
            np.testing.assert_array_equal(frames[k], again.images()["wrist"], err_msg=f"step {k}")
            again.apply(actions[k])
        np.testing.assert_array_equal(final, again.images()["wrist"])
        assert len({f.tobytes() for f in frames}) > 1  # the scene moved
        again.close()
    finally:
        store.close()
        cell.close()


def test_a_store_with_cameras_needs_a_cell_that_renders_them(tmp_path):
    cell = TwinCell(CFG, seed=0)  # vision off
    with ReplayStore.create(tmp_path / "r.zarr", cell.obs_labels, cell.action_labels,
                            images={"wrist": (16, 16, 3)}) as store:
        with pytest.raises(ValueError, match="vision.image_size is 0"):
            run_episode(cell, None, store, demo_expert=ScriptedExpert("mid", seed=0, cell_cfg=CFG), train=False)
        assert store.n_rows == 0
