"""Camera frames for the real cell: received images -> the policy's frames, no rclpy (docs/architecture.md).

The bridge hands every `sensor_msgs/Image` from the RealSense ROS driver to `CameraFrames.on_image`
(plain fields: height, width, encoding, step, data, receive time, header stamp); the cell asks
`frames(now)` for {camera: uint8 (S, S, 3) RGB}, S = `vision.image_size`, the contract of
`sim.cell.TwinCell.images`.

Decisions:
- **Encodings**: "rgb8" and "bgr8" only (realsense-ros 4.x publishes its color stream as rgb8 by
  default); the frame's encoding must be the configured one (`franka.camera_encoding`): another
  one means the driver runs with other settings than the run was configured for. Anything else is
  a `FrameError` naming the encoding, the expected one and the accepted ones.
- **Size**: `data` must hold `height * step` bytes with `step >= 3 * width` (rows may be padded);
  a frame whose short side is below S is refused (upscaling would invent pixels). With
  `franka.camera_resolution` set every frame must have it; without, the first good frame of a
  camera fixes its size for the run: a driver restarted at another resolution would change the
  crop's field of view, so the policy would see another picture for the same scene.
- **Crop and resize, once per received frame** (lazily, at the first `frames()` that uses it,
  so a 30 Hz stream costs one resize per 10 Hz step): the centre square of side min(h, w), then
  AREA AVERAGING to S x S (every output pixel the exact mean of the input area it covers,
  fractional pixels weighted; running sums in numpy, no OpenCV and no BLAS: 3-8 ms for 640x480 ->
  64 or 128 on this loaded 2-core machine). Not nearest: at 480 -> 64 nearest keeps one pixel of
  ~56, so sensor noise and fine texture alias and flicker between frames; averaging is close to
  what the twin's renderer gives at S x S. A 4:3 frame's centre square has the vertical field of
  view of the whole frame, as the twin's square render.
- **Age**: a frame's age is judged by the time it was RECEIVED (the bridge's running time, the
  clock of the robot state's staleness), never by its header stamp (the driver's clock, maybe
  another machine's); the stamp is kept for reports (the bridge's `stale camera` fault). A camera with no frame, or whose newest
  good frame is older than `franka.camera_max_age_ms`, makes `frames()` raise `StaleFrames`
  naming it: the cell holds the step rather than act on an old picture.
- **A bad frame never replaces a good one**: it is counted (`rejected`) and the last good frame
  stays (it then ages into `StaleFrames` if no good frame follows).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

ENCODINGS = ("rgb8", "bgr8")  # 3 bytes a pixel, 8 bits a channel


class FrameError(ValueError):
    """A received image that cannot be a frame (encoding, size, data length); names the mismatch."""


class StaleFrames(ValueError):
    """A camera has no frame, or only one older than the limit: hold the step. `cameras` names them."""

    def __init__(self, cameras: Sequence[str], why: str):
        super().__init__(why)
        self.cameras = tuple(cameras)


def decode(height: int, width: int, encoding: str, step: int, data, expect: str = "rgb8") -> np.ndarray:
    """An Image's fields -> an (height, width, 3) uint8 RGB view of `data` (no copy for rgb8)."""
    if encoding not in ENCODINGS or encoding != expect:
        raise FrameError(f"encoding {encoding!r}, expected {expect!r} (franka.camera_encoding; accepted: "
                         f"{', '.join(ENCODINGS)})")
    if height <= 0 or width <= 0 or step < 3 * width:
        raise FrameError(f"size {width}x{height} with row step {step} B: need width, height > 0 and "
                         f"step >= 3 x width ({3 * width} B)")
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size != height * step:
        raise FrameError(f"{buf.size} B of data for {height} rows of {step} B ({height * step} B expected)")
    img = buf.reshape(height, step)[:, :3 * width].reshape(height, width, 3)
    return img[..., ::-1] if encoding == "bgr8" else img


def _area_axis0(a: np.ndarray, n_out: int) -> np.ndarray:
    """Area averaging along axis 0: output i = the mean of input span [i, i+1) x n_in / n_out,
    fractional pixels weighted. The running sum is linear within a pixel, so each span's sum is
    the difference of the running sum interpolated at its two edges (element-wise numpy only: no
    BLAS, whose threads spin against the control loop on a loaded 2-core PC)."""
    n_in = a.shape[0]
    exact = np.int32 if a.dtype == np.uint8 else np.float64  # uint8 sums: exact in int32 and twice as fast
    run = np.empty((n_in + 1, *a.shape[1:]), dtype=exact)  # run[k] = the sum of pixels 0 .. k-1
    run[0] = 0
    np.cumsum(a, axis=0, dtype=exact, out=run[1:])
    edges = np.arange(n_out + 1) * (n_in / n_out)
    k = np.minimum(edges.astype(int), n_in - 1)  # the pixel each edge lies in (the last: the last pixel's end)
    f = (edges - k).reshape(-1, *([1] * (a.ndim - 1)))
    at = run[k] * (1.0 - f) + run[k + 1] * f
    return (at[1:] - at[:-1]) / (n_in / n_out)


def crop_resize(img: np.ndarray, size: int) -> np.ndarray:
    """The centre square of an (h, w, 3) uint8 image, area-averaged to (size, size, 3) uint8."""
    h, w = img.shape[:2]
    c = min(h, w)
    if c < size:
        raise FrameError(f"size {w}x{h}: its centre square ({c} px) is smaller than vision.image_size ({size})")
    y0, x0 = (h - c) // 2, (w - c) // 2
    sq = img[y0:y0 + c, x0:x0 + c]
    if c == size:
        return np.ascontiguousarray(sq)
    rows = _area_axis0(sq, size)  # along y: (size, c, 3)
    out = _area_axis0(rows.transpose(1, 0, 2), size).transpose(1, 0, 2)  # along x
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@dataclass
class _Latest:
    img: np.ndarray  # (h, w, 3) uint8 RGB view of the received data
    t: float  # received, s (the bridge's running time)
    stamp: float  # header stamp, s (the driver's clock)
    frame: np.ndarray | None = None  # cropped and resized, made at the first frames() that needs it


class CameraFrames:
    """The newest good frame of each camera, its age, and the counts of what was refused."""

    def __init__(self, cameras: Sequence[str], size: int, max_age_s: float, encoding: str = "rgb8",
                 resolution: tuple[int, int] = (0, 0), topics: dict[str, str] | None = None):
        if not cameras or size <= 0 or not max_age_s > 0 or encoding not in ENCODINGS:
            raise ValueError(f"cameras {list(cameras)}, size {size} px, max age {max_age_s} s, encoding "
                             f"{encoding!r}: need one camera or more, size > 0, age > 0, one of {ENCODINGS}")
        self.cameras, self.size, self.max_age_s, self.encoding = tuple(cameras), int(size), float(max_age_s), encoding
        self.sizes: dict[str, tuple[int, int]] = {c: tuple(resolution) for c in self.cameras if resolution[0] > 0}
        self.topics = dict(topics or {})  # camera -> topic, for messages only
        self.latest: dict[str, _Latest] = {}
        self.received = {c: 0 for c in self.cameras}  # good frames
        self.rejected = {c: 0 for c in self.cameras}  # refused frames (FrameError)
        self.stale = {c: 0 for c in self.cameras}  # frames() calls that found this camera missing or old
        self.last_error: dict[str, str] = {}  # camera -> why its newest refused frame was refused

    def _name(self, camera: str) -> str:
        return f"camera {camera}" + (f" ({self.topics[camera]})" if camera in self.topics else "")

    def on_image(self, camera: str, height: int, width: int, encoding: str, step: int, data,
                 t: float, stamp: float = float("nan")) -> str | None:
        """One received image at time t (s). None if taken, else why it was refused (a
        `FrameError`'s message naming the camera); a refused frame leaves the last good one."""
        if camera not in self.received:
            raise KeyError(f"unknown camera {camera!r}; configured: {list(self.cameras)}")
        try:
            img = decode(height, width, encoding, step, data, self.encoding)
            want = self.sizes.get(camera)
            if want is not None and (width, height) != want:
                raise FrameError(f"size {width}x{height}, expected {want[0]}x{want[1]} (franka.camera_resolution, "
                                 "or the camera's first frame)")
            if min(height, width) < self.size:
                raise FrameError(f"size {width}x{height}: its centre square is smaller than vision.image_size "
                                 f"({self.size})")
        except FrameError as e:
            self.rejected[camera] += 1
            self.last_error[camera] = str(e)
            return f"{self._name(camera)}: {e}"
        self.sizes.setdefault(camera, (width, height))
        self.latest[camera] = _Latest(img, float(t), float(stamp))
        self.received[camera] += 1
        return None

    def why_stale(self, now: float) -> tuple[list[str], str] | None:
        """(cameras, why) when a camera has no frame or only one older than the limit; else None."""
        bad, parts = [], []
        for c in self.cameras:
            got = self.latest.get(c)
            if got is None:
                bad.append(c)
                err = f" (the last one refused: {self.last_error[c]})" if c in self.last_error else ""
                parts.append(f"{self._name(c)}: no good frame yet{err}")
            elif now - got.t > self.max_age_s:
                bad.append(c)
                parts.append(f"{self._name(c)}: newest frame {1e3 * (now - got.t):.0f} ms old "
                             f"(> {1e3 * self.max_age_s:.0f} ms, franka.camera_max_age_ms)")
        return (bad, "; ".join(parts)) if bad else None

    def frames(self, now: float) -> dict[str, np.ndarray]:
        """{camera: uint8 (S, S, 3) RGB} of the newest good frames; `StaleFrames` if any camera
        has none, or only one older than the limit, at time `now` (s, the receive times' clock)."""
        stale = self.why_stale(now)
        if stale is not None:
            for c in stale[0]:
                self.stale[c] += 1
            raise StaleFrames(*stale)
        out = {}
        for c in self.cameras:
            got = self.latest[c]
            if got.frame is None:
                got.frame = crop_resize(got.img, self.size)
            out[c] = got.frame.copy()  # the caller's own, like a fresh render
        return out

    def ages(self, now: float) -> dict[str, float]:
        """Age of each camera's newest good frame, s (inf: none yet)."""
        return {c: (now - self.latest[c].t) if c in self.latest else float("inf") for c in self.cameras}
