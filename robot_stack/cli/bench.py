"""`rlif bench WHAT --json`: measure the targets of docs/architecture.md (never asserted in tests).

Each target lives next to the code it measures and exposes `run(args) -> dict`:
  sim     -> sim/bench.py             twin speed in-process (real-time factor)
  replay  -> learner/bench_replay.py  append rate, sample latency, reopen time
  learner -> learner/bench_learner.py SAC/RLPD updates/s vs a plain per-critic loop
  loop    -> robot_stack/bench_loop.py tick -> command applied over the real ROS graph
  takeover -> robot_stack/bench_takeover.py spacemouse takeover -> the operator's command, in ticks
  train   -> robot_stack/bench_train.py env steps/s in process vs over the graph (same learning)
"""
from __future__ import annotations

import argparse
import importlib

from robot_stack.cli.common import add_set_arg, emit_json
from robot_stack.cli.common import CliError

TARGETS = {
    "sim": ("sim.bench", "twin speed in-process: real-time factor, physics steps/s"),
    "replay": ("learner.bench_replay", "replay store: append rows/s, sample p50/p99, reopen 1M rows"),
    "learner": ("learner.bench_learner", "SAC/RLPD updates/s, batch 256, 10 critics, vs a per-critic loop"),
    "loop": ("robot_stack.bench_loop", "control loop over the ROS graph: tick -> command applied latency"),
    "takeover": ("robot_stack.bench_takeover", "spacemouse takeover -> the operator's command, in control ticks"),
    "train": ("robot_stack.bench_train", "env steps/s of the same learning in process and over the graph"),
}
WITH_SET = ("train",)  # targets that take the run config's --set overrides
WITH_IMAGES = {"replay": "also with a 64x64 wrist frame per row",
               "loop": "also at 10 Hz with a 128x128 wrist frame in each observation and an image actor"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure performance targets (sim, replay, learner, loop, takeover, train)")
    bsub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    for name, (module, doc) in TARGETS.items():
        q = bsub.add_parser(name, help=doc)
        q.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        q.add_argument("--quick", action="store_true", help="smaller sizes (smoke tests)")
        if name in WITH_SET:
            add_set_arg(q, "profile sim, on both sides")
        if name in WITH_IMAGES:
            q.add_argument("--images", action="store_true", help=WITH_IMAGES[name])
        q.set_defaults(func=run, bench_module=module)


def run(args: argparse.Namespace) -> int:
    try:
        mod = importlib.import_module(args.bench_module)
    except ModuleNotFoundError as e:
        raise CliError(f"bench {args.what} is not available: {e}") from None
    extra = {"sets": args.set} if args.what in WITH_SET else {}
    if args.what in WITH_IMAGES:
        extra["images"] = args.images
    result = mod.run(quick=args.quick, progress=not args.json, **extra)
    if args.json:
        emit_json(result)
    else:
        for k, v in result.items():
            print(f"{k:24s} {v}")
    return 0
