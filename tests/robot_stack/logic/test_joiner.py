import numpy as np
import pytest

from learner.replay import Source
from robot_stack.logic.joiner import StepJoiner

pytestmark = pytest.mark.unit


def obs(v):
    return np.full(3, v, np.float32)


def act(v):
    return np.full(2, v, np.float32)


def test_rows_come_out_in_order_once_the_next_command_arrives():
    j = StepJoiner(2)
    j.on_observation(0, 0, 0.0, obs(0))
    j.on_policy_action(0, 0, act(0.5))
    assert j.on_command(0, 0, Source.POLICY, act(0.5)) == []  # step 0 may still be replaced by a HOLD
    j.on_observation(0, 1, 0.1, obs(1))
    rows = j.on_command(0, 1, Source.HUMAN, act(-1))
    assert [r.step for r in rows] == [0] and rows[0].source == Source.POLICY
    np.testing.assert_allclose(rows[0].policy_action, 0.5)
    rows, complete = j.end_episode(0, steps=2)
    assert complete and rows[0].step == 1 and rows[0].intervening
    assert np.isnan(rows[0].policy_action).all()  # the policy never answered step 1


def test_cell_hold_overrides_a_late_mux_command_in_either_order():
    for order in ("hold_first", "mux_first"):
        j = StepJoiner(2)
        j.on_observation(0, 0, 0.0, obs(0))
        msgs = [(Source.HOLD, act(0)), (Source.POLICY, act(0.9))]
        if order == "mux_first":
            msgs.reverse()
        for src, a in msgs:
            j.on_command(0, 0, src, a)
        rows, complete = j.end_episode(0, 1)
        assert complete and rows[0].source == Source.HOLD, order


def test_incomplete_episode_reports_missing_rows_and_new_episode_resets():
    j = StepJoiner(2)
    j.on_observation(3, 0, 0.0, obs(0))
    j.on_command(3, 0, Source.POLICY, act(0))
    rows, complete = j.end_episode(3, steps=2)
    assert len(rows) == 1 and not complete
    j.on_observation(4, 0, 0.0, obs(1))  # next episode: old leftovers are gone
    j.on_command(3, 1, Source.POLICY, act(0))  # a straggler of episode 3 is dropped
    assert j.dropped == 1 and j.episode == 4
