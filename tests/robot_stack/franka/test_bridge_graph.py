"""The Franka bridge against the twin in franka mode, over real franka_ros2-style topics.

Checks the issue's faults on the real graph: a target outside the safety box is clipped, a
hand-over between policy and operator does not jump the target, stale robot state -> hold +
fault (no new targets, no ticks, episode ends as `robot_fault`) and, once the state is back, a
reset from the held target; a dry run publishes nothing; the first episode waits for the
recorder; a scripted insertion succeeds through franka_ros2 topics only.
The probe plays the actor (and the operator); a second subscription records the equilibrium
pose the bridge sends.
"""
from __future__ import annotations

import re
import signal
import threading
import time

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from rclpy.qos import QoSProfile

from sim.contract import Source
from robot_stack import config as cfgmod
from robot_stack import topics as T
from robot_stack.franka import topics as FT
from robot_stack.franka.cell import MAX_RESET_DT_S
from robot_stack.franka.geometry import HoleFrame
from robot_stack.session import GraphSession
from tests.fakes.graph import Probe, write_run_config
from tests.helpers import wait_for

pytestmark = pytest.mark.graph
HZ = 20.0  # control rate of these tests (faster than 10 Hz, same logic)


class TargetRecorder:
    """Records the bridge's equilibrium poses (hole frame) on the probe's node."""

    def __init__(self, probe: Probe, cfg):
        self.frame, self.lock, self.got = HoleFrame(cfg.franka.hole_pose), threading.Lock(), []
        probe.node.create_subscription(PoseStamped, cfg.franka.target_topic, self._cb, QoSProfile(depth=100))

    def _cb(self, msg, info):
        pos, quat, _ = FT.unpack_pose(msg)
        with self.lock:
            self.got.append((info["source_timestamp"] * 1e-9, self.frame.from_base(pos, quat)))

    def since(self, t0: float) -> np.ndarray:
        """The targets the bridge sent at or after t0 (wall clock s), in the order sent."""
        with self.lock:
            return np.array([p for t, p in sorted(self.got, key=lambda tp: tp[0]) if t >= t0]).reshape(-1, 6)


def launch(tmp_path, nodes, sets=(), node_params=None):
    run_dir = tmp_path / "run"
    cfg = write_run_config(run_dir, [f"cell.control_hz={HZ}", "graph.deadline_ms=30", "cell.episode_steps=400",
                                     *sets], profile="robot-twin")
    g = GraphSession({"name": "test", "nodes": nodes, "operator": "none"}, cfg, run_dir, "none", resume=False,
                     out=lambda s: None)
    for spec in g.specs:
        spec.params.update((node_params or {}).get(spec.name, {}))
    return g.__enter__(), cfg, run_dir


@pytest.fixture
def probe():
    p = Probe()
    yield p
    p.close()


def test_box_clip_and_hand_over_without_a_target_jump(tmp_path, probe):
    mode = {"a": [0.0] * 6}
    probe.on_observation = lambda o: probe.act(o.episode, o.step, mode["a"])
    rec = None
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"])
    try:
        rec = TargetRecorder(probe, cfg)
        wait_for(lambda: len(probe.cmds_since(0)) >= 5, 60, what="policy commands after the first reset")
        # 1. policy holds still, the operator nudges +y, hands back: targets move only by the nudges
        t0, t0_sent = time.monotonic(), time.time()
        time.sleep(0.3)
        stop = threading.Event()

        def operator():
            while not stop.is_set():
                probe.intervene(True, (0.0, 0.3, 0.0, 0, 0, 0))
                time.sleep(0.01)

        th = threading.Thread(target=operator, daemon=True)
        th.start()
        wait_for(lambda: sum(c.source == Source.HUMAN for c in probe.cmds_since(t0)) >= 4, 10, what="takeover")
        stop.set()
        th.join()
        probe.intervene(False)
        t1 = time.monotonic()
        wait_for(lambda: sum(c.source == Source.POLICY for c in probe.cmds_since(t1 + 0.1)) >= 4, 10,
                 what="hand-back")
        targets = rec.since(t0_sent)
        steps = np.abs(np.diff(targets, axis=0))
        assert steps[:, [0, 2, 3, 4, 5]].max() < 1e-6, steps  # policy zeros: nothing but the operator's y
        assert 0.003 - 1e-6 <= steps[:, 1].max() <= 0.003 + 1e-6  # each operator step: 0.3 x 1 cm
        # every operator step moved the target by at most its 3 mm (less only where the one-step
        # limit around the measured pose clipped it: an arm lagging on a loaded machine)
        n_human = len(probe.executed_since(t0, Source.HUMAN))  # a held step's late command moved nothing
        assert 0.003 - 1e-6 <= targets[-1, 1] - targets[0, 1] <= 0.003 * n_human + 1e-5
        # 2. the policy pushes +x for good: the target stops at the safety box
        t2 = time.time()
        mode["a"] = [1.0, 0, 0, 0, 0, 0]
        box = cfg.cell.safety_box_m[0]
        wait_for(lambda: len(rec.since(t2)) and rec.since(t2)[:, 0].max() >= box - 1e-9, 20, what="box edge")
        time.sleep(0.5)
        xs = rec.since(t2)[:, 0]
        assert xs.max() <= box + 1e-9 and np.sum(xs >= box - 1e-9) >= 5
    finally:
        g.close()
    assert g.launcher.exit_codes()["franka_bridge"] == 0


def test_stale_robot_state_holds_and_faults(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.2, 0, 0, 0, 0, 0])
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"],
                             node_params={"twin_franka": {"stop_after_s": 5.0}})  # the "driver" dies mid-episode
    try:
        rec = TargetRecorder(probe, cfg)
        wait_for(lambda: len(probe.obs_since(0)) >= 3, 60, what="observations")
        wait_for(lambda: probe.events_of("fault"), 30, what="a fault")
        t_fault = time.time()  # the bridge reported the stale state before this
        fault = probe.events_of("fault")[0]
        assert fault.source == "franka_bridge" and fault.data["what"] == "stale robot state"
        # The driver stops both streams at once, but they are separate topics: whichever went
        # quiet first can be the only one past the limit when the bridge's tick checks.
        assert re.fullmatch(r"no robot (pose / wrench|pose|wrench) for > \d+ ms", fault.data["detail"]), fault.data
        ends = wait_for(lambda: probe.events_of("episode_end"), 5, what="episode end")
        assert ends[-1].data["reason"] == "robot_fault" and ends[-1].data["truncated"]
        time.sleep(1.0)
        assert probe.keys_observed_after(t_fault) == set()  # no ticks while stale
        assert len(rec.since(t_fault)) == 0  # no new targets: the controller holds the last one
    finally:
        g.close()


def test_a_stalled_bridge_is_not_a_stale_robot(tmp_path, probe):
    """The bridge's process paused (SIGSTOP) past `franka.stale_ms` while the driver keeps
    publishing: staleness is measured on the bridge's running time, so the stall is one short gap
    and the state that arrived meanwhile counts: no fault; the stalls are counted (`late_ticks`)."""
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.0] * 6)
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"])
    try:
        wait_for(lambda: len(probe.obs_since(0)) >= 3, 60, what="observations")
        bridge = g.launcher.procs["franka_bridge"].proc
        for _ in range(3):
            bridge.send_signal(signal.SIGSTOP)
            time.sleep(2 * cfg.franka.stale_ms / 1000.0)
            bridge.send_signal(signal.SIGCONT)
            t_wake = time.monotonic()
            wait_for(lambda: probe.obs_since(t_wake), 10, what="steps after the pause")
        assert [e.data for e in probe.events_of("fault")] == []
        wait_for(lambda: g.monitor.snapshot()[0].get("franka_bridge", {}).get("late_ticks", 0) >= 3, 10,
                 what="three stalls counted in the bridge's heartbeat")
    finally:
        g.close()


def test_dry_run_sends_nothing(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [1.0, 0, 0, 0, 0, 0])
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"], sets=["franka.dry_run=true"])
    try:
        rec = TargetRecorder(probe, cfg)
        wait_for(lambda: len(probe.cmds_since(0)) >= 20, 60, what="steps of a dry run")
        obs = np.array([o.obs for o in probe.obs_since(0)])
    finally:
        g.close()
    assert len(rec.since(0)) == 0
    assert np.ptp(obs[:, 0]) < 1e-3  # the arm never moved although the policy pushed +x
    assert "dry run target" in (run_dir / "logs" / "franka_bridge.log").read_text()


def test_first_episode_waits_for_the_recorder_and_continues_its_numbering(tmp_path, probe):
    """A robot PC restarted while the learner box kept the run: numbering continues at the store's."""
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.0] * 6)
    status_pub = probe.node.create_publisher(T.STATUS.msg_type, T.STATUS.name, T.STATUS.qos)
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"],
                             node_params={"franka_bridge": {"wait_recorder": True}})
    try:
        time.sleep(4.0)  # the first reset is done by now (~1-2 s) but no recorder was heard
        assert probe.events_of("episode_start") == [] and probe.obs_since(0) == []

        def recorder_heartbeat():
            status_pub.publish(T.pack_status("recorder", {"ready": True, "uptime_s": 1.0, "n_rows": 700, "n_episodes": 7, "inputs_matched": True}))
            return probe.events_of("episode_start")

        starts = wait_for(recorder_heartbeat, 20, interval=0.25, what="episode start after the recorder's status")
        assert starts[0].data["episode"] == 7
        wait_for(lambda: probe.obs_since(0), 10, what="observations")
        assert all(o.episode == 7 for o in probe.obs_since(0))
    finally:
        g.close()


def test_scripted_insertion_through_the_bridge_succeeds(tmp_path, probe):
    """Frames, signs and the success rule end to end: a simple visual-servo policy (centre over the
    hole, then descend) inserts the peg in the twin through franka_ros2 topics only."""
    def actor(o):
        p, r = o.obs[:3], o.obs[3:6]
        centred, inside = np.hypot(p[0], p[1]) < 0.0004, p[2] < -0.001
        goal = np.array([0.0, 0.0, -0.03 if (inside or centred) else max(p[2], 0.003)])
        # at most 2.5 mm per step: on a loaded machine the twin runs behind the 10 Hz tick and a
        # faster descent can hit the hole's edge hard enough for a force abort (seen once in the suite)
        a = np.concatenate([np.clip(0.3 * (goal - p) / 0.01, -0.25, 0.25), np.clip(-r / 0.05, -1, 1)])
        probe.act(o.episode, o.step, a)

    probe.on_observation = actor
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"],
                             sets=["cell.hole_offset_m=0.0", "cell.episode_steps=150"])  # true hole = taught
    try:
        ends = wait_for(lambda: len(probe.events_of("episode_end")) >= 2 and len(probe.ends) >= 2
                        and probe.events_of("episode_end"), 90, what="two episodes")
    finally:
        g.close()
    for e in ends[:2]:
        assert e.data["reason"] == "success", e.data
    records = [r for _, r in probe.ends[:2]]  # the same ends on the `step` topic, with the final observation
    assert [r.reason for r in records] == ["success", "success"]
    for r in records:
        assert r.final_obs[2] <= -cfg.cell.success_depth_m  # tip below the board by the success depth


def test_after_stale_state_returns_a_reset_starts_from_the_held_target(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.3, 0, 0, 0, 0, 0])
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"], sets=["franka.home_q=[]"],
                             node_params={"twin_franka": {"stop_after_s": 5.0, "stop_for_s": 2.5}})  # no homing:
    # an outage during homing ends in a Cartesian target at the measured pose, not at the held one
    try:
        rec = TargetRecorder(probe, cfg)
        wait_for(lambda: probe.events_of("fault"), 60, what="the stale fault")
        t_fault, t_fault_sent = time.monotonic(), time.time()
        assert len(rec.since(0)), [e.data for e in probe.events_of("fault")]
        before = rec.since(0)[-1]
        starts = wait_for(lambda: probe.events_of("episode_start", since=t_fault), 30, what="an episode after recovery")
        fault, ends = probe.events_of("fault")[0], probe.events_of("episode_end")
        if ends:  # the outage hit a running episode: it ends as a robot fault, the next one starts
            assert ends[0].data["reason"] == "robot_fault" and starts[0].data["episode"] == ends[0].data["episode"] + 1
        else:  # the outage came before the first step (a first reset slower than stop_after_s on a
            # loaded machine, seen once in CI): nothing was recorded, so no episode end and the same
            # episode starts again after the reset (FrankaBridge.on_stale)
            assert starts[0].data["episode"] == fault.data["episode"] == 0, (fault.data, starts[0].data)
        after = rec.since(t_fault_sent)
        assert len(after) > 0
        step = np.linalg.norm(after[0, :3] - before[:3])  # first target after the outage: no jump
        assert step <= cfg.franka.reset_speed_m_s * MAX_RESET_DT_S + 1e-9, step  # one reset tick at most
    finally:
        g.close()


def test_estop_pauses_a_reset_and_confirm_reset_waits_for_the_operator(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.0] * 6)
    rec = TargetRecorder(probe, cfgmod.resolve("robot-twin", []))  # subscribed before the bridge starts,
    # and the bridge's first reset waits for both readers (the twin's driver and this one)
    g, cfg, run_dir = launch(tmp_path, ["twin_franka", "franka_bridge", "mux"], sets=["franka.confirm_reset=true"],
                             node_params={"franka_bridge": {"target_subscribers": 2}})
    try:
        wait_for(lambda: len(rec.since(0)) > 0, 60, what="the first reset's targets")
        t_sent = time.time()
        probe.event("estop")
        t_held = wait_for(lambda: probe.said("franka_bridge", "estop", True, t_sent), 10,
                          what="the bridge's heartbeat reporting the e-stop")
        time.sleep(1.0)
        assert len(rec.since(t_held)) == 0  # the reset motion is paused
        probe.event("estop_clear")
        t1 = time.time()
        wait_for(lambda: len(rec.since(t1)) > 0, 5, what="the reset continuing")
        time.sleep(4.0)  # the reset is done by now: the episode waits for the operator
        assert probe.events_of("episode_start") == []
        probe.event("request_start")
        starts = wait_for(lambda: probe.events_of("episode_start"), 5, what="the episode after request_start")
        assert starts[0].data["episode"] == 0
    finally:
        g.close()
