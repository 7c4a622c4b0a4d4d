"""The bridge's cameras on a real rclpy graph: the twin in franka mode publishes sensor_msgs/Image
frames as the RealSense ROS driver does (4:3, rgb8); the bridge crops and resizes them into each
observation; a dead camera holds the steps (no ticks, one `stale camera` fault naming it) until its
frames are back; frames in the wrong encoding are refused once, by name, and nothing is ticked.
Judged by the bridge's own words (faults, heartbeat counters) and the observations' keys, never by
how fast a frame travelled."""
from __future__ import annotations

import time

import numpy as np
import pytest

from robot_stack import config as cfgmod
from robot_stack import topics as T
from robot_stack.session import GraphSession
from tests.fakes.graph import Probe, write_run_config
from tests.helpers import wait_for
from tests.robot_stack.franka.test_recovery_graph import faults, set_twin_params

pytestmark = pytest.mark.graph
HZ = 10.0
SIZE = 32  # vision.image_size; the twin renders 64 x 48 (franka.camera_resolution): a 1.5x area resize
VISION = [f"cell.control_hz={HZ}", "graph.deadline_ms=80", "franka.camera_max_age_ms=80", f"vision.image_size={SIZE}",
          "vision.cameras=[wrist]", "franka.camera_resolution=[64, 48]", "franka.camera_hz=30",
          "cell.episode_steps=400"]


def launch(tmp_path, node_params=None):
    run_dir = tmp_path / "run"
    cfg = write_run_config(run_dir, VISION, profile="robot-twin")
    g = GraphSession({"name": "test", "nodes": ["twin_franka", "franka_bridge", "mux"], "operator": "none"}, cfg,
                     run_dir, "none", resume=False, out=lambda s: None)
    for spec in g.specs:
        spec.params.update((node_params or {}).get(spec.name, {}))
    return g.__enter__(), cfg


@pytest.fixture
def probe():
    p = Probe(cameras=cfgmod.resolve("robot-twin", VISION).vision.frame_shapes())
    yield p
    p.close()


def bridge_status(g) -> dict:
    return g.monitor.snapshot()[0].get("franka_bridge", {})


def test_frames_reach_observations_and_a_dead_camera_holds_the_steps(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.0] * 6)
    g, cfg = launch(tmp_path)
    try:
        wait_for(lambda: len(probe.obs_since(0)) >= 5, 90, what="observations with frames")
        o = probe.obs_since(0)[-1]
        img = o.images["wrist"]
        assert img.shape == (SIZE, SIZE, 3) and img.dtype == np.uint8 and np.ptp(img) > 20  # a picture, not a blank
        wait_for(lambda: bridge_status(g).get("camera_frames", 0) > 0, 10, what="frames counted by the bridge")
        # the camera dies: the bridge holds (no ticks) and says which camera
        t_off = time.monotonic()
        set_twin_params(probe, camera_on=False)
        stale = wait_for(lambda: faults(probe, "stale camera", since=t_off), 20, what="a stale camera fault")
        f = stale[-1]
        assert f.source == "franka_bridge" and f.data["cameras"] == ["wrist"] and set(f.data["stamp_age_ms"]) == {"wrist"}
        assert cfg.franka.wrist_camera_topic in f.data["detail"] and "franka.camera_max_age_ms" in f.data["detail"]
        wait_for(lambda: bridge_status(g).get("camera_stale", ""), 10, what="the bridge's heartbeat: camera stale")
        t_held = time.time()
        time.sleep(1.0)
        assert probe.keys_observed_after(t_held + 0.2) == set()  # no ticks while the camera is dead
        assert bridge_status(g)["camera_holds"] >= 3
        # it comes back: the steps go on, where they stopped
        held_keys = {k for k in probe.keys_observed_after(0)}
        set_twin_params(probe, camera_on=True)
        t_on = time.time()
        wait_for(lambda: len(probe.keys_observed_after(t_on)) >= 3, 20, what="ticks after the camera is back")
        assert not (probe.keys_observed_after(t_on) & held_keys)
        o = probe.obs_since(0)[-1]
        assert o.images["wrist"].shape == (SIZE, SIZE, 3)
    finally:
        g.close()
    assert g.launcher.exit_codes()["franka_bridge"] == 0


def test_frames_in_the_wrong_encoding_are_refused_by_name(tmp_path, probe):
    probe.on_observation = lambda o: probe.act(o.episode, o.step, [0.0] * 6)
    g, cfg = launch(tmp_path, node_params={"twin_franka": {"camera_encoding": "bgr8"}})
    try:
        refused = wait_for(lambda: faults(probe, "camera frame refused"), 60, what="a refused frame")
        assert "encoding 'bgr8', expected 'rgb8'" in refused[0].data["detail"], refused[0].data
        assert refused[0].data["camera"] == "wrist"
        wait_for(lambda: bridge_status(g).get("camera_rejected", 0) >= 10, 20, what="refusals counted")
        wait_for(lambda: faults(probe, "stale camera"), 60, what="the first tick held for the camera")
        time.sleep(1.0)
        assert len(faults(probe, "camera frame refused")) == 1  # once, not 30 times a second
        assert probe.obs_since(0) == [] and bridge_status(g).get("camera_frames", 0) == 0  # nothing ticked
        assert "the last one refused: encoding 'bgr8'" in faults(probe, "stale camera")[0].data["detail"]
    finally:
        g.close()

