"""`rlif train`: the main job. The profile's whole graph (default `sim`: the twin with a simulated
operator), for `--episodes N` or until the rolling success reaches `--target-success`; then a
summary table, `curves.png` and `report.md` in the run folder. `--resume` continues a run folder
after any crash (store, learner state, actor weights). `--json` prints a final summary object.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import threading

from robot_stack import report
from robot_stack.cli.common import add_json_arg, add_run_dir_arg, add_set_arg, emit_json, new_run_dir, print_table
from robot_stack.cli.common import CliError
from robot_stack.cli.outputs import add_logger_arg, add_mcap_arg, output_sets, preflight
from robot_stack.plan import OPERATORS, committed_episodes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="main job: train on the twin (or the robot) through the ROS 2 graph")
    p.add_argument("--profile", default="sim", help="launch profile (default sim: twin + simulated operator)")
    p.add_argument("--operator", choices=OPERATORS, default=None, help="override the profile's operator")
    p.add_argument("--episodes", type=int, default=None, help="total episodes (default: train.episodes)")
    p.add_argument("--target-success", type=float, default=None,
                   help="stop early at this rolling autonomous success rate (default: train.target_success)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir after a crash")
    add_set_arg(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--serve", action="store_true", help="also run the supervisor dashboard (prints its URL)")
    p.add_argument("--port", type=int, default=None, help="dashboard port (default supervisor.port)")
    add_logger_arg(p)
    add_mcap_arg(p)
    add_run_dir_arg(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from robot_stack.session import GraphSession, prepare_run  # rclpy: only ROS commands need it

    if args.resume and args.run_dir is None:
        raise CliError("--resume needs --run-dir RUN_FOLDER", code=2)
    sets = list(args.set)
    if args.episodes is not None:
        sets.append(f"train.episodes={args.episodes}")
    if args.target_success is not None:
        sets.append(f"train.target_success={args.target_success}")
    sets += output_sets(args)
    preflight(args.profile, sets, args.run_dir, args.resume)  # before anything is written
    run_dir = new_run_dir(args.run_dir, args.profile)
    prof, cfg = prepare_run(args.profile, sets, run_dir, args.resume)
    tr = cfg.train
    if not args.resume and tr.demo_episodes:
        _seed_demos(cfg, run_dir, args.operator or prof.get("operator", "sim"))
    already = committed_episodes(run_dir) - _stored_demos(run_dir)  # the demonstrations come first
    remaining = max(0, tr.episodes - already)
    ends: list[dict] = []
    lock = threading.Lock()

    def on_event(e):
        if e.kind == "episode_end":
            with lock:
                ends.append(e.data)
        elif e.kind == "fault":
            print(f"[fault] {e.source}: {e.data.get('what')} {e.data.get('detail', '')}", file=sys.stderr)

    def rolling_success() -> float:
        with lock:
            last = ends[-tr.window:]
        if len(last) < tr.window:
            return 0.0
        return sum(d["success"] and d["intervention_steps"] == 0 for d in last) / len(last)

    progress = None if (args.quiet or args.json) else _Progress(remaining, cfg)
    print(f"rlif train: run folder {run_dir} ({already} episodes done, {remaining} to go)", file=sys.stderr)
    reason = "done"
    if remaining:
        with GraphSession(prof, cfg, run_dir, args.operator, args.resume, remaining,
                          out=_warnings_only if not args.serve else _warnings_and_urls, on_event=on_event,
                          serve=args.serve, port=args.port) as g:
            def done() -> bool:  # episode_end events, or the clock's own count should an event be missed
                n = max(len(ends), g.clock_episodes())
                return n >= remaining or rolling_success() >= tr.target_success

            reason = g.wait(done,
                            tick=(lambda: progress.update(ends, g.monitor)) if progress else None)
    if progress:
        progress.close()
    m = report.read_metrics(run_dir)
    summary = {**report.summarize(m, tr.window, cfg.cell.control_hz), "run_dir": str(run_dir), "stopped": reason,
               "demo_episodes": _stored_demos(run_dir)}  # before the graph's episodes, not in the numbers above
    if m:
        report.plot_curves(m, run_dir / "curves.png", tr.window)
    report.write_report(run_dir, summary, f"rlif train: {cfg.profile}", "rlif " + shlex.join(sys.argv[1:]))
    if args.json:
        emit_json(summary)
    else:
        print_table([(k, v) for k, v in summary.items()], ("", ""), title="rlif train")
    if reason.startswith("died:"):
        raise CliError(f"node {reason[5:]} died; see {run_dir}/logs/{reason[5:]}.log; "
                       f"continue with: rlif train --resume --run-dir {run_dir}")
    return 130 if reason == "interrupted" else 0


def _stored_demos(run_dir) -> int:
    if not (run_dir / "replay.zarr").exists():
        return 0
    from learner.replay import ReplayStore

    with ReplayStore.open(run_dir / "replay.zarr", readonly=True) as store:
        return int(store.episodes["demo"].sum())


def _seed_demos(cfg, run_dir, operator: str) -> None:
    """The simulated operator demonstrates `train.demo_episodes` episodes before the graph starts."""
    if cfg.cell.kind != "twin" or operator != "sim":
        print(f"rlif train: no demonstrations (train.demo_episodes needs the twin and the simulated operator; "
              f"here cell {cfg.cell.kind}, operator {operator})", file=sys.stderr)
        return
    from learner.demos import seed_demos

    d = seed_demos(run_dir / "replay.zarr", cfg.cell, cfg.operator, cfg.train.seed, cfg.train.demo_episodes,
                   cfg.replay, cfg.vision)
    print(f"rlif train: {d['episodes']} demonstrations by the operator's expert ({d['expert']}): {d['steps']} steps, "
          f"{d['successes']} successful", file=sys.stderr)


def _warnings_and_urls(line: str) -> None:
    if "supervisor:" in line:  # the dashboard link (with its token) is printed once
        print(line, file=sys.stderr, flush=True)
    _warnings_only(line)


def _warnings_only(line: str) -> None:
    if any(w in line for w in ("WARN", "ERROR", "Traceback", "Error")):
        print(line, file=sys.stderr, flush=True)


class _Progress:
    """Rich progress bar: episodes, success and intervention rates, learner updates/s."""

    def __init__(self, total: int, cfg):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.window = cfg.train.window
        self.p = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          TextColumn("{task.fields[info]}"), transient=False)
        self.task = self.p.add_task("train", total=total, info="starting graph…")
        self.p.start()

    def update(self, ends: list[dict], monitor) -> None:
        last = ends[-self.window:]
        status, _ = monitor.snapshot()
        ups = status.get("learner", {}).get("updates_per_s", 0.0)
        if last:
            succ = sum(d["success"] for d in last) / len(last)
            steps = sum(d["steps"] for d in last)
            ir = sum(d["intervention_steps"] for d in last) / max(1, steps)
            info = f"success {succ:.0%}  interventions {ir:.1%}  learner {ups:.0f} upd/s"
        else:
            info = f"learner {ups:.0f} upd/s"
        self.p.update(self.task, completed=len(ends), info=info)

    def close(self) -> None:
        self.p.stop()
