"""Camera frames on the observation and step topics (robot_stack/wire.py): round trips, the
state-only layout unchanged, and refusal of every mismatch naming it."""
import numpy as np
import pytest

from sim.config import VisionConfig
from sim.contract import EpisodeEnd, Source, Step
from robot_stack import topics as T

pytestmark = pytest.mark.unit

OBS = tuple(f"o{i}" for i in range(18))
ACT = ("x", "y", "z", "rx", "ry", "rz")
S = 8
CAMS = {"wrist": (S, S, 3), "front": (S, S, 3)}


def frames(seed=0, cams=CAMS):
    rng = np.random.default_rng(seed)
    return {c: rng.integers(0, 256, shape, dtype=np.uint8) for c, shape in cams.items()}


def obs_msg(f=None, cams=CAMS):
    return T.pack_observation(T.Observation(3, 17, 1.7, np.arange(18, dtype=np.float32), f), OBS, cams)


def test_frame_shapes_follow_the_vision_config():
    assert VisionConfig().frame_shapes() == {}
    assert VisionConfig(image_size=64, cameras=("wrist", "front")).frame_shapes() == {
        "wrist": (64, 64, 3), "front": (64, 64, 3)}


def test_observation_round_trip_with_frames_one_block_per_camera_after_the_values():
    f = frames()
    msg = obs_msg(f)
    dims = msg.layout.dim
    assert [d.label for d in dims[-2:]] == ["image_wrist", "image_front"]  # vision.cameras order
    assert all(d.size == 1 for d in dims[:-2]) and dims[-1].size == S * S * 3
    assert len(msg.data) == 3 + 18 + 2 * S * S * 3
    back = T.unpack_observation(msg, OBS, CAMS)
    assert (back.episode, back.step, back.t) == (3, 17, 1.7)
    np.testing.assert_allclose(back.obs, np.arange(18))
    assert set(back.images) == set(CAMS)
    for c in CAMS:
        assert back.images[c].dtype == np.uint8 and back.images[c].shape == (S, S, 3)
        np.testing.assert_array_equal(back.images[c], f[c])


def test_step_and_end_round_trip_with_frames():
    f, g = frames(1), frames(2)
    obs, a = np.arange(18, dtype=np.float32), np.full(6, 0.5, np.float32)
    step = Step(2, 9, 0.9, obs, a, -a, Source.HUMAN, f)
    back = T.unpack_step(T.pack_step(step, OBS, ACT, CAMS), OBS, ACT, CAMS)
    assert isinstance(back, Step) and back.source == Source.HUMAN
    np.testing.assert_allclose(back.policy_action, -a)
    for c in CAMS:
        np.testing.assert_array_equal(back.images[c], f[c])
    end = EpisodeEnd(2, 10, "timeout", obs, 1, 2, 3, 4, final_images=g)
    back = T.unpack_step(T.pack_episode_end(end, OBS, CAMS), OBS, ACT, CAMS)
    assert isinstance(back, EpisodeEnd) and (back.steps, back.holds, back.missed_deadlines) == (10, 3, 4)
    for c in CAMS:
        np.testing.assert_array_equal(back.final_images[c], g[c])


def test_state_only_messages_are_unchanged_and_carry_no_frames():
    o = T.Observation(0, 1, 0.1, np.zeros(18, np.float32))
    for msg in (T.pack_observation(o, OBS), T.pack_observation(o, OBS, {})):
        assert [d.label for d in msg.layout.dim] == ["episode", "step", "t", *OBS]
        assert all(d.size == 1 and d.stride == 1 for d in msg.layout.dim) and len(msg.data) == 21
        assert T.unpack_observation(msg, OBS).images is None
    step = T.pack_step(Step(0, 0, 0.0, np.zeros(18), np.zeros(6), np.zeros(6), Source.POLICY), OBS, ACT)
    assert len(step.data) == len(step.layout.dim) == 4 + 18 + 12
    assert T.unpack_step(step, OBS, ACT).images is None


def test_a_message_without_frames_under_cameras_and_with_frames_without_is_refused():
    plain = T.pack_observation(T.Observation(0, 0, 0.0, np.zeros(18)), OBS)
    with pytest.raises(T.TopicError, match=r"observation: no frames; this graph's cameras need blocks "
                                           r"\['image_wrist', 'image_front'\]"):
        T.unpack_observation(plain, OBS, CAMS)
    with pytest.raises(T.TopicError, match=r"carries frames \['image_wrist', 'image_front'\], but this graph "
                                           r"has no cameras"):
        T.unpack_observation(obs_msg(frames()), OBS)
    step = T.pack_step(Step(0, 0, 0.0, np.zeros(18), np.zeros(6), np.zeros(6), Source.POLICY, frames()), OBS, ACT,
                       CAMS)
    with pytest.raises(T.TopicError, match="no cameras"):
        T.unpack_step(step, OBS, ACT)
    with pytest.raises(T.TopicError, match="no cameras"):  # nor does a topic without frames take them
        T.unpack_command(step, ACT)


def test_wrong_cameras_sizes_and_layouts_are_refused_naming_them():
    msg = obs_msg(frames())
    with pytest.raises(T.TopicError, match=r"frame blocks \['image_wrist', 'image_front'\], expected \['image_wrist'\]"):
        T.unpack_observation(msg, OBS, {"wrist": (S, S, 3)})
    with pytest.raises(T.TopicError, match=r"frame blocks .*, expected \['image_front', 'image_wrist'\]"):
        T.unpack_observation(msg, OBS, {"front": (S, S, 3), "wrist": (S, S, 3)})  # order is part of the layout
    big = {c: (16, 16, 3) for c in CAMS}
    with pytest.raises(T.TopicError, match=r"block image_wrist has size 192, expected 768 \(a 16x16x3 frame\)"):
        T.unpack_observation(msg, OBS, big)
    msg = obs_msg(frames())
    msg.layout.dim[-1].size = S * S * 3 - 1  # the layout no longer adds up to the data
    with pytest.raises(T.TopicError, match="image_front has size"):
        T.unpack_observation(msg, OBS, CAMS)
    msg = obs_msg(frames())
    msg.data = msg.data[:-3]
    with pytest.raises(T.TopicError, match=r"values, but the layout says 21 values \+ 384 pixels"):
        T.unpack_observation(msg, OBS, CAMS)
    msg = obs_msg(frames())
    msg.layout.dim[5].label = "o2_typo"  # the values are still checked by label
    with pytest.raises(T.TopicError, match=r"label 5 is 'o2_typo', expected 'o2'"):
        T.unpack_observation(msg, OBS, CAMS)


@pytest.mark.parametrize("bad", [256.0, -1.0, 12.5, np.nan, np.inf])
def test_pixels_must_be_integers_0_to_255(bad):
    msg = obs_msg(frames())
    msg.data[3 + 18 + S * S * 3 + 7] = bad  # a pixel of the front camera
    with pytest.raises(T.TopicError, match="image_front pixels must be integers 0..255"):
        T.unpack_observation(msg, OBS, CAMS)


def test_packing_refuses_frames_that_do_not_match_the_cameras():
    o = T.Observation(0, 0, 0.0, np.zeros(18))
    with pytest.raises(T.TopicError, match=r"frames of cameras \['wrist', 'front'\] needed, got none"):
        T.pack_observation(o, OBS, CAMS)
    with pytest.raises(T.TopicError, match=r"needed, got \['wrist'\]"):
        T.pack_observation(T.Observation(0, 0, 0.0, np.zeros(18), frames(cams={"wrist": (S, S, 3)})), OBS, CAMS)
    f = frames()
    f["front"] = f["front"].astype(np.float32)
    with pytest.raises(T.TopicError, match=r"camera 'front' frame is float32 \(8, 8, 3\), expected uint8"):
        T.pack_observation(T.Observation(0, 0, 0.0, np.zeros(18), f), OBS, CAMS)
    with pytest.raises(T.TopicError, match="no cameras"):
        T.pack_observation(T.Observation(0, 0, 0.0, np.zeros(18), frames()), OBS)
    end = EpisodeEnd(0, 3, "timeout", np.zeros(18))
    with pytest.raises(T.TopicError, match="needed, got none"):
        T.pack_episode_end(end, OBS, CAMS)
