"""Run configuration: one frozen dataclass per component, composed into `RunConfig`.

How a run's config is built (docs/architecture.md "Config"):
1. every component dataclass has runnable defaults (the *base*);
2. a profile `launch/NAME.yaml` may `extends:` another profile and gives only overrides
   under `config:` (a profile is base + overrides, never a copy; read by `robot_stack.profiles`);
3. `--set section.key=value` overrides from the CLI (value parsed as YAML, then type-checked;
   applied by `robot_stack.config_merge`);
4. `validate()` fails fast with a message naming the key (first every number: finite and in the
   range its field metadata declares, `config_check.check_numbers`); the resolved config is
   saved as `config.yaml` in the run folder. YAML input is read with bounds (`config_check`).
A wrong key or a wrong type is a `ConfigError` naming the key and the allowed ones.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from learner.config import AgentConfig, ReplayConfig
# ConfigError, check_numbers, load_yaml, merge, parse_set, LAUNCH_DIR and load_profile are part of
# this module's interface: callers build and read configs through `robot_stack.config` alone.
from robot_stack.config_check import ConfigError, check_numbers, load_yaml, read_yaml_file  # noqa: F401
from robot_stack.config_check import positive as _positive
from robot_stack.config_merge import describe as describe_fields, merge, parse_set
from robot_stack.profiles import LAUNCH_DIR, load_profile  # noqa: F401
from sim.config import CellConfig, OperatorConfig, VisionConfig
from sim.config_fields import doc_field as _f
from teleop.config import TeleopConfig

# Fast DDS 3's builtin transport sets ('' = not set: the environment's). UDPv4 on the robot: the
# franka_ros2 driver runs ROS 2 Jazzy (Fast DDS 2), whose shared memory these Kilted wheels (Fast
# DDS 3) cannot read; and on a loaded 2-core machine the twin stand-in's best-effort state went
# ~350 ms without reaching the bridge more often over shared memory (3 of 7 runs) than over UDP
# (0 of 14 runs; once in a full suite run).
DDS_TRANSPORTS = ("", "DEFAULT", "DEFAULTv6", "SHM", "UDPv4", "UDPv6", "LARGE_DATA", "P2P")
MIN_BODY_BYTES = 1024  # supervisor.max_body_bytes floor: an e-stop's {"reason": ...} must fit



@dataclass(frozen=True)
class GraphConfig:
    """Timing and fault limits of the ROS 2 graph."""

    deadline_ms: float = _f(50.0, "no command within this after a tick -> hold, count a missed deadline", gt=0)
    accelerated: bool = _f(False, "twin only: tick as soon as the step is applied (not wall clock)")
    teleop_timeout_ms: float = _f(100.0, "teleop silent this long while intervening -> hold + fault", gt=0)
    heartbeat_hz: float = _f(2.0, "status heartbeat rate of every node, Hz", gt=0)
    actor_threads: int = _f(1, "torch CPU threads of the actor's inference (its whole process): one keeps an "
                               "image policy's convolutions from spinning OpenMP threads against the cell's "
                               "rendering and the learner on a small machine; 0 = torch's default (all cores)", ge=0)
    node_dead_s: float = _f(5.0, "launcher: a node with no heartbeat this long is reported unhealthy", gt=0)
    accelerated_wait_s: float = _f(5.0, "accelerated twin: the clock waits this long for a step's command and the "
                                   "mux half of it for the simulated operator (sim time stops meanwhile), s", gt=0)
    compose: bool = _f(False, "twin: the control loop's nodes (cell, actor, mux, operator, recorder) share one "
                       "process and one executor; the learner and the dashboard keep their own")
    profile: bool = _f(False, "write a cProfile of every node process (and the learner's training thread) to "
                       "logs/*.prof at exit")
    learner_nice: int = _f(10, "wall-clock graphs: the learner's process runs at this niceness (0-19) so the "
                           "control loop's nodes win a shared CPU; the accelerated twin waits for the learner "
                           "and keeps it at the parent's", ge=0, le=19)
    dds_transport: str = _f("", "Fast DDS transports of every node process the launcher starts "
                            "(FASTDDS_BUILTIN_TRANSPORTS): '' keeps the environment's (shared memory + UDP); "
                            "the franka profiles set UDPv4 (see DDS_TRANSPORTS)")

    def validate(self) -> None:  # deadlines: a NaN or inf here would switch the hold off
        _check(_positive(self.deadline_ms), "graph.deadline_ms", "must be a finite number > 0")
        _check(_positive(self.teleop_timeout_ms), "graph.teleop_timeout_ms", "must be a finite number > 0")
        _check(_positive(self.accelerated_wait_s), "graph.accelerated_wait_s", "must be a finite number > 0")
        _check(self.dds_transport in DDS_TRANSPORTS, "graph.dds_transport",
               f"must be one of {list(DDS_TRANSPORTS)}")


@dataclass(frozen=True)
class TrainConfig:
    """What `rlif train` runs."""

    episodes: int = _f(50, "stop after this many episodes", ge=1)
    target_success: float = _f(1.1, "stop early when the rolling success rate reaches this (>1: never)", ge=0)
    window: int = _f(20, "episodes in the rolling success / intervention rate", ge=1)
    seed: int = _f(0, "seed of every random source in the run; its episodes reset with the training seeds "
                   "of learner/seeds.py (never held-out ones)", ge=0, le=79)
    demo_episodes: int = _f(0, "twin + simulated operator: its expert first drives this many whole episodes, "
                               "stored as demonstrations (RLPD's prior data), not counted in train.episodes", ge=0)
    checkpoint_every: int = _f(1000, "learner updates between checkpoints", ge=1)
    weights_every_s: float = _f(5.0, "learner publishes policy weights this often, s", gt=0)
    logger: Literal["none", "tensorboard", "wandb"] = _f(
        "none", "metrics also go to: tensorboard (RUN/tensorboard/) or wandb (offline, RUN/wandb/); --logger")
    wandb_project: str = _f("rlif-cell", "W&B project name of the offline runs (`wandb sync` uploads them later)")
    log_every_updates: int = _f(100, "learner: log the mean of its update metrics over this many updates", ge=1)
    record_mcap: bool = _f(False, "record every /rlif topic (and the Franka state) to RUN/mcap/*.mcap; --record-mcap")
    mcap_rotate_mb: float = _f(512.0, "start a new MCAP file when the current one reaches this size, MB", gt=0)
    video_every: int = _f(0, "an mp4 of every Nth episode in RUN/videos/ with the driver shown (0: none)", ge=0)

    def validate(self) -> None:
        _check(self.episodes > 0, "train.episodes", "must be > 0")
        _check(self.window > 0, "train.window", "must be > 0")


@dataclass(frozen=True)
class SupervisorConfig:
    """The supervisor web app (FastAPI)."""

    host: str = _f("127.0.0.1", "bind address; anything but loopback is warned about loudly")
    port: int = _f(8765, "TCP port", ge=1, le=65535)
    max_body_bytes: int = _f(65536, "larger request bodies are refused (413); >= 1024 so an e-stop's "
                                    "reason always fits", ge=MIN_BODY_BYTES)
    stream_hz: float = _f(4.0, "rate of status updates on the dashboard's event stream (/api/stream), Hz",
                          gt=0, le=50)
    history: int = _f(10000, "metrics rows (episodes) kept in memory for the charts", ge=1)
    camera_hz: float = _f(2.0, "twin camera frames for the dashboard, Hz (a render costs a few ms of the "
                               "control loop's time)", gt=0, le=30)

    def validate(self) -> None:
        _check(0 < self.port < 65536, "supervisor.port", "must be a TCP port (1-65535)")
        _check(self.max_body_bytes >= MIN_BODY_BYTES, "supervisor.max_body_bytes",
               f"must be >= {MIN_BODY_BYTES} (a smaller limit would refuse the e-stop's body)")
        _check(0 < self.stream_hz <= 50, "supervisor.stream_hz", "must be in (0, 50]")
        _check(self.history > 0, "supervisor.history", "must be > 0")
        _check(0 < self.camera_hz <= 30, "supervisor.camera_hz", "must be in (0, 30] Hz")


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
    stale_ms: float = _f(100.0, "no pose or wrench for this long -> hold (no new targets) + fault, ms", gt=0)
    velocity_window_s: float = _f(0.03, "EE velocity = pose difference over at least this long, s", gt=0)
    lift_m: float = _f(0.05, "reset: lift the peg tip to this height above the board first, m", ge=0)
    reset_speed_m_s: float = _f(0.05, "reset: max speed of the interpolated target, m/s", gt=0, le=0.25)
    reset_speed_rad_s: float = _f(0.3, "reset: max angular speed of the interpolated target, rad/s", gt=0)
    reset_tolerance_m: float = _f(0.004, "reset done when the measured tip is this close to the start pose, m",
                                  gt=0)
    reset_timeout_s: float = _f(20.0, "reset not done in this long -> fault, hold, wait for the operator's start, s",
                                gt=0)
    confirm_reset: bool = _f(False, "after each reset wait for the operator's request_start event")
    state_hz: float = _f(100.0, "twin_franka: rate of the simulated franka_ros2 state topics, Hz", gt=0)
    wrench_sign: Literal[-1, 1] = _f(-1, "franka_ros2's external wrench x this = the wrench ON the robot (-1: "
                                         "libfranka reports the robot's reaction; README push test checks it)")
    collision_force_n: float = _f(80.0, "franka reflex threshold per Cartesian force axis, N (above "
                                        "cell.max_force_n: the cell's abort comes first)", gt=0, le=200)
    collision_torque_nm: float = _f(25.0, "franka reflex threshold per Cartesian torque axis, Nm", gt=0, le=200)
    collision_joint_torque_nm: tuple[float, float, float, float, float, float, float] = _f(
        (70.0, 70.0, 70.0, 70.0, 25.0, 25.0, 20.0), "franka reflex threshold per joint torque, Nm", gt=0, le=200)
    admin: Literal["driver", "twin"] = _f("driver", "who answers recovery (`rlif robot recover`): franka_ros2 "
                                                    "(driver, via its ROS 2 CLI) or the twin in franka mode")
    hardware_component: str = _f("FrankaHardwareInterface", "franka_hardware's ros2_control component name")
    ros2_cli: str = _f("/entrypoint.sh ros2", "driver admin: command running ROS 2 Jazzy's CLI (franka_msgs and "
                                              "controller_manager_msgs are not importable from this venv)")
    home_q: tuple[float, ...] = _f((), "homing: joints (7, rad) with the tip above the hole inside the safety "
                                       "box; () = no homing")
    home_every: int = _f(10, "homing before the first reset, then before every Nth reset", ge=1)
    home_speed_rad_s: float = _f(0.3, "homing: max joint speed of the interpolated trajectory, rad/s", gt=0, le=1)
    home_tolerance_rad: float = _f(0.02, "homing done when every joint is this close to home_q, rad", gt=0)
    outside_box_m: float = _f(0.01, "the first reset (and homing) refuses to start from further than this "
                                    "outside the safety box: the operator guides the arm first, m", ge=0, le=0.05)
    fast_hz: float = _f(50.0, "bridge: staleness check and reset-motion rate, Hz (a gap of two periods "
                              "between readings counts as a stall of the bridge, not of the robot)", ge=10, le=1000)
    startup_s: float = _f(5.0, "bridge: no robot state at all this long after start -> fault (then keep "
                               "waiting), s", gt=0)
    # wrist / front cameras (vision.image_size > 0): the RealSense ROS driver's color streams
    wrist_camera_topic: str = _f("/camera/camera/color/image_raw",
                                 "the wrist camera's color image (sensor_msgs/Image): realsense-ros 4.x's default")
    front_camera_topic: str = _f("/camera/front/color/image_raw",
                                 "the front camera's color image: a second realsense-ros with camera_name:=front")
    camera_encoding: Literal["rgb8", "bgr8"] = _f("rgb8", "the cameras' image encoding (realsense-ros publishes "
                                                          "rgb8); a frame in another one is refused, named")
    camera_resolution: tuple[int, int] = _f((0, 0), "every camera frame must be width x height pixels; (0, 0): "
                                                    "any, the first frame of each camera fixes it for the run", ge=0)
    camera_max_age_ms: float = _f(50.0, "a step whose newest camera frame arrived longer ago than this holds "
                                        "(no tick) + a fault naming the camera, ms; <= graph.deadline_ms", gt=0)
    camera_hz: float = _f(30.0, "twin_franka: rate of the simulated camera frames, Hz (a D405 streams 30)",
                          gt=0, le=90)

    def validate(self) -> None:  # deadlines and speeds: NaN / inf would switch a limit off
        _check(_positive(self.stale_ms), "franka.stale_ms", "must be a finite number > 0")
        _check(_positive(self.reset_timeout_s), "franka.reset_timeout_s", "must be a finite number > 0")
        _check(_positive(self.reset_speed_m_s) and _positive(self.reset_speed_rad_s), "franka.reset_speed_*",
               "must be finite numbers > 0")
        _check(0 < self.reset_speed_m_s <= 0.25, "franka.reset_speed_m_s", "must be in (0, 0.25] m/s")
        _check(self.state_hz > 0, "franka.state_hz", "must be > 0")
        _check(0 <= self.outside_box_m <= 0.05, "franka.outside_box_m", "must be in [0, 0.05] m")
        _check(10 <= self.fast_hz <= 1000, "franka.fast_hz", "must be in [10, 1000] Hz")
        _check(_positive(self.startup_s), "franka.startup_s", "must be a finite number > 0")
        _check(all(math.isfinite(v) for v in self.hole_pose), "franka.hole_pose", "must be 7 finite numbers")
        q = self.hole_pose[3:]
        _check(abs(sum(v * v for v in q) - 1.0) < 1e-3, "franka.hole_pose",
               "the quaternion (last 4 values, qx qy qz qw) must have unit norm")
        _check(len(self.home_q) in (0, 7), "franka.home_q", "must be 7 joint angles (rad) or [] for no homing")
        _check(_positive(self.camera_max_age_ms), "franka.camera_max_age_ms", "must be a finite number > 0")
        _check(all(v >= 0 for v in self.camera_resolution) and (min(self.camera_resolution) > 0
                                                                 or max(self.camera_resolution) == 0),
               "franka.camera_resolution", "must be [width, height] in pixels, both > 0, or [0, 0] for any")
        for key in ("wrist_camera_topic", "front_camera_topic"):
            _check(getattr(self, key).startswith("/"), f"franka.{key}", "must be an absolute topic name (/...)")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; saved resolved as `config.yaml` in the run folder."""

    profile: str = _f("sim", "name of the launch profile this config came from")
    cell: CellConfig = _f(CellConfig(), "the cell (twin or real arm)")
    operator: OperatorConfig = _f(OperatorConfig(), "the simulated operator (twin only)")
    vision: VisionConfig = _f(VisionConfig(), "camera images as observations (off: the state vector only)")
    teleop: TeleopConfig = _f(TeleopConfig(), "spacemouse / keyboard teleop")
    replay: ReplayConfig = _f(ReplayConfig(), "the replay store")
    agent: AgentConfig = _f(AgentConfig(), "the learner")
    graph: GraphConfig = _f(GraphConfig(), "ROS 2 graph timing")
    train: TrainConfig = _f(TrainConfig(), "rlif train")
    supervisor: SupervisorConfig = _f(SupervisorConfig(), "supervisor web app")
    franka: FrankaConfig = _f(FrankaConfig(), "the real arm via franka_ros2 (and the twin in franka mode)")

    def validate(self) -> "RunConfig":
        check_numbers(self)  # every number finite and in its declared range, before the per-part rules
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
        _check(1000.0 / self.teleop.publish_hz < self.graph.teleop_timeout_ms, "teleop.publish_hz",
               f"one period must be shorter than graph.teleop_timeout_ms ({self.graph.teleop_timeout_ms} ms): "
               "else the mux takes a driving operator for a silent one")
        _check(self.franka.collision_force_n > self.cell.max_force_n, "franka.collision_force_n",
               f"must exceed cell.max_force_n ({self.cell.max_force_n} N): the cell's force abort before franka's reflex")
        if self.cell.kind == "franka" and self.vision.enabled:  # the bridge's cameras
            _check(self.franka.camera_max_age_ms <= self.graph.deadline_ms, "franka.camera_max_age_ms",
                   f"must be <= graph.deadline_ms ({self.graph.deadline_ms} ms): a step never acts on a picture "
                   "older than the clock waits for its command")
            s = self.vision.image_size
            _check(not self.franka.camera_resolution[0] or min(self.franka.camera_resolution) >= s,
                   "franka.camera_resolution", f"both sides must be >= vision.image_size ({s}): frames are "
                   "cropped and scaled down, never up")
        return self


def _check(ok: bool, key: str, why: str) -> None:
    if not ok:
        raise ConfigError(f"config {key}: {why}")


def resolve(profile: str = "sim", sets: list[str] | None = None) -> RunConfig:
    """Base defaults + profile overrides + `--set` overrides, validated."""
    prof = load_profile(profile)
    cfg = merge(RunConfig(profile=prof["name"]), prof["config"])
    cfg = merge(cfg, parse_set(sets))
    return cfg.validate()


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def save(cfg: RunConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(plain(to_dict(cfg)), sort_keys=False))


def load_saved(path: Path) -> RunConfig:
    """Read a run folder's `config.yaml` back (for --resume), type-checked and validated."""
    data = read_yaml_file(Path(path), f"saved config {path}") or {}
    return merge(RunConfig(), data).validate()


def plain(x: Any) -> Any:
    """`to_dict`'s output with tuples as lists, for YAML."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    return x


def describe(obj: Any = None, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(key, default, doc) for every field of `obj` (default: the whole `RunConfig`)."""
    return describe_fields(obj if obj is not None else RunConfig(), prefix)
