"""Checks of config input: `ConfigError`, every number finite and in its declared range
(`check_numbers`), YAML read with bounds (`load_yaml`, `read_yaml_file`: size, alias expansion,
UTF-8, one-line errors) and short reprs of hostile values for error messages (`show`)."""
from __future__ import annotations

import math
import reprlib
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config key, type or value is wrong; the message names the key and what is allowed."""


def positive(x: float) -> bool:
    """A finite number > 0 (False for NaN and inf, which `x <= 0`-style checks let through)."""
    return 0 < x < math.inf


_LIMITS = {"gt": (lambda x, b: x > b, ">"), "ge": (lambda x, b: x >= b, ">="),
           "lt": (lambda x, b: x < b, "<"), "le": (lambda x, b: x <= b, "<=")}


def check_numbers(obj: Any, prefix: str = "") -> None:
    """Every int/float field of dataclass `obj` (nested, tuples too) finite and within the range its
    field metadata declares (`gt`, `ge`, `lt`, `le`); a `ConfigError` naming the key otherwise."""
    for f in fields(obj):
        value, key = getattr(obj, f.name), prefix + f.name
        if is_dataclass(value):
            check_numbers(value, key + ".")
            continue
        limits = [(k, f.metadata[k]) for k in _LIMITS if k in f.metadata]
        for x in value if isinstance(value, tuple) else (value,):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                continue
            if isinstance(x, int) and not -2 ** 63 <= x < 2 ** 63:
                raise ConfigError(f"config {key}: must fit in 64 bits, got {show(x)}")
            if isinstance(x, float) and not math.isfinite(x):
                raise ConfigError(f"config {key}: must be a finite number, got {x}")
            for name, bound in limits:
                ok, sign = _LIMITS[name]
                if not ok(x, bound):
                    raise ConfigError(f"config {key}: must be {sign} {bound}, got {x}")


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 2, 4, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40


def show(value: Any) -> str:
    """A short repr for error messages (a value may be huge: a YAML alias bomb, a long string)."""
    return _REPR.repr(value)


# ---------------------------------------------------------------- YAML input
MAX_YAML_BYTES = 1 << 20  # a profile or saved config is a few KB; anything this big is a mistake
MAX_YAML_VALUES = 100_000  # values after alias expansion: bounds an alias ("billion laughs") bomb


def load_yaml(text: str, what: str) -> Any:
    """`yaml.safe_load` for config input: one-line `ConfigError`s, and a document whose aliases
    expand to more than MAX_YAML_VALUES values is refused before anything walks or prints it."""
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{what}: {len(text)} characters; config input is limited to {MAX_YAML_BYTES}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{what}: not valid YAML ({_yaml_problem(e)})") from None
    except RecursionError:
        raise ConfigError(f"{what}: YAML nested too deeply") from None
    count, todo = 0, [data]
    while todo:
        x = todo.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            raise ConfigError(f"{what}: expands to more than {MAX_YAML_VALUES} values (YAML aliases "
                              "repeating a large node?); refused")
        if isinstance(x, dict):
            todo.extend(x.keys())
            todo.extend(x.values())
        elif isinstance(x, (list, tuple, set)):
            todo.extend(x)
    return data


def _yaml_problem(e: yaml.YAMLError) -> str:
    problem = getattr(e, "problem", None) or getattr(e, "context", None) or type(e).__name__
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def read_yaml_file(path: Path, what: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{what}: cannot read ({e.strerror or e})") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(f"{what}: {len(raw)} bytes; config files are limited to {MAX_YAML_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    return load_yaml(text, what)
