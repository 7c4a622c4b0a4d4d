"""learner/experiment*.py: a tiny experiment end to end on the real twin (real stores, real agents,
a small reference file as the judge), its outputs, the controls, resume after a kill, parallel
workers giving the same results as one process."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch

from learner.checkpoint import load_policy
from learner.config import AgentConfig, ReplayConfig
from learner.experiment import Configs, Spec, cell_configs, cell_key, run_experiment
from learner.experiment_report import summary_json, write_all
from learner.loop import evaluate
from learner.replay import ReplayStore
from learner import safeio, seeds
from sim.cell import TwinCell
from sim.config import CellConfig, OperatorConfig
from tests.learner.test_reference import _make

TINY_AGENT = AgentConfig(hidden=(32, 32), n_critics=2, batch_size=32, utd=1, threads=1, warmup_rows=40)
TINY = Spec(methods=("rlif", "rlif-random", "hg-dagger", "dagger", "bc", "dagger+offset"), experts=("mid",),
            seeds=(0,), steps=60, eval_every=30, eval_episodes=2, demo_episodes=1, held_out_episodes=3,
            sampled_episodes=2, shifted_episodes=2, deploy_episodes=2, point_deploy=True)


@pytest.fixture
def ref_path(tmp_path_factory):
    return _make(tmp_path_factory.mktemp("ref"))[1]


def _cfgs(ref_path, **agent) -> Configs:
    # the test's reference is untrained: its Q barely separates actions, so any worse action is
    # judged clearly worse (delta 0); with the default 1 % margin it would never take over
    op = OperatorConfig(strategy="value", expert_kind="reference", reference=str(ref_path), delta=0.0)
    return Configs(cell=replace(CellConfig(), episode_steps=30), operator=op,
                   agent=replace(TINY_AGENT, **agent), replay=ReplayConfig())


def test_random_control_matches_the_training_operators_rate_and_takeover_length(ref_path):
    rlif = {"takeover_start_rate": 0.03, "operator_reasons": {"stalled": 30, "tilt": 8, "random": 2},
            "intervention_rate": 0.25, "env_steps": 2000,  # 500 operator steps / 40 takeovers begun
            "takeovers": 31}  # policy -> operator switches (back-to-back takeovers count once): not the divisor
    ctl = cell_configs(_cfgs(ref_path), "rlif-random", rlif).operator
    assert (ctl.strategy, ctl.p_random, ctl.steps) == ("random", 0.03, 12)  # 12.5 steps rounds to 12
    assert cell_configs(_cfgs(ref_path), "rlif", rlif) == _cfgs(ref_path)  # other methods: as given
    none = cell_configs(_cfgs(ref_path), "rlif-random", dict(rlif, operator_reasons={}, takeover_start_rate=0.0))
    assert none.operator.steps == OperatorConfig().steps  # no takeover to match: the default length


@pytest.mark.slow
def test_tiny_experiment_writes_every_output(tmp_path, ref_path):
    experts, results = run_experiment(TINY, _cfgs(ref_path), tmp_path)
    assert set(experts) == {"mid"} and experts["mid"]["held_out"]["episodes"] == 3
    assert [r["method"] for r in results] == list(TINY.methods)
    by = {r["method"]: r for r in results}
    for r in results:
        assert r["env_steps"] >= TINY.steps  # whole episodes: the budget is reached, maybe passed
        assert len(r["points"]) >= 3  # step 0, every 30 steps, the end
        assert all(0.0 <= p["deploy_intervention_rate"] <= 1.0 for p in r["points"])
        f = r["final"]
        assert [f[k]["episodes"] for k in ("held_out", "held_out_sampled", "shifted", "deploy_human",
                                           "deploy_value")] == [3, 2, 2, 2, 2]
        assert len(f["held_out"]["outcomes"]) == 3 and len(f["deploy_human"]["intervened"]) == 2
    # what each method's driver means for the intervention rate
    assert by["bc"]["intervention_rate"] == 1.0 and by["dagger"]["intervention_rate"] == 0.0
    assert 0.0 < by["rlif"]["intervention_rate"] <= 1.0 and by["rlif"]["updates"] > 0
    # the control's random operator takes over at the rate the value operator did in the same seed
    assert by["rlif-random"]["p_random"] == pytest.approx(by["rlif"]["takeover_start_rate"], abs=1e-6)
    assert set(by["rlif-random"]["operator_reasons"]) <= {"random"}
    assert set(by["rlif"]["operator_reasons"]) <= {"value", "random"}
    # the stores hold what the methods learn from; the +offset control observes the true offset
    with ReplayStore.open(tmp_path / "stores" / "dagger-mid-s0" / "replay.zarr", readonly=True) as s:
        assert not np.isnan(s.sample(16, np.random.default_rng(0))["expert_action"]).any()
    with ReplayStore.open(tmp_path / "stores" / "dagger+offset-mid-s0" / "replay.zarr", readonly=True) as s:
        assert list(s.obs_labels[-2:]) == ["hole_dx", "hole_dy"]
        obs = s.sample(32, np.random.default_rng(0))["obs"]
        assert obs.shape[1] == 20 and np.abs(obs[:, 18:]).max() <= CellConfig().hole_offset_m + 1e-6
    cell = TwinCell(CellConfig(episode_steps=30), seed=0)
    try:  # the offsets are those of the episodes' seeds
        _, info = cell.reset(seed=seeds.train_base(0))
    finally:
        cell.close()
    with ReplayStore.open(tmp_path / "stores" / "dagger+offset-mid-s0" / "replay.zarr", readonly=True) as s:
        np.testing.assert_allclose(s.column("obs")[0, 18:], info["hole_offset_m"], atol=1e-6)
    # each cell's final actor is saved, and it is the one the last eval point measured
    policy = load_policy(tmp_path / "actors" / "rlif-mid-s0.safetensors")
    cell = TwinCell(CellConfig(episode_steps=30), seed=0)
    try:
        ev = evaluate(cell, policy, TINY.eval_episodes, seed=seeds.EVAL)
    finally:
        cell.close()
    last = by["rlif"]["points"][-1]
    assert (ev["success_rate"], ev["mean_steps"]) == (last["success"], last["eval_mean_steps"])
    for r in results:
        blob = (tmp_path / "actors" / f"{cell_key(r['method'], 'mid', 0)}.safetensors").read_bytes()
        assert hashlib.sha256(blob).hexdigest() == r["actor_sha256"]

    files = write_all(tmp_path, asdict(TINY), experts, results, "rlif experiment (test)", op=_cfgs(ref_path).operator)
    for name in ("results.csv", "curves.png", "report.md"):
        assert (tmp_path / name) in files and (tmp_path / name).stat().st_size > 0
    with open(tmp_path / "results.csv") as f:
        assert {r["method"] for r in csv.DictReader(f)} == set(TINY.methods)
    report = (tmp_path / "report.md").read_text()
    assert "| rlif | mid" in report and "## Targets" in report and "random-operator RLIF" in report
    assert "Training operator: `value`, the RLIF paper's value judge" in report  # what these cells trained with
    one_worker = sum(r["wall_s"] for r in results) / 60  # the pool of one runs the cells back to back
    assert f"## Wall time\n\n{len(results)} cells" in report and f"workers: 1: {one_worker:.0f} min" in report
    back = json.loads(json.dumps(summary_json(experts, results)))  # strict JSON (no NaN)
    row = next(m for m in back["methods"] if m["method"] == "rlif")
    assert {"held_out", "held_out_lo", "held_out_hi", "deploy_human_rate"} <= set(row)
    assert row["held_out_lo"] <= row["held_out"] <= row["held_out_hi"]


@pytest.mark.slow
def test_resume_skips_finished_cells_and_reruns_changed_ones(tmp_path, ref_path):
    spec = replace(TINY, methods=("hg-dagger", "bc"), steps=30, eval_every=30, point_deploy=False)
    cfgs = _cfgs(ref_path)
    _, first = run_experiment(spec, cfgs, tmp_path)
    (tmp_path / "cells" / f"{cell_key('bc', 'mid', 0)}.json").unlink()  # killed during the second cell
    started = []
    _, again = run_experiment(spec, cfgs, tmp_path, on_cell_start=lambda k, skipped: started.append((k, skipped)))
    assert started == [("hg-dagger-mid-s0", True), ("bc-mid-s0", False)]
    assert json.dumps(again[0]) == json.dumps(first[0])  # loaded from disk, identical (NaN-safe)
    started.clear()  # other settings: nothing is reused
    run_experiment(spec, _cfgs(ref_path, batch_size=16), tmp_path, on_cell_start=lambda k, s: started.append(s))
    assert started == [False, False]


@pytest.mark.slow
def test_parallel_workers_give_the_results_of_one_process(tmp_path, ref_path):
    spec = replace(TINY, methods=("bc", "rlif", "rlif-random"), steps=30, eval_every=30, point_deploy=False)
    cfgs = _cfgs(ref_path)
    _, one = run_experiment(spec, cfgs, tmp_path / "one")
    done, started = [], []
    _, two = run_experiment(spec, cfgs, tmp_path / "two", workers=2, on_cell_done=lambda k, r: done.append(k),
                            on_cell_start=lambda k, skipped: started.append(k))
    assert sorted(done) == sorted(cell_key(m, "mid", 0) for m in spec.methods)
    # the pool starts the RL cell first although bc comes first in run order; rlif-random waits for rlif
    assert started[:2] == ["rlif-mid-s0", "bc-mid-s0"] and started[2] == "rlif-random-mid-s0"
    for a, b in zip(one, two):
        def same(r):  # what a run measured (wall time aside), NaN-safe
            return json.dumps([r["method"], [{k: v for k, v in p.items() if k != "wall_s"} for p in r["points"]],
                               r["final"]])
        assert same(a) == same(b)
        key = cell_key(a["method"], "mid", 0)
        ta, _ = safeio.read_file(tmp_path / "one" / "actors" / f"{key}.safetensors", "rlif-actor")
        tb, _ = safeio.read_file(tmp_path / "two" / "actors" / f"{key}.safetensors", "rlif-actor")
        assert all(torch.equal(ta[k], tb[k]) for k in ta)  # the same weights (file byte order may differ)


@pytest.mark.unit
def test_spec_validation_names_the_bad_value():
    with pytest.raises(ValueError, match="ppo"):
        Spec(methods=("ppo",)).validate()
    with pytest.raises(ValueError, match="expert"):
        Spec(experts=("superhuman",)).validate()
    with pytest.raises(ValueError, match="add rlif"):
        Spec(methods=("rlif-random",)).validate()
    assert Spec().cells() == [(m, "mid", 0) for m in Spec().methods]
    grid = Spec(methods=("rlif", "bc", "dagger+offset"), experts=("low", "mid"), seeds=(0, 1),
                restrict=(("low", ("rlif", "bc"), (0,)),)).cells()
    assert grid == [("rlif", "low", 0), ("bc", "low", 0), ("rlif", "mid", 0), ("bc", "mid", 0),
                    ("dagger+offset", "mid", 0), ("rlif", "mid", 1), ("bc", "mid", 1), ("dagger+offset", "mid", 1)]


def test_images_change_a_cells_fingerprint_and_state_only_cells_keep_theirs(ref_path):
    from learner.experiment import fingerprint
    from sim.config import VisionConfig

    cfgs, spec = _cfgs(ref_path), Spec()
    plain = fingerprint(spec, cfgs, "rlif", "mid", 0)
    assert fingerprint(spec, replace(cfgs, vision=VisionConfig()), "rlif", "mid", 0) == plain  # image_size 0
    seeing = fingerprint(spec, replace(cfgs, vision=VisionConfig(image_size=64)), "rlif", "mid", 0)
    assert seeing != plain
    assert fingerprint(spec, replace(cfgs, vision=VisionConfig(image_size=32)), "rlif", "mid", 0) != seeing
    # the state-only fingerprint hashes exactly the configs without any image setting
    # (the encoder's settings change nothing without frames)
    assert fingerprint(spec, replace(cfgs, agent=replace(cfgs.agent, encoder_channels=8)), "rlif", "mid", 0) == plain
    before = asdict(cfgs)
    before.pop("vision")
    for k in ("encoder_channels", "encoder_features", "augment_pad", "encoder_weights"):
        before["agent"].pop(k)
    d = {"spec": {k: v for k, v in asdict(spec).items() if k not in ("methods", "experts", "seeds", "restrict")},
         "cfgs": before, "cell": ["rlif", "mid", 0],
         "reference": hashlib.sha256(ref_path.read_bytes()).hexdigest()[:16]}
    assert plain == hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]
