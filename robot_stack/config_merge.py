"""Typed overrides onto frozen config dataclasses: `merge` (a nested mapping applied to a copy,
every value checked against its field's type), `parse_set` (`--set section.key=value` items into
such a mapping, values parsed as YAML) and `describe` (key, default, doc of every field).

Generic over any dataclass; `robot_stack.config` applies it to `RunConfig`. A wrong key or type is
a `ConfigError` naming the key and what is allowed.
"""
from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass, replace
from typing import Any, Literal

from robot_stack.config_check import ConfigError, load_yaml, show


def coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(f"config {key}: {show(value)} is not one of {list(allowed)}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return coerce(value, a, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"config {key}: {show(value)} matches none of {args}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config {key}: expected a list, got {show(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0], key) for v in value)
        if len(args) != len(value):
            raise ConfigError(f"config {key}: expected {len(args)} values, got {len(value)}")
        return tuple(coerce(v, a, key) for v, a in zip(value, args))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config {key}: expected true/false, got {show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config {key}: expected an integer, got {show(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config {key}: expected a number, got {show(value)}")
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(f"config {key}: must be a finite number, got {show(value)}") from None
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config {key}: expected a string, got {show(value)}")
        return value
    raise ConfigError(f"config {key}: unsupported field type {tp}")


def merge(obj: Any, overrides: dict[str, Any], prefix: str = "") -> Any:
    """Return a copy of dataclass `obj` with nested `overrides` applied and type-checked."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"config {prefix or '<root>'}: expected a mapping, got {show(overrides)}")
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in fields(obj)]
    changes = {}
    for k, v in overrides.items():
        key = f"{prefix}{show(k) if not isinstance(k, str) or len(k) > 60 else k}"
        if k not in names:
            raise ConfigError(f"config {key}: unknown key; allowed: {', '.join(names)}")
        cur = getattr(obj, k)
        if is_dataclass(cur):
            changes[k] = merge(cur, v, key + ".")
        else:
            changes[k] = coerce(v, hints[k], key)
    return replace(obj, **changes)


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """Turn `['agent.utd=4', 'cell.clearance_m=0.002']` into a nested override dict."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {show(item)}: expected section.key=value")
        dotted, raw = item.split("=", 1)
        value = load_yaml(raw, f"--set {show(item)}") if raw.strip() else ""
        node = out
        parts = dotted.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {show(item)}: {p} is also set to a value; set {p}.KEY or {p}, not both")
        if isinstance(node.get(parts[-1]), dict):
            raise ConfigError(f"--set {show(item)}: {dotted.strip()} is a section; set {dotted.strip()}.KEY=VALUE")
        node[parts[-1]] = value
    return out


def describe(obj: Any, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(key, default, doc) for every field of dataclass `obj`, nested sections flattened."""
    rows = []
    for f in fields(obj):
        v = getattr(obj, f.name)
        if is_dataclass(v):
            rows += describe(v, f"{prefix}{f.name}.")
        else:
            rows.append((prefix + f.name, v, f.metadata.get("doc", "")))
    return rows
