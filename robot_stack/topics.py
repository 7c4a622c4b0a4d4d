"""The topic contract (docs/architecture.md "The graph (robot_stack)"): every topic's name, type, QoS and packing.

Nothing else in the project hard-codes a topic name or a QoS: nodes take `TopicSpec`s from here
and use `pack_*` / `unpack_*` to go between messages and the small dataclasses below.

Every `*MultiArray` carries one `layout.dim` entry per value, whose `label` names it
(`episode, step, ...` first), so receivers match by key, never by arrival order, and a message
of the wrong length or labels is rejected with a `TopicError` saying what differs. With cameras
(`vision.image_size` > 0) the observation and the step topic's records also carry each camera's
frame of the state their observation describes, one labelled block per camera after the values
(`robot_stack/wire.py`; `cameras` = `cfg.vision.frame_shapes()`): frames travel with the
record that needs them, never on a topic of their own to be joined back by step key.

QoS decisions: control-loop topics are RELIABLE + VOLATILE (an outside program with rclpy's
default QoS can publish on them, e.g. `teleop/intervening` with `--operator none`); the control
data (observation, policy_action, command) and what the recorder stores (`step`) keep a history
of 1000 messages, because RELIABLE + KEEP_LAST only retransmits what is still in the writer's
history: a reader busy for a moment (an episode flush) must not lose steps when the twin runs
accelerated. `step` is the one write path: the clock publishes each executed step and then the
episode's end on this one topic, from one writer, so a reader gets them in order and needs no
join and no wait (learner.recording);
`policy_weights` is TRANSIENT_LOCAL depth 1 so an actor that starts late still gets the latest
weights; `events` is RELIABLE + TRANSIENT_LOCAL, depth 100 (bursts are not dropped), with a
lifespan of `EVENT_LIFESPAN_S`: a message written just after a writer sees a reader is lost to a
VOLATILE reader that has not yet matched that writer (DDS matching is per side; a request sent at
once by a fresh participant, or the cell's first `episode_start`, sometimes never arrived), while
a transient-local reader gets the writer's history when it matches. What it must not get is the
past: every event carries its wall-clock `stamp`, and `unpack_event` refuses (`StaleEvent`) one
stamped before this process started, so a node restarted mid-run, or `rlif robot recover` asking
for a fresh answer, never acts on an old request or an old reply; the lifespan bounds the history
kept. Both compare clocks: machines sharing a graph need them synchronized (NTP).
The other boundary, franka_ros2's topics (names from the config), is `robot_stack/franka/topics.py`.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from geometry_msgs.msg import TwistStamped
from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Joy
from std_msgs.msg import Bool, Float64MultiArray, MultiArrayDimension, String, UInt8MultiArray

from sim.contract import END_REASONS, EpisodeEnd, Source, Step
from robot_stack.events import EventKind  # noqa: F401  (the vocabulary lives where no ROS is needed)
from robot_stack import wire
from robot_stack.wire import Shapes, TopicError

NAMESPACE = "/rlif"


class StaleEvent(TopicError):
    """An event published before this process started (replayed history): not for us."""


def _qos(depth: int = 10, latched: bool = False, best_effort: bool = False, lifespan_s: float = 0.0) -> QoSProfile:
    qos = QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.BEST_EFFORT if best_effort else ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
    )
    if lifespan_s > 0:
        qos.lifespan = Duration(nanoseconds=int(lifespan_s * 1e9))
    return qos


@dataclass(frozen=True)
class TopicSpec:
    name: str
    msg_type: type
    depth: int = 10
    latched: bool = False
    doc: str = ""
    best_effort: bool = False
    lifespan_s: float = 0.0  # latched history older than this is not delivered (0: no limit)

    @property
    def qos(self) -> QoSProfile:
        return _qos(self.depth, self.latched, self.best_effort, self.lifespan_s)


DATA_DEPTH = 1000  # ~10 s at 100 Hz: steps the recorder may fall behind without losing any

OBSERVATION = TopicSpec(f"{NAMESPACE}/observation", Float64MultiArray, depth=DATA_DEPTH,
                        doc="[episode, step, t, obs..., image_<camera>...] cell -> actor, mux, supervisor")
POLICY_ACTION = TopicSpec(f"{NAMESPACE}/policy_action", Float64MultiArray, depth=DATA_DEPTH,
                          doc="[episode, step, a...] actor -> mux")
TELEOP_TWIST = TopicSpec(f"{NAMESPACE}/teleop/twist", TwistStamped,
                         doc="operator action, already in action units [-1, 1] -> mux")
TELEOP_INTERVENING = TopicSpec(f"{NAMESPACE}/teleop/intervening", Bool,
                               doc="operator drives; on change + 10 Hz heartbeat -> mux")
TELEOP_JOY = TopicSpec(f"{NAMESPACE}/teleop/joy", Joy, doc="raw axes and buttons -> dashboard, logs")
COMMAND = TopicSpec(f"{NAMESPACE}/command", Float64MultiArray, depth=DATA_DEPTH,
                    doc="[episode, step, source, a..., policy.a...] source 0 policy, 1 human, 2 hold; "
                        "policy.a = the policy's proposal (NaN: none in time); mux -> clock")
STEP = TopicSpec(f"{NAMESPACE}/step", Float64MultiArray, depth=DATA_DEPTH,
                 doc="each executed step [episode, step, t, source, obs..., action.a..., policy.a..., "
                     "image_<camera>...], then the episode's end [episode, steps, reason, ..., final.obs..., "
                     "image_<camera>...]; clock -> recorder, video, supervisor")
EVENT_LIFESPAN_S = 10.0  # > any discovery delay seen here (a few s under load)
PROCESS_START = time.time()  # events stamped before this (less the margin) are stale, s
STALE_MARGIN_S = 0.25  # clock differences tolerated between machines, s
EVENTS = TopicSpec(f"{NAMESPACE}/events", String, depth=100, latched=True, lifespan_s=EVENT_LIFESPAN_S,
                   doc="one JSON object per event, anyone -> all")
POLICY_WEIGHTS = TopicSpec(f"{NAMESPACE}/policy_weights", UInt8MultiArray, depth=1, latched=True,
                           doc="safetensors bytes of the actor, learner -> actor")
STATUS = TopicSpec(f"{NAMESPACE}/status", String, doc="JSON heartbeat (2 Hz) of each node -> supervisor")

CAMERA = TopicSpec(f"{NAMESPACE}/camera/image/compressed", CompressedImage, depth=1,
                   doc="JPEG frames of the cell's camera (twin: rendered) -> supervisor dashboard")

ALL_TOPICS = (OBSERVATION, POLICY_ACTION, TELEOP_TWIST, TELEOP_INTERVENING, TELEOP_JOY,
              COMMAND, STEP, EVENTS, POLICY_WEIGHTS, STATUS, CAMERA)

# Action labels in the twist's field order (twist.linear.xyz, twist.angular.xyz).
TWIST_LABELS = ("x", "y", "z", "rx", "ry", "rz")


# ---------------------------------------------------------------- core dataclasses
@dataclass(frozen=True)
class Observation:
    episode: int
    step: int
    t: float  # s since the episode started (cell clock)
    obs: np.ndarray  # float32, labelled by the cell's obs_labels
    images: dict | None = None  # {camera: uint8 (H, W, 3)} of the state obs describes; None without cameras


@dataclass(frozen=True)
class PolicyAction:
    episode: int
    step: int
    action: np.ndarray  # float32 in [-1, 1]


@dataclass(frozen=True)
class Command:
    episode: int
    step: int
    source: Source
    action: np.ndarray  # float32 in [-1, 1]; zeros when source is HOLD
    policy_action: np.ndarray | None = None  # the policy's proposal for this step (None: none in time)


@dataclass(frozen=True)
class Event:
    kind: str  # episode_start | episode_end | success | abort | estop | estop_clear | fault | ...
    data: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # node name
    stamp: float = 0.0  # wall clock when published, s (0: now, at packing)


# ---------------------------------------------------------------- MultiArray helpers
def _labelled(values: Sequence[float], labels: Sequence[str]) -> Float64MultiArray:
    return wire.pack(values, labels, "")


def _check_labels(msg: Float64MultiArray, expected: Sequence[str], topic: TopicSpec) -> np.ndarray:
    """The values of a message that carries no frames (any frame block is refused)."""
    return wire.unpack(msg, expected, topic.name)[0]


def _key(data: np.ndarray, topic: TopicSpec) -> tuple[int, int]:
    ep, st = data[0], data[1]
    if not (np.isfinite(ep) and np.isfinite(st)) or ep != int(ep) or st != int(st) or ep < 0 or st < 0:
        raise TopicError(f"{topic.name}: episode/step must be non-negative integers, got {ep}, {st}")
    return int(ep), int(st)


def observation_labels(obs_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", "t", *obs_labels)


def pack_observation(o: Observation, obs_labels: Sequence[str], cameras: Shapes | None = None) -> Float64MultiArray:
    """`cameras`: the graph's ({camera: (H, W, 3)}, `VisionConfig.frame_shapes`): `o.images` must hold exactly those."""
    if len(o.obs) != len(obs_labels):
        raise TopicError(f"{OBSERVATION.name}: obs has {len(o.obs)} values for {len(obs_labels)} labels")
    return wire.pack([o.episode, o.step, o.t, *o.obs], observation_labels(obs_labels), OBSERVATION.name,
                     o.images, cameras)


def unpack_observation(msg: Float64MultiArray, obs_labels: Sequence[str], cameras: Shapes | None = None) -> Observation:
    data, frames = wire.unpack(msg, observation_labels(obs_labels), OBSERVATION.name, cameras)
    ep, st = _key(data, OBSERVATION)
    return Observation(ep, st, float(data[2]), data[3:].astype(np.float32), frames)


def policy_action_labels(action_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", *action_labels)


def pack_policy_action(p: PolicyAction, action_labels: Sequence[str]) -> Float64MultiArray:
    return _labelled([p.episode, p.step, *p.action], policy_action_labels(action_labels))


def unpack_policy_action(msg: Float64MultiArray, action_labels: Sequence[str]) -> PolicyAction:
    """Non-finite action values are passed through: the mux, not the wire, decides to hold."""
    data = _check_labels(msg, policy_action_labels(action_labels), POLICY_ACTION)
    ep, st = _key(data, POLICY_ACTION)
    return PolicyAction(ep, st, data[2:].astype(np.float32))


def command_labels(action_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", "source", *action_labels, *(f"policy.{a}" for a in action_labels))


def _nan_if_none(a, n: int) -> np.ndarray:
    return np.full(n, np.nan, np.float32) if a is None else np.asarray(a, np.float32)


def pack_command(c: Command, action_labels: Sequence[str]) -> Float64MultiArray:
    pol = _nan_if_none(c.policy_action, len(action_labels))
    return _labelled([c.episode, c.step, int(c.source), *c.action, *pol], command_labels(action_labels))


def _source(value: float, topic: TopicSpec) -> Source:
    try:
        return Source(int(value))
    except ValueError:
        raise TopicError(f"{topic.name}: source {value} is not one of {[int(s) for s in Source]}") from None


def unpack_command(msg: Float64MultiArray, action_labels: Sequence[str]) -> Command:
    data = _check_labels(msg, command_labels(action_labels), COMMAND)
    ep, st = _key(data, COMMAND)
    n = len(action_labels)
    pol = data[3 + n:].astype(np.float32)
    return Command(ep, st, _source(data[2], COMMAND), data[3:3 + n].astype(np.float32),
                   None if np.isnan(pol).all() else pol)


# ---------------------------------------------------------------- step (the one write path)
END_COUNTS = ("interventions", "intervention_steps", "holds", "missed_deadlines")


def step_labels(obs_labels: Sequence[str], action_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "step", "t", "source", *obs_labels, *(f"action.{a}" for a in action_labels),
            *(f"policy.{a}" for a in action_labels))


def end_labels(obs_labels: Sequence[str]) -> tuple[str, ...]:
    return ("episode", "steps", "reason", *END_COUNTS, *(f"final.{o}" for o in obs_labels))


def pack_step(s: Step, obs_labels: Sequence[str], action_labels: Sequence[str],
              cameras: Shapes | None = None) -> Float64MultiArray:
    """`cameras` as for `pack_observation`: `s.images` must hold exactly the graph's cameras."""
    if len(s.obs) != len(obs_labels) or len(s.action) != len(action_labels):
        raise TopicError(f"{STEP.name}: a step needs {len(obs_labels)} obs and {len(action_labels)} action values")
    return wire.pack([s.episode, s.step, s.t, int(s.source), *s.obs, *s.action,
                      *_nan_if_none(s.policy_action, len(action_labels))], step_labels(obs_labels, action_labels),
                     STEP.name, s.images, cameras)


def pack_episode_end(e: EpisodeEnd, obs_labels: Sequence[str], cameras: Shapes | None = None) -> Float64MultiArray:
    """`cameras` as for `pack_observation`: `e.final_images` must hold exactly the graph's cameras."""
    return wire.pack([e.episode, e.steps, END_REASONS.index(e.reason), *(getattr(e, k) for k in END_COUNTS),
                      *e.final_obs], end_labels(obs_labels), STEP.name, e.final_images, cameras)


def unpack_step(msg: Float64MultiArray, obs_labels: Sequence[str], action_labels: Sequence[str],
                cameras: Shapes | None = None) -> Step | EpisodeEnd:
    """A `Step`, or the `EpisodeEnd` that follows an episode's last step (told apart by their labels);
    with `cameras`, each carries the frames of its state (`images`, `final_images`)."""
    if len(msg.layout.dim) > 1 and msg.layout.dim[1].label == "steps":
        data, frames = wire.unpack(msg, end_labels(obs_labels), STEP.name, cameras)
        ep, steps = _key(data, STEP)
        code, counts = data[2], data[3:3 + len(END_COUNTS)]
        if not (np.isfinite(code) and code == int(code) and 0 <= code < len(END_REASONS)):
            raise TopicError(f"{STEP.name}: reason {code} is not an index of {list(END_REASONS)}")
        if not (np.isfinite(counts).all() and (counts >= 0).all() and (counts == np.round(counts)).all()):
            raise TopicError(f"{STEP.name}: {list(END_COUNTS)} must be non-negative integers, got {counts.tolist()}")
        return EpisodeEnd(ep, steps, END_REASONS[int(code)], data[3 + len(END_COUNTS):].astype(np.float32),
                          *(int(c) for c in counts), final_images=frames)
    data, frames = wire.unpack(msg, step_labels(obs_labels, action_labels), STEP.name, cameras)
    ep, st = _key(data, STEP)
    n_obs, n_act = len(obs_labels), len(action_labels)
    obs = data[4:4 + n_obs].astype(np.float32)
    action = data[4 + n_obs:4 + n_obs + n_act].astype(np.float32)
    return Step(ep, st, float(data[2]), obs, action, data[4 + n_obs + n_act:].astype(np.float32),
                _source(data[3], STEP), frames)


# ---------------------------------------------------------------- teleop
def pack_twist(action6: Sequence[float], stamp_s: float, frame_id: str = "hole") -> TwistStamped:
    """`action6` in action units, order x y z rx ry rz (missing trailing axes = 0)."""
    a = list(action6) + [0.0] * (6 - len(action6))
    msg = TwistStamped()
    msg.header.frame_id = frame_id
    msg.header.stamp.sec = int(stamp_s)
    msg.header.stamp.nanosec = int((stamp_s - int(stamp_s)) * 1e9)
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in a[:3])
    msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = (float(v) for v in a[3:6])
    return msg


def unpack_twist(msg: TwistStamped) -> tuple[np.ndarray, float]:
    """Returns (6 action units x y z rx ry rz, stamp in s)."""
    lin, ang = msg.twist.linear, msg.twist.angular
    a = np.array([lin.x, lin.y, lin.z, ang.x, ang.y, ang.z], dtype=np.float32)
    return a, msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def pack_intervening(flag: bool) -> Bool:
    return Bool(data=bool(flag))


def unpack_intervening(msg: Bool) -> bool:
    return bool(msg.data)


def pack_joy(axes: Sequence[float], buttons: Sequence[int], stamp_s: float) -> Joy:
    msg = Joy()
    msg.header.stamp.sec = int(stamp_s)
    msg.header.stamp.nanosec = int((stamp_s - int(stamp_s)) * 1e9)
    msg.axes = [float(a) for a in axes]
    msg.buttons = [int(b) for b in buttons]
    return msg


def unpack_joy(msg: Joy) -> tuple[np.ndarray, list[int]]:
    return np.asarray(msg.axes, dtype=np.float32), list(msg.buttons)


# ---------------------------------------------------------------- JSON topics
def pack_event(e: Event) -> String:
    return String(data=json.dumps({"kind": e.kind, "source": e.source, "stamp": e.stamp or time.time(), **e.data}))


def unpack_event(msg: String, since: float | None = None) -> Event:
    """The event; `StaleEvent` if stamped before `since` (default: this process's start, less
    `STALE_MARGIN_S`). An event without a stamp (an outside program) is taken as new."""
    d = _json(msg, EVENTS)
    kind = d.pop("kind", None)
    if not isinstance(kind, str) or not kind:
        raise TopicError(f"{EVENTS.name}: event JSON needs a non-empty 'kind', got {msg.data[:200]!r}")
    stamp = d.pop("stamp", 0.0)
    stamp = float(stamp) if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else 0.0
    if stamp and stamp < (PROCESS_START - STALE_MARGIN_S if since is None else since):
        raise StaleEvent(f"{EVENTS.name}: {kind!r} event stamped {PROCESS_START - stamp:.1f} s before this process started")
    return Event(kind, d, str(d.pop("source", "")), stamp)


# The heartbeat fields other nodes and the launcher ACT on (pacing, start-up, episode numbering,
# stop conditions), per publishing node ("*": every node): declared here, checked on receipt by
# `unpack_status` (present, of this type). Every other field is for people (dashboard, logs).
# Types: "bool", "int" (not a bool), "number" (int or float, not a bool), "str".
CONTROL_STATUS: dict[str, dict[str, str]] = {
    "*": {"ready": "bool", "uptime_s": "number"},
    "learner": {"updates": "int", "state": "str",       # the accelerated cell's UTD gate
                "updates_per_s": "number"},             # the recorder's metrics rows
    "actor": {"policy_version": "int"},                 # the recorder's metrics rows
    "recorder": {"n_episodes": "int", "n_rows": "int"},  # the bridge numbers episodes after the store's
    "cell": {"episodes": "int", "steps": "int", "phase": "str"},  # train/up stop conditions, bench
    "franka_bridge": {"episodes": "int", "steps": "int", "phase": "str"},
    "mux": {"estop": "bool"},                            # the supervisor's initial e-stop state
}
OPTIONAL_STATUS = {"inputs_matched": "bool"}  # any node that has inputs the clock waits for
_IS = {"bool": lambda v: isinstance(v, bool), "str": lambda v: isinstance(v, str),
       "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
       "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}


def pack_status(node: str, status: dict[str, Any]) -> String:
    return String(data=json.dumps({"node": node, **status}))


def unpack_status(msg: String) -> dict[str, Any]:
    """The heartbeat as a dict; `TopicError` naming the field when a control field (CONTROL_STATUS)
    of its node is missing or of the wrong type."""
    d = _json(msg, STATUS)
    node = d.get("node")
    if not isinstance(node, str):
        raise TopicError(f"{STATUS.name}: status JSON needs a 'node' name, got {msg.data[:200]!r}")
    for field, kind in {**CONTROL_STATUS["*"], **CONTROL_STATUS.get(node, {})}.items():
        if not _IS[kind](d.get(field)):
            raise TopicError(f"{STATUS.name}: {node}'s heartbeat needs {field!r} ({kind}), got {d.get(field)!r}")
    for field, kind in OPTIONAL_STATUS.items():
        if field in d and not _IS[kind](d[field]):
            raise TopicError(f"{STATUS.name}: {node}'s {field!r} must be {kind}, got {d[field]!r}")
    return d


def _json(msg: String, topic: TopicSpec) -> dict[str, Any]:
    try:
        d = json.loads(msg.data)
    except json.JSONDecodeError as e:
        raise TopicError(f"{topic.name}: not JSON ({e}): {msg.data[:200]!r}") from None
    if not isinstance(d, dict):
        raise TopicError(f"{topic.name}: expected a JSON object, got {msg.data[:200]!r}")
    return d


# ---------------------------------------------------------------- weights
WEIGHTS_LABEL = "safetensors"


def pack_weights(blob: bytes) -> UInt8MultiArray:
    msg = UInt8MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=WEIGHTS_LABEL, size=len(blob), stride=len(blob))]
    msg.data = blob  # rosidl accepts bytes for uint8[] without a Python-level copy per element
    return msg


def unpack_weights(msg: UInt8MultiArray) -> bytes:
    labels = [d.label for d in msg.layout.dim]
    if labels != [WEIGHTS_LABEL]:
        raise TopicError(f"{POLICY_WEIGHTS.name}: expected layout label [{WEIGHTS_LABEL!r}], got {labels}")
    blob = bytes(msg.data)
    if len(blob) != msg.layout.dim[0].size:
        raise TopicError(f"{POLICY_WEIGHTS.name}: {len(blob)} bytes, layout says {msg.layout.dim[0].size}")
    return blob


# ---------------------------------------------------------------- camera
def pack_jpeg(jpeg: bytes, stamp_s: float, frame_id: str = "camera") -> CompressedImage:
    msg = CompressedImage()
    msg.header.frame_id = frame_id
    msg.header.stamp.sec = int(stamp_s)
    msg.header.stamp.nanosec = int((stamp_s - int(stamp_s)) * 1e9)
    msg.format = "jpeg"
    msg.data = jpeg
    return msg


def unpack_jpeg(msg: CompressedImage) -> bytes:
    if msg.format.split(";")[0].strip().lower() not in ("jpeg", "jpg"):
        raise TopicError(f"{CAMERA.name}: expected format 'jpeg', got {msg.format!r}")
    return bytes(msg.data)
