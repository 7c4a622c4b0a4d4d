"""Simulated operators: rates match parameters, the value judge is injected and used, seeded, no
takeover after success. (The human model: tests/sim/test_human.py; the reference judge:
tests/learner/test_operators.py.)"""
from dataclasses import replace

import numpy as np
import pytest

from sim.cell import TwinCell
from sim.config import CellConfig, OperatorConfig
from sim.experts import ScriptedExpert
from sim.operators import SimulatedOperator, expert_level

pytestmark = pytest.mark.unit
CELL = CellConfig()


def _state(rng):
    """A plausible (obs, info) above the hole without physics."""
    t2h = np.array([*rng.uniform(-0.01, 0.01, 2), rng.uniform(0.002, 0.03)])
    obs = np.zeros(18, np.float32)
    obs[:3] = t2h
    return obs, {"success": False, "aborted": False, "insertion_depth_m": 0.0, "tip_to_hole_m": t2h, "force_n": 0.0}


def _run(op, policy, n=3000, seed=0, episode_len=100):
    rng = np.random.default_rng(seed)
    flags = []
    for k in range(n):
        if k % episode_len == 0:
            op.reset()
        obs, info = _state(rng)
        on, act = op.step(obs, info, policy(obs, info))
        assert act.shape == (6,) and act.dtype == np.float32
        assert on or not act.any()
        flags.append(on)
    return np.array(flags)


def _runs_of(flags):
    lengths, k = [], 0
    for f in flags:
        if f:
            k += 1
        elif k:
            lengths.append(k)
            k = 0
    return lengths


def test_never_never_intervenes():
    op = SimulatedOperator(OperatorConfig(strategy="never"), CELL)
    assert not _run(op, lambda o, i: np.ones(6), n=300).any()


def test_random_rate_and_duration_match_parameters():
    cfg = OperatorConfig(strategy="random", p_random=0.1, steps=4)
    op = SimulatedOperator(cfg, CELL, seed=1)
    flags = _run(op, lambda o, i: np.zeros(6), episode_len=10**9)   # one long episode: no cut takeovers
    decisions = len(flags) - (op.intervened_steps - op.takeovers)      # steps where it could start
    assert op.takeovers / decisions == pytest.approx(0.1, abs=0.02)
    runs = _runs_of(flags)
    assert all(r % 4 == 0 for r in runs) and min(runs) == 4            # back-to-back takeovers merge
    assert op.intervention_rate == pytest.approx(flags.mean())


def test_value_strategy_uses_the_injected_judge():
    calls = []

    def judge(obs, action):
        calls.append(action.copy())
        return bool(action[0] > 0.5)     # "clearly worse" = pushing +x

    cfg = OperatorConfig(strategy="value", p_bad=1.0, p_good=0.0, steps=4)
    op = SimulatedOperator(cfg, CELL, seed=2, judge=judge)
    good = _run(op, lambda o, i: np.zeros(6), n=200)
    assert not good.any() and len(calls) == 200
    bad = _run(SimulatedOperator(cfg, CELL, seed=2, judge=judge), lambda o, i: np.r_[1.0, 0, 0, 0, 0, 0], n=200)
    assert bad.all()
    assert op.clearly_worse(*_state(np.random.default_rng(0))[:1], np.array([np.nan] * 6))  # broken = worse
    with pytest.raises(ValueError, match="judge"):
        SimulatedOperator(cfg, CELL)                                   # value without a judge: refused
    with pytest.raises(ValueError, match="make_operator"):
        SimulatedOperator(OperatorConfig(expert_kind="reference"), CELL)


def test_value_p_good_takeovers_count_as_random():
    cfg = OperatorConfig(strategy="value", p_bad=1.0, p_good=0.05, steps=1)
    op = SimulatedOperator(cfg, CELL, seed=4, judge=lambda o, a: False)
    _run(op, lambda o, i: np.zeros(6), n=2000, episode_len=10**9)
    assert op.takeovers == op.random_takeovers and op.takeovers / 2000 == pytest.approx(0.05, abs=0.015)


def test_seeded_and_independent_of_other_randomness():
    cfg = OperatorConfig(strategy="random", p_random=0.3)
    a = _run(SimulatedOperator(cfg, CELL, seed=5), lambda o, i: np.zeros(6), n=500)
    b = _run(SimulatedOperator(cfg, CELL, seed=5), lambda o, i: np.zeros(6), n=500)
    c = _run(SimulatedOperator(cfg, CELL, seed=6), lambda o, i: np.zeros(6), n=500)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, _run(SimulatedOperator(replace(cfg, seed=1), CELL, seed=5), lambda o, i: np.zeros(6), n=500))


def test_no_takeover_after_success_and_handover_stops():
    op = SimulatedOperator(OperatorConfig(strategy="random", p_random=1.0, steps=10), CELL)
    obs, info = _state(np.random.default_rng(0))
    assert op.step(obs, info, np.zeros(6))[0]
    done = dict(info, success=True)
    for _ in range(5):
        on, act = op.step(obs, done, np.zeros(6))
        assert not on and not act.any()


def test_expert_exposed_and_levels_parsed():
    op = SimulatedOperator(OperatorConfig(expert="low"), CELL)
    assert isinstance(op.expert, ScriptedExpert) and op.expert.level == "low"
    assert op.expert.information == "observed"
    assert SimulatedOperator(OperatorConfig(expert_kind="privileged"), CELL).expert.information == "privileged"
    assert expert_level("0.3") == 0.3
    with pytest.raises(ValueError, match="operator.expert"):
        SimulatedOperator(OperatorConfig(expert="great"), CELL)


@pytest.mark.parametrize("space,n", [("xyz", 3), ("xyz_yaw", 4)])
@pytest.mark.parametrize("strategy", ["human", "random"])
def test_restricted_action_spaces_on_the_twin(space, n, strategy):
    cfg = replace(CELL, action_space=space)
    cell = TwinCell(cfg)
    op = SimulatedOperator(OperatorConfig(strategy=strategy, p_random=0.5, expert="mid"), cfg, seed=0)
    obs, info = cell.reset(seed=0)
    op.reset()
    for _ in range(20):
        on, act = op.step(obs, info, np.zeros(n, np.float32))
        assert act.shape == (n,)
        obs, term, trunc, info = cell.apply(act if on else np.zeros(n, np.float32))


def test_info_from_observation_matches_the_cell():
    """The operator node rebuilds info from the observation + the episode's hole offset."""
    from sim.operators import info_from_observation

    cell = TwinCell(CELL)
    ex = ScriptedExpert("high", seed=0, information="privileged")
    obs, info = cell.reset(seed=1000)
    ex.reset()
    for _ in range(40):
        rebuilt = info_from_observation(obs, info["hole_offset_m"], CELL)
        np.testing.assert_allclose(rebuilt["tip_to_hole_m"], info["tip_to_hole_m"], atol=1e-6)
        assert rebuilt["insertion_depth_m"] == pytest.approx(info["insertion_depth_m"], abs=1e-6)
        assert rebuilt["success"] == info["success"]
        np.testing.assert_allclose(ex.plan(obs, rebuilt), ex.plan(obs, info), atol=1e-4)
        obs, term, trunc, info = cell.apply(ex.act(obs, info))
        if term:
            break
    assert info["success"] and info_from_observation(obs, info["hole_offset_m"], CELL)["success"]


def test_value_judges_the_intent_or_the_executed_action():
    seen = []
    judge = lambda obs, a: seen.append(a.copy()) or False  # noqa: E731
    obs, info = _state(np.random.default_rng(0))
    mean, sampled = np.zeros(6), np.full(6, 0.3)
    op = SimulatedOperator(OperatorConfig(strategy="value"), CELL, judge=judge)
    assert op.wants_intent
    op.step(obs, info, sampled, mean)
    op.step(obs, info, sampled)                    # no intent given: the executed action is judged
    ex = SimulatedOperator(OperatorConfig(strategy="value", judge_action="executed"), CELL, judge=judge)
    assert not ex.wants_intent
    ex.step(obs, info, sampled, mean)
    np.testing.assert_array_equal(np.array(seen), np.array([mean, sampled, sampled]))
