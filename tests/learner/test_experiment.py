"""learner/experiment.py + experiment_report.py: a tiny experiment end to end on the real twin
(real stores, real agents), its outputs, and resume after a kill (finished cells are skipped,
settings changes are not mistaken for finished cells)."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, replace

import numpy as np
import pytest

from learner.checkpoint import load_policy
from learner.config import AgentConfig, ReplayConfig
from learner.experiment import Configs, Spec, cell_key, run_experiment
from learner.experiment_report import summary_json, write_all
from learner.loop import evaluate
from learner.replay import ReplayStore
from sim.cell import TwinCell
from sim.config import CellConfig, OperatorConfig

TINY_AGENT = AgentConfig(hidden=(32, 32), n_critics=2, batch_size=32, utd=1, threads=1, warmup_rows=40)
TINY = Spec(methods=("rlif", "hg-dagger", "dagger", "bc"), experts=("mid",), seeds=(0,), steps=60,
            eval_every=30, eval_episodes=2, demo_episodes=1)


def _cfgs(**agent) -> Configs:
    return Configs(cell=replace(CellConfig(), episode_steps=30), operator=OperatorConfig(),
                   agent=replace(TINY_AGENT, **agent), replay=ReplayConfig())


@pytest.mark.slow
def test_tiny_experiment_writes_every_output(tmp_path):
    experts, results = run_experiment(TINY, _cfgs(), tmp_path)
    assert set(experts) == {"mid"} and 0.0 <= experts["mid"]["success"] <= 1.0
    assert [r["method"] for r in results] == list(TINY.methods)
    by = {r["method"]: r for r in results}
    for r in results:
        assert r["env_steps"] >= TINY.steps  # whole episodes: the budget is reached, maybe passed
        assert len(r["points"]) >= 3  # step 0, every 30 steps, the end
        assert (tmp_path / "cells" / f"{cell_key(r['method'], 'mid', 0)}.json").exists()
    # what each method's driver means for the intervention rate
    assert by["bc"]["intervention_rate"] == 1.0 and by["dagger"]["intervention_rate"] == 0.0
    assert 0.0 < by["rlif"]["intervention_rate"] < 1.0  # an untrained policy gets corrected
    assert by["rlif"]["updates"] > 0 and by["hg-dagger"]["updates"] > 0
    # the stores hold what the methods learn from
    with ReplayStore.open(tmp_path / "stores" / "dagger-mid-s0" / "replay.zarr", readonly=True) as s:
        labelled = s.sample(16, np.random.default_rng(0))["expert_action"]
        assert not np.isnan(labelled).any()  # dagger: every visited state labelled
    with ReplayStore.open(tmp_path / "stores" / "rlif-mid-s0" / "replay.zarr", readonly=True) as s:
        assert s.n_episodes == TINY.demo_episodes + by["rlif"]["episodes"]
    # each cell's final actor is saved, and it is the one the last eval point measured
    cfgs, rlif = _cfgs(), by["rlif"]
    policy = load_policy(tmp_path / "actors" / "rlif-mid-s0.safetensors")
    cell = TwinCell(cfgs.cell, seed=0)
    try:
        ev = evaluate(cell, policy, TINY.eval_episodes, seed=TINY.eval_seed)
    finally:
        cell.close()
    assert (ev["success_rate"], ev["mean_steps"]) == (rlif["points"][-1]["success"], rlif["points"][-1]["eval_mean_steps"])
    for r in results:
        blob = (tmp_path / "actors" / f"{cell_key(r['method'], 'mid', 0)}.safetensors").read_bytes()
        assert hashlib.sha256(blob).hexdigest() == r["actor_sha256"]

    files = write_all(tmp_path, asdict(TINY), experts, results, "rlif experiment (test)")
    for name in ("results.csv", "curves.png", "report.md"):
        assert (tmp_path / name) in files and (tmp_path / name).stat().st_size > 0
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["method"] for r in rows} == set(TINY.methods)
    assert "| rlif | mid" in (tmp_path / "report.md").read_text()
    line = json.dumps(summary_json(experts, results))  # strict JSON (no NaN)
    back = json.loads(line)
    assert back["expert_success"]["mid"] == pytest.approx(experts["mid"]["success"], abs=1e-4)
    assert {"method", "expert", "success", "intervention_rate", "env_steps"} <= set(back["results"][0])


@pytest.mark.slow
def test_resume_skips_finished_cells_and_reruns_changed_ones(tmp_path):
    spec = replace(TINY, methods=("hg-dagger", "bc"), steps=30, eval_every=30)
    cfgs = _cfgs()
    _, first = run_experiment(spec, cfgs, tmp_path)
    # a kill during the second cell: its result file never got written
    (tmp_path / "cells" / f"{cell_key('bc', 'mid', 0)}.json").unlink()
    started = []
    _, again = run_experiment(spec, cfgs, tmp_path, on_cell_start=lambda k, skipped: started.append((k, skipped)))
    assert started == [("hg-dagger-mid-s0", True), ("bc-mid-s0", False)]
    assert json.dumps(again[0]) == json.dumps(first[0])  # loaded from disk, identical (NaN-safe)
    # other settings: nothing is reused
    started.clear()
    run_experiment(spec, _cfgs(batch_size=16), tmp_path, on_cell_start=lambda k, s: started.append(s))
    assert started == [False, False]


@pytest.mark.unit
def test_spec_validation_names_the_bad_value():
    with pytest.raises(ValueError, match="ppo"):
        Spec(methods=("ppo",)).validate()
    with pytest.raises(ValueError, match="expert"):
        Spec(experts=("superhuman",)).validate()
    assert Spec().cells() == [(m, "mid", 0) for m in Spec().methods]
