"""`rlif train --profile robot-twin` end to end: the real-arm graph (Franka bridge) against the
twin in franka mode over franka_ros2 topics; episodes run, resets move the arm to new start poses;
`--record-mcap` keeps the Franka state and the targets we sent beside the /rlif topics."""
from __future__ import annotations

import collections
import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from learner.replay import ReplayStore
from learner.replay_verify import verify
from tests.robot_stack.test_mcap_writer import read

RLIF = [sys.executable, "-m", "robot_stack.cli.main"]
TINY = ["--set", "agent.hidden=[32, 32]", "--set", "agent.n_critics=2", "--set", "agent.warmup_rows=10",
        "--set", "agent.batch_size=8", "--set", "agent.utd=1", "--set", "agent.threads=1",
        "--set", "cell.episode_steps=15"]


@pytest.mark.e2e
def test_train_robot_twin_runs_episodes_through_the_bridge(tmp_path):
    run_dir = tmp_path / "run"
    r = subprocess.run([*RLIF, "train", "--profile", "robot-twin", "--episodes", "3", "--run-dir", str(run_dir),
                        "--record-mcap", "--json", *TINY], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "[fault]" not in r.stderr, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["episodes"] == 3 and summary["stopped"] == "done" and summary["env_steps"] == 45
    for name in ("logs/franka_bridge.log", "logs/twin_franka.log", "metrics.csv", "report.md"):
        assert (run_dir / name).exists(), name
    nice = re.search(r"niceness (\d+) \(graph.learner_nice=10\)", (run_dir / "logs" / "learner.log").read_text())
    assert nice and int(nice.group(1)) >= 10  # the wall-clock graph's learner yields the CPU
    with ReplayStore.open(run_dir / "replay.zarr", readonly=True) as store:
        assert store.n_episodes == 3 and set(store.episodes["cell"]) == {"franka"}
        obs, episode, step = store.column("obs"), store.column("episode"), store.column("step")
    assert verify(run_dir / "replay.zarr") == []
    firsts = obs[step == 0, :3]  # each episode starts where its reset motion ended
    assert np.all(np.abs(firsts[:, :2]) <= 0.02 + 0.004) and np.all((firsts[:, 2] > 0.03 - 0.004)
                                                                     & (firsts[:, 2] < 0.05 + 0.004))
    assert len({tuple(np.round(f, 3)) for f in firsts}) == 3  # a new random start each time
    for e in range(3):  # the policy's targets moved the twin's arm through the bridge
        assert np.ptp(obs[episode == e, :3], axis=0).max() > 1e-3
    # MCAP: franka_ros2's state and our targets, decoded with their ROS 2 schemas, beside /rlif
    got = read(sorted((run_dir / "mcap").glob("rlif_*.mcap"))[0])
    per_topic = collections.Counter(t for t, *_ in got)
    schemas = {t: s for t, s, *_ in got}
    franka = {"/franka_robot_state_broadcaster/current_pose": "geometry_msgs/msg/PoseStamped",
              "/franka_robot_state_broadcaster/external_wrench_in_stiffness_frame": "geometry_msgs/msg/WrenchStamped",
              "/franka_robot_state_broadcaster/measured_joint_states": "sensor_msgs/msg/JointState"}
    assert {t: schemas.get(t) for t in franka} == franka
    assert all(per_topic[t] >= 45 for t in franka), per_topic  # the state outpaces the 10 Hz steps
    targets = [m for t, _, m, _ in got if t.endswith("/equilibrium_pose")]
    assert len(targets) >= 45 and {m.header.frame_id for m in targets} == {"fr3_link0"}
    # every step executed once (a step whose command missed its deadline is held, not commanded)
    missed = sum(int(row["missed_deadlines"]) for row in csv.DictReader(open(run_dir / "metrics.csv")))
    assert per_topic["/rlif/observation"] == 45 and per_topic["/rlif/command"] >= 45 - missed
    assert per_topic["/rlif/step"] == 45 + 3  # each step as executed, then each episode's end
