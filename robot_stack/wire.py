"""The labelled Float64MultiArray encoding of the topic contract (`robot_stack/topics/`): values,
then camera frames.

A message holds its values first, one `layout.dim` entry per value (label, size 1, stride 1, in
order), so receivers match by key, never by arrival order. Where the graph has cameras
(`vision.image_size` > 0: `VisionConfig.frame_shapes`), a message that carries frames (observation, step,
episode end) then holds one block per camera, in `vision.cameras` order: a `layout.dim` entry
labelled `image_<camera>` with size H*W*3, and that many values appended to `data`, the frame's
pixels row-major (row, column, RGB), each an integer 0..255 as float64. A state-only graph
sends and expects no block: its messages are exactly those of a graph without cameras.

`unpack` checks what the receiver expects (value labels and count, the camera blocks, each block's
size, every pixel an integer 0..255) and raises `TopicError` naming the first mismatch: a message
without the frames its graph's cameras need, or with frames where the graph has none, is refused.

Why float64 pixels: the contract stays one typed, labelled message per record (no second topic
to join back by step key, no custom message type to build); the price is 8 bytes per pixel
channel: 98 KB per 64 x 64 frame, 393 KB per 128 x 128 frame, per message; packing and checked
unpacking stay under 0.15 ms, delivery between processes 1-2 ms at 64-128 px (measured by
`python -m robot_stack.bench_frames`; figures in docs/architecture.md "The graph (robot_stack)").
"""
from __future__ import annotations

import array
from typing import Mapping, Sequence

import numpy as np
from std_msgs.msg import Float64MultiArray, MultiArrayDimension

from learner.replay_images import check_frames as check_step_frames

IMAGE_PREFIX = "image_"  # a camera block's label: image_<camera>
Shapes = Mapping[str, tuple[int, int, int]]  # {camera: (height, width, 3)}, in block order


class TopicError(ValueError):
    """A message does not match its topic's contract (length, labels, values, frames, JSON)."""


def check_frames(frames, cameras: Shapes | None, topic: str) -> list[np.ndarray]:
    """`frames` ({camera: uint8 (H, W, 3)}) in `cameras` order, or `TopicError` naming the mismatch
    (a camera missing or extra, a frame of another dtype or shape; frames without cameras): the
    store's check (`learner.replay_images.check_frames`), raised as the topic's error."""
    try:
        checked = check_step_frames(dict(cameras or {}), frames, topic,
                                    no_cameras="this graph has no cameras (vision.image_size 0)")
    except ValueError as e:
        raise TopicError(str(e)) from None
    return [checked[cam] for cam in cameras] if checked else []


def pack(values: Sequence[float], labels: Sequence[str], topic: str, frames=None,
         cameras: Shapes | None = None) -> Float64MultiArray:
    """`values` labelled `labels`, then one block per camera of `cameras` from `frames` ({camera:
    uint8 (H, W, 3)}; required iff `cameras` is not empty, `TopicError` naming what differs)."""
    blocks = check_frames(frames, cameras, topic)
    msg = Float64MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=lab, size=1, stride=1) for lab in labels]
    if not blocks:
        msg.data = [float(v) for v in values]
        return msg
    msg.layout.dim += [MultiArrayDimension(label=IMAGE_PREFIX + cam, size=f.size, stride=f.size)
                       for cam, f in zip(cameras, blocks)]
    flat = np.concatenate([np.asarray(values, np.float64).reshape(-1), *(f.reshape(-1) for f in blocks)])
    msg.data = array.array("d", flat.astype(np.float64, copy=False).tobytes())  # one copy, no per-value Python
    return msg


def unpack(msg: Float64MultiArray, expected: Sequence[str], topic: str,
           cameras: Shapes | None = None) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """(the values, float64, labelled `expected`; the frames {camera: uint8 (H, W, 3)} or None
    without cameras), or `TopicError` naming the first mismatch (see the module docstring)."""
    cameras = cameras or {}
    dims = msg.layout.dim
    labels = [d.label for d in dims]
    k = next((i for i, lab in enumerate(labels) if lab.startswith(IMAGE_PREFIX)), len(labels))
    got, want = labels[k:], [IMAGE_PREFIX + cam for cam in cameras]
    if got != want:
        if not want:
            raise TopicError(f"{topic}: carries frames {got}, but this graph has no cameras (vision.image_size 0)")
        if not got:
            raise TopicError(f"{topic}: no frames; this graph's cameras need blocks {want} (vision.image_size > 0)")
        raise TopicError(f"{topic}: frame blocks {got}, expected {want}")
    data = np.asarray(msg.data, dtype=np.float64)
    n_pixels = 0
    for j, (lab, shape) in enumerate(zip(got, cameras.values())):
        size, need = int(dims[k + j].size), int(np.prod(shape))
        if size != need:
            raise TopicError(f"{topic}: block {lab} has size {size}, expected {need} (a {shape[0]}x{shape[1]}x"
                             f"{shape[2]} frame)")
        n_pixels += size
    if not cameras:
        return _check_values(data, labels, expected, topic), None
    if len(data) != k + n_pixels:
        raise TopicError(f"{topic}: {len(data)} values, but the layout says {k} values + {n_pixels} pixels")
    values = _check_values(data[:k], labels[:k], expected, topic)
    frames, off = {}, k
    for cam, shape in cameras.items():
        n = int(np.prod(shape))
        block = data[off:off + n]
        off += n
        lo, hi = block.min(), block.max()
        if not (lo >= 0 and hi <= 255):  # NaN fails both comparisons
            raise TopicError(f"{topic}: {IMAGE_PREFIX}{cam} pixels must be integers 0..255, got values in "
                             f"[{lo}, {hi}]")
        px = block.astype(np.uint8)
        if not np.array_equal(px, block):
            raise TopicError(f"{topic}: {IMAGE_PREFIX}{cam} pixels must be integers 0..255, got "
                             f"{block[px != block][0]!r}")
        frames[cam] = px.reshape(shape)
    return values, frames


def _check_values(data: np.ndarray, labels: Sequence[str], expected: Sequence[str], topic: str) -> np.ndarray:
    if len(data) != len(expected):
        raise TopicError(f"{topic}: expected {len(expected)} values {list(expected)}, got {len(data)}")
    if tuple(labels) != tuple(expected):
        if len(labels) != len(expected):
            raise TopicError(f"{topic}: expected {len(expected)} labels, got {len(labels)} {list(labels)}")
        i, got, want = next((i, a, b) for i, (a, b) in enumerate(zip(labels, expected)) if a != b)
        raise TopicError(f"{topic}: label {i} is {got!r}, expected {want!r} (labels {list(expected)})")
    return data
