"""Shared CLI plumbing: run-folder options, config resolution, JSON output, tables."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from robot_stack import config as cfgmod

RUNS_DIR = Path("runs")


class CliError(Exception):
    """An expected failure: printed as one line (no traceback), exit code `code`."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def add_set_arg(p: argparse.ArgumentParser, also: str = "") -> None:
    """`--set SECTION.KEY=VALUE` (repeatable): one config override, validated at start."""
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config field, repeatable (see `rlif config --fields`)" + (f"; {also}" if also else ""))


def add_config_args(p: argparse.ArgumentParser, default_profile: str = "sim") -> None:
    p.add_argument("--profile", default=default_profile, help=f"launch profile (default {default_profile})")
    add_set_arg(p)


def add_run_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run-dir", type=Path, default=None,
                   help="run folder (default runs/<timestamp>-<profile>/)")


def add_json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def resolve_config(args: argparse.Namespace) -> cfgmod.RunConfig:
    return cfgmod.resolve(args.profile, args.set)


def new_run_dir(run_dir: Path | None, profile: str) -> Path:
    d = run_dir or RUNS_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-{Path(profile).stem}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, default=_default) + "\n")
    sys.stdout.flush()


def _default(x: Any) -> Any:
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x)}")


def print_table(rows: list[tuple], headers: tuple[str, ...], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for h in headers:
        t.add_column(h)
    for r in rows:
        t.add_row(*(str(x) for x in r))
    # A pipe or file gets the whole table (rich would squeeze it to 80 columns and cut names).
    Console(stderr=False, width=None if sys.stdout.isatty() else 200).print(t)
