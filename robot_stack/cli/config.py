"""`rlif config`: show the resolved config of a profile (with --set overrides) or every field's doc."""
from __future__ import annotations

import argparse

import yaml

from robot_stack import config as cfgmod
from robot_stack.cli.common import add_config_args, emit_json, resolve_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show the resolved config of a profile, or every field with its doc")
    add_config_args(p)
    p.add_argument("--fields", action="store_true", help="list every key with its default and doc")
    p.add_argument("--json", action="store_true", help="print the resolved config as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = resolve_config(args)
    if args.fields:
        for key, default, doc in cfgmod.describe(cfg):
            print(f"{key:34s} {default!s:24s} {doc}")
    elif args.json:
        emit_json(cfgmod.to_dict(cfg))
    else:
        print(yaml.safe_dump(cfgmod.plain(cfgmod.to_dict(cfg)), sort_keys=False), end="")
    return 0
