"""Episode videos: mp4 files with the driver shown (POLICY / OPERATOR / HOLD band on every frame).

Two sources of frames, one writer:
- the twin (`replay_twin`): the episode is simulated again from its reset seed and the executed
  commands in step order (a HOLD re-applies the held target, as the cell does), rendering the
  front camera after the reset and after every step: one frame per control period, played at the
  control rate (real time). The twin is deterministic, so the replay is the episode itself; the
  caller compares the replay's last observation with the one the cell reported and says so if
  they differ (the video node counts such an episode as `inexact`).
- a camera (`write_frames`): JPEG frames with their arrival time and the driver at that time
  (the robot's camera topic), played at their mean rate.
Files are `RUN/videos/episode-NNNNN.mp4`, written under a temporary name and renamed, so a
reader (the dashboard, report.md) never sees half a file. Encoding is H.264 (yuv420p, what
browsers play) through imageio's ffmpeg plugin (`imageio-ffmpeg`, optional: without it the
video node says how to install it). No rclpy here.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from learner.optional import need

# Source codes of the replay store and the command topic (learner.replay.Source).
POLICY, HUMAN, HOLD = 0, 1, 2
DRIVERS = {POLICY: ("POLICY", (46, 160, 67)), HUMAN: ("OPERATOR", (230, 126, 34)), HOLD: ("HOLD", (120, 120, 120))}
SIZE = (320, 240)  # width, height of twin frames (macroblock-aligned: no rescaling by ffmpeg)
NAME = re.compile(r"^episode-(\d{5,})\.mp4$")


def video_path(run_dir: Path, episode: int) -> Path:
    return Path(run_dir) / "videos" / f"episode-{episode:05d}.mp4"


def latest_videos(run_dir: Path, n: int = 3) -> list[Path]:
    """The `n` most recent episode videos of a run (highest episode first)."""
    folder = Path(run_dir) / "videos"
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := NAME.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)[:n]]


def wanted(episode: int, every: int) -> bool:
    """Every Nth episode gets a video, the first one included (0, N, 2N, ...)."""
    return every > 0 and episode % every == 0


def overlay(frame: np.ndarray, source: int, caption: str) -> np.ndarray:
    """The frame with a band on top: the driver in its colour, and `caption` (episode, step)."""
    from PIL import Image, ImageDraw

    label, colour = DRIVERS.get(int(source), ("?", (0, 0, 0)))
    img = Image.fromarray(np.ascontiguousarray(frame[..., :3]))
    draw = ImageDraw.Draw(img)
    band = max(14, img.height // 12)
    draw.rectangle((0, 0, img.width, band), fill=colour)
    draw.text((4, 2), label, fill=(255, 255, 255))
    draw.text((img.width // 2, 2), caption, fill=(255, 255, 255))
    return np.asarray(img)


def write_mp4(path: Path, frames: Iterable[np.ndarray], fps: float) -> Path:
    """Encode RGB frames (H, W, 3 uint8) to an H.264 mp4 at `path` (atomically)."""
    need("imageio_ffmpeg", "episode videos (train.video_every)")
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")
    writer = imageio.get_writer(str(tmp), format="FFMPEG", fps=float(fps), codec="libx264", pixelformat="yuv420p",
                                macro_block_size=16, ffmpeg_log_level="error")
    try:
        for f in frames:
            writer.append_data(f)
    finally:
        writer.close()
    os.replace(tmp, path)
    return path


def replay_twin(cell, seed: int, steps: Sequence[tuple[int, np.ndarray]], episode: int,
                size: tuple[int, int] = SIZE) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames of an episode replayed on `cell` (a TwinCell): reset(seed), then each executed
    (source, action); returns (frames with the overlay, the last observation)."""
    obs, _ = cell.reset(seed=seed)
    first = steps[0][0] if steps else HOLD
    frames = [overlay(cell.render("front", *size), first, f"ep {episode} step 0")]
    for k, (source, action) in enumerate(steps):
        if source == HOLD:
            obs, *_ = cell.hold()
        else:
            obs, *_ = cell.apply(np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0))
        frames.append(overlay(cell.render("front", *size), source, f"ep {episode} step {k + 1}"))
    return frames, np.asarray(obs)


def decode_jpeg(jpeg: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


def camera_fps(stamps: Sequence[float]) -> float:
    """Mean frame rate of frames arriving at `stamps` (s), within [1, 30]."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return 1.0
    return float(np.clip((len(stamps) - 1) / (stamps[-1] - stamps[0]), 1.0, 30.0))


def write_frames(path: Path, frames: Sequence[tuple[float, bytes, int]], episode: int) -> Path:
    """Camera frames (arrival time s, JPEG, driver) to an mp4 with the overlay, at their mean rate.
    Frames are padded to even sizes (H.264 with yuv420p needs them)."""
    def rgb():
        for k, (_, jpeg, source) in enumerate(frames):
            f = decode_jpeg(jpeg)
            h, w = f.shape[0] + (-f.shape[0]) % 16, f.shape[1] + (-f.shape[1]) % 16
            if (h, w) != f.shape[:2]:
                f = np.pad(f, ((0, h - f.shape[0]), (0, w - f.shape[1]), (0, 0)))
            yield overlay(f, source, f"ep {episode} frame {k}")
    return write_mp4(path, rgb(), camera_fps([t for t, _, _ in frames]))
