"""`rlif experiment` through the real entry point: a tiny-budget run, the --json line, the files,
a re-run of the same folder skipping the finished cells, and a clear error for a bad method."""
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e
RLIF = [sys.executable, "-m", "robot_stack.cli.main", "experiment"]
TINY = ["--methods", "hg-dagger,bc", "--steps", "30", "--eval-every", "30", "--eval-episodes", "1",
        "--demo-episodes", "1", "--quiet", "--set", "cell.episode_steps=30", "--set", "agent.hidden=[32, 32]",
        "--set", "agent.warmup_rows=20", "--set", "agent.batch_size=16"]


def rlif(*args, timeout=300):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout)


def test_experiment_smoke_json_files_and_resume(tmp_path):
    r = rlif(*TINY, "--run-dir", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(out["expert_success"]) == {"mid"}
    assert [x["method"] for x in out["results"]] == ["hg-dagger", "bc"]
    assert all(x["expert"] == "mid" and x["env_steps"] >= 30 for x in out["results"])
    for name in ("results.csv", "curves.png", "report.md", "config.yaml", "cells/bc-mid-s0.json"):
        assert (tmp_path / name).exists(), name
    before = (tmp_path / "cells" / "bc-mid-s0.json").stat().st_mtime_ns
    r = rlif(*TINY, "--run-dir", str(tmp_path))  # nothing left to do: the table from the saved cells
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "cells" / "bc-mid-s0.json").stat().st_mtime_ns == before
    assert "hg-dagger" in r.stdout and "bc" in r.stdout


def test_experiment_rejects_an_unknown_method_clearly(tmp_path):
    r = rlif("--methods", "ppo", "--run-dir", str(tmp_path))
    assert r.returncode == 2 and "ppo" in r.stderr and "Traceback" not in r.stderr
