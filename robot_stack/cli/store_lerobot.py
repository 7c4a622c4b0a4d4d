"""`rlif store export RUN --format lerobot OUT` and `rlif store import DATASET --as-demos RUN`.

- export: the committed episodes of RUN's store (a run folder or a replay.zarr; read-only, so a
  running recorder may keep writing) as a LeRobotDataset v3.0 folder OUT
  (learner/lerobot_format.py). OUT must not exist; it is written under a temporary name and
  renamed, so it appears complete or not at all. fps = the run's `cell.control_hz` (config.yaml
  beside the store; else the profile's). `--json` keys: out, episodes, frames, fps, features.
- import: a LeRobot v3.x dataset into a new run folder RUN: `RUN/replay.zarr` with every episode
  marked a demonstration (the prior set RLPD and BC train from) and `RUN/config.yaml` (the
  profile and --set given), so `rlif train --resume --run-dir RUN` trains from them. The
  dataset's state and action sizes must match the cell contract of that config. Everything is
  read and checked first: bad input is one line, exit 1, nothing written. `--json` keys: run_dir,
  episodes, rows, source (`rlif` for this cell's own export, `other`).
Both need pyarrow (optional; without it they say how to install it).
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from robot_stack import config as cfgmod
from robot_stack.cli.common import CliError, add_config_args, add_json_arg, emit_json


def register(ssub: argparse._SubParsersAction) -> None:
    q = ssub.add_parser("export", help="write a run's store as a LeRobotDataset (v3.0) folder")
    q.add_argument("path", type=Path, metavar="RUN", help="run folder or replay.zarr")
    q.add_argument("--format", required=True, choices=("lerobot",), help="dataset format (lerobot: LeRobot v3.0)")
    q.add_argument("out", type=Path, metavar="OUT", help="dataset folder to create (must not exist)")
    add_json_arg(q)
    q.set_defaults(func=export)
    q = ssub.add_parser("import", help="seed a new run's store with a LeRobotDataset's episodes as demonstrations")
    q.add_argument("dataset", type=Path, metavar="DATASET", help="LeRobot v3.x dataset folder")
    q.add_argument("--as-demos", required=True, type=Path, metavar="RUN", dest="run_dir",
                   help="new (or empty) run folder to create the store in")
    add_config_args(q)
    add_json_arg(q)
    q.set_defaults(func=import_)


def _need_pyarrow(what: str) -> None:
    from learner.optional import OptionalMissing, need

    try:
        need("pyarrow", what)
    except OptionalMissing as e:
        raise CliError(f"{e}; nothing was written") from None


def _fps(store_path: Path) -> int:
    saved = store_path.parent / "config.yaml"
    cfg = cfgmod.load_saved(saved) if saved.is_file() else cfgmod.resolve()
    return max(1, round(cfg.cell.control_hz))


def export(args: argparse.Namespace) -> int:
    from learner import lerobot_format
    from learner.replay import ReplayStore, StoreError

    _need_pyarrow("rlif store export --format lerobot")
    path = args.path / "replay.zarr" if (args.path / "replay.zarr").is_dir() else args.path
    out = args.out
    if out.exists():
        raise CliError(f"{out} already exists; pass a new folder (nothing was written)")
    try:
        store = ReplayStore.open(path, readonly=True)
    except StoreError as e:
        raise CliError(str(e)) from None
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with store:
        if store.n_episodes == 0:
            raise CliError(f"{path}: no committed episodes to export (nothing was written)")
        if store.images:  # the frames would be dropped without a word
            raise CliError(f"{path}: holds camera frames ({', '.join(store.images)}), which the LeRobot export "
                           "does not write yet (nothing was written)")
        fps = _fps(path)
        try:
            info = lerobot_format.write(store, tmp, fps)
            os.replace(tmp, out)
        except OSError as e:  # disk full, no permission: the partial folder goes
            raise CliError(f"writing {out} failed ({e.strerror or e}); nothing was written") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {"out": str(out), "episodes": info["total_episodes"], "frames": info["total_frames"], "fps": fps,
              "features": list(info["features"])}
    if args.json:
        emit_json(result)
    else:
        print(f"wrote {out}: {result['episodes']} episodes, {result['frames']} frames at {fps} fps (LeRobot v3.0)")
    return 0


def import_(args: argparse.Namespace) -> int:
    from learner.config import ReplayConfig
    from learner.lerobot_import import DatasetError, read, write_episodes
    from learner.replay import ReplayStore, StoreError
    from robot_stack import contract

    _need_pyarrow("rlif store import")
    run_dir = args.run_dir
    if run_dir.is_dir() and any(run_dir.iterdir()):
        raise CliError(f"{run_dir} exists and is not empty; pass a new or empty folder (nothing was written)")
    cfg = cfgmod.resolve(args.profile, args.set)
    labels = contract.action_labels(cfg.cell.action_space)
    try:
        info, episodes = read(args.dataset, contract.OBS_LABELS, labels)
    except DatasetError as e:
        raise CliError(str(e)) from None
    if not episodes:
        raise CliError(f"{args.dataset}: no frames (nothing was written)")
    own = "driver" in info["features"] and "cell_time" in info["features"]
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        cfgmod.save(cfg, run_dir / "config.yaml")
        # committed episodes reach disk in batches (and all of them on close): a bulk import
        with ReplayStore.create(run_dir / "replay.zarr", contract.OBS_LABELS, labels,
                                config=ReplayConfig(flush_interval_s=30.0)) as store:
            rows = write_episodes(store, episodes, demo=True)
    except (OSError, StoreError) as e:  # disk full, no permission: what was written goes
        shutil.rmtree(run_dir / "replay.zarr", ignore_errors=True)
        (run_dir / "config.yaml").unlink(missing_ok=True)
        raise CliError(f"writing {run_dir} failed ({e}); nothing was kept") from None
    result = {"run_dir": str(run_dir), "episodes": len(episodes), "rows": rows, "source": "rlif" if own else "other"}
    if args.json:
        emit_json(result)
    else:
        print(f"seeded {run_dir}/replay.zarr with {len(episodes)} demonstration episodes ({rows} rows); "
              f"train from them: rlif train --resume --run-dir {run_dir}")
    return 0
