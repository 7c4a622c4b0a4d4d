"""The run folder's metrics file: the recorder's CSV (with extra columns), JSONL, damage."""
from __future__ import annotations

import json

import pytest

from robot_stack.supervisor.metrics_file import COLUMNS, read_metrics

pytestmark = pytest.mark.unit
# What the graph's recorder writes: the contract columns first, then its extras.
HEADER = ",".join(COLUMNS + ("takeovers", "reason", "policy_version"))


def test_missing_file_is_no_rows(tmp_path):
    got = read_metrics(tmp_path)
    assert got.path is None and got.rows == [] and got.skipped == 0


def test_csv_rows_are_typed_and_extras_kept(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        f"{HEADER}\n0,1,3,0.1,30,0,12.5,10.0,1,success,2\n1,0,0,0,100,1,13,20.5,0,timeout,-1\n")
    got = read_metrics(tmp_path)
    assert got.skipped == 0 and len(got.rows) == 2
    r0, r1 = got.rows
    assert r0 == {"episode": 0, "success": 1, "interventions": 3, "intervention_rate": 0.1, "length": 30,
                  "autonomous": 0, "updates_per_s": 12.5, "wall_time": 10.0, "takeovers": 1,
                  "reason": "success", "policy_version": 2}
    assert r1["autonomous"] == 1 and r1["updates_per_s"] == 13.0 and r1["policy_version"] == -1


def test_csv_half_written_tail_and_bad_rows(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        f"{HEADER}\n0,1,0,0,30,1,1,1,0,success,0\nx,1,0,0,30,1,1,1,0,?,0\n2,1\n3,true,0,0,9,True,1,1,0,ok,0\n4,0,1")
    got = read_metrics(tmp_path)
    assert [r["episode"] for r in got.rows] == [0, 3] and got.skipped == 2
    assert got.rows[1]["success"] == 1 and got.rows[1]["autonomous"] == 1


def test_jsonl_when_there_is_no_csv(tmp_path):
    rows = [{"episode": 0, "success": True, "interventions": 2, "intervention_rate": 0.02, "length": 100,
             "autonomous": False, "updates_per_s": 3.5, "wall_time": 4.0}, {"episode": 1.0, "success": 0}]
    text = "\n".join(json.dumps(r) for r in rows) + "\n[1,2]\n{\"episode\": 2, \"succ"
    (tmp_path / "metrics.jsonl").write_text(text)
    got = read_metrics(tmp_path)
    assert [r["episode"] for r in got.rows] == [0, 1] and got.skipped == 2
    assert got.rows[0]["success"] == 1 and got.rows[0]["autonomous"] == 0
