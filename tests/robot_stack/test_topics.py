"""Round trips for every topic of the contract, and rejection of malformed messages."""
import json
import re

import numpy as np
import pytest

from sim.contract import EpisodeEnd, Source, Step
from robot_stack import topics as T

pytestmark = pytest.mark.unit

OBS = tuple(f"o{i}" for i in range(18))
ACT = ("x", "y", "z", "rx", "ry", "rz")


def test_every_topic_is_namespaced_and_unique():
    names = [t.name for t in T.ALL_TOPICS]
    assert len(set(names)) == len(names)
    assert all(n.startswith("/rlif/") for n in names)
    assert T.POLICY_WEIGHTS.latched and T.POLICY_WEIGHTS.depth == 1
    assert not T.TELEOP_INTERVENING.latched  # outside programs with default QoS must match


def test_observation_round_trip_and_labels():
    o = T.Observation(3, 17, 1.7, np.arange(18, dtype=np.float32) / 7)
    msg = T.pack_observation(o, OBS)
    assert [d.label for d in msg.layout.dim][:3] == ["episode", "step", "t"]
    back = T.unpack_observation(msg, OBS)
    assert (back.episode, back.step, back.t) == (3, 17, 1.7)
    np.testing.assert_allclose(back.obs, o.obs, rtol=1e-6)
    assert back.obs.dtype == np.float32


def test_policy_action_and_command_round_trip():
    a = np.array([0.1, -0.2, 0.3, 0, 0.5, -1], dtype=np.float32)
    p = T.unpack_policy_action(T.pack_policy_action(T.PolicyAction(1, 2, a), ACT), ACT)
    assert (p.episode, p.step) == (1, 2)
    np.testing.assert_allclose(p.action, a)
    for src in Source:
        c = T.unpack_command(T.pack_command(T.Command(4, 5, src, a), ACT), ACT)
        assert c.source is src and (c.episode, c.step) == (4, 5) and c.policy_action is None
        np.testing.assert_allclose(c.action, a)
    c = T.unpack_command(T.pack_command(T.Command(4, 5, Source.HUMAN, a, -a), ACT), ACT)
    np.testing.assert_allclose(c.policy_action, -a)  # the policy's proposal rides with the operator's action


def test_step_and_episode_end_share_one_topic_and_round_trip():
    obs, a = np.arange(18, dtype=np.float32) / 9, np.array([0.1, -0.2, 0.3, 0, 0.5, -1], np.float32)
    pol = np.full(6, np.nan, np.float32)
    back = T.unpack_step(T.pack_step(Step(2, 9, 0.9, obs, a, pol, Source.HUMAN), OBS, ACT), OBS, ACT)
    assert isinstance(back, Step) and (back.episode, back.step, back.t, back.source) == (2, 9, 0.9, Source.HUMAN)
    assert back.intervening and np.isnan(back.policy_action).all()
    np.testing.assert_allclose(back.obs, obs, rtol=1e-6)
    np.testing.assert_allclose(back.action, a)
    end = EpisodeEnd(2, 10, "force_abort", obs, interventions=2, intervention_steps=5, holds=1, missed_deadlines=1)
    back = T.unpack_step(T.pack_episode_end(end, OBS), OBS, ACT)
    assert isinstance(back, EpisodeEnd) and back.reason == "force_abort" and back.terminal and back.aborted
    assert (back.steps, back.interventions, back.intervention_steps, back.holds, back.missed_deadlines) == (10, 2, 5, 1, 1)
    np.testing.assert_allclose(back.final_obs, obs, rtol=1e-6)


def test_malformed_steps_and_ends_are_rejected_naming_what_is_wrong():
    end = T.pack_episode_end(EpisodeEnd(0, 3, "timeout", np.zeros(18)), OBS)
    end.data[2] = 17.0
    with pytest.raises(T.TopicError, match="reason 17"):
        T.unpack_step(end, OBS, ACT)
    end = T.pack_episode_end(EpisodeEnd(0, 3, "timeout", np.zeros(18)), OBS)
    end.data[4] = -1.0
    with pytest.raises(T.TopicError, match="non-negative integers"):
        T.unpack_step(end, OBS, ACT)
    step = T.pack_step(Step(0, 0, 0.0, np.zeros(18), np.zeros(6), np.zeros(6), Source.POLICY), OBS, ACT)
    with pytest.raises(T.TopicError, match="expected 28 values"):
        T.unpack_step(step, OBS, ACT[:3])


def test_nan_policy_action_passes_the_wire_for_the_mux_to_hold():
    a = np.array([np.nan, 0, 0, 0, 0, 0], dtype=np.float32)
    p = T.unpack_policy_action(T.pack_policy_action(T.PolicyAction(0, 0, a), ACT), ACT)
    assert np.isnan(p.action[0])


def test_wrong_length_is_rejected_with_a_clear_error():
    msg = T.pack_policy_action(T.PolicyAction(0, 0, np.zeros(6)), ACT)
    with pytest.raises(T.TopicError, match=r"policy_action: expected 5 values"):
        T.unpack_policy_action(msg, ACT[:3])


def test_wrong_labels_are_rejected_naming_the_label():
    msg = T.pack_command(T.Command(0, 0, Source.POLICY, np.zeros(6)), ACT)
    msg.layout.dim[4].label = "y_typo"
    with pytest.raises(T.TopicError, match=r"label 4 is 'y_typo', expected 'y'"):
        T.unpack_command(msg, ACT)


def test_bad_key_and_bad_source_are_rejected():
    msg = T.pack_command(T.Command(0, 0, Source.POLICY, np.zeros(6)), ACT)
    msg.data[2] = 7.0
    with pytest.raises(T.TopicError, match="source 7"):
        T.unpack_command(msg, ACT)
    msg = T.pack_observation(T.Observation(0, 0, 0.0, np.zeros(18)), OBS)
    msg.data[1] = 2.5
    with pytest.raises(T.TopicError, match="non-negative integers"):
        T.unpack_observation(msg, OBS)


def test_twist_round_trip_pads_missing_axes():
    a, stamp = T.unpack_twist(T.pack_twist([0.5, -0.25, 1.0], 12.5))
    np.testing.assert_allclose(a, [0.5, -0.25, 1.0, 0, 0, 0])
    assert stamp == pytest.approx(12.5)


def test_intervening_and_joy_round_trip():
    assert T.unpack_intervening(T.pack_intervening(True)) is True
    axes, buttons = T.unpack_joy(T.pack_joy([0.1, -0.2, 0, 0, 0, 0.3], [1, 0], 1.0))
    np.testing.assert_allclose(axes, [0.1, -0.2, 0, 0, 0, 0.3], rtol=1e-6)
    assert buttons == [1, 0]


def test_events_and_status_round_trip_and_reject_bad_json():
    e = T.unpack_event(T.pack_event(T.Event("episode_end", {"episode": 3, "success": True}, source="cell")))
    assert e.kind == "episode_end" and e.data == {"episode": 3, "success": True} and e.source == "cell"
    s = T.unpack_status(T.pack_status("mux", {"ticks": 5, "ready": True, "uptime_s": 1.5, "estop": False}))
    assert s == {"node": "mux", "ticks": 5, "ready": True, "uptime_s": 1.5, "estop": False}
    from std_msgs.msg import String

    with pytest.raises(T.TopicError, match="not JSON"):
        T.unpack_event(String(data="{nope"))
    with pytest.raises(T.TopicError, match="'kind'"):
        T.unpack_event(String(data=json.dumps({"episode": 1})))
    with pytest.raises(T.TopicError, match="'node'"):
        T.unpack_status(String(data=json.dumps({"x": 1})))


BASE = {"ready": True, "uptime_s": 3.0}


@pytest.mark.parametrize("node, body, field", [
    ("learner", {"state": "training"}, "'updates' (int)"),                 # the UTD gate's counter missing
    ("learner", {"updates": "12", "state": "training"}, "'updates' (int)"),  # a string is not a count
    ("learner", {"updates": True, "state": "training"}, "'updates' (int)"),  # nor is a bool
    ("recorder", {"n_rows": 10}, "'n_episodes' (int)"),                    # the bridge's episode numbering
    ("cell", {"episodes": 1, "steps": 3.0, "phase": "ready"}, "'steps' (int)"),
    ("franka_bridge", {"episodes": 1, "steps": 3}, "'phase' (str)"),
    ("actor", {"ready": "yes"}, "'ready' (bool)"),                         # every node's fields
])
def test_a_heartbeat_missing_a_control_field_is_refused_naming_it(node, body, field):
    with pytest.raises(T.TopicError, match=re.escape(f"{node}'s heartbeat needs {field}")):
        T.unpack_status(T.pack_status(node, {**BASE, **body}))


def test_control_fields_pass_and_people_fields_are_free():
    s = T.unpack_status(T.pack_status("learner", {**BASE, "updates": 4, "state": "training", "updates_per_s": 2,
                                                  "q_mean": "n/a"}))
    assert s["updates"] == 4 and s["q_mean"] == "n/a"
    assert T.unpack_status(T.pack_status("dashboard-x", {**BASE, "anything": [1]}))["anything"] == [1]
    with pytest.raises(T.TopicError, match="'inputs_matched' must be bool"):
        T.unpack_status(T.pack_status("recorder", {**BASE, "n_rows": 0, "n_episodes": 0, "inputs_matched": 1}))


def test_weights_round_trip_and_label_check():
    blob = bytes(range(256)) * 40
    msg = T.pack_weights(blob)
    assert T.unpack_weights(msg) == blob
    msg.layout.dim[0].label = "pickle"
    with pytest.raises(T.TopicError, match="safetensors"):
        T.unpack_weights(msg)


def test_camera_jpeg_round_trip_and_format_check():
    jpeg = b"\xff\xd8\xff\xe0" + bytes(100)
    msg = T.pack_jpeg(jpeg, 3.5)
    assert T.unpack_jpeg(msg) == jpeg
    msg.format = "png"
    with pytest.raises(T.TopicError, match="jpeg"):
        T.unpack_jpeg(msg)


def test_events_are_transient_local_and_history_from_before_this_process_is_stale():
    assert T.EVENTS.latched and T.EVENTS.qos.lifespan.nanoseconds == int(T.EVENT_LIFESPAN_S * 1e9)
    fresh = T.pack_event(T.Event("request_abort", {"by": "test"}, source="probe"))
    e = T.unpack_event(fresh)
    assert e.kind == "request_abort" and e.data == {"by": "test"} and e.stamp >= T.PROCESS_START
    old = T.pack_event(T.Event("request_abort", {}, source="probe", stamp=T.PROCESS_START - 5.0))
    with pytest.raises(T.StaleEvent, match="before this process started"):
        T.unpack_event(old)
    assert T.unpack_event(old, since=0.0).kind == "request_abort"  # a reader may ask for the past
    from std_msgs.msg import String

    assert T.unpack_event(String(data='{"kind": "estop"}')).kind == "estop"  # no stamp: an outside program
