"""`rlif up` and `rlif bench loop` through the real entry point (real node processes on localhost)."""
import json
import signal
import subprocess
import sys
import time

import pytest

from learner.replay import ReplayStore
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
RLIF = [sys.executable, "-m", "robot_stack.cli.main"]
TINY = ["--set", "agent.hidden=[32, 32]", "--set", "agent.n_critics=2", "--set", "agent.warmup_rows=20",
        "--set", "agent.batch_size=16", "--set", "agent.utd=1", "--set", "agent.threads=1",
        "--set", "cell.episode_steps=15"]


def test_up_runs_the_profile_until_the_episode_count(tmp_path):
    r = subprocess.run([*RLIF, "up", "sim", "--episodes", "2", "--run-dir", str(tmp_path), *TINY],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    for node in ("cell", "actor", "mux", "recorder", "learner", "operator"):
        log = (tmp_path / "logs" / f"{node}.log").read_text()
        for line in log.splitlines()[:5]:  # what a node prints is on our stdout, prefixed
            assert f"[{node}] {line.rstrip()}" in r.stdout, (node, line)
    assert r.stdout.count("[event] episode_end cell") == 2
    with ReplayStore.open(tmp_path / "replay.zarr", readonly=True) as s:
        assert s.n_episodes == 2


def test_up_stops_cleanly_on_sigterm(tmp_path):
    p = subprocess.Popen([*RLIF, "up", "sim", "--run-dir", str(tmp_path), *TINY],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def committed():
            path = tmp_path / "replay.zarr"
            if not (path / "zarr.json").exists():
                return 0
            with ReplayStore.open(path, readonly=True) as s:
                return s.n_episodes
        wait_for(lambda: committed() >= 1, 120, interval=0.2, what="a committed episode")
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, out[-3000:]
    time.sleep(0.2)
    with ReplayStore.open(tmp_path / "replay.zarr", readonly=True) as s:  # reopens clean: committed intact
        assert s.n_episodes >= 1


def test_bench_loop_quick_json():
    r = subprocess.run([*RLIF, "bench", "loop", "--quick", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"p50_ms", "p99_ms", "missed_deadlines", "rate_hz"} <= set(out)
    assert out["rate_hz"] == 10.0 and out["steps"] > 0 and 0 < out["p50_ms"] <= out["p99_ms"]
    assert out["at_100hz"]["steps"] > 0 and out["at_100hz"]["achieved_hz"] > 0


def test_bench_takeover_quick_json_counts_the_fake_spacemouse_takeovers():
    r = subprocess.run([*RLIF, "bench", "takeover", "--quick", "--json"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["rate_hz"] == 10.0 and out["steps"] > 0
    assert out["takeovers"] >= 1  # the demo takes over twice every 3.5 s; 8 s of steps
    assert isinstance(out["ticks_max"], int) and out["ticks_max"] >= 0 and 0 < out["ms_p50"] <= out["ms_max"]


def test_bench_train_quick_json_reports_both_sides_of_the_same_learning():
    r = subprocess.run([*RLIF, "bench", "train", "--quick", "--json", *TINY], capture_output=True, text=True,
                       timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    ip, gr = out["inprocess_env_steps_per_s"], out["graph_env_steps_per_s"]
    assert ip > 0 and gr > 0 and out["ratio"] == round(gr / ip, 3)
    assert out["agent"]["hidden"] == [32, 32] and out["agent"]["utd"] == 1  # --set reached both sides
    assert out["compose"] is True and out["graph"]["processes"] == 2  # control loop + learner
    assert out["graph"]["faults"] == [] and out["graph"]["missed_deadlines"] == 0
    assert out["graph"]["steps"] > 0 and out["inprocess"]["steps"] > 0
