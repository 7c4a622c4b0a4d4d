"""The CUDA-graph update on a real GPU (`agent.cuda_graph`, learner/sac_graph.py): captured after
the warm-up, replayed, and the same maths as the eager update on the same device.

These run where CUDA is present (a GPU learner box, the device machine); without CUDA they skip,
and tests/learner/test_sac_numerics.py checks the same code path eagerly on CPU bit for bit.
"""
import numpy as np
import pytest
import torch

from learner.agents import make_agent
from learner.config import AgentConfig
from learner.errors import TrainingDiverged
from learner.sac_graph import WARMUP
from tests.learner.test_sac_numerics import batch

pytestmark = [pytest.mark.unit,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (a GPU box)")]

SMALL = dict(hidden=(64, 64), n_critics=4, batch_size=32, utd=2)
OBS, ACT = 18, 6


def agent(**kw):
    return make_agent(AgentConfig(device="cuda", **{**SMALL, **kw}), OBS, ACT, seed=3)


def batches(n: int, rows: int = 64, first: int = 0):
    return [batch(rows, first + i, OBS, ACT) for i in range(n)]


def params(a) -> dict[str, torch.Tensor]:
    return {f"{m}.{k}": v.detach().clone() for m, mod in a.modules().items() for k, v in mod.state_dict().items()}


def assert_same(p: dict, q: dict, rtol=1e-5, atol=1e-6):
    assert p.keys() == q.keys()
    for k in p:
        torch.testing.assert_close(p[k], q[k], rtol=rtol, atol=atol, msg=lambda m, k=k: f"{k}: {m}")


def test_the_update_is_captured_and_replays_the_eager_maths():
    eager, graph = agent(), agent(cuda_graph=True, metrics_every=1)
    data = batches(WARMUP + 8)
    m_eager = [eager.update(b) for b in data]
    m_graph = [graph.update(b) for b in data]
    g = graph._graphed
    assert g.use_graph and g._graph is not None, "not captured after the warm-up"
    assert g._eager_runs == WARMUP  # every later update was a replay (fresh noise each: it matches eager)
    for a, b in zip(m_eager, m_graph):
        assert a.keys() == b.keys()
        for k in a:
            assert b[k] == pytest.approx(a[k], rel=1e-4, abs=1e-5), k
    assert_same(params(eager), params(graph))
    assert graph.n_updates == eager.n_updates == len(data)


def test_a_non_finite_step_is_skipped_on_the_device_and_raised_at_read_back():
    graph = agent(cuda_graph=True, metrics_every=2)
    for b in batches(WARMUP + 1):  # captured (the last one), at a read-back boundary
        graph.update(b)
    critic = {k: v.clone() for k, v in graph.critic.state_dict().items()}
    bad = batch(64, 7, OBS, ACT)
    bad["reward"][:] = 3e38  # finite input whose squared TD error overflows
    graph.update(bad)
    for k, v in graph.critic.state_dict().items():
        assert torch.equal(v, critic[k]), k
    with pytest.raises(TrainingDiverged, match="non-finite"):
        graph.update(batch(64, 8, OBS, ACT))


def test_loading_a_checkpoint_recaptures_and_continues_like_eager(tmp_path):
    from learner.checkpoint import load_checkpoint, save_checkpoint

    data = batches(WARMUP + 6)
    src = agent()
    for b in data[:3]:
        src.update(b)
    save_checkpoint(tmp_path, src)
    eager, graph = agent(), agent(cuda_graph=True, metrics_every=1)
    for b in data[:WARMUP + 2]:
        graph.update(b)  # captured against its own optimizer state first
    load_checkpoint(tmp_path, eager)
    load_checkpoint(tmp_path, graph)
    rest = batches(WARMUP + 4, first=100)
    m_eager = [eager.update(b) for b in rest]
    m_graph = [graph.update(b) for b in rest]
    assert graph._graphed._graph is not None
    for a, b in zip(m_eager, m_graph):
        for k in a:
            assert b[k] == pytest.approx(a[k], rel=1e-4, abs=1e-5), k
    assert_same(params(eager), params(graph))


def test_a_sampler_can_fill_the_pinned_staging_buffer_in_place():
    eager, graph = agent(), agent(cuda_graph=True, metrics_every=1)
    for b in batches(WARMUP + 2):
        eager.update(b)
        graph.update(b)
    b = batch(64, 50, OBS, ACT)
    views = graph._graphed.host_batch()
    for k, v in views.items():
        v[...] = b[k]
    m_graph, m_eager = graph.update(views), eager.update(b)
    for k in m_eager:
        assert m_graph[k] == pytest.approx(m_eager[k], rel=1e-4, abs=1e-5), k
    assert np.isfinite(list(m_graph.values())).all()
