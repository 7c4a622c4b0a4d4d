"""`rlif sim rollout`: run a scripted expert on the MuJoCo twin and write a summary, a GIF and an
image strip of one episode (so a person can look at the cell)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robot_stack.cli.common import add_config_args, add_json_arg, emit_json, resolve_config
from robot_stack.cli.main import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="the MuJoCo twin: roll out a scripted expert, look at the cell")
    ssub = p.add_subparsers(dest="sim_cmd", metavar="SUBCOMMAND", required=True)
    r = ssub.add_parser("rollout", help="run a scripted expert for N episodes; write summary + GIF + strip")
    r.add_argument("--expert", default="mid", help="expert level: high | mid | low, or a quality in [0, 1]")
    r.add_argument("--episodes", type=int, default=5, help="number of episodes (default 5)")
    r.add_argument("--out", type=Path, default=Path("rollout"), help="output folder (default ./rollout)")
    r.add_argument("--seed", type=int, default=0, help="episode i uses cell seed SEED+i")
    add_config_args(r)
    add_json_arg(r)
    r.set_defaults(func=run_rollout)


def run_rollout(args: argparse.Namespace) -> int:
    from sim.rollout import rollout

    level: str | float = args.expert
    if level not in ("high", "mid", "low"):
        try:
            level = float(level)
        except ValueError:
            raise CliError(f"--expert must be high, mid, low or a float in [0, 1], got {args.expert!r}", 2) from None
    if args.episodes < 1:
        raise CliError("--episodes must be >= 1", 2)
    cfg = resolve_config(args).cell
    if cfg.kind != "twin":
        raise CliError(f"rlif sim needs cell.kind=twin, the profile has {cfg.kind!r}", 2)

    def progress(i: int, row: dict) -> None:
        if not args.json:
            print(f"episode {i + 1}/{args.episodes}: {'success' if row['success'] else 'aborted' if row['aborted'] else 'fail'}"
                  f" in {row['steps']} steps, max force {row['max_force_n']} N", file=sys.stderr, flush=True)

    from sim.gl import RenderUnavailable

    try:
        summary = rollout(level, args.episodes, args.out, args.seed, cfg, progress=progress)
    except ValueError as e:
        raise CliError(str(e), 2) from None
    except RenderUnavailable as e:  # the GIF and strip need camera frames
        raise CliError(str(e)) from None
    if args.json:
        emit_json({k: v for k, v in summary.items() if k != "per_episode"})
    else:
        print(f"success {summary['success_rate']:.0%} over {args.episodes} episodes ({summary['wall_s']} s); "
              f"wrote {', '.join(summary['files'])}")
    return 0
