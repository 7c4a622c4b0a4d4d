"""`rlif experiment` and `rlif reference` through the real entry point: tiny-budget runs, the
--json lines, the files, a re-run of the same folder skipping the finished cells, and clear errors
for a bad method, an unknown operator, a missing or wrong reference file."""
import json
import subprocess
import sys

import pytest

from learner.experiment_runner import usable_cores

pytestmark = pytest.mark.e2e
RLIF = [sys.executable, "-m", "robot_stack.cli.main"]
TINY = ["--methods", "rlif,hg-dagger,bc", "--steps", "30", "--eval-every", "30", "--eval-episodes", "1",
        "--demo-episodes", "1", "--final-episodes", "2", "--quiet", "--set", "cell.episode_steps=30",
        "--set", "agent.hidden=[32, 32]", "--set", "agent.warmup_rows=20", "--set", "agent.batch_size=16"]


def rlif(*args, timeout=400):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def ref_file(tmp_path_factory):
    """A reference made by the real command, tiny budget (the judge and the experts of the test runs)."""
    d = tmp_path_factory.mktemp("reference")
    r = rlif("reference", "train", "--steps", "120", "--snapshot-every", "40", "--coarse-episodes", "1",
             "--fine-episodes", "1", "--demo-episodes", "1", "--set", "cell.episode_steps=30",
             "--set", "agent.hidden=[32, 32]", "--set", "agent.warmup_rows=20", "--set", "agent.batch_size=16",
             "--run-dir", str(d), "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(out["levels"]) == {"low", "mid", "high"} and out["train_env_steps"] >= 120
    assert len(list((d / "snapshots").glob("actor-*.safetensors"))) >= 2  # at episode ends past 40, 80, ..
    return d / "reference.safetensors"


def test_reference_show_prints_levels_and_command(ref_file):
    r = rlif("reference", "show", str(ref_file), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(d["levels"]) == {"low", "mid", "high"} and d["command"].startswith("rlif reference train")
    r = rlif("reference", "show", str(ref_file.parent / "missing.safetensors"))
    assert r.returncode == 1 and "rlif reference train" in r.stderr and "Traceback" not in r.stderr


def test_reference_report_writes_the_curve_and_the_judge_table(ref_file, tmp_path):
    r = rlif("reference", "report", str(ref_file), "--out", str(tmp_path / "rep"), "--episodes", "2")
    assert r.returncode == 0, r.stderr[-2000:]
    md = (tmp_path / "rep" / "judge.md").read_text()
    assert "| do nothing (zeros) |" in md and "| random |" in md and "flagged at 1.0%" in md
    assert (tmp_path / "rep" / "training.png").stat().st_size > 0
    r = rlif("reference", "report", str(ref_file), "--out", str(tmp_path / "x"), "--episodes", "0")
    assert r.returncode == 2 and "--episodes" in r.stderr


def test_experiment_smoke_json_files_and_resume(tmp_path, ref_file):
    args = [*TINY, "--set", f"operator.reference={ref_file}", "--run-dir", str(tmp_path)]
    r = rlif("experiment", *args, "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{min(3, usable_cores())} worker(s)" in r.stderr  # the default: a cell per usable core
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(out["expert_success"]) == {"mid"}
    assert [x["method"] for x in out["methods"]] == ["rlif", "hg-dagger", "bc"]
    for m in out["methods"]:
        assert {"held_out", "held_out_lo", "held_out_hi", "deploy_human_rate"} <= set(m)
    assert all(x["expert"] == "mid" and x["env_steps"] >= 30 for x in out["cells"])
    for name in ("results.csv", "curves.png", "report.md", "config.yaml", "cells/bc-mid-s0.json"):
        assert (tmp_path / name).exists(), name
    assert "Training operator: `human`, the human model" in (tmp_path / "report.md").read_text()  # the presets'
    before = (tmp_path / "cells" / "bc-mid-s0.json").stat().st_mtime_ns
    r = rlif("experiment", *args)  # nothing left to do: the table from the saved cells
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "cells" / "bc-mid-s0.json").stat().st_mtime_ns == before
    assert "hg-dagger" in r.stdout and "held-out" in r.stdout
    (tmp_path / "cells" / "bc-mid-s0.json").unlink()  # a grid still running: report what is finished
    r = rlif("experiment", *args, "--report-only", "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    assert [m["method"] for m in json.loads(r.stdout.strip().splitlines()[-1])["methods"]] == ["rlif", "hg-dagger"]
    assert "Partial: 2 of 3 cells" in (tmp_path / "report.md").read_text()
    assert not (tmp_path / "cells" / "bc-mid-s0.json").exists()  # nothing was run
    r = rlif("experiment", *args[:-2], "--run-dir", str(tmp_path / "empty"), "--report-only")
    assert r.returncode == 1 and "no finished cells" in r.stderr


def test_experiment_rejects_bad_input_clearly(tmp_path):
    r = rlif("experiment", "--methods", "ppo", "--run-dir", str(tmp_path / "a"))
    assert r.returncode == 2 and "ppo" in r.stderr and "Traceback" not in r.stderr
    r = rlif("experiment", "--set", "operator.strategy=psychic", "--run-dir", str(tmp_path / "b"))
    assert r.returncode == 2 and "operator.strategy" in r.stderr and "Traceback" not in r.stderr
    r = rlif("experiment", "--set", f"operator.reference={tmp_path / 'none.safetensors'}", "--run-dir",
             str(tmp_path / "c"))
    assert r.returncode == 1 and "rlif reference train" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "actor.safetensors"  # an actor file is not a reference file
    from learner.agents import make_agent
    from learner.config import AgentConfig
    bad.write_bytes(make_agent(AgentConfig(hidden=(8,), n_critics=2), 18, 6, seed=0).export_actor())
    r = rlif("experiment", "--set", f"operator.reference={bad}", "--run-dir", str(tmp_path / "d"))
    assert r.returncode == 1 and "rlif-reference" in r.stderr and "Traceback" not in r.stderr


def test_experiment_with_image_observations_runs_and_says_what_the_learners_saw(tmp_path, ref_file):
    args = ["--methods", "rlif,bc", *TINY[2:], "--set", "vision.image_size=24", "--set", "agent.encoder_channels=8",
            "--set", f"operator.reference={ref_file}", "--run-dir", str(tmp_path)]
    r = rlif("experiment", "--obs", "image", *args, "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["observation"] == "state + wrist 24 px" and [m["method"] for m in out["methods"]] == ["rlif", "bc"]
    assert "Observation of the learners: state + wrist 24 px" in (tmp_path / "report.md").read_text()
    from learner.policy import Policy
    actor = Policy.load(tmp_path / "actors" / "rlif-mid-s0.safetensors", 18, 6, cameras=("wrist",), image_size=24)
    assert actor.meta["format"] == 3 and actor.n_updates > 0
    # state-only cells of the same folder are other cells (their fingerprint leaves vision out)
    k = args.index("vision.image_size=24")
    r = rlif("experiment", *args[:k - 1], *args[k + 1:], "--report-only")  # the same settings, state only
    assert r.returncode == 1 and "no finished cells" in r.stderr


def test_obs_flag_and_vision_size_must_agree(tmp_path):
    r = rlif("experiment", "--obs", "state", "--set", "vision.image_size=64", "--run-dir", str(tmp_path / "a"))
    assert r.returncode == 2 and "--obs state but vision.image_size=64" in r.stderr and "Traceback" not in r.stderr
    r = rlif("experiment", "--obs", "image", "--set", "vision.image_size=0", "--run-dir", str(tmp_path / "b"))
    assert r.returncode == 2 and "--obs image" in r.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.graph
def test_train_with_image_observations_stores_frames_and_trains_an_image_actor(tmp_path):
    run = tmp_path / "run"
    r = rlif("train", "--profile", "sim-vision", "--episodes", "2", "--set", "vision.image_size=24", "--set", "agent.encoder_channels=8",
             "--set", "cell.episode_steps=20", "--set", "train.demo_episodes=1", "--set", "agent.warmup_rows=15",
             "--set", "agent.hidden=[32, 32]", "--set", "agent.batch_size=16", "--run-dir", str(run), "--json",
             timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["episodes"] == 2 and out["learner_updates"] >= 1, out
    from learner.policy import Policy
    from learner.replay import ReplayStore
    with ReplayStore.open(run / "replay.zarr", readonly=True) as store:  # the demos and the graph's episodes
        assert store.images == {"wrist": (24, 24, 3)} and store.n_episodes == 3
        frames = store.column("image_wrist")
        assert len(frames) == store.n_rows and len({f.tobytes() for f in frames}) > 1
    actor = Policy.load(run / "checkpoints" / "actor.safetensors", 18, 6, cameras=("wrist",), image_size=24)
    assert actor.n_updates >= 1
