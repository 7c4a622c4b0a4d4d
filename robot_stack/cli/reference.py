"""`rlif reference train|show|report`: the reference agent of the simulation protocol (learner.reference).

`train` runs RLPD with the task reward on the twin (no ROS), snapshots the actor, derives the
three expert levels and writes one reference file (default: a new file in the run folder; the
shipped one is `learner/assets/reference.safetensors`, made with `rlif reference train --out
learner/assets/reference.safetensors`). `show` prints what a reference file holds.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from robot_stack import config as cfgmod
from robot_stack.cli.common import CliError, add_config_args, add_json_arg, add_run_dir_arg, emit_json, new_run_dir

# The reference's learner: the experiment's small RLPD with a low initial temperature.
AGENT = {"hidden": [128, 128], "n_critics": 5, "utd": 2, "threads": 1, "warmup_rows": 300, "init_temperature": 0.05}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reference", help="train or inspect the reference agent (the simulated operator's judge)")
    s = p.add_subparsers(dest="reference_command", metavar="ACTION", required=True)
    t = s.add_parser("train", help="train the reference agent with the task reward and derive the expert levels")
    t.add_argument("--steps", type=int, default=40_000, help="online env steps (default 40000)")
    t.add_argument("--demo-episodes", type=int, default=20, help="privileged-expert demos as prior data")
    t.add_argument("--snapshot-every", type=int, default=500, help="env steps between actor snapshots")
    t.add_argument("--coarse-episodes", type=int, default=20, help="calibration episodes per snapshot")
    t.add_argument("--fine-episodes", type=int, default=100, help="calibration episodes per level candidate")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", type=Path, default=None, help="reference file to write (default RUN_DIR/reference.safetensors)")
    add_config_args(t)
    add_run_dir_arg(t)
    add_json_arg(t)
    t.set_defaults(func=run_train)
    r = s.add_parser("report", help="training curve and the value judge's behaviour (training.png, judge.md)")
    r.add_argument("file", type=Path, nargs="?", default=None, help="reference file (default: the shipped one)")
    r.add_argument("--out", type=Path, required=True, help="folder to write")
    r.add_argument("--episodes", type=int, default=15, help="calibration episodes whose states the judge sees")
    r.set_defaults(func=run_report)
    w = s.add_parser("show", help="what a reference file holds (levels, success, how it was made)")
    w.add_argument("file", type=Path, nargs="?", default=None, help="reference file (default: the shipped one)")
    add_json_arg(w)
    w.set_defaults(func=run_show)


def run_train(args: argparse.Namespace) -> int:
    from learner.reference_train import ReferenceSpec, train_reference

    sets = [f"agent.{k}={v}" for k, v in AGENT.items()] + list(args.set)
    cfg = cfgmod.resolve(args.profile, sets)
    if cfg.cell.kind != "twin":
        raise CliError(f"the reference trains on the twin; the profile has cell.kind={cfg.cell.kind!r}", 2)
    try:
        spec = ReferenceSpec(steps=args.steps, demo_episodes=args.demo_episodes, snapshot_every=args.snapshot_every,
                             coarse_episodes=args.coarse_episodes, fine_episodes=args.fine_episodes,
                             seed=args.seed).validate()
    except ValueError as e:
        raise CliError(str(e), 2) from None
    run_dir = new_run_dir(args.run_dir, "reference")
    cfgmod.save(cfg, run_dir / "config.yaml")
    out = args.out or run_dir / "reference.safetensors"
    command = "rlif reference train " + shlex.join(sys.argv[3:] if sys.argv[1:3] == ["reference", "train"] else [])

    def progress(kind: str, d: dict) -> None:
        print(f"[reference] {kind}: " + ", ".join(f"{k}={v}" for k, v in d.items()), file=sys.stderr, flush=True)

    meta = train_reference(spec, cfg.cell, cfg.agent, cfg.replay, run_dir, out, command=command, progress=progress)
    summary = {"file": str(out), "final_success": meta["final_success"]["success"],
               "levels": {n: {"step": lv["step"], "success": lv["success"]} for n, lv in meta["levels"].items()},
               "train_env_steps": meta["train_env_steps"], "wall_s": meta["wall_s"]}
    if args.json:
        emit_json(summary)
    else:
        print(f"wrote {out}: final success {summary['final_success']:.0%}; levels " +
              ", ".join(f"{n} {lv['success']:.0%} (step {lv['step']})" for n, lv in summary["levels"].items()))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from learner.reference import ReferenceError, describe, load

    try:
        ref = load(args.file)
    except ReferenceError as e:
        raise CliError(str(e), 1) from None
    d = describe(ref)
    if args.json:
        emit_json(d)
    else:
        print(f"reference: obs_dim {d['obs_dim']}, hidden {d['hidden']}, {d['n_critics']} critics, gamma {d['gamma']}, "
              f"reward {d['reward']}, {d['train_env_steps']} env steps; final success {d['final_success']['success']:.0%}")
        for n, lv in (d["levels"] or {}).items():
            print(f"  level {n}: success {lv['success']:.0%} (target {lv['target']:.0%}) = snapshot at {lv['step']} env steps")
        print(f"  made by: {d['command']}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from learner.reference import DEFAULT_FILE, ReferenceError, load
    from learner.reference_report import write_report
    from sim.cell import TwinCell
    from sim.config import CellConfig

    if args.episodes < 1:
        raise CliError(f"--episodes {args.episodes}: must be >= 1", 2)
    try:
        ref = load(args.file)
    except ReferenceError as e:
        raise CliError(str(e), 1) from None
    cell = TwinCell(CellConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in ref.meta["cell"].items()}))
    try:
        files = write_report(ref, cell, args.out, args.episodes, source=str(args.file or DEFAULT_FILE.name))
    finally:
        cell.close()
    print("wrote " + ", ".join(str(f) for f in files))
    return 0
