"""`rlif store inspect|verify` and `rlif bench replay` as real subprocesses."""
import json
import subprocess
import sys

import numpy as np
import pytest

from learner.replay import ReplayStore, Source

RLIF = [sys.executable, "-m", "robot_stack.cli.main"]
pytestmark = pytest.mark.e2e


def run(*args, timeout=120):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout)


def last_json(r):
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def run_dir(tmp_path):
    with ReplayStore.create(tmp_path / "replay.zarr", ["a", "b"], ["x"]) as s:
        for ep in range(3):
            for step in range(4):
                iv = ep == 1 and step >= 2
                s.append(np.ones(2), np.zeros(1), np.zeros(1), Source.HUMAN if iv else Source.POLICY, iv)
            s.end_episode(terminal=ep == 2, success=ep == 2, truncated=ep != 2, operator="alice", cell="sim")
    return tmp_path


def test_inspect_json(run_dir):
    r = run("store", "inspect", str(run_dir), "--json")  # a run folder holding replay.zarr
    assert r.returncode == 0, r.stderr
    info = last_json(r)
    assert info["n_rows"] == 12 and info["n_episodes"] == 3
    assert info["success_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert info["intervention_rate"] == pytest.approx(2 / 12, abs=1e-3)
    assert info["last_episode"]["success"] is True and info["operators"] == ["alice"]
    assert info["images"] == {}
    r = run("store", "inspect", str(run_dir / "replay.zarr"))
    assert r.returncode == 0 and "n_episodes" in r.stdout


def test_verify_ok_then_damaged(run_dir):
    r = run("store", "verify", str(run_dir / "replay.zarr"))
    assert r.returncode == 0 and r.stdout.startswith("ok:"), r.stdout + r.stderr
    path = run_dir / "replay.zarr" / "zarr.json"
    doc = json.loads(path.read_text())
    doc["attributes"]["n_committed_rows"] = 11  # counters no longer match the episodes table
    path.write_text(json.dumps(doc))
    r = run("store", "verify", str(run_dir))
    assert r.returncode == 1
    assert "episode lengths sum to 12, n_committed_rows is 11" in r.stderr and "Traceback" not in r.stderr
    r = run("store", "verify", str(run_dir), "--json")
    assert r.returncode == 1 and last_json(r)["ok"] is False and last_json(r)["problems"]
    path.write_text("{not json")
    r = run("store", "inspect", str(run_dir))
    assert r.returncode == 1 and "damaged metadata" in r.stderr and "Traceback" not in r.stderr


def test_inspect_lists_the_cameras(tmp_path):
    with ReplayStore.create(tmp_path / "replay.zarr", ["a"], ["x"], images={"wrist": (4, 4, 3)}) as s:
        s.append(np.ones(1), np.zeros(1), np.zeros(1), Source.POLICY, False,
                 images={"wrist": np.zeros((4, 4, 3), np.uint8)})
        s.end_episode(terminal=True, success=True)
    r = run("store", "inspect", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    assert last_json(r)["images"] == {"wrist": [4, 4, 3]}


def test_bench_replay_quick_json():
    r = run("bench", "replay", "--quick", "--images", "--json", timeout=300)
    assert r.returncode == 0, r.stderr
    out = last_json(r)
    for k in ("append_rows_per_s", "sample_p50_ms", "sample_p99_ms", "reopen_1m_s", "ram_bytes_per_row",
              "images_append_rows_per_s", "images_sample_p50_ms", "image_rows_fit_in_ram_64"):
        assert out[k] > 0  # values are reported, never asserted against targets
    assert out["images_ram_bytes_per_row"] > 64 * 64 * 3  # a frame per row, in RAM
