"""Run summaries from `metrics.csv`: rolling rates, `curves.png`, `report.md`.

Columns are written by the recorder node (`robot_stack.nodes.recorder.METRIC_COLUMNS`).
`report.md` leads with the three numbers a user looks for: autonomous success over the last
window, the operator-driven share of steps in the first vs the last window, and the operator's
time (operator-driven steps at the cell's control rate: what a person at the real cell would
have spent driving). With episode videos (`train.video_every`) it links the latest ones.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def read_metrics(run_dir: Path) -> dict[str, np.ndarray]:
    path = Path(run_dir) / "metrics.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    out = {}
    for k in rows[0]:
        vals = [r[k] for r in rows]
        try:
            out[k] = np.array([float(v) for v in vals])
        except ValueError:
            out[k] = np.array(vals)
    return out


def rolling(x: np.ndarray, window: int) -> np.ndarray:
    if len(x) == 0:
        return x
    c = np.cumsum(np.insert(np.asarray(x, float), 0, 0.0))
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


def summarize(m: dict[str, np.ndarray], window: int, control_hz: float = 10.0) -> dict:
    if not m:
        return {"episodes": 0}
    n = len(m["episode"])
    steps = int(m["env_steps"][-1]) if "env_steps" in m else int(m["length"].sum())
    tail = slice(max(0, n - window), n)
    auto = m["autonomous"][tail].astype(bool)
    succ = m["success"][tail]
    return {
        "episodes": n,
        "env_steps": steps,
        "success_rate": round(float(succ.mean()), 3),
        "autonomous_success_rate": round(float((succ * auto).mean()), 3),
        "intervention_rate": round(float(m["intervention_steps"][tail].sum() / max(1.0, m["length"][tail].sum())), 4),
        "first_window_intervention_rate": round(float(m["intervention_steps"][:window].sum()
                                                      / max(1.0, m["length"][:window].sum())), 4),
        "operator_minutes": round(float(m["intervention_steps"].sum()) / control_hz / 60.0, 2),
        "control_minutes": round(steps / control_hz / 60.0, 2),
        "learner_updates": int(m["learner_updates"][-1]) if "learner_updates" in m else 0,
        "updates_per_s": round(float(m["updates_per_s"][tail].mean()), 2),
        "window": window,
    }


def plot_curves(m: dict[str, np.ndarray], path: Path, window: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    ep = m["episode"]
    axes[0, 0].plot(ep, rolling(m["success"] * m["autonomous"], window), label="autonomous success")
    axes[0, 0].plot(ep, rolling(m["success"], window), "--", label="success (any driver)")
    axes[0, 0].set_ylim(-0.02, 1.02)
    axes[0, 0].legend()
    axes[0, 1].plot(ep, rolling(m["intervention_rate"], window))
    axes[0, 1].set_title("intervention rate (operator steps / steps)")
    axes[1, 0].plot(ep, m["length"])
    axes[1, 0].set_title("episode length (steps)")
    axes[1, 1].plot(ep, m["updates_per_s"])
    axes[1, 1].set_title("learner updates/s")
    axes[0, 0].set_title(f"success (rolling {window} episodes)")
    for ax in axes[1]:
        ax.set_xlabel("episode")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def headline(summary: dict) -> list[str]:
    """The three numbers, one line each (markdown)."""
    if not summary.get("episodes"):
        return ["**No episode was recorded.**"]
    n, w = summary["episodes"], summary["window"]
    last = f"last {min(n, w)} episodes"
    first = f"first {min(n, w)}"
    overlap = f" (the windows overlap: {n} episodes in all)" if n < 2 * w else ""
    return [f"**Autonomous success, {last}: {summary['autonomous_success_rate']:.0%}**", "",
            f"**Operator-driven share of steps: {summary['first_window_intervention_rate']:.0%} in the {first} "
            f"episodes → {summary['intervention_rate']:.0%} in the {last}**{overlap}", "",
            f"**Operator time: {summary['operator_minutes']:.1f} min of driving**, of "
            f"{summary['control_minutes']:.1f} min of control at the cell's rate"]


def write_report(run_dir: Path, summary: dict, title: str, command: str) -> Path:
    lines = [f"# {title}", "", *headline(summary), "", f"Command: `{command}`", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.items()]
    lines += ["", "Rates are over the last `window` episodes (`first_window_intervention_rate`: the first);",
              "`autonomous` = no operator step in the episode; operator and control minutes count control",
              "steps at the cell's rate (the twin runs faster than that). Curves: `curves.png`; per-episode",
              "rows: `metrics.csv`."]
    lines += video_lines(run_dir)
    path = Path(run_dir) / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def video_lines(run_dir: Path, n: int = 3) -> list[str]:
    """Links (relative to the run folder) to the latest `n` episode videos, or nothing."""
    from sim.video import latest_videos

    found = latest_videos(run_dir, n)
    if not found:
        return []
    links = ", ".join(f"[{p.stem}](videos/{p.name})" for p in found)
    return ["", f"Latest episode videos (driver shown on every frame): {links}"]
