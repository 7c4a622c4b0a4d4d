"""RLIF / task rewards and training selections (learner/labeling.py)."""
import numpy as np
import pytest

from learner.labeling import (ALGO_SUBSET, abort_ends, combine, episode_last, prior_mask, rlif_rewards, subset_mask,
                              task_rewards)

pytestmark = pytest.mark.unit


def _rows(spec: str):
    """'PPH|HP' -> (intervening, episode): one char per step, '|' between episodes."""
    iv, ep = [], []
    for e, part in enumerate(spec.split("|")):
        iv += [c == "H" for c in part]
        ep += [e] * len(part)
    return np.array(iv, bool), np.array(ep)


def test_docstring_worked_example():
    iv, ep = _rows("PPHHPH|PP|HPPH")
    assert rlif_rewards(iv, ep).tolist() == [0, -1, 0, 0, -1, 0, 0, 0, 0, 0, -1, 0]


@pytest.mark.parametrize("spec, expected", [
    ("HPPP", [0, 0, 0, 0]),  # takeover at the episode's first step: nothing to blame
    ("PHPH", [-1, 0, -1, 0]),  # back-to-back interventions, each blamed on its own policy step
    ("PPHHHH", [0, -1, 0, 0, 0, 0]),  # intervention lasting to the episode's end
    ("PPP", [0, 0, 0]),  # no intervention
    ("HHH", [0, 0, 0]),  # operator-only episode
    ("P", [0]),
    ("PP|HP", [0, 0, 0, 0]),  # never blamed across an episode boundary
    ("PP|PH", [0, 0, -1, 0]),
])
def test_rlif_cases(spec, expected):
    iv, ep = _rows(spec)
    r = rlif_rewards(iv, ep)
    assert r.dtype == np.float32 and r.tolist() == expected


def test_rlif_empty_and_shape_errors():
    assert rlif_rewards(np.zeros(0, bool), np.zeros(0, int)).shape == (0,)
    with pytest.raises(ValueError, match="equal 1-D"):
        rlif_rewards(np.zeros(3, bool), np.zeros(2, int))


def test_task_reward_on_successful_last_rows_only_and_sum():
    iv, ep = _rows("PPH|PPP|PH")
    success = np.array([True, False, True])[ep]  # per row: the episode's outcome
    task = task_rewards(ep, success)
    assert task.tolist() == [0, 0, 1, 0, 0, 0, 0, 1]
    # success right after an intervention: the operator's last step gets +1, the blamed policy step -1
    total = combine("rlif+task", rlif_rewards(iv, ep), task)
    assert total.tolist() == [0, -1, 1, 0, 0, 0, -1, 1]
    assert combine("task", rlif_rewards(iv, ep), task) is task
    with pytest.raises(ValueError, match="allowed"):
        combine("sparse", task, task)


def test_episode_last():
    assert episode_last(np.array([0, 0, 1, 2, 2])).tolist() == [False, True, True, False, True]


def test_selections():
    iv = np.array([0, 1, 1, 0, 0], bool)
    source = np.array([0, 1, 2, 0, 1])  # a HOLD while intervening, a HUMAN row in a demo episode
    demo = np.array([0, 0, 0, 1, 1], bool)
    ea = np.array([[0.1], [np.nan], [0.2], [np.nan], [0.3]])
    kw = dict(intervening=iv, source=source, demo=demo, expert_action=ea)
    assert subset_mask("all", **kw).all()
    assert subset_mask("policy", **kw).tolist() == [True, False, False, True, True]
    assert subset_mask("operator", **kw).tolist() == [False, True, False, True, True]
    assert subset_mask("expert_labeled", **kw).tolist() == [True, False, True, False, True]
    assert prior_mask(source, demo).tolist() == subset_mask("operator", **kw).tolist()
    with pytest.raises(ValueError, match="allowed"):
        subset_mask("nope", **kw)
    assert ALGO_SUBSET["hg-dagger"] == "operator" and ALGO_SUBSET["dagger"] == "expert_labeled"


def test_abort_is_blamed_on_a_policy_last_step_only():
    iv, ep = _rows("PPP|PH|PP")
    aborted = np.array([True] * 3 + [True] * 2 + [False] * 2)
    assert abort_ends(ep, aborted).tolist() == [0, 0, 1, 0, 1, 0, 0]
    assert rlif_rewards(iv, ep, aborted).tolist() == [0, 0, -1, -1, 0, 0, 0]
    assert rlif_rewards(iv, ep).tolist() == [0, 0, 0, -1, 0, 0, 0]  # without the flag: takeovers only
    with pytest.raises(ValueError, match="aborted"):
        abort_ends(ep, aborted[:3])
