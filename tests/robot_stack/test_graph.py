"""The real graph on localhost: node processes launched like `rlif up`, a probe participant.

Faults of docs/architecture.md "Safety and faults": takeover (once the mux has it, no step is the
policy's), silent teleop while intervening -> hold + fault (never a silent hand-back), actor
killed -> hold then recovery, NaN policy action -> hold, e-stop -> hold until cleared. Each is
judged by what caused what (the writers' DDS timestamps, a node's own heartbeat, step keys),
never by how fast a message travelled on this machine: latencies are `rlif bench loop` and
`rlif bench takeover`. The twin's nodes run composed in one
process (`graph.compose`, as `launch/sim.yaml` has it) unless a test needs a node of its own
(the takeover test runs both ways; the robot profiles keep one process per node).
"""
from __future__ import annotations

import signal
import time

import numpy as np
import pytest

from learner.replay import ReplayStore, Source
from robot_stack import topics as T
from robot_stack.session import GraphSession
from tests.fakes.graph import Probe, actor_weights_file, cell_held_at, write_run_config
from tests.helpers import wait_for

pytestmark = pytest.mark.graph
HZ = 20.0  # wall-clock control rate for these tests (faster than 10 Hz, same logic)
TICK = 1.0 / HZ


@pytest.fixture
def probe():
    p = Probe()
    yield p
    p.close()


def launch(tmp_path, nodes, operator="none", sets=(), actor_weights=True, node_params=None):
    run_dir = tmp_path / "run"
    cfg = write_run_config(run_dir, [f"cell.control_hz={HZ}", "graph.accelerated=false", "graph.deadline_ms=30",
                                     "agent.hidden=[64, 64]", "cell.episode_steps=400", *sets])
    prof = {"name": "test", "nodes": nodes, "operator": operator}
    g = GraphSession(prof, cfg, run_dir, operator, resume=False, out=lambda s: None)
    params = {k: dict(v) for k, v in (node_params or {}).items()}
    if actor_weights and "actor" in nodes:
        w = actor_weights_file(cfg, run_dir / "actor.safetensors")
        params.setdefault("actor", {}).update(weights=str(w), deterministic=True)
    for spec in g.specs:
        spec.params.update(params.get(spec.name, {}))
    return g.__enter__(), cfg, run_dir


def executed_from(probe, first, source: Source | None = None) -> list:
    """The steps the clock executed from the step of `first` (commands or steps, in step order) on."""
    if not first:
        return []
    key = (first[0].episode, first[0].step)
    return [s for s in probe.executed_since(0.0, source) if (s.episode, s.step) >= key]


@pytest.mark.parametrize("compose", [True, False], ids=["composed", "one-process-per-node"])
def test_takeover_switches_source_once_the_mux_has_it_and_is_recorded(tmp_path, probe, compose):
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux", "recorder"], sets=[f"graph.compose={compose}"])
    assert len(g.launcher.processes) == (1 if compose else 4)
    try:
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(0)), 30, what="policy commands")
        stop = [False]

        def operator():
            while not stop[0]:
                probe.intervene(True, (0.3, 0, 0.2, 0, 0, 0))  # sideways and up: no contact
                time.sleep(0.01)  # 100 Hz teleop, like the spacemouse reader

        import threading

        th = threading.Thread(target=operator, daemon=True)
        t0 = time.time()
        th.start()
        # Once the mux says the operator drives, every step it decides is the operator's, or held
        # (the cell holds when the mux misses the deadline on a loaded machine): never the policy's.
        # How fast the takeover reaches the mux is a latency, measured by `rlif bench loop`.
        try:
            t_on = wait_for(lambda: probe.mux_said(True, t0), 10, what="the mux saying the operator drives")
            wait_for(lambda: len(executed_from(probe, probe.cmds_sent_after(t_on), Source.HUMAN)) >= 10, 20,
                     what="operator steps")
        finally:
            stop[0] = True
            th.join()
        after = executed_from(probe, probe.cmds_sent_after(t_on))
        assert Source.POLICY not in [c.source for c in probe.cmds_sent_after(t_on)]
        assert Source.POLICY not in [s.source for s in after], [s.source for s in after]
        np.testing.assert_allclose(executed_from(probe, after, Source.HUMAN)[0].action, [0.3, 0, 0.2, 0, 0, 0])
        t1 = time.time()
        probe.intervene(False)
        t_off = wait_for(lambda: probe.mux_said(False, t1), 10, what="the mux saying the operator released")
        wait_for(lambda: len(executed_from(probe, probe.cmds_sent_after(t_off), Source.POLICY)) >= 3, 10,
                 what="policy after release")
        assert Source.HUMAN not in [c.source for c in probe.cmds_sent_after(t_off)]
        t_req = time.monotonic()
        probe.event("request_abort")  # one press: events are transient-local (topics.EVENTS)
        ends = wait_for(lambda: probe.events_of("episode_end", since=t_req), 10, what="the episode end asked for")
        assert ends[0].data["reason"] == "operator_abort", ends[0].data
    finally:
        g.close()
    with ReplayStore.open(run_dir / "replay.zarr", readonly=True) as store:
        assert store.n_episodes == 1
        source, intervening = store.column("source"), store.column("intervening")
    assert (source == Source.HUMAN).sum() >= 10
    np.testing.assert_array_equal(intervening, source == Source.HUMAN)
    first_human = int(np.flatnonzero(source == Source.HUMAN)[0])
    assert source[first_human - 1] == Source.POLICY  # the step RLIF blames (reward -1)


def test_cell_takes_no_step_until_the_recorder_sees_its_inputs(tmp_path, probe):
    """With a recorder in the graph, the first observation waits for the recorder's heartbeat to
    report `inputs_matched` (else early observations can be lost to discovery and the whole first
    episode discarded). A fake heartbeat stands in for the recorder."""
    status_pub = probe.node.create_publisher(T.STATUS.msg_type, T.STATUS.name, T.STATUS.qos)
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux"], node_params={"cell": {"wait_recorder": True}})
    try:
        wait_for(lambda: "cell" in g.monitor.snapshot()[0] and status_pub.get_subscription_count() >= 2, 30,
                 what="the cell's heartbeat and status subscription")  # subscribers: the cell, the monitor
        t_end = time.monotonic() + 3.0
        while time.monotonic() < t_end:  # a recorder whose subscriptions are not matched yet
            status_pub.publish(T.pack_status("recorder", {"ready": True, "uptime_s": 1.0, "n_rows": 0, "n_episodes": 0, "inputs_matched": False}))
            time.sleep(0.25)
        assert probe.obs_since(0) == []

        def matched_heartbeat():
            status_pub.publish(T.pack_status("recorder", {"ready": True, "uptime_s": 1.0, "n_rows": 0, "n_episodes": 0, "inputs_matched": True}))
            return probe.obs_since(0)

        obs = wait_for(matched_heartbeat, 20, interval=0.25, what="observations after the recorder matched")
        assert (obs[0].episode, obs[0].step) == (0, 0)
    finally:
        g.close()


def test_silent_operator_while_intervening_holds_and_never_hands_back(tmp_path, probe):
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux"])
    try:
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(0)), 30, what="policy commands")
        t0 = time.monotonic()
        for _ in range(5):  # operator takes over for ~0.1 s, then the device goes silent
            probe.intervene(True, (0.0, 0.0, 0.2, 0, 0, 0))
            time.sleep(0.02)
        wait_for(lambda: probe.events_of("fault", since=t0), 5, what="fault event")
        fault = probe.events_of("fault", since=t0)[0]
        assert fault.source == "mux" and "teleop silent" in fault.data["what"]
        t1 = time.time()  # the mux reported the silence before this: it holds from here on
        time.sleep(1.0)  # 20 ticks of silence
        after = probe.cmds_sent_after(t1)
        assert len(after) >= 15 and all(c.source == Source.HOLD for c in after), [c.source for c in after]
        t2 = time.time()
        probe.intervene(False)  # the explicit release hands back
        t_off = wait_for(lambda: probe.mux_said(False, t2), 10, what="the mux saying the operator released")
        wait_for(lambda: len(probe.cmds_sent_after(t_off)) >= 3, 5, what="commands after release")
        assert all(c.source == Source.POLICY for c in probe.cmds_sent_after(t_off))
    finally:
        g.close()


def test_actor_killed_holds_after_deadline_then_recovers(tmp_path, probe):
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux"], sets=["graph.compose=false"])  # kill one node
    try:
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(0)), 30, what="policy commands")
        g.launcher.procs["actor"].proc.send_signal(signal.SIGKILL)
        g.launcher.procs["actor"].proc.wait(5)
        t0 = time.time()  # no policy answer is sent after this: steps observed from now on have none

        def steps_while_dead():
            dead = probe.keys_observed_after(t0)
            return [s for s in probe.executed_since(0.0) if (s.episode, s.step) in dead]

        held = wait_for(lambda: len(steps_while_dead()) >= 5 and steps_while_dead(), 5, what="steps while the actor is dead")
        assert all(c.source == Source.HOLD for c in held)  # the cell held on its deadline, and says so
        assert all(np.isnan(c.policy_action).all() and not c.action.any() for c in held)
        assert not g.launcher.procs["cell"].proc.poll()  # the cell itself keeps running
        g.launcher.restart("actor")
        t1 = time.monotonic()
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.cmds_since(t1)), 30, what="recovery")
    finally:
        g.close()


def test_nan_policy_action_holds_and_reports(tmp_path, probe):
    g, cfg, run_dir = launch(tmp_path, ["cell", "mux"])  # the probe plays the actor
    bad = {"on": True}

    def actor(o):
        a = [np.nan, 0, 0, 0, 0, 0] if bad["on"] else [0.1, 0, 0, 0, 0, 0]
        probe.act(o.episode, o.step, a)

    probe.on_observation = actor
    try:
        t0 = time.monotonic()
        wait_for(lambda: len(probe.cmds_since(t0)) >= 5, 30, what="commands")
        assert all(c.source == Source.HOLD for c in probe.cmds_since(t0))
        # The mux repeats a standing fault every FAULT_REPEAT_S (1 s): the first report can
        # precede t0 or the events endpoint's discovery, a repeat cannot be missed.
        faults = wait_for(lambda: probe.events_of("fault", since=t0), 5, what="fault event")
        assert faults[0].data["what"] == "non-finite policy action"
        bad["on"] = False
        t1 = time.time()  # every step observed after this gets a valid answer

        def answered_validly():
            valid = probe.keys_observed_after(t1)
            return [c for c in probe.cmds_since(0.0) if (c.episode, c.step) in valid]

        after = wait_for(lambda: len(answered_validly()) >= 3 and answered_validly(), 5,
                         what="commands after valid actions")
        assert all(c.source == Source.POLICY for c in after)
        np.testing.assert_allclose(after[-1].action, [0.1, 0, 0, 0, 0, 0], rtol=1e-6)
    finally:
        g.close()


def test_estop_holds_until_cleared(tmp_path, probe):
    """Judged by step keys: once the cell has the e-stop (its heartbeat says so) no step starts."""
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux"])
    try:
        wait_for(lambda: len(probe.obs_since(0)) >= 3, 30, what="observations")
        probe.event("estop")
        held = cell_held_at(g.monitor)
        time.sleep(10 * TICK)
        late_obs, late_cmds = probe.steps_from(held)
        assert late_obs == [] and late_cmds == [], f"{len(late_obs)} steps ran after the e-stop"
        probe.event("estop_clear")
        wait_for(lambda: any(c.source == Source.POLICY for c in probe.steps_from(held)[1]), 5, what="resume")
    finally:
        g.close()


def test_teleop_node_with_fake_spacemouse_takes_over(tmp_path, probe):
    """The fake device plays the demo: push ~1 s, let go, press button 0 (mark success)."""
    g, cfg, run_dir = launch(tmp_path, ["cell", "actor", "mux"], operator="spacemouse",
                             node_params={"teleop": {"device": "fake"}})
    try:
        wait_for(lambda: probe.cmds_since(0), 30, what="commands")
        t_run = time.time()  # the demo loops every 3.5 s: take the takeovers from now on

        def known_takeover():
            """A takeover the mux said it had, with decisions sent before the operator released."""
            for t_on, t_release in probe.takeovers_sent(t_run):
                t_known = probe.mux_said(True, t_on, t_release or float("inf"))
                if t_release is not None and t_known is not None and probe.cmds_sent_between(t_known, t_release):
                    return t_known, t_release
            return None

        # from when the mux says the operator drives until the operator lets go, no step is the
        # policy's (how fast the takeover reaches the mux is measured by `rlif bench loop`)
        t_known, t_release = wait_for(known_takeover, 20, what="a takeover the mux had before its release")
        during = [c.source for c in probe.cmds_sent_between(t_known, t_release)]
        assert Source.POLICY not in during, during
        # (the demo takes over twice per loop: the push, and the button press with zero motion)
        pushed = wait_for(lambda: [c for c in probe.cmds_sent_after(t_run) if c.action[0] > 0.3], 10, what="push")
        assert all(c.source == Source.HUMAN for c in pushed)  # pushed forward = +x in the ROS convention
        wait_for(lambda: probe.events_of("request_success"), 10, what="button 0 -> request_success")
        # the demo loop may have pushed before the cell's clock started: an early episode can end
        # by the button alone; wait for one that the push drove and the button ended
        ends = wait_for(lambda: [e for e in probe.events_of("episode_end") if e.data["intervention_steps"] >= 5],
                        10, what="an episode driven by the push")
        assert ends[0].data["reason"] == "success", ends[0].data
        assert len(probe.joys) > 10
    finally:
        g.close()
