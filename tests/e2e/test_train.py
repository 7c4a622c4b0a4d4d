"""`rlif train` end to end on the twin (real processes, real graph, simulated operator), and
recovery: the learner killed with SIGKILL resumes from its checkpoint; the whole graph killed
with SIGKILL continues with `rlif train --resume`."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from learner.checkpoint import latest_checkpoint
from learner.replay import ReplayStore
from learner.replay_verify import verify
from robot_stack.session import GraphSession
from tests.fakes.graph import write_run_config
from tests.helpers import wait_for

TINY = ["--set", "agent.hidden=[32, 32]", "--set", "agent.n_critics=2", "--set", "agent.warmup_rows=40",
        "--set", "agent.batch_size=32", "--set", "agent.utd=1", "--set", "agent.threads=1",
        "--set", "cell.episode_steps=30", "--set", "train.checkpoint_every=20", "--set", "train.demo_episodes=0"]
RLIF = [sys.executable, "-m", "robot_stack.cli.main"]


def train(*args, timeout=300, **kw):
    return subprocess.run([*RLIF, "train", *args], capture_output=True, text=True, timeout=timeout, **kw)


@pytest.mark.e2e
def test_train_smoke_writes_the_run_folder(tmp_path):
    run_dir = tmp_path / "run"
    r = train("--episodes", "3", "--run-dir", str(run_dir), "--json", *TINY, "--set", "train.demo_episodes=2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "2 demonstrations by the operator's expert" in r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["episodes"] == 3 and summary["stopped"] == "done"  # the demonstrations are not counted
    assert summary["demo_episodes"] == 2
    assert summary["env_steps"] >= 3 and 0.0 <= summary["intervention_rate"] <= 1.0
    for name in ("config.yaml", "metrics.csv", "curves.png", "report.md", "replay.zarr", "logs/cell.log"):
        assert (run_dir / name).exists(), name
    assert "[fault]" not in r.stderr, r.stderr[-3000:]  # a fault printed means something is wrong
    # the report leads with the three numbers a user looks for
    lead = [line for line in (run_dir / "report.md").read_text().splitlines()[1:8] if line]
    assert lead[0].startswith("**Autonomous success, last 3 episodes:")
    assert lead[1].startswith("**Operator-driven share of steps:") and "in the first 3 episodes" in lead[1]
    assert lead[2].startswith("**Operator time:") and summary["operator_minutes"] >= 0.0
    assert summary["operator_minutes"] <= summary["control_minutes"] == round(summary["env_steps"] / 600.0, 2)
    assert latest_checkpoint(run_dir / "checkpoints") is not None  # written at the learner's shutdown
    with ReplayStore.open(run_dir / "replay.zarr", readonly=True) as store:
        assert store.n_episodes == 5  # 2 demonstrations, then the graph's 3 episodes
        assert list(store.episodes["demo"]) == [True, True, False, False, False]
        assert list(store.episodes["operator"]) == ["demo", "demo", "sim", "sim", "sim"]
    with open(run_dir / "metrics.csv") as f:  # the graph's episodes continue the numbering
        assert [int(row["episode"]) for row in csv.DictReader(f)] == [2, 3, 4]
    assert verify(run_dir / "replay.zarr") == []
    # a second run into the same folder is refused unless it resumes
    r2 = train("--episodes", "3", "--run-dir", str(run_dir), *TINY)
    assert r2.returncode == 2 and "--resume" in r2.stderr


@pytest.mark.e2e
def test_an_empty_training_subset_waits_and_never_stops_the_run(tmp_path):
    """HG-DAgger trains on operator rows only; with no operator there are none. The learner
    reports it waits for its subset (the accelerated cell does not wait for it) and keeps
    serving: no fault, every episode runs, no update."""
    run_dir = tmp_path / "run"
    r = train("--operator", "none", "--episodes", "3", "--run-dir", str(run_dir), "--json", *TINY,
              "--set", "agent.algo=hg-dagger", "--set", "agent.warmup_rows=10")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "[fault]" not in r.stderr, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["episodes"] == 3 and summary["stopped"] == "done" and summary["learner_updates"] == 0
    assert "waiting_for_subset" in (run_dir / "logs" / "learner.log").read_text()


@pytest.mark.e2e
@pytest.mark.slow
def test_whole_graph_sigkill_then_train_resume_continues(tmp_path):
    run_dir = tmp_path / "run"
    p = subprocess.Popen([*RLIF, "train", "--episodes", "6", "--run-dir", str(run_dir), "--quiet", *TINY],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def committed():
            path = run_dir / "replay.zarr"
            if not (path / "zarr.json").exists():
                return 0
            with ReplayStore.open(path, readonly=True) as s:
                return s.n_episodes
        wait_for(lambda: committed() >= 2 and latest_checkpoint(run_dir / "checkpoints"), 240,
                 interval=0.2, what="two committed episodes and a checkpoint")
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # launcher and every node at once: no clean shutdown
        p.wait(10)
    before = committed()
    assert before < 6
    r = train("--resume", "--run-dir", str(run_dir), "--json", timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["stopped"] == "done"
    with ReplayStore.open(run_dir / "replay.zarr", readonly=True) as store:
        assert store.n_episodes == 6
    assert verify(run_dir / "replay.zarr") == []
    log = (run_dir / "logs" / "learner.log").read_text()
    assert "resumed from checkpoint" in log
    with open(run_dir / "metrics.csv") as f:
        episodes = [int(r["episode"]) for r in csv.DictReader(f)]
    assert episodes == sorted(set(episodes)) and episodes[-1] == 5


@pytest.mark.graph
@pytest.mark.slow
def test_learner_sigkill_restart_with_resume_continues_training(tmp_path):
    run_dir = tmp_path / "run"
    sets = [s for s in TINY if s != "--set"] + ["graph.accelerated=true", "cell.episode_steps=20"]
    cfg = write_run_config(run_dir, sets)
    g = GraphSession({"name": "test", "nodes": ["cell", "actor", "mux", "recorder", "learner"]}, cfg, run_dir,
                     "sim", resume=False, out=lambda s: None)
    with g:
        status = lambda: g.monitor.snapshot()[0].get("learner", {})  # noqa: E731
        wait_for(lambda: latest_checkpoint(run_dir / "checkpoints") and status().get("updates", 0) >= 30, 240,
                 interval=0.2, what="a checkpoint and 30 updates")
        g.launcher.procs["learner"].proc.send_signal(signal.SIGKILL)
        g.launcher.procs["learner"].proc.wait(10)
        ckpt = latest_checkpoint(run_dir / "checkpoints")
        saved = int(ckpt.stem.split("-")[1])
        time.sleep(1.0)
        g.launcher.restart("learner", resume=True)
        t0 = time.monotonic()
        wait_for(lambda: status().get("uptime_s", 1e9) < time.monotonic() - t0 + 1.0, 60, what="restarted learner")
        first = wait_for(lambda: status().get("updates") if status().get("uptime_s", 1e9) < 30 else None, 60,
                         what="restarted learner status")
        assert first >= saved  # resumed from the checkpoint, not from zero
        wait_for(lambda: status().get("updates", 0) > saved + 10, 120, what="training continues")
    assert verify(run_dir / "replay.zarr") == []
