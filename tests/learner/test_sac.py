"""RLPD/SAC: batched ensemble == per-member maths, learning from labeled rewards, RLIF labels,
NaN guard."""
import numpy as np
import pytest
import torch

from learner.agents import make_agent
from learner.errors import TrainingDiverged
from learner.nets import EnsembleCritic
from tests.learner.helpers import params_equal, random_batch, small_agent, small_cfg

pytestmark = pytest.mark.unit


# ---- ensemble equivalence -------------------------------------------------------------------
@pytest.mark.parametrize("layer_norm", [True, False])
def test_batched_ensemble_equals_per_member_computation(layer_norm):
    torch.manual_seed(0)
    c = EnsembleCritic(7, (32, 16), n_members=5, layer_norm=layer_norm)
    with torch.no_grad():  # non-trivial LayerNorm affine
        for s, b in zip(c.ln_scales, c.ln_shifts):
            s.uniform_(0.5, 1.5), b.uniform_(-0.2, 0.2)
    obs, act = torch.randn(11, 5), torch.randn(11, 2)
    q = c(obs, act)
    assert q.shape == (5, 11)
    for k in range(5):
        assert torch.allclose(q[k], c.member_forward(k, obs, act), atol=1e-5)
    sub = torch.tensor([3, 1])
    assert torch.allclose(c(obs, act, members=sub), q[sub], atol=1e-6)
    # gradients: the batched loss gives each member the gradient of its own loss
    y = torch.randn(11)
    c.zero_grad()
    (c(obs, act) - y).pow(2).mean(1).sum().backward()
    batched = [p.grad.clone() for p in c.parameters()]
    c.zero_grad()
    sum((c.member_forward(k, obs, act) - y).pow(2).mean() for k in range(5)).backward()
    for g, p in zip(batched, c.parameters()):
        assert torch.allclose(g, p.grad, atol=1e-5)


def test_members_are_independent_at_init():
    c = EnsembleCritic(4, (8,), n_members=3)
    assert not torch.equal(c.weights[0][0], c.weights[0][1])


def test_same_seed_same_agent_and_updates():
    a, b = small_agent(seed=5), small_agent(seed=5)
    assert params_equal(a, b)
    batch = random_batch(32)
    assert a.update(batch) == b.update(batch) and params_equal(a, b)
    assert not params_equal(a, small_agent(seed=6))


def test_update_contract():
    a = small_agent()  # utd 2, batch 16
    assert a.sample_spec["batch_size"] == 32
    m = a.update(random_batch(32))
    assert {"critic_loss", "actor_loss", "alpha", "entropy", "q_mean"} <= set(m)
    assert all(isinstance(v, float) for v in m.values())
    assert a.n_updates == 1 and a.n_grad_steps == 2  # utd critic steps per update
    with pytest.raises(ValueError, match="multiple of utd"):
        a.update(random_batch(31))
    with pytest.raises(ValueError, match="lacks"):
        a.update({"obs": np.zeros((32, 5), np.float32)})
    act = a.act(np.zeros(5))
    assert act.shape == (2,) and act.dtype == np.float32 and np.all(np.abs(act) <= 1)
    assert a.target_entropy == -1.0  # -|A|/2


# ---- NaN guard --------------------------------------------------------------------------------
def _snapshot(agent):
    return {n: {k: v.clone() for k, v in m.state_dict().items()} for n, m in agent.modules().items()}


def test_non_finite_loss_stops_before_any_parameter_changes():
    a = small_agent(utd=1)
    a.update(random_batch(16))
    before = _snapshot(a)
    opt_before = {k: v.clone() for k, v in a.critic_opt.state_dict()["state"][0].items()}
    bad = random_batch(16, seed=1)
    bad["reward"][:] = 3e38  # finite input, but the squared TD error overflows to inf
    with pytest.raises(TrainingDiverged, match="non-finite loss"):
        a.update(bad)
    after = _snapshot(a)
    for n in before:
        for k in before[n]:
            assert torch.equal(before[n][k], after[n][k]), (n, k)
    for k, v in a.critic_opt.state_dict()["state"][0].items():
        assert torch.equal(v, opt_before[k])
    assert a.diverged
    with pytest.raises(TrainingDiverged, match="diverged earlier"):
        a.update(random_batch(16))


def test_non_finite_batch_is_rejected_before_training():
    a = small_agent()
    b = random_batch(32)
    b["obs"][4, 1] = np.nan
    with pytest.raises(ValueError, match="'obs' holds NaN"):
        a.update(b)
    assert a.n_updates == 0 and not a.diverged


# ---- learning -----------------------------------------------------------------------------
class PointMass:
    """2-D point mass; action = velocity (x 0.15 per step); reward -|p'| (labels, not shaping code
    inside the agent); an episode is 15 steps from a random start in [-1, 1]^2."""

    def __init__(self, rng):
        self.rng = rng

    def reset(self):
        self.p, self.t = self.rng.uniform(-1, 1, 2).astype(np.float32), 0
        return self.p.copy()

    def step(self, a):
        self.p = np.clip(self.p + 0.15 * np.clip(a, -1, 1), -1.5, 1.5).astype(np.float32)
        self.t += 1
        return self.p.copy(), -float(np.linalg.norm(self.p)), self.t >= 15


def _rollout_distance(agent, env, episodes=20):
    d = []
    for _ in range(episodes):
        o, done = env.reset(), False
        while not done:
            o, _, done = env.step(agent.act(o, deterministic=True))
        d.append(np.linalg.norm(o))
    return float(np.mean(d))


def test_sac_learns_to_reach_a_target():
    torch.manual_seed(0)
    cfg = small_cfg(hidden=(64, 64), n_critics=4, batch_size=64, utd=2, gamma=0.9, lr=1e-3)
    agent = make_agent(cfg, 2, 2, seed=0)
    rng = np.random.default_rng(0)
    env = PointMass(rng)
    n_steps, warmup = 1000, 200
    buf = {k: np.zeros((n_steps, d), np.float32) for k, d in
           (("obs", 2), ("action", 2), ("next_obs", 2), ("reward", 1), ("mask", 1))}
    start = _rollout_distance(agent, PointMass(np.random.default_rng(1)))
    o = env.reset()
    for step in range(n_steps):
        a = rng.uniform(-1, 1, 2).astype(np.float32) if step < warmup else agent.act(o)
        o2, r, done = env.step(a)
        for k, v in zip(buf, (o, a, o2, r, 1.0)):  # time limit = truncation: mask stays 1
            buf[k][step] = v
        o = env.reset() if done else o2
        if step >= warmup:
            idx = rng.integers(0, step + 1, cfg.batch_size * cfg.utd)
            agent.update({k: v[idx] for k, v in buf.items()})
    end = _rollout_distance(agent, PointMass(np.random.default_rng(1)))
    assert end < 0.2 and end < 0.5 * start, (start, end)


def test_rlif_labels_move_the_critic():
    """A chain of states walked left to right; the operator takes over at state 10, so the
    policy step from state 9 is labeled -1 (RLIF), every other step 0. The critic must score
    the state right before the takeover lower than its neighbours."""
    cfg = small_cfg(hidden=(64, 64), n_critics=4, batch_size=64, utd=1, gamma=0.8, lr=1e-3)
    agent = make_agent(cfg, 1, 1, seed=0)
    rng = np.random.default_rng(0)
    x = np.arange(20, dtype=np.float32) / 20
    obs, nxt = x[:, None], np.append(x[1:], x[-1])[:, None]
    reward = np.zeros(20, np.float32)
    reward[9] = -1.0  # the policy transition right before the takeover
    mask = np.ones(20, np.float32)
    mask[-1] = 0.0
    for _ in range(600):
        i = rng.integers(0, 20, 64)
        agent.update({"obs": obs[i], "next_obs": nxt[i], "reward": reward[i], "mask": mask[i],
                      "action": rng.uniform(-1, 1, (64, 1)).astype(np.float32)})  # action-independent
    with torch.no_grad():
        q = agent.critic(torch.as_tensor(obs), torch.zeros(20, 1)).mean(0).numpy()
    assert int(np.argmin(q)) in (8, 9), q.round(2)  # the critic is smooth: allow one state of blur
    assert q[9] < q[6] - 0.05 and q[9] < q[12] - 0.1, q.round(2)  # lower than its neighbours
    assert q[9] < q[2] - 0.2 and q[9] < q[17] - 0.4, q.round(2)  # and far below distant states


# ---- compile / bf16 options ---------------------------------------------------------------
def test_compile_failure_falls_back_to_eager(monkeypatch):
    def broken_compile(fn, **kw):
        def call(*a):
            raise RuntimeError("no C++ compiler here")
        return call
    monkeypatch.setattr(torch, "compile", broken_compile)
    a, ref = small_agent(compile=True), small_agent()
    batch = random_batch(32)
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        ma = a.update(batch)
    assert ma == ref.update(batch) and params_equal(a, ref)


@pytest.mark.slow
def test_compiled_and_bf16_updates_track_eager():
    batch = random_batch(32)
    ref = small_agent()
    m_ref = ref.update(batch)
    for kw, tol in (({"compile": True}, 1e-4), ({"matmul_dtype": "bf16"}, 0.05)):
        a = small_agent(**kw)
        m = a.update(batch)
        assert abs(m["critic_loss"] - m_ref["critic_loss"]) <= tol * max(1.0, abs(m_ref["critic_loss"])), (kw, m)
        assert abs(m["actor_loss"] - m_ref["actor_loss"]) <= tol * max(1.0, abs(m_ref["actor_loss"])), (kw, m)


def test_utd_split_keeps_the_symmetric_mix_in_every_minibatch():
    a = small_agent(utd=4, batch_size=8)  # sample_spec batch_size 32: 16 prior rows then 16 online
    b = random_batch(32)
    b["obs"][:16, 0], b["obs"][16:, 0] = 1.0, -1.0  # mark prior / online rows
    mbs = a._split(b)
    assert len(mbs) == 4
    for mb in mbs:
        col = mb["obs"][:, 0]
        assert len(col) == 8 and int((col == 1.0).sum()) == 4 and int((col == -1.0).sum()) == 4
