"""The one write path (learner.recording): whole episodes committed, anything with a hole refused."""
import numpy as np
import pytest

from learner.recording import EpisodeWriter
from learner.replay import ReplayStore
from sim.contract import EpisodeEnd, Source, Step

pytestmark = pytest.mark.unit

OBS = [f"o{i}" for i in range(4)]
ACT = ["x", "y"]


def step(ep, k, source=Source.POLICY):
    obs = np.full(4, 10 * ep + k, np.float32)
    return Step(ep, k, 0.1 * k, obs, np.full(2, k / 10, np.float32), np.full(2, -k / 10, np.float32), source)


def end(ep, n, reason="timeout"):
    return EpisodeEnd(ep, n, reason, np.full(4, 10 * ep + n, np.float32), interventions=1, intervention_steps=1)


@pytest.fixture
def store(tmp_path):
    with ReplayStore.create(tmp_path / "r.zarr", OBS, ACT) as s:
        yield s


def test_a_whole_episode_is_committed_as_the_clock_executed_it(store):
    w = EpisodeWriter(store, operator="sim", cell="sim")
    for k, src in enumerate((Source.POLICY, Source.HUMAN, Source.HOLD)):
        assert w.step(step(5, k, src))
    done = w.end(end(5, 3, "success"))
    assert done.committed and done.index == 0
    assert store.n_rows == 3 and store.n_episodes == 1
    assert store.column("source").tolist() == [0, 1, 2]
    assert store.column("intervening").tolist() == [False, True, False]  # HUMAN only: a HOLD is no operator step
    np.testing.assert_allclose(store.column("policy_action")[:, 0], [0, -0.1, -0.2], rtol=1e-6)
    np.testing.assert_allclose(store.column("t"), [0, 0.1, 0.2])
    ep = store.episodes
    assert ep["success"].tolist() == [True] and ep["terminal"].tolist() == [True]
    assert ep["truncated"].tolist() == [False] and ep["aborted"].tolist() == [False]
    np.testing.assert_allclose(ep["final_obs"][0], 53)


@pytest.mark.parametrize("steps,n_end,why", [
    ([2, 3, 4], 5, "its steps 0-1 never reached this writer"),  # a recorder restarted mid-episode
    ([0, 1, 3], 4, "step 3 arrived where step 2 was due"),
    ([0, 1], 3, "2 of its 3 steps reached this writer"),
])
def test_an_episode_with_a_hole_is_discarded_saying_why(store, steps, n_end, why):
    w = EpisodeWriter(store)
    for k in steps:
        w.step(step(0, k))
    done = w.end(end(0, n_end))
    assert not done.committed and done.why == why
    assert store.n_rows == 0 and store.n_pending == 0
    for k in range(2):  # the next episode is stored whole
        assert w.step(step(1, k))
    assert w.end(end(1, 2)).committed and store.n_rows == 2 and store.column("obs")[0, 0] == 10


def test_an_end_without_steps_or_of_another_episode_stores_nothing(store):
    w = EpisodeWriter(store)
    assert w.end(end(0, 0)).why == "it ended before its first step"
    w.step(step(1, 0))
    assert w.end(end(0, 1)).why == "none of its steps reached this writer"
    assert store.n_pending == 1  # episode 1's row waits for its own end
    assert w.end(end(1, 1)).committed


def test_an_episode_that_never_ended_is_dropped_when_the_next_begins(store):
    w = EpisodeWriter(store)
    w.step(step(0, 0))
    w.step(step(0, 1))
    w.step(step(1, 0))  # the clock restarted: episode 0 never ends
    assert store.n_pending == 1
    assert w.end(end(1, 1)).committed and store.n_rows == 1


def test_values_the_store_refuses_leave_nothing_half_written(store):
    w = EpisodeWriter(store)
    bad = Step(0, 0, 0.0, np.full(4, np.nan, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32),
               Source.POLICY)
    w.step(bad)
    done = w.end(end(0, 1))
    assert not done.committed and "non-finite obs" in done.why
    assert store.n_rows == 0 and store.n_pending == 0
