"""`rlif` command line: one subcommand per module in this package, each with `register(sub)`.

Conventions every subcommand follows:
- `--json` prints one JSON object as the last line of stdout (progress goes to stderr);
- commands that write take `--run-dir D` (default `runs/<timestamp>-<profile>/`);
- expected failures (bad config, missing device, corrupt file) print one clear line, no
  traceback, and exit non-zero (2 for usage/config errors, 1 for a failed check).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from robot_stack.cli.common import CliError  # noqa: F401  (re-exported: subcommands raise it)

# Subcommand modules, in `rlif --help` order. Building the parser imports none of ROS: a
# subcommand imports what it needs when it runs, so every command that needs no ROS graph works
# where the ROS 2 wheels are not installed, and a ROS command says in one line what is missing.
COMMANDS = ("train", "up", "experiment", "reference", "eval", "teleop", "teach", "robot", "serve", "store", "bench", "sim", "doctor", "config")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlif",
        description="RLIF cell: a Franka arm learns peg insertion from operator interventions.",
        epilog="`rlif COMMAND --help` for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"robot_stack.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"robot_stack.cli.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    return parser


# Top-level modules of the ROS 2 wheels (requirements.txt); missing together where ROS is absent.
ROS_MODULES = ("rclpy", "std_msgs", "geometry_msgs", "sensor_msgs", "std_srvs", "rcl_interfaces",
               "builtin_interfaces")
NO_ROS_COMMANDS = "experiment, eval, bench learner|replay|sim, sim rollout, store, config, serve, reference"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from robot_stack.config import ConfigError

    try:
        rc = args.func(args)
    except ConfigError as e:
        print(f"rlif {args.command}: {e}", file=sys.stderr)
        return 2
    except CliError as e:
        print(f"rlif {args.command}: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"rlif {args.command}: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] not in ROS_MODULES:
            raise
        print(f"rlif {args.command}: needs ROS 2, which is not installed here (no module {e.name!r}): install the "
              f"ROS 2 wheels of requirements.txt (scripts/bootstrap.sh); without ROS use {NO_ROS_COMMANDS}",
              file=sys.stderr)
        return 1
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
