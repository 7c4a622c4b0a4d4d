"""Camera frames in the replay store (learner/replay_images.py): a column per camera, checked on
append (a mismatch stores nothing), round trips through zarr (plain zarr reads them), sampled
with the next state's frame like next_obs."""
from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from learner.config import ReplayConfig
from learner.replay import ReplayStore, Source, StoreError
from learner.replay_verify import verify

pytestmark = pytest.mark.unit
OBS, ACT = [f"o{i}" for i in range(4)], ["x", "y"]
CAM = {"wrist": (8, 8, 3)}


def frame(k: int) -> np.ndarray:
    return np.full(CAM["wrist"], k % 256, np.uint8)


def add_episode(store, ep: int, n: int, final=True) -> None:
    for k in range(n):
        store.append(np.full(4, 100 * ep + k, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32),
                     Source.POLICY, False, t=0.1 * k, images={"wrist": frame(100 * ep + k)})
    store.end_episode(terminal=True, success=True, final_obs=np.full(4, 100 * ep + n, np.float32),
                      final_images={"wrist": frame(100 * ep + n)} if final else None)


@pytest.fixture
def store(tmp_path):
    s = ReplayStore.create(tmp_path / "r.zarr", OBS, ACT, images=CAM, config=ReplayConfig(image_chunk_rows=5))
    yield s
    s.close()


def test_frames_round_trip_and_plain_zarr_reads_them(store, tmp_path):
    add_episode(store, 0, 7)
    add_episode(store, 1, 3, final=False)  # no final frame given: the last step's
    store.close()
    with ReplayStore.open(tmp_path / "r.zarr", readonly=True) as s:
        assert s.images == CAM and s.n_rows == 10
        assert s.column("image_wrist")[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 5, 6, 100, 101, 102]
        assert s.episodes["final_image_wrist"][:, 0, 0, 0].tolist() == [7, 102]
    g = zarr.open_group(str(tmp_path / "r.zarr"), mode="r")
    a = g["rows/image_wrist"]
    assert a.shape == (10, 8, 8, 3) and a.dtype == np.uint8 and a.chunks[0] == 5
    assert int(a[9, 0, 0, 0]) == 102
    assert json.loads((tmp_path / "r.zarr" / "zarr.json").read_text())["attributes"]["images"] == {"wrist": [8, 8, 3]}
    assert verify(tmp_path / "r.zarr") == []


@pytest.mark.parametrize("images, match", [
    (None, r"frames of cameras \['wrist'\] needed"),
    ({"front": frame(0)}, r"frames of cameras \['wrist'\] needed"),
    ({"wrist": frame(0)[:4]}, r"camera 'wrist' frame is uint8 \(4, 8, 3\)"),
    ({"wrist": frame(0).astype(np.float32)}, "frame is float32"),
])
def test_a_mismatched_frame_is_refused_and_nothing_is_stored(store, images, match):
    with pytest.raises(ValueError, match=match):
        store.append(np.zeros(4, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32), Source.POLICY,
                     False, images=images)
    assert store.n_pending == 0


def test_a_state_only_store_refuses_frames(tmp_path):
    with ReplayStore.create(tmp_path / "s.zarr", OBS, ACT) as s:
        assert s.images == {}
        with pytest.raises(ValueError, match="has no image columns"):
            s.append(np.zeros(4, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32), Source.POLICY,
                     False, images={"wrist": frame(0)})
        assert s.n_pending == 0


@pytest.mark.parametrize("images", [{"Wrist!": (8, 8, 3)}, {"wrist": (8, 8)}, {"wrist": (8, 8, 4)},
                                    {"wrist": (0, 8, 3)}])
def test_bad_camera_specs_are_refused_at_create(tmp_path, images):
    with pytest.raises(StoreError):
        ReplayStore.create(tmp_path / "b.zarr", OBS, ACT, images=images)
    assert not (tmp_path / "b.zarr").exists()


def test_samples_carry_this_and_the_next_states_frames(store):
    add_episode(store, 0, 6)
    add_episode(store, 1, 4)
    b = store.sample(200, np.random.default_rng(0))
    obs_k = b["obs"][:, 0].astype(int)
    assert b["image_wrist"].shape == (200, 8, 8, 3) and b["image_wrist"].dtype == np.uint8
    assert (b["image_wrist"][:, 0, 0, 0] == obs_k % 256).all()  # the frame of the state obs describes
    assert (b["next_image_wrist"][:, 0, 0, 0] == (obs_k + 1) % 256).all()  # next row, or the final frame
    assert b["done"].sum() > 0  # some samples were last rows: the final frame was used


def test_frames_count_in_ram(store, tmp_path):
    """The mirror holds a frame per row (and a final frame per episode) of its capacity."""
    with ReplayStore.create(tmp_path / "s.zarr", OBS, ACT) as plain:
        assert store.rows.capacity == plain.rows.capacity and store.eps.capacity == plain.eps.capacity
        frame_bytes = int(np.prod(CAM["wrist"]))
        assert store.ram_bytes - plain.ram_bytes == (store.rows.capacity + store.eps.capacity) * frame_bytes


def test_a_lost_frame_chunk_is_damage_that_verify_names(store, tmp_path):
    add_episode(store, 0, 12)
    store.close()
    chunk = next((tmp_path / "r.zarr" / "rows" / "image_wrist" / "c").rglob("*"))
    while chunk.is_dir():
        chunk = next(chunk.iterdir())
    chunk.unlink()
    problems = verify(tmp_path / "r.zarr")
    assert any("rows/image_wrist" in p and "missing" in p for p in problems), problems
    with pytest.raises(StoreError, match="rlif store repair"):
        ReplayStore.open(tmp_path / "r.zarr")  # a writer refuses a damaged store; nothing changed
