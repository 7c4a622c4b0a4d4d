"""The default SAC update is pinned bit for bit, and the CUDA-graph update (`agent.cuda_graph`,
learner/sac_graph.py) runs exactly the same maths (eagerly on CPU).

The digests below were computed with the update as it was before the CUDA-graph path existed
(same seed -> same weights, optimizer moments, metrics and next action after N updates); every
speed change must keep them. They hold for the torch build and CPU kernel family they were
computed on (matmul kernels differ between AVX2 and AVX-512 builds); elsewhere that test skips,
and the graph-vs-default comparisons still run.
"""
import hashlib

import numpy as np
import pytest
import torch

from learner.agents import make_agent
from learner.config import AgentConfig
from learner.errors import TrainingDiverged

pytestmark = pytest.mark.unit

CASES = {  # name: (updates, obs_dim, action_dim, AgentConfig fields), seed 3, CPU
    "small": (6, 5, 2, dict(hidden=(32, 32), n_critics=4, batch_size=16, utd=2)),
    "small_backup": (4, 5, 2, dict(hidden=(32, 32), n_critics=4, batch_size=16, utd=3, backup_entropy=True,
                                   critic_subset=3)),
    "nolayernorm": (3, 5, 2, dict(hidden=(16,), n_critics=2, batch_size=8, utd=1, layer_norm=False)),
    "paper": (3, 18, 6, dict(hidden=(256, 256), n_critics=10, batch_size=256, utd=4)),
}
# (torch.__version__, torch.backends.cpu.get_cpu_capability()) -> digests; a platform not listed
# here skips the check (other kernels round differently).
PINNED = {
    ("2.13.0+cpu", "AVX2"): {
        "small": "150f6ddeb9c335f2dbf72cb0a3d45a6b7c212f23d2027005f6ac2000c3e31131",
        "small_backup": "9cd765661628c34c248e8cad79ec5b156bd24f94d5fee5bbb5d28ba8f06e8147",
        "nolayernorm": "c7fa318f037198e918d758c887b3a84493c17c95de9fab1143b7f639d6865048",
        "paper": "274115e758c33fba7b3dfec621933598d277746a0687354770ff99e8e04af89f",
    },
    ("2.13.0+cpu", "AVX512"): {
        "small": "150f6ddeb9c335f2dbf72cb0a3d45a6b7c212f23d2027005f6ac2000c3e31131",
        "small_backup": "9cd765661628c34c248e8cad79ec5b156bd24f94d5fee5bbb5d28ba8f06e8147",
        "nolayernorm": "b11103c58df80d61348a5af42955f25c7950ac2bd5a02ffd6edcc464e99191ad",
        "paper": "274115e758c33fba7b3dfec621933598d277746a0687354770ff99e8e04af89f",
    },
}
# PyPI's CUDA build on a CPU (scripts/offrobot_env.sh): the same CPU kernels, the same digests
PINNED[("2.13.0+cu130", "AVX512")] = PINNED[("2.13.0+cpu", "AVX512")]


def batch(n: int, seed: int, obs: int = 5, act: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = np.float32
    return {"obs": rng.standard_normal((n, obs)).astype(f), "action": rng.uniform(-1, 1, (n, act)).astype(f),
            "next_obs": rng.standard_normal((n, obs)).astype(f), "reward": -(rng.random(n) < 0.2).astype(f),
            "mask": (rng.random(n) > 0.05).astype(f)}


def digest(agent, metrics: list[dict[str, float]]) -> str:
    """sha256 of every module tensor, log_alpha, every optimizer state tensor, the metrics and the
    next stochastic action (which also covers the generator's state)."""
    h = hashlib.sha256()
    for name, mod in agent.modules().items():
        for k, v in mod.state_dict().items():
            h.update(f"{name}.{k}".encode())
            h.update(v.detach().cpu().contiguous().numpy().tobytes())
    for k, v in agent.extra_tensors().items():
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    for name, opt in agent.optimizers().items():
        for i, st in sorted(opt.state_dict()["state"].items()):
            for k, v in sorted(st.items()):
                h.update(f"{name}.{i}.{k}".encode())
                h.update(torch.as_tensor(v).cpu().numpy().tobytes())
    for m in metrics:
        for k in sorted(m):
            h.update(k.encode())
            h.update(np.float64(m[k]).tobytes())
    h.update(agent.act(np.zeros(agent.obs_dim, np.float32)).tobytes())
    return h.hexdigest()


def run_case(name: str, **extra) -> tuple[object, list[dict[str, float]]]:
    n, obs, act, kw = CASES[name]
    agent = make_agent(AgentConfig(device="cpu", **kw, **extra), obs, act, seed=3)
    metrics = [agent.update(batch(agent.cfg.batch_size * agent.cfg.utd, i, obs, act)) for i in range(n)]
    return agent, metrics


@pytest.mark.parametrize("name", list(CASES))
def test_default_update_is_bit_identical_to_the_pinned_digest(name):
    here = (torch.__version__, torch.backends.cpu.get_cpu_capability())
    if here not in PINNED:
        pytest.skip(f"digests pinned on torch {sorted(PINNED)} kernels; this is {here}")
    agent, metrics = run_case(name)
    assert digest(agent, metrics) == PINNED[here][name]


@pytest.mark.parametrize("name", ["small", "small_backup", "nolayernorm"])
@pytest.mark.parametrize("every", [1, 3])
def test_graph_update_equals_the_default_update_bit_for_bit(name, every):
    ref, ref_metrics = run_case(name)
    g, g_metrics = run_case(name, cuda_graph=True, metrics_every=every)
    last = g._graphed.read_metrics()
    assert last == ref_metrics[-1]
    assert digest(g, [last]) == digest(ref, ref_metrics[-1:])
    assert (g.n_updates, g.n_grad_steps) == (ref.n_updates, ref.n_grad_steps)
    if every == 3:  # between read-backs update() returns the last metrics read (no host sync)
        assert g_metrics[:2] == [{}, {}] and g_metrics[2] == ref_metrics[2]
        assert all(m == ref_metrics[2] for m in g_metrics[3:5])


def test_graph_update_at_the_papers_size_equals_the_default():
    ref, ref_metrics = run_case("paper")
    g, g_metrics = run_case("paper", cuda_graph=True)
    assert g_metrics == ref_metrics and digest(g, g_metrics[-1:]) == digest(ref, ref_metrics[-1:])


def test_sampler_can_fill_the_staging_buffer_in_place():
    ref, _ = run_case("small")
    g, _ = run_case("small", cuda_graph=True)
    b = batch(32, 99)
    views = g._graphed.host_batch()
    for k, v in views.items():
        v[...] = b[k]  # the sampler writes straight into the buffer the update sends
    assert g.update(views) == ref.update(b)
    assert digest(g, []) == digest(ref, [])
    with pytest.raises(ValueError, match="differ from the first batch"):
        g.update(batch(64, 1))


def test_graph_update_skips_a_non_finite_step_on_the_device_and_raises_at_read_back():
    g, _ = run_case("small", cuda_graph=True, metrics_every=2)
    critic = {k: v.clone() for k, v in g.critic.state_dict().items()}
    moments = {k: v.clone() for k, v in g.critic_opt.state_dict()["state"][0].items()}
    bad = batch(32, 7)
    bad["reward"][:] = 3e38  # finite input, the squared TD error overflows: both critic steps are skipped
    assert g.update(bad) == g._graphed._last  # no read-back yet: nothing raised
    for k, v in g.critic.state_dict().items():
        assert torch.equal(v, critic[k]), k
    for k, v in g.critic_opt.state_dict()["state"][0].items():
        assert torch.equal(v, moments[k]), k  # step count included: the skipped step is not counted
    with pytest.raises(TrainingDiverged, match="2 non-finite"):
        g.update(batch(32, 8))  # the read-back after the 2nd update reports it
    assert g.diverged
    with pytest.raises(TrainingDiverged, match="diverged earlier"):
        g.update(batch(32, 9))


def test_graph_mode_rejects_bad_batches_like_the_default():
    g, _ = run_case("small", cuda_graph=True)
    b = batch(32, 1)
    b["obs"][3, 0] = np.inf
    with pytest.raises(ValueError, match="'obs' holds NaN/inf"):
        g.update(b)
    with pytest.raises(ValueError, match="multiple of utd"):
        g.update(batch(31, 1))
    assert g.n_updates == CASES["small"][0] and not g.diverged


def test_metrics_every_is_validated():
    with pytest.raises(ValueError, match="metrics_every"):
        AgentConfig(metrics_every=0).validate()


def test_a_graph_agents_checkpoint_resumes_exactly_in_either_mode(tmp_path):
    from learner.checkpoint import load_checkpoint, save_checkpoint

    n, obs, act, kw = CASES["small"]
    batches = [batch(32, 100 + i) for i in range(4)]
    ref = make_agent(AgentConfig(device="cpu", **kw), obs, act, seed=3)
    ref_metrics = [ref.update(b) for b in batches]
    ref_digest = digest(ref, [])  # (once: the digest's act() advances the generator)
    g = make_agent(AgentConfig(device="cpu", cuda_graph=True, **kw), obs, act, seed=3)
    for b in batches[:2]:
        g.update(b)
    save_checkpoint(tmp_path, g)
    for mode in ({}, {"cuda_graph": True}):
        resumed = make_agent(AgentConfig(device="cpu", **kw, **mode), obs, act, seed=99)  # other init
        load_checkpoint(tmp_path, resumed)
        m = [resumed.update(b) for b in batches[2:]]
        assert m == ref_metrics[2:] and digest(resumed, []) == ref_digest, mode
