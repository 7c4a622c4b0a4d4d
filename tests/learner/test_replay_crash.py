"""Crash safety and concurrent reading with real processes (writer: tests/learner/replay_writer.py)."""
import os
import random
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from learner.replay import ReplayStore
from learner.replay_verify import verify
from tests.learner import replay_writer as W

ROOT = Path(__file__).resolve().parents[2]


def start_writer(path, *args):
    proc = subprocess.Popen([sys.executable, "-m", "tests.learner.replay_writer", str(path), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.lines = queue.Queue()  # a thread reads stdout: select() misses lines already buffered

    def pump():
        for line in proc.stdout:
            proc.lines.put(line.strip())
        proc.lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return proc


def read_until(proc, pred, timeout=60.0):
    """Wait for a line of the writer's stdout with pred(line); returns that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = proc.lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            pytest.fail(f"writer exited early: {proc.wait()} {proc.stderr.read()}")
        if pred(line):
            return line
    pytest.fail("writer produced no matching line in time")


def kill(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stderr.close()


@pytest.fixture(params=[None, W.IMAGES], ids=["state", "with-frames"])
def path(tmp_path, request):
    p = tmp_path / "replay.zarr"
    ReplayStore.create(p, W.OBS, W.ACT, images=request.param).close()
    return p


def test_sigkill_mid_episode_keeps_committed_episodes(path):
    proc = start_writer(path, "mid", "5")
    read_until(proc, lambda line: line == "MID")
    kill(proc)
    assert verify(path) == []  # before any reopen: the counters alone define the store
    with ReplayStore.open(path) as s:
        assert s.n_episodes == 5 and s.n_rows == sum(W.length(e) for e in range(5))
        W.check_rows(s)
        W.write_episode(s, 5)  # the next append continues cleanly
        assert s.n_episodes == 6 and s.column("step")[-W.length(5):].tolist() == list(range(W.length(5)))
    assert verify(path) == []
    with ReplayStore.open(path, readonly=True) as s:
        W.check_rows(s)
        assert s.n_episodes == 6


def test_sigkill_at_random_moments_never_loses_a_committed_episode(path):
    rnd = random.Random(0)
    for _ in range(6):
        proc = start_writer(path, "loop")
        seen = int(read_until(proc, lambda line: line.startswith("committed")).split()[1])
        time.sleep(rnd.uniform(0.0, 0.3))  # somewhere inside a later episode or a flush
        kill(proc)
        with ReplayStore.open(path) as s:
            assert s.n_episodes >= seen  # what end_episode returned for is on disk
            W.check_rows(s)
        assert verify(path) == []


def test_concurrent_reader_never_sees_a_torn_row(path):
    proc = start_writer(path, "loop")
    reader = ReplayStore.open(path, readonly=True)
    rng = np.random.default_rng(0)
    # Until the reader has seen 5 growths of the store (a loaded machine starts the writer slowly:
    # the deadline only bounds a writer that never writes).
    checked, refreshes, t_end = 0, 0, time.monotonic() + 120.0
    try:
        while refreshes < 5 and time.monotonic() < t_end:
            if reader.refresh():
                refreshes += 1
                W.check_rows(reader, lo=checked)
                checked = reader.n_rows
                b = reader.sample(64, rng)
                ep, step = reader.column("episode")[b["index"]], reader.column("step")[b["index"]]
                assert (b["next_obs"][:, 0] == 1000 * ep + step + 1).all()
                if reader.images:  # the next state's frame: the next row's, or the episode's final one
                    assert (b["next_image_wrist"][:, 0, 0, 1] == (step + 1) % 256).all()
    finally:
        kill(proc)
        reader.close()
    assert refreshes >= 5 and checked > 0
