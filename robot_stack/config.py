"""Run configuration: one frozen dataclass per component, composed into `RunConfig`.

How a run's config is built (DESIGN.md "Runs, config, CLI"):
1. every component dataclass has runnable defaults (the *base*);
2. a profile `launch/NAME.yaml` may `extends:` another profile and gives only overrides
   under `config:` (a profile is base + overrides, never a copy);
3. `--set section.key=value` overrides from the CLI (value parsed as YAML, then type-checked);
4. `validate()` fails fast with a message naming the key; the resolved config is saved
   as `config.yaml` in the run folder.
A wrong key or a wrong type is a `ConfigError` naming the key and the allowed ones.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from learner.config import AgentConfig, ReplayConfig
from sim.config import CellConfig, OperatorConfig
from teleop.config import TeleopConfig

LAUNCH_DIR = Path(__file__).resolve().parent.parent / "launch"


class ConfigError(ValueError):
    """A config key, type or value is wrong; the message names the key and what is allowed."""


def _f(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class GraphConfig:
    """Timing and fault limits of the ROS 2 graph."""

    deadline_ms: float = _f(50.0, "no command within this after a tick -> hold, count a missed deadline")
    accelerated: bool = _f(False, "twin only: tick as soon as the step is applied (not wall clock)")
    teleop_timeout_ms: float = _f(100.0, "teleop silent this long while intervening -> hold + fault")
    heartbeat_hz: float = _f(2.0, "status heartbeat rate of every node, Hz")
    node_dead_s: float = _f(5.0, "launcher: a node with no heartbeat this long is reported unhealthy")

    def validate(self) -> None:
        _check(self.deadline_ms > 0, "graph.deadline_ms", "must be > 0")
        _check(self.teleop_timeout_ms > 0, "graph.teleop_timeout_ms", "must be > 0")


@dataclass(frozen=True)
class TrainConfig:
    """What `rlif train` runs."""

    episodes: int = _f(50, "stop after this many episodes")
    target_success: float = _f(1.1, "stop early when the rolling success rate reaches this (>1: never)")
    window: int = _f(20, "episodes in the rolling success / intervention rate")
    seed: int = _f(0, "seed of every random source in the run")
    checkpoint_every: int = _f(1000, "learner updates between checkpoints")
    weights_every_s: float = _f(5.0, "learner publishes policy weights this often, s")

    def validate(self) -> None:
        _check(self.episodes > 0, "train.episodes", "must be > 0")
        _check(self.window > 0, "train.window", "must be > 0")


@dataclass(frozen=True)
class SupervisorConfig:
    """The supervisor web app (FastAPI)."""

    host: str = _f("127.0.0.1", "bind address; anything but loopback is warned about loudly")
    port: int = _f(8765, "TCP port")
    max_body_bytes: int = _f(65536, "larger request bodies are refused (413)")
    stream_hz: float = _f(4.0, "rate of status updates on the dashboard's event stream (/api/stream), Hz")
    history: int = _f(10000, "metrics rows (episodes) kept in memory for the charts")

    def validate(self) -> None:
        _check(0 < self.port < 65536, "supervisor.port", "must be a TCP port (1-65535)")
        _check(0 < self.stream_hz <= 50, "supervisor.stream_hz", "must be in (0, 50]")
        _check(self.history > 0, "supervisor.history", "must be > 0")


@dataclass(frozen=True)
class FrankaConfig:
    """The real arm through franka_ros2 (cell.kind=franka): topics, taught hole pose, resets, faults.

    Topic names are absolute; the state topics are franka_robot_state_broadcaster's convenience
    topics (subscribed BEST_EFFORT), the target goes to a Cartesian impedance controller's
    equilibrium pose (PoseStamped, RELIABLE). Safety limits are the cell's (`cell.safety_box_m`,
    `cell.max_force_n`, `cell.success_depth_m`): one box for policy and operator alike.
    """

    pose_topic: str = _f("/franka_robot_state_broadcaster/current_pose",
                         "measured EE (peg tip) pose in the base frame, PoseStamped")
    wrench_topic: str = _f("/franka_robot_state_broadcaster/external_wrench_in_stiffness_frame",
                           "estimated external wrench on the stiffness frame (= EE), WrenchStamped")
    joints_topic: str = _f("/franka_robot_state_broadcaster/measured_joint_states",
                           "measured joint positions / velocities / torques, JointState")
    target_topic: str = _f("/equilibrium_pose",
                           "the impedance controller's equilibrium pose (our target), PoseStamped")
    base_frame: str = _f("fr3_link0", "frame_id stamped on the published target (robot base)")
    hole_pose: tuple[float, float, float, float, float, float, float] = _f(
        (0.5, 0.0, 0.1, 1.0, 0.0, 0.0, 0.0),
        "taught EE pose with the peg aligned at the hole entrance, base frame: x y z (m), qx qy qz qw")
    dry_run: bool = _f(False, "compute and log targets but never publish them (first run on a new cell)")
    stale_ms: float = _f(100.0, "no pose or wrench for this long -> hold (no new targets) + fault, ms")
    velocity_window_s: float = _f(0.03, "EE velocity = pose difference over at least this long, s")
    lift_m: float = _f(0.05, "reset: lift the peg tip to this height above the board first, m")
    reset_speed_m_s: float = _f(0.05, "reset: max speed of the interpolated target, m/s")
    reset_speed_rad_s: float = _f(0.3, "reset: max angular speed of the interpolated target, rad/s")
    reset_tolerance_m: float = _f(0.004, "reset done when the measured tip is this close to the start pose, m")
    reset_timeout_s: float = _f(20.0, "reset not done in this long -> fault, hold, wait for the operator's start, s")
    confirm_reset: bool = _f(False, "after each reset wait for the operator's request_start event")
    state_hz: float = _f(100.0, "twin_franka: rate of the simulated franka_ros2 state topics, Hz")

    def validate(self) -> None:
        _check(self.stale_ms > 0, "franka.stale_ms", "must be > 0")
        _check(self.reset_speed_m_s > 0 and self.reset_speed_rad_s > 0, "franka.reset_speed_*", "must be > 0")
        _check(0 < self.reset_speed_m_s <= 0.25, "franka.reset_speed_m_s", "must be in (0, 0.25] m/s")
        _check(self.state_hz > 0, "franka.state_hz", "must be > 0")
        q = self.hole_pose[3:]
        _check(abs(sum(v * v for v in q) - 1.0) < 1e-3, "franka.hole_pose",
               "the quaternion (last 4 values, qx qy qz qw) must have unit norm")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; saved resolved as `config.yaml` in the run folder."""

    profile: str = _f("sim", "name of the launch profile this config came from")
    cell: CellConfig = _f(CellConfig(), "the cell (twin or real arm)")
    operator: OperatorConfig = _f(OperatorConfig(), "the simulated operator (twin only)")
    teleop: TeleopConfig = _f(TeleopConfig(), "spacemouse / keyboard teleop")
    replay: ReplayConfig = _f(ReplayConfig(), "the replay store")
    agent: AgentConfig = _f(AgentConfig(), "the learner")
    graph: GraphConfig = _f(GraphConfig(), "ROS 2 graph timing")
    train: TrainConfig = _f(TrainConfig(), "rlif train")
    supervisor: SupervisorConfig = _f(SupervisorConfig(), "supervisor web app")
    franka: FrankaConfig = _f(FrankaConfig(), "the real arm via franka_ros2 (and the twin in franka mode)")

    def validate(self) -> "RunConfig":
        for f in fields(self):
            sub = getattr(self, f.name)
            if is_dataclass(sub) and hasattr(sub, "validate"):
                try:
                    sub.validate()
                except ConfigError:
                    raise
                except ValueError as e:  # component validators raise plain ValueError
                    raise ConfigError(f"{f.name}: {e}") from None
        _check(self.graph.deadline_ms < 1000.0 / self.cell.control_hz, "graph.deadline_ms",
               f"must be shorter than one control period ({1000.0 / self.cell.control_hz:.1f} ms)")
        return self


def _check(ok: bool, key: str, why: str) -> None:
    if not ok:
        raise ConfigError(f"config {key}: {why}")


# ---------------------------------------------------------------- type checking of values
def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(f"config {key}: {value!r} is not one of {list(allowed)}")
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
                return _coerce(value, a, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"config {key}: {value!r} matches none of {args}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config {key}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], key) for v in value)
        if len(args) != len(value):
            raise ConfigError(f"config {key}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(v, a, key) for v, a in zip(value, args))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config {key}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config {key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config {key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config {key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"config {key}: unsupported field type {tp}")


def merge(obj: Any, overrides: dict[str, Any], prefix: str = "") -> Any:
    """Return a copy of dataclass `obj` with nested `overrides` applied and type-checked."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"config {prefix or '<root>'}: expected a mapping, got {overrides!r}")
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in fields(obj)]
    changes = {}
    for k, v in overrides.items():
        key = f"{prefix}{k}"
        if k not in names:
            raise ConfigError(f"config {key}: unknown key; allowed: {', '.join(names)}")
        cur = getattr(obj, k)
        if is_dataclass(cur):
            changes[k] = merge(cur, v, key + ".")
        else:
            changes[k] = _coerce(v, hints[k], key)
    return replace(obj, **changes)


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """Turn `['agent.utd=4', 'cell.clearance_m=0.002']` into a nested override dict."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        dotted, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else ""
        node = out
        parts = dotted.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


# ---------------------------------------------------------------- profiles
def profile_path(name: str) -> Path:
    p = Path(name)
    if p.suffix in (".yaml", ".yml") and p.exists():
        return p
    cand = LAUNCH_DIR / f"{name}.yaml"
    if not cand.exists():
        known = sorted(x.stem for x in LAUNCH_DIR.glob("*.yaml"))
        raise ConfigError(f"profile {name!r} not found in {LAUNCH_DIR}; known: {', '.join(known)}")
    return cand


def load_profile(name: str) -> dict[str, Any]:
    """Read a profile, resolving `extends:` chains; returns {'nodes': [...], 'config': {...}, ...}."""
    chain: list[dict[str, Any]] = []
    seen = set()
    cur: str | None = name
    while cur:
        path = profile_path(cur)
        if path in seen:
            raise ConfigError(f"profile {name!r}: `extends` loops through {path}")
        seen.add(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"profile {path}: not valid YAML: {e}") from None
        chain.append(data)
        cur = data.get("extends")
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


def resolve(profile: str = "sim", sets: list[str] | None = None) -> RunConfig:
    """Base defaults + profile overrides + `--set` overrides, validated."""
    prof = load_profile(profile)
    cfg = merge(RunConfig(profile=prof["name"]), prof["config"])
    cfg = merge(cfg, parse_set(sets))
    return cfg.validate()


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def save(cfg: RunConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(_plain(to_dict(cfg)), sort_keys=False))


def load_saved(path: Path) -> RunConfig:
    """Read a run folder's `config.yaml` back (for --resume), type-checked and validated."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read saved config {path}: {e}") from None
    return merge(RunConfig(), data).validate()


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def describe(obj: Any = None, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(key, default, doc) for every field, for `rlif config --help`-style listings."""
    obj = obj if obj is not None else RunConfig()
    rows = []
    for f in fields(obj):
        v = getattr(obj, f.name)
        if is_dataclass(v):
            rows += describe(v, f"{prefix}{f.name}.")
        else:
            rows.append((prefix + f.name, v, f.metadata.get("doc", "")))
    return rows
