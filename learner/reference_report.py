"""`rlif reference report`: what the reference agent is and how its value judge behaves.

Writes into a folder:
- `training.png`: the deterministic success of every training snapshot (coarse, on the
  calibration seeds) against env steps, with the three expert levels marked;
- `judge.md`: how often the value judge calls an action clearly worse, for candidate actions
  on the states of `episodes` calibration episodes (half driven by the reference, half by the
  mid expert, so both good and mediocre states are seen), at several tolerances `delta`:
  the reference's own action with exploration-like noise, doing nothing, half speed, the three
  experts' actions and a random action. This is the evidence for the judge's settings.
Deterministic: the same file and arguments give the same numbers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from learner import seeds
from learner.reference import Reference

DELTAS = (0.005, 0.01, 0.03)


def judge_table(ref: Reference, cell, episodes: int = 15, seed: int = 0) -> dict[str, dict]:
    """{candidate: {"n": states, "median_rel": ..., "flagged": {delta: fraction}}}."""
    rng = np.random.default_rng(seed)
    levels = {f"{n} expert": ref.level(n) for n in ("low", "mid", "high") if n in ref.levels}
    rel: dict[str, list[float]] = {}
    for ep in range(episodes):
        obs, _ = cell.reset(seed=seeds.CALIBRATION + ep)
        driver = ref.levels.get("mid") if ep % 2 else None
        for _ in range(cell.cfg.episode_steps):
            a_ref = ref.action(obs)
            cands = {"reference + noise 0.15": np.clip(a_ref + rng.normal(0, 0.15, a_ref.shape), -1, 1),
                     "reference + noise 0.3": np.clip(a_ref + rng.normal(0, 0.3, a_ref.shape), -1, 1),
                     "do nothing (zeros)": np.zeros_like(a_ref), "half speed (0.5 a_ref)": 0.5 * a_ref,
                     **{k: p.act(obs[: p.obs_dim]) for k, p in levels.items()},
                     "random": rng.uniform(-1, 1, a_ref.shape)}
            q = ref.q(obs, np.stack([a_ref, *cands.values()]).astype(np.float32))
            for (name, _), qk in zip(cands.items(), q[1:]):
                rel.setdefault(name, []).append(float((qk - q[0]) / max(abs(q[0]), 1e-9)))
            act = driver.act(obs[: driver.obs_dim]) if driver is not None else a_ref
            obs, term, trunc, _ = cell.apply(act)
            if term or trunc:
                break
    return {k: {"n": len(v), "median_rel": float(np.median(v)),
                "flagged": {d: float(np.mean(np.array(v) < -d)) for d in DELTAS}} for k, v in rel.items()}


def write_report(ref: Reference, cell, out: Path, episodes: int = 15, source: str = "") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    m = ref.meta
    snaps = m.get("snapshots", [])
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([s["step"] for s in snaps], [s["success"] for s in snaps], ".-", label="snapshot success (coarse)")
    for name, lv in (m.get("levels") or {}).items():
        ax.plot([lv["step"]], [lv["success"]], "o", ms=9, label=f"{name} expert: {lv['success']:.0%} at {lv['step']}")
    ax.set_xlabel("env steps")
    ax.set_ylabel("deterministic success (calibration seeds)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("reference agent: SAC with the task reward")
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=90)
    plt.close(fig)
    table = judge_table(ref, cell, episodes)
    lines = ["# The reference agent and its value judge", "",
             f"Reference file: `{source}`; made by `{m.get('command')}` ({m.get('train_env_steps')} env steps, "
             f"task reward, gamma {m.get('gamma')}); final deterministic success "
             f"{m['final_success']['success']:.0%} in {m['final_success']['mean_steps']:.1f} steps on "
             f"{m['final_success']['episodes']} calibration episodes. Levels (snapshots nearest the targets): " +
             ", ".join(f"{n} {lv['success']:.0%} at {lv['step']} steps" for n, lv in (m.get("levels") or {}).items()) +
             ". Training curve: `training.png`.", "",
             f"## How often the judge calls an action clearly worse ({episodes} calibration episodes)", "",
             "Relative Q loss = (Q_ref(s, a) - Q_ref(s, a_ref)) / |Q_ref(s, a_ref)|; flagged at delta = the share of "
             "states where it is below -delta.", "",
             "| candidate action | states | median relative Q loss | " +
             " | ".join(f"flagged at {d:.1%}" for d in DELTAS) + " |", "|---|---|---|" + "---|" * len(DELTAS)]
    for k, v in table.items():
        lines.append(f"| {k} | {v['n']} | {v['median_rel']:+.2%} | " +
                     " | ".join(f"{v['flagged'][d]:.0%}" for d in DELTAS) + " |")
    (out / "judge.md").write_text("\n".join(lines) + "\n")
    return [out / "training.png", out / "judge.md"]
