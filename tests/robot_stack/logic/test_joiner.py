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
    j.on_command(0, 0, Source.POLICY, act(0.5))
    assert j.take(0) == []  # step 0 may still be replaced by a HOLD
    j.on_observation(0, 1, 0.1, obs(1))
    j.on_command(0, 1, Source.HUMAN, act(-1))
    rows = j.take(0)
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


def test_next_episode_arriving_before_the_previous_end_is_kept_apart():
    j = StepJoiner(2)
    for s in range(3):
        j.on_observation(0, s, s, obs(s))
        j.on_command(0, s, Source.POLICY, act(s))
    for s in range(2):  # episode 1 starts before episode 0's end event arrives
        j.on_observation(1, s, 10 + s, obs(10 + s))
        j.on_command(1, s, Source.POLICY, act(s))
    assert j.open_episodes() == [0, 1]
    rows, complete = j.end_episode(0, steps=3)
    assert complete and [r.step for r in rows] == [0, 1, 2] and j.take(0) == []
    assert [r.step for r in j.take(1)] == [0]
    rows1, complete1 = j.end_episode(1, steps=2)
    assert complete1 and [r.step for r in rows1] == [1] and rows1[0].t == 11


def test_incomplete_episode_and_stragglers_of_closed_episodes():
    j = StepJoiner(2)
    j.on_observation(3, 0, 0.0, obs(0))
    j.on_command(3, 0, Source.POLICY, act(0))
    rows, complete = j.end_episode(3, steps=2)
    assert len(rows) == 1 and not complete and j.open_episodes() == [3]
    j.close(3)  # the recorder discards it
    j.on_command(3, 1, Source.POLICY, act(0))  # a straggler of episode 3 is dropped
    assert j.dropped == 1 and j.open_episodes() == []
