"""SupervisorState: ingest from the graph, rolling rates, control requests, read-only mode."""
from __future__ import annotations

import threading

import pytest

from robot_stack.supervisor.state import ReadOnlyError, SupervisorState
from robot_stack.topics import EventKind as K
from tests.robot_stack.supervisor.helpers import EventLog

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def end(ep, success, interventions, steps=10):
    return {"episode": ep, "steps": steps, "success": success, "interventions": interventions}


def test_episode_ends_become_metrics_rows_and_rolling_rates():
    s = SupervisorState(EventLog(), window=2)
    s.on_status({"node": "learner", "updates_per_s": 12.5, "updates": 300})
    s.on_event(K.EPISODE_END, end(0, True, 0))
    s.on_event(K.EPISODE_END, end(1, False, 5))
    s.on_event(K.EPISODE_END, end(2, True, 2))
    rows = s.metrics()
    assert [r["episode"] for r in rows] == [0, 1, 2] and [r["seq"] for r in rows] == [0, 1, 2]
    assert rows[1]["intervention_rate"] == 0.5 and rows[0]["autonomous"] == 1 and rows[2]["autonomous"] == 0
    assert rows[0]["updates_per_s"] == 12.5 and rows[0]["length"] == 10
    st = s.status()
    assert st["episodes"] == 3 and st["success_rate"] == 0.5  # last 2 episodes
    assert st["autonomous_success_rate"] == 0.0 and st["intervention_rate"] == 0.35
    assert st["updates_per_s"] == 12.5 and st["updates"] == 300
    assert s.metrics(since=2) == [rows[2]]


def test_rows_are_kept_once_per_episode_and_history_is_bounded():
    s = SupervisorState(None, history=3)
    assert s.add_metrics([{"episode": i, "success": 1} for i in range(5)]) == 5
    assert s.add_metrics([{"episode": 4, "success": 0}, {"episode": "x"}]) == 0
    s.on_event(K.EPISODE_END, end(4, False, 1))  # the same episode from the graph: kept once
    assert [r["episode"] for r in s.metrics()] == [2, 3, 4]
    assert s.status()["metrics_seq"] == 5 and s.metrics(since=4)[0]["episode"] == 4


def test_who_drives_follows_commands_and_goes_to_hold_when_they_stop():
    clock = Clock()
    s = SupervisorState(EventLog(), clock=clock, drive_stale_s=1.0)
    assert s.status()["drives"] == "hold"
    s.on_observation(3, 7, 0.7)
    s.on_command(3, 7, 0)
    assert (s.status()["drives"], s.status()["episode"], s.status()["step"]) == ("policy", 3, 7)
    s.on_command(3, 8, 1)
    assert s.status()["drives"] == "operator"
    s.on_command(3, 9, 2)
    assert s.status()["drives"] == "hold"
    s.on_command(3, 10, 0)
    s.on_event(K.ESTOP, {})
    assert s.status()["drives"] == "hold"
    s.on_event(K.ESTOP_CLEAR, {})
    assert s.status()["drives"] == "policy"
    clock.t += 1.5
    assert s.status()["drives"] == "hold"


def test_node_health_from_heartbeat_age_and_policy_version():
    clock = Clock()
    s = SupervisorState(EventLog(), clock=clock, node_dead_s=5.0)
    s.on_status({"node": "cell", "episode": 4, "step": 2})
    s.on_status({"node": "actor", "policy_version": 7})
    s.on_status({"no": "name"})  # ignored
    clock.t += 6
    s.on_status({"node": "actor", "policy_version": 8})
    st = s.status()
    assert st["nodes"]["cell"] == {"age_s": 6.0, "healthy": False}
    assert st["nodes"]["actor"]["healthy"] and st["policy_version"] == 8 and st["episode"] == 4
    s.on_event(K.WEIGHTS_LOADED, {"version": 9})
    assert s.status()["policy_version"] == 9
    assert s.node_status("actor")["policy_version"] == 8 and s.node_status("nope") is None


def test_estop_publishes_first_and_shows_at_once_only_clear_resumes():
    log = EventLog()
    s = SupervisorState(log)
    s.estop("test")
    assert log.events == [(K.ESTOP, {"reason": "test", "by": "supervisor"})]
    assert s.status()["estop"] and s.status()["estop_reason"] == "test"
    s.on_status({"node": "mux", "estop": False})  # a stale heartbeat never clears it
    s.on_event(K.EPISODE_START, {"episode": 1})
    assert s.status()["estop"]
    s.clear_estop()
    assert log.kinds() == [K.ESTOP, K.ESTOP_CLEAR] and not s.status()["estop"]
    # the recent-events list is what the graph said: requests appear when the graph echoes them
    assert [e["kind"] for e in s.status()["events"]] == [K.EPISODE_START]
    s.on_event(*log.events[-1])
    assert [e["kind"] for e in s.status()["events"]] == [K.ESTOP_CLEAR, K.EPISODE_START]


def test_estop_is_synced_from_the_mux_before_any_estop_event():
    s = SupervisorState(EventLog())
    s.on_status({"node": "mux", "estop": True})  # supervisor started while the cell is stopped
    assert s.status()["estop"]
    s.on_event(K.ESTOP_CLEAR, {})
    s.on_status({"node": "mux", "estop": True})
    assert not s.status()["estop"]


def test_requests_publish_the_event_vocabulary():
    log, clock = EventLog(), Clock()
    s = SupervisorState(log, clock=clock)
    s.on_event(K.EPISODE_START, {"episode": 5})
    s.start_episode()
    s.mark_success()
    s.abort_episode("bad grasp")
    s.pause_training()
    assert s.status()["paused"]
    s.resume_training()
    assert not s.status()["paused"]
    assert log.kinds() == [K.REQ_START, K.REQ_SUCCESS, K.REQ_ABORT, K.TRAINING_PAUSE, K.TRAINING_RESUME]
    assert log.events[1][1]["episode"] == 5 and log.events[2][1]["reason"] == "bad grasp"
    clock.t += 6.0
    s.on_status({"node": "learner", "paused": True})  # past PAUSE_CONFIRM_S the learner's own word wins
    assert s.status()["paused"]


def test_failed_publish_changes_nothing():
    s = SupervisorState(EventLog(fail=True))
    with pytest.raises(ConnectionError):
        s.estop()
    assert not s.status()["estop"]


def test_read_only_state_refuses_requests():
    s = SupervisorState(None)
    assert s.read_only and s.status()["read_only"]
    with pytest.raises(ReadOnlyError, match="no live graph"):
        s.estop()


def test_camera_and_change_counter():
    s = SupervisorState(EventLog())
    assert s.camera() is None and s.status()["camera"] is None
    v = s.version
    s.on_camera(b"\xff\xd8jpeg")
    assert s.version > v
    assert s.camera() == (b"\xff\xd8jpeg", 1) and s.status()["camera"]["seq"] == 1


@pytest.mark.parametrize("clock", ["cell", "franka_bridge"])
def test_the_clock_heartbeat_gives_the_episode_until_observations_arrive(clock):
    s = SupervisorState(EventLog())
    s.on_status({"node": "actor", "episode": 7, "step": 1})  # not the clock: ignored
    s.on_status({"node": clock, "episode": 4, "step": 9})
    assert (s.status()["episode"], s.status()["step"]) == (4, 9)
    s.on_observation(5, 1, 0.1)
    s.on_status({"node": clock, "episode": 4, "step": 99})  # a stale heartbeat
    assert (s.status()["episode"], s.status()["step"]) == (5, 1)


def test_concurrent_ingest_and_reads_are_consistent():
    s = SupervisorState(EventLog(), history=100000)

    def feed(base):
        for i in range(500):
            s.on_event(K.EPISODE_END, end(base + i, i % 2 == 0, i % 3))
            s.on_command(base + i, 0, i % 3)

    threads = [threading.Thread(target=feed, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        s.status()
        s.metrics()
    rows = s.metrics()
    assert len(rows) == 2000 and sorted(r["seq"] for r in rows) == list(range(2000))


def test_a_pause_shows_at_once_and_an_older_learner_heartbeat_does_not_undo_it():
    clock = Clock()
    s = SupervisorState(EventLog(), clock=clock)
    s.pause_training()
    s.on_status({"node": "learner", "updates": 5, "paused": False})  # sent before it got the pause
    assert s.status()["paused"]
    s.on_status({"node": "learner", "updates": 5, "paused": True})  # it paused: confirmed
    clock.t += 1.0
    s.resume_training()
    s.on_status({"node": "learner", "updates": 5, "paused": True})
    assert not s.status()["paused"]
    s.pause_training()
    clock.t += 6.0  # a learner that never acts on the request: its word wins after 5 s
    s.on_status({"node": "learner", "updates": 5, "paused": False})
    assert not s.status()["paused"]
