"""The `--logger` and `--record-mcap` options of `rlif train|up|experiment`, and their checks.

Both are config keys (`train.logger`, `train.record_mcap`; `train.video_every` for episode videos)
set from the options. Before a run folder is created the command checks them: an unknown logger
is one line, exit 1, nothing written; a missing optional package (tensorboard, wandb, mcap,
imageio-ffmpeg) is one line with the pip command that installs it, exit 1, nothing written.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from robot_stack import config as cfgmod
from robot_stack.cli.common import CliError


def add_logger_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--logger", default=None, metavar="none|tensorboard|wandb",
                   help="also log metrics to TensorBoard (RUN/tensorboard/) or W&B (offline, RUN/wandb/); "
                        "default: train.logger (none)")


def add_mcap_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--record-mcap", action="store_true",
                   help="record every /rlif topic (and the Franka state) to RUN/mcap/*.mcap (Foxglove)")


def output_sets(args: argparse.Namespace) -> list[str]:
    """`--set` items for the options given; an unknown logger is refused here (exit 1)."""
    from learner.loggers import KINDS

    sets = []
    if args.logger is not None:
        if args.logger not in KINDS:
            raise CliError(f"--logger {args.logger!r}: unknown logger; use one of {', '.join(KINDS)} "
                           "(nothing was written)")
        sets.append(f"train.logger={args.logger}")
    if getattr(args, "record_mcap", False):
        sets.append("train.record_mcap=true")
    return sets


def check_packages(cfg: cfgmod.RunConfig) -> None:
    """The optional packages the config asks for are installed, else one line with the fix."""
    from learner.loggers import check
    from learner.optional import OptionalMissing, need

    try:
        check(cfg.train.logger)
        if cfg.train.record_mcap:
            need("mcap", "--record-mcap")
        if cfg.train.video_every > 0:
            need("imageio_ffmpeg", "episode videos (train.video_every)")
    except OptionalMissing as e:
        raise CliError(f"{e}; nothing was written") from None


def preflight(profile: str, sets: list[str], run_dir: Path | None, resume: bool) -> None:
    """Resolve the config as the run will (nothing written) and check its optional packages."""
    if resume:
        saved = run_dir / "config.yaml" if run_dir is not None else None
        if saved is None or not saved.exists():
            return  # the run's own start-up says what is wrong
        cfg = cfgmod.load_saved(saved)
        over = cfgmod.parse_set(sets)
        if set(over) <= {"train"}:
            cfg = cfgmod.merge(cfg, over).validate()
    else:
        cfg = cfgmod.resolve(profile, sets)
    check_packages(cfg)
