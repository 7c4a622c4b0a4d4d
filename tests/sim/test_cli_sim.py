"""`rlif sim rollout` and `rlif bench sim` end to end (in-process through the CLI's main)."""
import json

import pytest

from robot_stack.cli.main import main
from sim import bench


@pytest.mark.e2e
def test_rollout_writes_summary_gif_and_strip(tmp_path, capsys):
    out = tmp_path / "ro"
    rc = main(["sim", "rollout", "--expert", "high", "--episodes", "2", "--out", str(out), "--json"])
    assert rc == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["episodes"] == 2 and 0.0 <= last["success_rate"] <= 1.0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["per_episode"]) == 2
    assert (out / "episode.gif").stat().st_size > 10_000 and (out / "strip.png").stat().st_size > 5_000


@pytest.mark.e2e
def test_rollout_rejects_bad_expert(tmp_path, capsys):
    assert main(["sim", "rollout", "--expert", "superb", "--out", str(tmp_path)]) == 2
    assert "--expert" in capsys.readouterr().err


@pytest.mark.unit
def test_bench_quick_reports_the_target_keys():
    r = bench.run(quick=True, progress=False)
    assert r["real_time_factor"] > 0 and r["physics_steps_per_s"] > 0
    assert r["control_periods"] > 0 and 0.0 <= r["contact_fraction"] <= 1.0
    assert r["wrist_frame_ms_64"] > 0 and r["wrist_frame_ms_128"] > 0  # headless GL works on this machine
