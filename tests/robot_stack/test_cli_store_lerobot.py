"""`rlif store export --format lerobot` and `rlif store import --as-demos` through the real entry
point: a tiny round trip (the imported store is the exported one, as demonstrations) and bad
input (one line, exit 1, nothing written), pyarrow missing included."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from learner.replay import ReplayStore
from robot_stack import config as cfgmod
from tests.learner.test_lerobot_io import EPISODE, ROWS, assert_same, columns, fill, foreign
from tests.robot_stack.test_cli_outputs import run_blocked

pytestmark = pytest.mark.unit
RLIF = [sys.executable, "-m", "robot_stack.cli.main"]


def rlif(*args):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=120)


def one_line_error(r, command: str, text: str) -> None:
    assert r.returncode == 1, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rlif {command}: ") and text in lines[0], lines


def test_export_then_import_as_demos(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    fill(run / "replay.zarr")
    cfgmod.save(cfgmod.resolve("sim", ["cell.control_hz=20", "graph.deadline_ms=30"]), run / "config.yaml")
    r = rlif("store", "export", str(run), "--format", "lerobot", str(tmp_path / "ds"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    rows, eps = columns(run / "replay.zarr")
    assert (out["episodes"], out["frames"], out["fps"]) == (len(eps["length"]), len(rows["obs"]), 20)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folder left
    r = rlif("store", "import", str(tmp_path / "ds"), "--as-demos", str(tmp_path / "seeded"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["source"] == "rlif"
    rows2, eps2 = columns(tmp_path / "seeded" / "replay.zarr")
    for c in ROWS:
        assert_same(rows[c], rows2[c], c)
    for c in EPISODE:
        assert_same(np.asarray(eps[c]), np.asarray(eps2[c]), c)
    assert eps2["demo"].all() and (tmp_path / "seeded" / "config.yaml").is_file()
    r = rlif("store", "import", str(foreign(tmp_path)), "--as-demos", str(tmp_path / "other"))
    assert r.returncode == 0 and "2 demonstration episodes (7 rows)" in r.stdout, r.stderr
    with ReplayStore.open(tmp_path / "other" / "replay.zarr", readonly=True) as s:
        assert s.n_episodes == 2 and s.episodes["demo"].all()


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    fill(run / "replay.zarr", n_episodes=2)
    (tmp_path / "taken").mkdir()
    r = rlif("store", "export", str(run), "--format", "lerobot", str(tmp_path / "taken"))
    one_line_error(r, "store", "already exists")
    r = rlif("store", "export", str(tmp_path / "nothing"), "--format", "lerobot", str(tmp_path / "ds"))
    assert r.returncode == 1 and "Traceback" not in r.stderr and not (tmp_path / "ds").exists()
    r = rlif("store", "export", str(run), "--format", "rlds", str(tmp_path / "ds"))
    assert r.returncode == 2 and "invalid choice: 'rlds'" in r.stderr
    assert rlif("store", "export", str(run), "--format", "lerobot", str(tmp_path / "ds")).returncode == 0
    # the dataset's action has 6 values, the xyz cell 3: refused before the run folder exists
    r = rlif("store", "import", str(tmp_path / "ds"), "--as-demos", str(tmp_path / "a"), "--set",
             "cell.action_space=xyz")
    one_line_error(r, "store", "action has shape [6], the cell contract has 3 values")
    assert not (tmp_path / "a").exists()
    (tmp_path / "ds" / "meta" / "info.json").write_text("{not json")
    r = rlif("store", "import", str(tmp_path / "ds"), "--as-demos", str(tmp_path / "b"))
    one_line_error(r, "store", "info.json: unreadable")
    assert not (tmp_path / "b").exists()
    r = rlif("store", "import", str(tmp_path / "nowhere"), "--as-demos", str(tmp_path / "c"))
    one_line_error(r, "store", "not a LeRobot dataset (no meta/info.json)")
    r = rlif("store", "import", str(foreign(tmp_path)), "--as-demos", str(run))  # not empty
    one_line_error(r, "store", "exists and is not empty")
    with ReplayStore.create(tmp_path / "frames" / "replay.zarr", ["a"], ["x"], images={"wrist": (4, 4, 3)}) as s:
        s.append(np.ones(1), np.zeros(1), np.zeros(1), 0, False, images={"wrist": np.zeros((4, 4, 3), np.uint8)})
        s.end_episode(terminal=True, success=True)
    r = rlif("store", "export", str(tmp_path / "frames"), "--format", "lerobot", str(tmp_path / "ds2"))
    one_line_error(r, "store", "holds camera frames (wrist)")  # never exported without them
    assert not (tmp_path / "ds2").exists()


def test_without_pyarrow_the_commands_say_how_to_install_it(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    fill(run / "replay.zarr", n_episodes=1)
    r = run_blocked(tmp_path, "store", "export", str(run), "--format", "lerobot", str(tmp_path / "ds"))
    one_line_error(r, "store", "rlif store export --format lerobot needs the pyarrow package, which is not "
                               "installed: .venv/bin/python -m pip install pyarrow==26.0.1")
    r = run_blocked(tmp_path, "store", "import", str(foreign(tmp_path)), "--as-demos", str(tmp_path / "a"))
    one_line_error(r, "store", "rlif store import needs the pyarrow package")
    assert not (tmp_path / "ds").exists() and not (tmp_path / "a").exists()
