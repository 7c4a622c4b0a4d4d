"""`rlif up PROFILE`: run the graph of a profile until Ctrl-C / SIGTERM; exit 1 if a node dies."""
from __future__ import annotations

import argparse
import sys
import time

from robot_stack.cli.common import add_run_dir_arg, add_set_arg, new_run_dir
from robot_stack.cli.outputs import add_logger_arg, add_mcap_arg, output_sets, preflight
from robot_stack.plan import OPERATORS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="run a profile's ROS 2 graph (one process per node) until Ctrl-C")
    p.add_argument("profile", nargs="?", default="sim", help="launch/PROFILE.yaml (default sim)")
    p.add_argument("--operator", choices=OPERATORS, default=None,
                   help="who can take over (default: the profile's); none = an outside program may "
                        "publish /rlif/teleop/intervening and /rlif/teleop/twist")
    p.add_argument("--serve", action="store_true", help="also run the supervisor dashboard (prints its URL)")
    p.add_argument("--port", type=int, default=None, help="dashboard port (default supervisor.port)")
    add_run_dir_arg(p)
    add_set_arg(p)
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    p.add_argument("--episodes", type=int, default=0, help="stop after this many episodes (0: run until Ctrl-C)")
    p.add_argument("--health-every", type=float, default=10.0, help="print node health every S seconds")
    add_logger_arg(p)
    add_mcap_arg(p)
    p.set_defaults(func=run)


def health_line(monitor, dead_after_s: float) -> str:
    status, ages = monitor.snapshot()
    parts = []
    for name in sorted(status):
        s, age = status[name], ages[name]
        flag = "ok" if age < dead_after_s else f"SILENT {age:.0f}s"
        detail = {k: s[k] for k in ("episode", "step", "updates", "actions", "commands", "rows") if k in s}
        parts.append(f"{name} {flag} {detail}" if detail else f"{name} {flag}")
    return "[health] " + " | ".join(parts)


def run(args: argparse.Namespace) -> int:
    from robot_stack.session import GraphSession, prepare_run  # rclpy: only ROS commands need it

    sets = list(args.set) + output_sets(args)
    preflight(args.profile, sets, args.run_dir, args.resume)  # before anything is written
    run_dir = new_run_dir(args.run_dir, args.profile)
    prof, cfg = prepare_run(args.profile, sets, run_dir, args.resume)
    print(f"[launcher] run folder {run_dir}", flush=True)
    episodes_done = []

    def on_event(e):
        if e.kind == "episode_end":
            episodes_done.append(e.data)
        if e.kind in ("fault", "estop", "estop_clear", "episode_end"):
            print(f"[event] {e.kind} {e.source} {e.data if e.kind != 'episode_end' else _short(e.data)}", flush=True)

    with GraphSession(prof, cfg, run_dir, args.operator, args.resume, args.episodes, on_event=on_event,
                      serve=args.serve, port=args.port) as g:
        print(f"[launcher] nodes: {', '.join(s.name for s in g.specs)}", flush=True)
        for proc in g.launcher.processes:
            if proc.members:
                print(f"[launcher] process {proc.name}: {', '.join(proc.node_names())} (one executor)", flush=True)
        last = [time.monotonic()]

        def tick():
            if time.monotonic() - last[0] > args.health_every:
                print(health_line(g.monitor, cfg.graph.node_dead_s), flush=True)
                last[0] = time.monotonic()

        def done() -> bool:  # events, or the clock's own count should an event be missed
            n = max(len(episodes_done), g.clock_episodes())
            return bool(args.episodes) and n >= args.episodes

        reason = g.wait(done, tick=tick)
    print(f"[launcher] stopped ({reason})", flush=True)
    if reason.startswith("died:"):
        print(f"rlif up: node {reason[5:]} died; see {run_dir}/logs/{reason[5:]}.log", file=sys.stderr)
        return 1
    return 0


def _short(d: dict) -> dict:
    return {k: d[k] for k in ("episode", "steps", "reason", "interventions", "intervention_steps") if k in d}
