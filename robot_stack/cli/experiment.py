"""`rlif experiment`: RLIF vs HG-DAgger vs DAgger vs BC (and controls) at several expert levels,
in process on the twin (no ROS graph). The logic is `learner.experiment` (protocol, budget, resume),
`learner.experiment_cell` (what each method does), `learner.experiment_eval` (held-out
evaluation) and `learner.experiment_report` (results.csv, curves.png, report.md, the JSON line).

Config: the profile (default sim) + the preset's agent and operator overrides + `--set` (the user
wins); `agent.algo` and `operator.expert` are set per cell. Progress goes to stderr. Re-running
with the same `--run-dir` skips the cells already finished with the same settings.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import asdict

from robot_stack import config as cfgmod
from robot_stack.cli.common import (CliError, add_json_arg, add_run_dir_arg, add_set_arg, emit_json, new_run_dir,
                                     print_table)
from robot_stack.cli.outputs import add_logger_arg, check_packages, output_sets


def _csv(kind):
    def parse(text: str):
        return tuple(kind(x) for x in text.split(",") if x.strip())
    return parse


def register(sub: argparse._SubParsersAction) -> None:
    from learner.experiment import LEVELS, METHODS

    p = sub.add_parser("experiment", help="RLIF vs HG-DAgger vs DAgger vs BC on the twin (table + plot)")
    p.add_argument("--preset", choices=("quick", "full"), default="quick",
                   help="quick: mid expert, 1 seed, 5k steps, the four methods, small final sets (<= 15 min); "
                        "full: every method and control at mid over 5 seeds, the four methods at low/high over 3, "
                        "30k steps (hours); both a small RLPD (5 critics 128x128, UTD 2), the human-model operator, "
                        "reference experts (--set operator.strategy=value: the paper's judge)")
    p.add_argument("--methods", type=_csv(str), default=None, help=f"comma list from {','.join(METHODS)}")
    p.add_argument("--experts", type=_csv(str), default=None, help=f"comma list from {','.join(LEVELS)}")
    p.add_argument("--seeds", type=_csv(int), default=None, help="comma list of run seeds, e.g. 0,1,2")
    p.add_argument("--steps", type=int, default=None, help="online env-step budget per cell")
    p.add_argument("--eval-every", type=int, default=None, help="env steps between evaluations")
    p.add_argument("--eval-episodes", type=int, default=None, help="episodes per evaluation")
    p.add_argument("--demo-episodes", type=int, default=None, help="expert demos every cell starts with")
    p.add_argument("--final-episodes", type=int, default=None,
                   help="episodes of each final set per cell (held-out, sampled, shifted, deployment); default: "
                        "the preset's")
    p.add_argument("--workers", type=int, default=None,
                   help="cells run in this many parallel processes (default: one per usable core at agent.threads "
                        "each, at most one per cell; 1 = in this process, with per-episode progress)")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: write the report from the cells already finished in --run-dir (a partial "
                        "table of a grid still running)")
    p.add_argument("--obs", choices=("state", "image"), default="state",
                   help="what the learners see: state = the 18-D state vector; image = the state plus the wrist "
                        "camera's frames (vision.image_size=64 unless --set says otherwise; the hole is visible). "
                        "Experts and operators act on the state either way")
    p.add_argument("--profile", default="sim", help="launch profile for the cell/operator/agent config")
    add_set_arg(p, "wins over the preset")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_logger_arg(p)
    add_run_dir_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def _spec(args):
    from learner.experiment import spec_from_preset

    pick = {"methods": args.methods, "experts": args.experts, "seeds": args.seeds, "steps": args.steps,
            "eval_every": args.eval_every, "eval_episodes": args.eval_episodes, "demo_episodes": args.demo_episodes,
            **{k: args.final_episodes for k in ("held_out_episodes", "sampled_episodes", "shifted_episodes",
                                                 "deploy_episodes")}}
    if args.methods or args.experts or args.seeds:
        pick["restrict"] = ()  # an explicit grid replaces the preset's per-level restriction
    try:
        return spec_from_preset(args.preset, **pick)
    except (ValueError, TypeError) as e:
        raise CliError(f"{e}", 2) from None


def _preset_sets(preset: str) -> list[str]:
    from learner.experiment import PRESETS

    pre = PRESETS[preset]
    return ([f"agent.{k}={v}" for k, v in pre["agent"].items()] +
            [f"operator.{k}={v}" for k, v in pre["operator"].items()])


def run(args: argparse.Namespace) -> int:
    from learner.experiment import Configs
    from learner.experiment_report import aggregate, summary_json, write_all

    spec = _spec(args)
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers {args.workers}: must be >= 1", 2)
    obs_sets = ["vision.image_size=64"] if args.obs == "image" else []
    cfg = cfgmod.resolve(args.profile, _preset_sets(args.preset) + obs_sets + list(args.set) + output_sets(args))
    check_packages(cfg)  # the logger's package, before the run folder is written
    if (args.obs == "image") != cfg.vision.enabled:
        raise CliError(f"--obs {args.obs} but vision.image_size={cfg.vision.image_size}: --obs image needs a "
                       "size > 0, --obs state needs 0. Nothing was written", 2)
    if cfg.cell.kind != "twin":
        raise CliError(f"rlif experiment runs on the twin; the profile has cell.kind={cfg.cell.kind!r}", 2)
    _check_reference(cfg)
    run_dir = new_run_dir(args.run_dir, f"experiment-{args.preset}" + ("-image" if args.obs == "image" else ""))
    cfgmod.save(cfg, run_dir / "config.yaml")
    cfgs = Configs(cell=cfg.cell, operator=cfg.operator, agent=cfg.agent, replay=cfg.replay,
                   vision=cfg.vision if cfg.vision.enabled else None)
    command = "rlif experiment " + shlex.join(sys.argv[2:] if sys.argv[1:2] == ["experiment"] else sys.argv[1:])
    cells = spec.cells()
    if args.workers is None:
        from learner.experiment_runner import default_workers

        args.workers = default_workers(len(cells), cfg.agent.threads)
    print(f"rlif experiment: {len(cells)} cells ({', '.join(spec.methods)} x {', '.join(spec.experts)} x seeds "
          f"{','.join(map(str, spec.seeds))}), {spec.steps} env steps each, {args.workers} worker(s); "
          f"run folder {run_dir}", file=sys.stderr, flush=True)
    if args.report_only:
        from learner.experiment import run_experiment

        experts, results = run_experiment(spec, cfgs, run_dir, finished_only=True)
        if not results:
            raise CliError(f"no finished cells with these settings in {run_dir}", 1)
        print(f"rlif experiment: report of {len(results)} of {len(cells)} cells (the rest not finished)",
              file=sys.stderr)
    else:
        experts, results = _run_with_progress(spec, cfgs, run_dir, cells, args.quiet, args.workers,
                                              _cell_logger(cfg, run_dir))
    note = (f"Partial: {len(results)} of {len(cells)} cells finished when this report was written."
            if len(results) < len(cells) else "")
    files = write_all(run_dir, asdict(spec), experts, results, command, note, cfg.operator)
    if args.json:
        emit_json(summary_json(experts, results))
    else:
        def pct(x, lo=None, hi=None):
            return "-" if x != x else (f"{x:.0%}" if lo is None else f"{x:.0%} [{lo:.0%}, {hi:.0%}]")
        print_table([(r["method"], f"{r['expert']} ({pct(experts[r['expert']].get('success', float('nan')))})",
                      r["seeds"], pct(r["held_out"], r["held_out_lo"], r["held_out_hi"]),
                      pct(r["deploy_human_rate"]), f"{r['intervention_rate']:.3f}", r["env_steps"], f"{r['wall_s']:.0f}")
                     for r in aggregate(results)],
                    ("method", "expert (alone)", "seeds", "held-out success [95% CI]", "deploy rate (human)",
                     "training rate", "env steps", "wall s/cell"), title="rlif experiment")
        print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


def _check_reference(cfg) -> None:
    """Fail before any cell runs when the reference agent is missing or wrong: the final evaluation
    deploys every actor with the value operator, whatever the training operator is."""
    op = cfg.operator
    from learner.operators import _action_dim, load_reference
    from learner.reference import ReferenceError

    try:
        ref = load_reference(op.reference, 18, _action_dim(cfg.cell))
        if op.expert_kind == "reference":
            for level in ("low", "mid", "high"):
                ref.level(level)
    except ReferenceError as e:
        raise CliError(str(e), 1) from None


def _cell_logger(cfg, run_dir):
    """on_cell_done callback logging each finished cell to train.logger (None for none)."""
    if cfg.train.logger == "none":
        return None
    from learner.experiment_log import log_cell

    return lambda key, res: log_cell(cfg.train.logger, run_dir, key, res, cfg.train.wandb_project)


def _run_with_progress(spec, cfgs, run_dir, cells, quiet: bool, workers: int = 1, log_cell=None):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    from learner.experiment import run_experiment

    if quiet:
        return run_experiment(spec, cfgs, run_dir, workers=workers, on_cell_done=log_cell)
    if workers > 1:  # cells run in other processes: report each as it finishes
        def done(key: str, res: dict) -> None:
            ho = res.get("final", {}).get("held_out", {}).get("success", float("nan"))
            print(f"[experiment] {key}: {'skipped (done)' if res.get('skipped') else 'finished'}, held-out success "
                  f"{ho:.0%}, {res.get('wall_s', 0):.0f} s", file=sys.stderr, flush=True)
            if log_cell is not None:
                log_cell(key, res)
        return run_experiment(spec, cfgs, run_dir, workers=workers, on_cell_done=done)
    cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("env steps"),
            TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*cols, console=Console(stderr=True), transient=False) as prog:
        task = prog.add_task("experts", total=len(cells) * spec.steps)
        state = {"cells": 0, "base": 0, "cell_steps": 0}

        def on_cell_start(key: str, skipped: bool) -> None:
            state["base"], state["cell_steps"] = state["cells"] * spec.steps, 0
            state["cells"] += 1
            prog.update(task, completed=state["base"] + (spec.steps if skipped else 0),
                        description=f"{key}{' (done, skipped)' if skipped else ''}")

        def progress(steps: int) -> None:
            state["cell_steps"] += steps
            prog.update(task, completed=state["base"] + min(spec.steps, state["cell_steps"]))

        out = run_experiment(spec, cfgs, run_dir, on_cell_start=on_cell_start, progress=progress,
                             on_cell_done=log_cell)
        prog.update(task, completed=len(cells) * spec.steps, description="done")
    return out
