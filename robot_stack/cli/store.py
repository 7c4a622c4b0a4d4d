"""`rlif store inspect|verify|repair PATH`: look into a replay store, or repair a damaged one
(`export` / `import` to and from LeRobotDataset: robot_stack/cli/store_lerobot.py).

PATH is a `replay.zarr` folder or a run folder holding one. inspect and verify open the store
readonly, so they are safe on a store a running recorder is writing (they see its committed rows).
- inspect: rows, episodes, success and intervention rates, labels, the last episode.
  `--json` keys: path, schema_version, n_rows, n_episodes, success_rate, intervention_rate
  (operator-driven steps / rows), takeovers_per_episode, autonomous_rate (episodes without a
  takeover), expert_labeled_rows, operators, cells, obs_labels, action_labels, meta,
  last_episode (or null).
- verify: every invariant (learner/replay_verify.py), every chunk present and decoding; exit 1
  with the reasons if any fails.
- repair: counters that disagree with the data, missing or undecodable chunks
  (learner/replay_repair.py). Without `--yes` it only explains what it would keep and cut (exit 1
  when a repair is needed, 0 when there is nothing to repair); with `--yes` it copies the store
  to `<store>.backup-<time>` first, then repairs it (exit 0). It refuses while a writer has it open.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robot_stack.cli.common import add_json_arg, emit_json
from robot_stack.cli.common import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="inspect, verify, repair, export or import a replay store (replay.zarr)")
    ssub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    for name, doc, fn in (("inspect", "rows, episodes, success and intervention rates, last episode", inspect),
                          ("verify", "check every invariant and chunk; exit 1 with the reasons", verify),
                          ("repair", "explain (and with --yes apply, after a backup) a fix of a damaged store",
                           repair)):
        q = ssub.add_parser(name, help=doc)
        q.add_argument("path", type=Path, metavar="PATH", help="replay.zarr, or a run folder holding one")
        if name == "repair":
            q.add_argument("--yes", action="store_true", help="apply the repair (a backup copy is made first)")
        add_json_arg(q)
        q.set_defaults(func=fn)
    from robot_stack.cli import store_lerobot

    store_lerobot.register(ssub)  # export / import (LeRobotDataset)


def _resolve(path: Path) -> Path:
    return path / "replay.zarr" if (path / "replay.zarr").is_dir() else path


def summary(store) -> dict:
    """The figures `inspect` prints (also handy for reports)."""
    import numpy as np

    from learner.replay_schema import SCHEMA_VERSION

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
           "images": {cam: list(shape) for cam, shape in store.images.items()}, "last_episode": None}
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


def repair(args: argparse.Namespace) -> int:
    from learner.replay import StoreError
    from learner.replay_repair import apply, plan
    from learner.replay_verify import verify as check

    path = _resolve(args.path)
    try:
        p = plan(path)
        backup = apply(path, p) if p.needed and args.yes else None
    except StoreError as e:
        raise CliError(str(e)) from None
    except OSError as e:  # e.g. no room for the backup copy
        raise CliError(f"{path}: repair failed before changing the store ({e.strerror or e})") from None
    left = check(path) if backup else []
    if args.json:
        emit_json({"path": str(path), "needed": p.needed, "applied": backup is not None,
                   "backup": str(backup) if backup else None, "problems": p.problems, "cut": p.cut,
                   "counters": {"rows": p.rows, "episodes": p.episodes},
                   "new_counters": {"rows": p.new_rows, "episodes": p.new_episodes}, "left": left})
    else:
        for line in p.lines():
            print(line)
        if backup:
            print(f"repaired; backup of the store before the repair: {backup}")
            for line in left:
                print(f"rlif store repair: still wrong (not a repair matter, see `rlif store verify`): {line}",
                      file=sys.stderr)
        elif p.needed:
            print("nothing changed; run again with --yes to apply (the store is copied to a backup first)")
    return 1 if p.needed and backup is None else 0
