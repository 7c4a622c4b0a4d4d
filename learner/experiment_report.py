"""Outputs of `rlif experiment` (see learner.experiment): results.csv, curves.png, report.md and
the `--json` summary, all built from the per-cell result dicts.

- results.csv: one row per cell per evaluation point (learning curves).
- curves.png: autonomous success, training intervention rate and deployment intervention rate
  (human operator) against env steps, per method and expert (mean over seeds).
- report.md: per (method, expert): held-out success with a 95 % hierarchical-bootstrap CI
  (`learner.experiment_stats`), sampled-action and shifted-cell success, the deployment
  intervention rates, the training rate first -> last window; the experts alone on the same
  seeds; and the issue's targets checked against the numbers.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from learner.experiment import LEVELS
from learner.experiment_stats import hierarchical_ci

CSV_FIELDS = ("method", "expert", "seed", "env_steps", "success", "abort_rate", "eval_mean_steps",
              "intervention_rate", "deploy_intervention_rate", "takeovers_per_episode", "train_success",
              "episodes", "updates", "wall_s")
COLORS = {"rlif": "tab:red", "rlif-random": "tab:orange", "hg-dagger": "tab:blue", "dagger": "tab:green",
          "bc": "tab:gray", "dagger+offset": "olive", "hg-dagger+offset": "tab:cyan"}
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


def _groups(results: list[dict]) -> dict[tuple[str, str], list[dict]]:
    g: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results:
        g[(r["method"], r["expert"])].append(r)
    return g


def _ci(rs: list[dict], name: str) -> tuple[float, float, float]:
    sets = [r["final"][name] for r in rs if name in r.get("final", {})]
    if not sets:
        return float("nan"), float("nan"), float("nan")
    if "intervened" in sets[0]:
        return hierarchical_ci([s["intervened"] for s in sets], weights=[s["steps"] for s in sets])
    return hierarchical_ci([s["outcomes"] for s in sets])


def aggregate(results: list[dict]) -> list[dict]:
    """One row per (method, expert), in first-seen order."""
    rows = []
    for (method, expert), rs in _groups(results).items():
        row = {"method": method, "expert": expert, "seeds": len(rs),
               "success_last_point": float(np.mean([r["success"] for r in rs])),
               "intervention_rate": float(np.mean([r["intervention_rate"] for r in rs])),
               "intervention_rate_first": float(np.nanmean([_nan(r["intervention_rate_first"]) for r in rs])),
               "intervention_rate_last": float(np.nanmean([_nan(r["intervention_rate_last"]) for r in rs])),
               "env_steps": int(np.mean([r["env_steps"] for r in rs])),
               "wall_s": float(np.mean([r["wall_s"] for r in rs])),
               "diverged": sum(bool(r.get("diverged")) for r in rs)}
        for name in ("held_out", "held_out_sampled", "shifted", "deploy_human", "deploy_value"):
            key = "deploy_human_rate" if name == "deploy_human" else "deploy_value_rate" if name == "deploy_value" \
                else name
            row[key], row[key + "_lo"], row[key + "_hi"] = _ci(rs, name)
        row["per_seed_held_out"] = [r["final"]["held_out"]["success"] for r in rs if "held_out" in r.get("final", {})]
        rows.append(row)
    return rows


def _nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


def expert_rows(experts: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for level, e in experts.items():
        d = {"success_eval": e.get("success")}
        for name in ("held_out", "shifted"):
            if name in e:
                d[name], d[name + "_lo"], d[name + "_hi"] = hierarchical_ci([e[name]["outcomes"]])
        out[level] = d
    return out


def _mean_curve(rs: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(r["points"]) for r in rs)
    x = np.array([np.mean([r["points"][i]["env_steps"] for r in rs]) for i in range(n)])
    y = [np.nanmean([_nan(r["points"][i].get(key)) for r in rs]) if any(
        r["points"][i].get(key) is not None and not math.isnan(_nan(r["points"][i].get(key))) for r in rs)
         else np.nan for i in range(n)]
    return x, np.array(y, dtype=float)


def plot(results: list[dict], experts: dict[str, dict], path: Path, strategy: str = "") -> None:
    """Mean curves over seeds: one column per expert level, rows success / training rate /
    deployment rate against env steps; the expert alone on the same evaluation episodes dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _groups(results)
    levels = [lv for lv in LEVELS if lv in experts or any(e == lv for _, e in groups)]
    fig, axes = plt.subplots(3, len(levels), figsize=(1 + 5 * len(levels), 11), sharex=True, sharey=True,
                             squeeze=False)
    for j, level in enumerate(levels):
        ax_s, ax_i, ax_d = axes[:, j]
        for (method, expert), rs in groups.items():
            if expert != level:
                continue
            style = {"color": COLORS.get(method), "marker": MARKERS.get(expert), "markersize": 4}
            label = f"{method} ({len(rs)} seed{'s' if len(rs) > 1 else ''})"
            ax_s.plot(*_mean_curve(rs, "success"), label=label, **style)
            x, y = _mean_curve(rs, "intervention_rate")
            ax_i.plot(x[1:], y[1:], label=label, **style)  # point 0 has no training window
            ax_d.plot(*_mean_curve(rs, "deploy_intervention_rate"), label=label, **style)
        alone = experts.get(level, {}).get("success")
        if alone is not None:
            ax_s.axhline(alone, ls="--", color="k", alpha=0.5)
            ax_s.annotate(f"{level} expert alone {alone:.0%}", (0, alone), fontsize=8, xytext=(2, 2),
                          textcoords="offset points")
        ax_s.set_title(f"{level} expert")
        ax_d.set_xlabel("env steps (online, after the demos)")
        if ax_s.get_legend_handles_labels()[0]:
            ax_s.legend(fontsize=7, loc="lower right")
    axes[0, 0].set_ylabel("autonomous success (eval)")
    axes[1, 0].set_ylabel("training: operator-driven share")
    axes[2, 0].set_ylabel("deployment (human op.):\noperator-driven share")
    axes[0, 0].set_ylim(-0.02, 1.02)
    who = f"{strategy} operator, " if strategy else ""
    fig.suptitle(f"RLIF vs HG-DAgger vs DAgger vs BC on the twin ({who}reference experts)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _pct(x: float, lo: float | None = None, hi: float | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.0%}" if lo is None else f"{x:.0%} [{lo:.0%}, {hi:.0%}]"


def table_md(rows: list[dict], experts: dict[str, dict]) -> list[str]:
    ex = expert_rows(experts)
    lines = ["| method | expert (alone, held-out) | seeds | held-out success [95 % CI] | sampled actions | shifted cell | "
             "deploy: human-op. rate [CI] | deploy: value-op. rate | training rate first -> last | wall s/cell |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e = ex.get(r["expert"], {})
        own = f"{r['expert']} ({_pct(e.get('held_out', float('nan')))})"
        flag = f" ({r['diverged']} diverged)" if r["diverged"] else ""
        lines.append(
            f"| {r['method']}{flag} | {own} | {r['seeds']} | {_pct(r['held_out'], r['held_out_lo'], r['held_out_hi'])} | "
            f"{_pct(r['held_out_sampled'])} | {_pct(r['shifted'])} | "
            f"{_pct(r['deploy_human_rate'], r['deploy_human_rate_lo'], r['deploy_human_rate_hi'])} | "
            f"{_pct(r['deploy_value_rate'])} | {r['intervention_rate_first']:.2f} -> {r['intervention_rate_last']:.2f} | "
            f"{r['wall_s']:.0f} |")
    return lines


OPERATORS = {"human": "the human model (reacts to visible, persistent errors; `sim/human.py`)",
             "value": "the RLIF paper's value judge (Q of the reference agent; `learner/operators.py`)",
             "random": "random takeovers", "never": "none"}
HANDS = {"reference": "the reference agent's actor snapshot", "observed": "the scripted expert acting on the "
         "observation", "privileged": "the scripted expert reading the true hole (privileged)"}


def operator_line(op) -> str:
    """Who takes over while the cells train (an OperatorConfig), in words."""
    return (f"Training operator: `{op.strategy}`, {OPERATORS.get(op.strategy, op.strategy)}; its hands: "
            f"{HANDS.get(op.expert_kind, op.expert_kind)} of each expert level.")


def write_report(run_dir: Path, spec_d: dict, experts: dict[str, dict], results: list[dict], command: str,
                 note: str = "", op=None) -> Path:
    """`op`: the training OperatorConfig, named in the report (None: not said)."""
    from learner.experiment_targets import check_targets

    rows = aggregate(results)
    ex = expert_rows(experts)
    lines = ["# Experiment: RLIF vs HG-DAgger vs DAgger vs BC", "", f"Command: `{command}`", "",
             *([f"**{note}**", ""] if note else []),
             f"Budget: {spec_d['steps']} online env steps per cell after {spec_d['demo_episodes']} expert demo "
             f"episodes. Final actor: {spec_d['held_out_episodes']} held-out episodes (deterministic; "
             f"{spec_d['sampled_episodes']} with sampled actions), {spec_d['shifted_episodes']} on the shifted cell, "
             f"{spec_d['deploy_episodes']} deployment episodes per operator. CIs: two-level bootstrap over seeds "
             "and episodes.", "", f"Observation of the learners: {observation(results)} (experts and operators act "
             "on the state).", "", *([operator_line(op), ""] if op is not None else [])]
    lines += ["## Experts alone (same held-out seeds)", "", "| expert | held-out success [95 % CI] | shifted cell |",
              "|---|---|---|"]
    lines += [f"| {lv} | {_pct(d.get('held_out', float('nan')), d.get('held_out_lo'), d.get('held_out_hi'))} | "
              f"{_pct(d.get('shifted', float('nan')))} |" for lv, d in ex.items()]
    lines += ["", "## Methods and controls", ""] + table_md(rows, experts)
    lines += ["", "## Targets", ""] + check_targets(rows, ex)
    lines += ["", "## Wall time", ""] + wall_time_lines(results)
    lines += ["", "Training rate = operator-driven env steps / env steps in the first and last window between "
              "evaluation points (bc: 1.0, the expert drives; dagger: 0.0, the expert only labels). Deployment rate "
              "= operator-driven steps of the takeovers the policy caused / steps, when the final deterministic "
              "actor runs with that operator on (takeovers with no reason, e.g. the human model's whims, are "
              "counted apart in `cells/*.json`: `final.deploy_*.random_rate`). "
              "Curves: `curves.png`; every evaluation point: `results.csv`; per cell: `cells/*.json`."]
    path = Path(run_dir) / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


POOL_SIZES = (1, 2, 4, 8, 16)


def wall_time_lines(results: list[dict]) -> list[str]:
    """The cells' time in all, and what the grid would take with N workers (`--workers N`): these cell
    times replayed through the runner's pool (`experiment_runner.pool_wall_time`)."""
    from learner.experiment import cell_key
    from learner.experiment_runner import pool_wall_time

    times = {(r["method"], r["expert"], r["seed"]): float(r["wall_s"]) for r in results}  # run order
    if not times:
        return ["No cells."]
    longest = max(times, key=times.get)
    pools = ", ".join(f"{n}: {pool_wall_time(times, n) / 60:.0f} min" for n in POOL_SIZES)
    return [f"{len(times)} cells, {sum(times.values()) / 60:.0f} cell-minutes; the longest "
            f"{cell_key(*longest)} {times[longest] / 60:.1f} min. These cell times replayed through "
            f"the pool (`--workers N`; RL cells start first, rlif-random after its rlif cell), wall time by "
            f"workers: {pools}. An estimate at the speed per core these cells ran at (a cell uses about one)."]


def observation(results: list[dict]) -> str:
    """What the cells' learners saw (cells written before images existed saw the state)."""
    seen = sorted({r.get("observation", "state") for r in results}) or ["state"]
    return " / ".join(seen)


def summary_json(experts: dict[str, dict], results: list[dict]) -> dict:
    """The `--json` line: the experts alone and one entry per (method, expert) with its CIs."""
    ex = expert_rows(experts)
    keys = ("method", "expert", "seeds", "held_out", "held_out_lo", "held_out_hi", "held_out_sampled", "shifted",
            "deploy_human_rate", "deploy_human_rate_lo", "deploy_human_rate_hi", "deploy_value_rate",
            "intervention_rate", "intervention_rate_first", "intervention_rate_last", "wall_s")
    return {"observation": observation(results),
            "expert_success": {k: _clean(v.get("held_out", float("nan"))) for k, v in ex.items()},
            "methods": [{k: _clean(r[k]) for k in keys} for r in aggregate(results)],
            "cells": [{"method": r["method"], "expert": r["expert"], "seed": r["seed"],
                       "held_out": _clean(r["final"].get("held_out", {}).get("success", float("nan"))),
                       "env_steps": r["env_steps"], "wall_s": r["wall_s"]} for r in results]}


def write_all(run_dir: Path, spec_d: dict, experts: dict[str, dict], results: list[dict], command: str,
              note: str = "", op=None) -> list[Path]:
    run_dir = Path(run_dir)
    write_csv(results, run_dir / "results.csv")
    plot(results, experts, run_dir / "curves.png", op.strategy if op is not None else "")
    write_report(run_dir, spec_d, experts, results, command, note, op)
    return [run_dir / n for n in ("results.csv", "curves.png", "report.md")]
