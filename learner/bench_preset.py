"""The experiment presets' learner on its own: what one RLIF cell of `rlif experiment` waits for.

The presets train a small RLPD (`learner.experiment.SMALL_RLPD`: 5 critics of 128x128, UTD 2,
one CPU thread per cell) once per env step, so over a 30k-step cell the update is most of the
cell's wall time. This times that update (batch 256 x UTD 2 rows from numpy, as the cell's loop
hands it over) for the variants a user can pick with `--set`:
- eager: the presets as shipped;
- compiled: `agent.compile=true` (torch.compile'd losses, fp32; different float rounding, the same
  maths);
- compiled_bf16: also `agent.matmul_dtype=bf16` (bf16 matmuls under autocast, fp32 weights,
  LayerNorm and losses). Fast only where the CPU multiplies bf16 natively (x86 `avx512_bf16` or
  `amx_bf16`, Arm `bf16`; `cpu_bf16_native`); elsewhere torch emulates it and it is slower.
Variants are interleaved in rounds, the median round reported (a shared machine is noisy).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from learner.bench_learner import VARIANTS as BENCH_VARIANTS
from learner.bench_learner import random_batches

VARIANTS = {k: BENCH_VARIANTS[k] for k in ("eager", "compiled", "compiled_bf16")}
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # /proc/cpuinfo flags of native bf16 arithmetic


def cpu_bf16_native(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when this CPU's flags include native bf16 arithmetic (False where unknown)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return any(flag in value.split() for flag in BF16_FLAGS)
    return False


def run(quick: bool = False, progress: bool = True) -> dict:
    """ms per update of the presets' learner per variant (quick: eager only, a few updates)."""
    from learner.agents import make_agent
    from learner.config import AgentConfig
    from learner.experiment import SMALL_RLPD

    obs, act = 18, 6
    fields = {**SMALL_RLPD, "hidden": tuple(SMALL_RLPD["hidden"]), "device": "cpu"}
    names = ["eager"] if quick else list(VARIANTS)
    warm, n, rounds = (1, 3, 1) if quick else (20, 100, 3)
    threads_before = torch.get_num_threads()  # make_agent sets the preset's 1 thread: restored after
    try:
        agents = {}
        for name in names:
            if progress:
                print(f"presets' learner: warming up {name} ...", file=sys.stderr)
            cfg = AgentConfig(**fields, **VARIANTS[name])
            agents[name] = make_agent(cfg, obs, act, seed=0)
            batches = random_batches(4, np.random.default_rng(0), cfg.batch_size * cfg.utd, obs, act)
            for i in range(warm):  # torch.compile compiles here
                agents[name].update(batches[i % len(batches)])
        ms: dict[str, list[float]] = {k: [] for k in names}
        for _ in range(rounds):
            for name in names:
                t0 = time.perf_counter()
                for i in range(n):
                    agents[name].update(batches[i % len(batches)])
                ms[name].append((time.perf_counter() - t0) / n * 1e3)
    finally:
        torch.set_num_threads(threads_before)
    med = {k: float(np.median(v)) for k, v in ms.items()}
    out: dict = {f"preset_{k}_ms_per_update": round(v, 2) for k, v in med.items()}
    out.update({f"preset_{k}_speedup": round(med["eager"] / med[k], 3) for k in names if k != "eager"})
    out.update({"preset_threads": fields["threads"], "preset_n_critics": fields["n_critics"],
                "preset_hidden": list(fields["hidden"]), "preset_utd": fields["utd"],
                "cpu_bf16_native": cpu_bf16_native()})
    return out
