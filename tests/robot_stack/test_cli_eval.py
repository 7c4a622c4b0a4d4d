"""`rlif eval` and `rlif bench learner --quick` through the real entry point."""
import json
import subprocess
import sys

import pytest

from learner.agents import make_agent
from learner.checkpoint import save_checkpoint
from learner.config import AgentConfig
from sim.cell import ACTION_LABELS, OBS_LABELS

pytestmark = pytest.mark.e2e
RLIF = [sys.executable, "-m", "robot_stack.cli.main"]


def rlif(*args, timeout=300):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout)


def test_eval_a_checkpoint_folder_and_reject_a_corrupt_file(tmp_path):
    agent = make_agent(AgentConfig(hidden=(32, 32), n_critics=2), len(OBS_LABELS), len(ACTION_LABELS["6d"]), 0)
    ckpt = save_checkpoint(tmp_path / "checkpoints", agent)
    r = rlif("eval", str(tmp_path), "--episodes", "1", "--set", "cell.episode_steps=10", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["episodes"] == 1 and out["success_rate"] in (0.0, 1.0) and out["policy_version"] == 1
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    r = rlif("eval", str(ckpt), "--episodes", "1")
    assert r.returncode == 1 and "truncated" in r.stderr and str(ckpt) in r.stderr and "Traceback" not in r.stderr


def test_eval_a_run_folder_uses_its_saved_cell_config(tmp_path):
    from robot_stack import config as C

    cfg = C.resolve("sim", ["cell.episode_steps=7"])
    C.save(cfg, tmp_path / "config.yaml")
    agent = make_agent(AgentConfig(hidden=(32, 32), n_critics=2), len(OBS_LABELS), len(ACTION_LABELS["6d"]), 0)
    save_checkpoint(tmp_path / "checkpoints", agent)
    r = rlif("eval", str(tmp_path), "--episodes", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["mean_steps"] <= 7


def test_eval_with_zeroed_sensors_names_them_and_rejects_unknown_ones(tmp_path):
    agent = make_agent(AgentConfig(hidden=(32, 32), n_critics=2), len(OBS_LABELS), len(ACTION_LABELS["6d"]), 0)
    save_checkpoint(tmp_path / "checkpoints", agent)
    r = rlif("eval", str(tmp_path), "--episodes", "1", "--set", "cell.episode_steps=5", "--zero-obs", "force,ee_x",
             "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["zeroed_obs"] == ["f_x", "f_y", "f_z", "tq_x", "tq_y", "tq_z", "ee_x"] and out["episodes"] == 1
    r = rlif("eval", str(tmp_path), "--episodes", "1", "--zero-obs", "force,torque_z")
    assert r.returncode == 2 and "'torque_z'" in r.stderr and "ee_x" in r.stderr and "Traceback" not in r.stderr


def test_eval_an_image_actor_renders_its_cameras_at_its_size(tmp_path):
    from sim.config import VisionConfig

    agent = make_agent(AgentConfig(hidden=(32, 32), n_critics=2, encoder_channels=8), len(OBS_LABELS),
                       len(ACTION_LABELS["6d"]), 0, vision=VisionConfig(image_size=24))
    (tmp_path / "actor.safetensors").write_bytes(agent.export_actor())
    r = rlif("eval", str(tmp_path / "actor.safetensors"), "--episodes", "1", "--set", "cell.episode_steps=5",
             "--zero-obs", "force", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["mean_steps"] <= 5


def test_bench_learner_quick_json():
    r = rlif("bench", "learner", "--quick", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["updates_per_s"] > 0 and out["baseline_updates_per_s"] > 0 and "speedup" in out
