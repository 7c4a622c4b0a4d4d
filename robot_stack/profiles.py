"""Run profiles: `launch/NAME.yaml` (or any .yaml path) giving overrides under `config:`, the
graph's `nodes:`, its `operator:`, and optionally `extends:` another profile (a relative path is
taken from the extending profile's folder). `load_profile` resolves the chain into one mapping;
`robot_stack.config.resolve` applies it to the defaults. Read with the bounds of `config_check`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from robot_stack.config_check import ConfigError, read_yaml_file, show

LAUNCH_DIR = Path(__file__).resolve().parent.parent / "launch"


def profile_path(name: str, base: Path | None = None) -> Path:
    """A profile by name (`launch/NAME.yaml`) or by a .yaml path; a relative path is taken from
    `base` (the folder of the profile that `extends:` it) when given, else the working directory."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        cand = p if base is None or p.is_absolute() else base / p
        if cand.is_file():
            return cand
        if base is not None:
            raise ConfigError(f"profile {show(name)} not found (looked in {base})")
    cand = LAUNCH_DIR / f"{name}.yaml"
    if not cand.exists():
        known = sorted(x.stem for x in LAUNCH_DIR.glob("*.yaml"))
        raise ConfigError(f"profile {show(name)} not found in {LAUNCH_DIR}; known: {', '.join(known)}")
    return cand


_PROFILE_KEYS = {"extends": str, "description": str, "operator": str, "nodes": list, "remote": list,
                 "config": dict}


def _check_profile(path: Path, data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"profile {path}: must be a mapping (extends:, nodes:, operator:, config:), "
                          f"found a {type(data).__name__}")
    for k, kind in _PROFILE_KEYS.items():
        v = data.get(k)
        if v is None:
            continue
        if not isinstance(v, kind) or (kind is str and not v.strip()):
            want = {str: "a non-empty string", list: "a list of node names", dict: "a mapping"}[kind]
            raise ConfigError(f"profile {path}: `{k}` must be {want}, got {show(v)}")
        if kind is list and not all(isinstance(x, str) for x in v):
            raise ConfigError(f"profile {path}: `{k}` must be a list of node names, got {show(v)}")
    return data


def load_profile(name: str) -> dict[str, Any]:
    """Read a profile, resolving `extends:` chains; returns {'nodes': [...], 'config': {...}, ...}.
    A relative `extends:` path (`base.yaml`, `../x.yaml`) is taken from the profile's own folder."""
    chain: list[dict[str, Any]] = []
    seen = set()
    cur: str | None = name
    base: Path | None = None
    while cur:
        path = profile_path(cur, base)
        key = path.resolve()
        if key in seen:
            raise ConfigError(f"profile {show(name)}: `extends` loops through {path}")
        seen.add(key)
        data = _check_profile(path, read_yaml_file(path, f"profile {path}"))
        chain.append(data)
        cur, base = data.get("extends"), path.parent
    merged: dict[str, Any] = {"config": {}}
    for data in reversed(chain):
        for k, v in data.items():
            if k == "config":
                merged["config"] = _deep_merge(merged["config"], v or {})
            elif k != "extends":
                merged[k] = v
    merged["name"] = Path(name).stem
    return merged


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
