"""The `human` operator model (sim.human via SimulatedOperator): persistent visible errors only,
a reaction delay, hold until recovered, jitter ignored while inserting, whims counted apart."""
from dataclasses import replace

import numpy as np
import pytest

from sim.cell import TwinCell
from sim.config import CellConfig, OperatorConfig
from sim.experts import ScriptedExpert
from sim.operators import SimulatedOperator

pytestmark = pytest.mark.unit
CELL = CellConfig()
# a perfectly perceiving, instantly reacting person without whims (each test adds what it needs)
EXACT = OperatorConfig(strategy="human", perception_m=0.0, jitter_m=0.0, reaction_steps=(0, 0), p_whim=0.0)


def _state(x=0.0, y=0.0, z=0.02, depth=0.0, force=0.0, tilt=0.0):
    obs = np.zeros(18, np.float32)
    obs[:3] = (x, y, z)
    obs[3] = tilt
    obs[14] = force
    return obs, {"success": False, "insertion_depth_m": depth, "tip_to_hole_m": np.array([x, y, z])}


def _flags(op, states):
    return [op.step(o, i, np.zeros(6))[0] for o, i in states]


def test_progress_towards_the_hole_is_never_interrupted():
    op = SimulatedOperator(EXACT, CELL)
    op.reset()
    descent = [_state(0.0005, 0.0, z) for z in np.linspace(0.04, -0.014, 40)]
    assert not any(_flags(op, descent)) and op.takeovers == 0


def test_a_search_beside_the_hole_gets_its_patience_then_a_takeover():
    cfg = replace(EXACT, search_patience_steps=10)
    op = SimulatedOperator(cfg, CELL)
    op.reset()
    beside = [_state(0.003, 0.0, 0.0, force=8.0)] * 12
    flags = _flags(op, beside)
    assert not any(flags[:9]) and flags[9], flags           # decides on the 10th step beside the hole
    assert op.reasons == {"misaligned": 1}


def test_reaction_delay_and_hold_until_recovered():
    cfg = replace(EXACT, reaction_steps=(2, 2), search_patience_steps=3, min_hold_steps=2, max_hold_steps=50)
    op = SimulatedOperator(cfg, CELL)
    op.reset()
    flags = _flags(op, [_state(0.004, 0.0, 0.0, force=8.0)] * 6)
    assert flags == [False, False, False, False, True, True]  # decides at 3, hand moves 2 steps later
    assert _flags(op, [_state(0.004, 0.0, 0.0, force=8.0)] * 10) == [True] * 10   # not recovered: holds
    assert _flags(op, [_state(0.0003, 0.0, 0.001)] * 2) == [False, False]           # seen over the hole: back
    assert op.takeovers == 1


def test_a_peg_far_off_track_is_brought_back_before_the_hand_back():
    cfg = replace(EXACT, stall_steps=3, min_hold_steps=1, max_hold_steps=50, handback_m=0.03)
    op = SimulatedOperator(cfg, CELL)
    op.reset()
    assert _flags(op, [_state(0.03, 0.03, 0.06)] * 4)[-1]      # parked in a corner: stalled
    # progress alone is not enough while the peg is still far from the hole (dist > 3 cm)
    closer = [_state(0.03 - 0.002 * k, 0.03 - 0.002 * k, 0.06 - 0.003 * k) for k in range(1, 10)]
    assert _flags(op, closer) == [True] * 9
    assert _flags(op, [_state(0.002, 0.0, 0.01)]) == [False]   # 1 cm above, 2 mm beside: back on track
    assert op.takeovers == 1


def test_max_hold_hands_back_whatever_the_state():
    cfg = replace(EXACT, search_patience_steps=1, min_hold_steps=1, max_hold_steps=5)
    op = SimulatedOperator(cfg, CELL)
    op.reset()
    flags = _flags(op, [_state(0.004, 0.0, 0.0, force=8.0)] * 7)
    assert flags[:5] == [True] * 5 and flags[5] is False


def test_only_force_counts_while_inserting():
    op = SimulatedOperator(replace(EXACT, persist_steps=1, search_patience_steps=1), CELL)
    op.reset()
    inserting = [_state(0.002, 0.0, -0.004, depth=0.004, tilt=0.3)] * 20   # tilted, "beside": ignored
    assert not any(_flags(op, inserting))
    assert _flags(op, [_state(0.0, 0.0, -0.004, depth=0.004, force=0.7 * CELL.max_force_n)]) == [True]
    assert op.reasons == {"force": 1}


def test_stall_and_tilt_are_errors():
    op = SimulatedOperator(replace(EXACT, stall_steps=5, persist_steps=3), CELL)
    op.reset()
    assert _flags(op, [_state(0.01, 0.0, 0.03)] * 6)[-1]   # hovering still: stalled after 5 steps
    op2 = SimulatedOperator(replace(EXACT, persist_steps=3), CELL)
    op2.reset()
    assert _flags(op2, [_state(0.0, 0.0, 0.03 - 0.003 * k, tilt=0.3) for k in range(3)]) == [False, False, True]
    assert op.reasons == {"stalled": 1} and op2.reasons == {"tilt": 1}


def test_whims_are_counted_apart_and_seeded():
    cfg = replace(EXACT, p_whim=0.05, min_hold_steps=1)
    runs = []
    for _ in range(2):
        op = SimulatedOperator(cfg, CELL, seed=3)
        op.reset()
        runs.append(_flags(op, [_state(0.0, 0.0, 0.02 - 0.0002 * k) for k in range(150)]))
        assert op.takeovers == op.random_takeovers > 0 and set(op.reasons) == {"random"}
        assert op.random_steps == op.intervened_steps > 0  # their steps are counted apart too
    assert runs[0] == runs[1]


def test_on_the_twin_a_good_expert_is_rarely_interrupted_a_still_policy_often():
    """The default person watching the high observed expert vs a policy that does nothing."""
    cell = TwinCell(CELL)
    rates = {}
    for name in ("expert", "still"):
        op = SimulatedOperator(OperatorConfig(strategy="human", expert="high"), CELL, seed=0)
        drv = ScriptedExpert("high", seed=2)
        for ep in range(6):
            obs, info = cell.reset(seed=20_000 + ep)
            op.reset()
            drv.reset()
            for _ in range(100):
                pa = drv.act(obs, info) if name == "expert" else np.zeros(6, np.float32)
                on, oa = op.step(obs, info, pa)
                obs, term, trunc, info = cell.apply(oa if on else pa)
                if term or trunc:
                    break
        rates[name] = (op.takeovers / 6, op.intervention_rate)
    # the still policy is taken over again and again (stalls); the expert about once in a few episodes
    assert rates["still"][0] >= 1.5 and rates["expert"][0] <= 0.5 and rates["expert"][1] < 0.2, rates
