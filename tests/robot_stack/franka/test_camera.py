"""Camera frames of the real cell: the crop and area resize, refused frames (encoding, data length,
size) with the last good frame kept, missing and stale cameras (hold), FrankaCell.images(), the
Image packing, and the config's camera fields."""
from dataclasses import replace

import numpy as np
import pytest

from robot_stack import config as C
from robot_stack.franka.camera import CameraFrames, FrameError, StaleFrames, crop_resize, decode
from robot_stack.franka.camera_topics import camera_topics, pack_image, unpack_image
from robot_stack.franka.cell import FrankaCell
from sim.config import VisionConfig
from tests.robot_stack.franka.conftest import FakeArm

pytestmark = pytest.mark.unit
TOPIC = "/camera/camera/color/image_raw"


def blocks(values: np.ndarray, k: int) -> np.ndarray:
    """Each pixel of `values` (n, n, 3) as a k x k block."""
    return np.repeat(np.repeat(values, k, axis=0), k, axis=1)


def area_reference(img: np.ndarray, size: int) -> np.ndarray:
    """Area averaging by brute force: every pixel repeated `size` times, then blocks of c averaged."""
    c = img.shape[0]
    up = blocks(img.astype(np.float64), size)  # (c * size) pixels a side
    return up.reshape(size, c, size, c, 3).mean(axis=(1, 3))


def message(rgb: np.ndarray, encoding="rgb8", pad=0) -> dict:
    """An image's fields as the bridge hands them over (rows padded by `pad` bytes)."""
    h, w = rgb.shape[:2]
    px = rgb[..., ::-1] if encoding == "bgr8" else rgb
    rows = np.concatenate([px.reshape(h, 3 * w), np.full((h, pad), 7, np.uint8)], axis=1)
    return dict(height=h, width=w, encoding=encoding, step=3 * w + pad, data=rows.tobytes())


def frame_with_centre(centre: np.ndarray, border: int, fill=255) -> np.ndarray:
    """A landscape frame: `centre` (c, c, 3) with `border` columns of `fill` on each side."""
    c = centre.shape[0]
    out = np.full((c, c + 2 * border, 3), fill, np.uint8)
    out[:, border:border + c] = centre
    return out


def test_the_centre_square_is_cropped_and_block_averaged():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    img = frame_with_centre(blocks(small, 3), border=5)  # 12 x 22: a 12 px square with 5 px white each side
    assert np.array_equal(crop_resize(img, 4), small)  # each 3 x 3 block -> its value; the border is gone
    tall = np.ascontiguousarray(np.transpose(img, (1, 0, 2)))  # portrait: the crop is vertical
    assert np.array_equal(crop_resize(tall, 4), np.transpose(small, (1, 0, 2)))


def test_a_non_integer_ratio_is_the_exact_area_mean():
    rng = np.random.default_rng(1)
    sq = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    got = crop_resize(frame_with_centre(sq, border=4, fill=0), 8)  # 30 -> 8: 3.75 px an output pixel
    assert got.dtype == np.uint8 and got.shape == (8, 8, 3)
    assert np.abs(got.astype(float) - area_reference(sq, 8)).max() <= 0.5 + 1e-6  # rounding only
    flat = np.full((30, 40, 3), 77, np.uint8)
    assert np.all(crop_resize(flat, 8) == 77)  # weights sum to one


def test_bgr8_is_swapped_and_padded_rows_are_skipped():
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    m = message(rgb, "bgr8", pad=4)
    assert np.array_equal(decode(**m, expect="bgr8"), rgb)
    assert np.array_equal(decode(**message(rgb, "rgb8", pad=2)), rgb)


@pytest.mark.parametrize("change, words", [
    (dict(encoding="mono8"), ["'mono8'", "'rgb8'", "rgb8, bgr8"]),
    (dict(encoding="bgr8"), ["'bgr8'", "expected 'rgb8'", "franka.camera_encoding"]),
    (dict(encoding="16UC1"), ["'16UC1'", "rgb8, bgr8"]),
    (dict(step=20), ["step 20", "3 x width (24 B)"]),
    (dict(height=7), ["for 7 rows of 24 B (168 B expected)"]),
])
def test_a_bad_image_is_refused_naming_the_mismatch(change, words):
    m = {**message(np.zeros((6, 8, 3), np.uint8)), **change}
    with pytest.raises(FrameError) as e:
        decode(**m)
    assert all(w in str(e.value) for w in words), str(e.value)


def good(value: int, h=12, w=16) -> dict:
    return message(np.full((h, w, 3), value, np.uint8))


def test_a_refused_frame_keeps_the_last_good_one_and_is_counted():
    cam = CameraFrames(["wrist"], 4, 0.05, topics={"wrist": TOPIC})
    assert cam.on_image("wrist", **good(10), t=1.0) is None
    for bad, words in [({**good(20), "encoding": "mono8"}, "encoding 'mono8'"),
                       ({**good(20), "data": b"\x00" * 10}, "10 B of data"),
                       (good(20, h=12, w=20), "size 20x12, expected 16x12"),  # the first frame fixed 16x12
                       (good(20, h=3, w=4), "size 4x3")]:
        why = cam.on_image("wrist", **bad, t=1.01)
        assert why is not None and why.startswith(f"camera wrist ({TOPIC}): ") and words in why, why
    assert cam.rejected == {"wrist": 4} and cam.received == {"wrist": 1}
    assert np.all(cam.frames(1.02)["wrist"] == 10)  # still the good one
    with pytest.raises(StaleFrames):
        cam.frames(1.0 + 0.051)  # and it ages: no good frame followed


def test_a_configured_resolution_refuses_every_other_size():
    cam = CameraFrames(["wrist"], 4, 0.05, resolution=(20, 12))
    assert "expected 20x12" in cam.on_image("wrist", **good(1, h=12, w=16), t=0.0)
    assert cam.on_image("wrist", **good(1, h=12, w=20), t=0.0) is None


def test_missing_and_stale_cameras_are_named_and_counted():
    cam = CameraFrames(["wrist", "front"], 4, 0.05, topics={"wrist": TOPIC, "front": "/camera/front/color/image_raw"})
    cam.on_image("front", **{**good(5), "encoding": "yuv422"}, t=0.0)
    cam.on_image("wrist", **good(5), t=0.0)
    with pytest.raises(StaleFrames) as e:
        cam.frames(0.01)
    assert e.value.cameras == ("front",)
    assert "camera front (/camera/front/color/image_raw): no good frame yet" in str(e.value)
    assert "(the last one refused: encoding 'yuv422'" in str(e.value)  # why it has none
    cam.on_image("front", **good(6), t=0.02)
    assert set(cam.frames(0.04)) == {"wrist", "front"}
    with pytest.raises(StaleFrames) as e:
        cam.frames(0.06)  # wrist 60 ms old, front 40 ms
    assert e.value.cameras == ("wrist",) and "newest frame 60 ms old (> 50 ms" in str(e.value)
    assert cam.stale == {"wrist": 1, "front": 1}
    assert isinstance(e.value, ValueError)


def test_a_frame_is_resized_once_and_callers_get_their_own_copy():
    cam = CameraFrames(["wrist"], 4, 0.05)
    cam.on_image("wrist", **good(9), t=0.0)
    a = cam.frames(0.01)["wrist"]
    a[:] = 0
    b = cam.frames(0.02)["wrist"]
    assert np.all(b == 9) and cam.latest["wrist"].frame is not None


# ---------------------------------------------------------------- FrankaCell
class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def vision_cell(cfgs, cameras=("wrist",), size=8, **fr):
    clock = Clock()
    cell = FrankaCell(cfgs[0], replace(cfgs[1], **fr), vision=VisionConfig(image_size=size, cameras=cameras),
                      clock=clock)
    return cell, clock


def test_franka_cell_images_are_those_of_the_latest_observation(cfgs):
    cell, clock = vision_cell(cfgs, ("wrist", "front"))
    arm = FakeArm(cell)
    arm.feed()
    rng = np.random.default_rng(3)
    sq = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    cell.on_image("wrist", **message(frame_with_centre(sq, 4)), t=0.0)
    cell.on_image("front", **message(np.full((12, 16, 3), 40, np.uint8)), t=0.0)
    clock.t = 0.01
    cell.observe()
    cell.on_image("wrist", **message(np.zeros((16, 24, 3), np.uint8)), t=0.02)  # arrives after the observation
    imgs = cell.images()
    assert set(imgs) == {"wrist", "front"}
    assert all(f.dtype == np.uint8 and f.shape == (8, 8, 3) for f in imgs.values())
    assert np.array_equal(imgs["wrist"], crop_resize(sq, 8)) and np.all(imgs["front"] == 40)
    clock.t = 0.03
    cell.hold()  # a new observation takes the new frame
    assert np.all(cell.images()["wrist"] == 0) and cell.frames_stale() is None


def test_franka_cell_without_a_recent_frame_raises_stale_frames(cfgs):
    cell, clock = vision_cell(cfgs)
    FakeArm(cell).feed()
    with pytest.raises(StaleFrames, match="no observation yet"):
        cell.images()
    cell.observe()
    assert cell.frames_stale().cameras == ("wrist",)
    with pytest.raises(StaleFrames, match="camera wrist .*: no good frame yet"):
        cell.images()
    cell.on_image("wrist", **good(3), t=0.0)
    clock.t = 0.2  # 200 ms later: older than franka.camera_max_age_ms (50 ms)
    obs = cell.observe()
    assert obs.shape == (18,)  # the state is still observed
    with pytest.raises(StaleFrames, match="200 ms old"):
        cell.images()


def test_franka_cell_without_vision_has_no_images(cfgs):
    cell = FrankaCell(*cfgs)
    FakeArm(cell).feed()
    cell.observe()
    assert cell.camera is None and cell.frames_stale() is None
    with pytest.raises(ValueError, match="vision.image_size is 0"):
        cell.images()


# ---------------------------------------------------------------- packing and config
def test_pack_and_unpack_image_round_trip_through_the_cell(cfgs):
    rgb = np.random.default_rng(4).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    for enc in ("rgb8", "bgr8"):
        f = unpack_image(pack_image(rgb, 12.5, "wrist_camera_color_optical_frame", enc))
        assert (f["height"], f["width"], f["step"], f["encoding"], f["stamp"]) == (12, 16, 48, enc, 12.5)
        assert np.array_equal(decode(**{k: f[k] for k in ("height", "width", "encoding", "step", "data")},
                                     expect=enc), rgb)


def test_camera_topics_follow_the_config():
    fr = C.FrankaConfig()
    assert camera_topics(fr, VisionConfig()) == {}  # vision off: no subscription
    specs = camera_topics(fr, VisionConfig(image_size=64, cameras=("wrist", "front")))
    assert {c: s.name for c, s in specs.items()} == {"wrist": TOPIC, "front": "/camera/front/color/image_raw"}
    assert all(s.best_effort and s.depth == 1 for s in specs.values())


def test_config_checks_the_camera_fields():
    robot = ["vision.image_size=64"]
    cfg = C.resolve("robot", robot)
    assert cfg.franka.camera_max_age_ms <= cfg.graph.deadline_ms
    with pytest.raises(C.ConfigError, match="franka.camera_max_age_ms: must be <= graph.deadline_ms"):
        C.resolve("robot", [*robot, "graph.deadline_ms=30"])
    C.resolve("robot", [*robot, "graph.deadline_ms=30", "franka.camera_max_age_ms=30"])
    C.resolve("sim", ["graph.deadline_ms=30"])  # the twin cell has no camera topics: not checked
    with pytest.raises(C.ConfigError, match="franka.camera_resolution: both sides must be >= vision.image_size"):
        C.resolve("robot", [*robot, "franka.camera_resolution=[640, 48]"])
    with pytest.raises(C.ConfigError, match="franka.camera_resolution"):
        C.resolve("robot", [*robot, "franka.camera_resolution=[640, 0]"])
    with pytest.raises(C.ConfigError, match="franka.camera_encoding"):
        C.resolve("robot", [*robot, "franka.camera_encoding=mono8"])
    with pytest.raises(C.ConfigError, match="franka.wrist_camera_topic"):
        C.resolve("robot", [*robot, "franka.wrist_camera_topic=camera/color"])


def test_the_camera_core_loads_no_ros():
    import subprocess
    import sys

    from tests.test_layering import ROOT

    code = ("import robot_stack.franka.camera, robot_stack.franka.cell, sys\n"
            "bad = [k for k in sys.modules if k.split('.')[0] in ('rclpy', 'sensor_msgs', 'cv2')]\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_the_twin_crop_matches_its_square_render():
    """The premise of the twin's 4:3 frames: their centre square, resized, is the square render."""
    from sim import gl
    from sim.cell import TwinCell
    from sim.config import CellConfig

    if gl.PROBLEM:
        pytest.skip(gl.PROBLEM)
    cell = TwinCell(CellConfig(), seed=0, vision=VisionConfig(image_size=32))
    try:
        a = crop_resize(cell.render("wrist", 64, 48), 32).astype(float)
        b = cell.render("wrist", 32, 32).astype(float)
    finally:
        cell.close()
    assert np.abs(a - b).mean() < 8.0  # the same view; edges differ by the resampling only
