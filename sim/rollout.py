"""Roll a scripted expert on the twin and write what a person needs to look at the cell.

`rollout(...)` runs N episodes (cell seed seed0+i), records the front camera of the first
episode, and writes into `out`: `summary.json` (per-episode success, steps, final depth and
force, plus the success rate), `episode.gif` (front camera, one frame per control step) and
`strip.png` (8 frames of the same episode side by side).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from sim.cell import TwinCell
from sim.config import CellConfig
from sim.experts import ScriptedExpert


def rollout(expert: str | float = "mid", episodes: int = 5, out: Path | str = "rollout", seed0: int = 0,
            cfg: CellConfig = CellConfig(), size: tuple[int, int] = (320, 240),
            progress: Callable[[int, dict], None] | None = None) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cell = TwinCell(cfg)
    ex = ScriptedExpert(expert, seed=seed0, cell_cfg=cfg)
    rows, frames = [], []
    t0 = time.perf_counter()
    for i in range(episodes):
        obs, info = cell.reset(seed=seed0 + i)
        ex.reset()
        if i == 0:
            frames.append(cell.render("front", *size))
        for _ in range(cfg.episode_steps):
            obs, term, trunc, info = cell.apply(ex.act(obs, info))
            if i == 0:
                frames.append(cell.render("front", *size))
            if term or trunc:
                break
        row = {"episode": i, "seed": seed0 + i, "success": bool(info["success"]), "aborted": bool(info["aborted"]),
               "steps": cell.step, "insertion_depth_m": round(info["insertion_depth_m"], 5),
               "max_force_n": round(info["max_force_n"], 2),
               "hole_offset_m": [round(float(v), 5) for v in info["hole_offset_m"]]}
        rows.append(row)
        if progress:
            progress(i, row)
    cell.close()
    summary = {"expert": expert, "episodes": episodes, "success_rate": sum(r["success"] for r in rows) / episodes,
               "wall_s": round(time.perf_counter() - t0, 2), "per_episode": rows}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _write_media(frames, out)
    summary["files"] = sorted(str(p) for p in out.iterdir())
    return summary


def _write_media(frames: list[np.ndarray], out: Path) -> None:
    import imageio.v2 as imageio

    imageio.mimsave(out / "episode.gif", frames, duration=100, loop=0)   # 100 ms per frame = real time
    pick = np.linspace(0, len(frames) - 1, min(8, len(frames))).round().astype(int)
    imageio.imwrite(out / "strip.png", np.concatenate([frames[k] for k in pick], axis=1))
