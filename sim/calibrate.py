"""Measure scripted-expert success rates on a cell (fixed seeds): `python -m sim.calibrate`.

Used to calibrate `sim.experts.LEVELS` and to produce the README table. Episode i uses cell seed
`seed0 + i` and expert seed `seed0 + i`, so a table is exactly reproducible.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from sim.cell import TwinCell
from sim.config import CellConfig
from sim.experts import ScriptedExpert


def success_rate(level, episodes: int = 50, seed0: int = 20_000, cfg: CellConfig = CellConfig(),
                 cell: TwinCell | None = None, information: str = "observed") -> dict:
    cell = cell or TwinCell(cfg)
    wins = aborts = steps = 0
    expert = ScriptedExpert(level, seed=seed0, cell_cfg=cfg, information=information)
    for i in range(episodes):
        obs, info = cell.reset(seed=seed0 + i)
        expert.reset()
        for _ in range(cfg.episode_steps):
            obs, term, trunc, info = cell.apply(expert.act(obs, info))
            if term or trunc:
                break
        wins += info["success"]
        aborts += info["aborted"]
        steps += cell.step
    return {"level": level, "success": wins / episodes, "aborted": aborts / episodes,
            "mean_steps": steps / episodes, "episodes": episodes}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("levels", nargs="*", default=["high", "mid", "low"])
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--seed0", type=int, default=20_000, help="first episode seed (the calibration range, learner.seeds)")
    p.add_argument("--information", choices=("observed", "privileged"), default="observed")
    args = p.parse_args()
    cell = TwinCell(CellConfig())
    for lv in args.levels:
        level = lv if lv in ("high", "mid", "low") else float(lv)
        t = time.perf_counter()
        r = success_rate(level, args.episodes, args.seed0, cell=cell, information=args.information)
        print(f"{lv:>6}: success {r['success']:.2f}  aborted {r['aborted']:.2f}  "
              f"mean steps {r['mean_steps']:.1f}  ({time.perf_counter() - t:.1f} s)", flush=True)


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
