"""The video node's backlog is bounded: while its writer is busy, at most `MAX_BACKLOG` ended
episodes wait; the next is skipped (counted), the callback never blocks, and close() still ends
the writer. The node runs in this test's process (rclpy's default context)."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import rclpy

import sim.video
from robot_stack.nodes.video import MAX_BACKLOG, VideoNode
from sim.contract import EpisodeEnd
from tests.fakes.graph import write_run_config

pytestmark = pytest.mark.graph


def test_a_busy_writer_skips_episodes_beyond_the_backlog(tmp_path, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow_replay(cell, seed, commands, episode):  # the writer stuck on one long episode
        started.set()
        release.wait(30)
        raise RuntimeError("replay stopped by the test")

    monkeypatch.setattr(sim.video, "replay_twin", slow_replay)
    write_run_config(tmp_path, ["train.video_every=1"])

    def end(ep):
        return EpisodeEnd(ep, 0, "timeout", np.zeros(18, np.float32))

    rclpy.init(args=["--ros-args", "-p", f"run_dir:={tmp_path}"])
    node = VideoNode()
    try:
        assert node.submit(0, end(0))
        assert started.wait(30)  # the writer holds episode 0
        assert all(node.submit(ep, end(ep)) for ep in range(1, 1 + MAX_BACKLOG))
        assert not node.submit(1 + MAX_BACKLOG, end(1 + MAX_BACKLOG))  # refused at once, not blocked
        assert node.counters["skipped"] == 1 and node.jobs.qsize() == MAX_BACKLOG
        release.set()
        node.close()  # the writer drains the backlog (each replay fails here) and stops
        assert not node.worker.is_alive()
        assert node.counters["skipped"] == 2 + MAX_BACKLOG and node.counters["videos"] == 0
    finally:
        release.set()
        node.destroy_node()
        rclpy.shutdown()
