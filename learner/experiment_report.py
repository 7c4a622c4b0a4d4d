"""Outputs of `rlif experiment` (see learner.experiment): results.csv, curves.png, report.md and
the `--json` summary, all built from the per-cell result dicts.

- results.csv: one row per cell per eval point (method, expert, seed, env_steps, success,
  abort_rate, intervention_rate over the window since the previous point, ...).
- curves.png: autonomous success (top) and intervention rate (bottom) vs env steps, one line per
  method per expert (mean over seeds; colour = method, marker = expert), and each expert's own
  success on the eval seeds as a dashed line.
- report.md: a table per (method, expert): final autonomous success (mean and min-max over
  seeds), whole-run intervention rate and its first -> last window, env steps, wall time.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

CSV_FIELDS = ("method", "expert", "seed", "env_steps", "success", "abort_rate", "eval_mean_steps",
              "intervention_rate", "takeovers_per_episode", "train_success", "episodes", "updates", "wall_s")
COLORS = {"rlif": "tab:red", "hg-dagger": "tab:blue", "dagger": "tab:green", "bc": "tab:gray"}
MARKERS = {"low": "v", "mid": "o", "high": "^"}


def _clean(x: Any) -> Any:
    """NaN -> None (strict JSON), floats rounded to 4 places."""
    if isinstance(x, float):
        return None if math.isnan(x) else round(x, 4)
    return x


def write_csv(results: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in results:
            for p in r["points"]:
                row = {"method": r["method"], "expert": r["expert"], "seed": r["seed"], **p}
                w.writerow({k: _clean(row.get(k)) for k in CSV_FIELDS})


def aggregate(results: list[dict]) -> list[dict]:
    """One row per (method, expert), means over seeds, in first-seen order."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results:
        groups[(r["method"], r["expert"])].append(r)
    rows = []
    for (method, expert), rs in groups.items():
        s = [r["success"] for r in rs]
        rows.append({"method": method, "expert": expert, "seeds": len(rs), "success": float(np.mean(s)),
                     "success_min": min(s), "success_max": max(s),
                     "intervention_rate": float(np.mean([r["intervention_rate"] for r in rs])),
                     "intervention_rate_first": float(np.nanmean([r["intervention_rate_first"] for r in rs])),
                     "intervention_rate_last": float(np.nanmean([r["intervention_rate_last"] for r in rs])),
                     "env_steps": int(np.mean([r["env_steps"] for r in rs])),
                     "wall_s": float(np.mean([r["wall_s"] for r in rs])),
                     "diverged": sum(bool(r.get("diverged")) for r in rs)})
    return rows


def _mean_curve(rs: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds at eval point i (env steps averaged too; points line up by index)."""
    n = min(len(r["points"]) for r in rs)
    x = np.array([np.mean([r["points"][i]["env_steps"] for r in rs]) for i in range(n)])
    y = []
    for i in range(n):
        vals = [float(r["points"][i][key]) for r in rs if r["points"][i][key] is not None]
        vals = [v for v in vals if not math.isnan(v)]
        y.append(float(np.mean(vals)) if vals else np.nan)
    y = np.array(y)
    return x, y


def plot(results: list[dict], experts: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results:
        groups[(r["method"], r["expert"])].append(r)
    fig, (ax_s, ax_i) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    for (method, expert), rs in groups.items():
        style = {"color": COLORS.get(method), "marker": MARKERS.get(expert), "markersize": 4}
        label = f"{method} ({expert} expert, {len(rs)} seed{'s' if len(rs) > 1 else ''})"
        ax_s.plot(*_mean_curve(rs, "success"), label=label, **style)
        x, y = _mean_curve(rs, "intervention_rate")
        ax_i.plot(x[1:], y[1:], label=label, **style)  # point 0 has no training window
    for level, e in experts.items():
        ax_s.axhline(e["success"], ls="--", color="k", alpha=0.4 + 0.2 * list(MARKERS).index(level))
        ax_s.annotate(f"{level} expert {e['success']:.0%}", (0, e["success"]), fontsize=8,
                      xytext=(2, 2), textcoords="offset points")
    ax_s.set_ylabel("autonomous success (eval)")
    ax_s.set_ylim(-0.02, 1.02)
    ax_s.legend(fontsize=7, loc="lower right")
    ax_i.set_ylabel("operator-driven fraction of env steps")
    ax_i.set_xlabel("env steps (online, after the demos)")
    ax_i.set_ylim(-0.02, 1.02)
    ax_s.set_title("RLIF vs HG-DAgger vs DAgger vs BC on the twin")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table_md(rows: list[dict], experts: dict[str, dict]) -> list[str]:
    lines = ["| method | expert (own success) | seeds | final autonomous success (min-max) | intervention rate "
             "(first -> last window) | env steps | wall s/cell |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        e = experts.get(r["expert"], {}).get("success")
        own = f"{r['expert']} ({e:.0%})" if e is not None else r["expert"]
        spread = f" ({r['success_min']:.0%}-{r['success_max']:.0%})" if r["seeds"] > 1 else ""
        trend = (f"{r['intervention_rate']:.3f} ({r['intervention_rate_first']:.3f} -> "
                 f"{r['intervention_rate_last']:.3f})")
        flag = f" ({r['diverged']} diverged)" if r["diverged"] else ""
        lines.append(f"| {r['method']}{flag} | {own} | {r['seeds']} | {r['success']:.0%}{spread} | {trend} | "
                     f"{r['env_steps']} | {r['wall_s']:.0f} |")
    return lines


def write_report(run_dir: Path, spec_d: dict, experts: dict[str, dict], results: list[dict], command: str) -> Path:
    rows = aggregate(results)
    lines = ["# Experiment: RLIF vs HG-DAgger vs DAgger vs BC", "", f"Command: `{command}`", "",
             f"Budget: {spec_d['steps']} online env steps per cell after {spec_d['demo_episodes']} expert demo "
             f"episodes; eval every {spec_d['eval_every']} env steps on {spec_d['eval_episodes']} fixed episodes "
             f"(seeds {spec_d['eval_seed']}+k), deterministic actor, no operator.", ""]
    lines += table_md(rows, experts)
    lines += ["", "Intervention rate = operator-driven env steps / env steps during training (bc: the expert "
              "drives everything, 1.0; dagger: the expert only labels, 0.0). Curves: `curves.png`; every eval "
              "point: `results.csv`; per cell: `cells/*.json`."]
    path = Path(run_dir) / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def summary_json(experts: dict[str, dict], results: list[dict]) -> dict:
    """The `--json` line: expert success per level and one entry per cell."""
    keys = ("method", "expert", "seed", "success", "intervention_rate", "env_steps", "wall_s")
    return {"expert_success": {k: _clean(v["success"]) for k, v in experts.items()},
            "results": [{k: _clean(r[k]) for k in keys} for r in results]}


def write_all(run_dir: Path, spec_d: dict, experts: dict[str, dict], results: list[dict], command: str) -> list[Path]:
    run_dir = Path(run_dir)
    write_csv(results, run_dir / "results.csv")
    plot(results, experts, run_dir / "curves.png")
    write_report(run_dir, spec_d, experts, results, command)
    return [run_dir / n for n in ("results.csv", "curves.png", "report.md")]
