"""`rlif bench sim`: twin speed in-process (target >= 100x real time, docs/architecture.md).

Times `TwinCell.apply` only (physics + the cell's own Python: targets, force checks,
observation), on the default cell, over whole episodes driven by the mid scripted expert (a
realistic mix of free motion, landing on the board, searching in contact and insertion). Also
reports the free-space figure (no contact at all) and the contact-only figure, since contact
costs dominate. Expert time is excluded. `real_time_factor` is wall-clock (noisy on a shared
machine); `cpu_real_time_factor` uses this process's CPU time (what the twin would get on an
idle core). The same episodes are also timed with the opt-in `cell.physics_dt_s=0.002` (half the
physics steps; a physics change, not the default): `dt2ms_*`. Image observations
(`vision.image_size`): the median time of one wrist frame at 64 and 128 pixels, `wrist_frame_ms_*`
(None where no OpenGL works, with the reason).
"""
from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import replace

import mujoco
import numpy as np

from sim import gl
from sim.cell import TwinCell
from sim.config import CellConfig, VisionConfig
from sim.experts import ScriptedExpert

FAST_DT_S = 0.002  # the contract's largest physics step (CellConfig.physics_dt_s <= 2 ms)


def _episodes(cfg: CellConfig, episodes: int, progress: bool, label: str) -> tuple[TwinCell, dict]:
    cell = TwinCell(cfg)
    expert = ScriptedExpert("mid", seed=0, cell_cfg=cfg)
    t_apply = cpu_apply = t_contact = 0.0
    n_periods = n_contact = successes = 0
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
        successes += bool(info["success"])
        if progress:
            print(f"bench sim ({label}): episode {i + 1}/{episodes}", file=sys.stderr, flush=True)
    period_s = 1.0 / cfg.control_hz
    return cell, {"periods": n_periods, "wall_s": t_apply, "cpu_s": cpu_apply, "contact_periods": n_contact,
                  "contact_wall_s": t_contact, "success_rate": successes / episodes, "sim_s": n_periods * period_s}


def run(quick: bool = False, progress: bool = True) -> dict:
    cfg = CellConfig()
    episodes = 3 if quick else 20
    cell, r = _episodes(cfg, episodes, progress, f"{cfg.physics_dt_s * 1e3:g} ms")
    _, fast = _episodes(replace(cfg, physics_dt_s=FAST_DT_S), episodes, progress, f"{FAST_DT_S * 1e3:g} ms")
    period_s = 1.0 / cfg.control_hz
    steps_per_period = round(period_s / cfg.physics_dt_s)
    free_rtf = _free_space_rtf(cell, 20 if quick else 100)
    contact = r["contact_periods"]
    return {
        "real_time_factor": round(r["sim_s"] / r["wall_s"], 1),
        "physics_steps_per_s": round(r["periods"] * steps_per_period / r["wall_s"]),
        "cpu_real_time_factor": round(r["sim_s"] / max(r["cpu_s"], 1e-9), 1),
        "free_space_real_time_factor": round(free_rtf, 1),
        "contact_real_time_factor": round(contact * period_s / r["contact_wall_s"], 1) if contact else None,
        "contact_fraction": round(contact / r["periods"], 3),
        "control_periods": r["periods"],
        "mid_expert_success": round(r["success_rate"], 3),
        "physics_dt_s": cfg.physics_dt_s,
        "dt2ms_real_time_factor": round(fast["sim_s"] / fast["wall_s"], 1),
        "dt2ms_cpu_real_time_factor": round(fast["sim_s"] / max(fast["cpu_s"], 1e-9), 1),
        "dt2ms_mid_expert_success": round(fast["success_rate"], 3),
        **_frame_ms(cfg, 10 if quick else 50),
        "episodes": episodes,
        "mujoco": mujoco.__version__,
        "load_avg_1min": round(_load(), 2),
    }


def _frame_ms(cfg: CellConfig, frames: int) -> dict:
    """Median wall time of one wrist frame (TwinCell.images) at 64 and 128 pixels, ms."""
    out: dict = {}
    for size in (64, 128):
        cell = TwinCell(cfg, seed=0, vision=VisionConfig(image_size=size))
        try:
            cell.images()  # the renderer's set-up is not counted
            times = []
            for _ in range(frames):
                t0 = time.perf_counter()
                cell.images()
                times.append(time.perf_counter() - t0)
            out[f"wrist_frame_ms_{size}"] = round(float(np.median(times)) * 1e3, 2)
        except gl.RenderUnavailable as e:
            out[f"wrist_frame_ms_{size}"], out["render_unavailable"] = None, str(e)
        finally:
            cell.close()
    return out


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


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return math.nan
