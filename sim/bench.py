"""`rlif bench sim`: twin speed in-process (target >= 100x real time, docs/architecture.md).

Times `TwinCell.apply` only (physics + the cell's own Python: targets, force checks,
observation), on the default cell, over whole episodes driven by the mid scripted expert (a
realistic mix of free motion, landing on the board, searching in contact and insertion). Also
reports the free-space figure (no contact at all) and the contact-only figure, since contact
costs dominate. Expert time is excluded. `real_time_factor` is wall-clock (noisy on a shared
machine); `cpu_real_time_factor` uses this process's CPU time (what the twin would get on an
idle core).
"""
from __future__ import annotations

import sys
import time

import mujoco
import numpy as np

from sim.cell import TwinCell
from sim.config import CellConfig
from sim.experts import ScriptedExpert


def run(quick: bool = False, progress: bool = True) -> dict:
    cfg = CellConfig()
    cell = TwinCell(cfg)
    expert = ScriptedExpert("mid", seed=0, cell_cfg=cfg)
    episodes = 3 if quick else 20
    period_s = 1.0 / cfg.control_hz
    steps_per_period = round(period_s / cfg.physics_dt_s)
    t_apply = cpu_apply = 0.0
    n_periods = n_contact = 0
    t_contact = 0.0
    for i in range(episodes):
        obs, info = cell.reset(seed=10_000 + i)
        expert.reset()
        for _ in range(cfg.episode_steps):
            a = expert.act(obs, info)
            t0, c0 = time.perf_counter(), time.process_time()
            obs, term, trunc, info = cell.apply(a)
            dt = time.perf_counter() - t0
            cpu_apply += time.process_time() - c0
            t_apply += dt
            n_periods += 1
            if cell.data.ncon > 0:
                n_contact += 1
                t_contact += dt
            if term or trunc:
                break
        if progress:
            print(f"bench sim: episode {i + 1}/{episodes}", file=sys.stderr, flush=True)
    free_rtf = _free_space_rtf(cell, 20 if quick else 100)
    sim_s = n_periods * period_s
    return {
        "real_time_factor": round(sim_s / t_apply, 1),
        "physics_steps_per_s": round(n_periods * steps_per_period / t_apply),
        "cpu_real_time_factor": round(sim_s / max(cpu_apply, 1e-9), 1),
        "free_space_real_time_factor": round(free_rtf, 1),
        "contact_real_time_factor": round(n_contact * period_s / t_contact, 1) if n_contact else None,
        "contact_fraction": round(n_contact / n_periods, 3),
        "control_periods": n_periods,
        "physics_dt_s": cfg.physics_dt_s,
        "mujoco": mujoco.__version__,
    }


def _free_space_rtf(cell: TwinCell, periods: int) -> float:
    cell.reset(seed=1)
    rng = np.random.default_rng(0)
    t = 0.0
    for k in range(periods):
        a = rng.uniform(-0.3, 0.3, cell.action_dim)
        a[2] = 0.3 if k % 2 == 0 else -0.3        # stay above the board
        t0 = time.perf_counter()
        cell.apply(a)
        t += time.perf_counter() - t0
    return periods / t / cell.cfg.control_hz
