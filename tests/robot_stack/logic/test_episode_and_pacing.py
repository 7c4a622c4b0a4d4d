import pytest

from sim.contract import Source
import numpy as np

from robot_stack.logic.episode import EpisodeBook, end_payload
from robot_stack.logic.pacing import UtdGate

pytestmark = pytest.mark.unit


def test_book_counts_interventions_and_takeovers():
    b = EpisodeBook()
    b.start(7)
    for s in (Source.POLICY, Source.HUMAN, Source.HUMAN, Source.POLICY, Source.HUMAN, Source.HOLD):
        b.on_applied(s)
    end = b.finish("timeout", np.arange(3))
    assert end.final_obs.dtype == np.float32 and end.final_obs.tolist() == [0, 1, 2]
    p = end_payload(end)
    assert (p["episode"], p["steps"], p["intervention_steps"], p["interventions"], p["holds"]) == (7, 6, 3, 2, 1)
    assert p["truncated"] and not p["terminal"] and not p["success"]


@pytest.mark.parametrize("info,req,term,trunc,want", [
    ({"success": True}, None, True, False, "success"),
    ({"aborted": True}, None, True, False, "force_abort"),
    ({}, "abort", False, False, "operator_abort"),
    ({}, "success", False, False, "success"),
    ({}, None, False, True, "timeout"),
    ({}, None, False, False, None),
])
def test_end_reasons(info, req, term, trunc, want):
    b = EpisodeBook()
    b.requested_end = req
    assert b.end_reason(term, trunc, info) == want
    if want:
        p = end_payload(b.finish(want, np.zeros(2)))
        assert p["terminal"] == (want in ("success", "force_abort"))
        assert p["aborted"] == (want in ("force_abort", "operator_abort"))


def test_an_unknown_end_reason_is_refused():
    with pytest.raises(ValueError, match="unknown episode end reason 'crashed'"):
        EpisodeBook().finish("crashed", np.zeros(2))


def test_utd_gate_holds_the_cell_until_the_learner_catches_up():
    g = UtdGate(warmup_rows=100, slack_steps=10)
    assert g.may_step(110)  # warmup + slack: free
    assert not g.may_step(112)  # owes 2 updates (one per env step)
    g.on_learner_updates(2)
    assert g.may_step(112) and not g.may_step(113)
    g.on_learner_updates(2, starved=True)  # it has trained on every row it has: never deadlock
    assert g.may_step(500)
    assert UtdGate(0, 0, enabled=False).may_step(10**6)
