"""`--logger`, `--record-mcap` and episode videos through the real entry point: a tiny `rlif train`
on the twin whose TensorBoard events, MCAP file and mp4s are read back with the libraries' own
readers; bad input and missing packages (blocked on import in a child process) are one line,
exit 1, nothing written."""
from __future__ import annotations

import collections
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.learner.test_loggers import tb_scalars
from tests.robot_stack.test_mcap_writer import read
from tests.sim.test_video import decode

RLIF = [sys.executable, "-m", "robot_stack.cli.main"]
REPO = Path(__file__).resolve().parents[2]
TINY = ["--set", "agent.hidden=[32, 32]", "--set", "agent.n_critics=2", "--set", "agent.warmup_rows=40",
        "--set", "agent.batch_size=32", "--set", "agent.utd=1", "--set", "agent.threads=1",
        "--set", "cell.episode_steps=30", "--set", "train.checkpoint_every=20"]
# every /rlif message type a twin run publishes (Joy comes from a spacemouse or keyboard only)
TWIN_TYPES = {"std_msgs/msg/Float64MultiArray", "geometry_msgs/msg/TwistStamped", "std_msgs/msg/Bool",
              "std_msgs/msg/String", "std_msgs/msg/UInt8MultiArray", "sensor_msgs/msg/CompressedImage"}


@pytest.mark.e2e
def test_train_logs_to_tensorboard_records_mcap_and_films_episodes(tmp_path):
    run_dir = tmp_path / "run"
    r = subprocess.run([*RLIF, "train", "--episodes", "3", "--run-dir", str(run_dir), "--logger", "tensorboard",
                        "--record-mcap", "--set", "train.video_every=2", "--set", "train.log_every_updates=5",
                        "--set", "cell.render=true", *TINY], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "[fault]" not in r.stderr, r.stderr[-3000:]
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    numbers = [int(row["episode"]) for row in rows]  # after any demonstrations the profile seeds
    lengths = [int(row["length"]) for row in rows]
    assert len(rows) == 3 and numbers == list(range(numbers[0], numbers[0] + 3))
    # TensorBoard: one point per episode from the recorder, the learner's means every 5 updates
    episodes = tb_scalars(run_dir / "tensorboard" / "episodes")
    assert [s for s, _ in episodes["episode/success"]] == numbers
    assert [v for _, v in episodes["episode/length"]] == lengths
    assert {"episode/autonomous", "episode/intervention_rate", "episode/policy_version"} <= set(episodes)
    learner = tb_scalars(run_dir / "tensorboard" / "learner")
    assert {"critic_loss", "actor_loss", "alpha", "q_mean", "updates_per_s", "policy_version"} <= set(learner), set(learner)
    assert [s for s, _ in learner["critic_loss"]][:2] == [5, 10]
    # MCAP: every message decodes with the ROS 2 schemas; one observation per control step
    files = sorted((run_dir / "mcap").glob("rlif_*.mcap"))
    assert len(files) == 1
    got = read(files[0])
    per_topic = collections.Counter(t for t, *_ in got)
    assert {s for _, s, *_ in got} == TWIN_TYPES
    assert per_topic["/rlif/observation"] == sum(lengths) and per_topic["/rlif/command"] >= sum(lengths)
    # videos of the even-numbered episodes: a frame per step plus the reset; the replay matched the cell
    for ep, n in zip(numbers, lengths):
        path = run_dir / "videos" / f"episode-{ep:05d}.mp4"
        assert (len(decode(path)[0]) == n + 1) if ep % 2 == 0 else not path.exists(), ep
    assert "did not end where the cell did" not in (run_dir / "logs" / "video.log").read_text()
    filmed = sorted((ep for ep in numbers if ep % 2 == 0), reverse=True)
    report = (run_dir / "report.md").read_text()
    assert ", ".join(f"[episode-{e:05d}](videos/episode-{e:05d}.mp4)" for e in filmed) in report


@pytest.mark.e2e
def test_up_logs_to_offline_wandb_runs(tmp_path):
    from tests.learner import wandb_records

    r = subprocess.run([*RLIF, "up", "sim", "--episodes", "2", "--run-dir", str(tmp_path), "--logger", "wandb",
                        "--set", "train.log_every_updates=5", *[s.replace("=40", "=20") for s in TINY]],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    runs = {}
    for path in tmp_path.glob("wandb/offline-run-*/run-*.wandb"):
        runs[wandb_records.run_record(path).job_type] = (wandb_records.run_record(path), wandb_records.history(path))
    assert set(runs) == {"learner", "episodes"}
    run, rows = runs["episodes"]
    assert run.run_group == tmp_path.name and [x["_step"] for x in rows] == [0, 1]
    assert all(x["episode/length"] == 30 for x in rows)
    run, rows = runs["learner"]
    assert rows and all(x["_step"] % 5 == 0 and "critic_loss" in x and "policy_version" in x for x in rows)


@pytest.mark.e2e
def test_experiment_logs_each_cell_once(tmp_path):
    small = ["--set", "cell.episode_steps=30", "--set", "agent.hidden=[32, 32]", "--set", "agent.warmup_rows=20",
             "--set", "agent.batch_size=16"]
    r = subprocess.run([*RLIF, "reference", "train", "--steps", "120", "--snapshot-every", "40", "--coarse-episodes",
                        "1", "--fine-episodes", "1", "--demo-episodes", "1", *small, "--run-dir", str(tmp_path / "ref")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    args = [*RLIF, "experiment", "--methods", "rlif,bc", "--steps", "30", "--eval-every", "30", "--eval-episodes", "1",
            "--demo-episodes", "1", "--final-episodes", "2", "--quiet", *small, "--set",
            f"operator.reference={tmp_path / 'ref' / 'reference.safetensors'}", "--run-dir", str(tmp_path / "exp"),
            "--logger", "tensorboard"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    curves = tb_scalars(tmp_path / "exp" / "tensorboard" / "rlif-mid-s0")
    assert [s for s, _ in curves["success"]] == [0, 30] and curves["updates"][-1][1] > 0
    assert "final/held_out/success" in curves and "final/success" in curves
    assert set(p.name for p in (tmp_path / "exp" / "tensorboard").iterdir()) == {"rlif-mid-s0", "bc-mid-s0"}
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)  # resumed: every cell done already
    assert r.returncode == 0, r.stderr[-3000:]
    steps = lambda c: {tag: [s for s, _ in points] for tag, points in c.items()}  # noqa: E731
    assert steps(tb_scalars(tmp_path / "exp" / "tensorboard" / "rlif-mid-s0")) == steps(curves)  # not logged twice
    assert len(list((tmp_path / "exp" / "tensorboard" / "rlif-mid-s0").iterdir())) == 1


@pytest.mark.unit
@pytest.mark.parametrize("command", [["train"], ["up", "sim"], ["experiment"]])
def test_an_unknown_logger_is_one_line_and_writes_nothing(tmp_path, command):
    run_dir = tmp_path / "run"
    r = subprocess.run([*RLIF, *command, "--logger", "tensorbord", "--run-dir", str(run_dir)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines() == [
        f"rlif {command[0]}: --logger 'tensorbord': unknown logger; use one of none, tensorboard, wandb "
        "(nothing was written)"]
    assert not run_dir.exists()


BLOCKED = ("tensorboard", "wandb", "mcap", "mcap_ros2", "imageio_ffmpeg", "pyarrow")
SITECUSTOMIZE = f'''
import sys
class _Block:  # these packages are "not installed" in this process and every node it starts
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, _Block())
'''


def run_blocked(tmp_path: Path, *args):
    """`rlif ARGS` with the optional packages blocked on import (a sitecustomize on PYTHONPATH, so the
    graph's node processes inherit it)."""
    import os

    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(REPO)]))
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.unit
def test_the_blocker_hides_installed_packages(tmp_path):
    probe = "import importlib.util, tensorboard; print('installed')"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout == "installed\n"
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    import os

    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(site)))
    assert r.returncode == 1 and "No module named 'tensorboard'" in r.stderr


@pytest.mark.unit
@pytest.mark.parametrize("command, option, what, module", [
    (["train"], ["--logger", "tensorboard"], "--logger tensorboard", "tensorboard"),
    (["up", "sim"], ["--logger", "wandb"], "--logger wandb", "wandb"),
    (["experiment"], ["--logger", "wandb"], "--logger wandb", "wandb"),
    (["train"], ["--record-mcap"], "--record-mcap", "mcap"),
    (["up", "sim"], ["--set", "train.video_every=5"], "episode videos (train.video_every)", "imageio_ffmpeg"),
])
def test_without_the_package_the_command_says_how_to_install_it(tmp_path, command, option, what, module):
    from learner.optional import PINS

    run_dir = tmp_path / "run"
    r = run_blocked(tmp_path, *command, *option, "--run-dir", str(run_dir))
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines() == [
        f"rlif {command[0]}: {what} needs the {module} package, which is not installed: "
        f".venv/bin/python -m pip install {PINS[module]} (pinned in requirements.txt); nothing was written"]
    assert not run_dir.exists()


@pytest.mark.e2e
def test_without_the_packages_a_plain_run_still_works(tmp_path):
    r = run_blocked(tmp_path, "up", "sim", "--episodes", "1", "--run-dir", str(tmp_path / "run"),
                    *[s.replace("=40", "=20") for s in TINY])
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "run" / "replay.zarr").is_dir() and not (tmp_path / "run" / "tensorboard").exists()
