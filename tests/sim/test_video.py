"""sim/video.py: an episode replayed on the twin is the episode itself, the mp4 decodes to one
frame per control period (plus the reset) with the driver's band, and the latest videos are
found in episode order."""
from __future__ import annotations

import time

import numpy as np
import pytest

from sim.cell import TwinCell
from sim.config import CellConfig
from learner.seeds import episode_seed
from sim.video import DRIVERS, HOLD, HUMAN, POLICY, SIZE, latest_videos, replay_twin, video_path, wanted, write_mp4

pytestmark = pytest.mark.unit
CFG = CellConfig(episode_steps=24)


def decode(path):
    """Every frame of an mp4, decoded by ffmpeg (imageio's plugin), and the stream's fps."""
    import imageio.v2 as imageio

    reader = imageio.get_reader(str(path), format="FFMPEG")
    try:
        return [np.asarray(f) for f in reader], reader.get_meta_data()["fps"]
    finally:
        reader.close()


def run_episode(seed: int, n: int):
    """An episode as the cell node runs it: (source, action) per step and the last observation."""
    rng = np.random.default_rng(3)
    cell = TwinCell(CFG, seed=0)
    obs, _ = cell.reset(seed=seed)
    steps = []
    for k in range(n):
        source = (POLICY, HUMAN, HOLD)[k % 7 % 3]
        action = rng.uniform(-1, 1, 6).astype(np.float32)
        obs, term, trunc, _ = cell.hold() if source == HOLD else cell.apply(action)
        steps.append((source, action))
        if term or trunc:
            break
    cell.close()
    return steps, obs


def test_replay_ends_where_the_episode_did_and_the_mp4_has_every_frame(tmp_path):
    seed = episode_seed(7, 4)
    steps, last_obs = run_episode(seed, 20)
    cell = TwinCell(CFG, seed=123)  # another instance: the reset seed alone fixes the episode
    frames, replay_last = replay_twin(cell, seed, steps, episode=4)
    cell.close()
    assert np.array_equal(replay_last, last_obs)
    assert len(frames) == len(steps) + 1 and frames[0].shape == (SIZE[1], SIZE[0], 3)
    path = write_mp4(video_path(tmp_path, 4), frames, CFG.control_hz)
    assert path == tmp_path / "videos" / "episode-00004.mp4"
    assert [p.name for p in (tmp_path / "videos").iterdir()] == ["episode-00004.mp4"]  # no temp file left
    decoded, fps = decode(path)
    assert len(decoded) == len(steps) + 1 and fps == pytest.approx(CFG.control_hz)
    assert decoded[0].shape == (SIZE[1], SIZE[0], 3)
    for k in (1, 2, 3):  # frame k shows the driver of step k-1 in the band's colour (lossy: within 40)
        colour = DRIVERS[steps[k - 1][0]][1]
        band = decoded[k][2:6, SIZE[0] // 4 - 10:SIZE[0] // 4 + 10].reshape(-1, 3).mean(axis=0)
        assert np.abs(band - colour).max() < 40, (k, band, colour)


def test_encode_time_of_a_full_episode_is_reported(tmp_path, capsys):
    """Not a speed goal: prints the replay + encode time of one default-length episode for the record."""
    steps = [(POLICY, np.zeros(6, np.float32))] * 100
    cell = TwinCell(CFG, seed=0)
    t0 = time.perf_counter()
    frames, _ = replay_twin(cell, 1, steps, episode=0)
    t1 = time.perf_counter()
    write_mp4(tmp_path / "e.mp4", frames, CFG.control_hz)
    t2 = time.perf_counter()
    cell.close()
    assert len(decode(tmp_path / "e.mp4")[0]) == 101
    print(f"100-step episode: replay+render {t1 - t0:.2f} s, encode {t2 - t1:.2f} s")


def test_every_nth_episode_and_the_latest_first(tmp_path):
    assert [e for e in range(10) if wanted(e, 4)] == [0, 4, 8]
    assert not any(wanted(e, 0) for e in range(5))
    assert latest_videos(tmp_path) == []
    (tmp_path / "videos").mkdir()
    for e in (0, 5, 10, 100000):
        video_path(tmp_path, e).write_bytes(b"x")
    (tmp_path / "videos" / ".episode-00200.123.tmp.mp4").write_bytes(b"x")  # a video being written
    (tmp_path / "videos" / "notes.mp4").write_bytes(b"x")
    assert [p.name for p in latest_videos(tmp_path, 3)] == ["episode-100000.mp4", "episode-00010.mp4",
                                                          "episode-00005.mp4"]


def test_camera_frames_become_an_mp4_at_their_rate(tmp_path):
    """The robot's camera topic: JPEGs of any size (padded to whole macroblocks), the driver at arrival."""
    import io

    from PIL import Image

    from sim.video import write_frames

    def jpeg(shade: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(np.full((100, 150, 3), shade, np.uint8)).save(buf, format="JPEG")
        return buf.getvalue()

    frames = [(10.0 + k / 5, jpeg(20 * k), (POLICY, HUMAN, HOLD)[k % 3]) for k in range(9)]  # 5 Hz
    path = write_frames(video_path(tmp_path, 3), frames, episode=3)
    decoded, fps = decode(path)
    assert len(decoded) == 9 and fps == pytest.approx(5.0)
    assert decoded[0].shape == (112, 160, 3)  # 100 x 150 padded to multiples of 16
    band = decoded[1][2:6, 60:80].reshape(-1, 3).mean(axis=0)
    assert np.abs(band - DRIVERS[HUMAN][1]).max() < 40
