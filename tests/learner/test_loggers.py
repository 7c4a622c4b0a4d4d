"""learner/loggers.py and learner/experiment_log.py: what is written is read back with the
libraries' own readers (TensorBoard's EventAccumulator; W&B's own protobuf records), the
optional packages stay optional, and a failing sink never stops the caller."""
from __future__ import annotations

import glob
import math
import subprocess
import sys
from pathlib import Path

import pytest

from learner.experiment_log import log_cell
from learner.loggers import KINDS, NoLogger, check, guarded, make_logger
from learner.optional import PINS, OptionalMissing
from tests.learner import wandb_records

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]


def tb_scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(logdir))
    ea.Reload()
    return {tag: [(e.step, e.value) for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]}


def wandb_file(run_dir: Path) -> Path:
    found = glob.glob(str(run_dir / "wandb" / "offline-run-*" / "run-*.wandb"))
    assert len(found) == 1, found
    return Path(found[0])


def test_tensorboard_events_read_back(tmp_path):
    log = make_logger("tensorboard", tmp_path, "learner")
    for k in range(4):
        log.log({"critic_loss": 0.5 * k, "alpha": 1.0 / (k + 1), "paused": False, "state": "training"}, 100 * k)
    log.summary({"success": 0.75})
    log.close()
    got = tb_scalars(tmp_path / "tensorboard" / "learner")
    assert set(got) == {"critic_loss", "alpha", "paused", "final/success"}  # the string is skipped
    assert got["critic_loss"] == [(0, 0.0), (100, 0.5), (200, 1.0), (300, 1.5)]
    assert [s for s, _ in got["alpha"]] == [0, 100, 200, 300]
    assert got["alpha"][3][1] == pytest.approx(0.25)
    assert got["final/success"] == [(300, 0.75)]


def test_wandb_offline_run_read_back(tmp_path):
    run_dir = tmp_path / "20260101-sim"
    log = make_logger("wandb", run_dir, "episodes", project="rlif-test", config={"agent": {"utd": 4}})
    for ep in range(3):
        log.log({"episode/success": ep % 2, "episode/length": 30 + ep, "episode/intervention_rate": 0.1 * ep}, ep)
    log.summary({"autonomous_success_rate": 0.5})
    log.close()
    path = wandb_file(run_dir)
    rows = wandb_records.history(path)
    assert [r["_step"] for r in rows] == [0, 1, 2]
    assert [r["episode/length"] for r in rows] == [30, 31, 32]
    assert [r["episode/success"] for r in rows] == [0, 1, 0]
    assert rows[2]["episode/intervention_rate"] == pytest.approx(0.2)
    assert wandb_records.summary(path)["autonomous_success_rate"] == 0.5
    run = wandb_records.run_record(path)
    assert (run.project, run.run_group, run.job_type) == ("rlif-test", "20260101-sim", "episodes")
    assert not (run_dir / "wandb" / "offline-run-x").exists()


def test_log_cell_writes_the_curve_and_final_numbers_once(tmp_path):
    result = {"method": "rlif", "expert": "mid", "seed": 0, "algo": "rlpd", "success": 0.8, "fingerprint": "ab",
              "points": [{"env_steps": 0, "success": 0.0, "intervention_rate": math.nan, "updates": 0},
                         {"env_steps": 500, "success": 0.4, "intervention_rate": 0.3, "updates": 460},
                         {"env_steps": 1000, "success": 0.8, "intervention_rate": 0.1, "updates": 960}],
              "final": {"held_out": {"success": 0.9, "episodes": 20}, "shifted": {"success": 0.7}}}
    assert log_cell("tensorboard", tmp_path, "rlif-mid-s0", result)
    assert not log_cell("tensorboard", tmp_path, "rlif-mid-s0", result)  # resumed: not logged twice
    assert not log_cell("none", tmp_path, "rlif-mid-s1", result)
    got = tb_scalars(tmp_path / "tensorboard" / "rlif-mid-s0")
    assert got["success"] == [(0, 0.0), (500, pytest.approx(0.4)), (1000, pytest.approx(0.8))]
    assert math.isnan(got["intervention_rate"][0][1]) and got["updates"][-1] == (1000, 960)
    assert got["final/held_out/success"] == [(1000, pytest.approx(0.9))]
    assert got["final/shifted/success"] == [(1000, pytest.approx(0.7))]
    assert got["final/success"] == [(1000, pytest.approx(0.8))]
    assert "env_steps" not in got and not any("fingerprint" in t for t in got)


def test_a_failing_logger_is_reported_once_and_then_off():
    class Broken(NoLogger):
        kind = "tensorboard"
        calls = 0

        def log(self, metrics, step):
            Broken.calls += 1
            raise OSError(28, "No space left on device")

    errors = []
    log = guarded(Broken(), errors.append)
    for k in range(3):
        log.log({"x": 1.0}, k)
    log.close()
    assert Broken.calls == 1 and len(errors) == 1
    assert errors[0].startswith("tensorboard logger stopped: OSError")


def test_unknown_logger_is_one_line():
    with pytest.raises(ValueError, match=r"^unknown logger 'tensorbord': expected one of none, tensorboard, wandb$"):
        check("tensorbord")
    assert KINDS == ("none", "tensorboard", "wandb")


BLOCK = '''
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorboard", "wandb"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Block())
'''


def test_without_the_packages_none_works_and_the_others_say_how_to_install(tmp_path):
    code = BLOCK + f'''
sys.path.insert(0, {str(REPO)!r})
from learner.loggers import make_logger
from learner.optional import OptionalMissing
make_logger("none", {str(tmp_path)!r}, "x").log({{"a": 1}}, 0)
for kind in ("tensorboard", "wandb"):
    try:
        make_logger(kind, {str(tmp_path)!r}, "x")
    except OptionalMissing as e:
        print(e)
'''
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines == [
        "--logger tensorboard needs the tensorboard package, which is not installed: "
        ".venv/bin/python -m pip install tensorboard==2.21.0 (pinned in requirements.txt)",
        "--logger wandb needs the wandb package, which is not installed: "
        ".venv/bin/python -m pip install wandb==0.31.0 (pinned in requirements.txt)"]
    assert not (tmp_path / "tensorboard").exists() and not (tmp_path / "wandb").exists()
    assert issubclass(OptionalMissing, RuntimeError)


def test_optional_pins_match_requirements():
    lines = {ln.split("#")[0].strip() for ln in (REPO / "requirements.txt").read_text().splitlines()}
    assert set(PINS.values()) <= lines, set(PINS.values()) - lines
