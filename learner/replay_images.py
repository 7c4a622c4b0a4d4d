"""Camera frames in the replay store: the column names, the root attribute, the checks.

A store created with `images={"wrist": (64, 64, 3)}` has, per camera, a row column
`rows/image_<camera>` (uint8, one frame per control step, the frame of the state `obs`
describes) and an episode column `episodes/final_image_<camera>` (the frame of the state after
the last step, like `final_obs`), chunked `replay.image_chunk_rows` rows at a time (about an
episode) and compressed like every column; the root attribute `images` lists the cameras and
shapes. Frames ride the same commit protocol as every other column (crash-safe alike) and are
readable by plain zarr. The sampler gathers them from the RAM mirror: a 64 x 64 RGB frame is
12 KiB per row, 128 x 128 is 48 KiB, so RAM (not disk) bounds a store with images (see
`rlif bench replay --images`).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

ROW_PREFIX, FINAL_PREFIX = "image_", "final_image_"
FINAL_CHUNK_EPISODES = 8  # zarr chunk of a final-frame column: small, it is rewritten at each commit
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def normalise(images: Mapping[str, Any] | None, where: str) -> dict[str, tuple[int, int, int]]:
    """{camera: (height, width, channels)} checked: names like `wrist`, sizes 1-1024, 1 or 3 channels."""
    out: dict[str, tuple[int, int, int]] = {}
    for cam, shape in (images or {}).items():
        if not isinstance(cam, str) or not NAME.match(cam):
            raise ValueError(f"{where}: camera name {cam!r} must be lower-case letters, digits, _ (e.g. 'wrist')")
        try:
            h, w, c = (int(x) for x in shape)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: camera {cam!r} shape {shape!r} must be (height, width, channels)") from None
        if not (1 <= h <= 1024 and 1 <= w <= 1024 and c in (1, 3)):
            raise ValueError(f"{where}: camera {cam!r} shape {(h, w, c)}: 1-1024 pixels, 1 or 3 channels")
        out[cam] = (h, w, c)
    return out


def row_columns(images: dict[str, tuple[int, int, int]]) -> dict:
    return {ROW_PREFIX + cam: ("uint8", shape) for cam, shape in images.items()}


def episode_columns(images: dict[str, tuple[int, int, int]]) -> dict:
    return {FINAL_PREFIX + cam: ("uint8", shape) for cam, shape in images.items()}


def check_frames(images: Mapping[str, tuple[int, int, int]], frames: Mapping[str, Any] | None,
                 what: str, no_cameras: str = "this store has no image columns") -> dict[str, np.ndarray] | None:
    """The frames of one step ({camera: uint8 (H, W, C)}, in `images` order), or a ValueError naming
    the mismatch (nothing stored or sent); None where there are no cameras and no frames. The one
    check of a step's frames: the store, the graph's messages (`robot_stack.wire`), the cell
    node's frame source and the actor's policy (`learner.encoder.checked_frames`) use it."""
    if not images:
        if frames:
            raise ValueError(f"{what}: frames {sorted(frames)} given, but {no_cameras}")
        return None
    if frames is None or set(frames) != set(images):
        raise ValueError(f"{what}: frames of cameras {list(images)} needed, got "
                         f"{sorted(frames) if frames is not None else 'none'}")
    out = {}
    for cam, shape in images.items():
        f = np.asarray(frames[cam])
        if f.dtype != np.uint8 or f.shape != shape:
            raise ValueError(f"{what}: camera {cam!r} frame is {f.dtype} {f.shape}, expected uint8 {tuple(shape)}")
        out[cam] = f
    return out
