"""`rlif store inspect|verify PATH`: look into a replay store (never changes it).

PATH is a `replay.zarr` folder or a run folder holding one. Both open the store readonly, so
they are safe on a store a running recorder is writing (they see its committed rows).
- inspect: rows, episodes, success and intervention rates, labels, the last episode.
  `--json` keys: path, schema_version, n_rows, n_episodes, success_rate, intervention_rate
  (operator-driven steps / rows), takeovers_per_episode, autonomous_rate (episodes without a
  takeover), expert_labeled_rows, operators, cells, obs_labels, action_labels, meta,
  last_episode (or null).
- verify: every invariant (learner/replay_verify.py); exit 1 with the reasons if any fails.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robot_stack.cli.common import add_json_arg, emit_json
from robot_stack.cli.common import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="inspect or verify a replay store (replay.zarr)")
    ssub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    for name, doc, fn in (("inspect", "rows, episodes, success and intervention rates, last episode", inspect),
                          ("verify", "check every invariant; exit 1 with the reasons", verify)):
        q = ssub.add_parser(name, help=doc)
        q.add_argument("path", type=Path, metavar="PATH", help="replay.zarr, or a run folder holding one")
        add_json_arg(q)
        q.set_defaults(func=fn)


def _resolve(path: Path) -> Path:
    return path / "replay.zarr" if (path / "replay.zarr").is_dir() else path


def summary(store) -> dict:
    """The figures `inspect` prints (also handy for reports)."""
    import numpy as np

    from learner.replay import SCHEMA_VERSION

    ep, n, e = store.episodes, store.n_rows, store.n_episodes
    iv = store.column("intervening")
    ea = store.column("expert_action")
    out = {"path": str(store.path), "schema_version": SCHEMA_VERSION, "n_rows": n, "n_episodes": e,
           "success_rate": round(float(ep["success"].mean()), 4) if e else None,
           "intervention_rate": round(float(iv.mean()), 4) if n else None,
           "takeovers_per_episode": round(float(ep["interventions"].mean()), 3) if e else None,
           "autonomous_rate": round(float((ep["interventions"] == 0).mean()), 4) if e else None,
           "expert_labeled_rows": int(np.isfinite(ea).all(axis=1).sum()) if n else 0,
           "operators": sorted(set(ep["operator"].tolist())), "cells": sorted(set(ep["cell"].tolist())),
           "obs_labels": store.obs_labels, "action_labels": store.action_labels, "meta": store.meta,
           "last_episode": None}
    if e:
        out["last_episode"] = {"index": e - 1, **{k: ep[k][-1].item() for k in (
            "start", "length", "success", "terminal", "truncated", "aborted", "demo", "interventions",
            "intervention_steps", "operator", "cell")}}
    return out


def inspect(args: argparse.Namespace) -> int:
    from learner.replay import ReplayStore, StoreError

    try:
        store = ReplayStore.open(_resolve(args.path), readonly=True)
    except StoreError as e:
        raise CliError(str(e)) from None
    with store:
        info = summary(store)
    if args.json:
        emit_json(info)
        return 0
    for k, v in info.items():
        if k not in ("obs_labels", "action_labels"):
            print(f"{k:24s} {v}")
    print(f"{'obs_labels':24s} {', '.join(info['obs_labels'])}")
    print(f"{'action_labels':24s} {', '.join(info['action_labels'])}")
    return 0


def verify(args: argparse.Namespace) -> int:
    from learner.replay import ReplayStore, StoreError
    from learner.replay_verify import verify as check

    path = _resolve(args.path)
    problems = check(path)
    counts = {}
    if not problems:
        try:
            with ReplayStore.open(path, readonly=True) as s:
                counts = {"n_rows": s.n_rows, "n_episodes": s.n_episodes}
        except StoreError as e:  # changed under our feet
            problems = [str(e)]
    if args.json:
        emit_json({"ok": not problems, "path": str(path), "problems": problems, **counts})
    elif problems:
        for p in problems:
            print(f"rlif store verify: {p}", file=sys.stderr)
    else:
        print(f"ok: {path} ({counts['n_rows']} rows, {counts['n_episodes']} episodes)")
    return 1 if problems else 0
