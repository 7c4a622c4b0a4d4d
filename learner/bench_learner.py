"""`rlif bench learner`: full SAC updates/s, batched ensemble vs a plain per-critic loop.

Both sides do the same work per update at batch 256, 10 critics, 18-D obs, 6-D action, utd 1:
one critic step (target from 2 random target members, soft update), one actor step and one
temperature step, starting from numpy batches (host -> torch conversion included).
- "updates_per_s": `learner.sac.SACAgent` (stacked-weight ensemble, batched matmuls, fused Adam,
  one host transfer of metrics per update).
- "baseline_updates_per_s": the plain way: 10 separate `nn.Sequential` critics (Linear,
  LayerNorm, ReLU) called in a Python loop, default `torch.optim.Adam`, a per-parameter soft
  update loop, `.item()` per metric.
- "graph*": `agent.cuda_graph` (learner/sac_graph.py): one CUDA graph replay per update, metrics
  read back every 100 updates; without CUDA the same code runs eagerly (`graph_captured` false).
- "train_step_*": the learner node's training step (`learner.train_step`: a sample from a real
  replay store, then the update) at UTD 20, the RLPD real-robot ratio; target 200 critic steps/s
  (learner/bench_train_step.py).
- "preset_*": the experiment presets' small learner (5 critics of 128x128, UTD 2, 1 thread), ms
  per update eager, compiled and compiled bf16, and whether the CPU has native bf16
  (learner/bench_preset.py): what an RLIF cell of `rlif experiment` waits for.
- "matmul_only_updates_per_s": only the update's matmuls (same shapes, torch's BLAS), i.e. what
  no eager fp32 implementation of these FLOPs can beat (`matmul_only_speedup` vs the plain loop).
CPU with torch's default thread count (all cores), or CUDA when present (`device`,
`device_name`). Numbers are noisy on a shared machine (and OpenMP threads collapse under
oversubscription): the variants are interleaved in rounds, the median round is reported, with
the 1-minute load average.
"""
from __future__ import annotations

import copy
import math
import sys
import time

import numpy as np
import torch
from torch import nn

from learner import bench_train_step
from learner.config import AgentConfig
from learner.nets import TanhGaussianActor

OBS, ACT, BATCH, N_CRITICS, HIDDEN = 18, 6, 256, 10, (256, 256)


class PlainSAC:
    """Reference SAC written the plain way (a loop over separate critic modules)."""

    def __init__(self, device: torch.device, seed: int = 0):
        torch.manual_seed(seed)
        self.device = device
        self.actor = TanhGaussianActor(OBS, ACT, HIDDEN).to(device)

        def critic() -> nn.Module:
            h = HIDDEN
            return nn.Sequential(nn.Linear(OBS + ACT, h[0]), nn.LayerNorm(h[0]), nn.ReLU(),
                                 nn.Linear(h[0], h[1]), nn.LayerNorm(h[1]), nn.ReLU(),
                                 nn.Linear(h[1], 1)).to(device)

        self.critics = nn.ModuleList(critic() for _ in range(N_CRITICS))
        self.targets = copy.deepcopy(self.critics).requires_grad_(False)
        self.log_alpha = torch.zeros((), device=device, requires_grad=True)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=3e-4)
        self.critic_opt = torch.optim.Adam(self.critics.parameters(), lr=3e-4)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=3e-4)

    def update(self, b: dict[str, np.ndarray]) -> dict[str, float]:
        t = {k: torch.as_tensor(v, device=self.device) for k, v in b.items()}
        with torch.no_grad():
            a2, _ = self.actor.sample(t["next_obs"])
            x2 = torch.cat([t["next_obs"], a2], -1)
            idx = torch.randperm(N_CRITICS)[:2].tolist()
            q2 = torch.min(torch.stack([self.targets[i](x2).squeeze(-1) for i in idx]), 0).values
            y = t["reward"] + 0.99 * t["mask"] * q2
        x = torch.cat([t["obs"], t["action"]], -1)
        loss = sum(((c(x).squeeze(-1) - y) ** 2).mean() for c in self.critics) / N_CRITICS
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()
        with torch.no_grad():
            for p, tp in zip(self.critics.parameters(), self.targets.parameters()):
                tp.mul_(1 - 0.005).add_(0.005 * p)
        a, logp = self.actor.sample(t["obs"])
        xa = torch.cat([t["obs"], a], -1)
        for c in self.critics:
            c.requires_grad_(False)
        q = torch.stack([c(xa).squeeze(-1) for c in self.critics]).mean(0)
        for c in self.critics:
            c.requires_grad_(True)
        alpha = self.log_alpha.exp()
        actor_loss = (alpha.detach() * logp - q).mean()
        temp_loss = alpha * (-logp.detach().mean() + ACT / 2)
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        self.alpha_opt.zero_grad()
        temp_loss.backward()
        self.alpha_opt.step()
        return {"critic_loss": loss.item(), "actor_loss": actor_loss.item(), "alpha": alpha.item()}


def random_batches(n: int, rng: np.random.Generator, rows: int = BATCH, obs: int = OBS,
                   act: int = ACT) -> list[dict[str, np.ndarray]]:
    """`n` synthetic SAC batches of `rows` rows, as numpy arrays (what `update` is handed)."""
    f = np.float32
    return [{"obs": rng.standard_normal((rows, obs)).astype(f),
             "action": rng.uniform(-1, 1, (rows, act)).astype(f),
             "next_obs": rng.standard_normal((rows, obs)).astype(f),
             "reward": -(rng.random(rows) < 0.05).astype(f),
             "mask": (rng.random(rows) > 0.01).astype(f)} for _ in range(n)]


def _rate(update, batches: list, n: int) -> float:
    if n <= 0:
        return math.nan
    t0 = time.perf_counter()
    for i in range(n):
        update(batches[i % len(batches)])
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


# name -> AgentConfig fields. graph*: agent.cuda_graph (one CUDA graph replay per update on CUDA;
# without CUDA the same update code runs eagerly), metrics read back every READBACK updates.
READBACK = 100
VARIANTS = {
    "eager": {},
    "compiled": {"compile": True},
    "compiled_bf16": {"compile": True, "matmul_dtype": "bf16"},
    "graph": {"cuda_graph": True, "metrics_every": READBACK},
    "graph_compiled": {"cuda_graph": True, "metrics_every": READBACK, "compile": True},
}
BF16 = ("compiled_bf16",)  # not the precision of the plain loop: never the headline figure


def _variant(name: str, batches, warm: int) -> tuple[str, object, float]:
    from learner.agents import make_agent

    cfg = AgentConfig(n_critics=N_CRITICS, hidden=HIDDEN, batch_size=BATCH, utd=1, device="auto", **VARIANTS[name])
    agent = make_agent(cfg, OBS, ACT, seed=0)
    t0 = time.perf_counter()
    _rate(agent.update, batches, warm)  # includes torch.compile's compilation and graph capture
    return name, agent, time.perf_counter() - t0


def matmul_only(device: torch.device):
    """`update()` doing only the matmuls of one SAC update (same shapes, torch's own BLAS through
    aten mm/bmm, nothing else): ~1.9 GFLOP. What an eager fp32 implementation of these FLOPs
    cannot beat; a compiled variant may pick other GEMM kernels and pass it."""
    e, h, i = N_CRITICS, HIDDEN[0], OBS + ACT
    r = lambda *s: torch.randn(*s, device=device)  # noqa: E731
    x, w1, w2, w3 = r(BATCH, i), r(e, i, h), r(e, h, h), r(e, h, 1)
    h1, g, g3 = r(e, BATCH, h), r(e, BATCH, h), r(e, BATCH, 1)
    a1, a2, a3, ao, ah, ag = r(OBS, h), r(h, h), r(h, 2 * ACT), r(BATCH, OBS), r(BATCH, h), r(BATCH, 2 * ACT)

    def critic(k: int, wgrad: bool, dx: bool, bwd: bool = True) -> None:
        torch.matmul(x, w1[:k]), torch.bmm(h1[:k], w2[:k]), torch.bmm(h1[:k], w3[:k])
        if not bwd:
            return
        torch.bmm(g3, w3.transpose(1, 2)), torch.bmm(g, w2.transpose(1, 2))
        if wgrad:
            torch.bmm(h1.transpose(1, 2), g3), torch.bmm(h1.transpose(1, 2), g), torch.matmul(x.t(), g)
        if dx:
            torch.bmm(g, w1.transpose(1, 2))

    def actor(bwd: bool) -> None:
        ao @ a1, ah @ a2, ah @ a3
        if bwd:
            ag @ a3.t(), ah.t() @ ag, ah @ a2.t(), ah.t() @ ah, ao.t() @ ah

    def update(_batch=None) -> None:
        actor(False), critic(2, False, False, bwd=False), critic(e, True, False)  # critic step
        actor(True), critic(e, False, True)  # actor step: gradient to the action only

    return update


def run(quick: bool = False, progress: bool = True) -> dict:
    """Median-of-rounds updates/s per variant; `updates_per_s` = fastest fp32 variant.

    Variants (VARIANTS): eager (batched ensemble), compiled (torch.compile'd losses, fp32),
    compiled_bf16 (bf16 matmuls via autocast: NOT the precision of the plain loop, reported
    separately), graph and graph_compiled (agent.cuda_graph: captured on CUDA, the same code
    eagerly elsewhere; `graph_captured` says which). Also `matmul_only_updates_per_s`: the
    update's matmuls alone (interleaved in the same rounds). `--quick`: eager and graph, a few
    updates.
    """
    batches = random_batches(8, np.random.default_rng(0))
    names = ["eager", "graph"] if quick else list(VARIANTS)
    warm, n, rounds = (2, 5, 1) if quick else (10, 200 if torch.cuda.is_available() else 40, 5)
    agents, compile_s = {}, {}
    for name in names:
        if progress:
            print(f"warming up {name} ...", file=sys.stderr)
        _, agents[name], compile_s[name] = _variant(name, batches, warm)
    device = agents["eager"].device
    plain = PlainSAC(device)
    _rate(plain.update, batches, warm)
    matmuls = matmul_only(device)
    _rate(matmuls, batches, warm)
    rates: dict[str, list[float]] = {k: [] for k in [*names, "plain", "matmul_only"]}
    for r in range(rounds):  # interleave so load changes on a shared machine hit every side
        for name in names:
            rates[name].append(_rate(agents[name].update, batches, n))
        rates["plain"].append(_rate(plain.update, batches, n))
        rates["matmul_only"].append(_rate(matmuls, batches, n))
        if progress:
            print(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:.1f}/s" for k, v in rates.items()),
                  file=sys.stderr)
    med = {k: float(np.median(v)) for k, v in rates.items()}
    floor = med["matmul_only"]
    best = max((k for k in names if k not in BF16), key=lambda k: med[k])
    b = med["plain"]
    out = {"updates_per_s": round(med[best], 2), "baseline_updates_per_s": round(b, 2),
           "speedup": round(med[best] / b, 3) if b > 0 else math.nan, "best_fp32_variant": best}
    for k in names:
        out[f"{k}_updates_per_s"] = round(med[k], 2)
        out[f"{k}_speedup"] = round(med[k] / b, 3) if b > 0 else math.nan
        out[f"{k}_warmup_s"] = round(compile_s[k], 1)
    graphed = agents["graph"]._graphed
    out.update({"matmul_only_updates_per_s": round(floor, 2),
                "matmul_only_speedup": round(floor / b, 3) if b > 0 else math.nan,
                "graph_captured": bool(graphed.use_graph and graphed._graph is not None),
                "graph_metrics_every": READBACK,
                "device": str(device), "device_name": _device_name(device), "torch": torch.__version__,
                "cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
                "batch": BATCH, "n_critics": N_CRITICS, "obs_dim": OBS, "action_dim": ACT,
                "updates_per_round": n, "rounds": rounds, "load_avg_1min": round(_load(), 2)})
    if progress:
        print("train_step at the RLPD real-robot ratio (learner/bench_train_step.py) ...", file=sys.stderr)
    out.update(bench_train_step.run(quick=quick))
    from learner import bench_preset  # it reads this module's variants and batches

    out.update(bench_preset.run(quick=quick, progress=progress))
    return out


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _load() -> float:
    try:
        import os

        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return math.nan
