"""The fair-comparison targets (mid expert), checked against an experiment's aggregated rows.

Each line says the target, the measured numbers and met / NOT met / not measured, so a report
never claims more than its numbers show.
"""
from __future__ import annotations

import math

MIN_FALL = 0.05  # a training-rate fall smaller than this (absolute) is within one window's noise


def _row(rows: list[dict], method: str, expert: str = "mid") -> dict | None:
    return next((r for r in rows if r["method"] == method and r["expert"] == expert), None)


def _ok(cond: bool | None) -> str:
    return "not measured" if cond is None else ("met" if cond else "NOT met")


def _finite(*xs: float) -> bool:
    return all(x is not None and not math.isnan(x) for x in xs)


def check_targets(rows: list[dict], experts: dict[str, dict]) -> list[str]:
    rl, hg, rnd = _row(rows, "rlif"), _row(rows, "hg-dagger"), _row(rows, "rlif-random")
    dg = _row(rows, "dagger+offset")
    ex = experts.get("mid", {}).get("held_out", float("nan"))
    out = []
    if rl is not None and _finite(rl["held_out"]):
        out.append(f"- RLIF held-out success >= 90 %: {rl['held_out']:.1%} -> {_ok(rl['held_out'] >= 0.9)}")
        c = rl["held_out_lo"] > ex if _finite(ex) else None
        out.append(f"- RLIF CI lower bound ({rl['held_out_lo']:.1%}) above the expert alone ({ex:.1%}): {_ok(c)}")
        c = rl["held_out_lo"] > hg["held_out"] if hg is not None and _finite(hg["held_out"]) else None
        hg_s = f"{hg['held_out']:.1%}" if hg is not None else "-"
        out.append(f"- RLIF CI lower bound above HG-DAgger ({hg_s}): {_ok(c)}")
        d = rl.get("deploy_human_rate")
        c = d <= 0.05 if _finite(d) else None
        out.append(f"- RLIF deployment intervention rate, human operator, <= 5 %: "
                   f"{d:.1%} -> {_ok(c)}" if _finite(d) else f"- RLIF deployment rate <= 5 %: {_ok(None)}")
        f, la = rl["intervention_rate_first"], rl["intervention_rate_last"]
        c = f - la >= MIN_FALL if _finite(f, la) else None
        out.append(f"- RLIF training intervention rate falls by >= {MIN_FALL:.0%} points (first {f:.1%} -> last "
                   f"{la:.1%}): {_ok(c)}")
    else:
        out.append("- RLIF (mid): not measured")
    if dg is not None and _finite(dg["held_out"], ex):
        out.append(f"- DAgger-with-offset within 10 points of its expert: {dg['held_out']:.1%} vs {ex:.1%} -> "
                   f"{_ok(abs(dg['held_out'] - ex) <= 0.10)}")
    else:
        out.append("- DAgger-with-offset within 10 points of its expert: not measured")
    if rnd is not None and rl is not None and _finite(rnd["held_out_hi"], rl["held_out_lo"]):
        out.append(f"- random-operator RLIF below RLIF with the training operator by more than the CI: random "
                   f"{rnd['held_out']:.1%} [..{rnd['held_out_hi']:.1%}] vs {rl['held_out']:.1%} "
                   f"[{rl['held_out_lo']:.1%}..] -> {_ok(rnd['held_out_hi'] < rl['held_out_lo'])}")
    else:
        out.append("- random-operator RLIF below RLIF with the training operator: not measured")
    return out
