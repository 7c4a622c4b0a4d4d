"""`rlif experiment`: RLIF vs HG-DAgger vs DAgger vs BC at several expert levels, in process on the
twin (no ROS graph). The logic is `learner.experiment` (what each method does, the budget, eval,
resume) and `learner.experiment_report` (results.csv, curves.png, report.md, the JSON line).

Config: the profile (default sim) + the preset's agent overrides + `--set` (the user wins);
`agent.algo` and `operator.expert` are set per cell. Progress (rich) goes to stderr. Re-running
with the same `--run-dir` skips the cells already finished with the same settings.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import asdict

from robot_stack import config as cfgmod
from robot_stack.cli.common import CliError, add_json_arg, add_run_dir_arg, emit_json, new_run_dir, print_table


def _csv(kind):
    def parse(text: str):
        return tuple(kind(x) for x in text.split(",") if x.strip())
    return parse


def register(sub: argparse._SubParsersAction) -> None:
    from learner.experiment import LEVELS, METHODS

    p = sub.add_parser("experiment", help="RLIF vs HG-DAgger vs DAgger vs BC on the twin (table + plot)")
    p.add_argument("--preset", choices=("quick", "full"), default="quick",
                   help="quick: mid expert, 1 seed, 5k steps, initial temperature 0.05 (<= 15 min); full: 3 levels, "
                        "3 seeds, 30k steps (hours); both a small RLPD (5 critics 128x128, UTD 2)")
    p.add_argument("--methods", type=_csv(str), default=None, help=f"comma list from {','.join(METHODS)}")
    p.add_argument("--experts", type=_csv(str), default=None, help=f"comma list from {','.join(LEVELS)}")
    p.add_argument("--seeds", type=_csv(int), default=None, help="comma list of run seeds, e.g. 0,1,2")
    p.add_argument("--steps", type=int, default=None, help="online env-step budget per cell")
    p.add_argument("--eval-every", type=int, default=None, help="env steps between evaluations")
    p.add_argument("--eval-episodes", type=int, default=None, help="episodes per evaluation")
    p.add_argument("--demo-episodes", type=int, default=None, help="expert demos every cell starts with")
    p.add_argument("--profile", default="sim", help="launch profile for the cell/operator/agent config")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="config override, repeatable (wins over the preset)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_run_dir_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def _spec(args):
    from learner.experiment import PRESETS, Spec

    pre = PRESETS[args.preset]
    pick = {"methods": args.methods, "experts": args.experts, "seeds": args.seeds, "steps": args.steps,
            "eval_every": args.eval_every, "eval_episodes": args.eval_episodes, "demo_episodes": args.demo_episodes}
    kw = {k: (v if v is not None else pre[k]) for k, v in pick.items()}
    try:
        return Spec(**{k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in kw.items()}).validate()
    except ValueError as e:
        raise CliError(f"{e}", 2) from None


def _preset_sets(preset: str) -> list[str]:
    from learner.experiment import PRESETS

    return [f"agent.{k}={v}" for k, v in PRESETS[preset]["agent"].items()]


def run(args: argparse.Namespace) -> int:
    from learner.experiment import Configs
    from learner.experiment_report import aggregate, summary_json, write_all

    spec = _spec(args)
    cfg = cfgmod.resolve(args.profile, _preset_sets(args.preset) + list(args.set))
    if cfg.cell.kind != "twin":
        raise CliError(f"rlif experiment runs on the twin; the profile has cell.kind={cfg.cell.kind!r}", 2)
    run_dir = new_run_dir(args.run_dir, f"experiment-{args.preset}")
    cfgmod.save(cfg, run_dir / "config.yaml")
    cfgs = Configs(cell=cfg.cell, operator=cfg.operator, agent=cfg.agent, replay=cfg.replay)
    command = "rlif experiment " + shlex.join(sys.argv[2:] if sys.argv[1:2] == ["experiment"] else sys.argv[1:])
    cells = spec.cells()
    print(f"rlif experiment: {len(cells)} cells ({', '.join(spec.methods)} x {', '.join(spec.experts)} x seeds "
          f"{','.join(map(str, spec.seeds))}), {spec.steps} env steps each; run folder {run_dir}",
          file=sys.stderr, flush=True)
    experts, results = _run_with_progress(spec, cfgs, run_dir, cells, args.quiet)
    files = write_all(run_dir, asdict(spec), experts, results, command)
    rows = aggregate(results)
    if args.json:
        emit_json(summary_json(experts, results))
    else:
        print_table([(r["method"], f"{r['expert']} ({experts[r['expert']]['success']:.0%})", r["seeds"],
                      f"{r['success']:.0%}", f"{r['intervention_rate']:.3f}", r["env_steps"], f"{r['wall_s']:.0f}")
                     for r in rows],
                    ("method", "expert (own)", "seeds", "autonomous success", "intervention rate", "env steps",
                     "wall s/cell"), title="rlif experiment")
        print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


def _run_with_progress(spec, cfgs, run_dir, cells, quiet: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    from learner.experiment import run_experiment

    if quiet:
        return run_experiment(spec, cfgs, run_dir)
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

        out = run_experiment(spec, cfgs, run_dir, on_cell_start=on_cell_start, progress=progress)
        prog.update(task, completed=len(cells) * spec.steps, description="done")
    return out
