"""Every topic of the graph: its name, message type and QoS (`TopicSpec`).

QoS decisions: control-loop topics are RELIABLE + VOLATILE (an outside program with rclpy's default
QoS can publish on them, e.g. `teleop/intervening` with `--operator none`); the control data
(observation, policy_action, command) and what the recorder stores (`step`) keep a history of 1000
messages, because RELIABLE + KEEP_LAST only retransmits what is still in the writer's history: a
reader busy for a moment (an episode flush) must not lose steps when the twin runs accelerated.
`step` is the one write path: the clock publishes each executed step and then the episode's end on
this one topic, from one writer, so a reader gets them in order and needs no join and no wait
(learner.recording);
`policy_weights` is TRANSIENT_LOCAL depth 1 so an actor that starts late still gets the latest
weights; `events` is RELIABLE + TRANSIENT_LOCAL, depth 100 (bursts are not dropped), with a lifespan
of `EVENT_LIFESPAN_S`: a message written just after a writer sees a reader is lost to a VOLATILE
reader that has not yet matched that writer (DDS matching is per side; a request sent at once by a
fresh participant, or the cell's first `episode_start`, sometimes never arrived), while a
transient-local reader gets the writer's history when it matches. What it must not get is the past:
every event carries its wall-clock `stamp`, and `json_topics.unpack_event` refuses (`StaleEvent`)
one stamped before this process started, so a node restarted mid-run, or `rlif robot recover` asking
for a fresh answer, never acts on an old request or an old reply; the lifespan bounds the history
kept. Both compare clocks: machines sharing a graph need them synchronized (NTP).
"""
from __future__ import annotations

from dataclasses import dataclass

from geometry_msgs.msg import TwistStamped
from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Joy
from std_msgs.msg import Bool, Float64MultiArray, String, UInt8MultiArray

NAMESPACE = "/rlif"


def qos_profile(depth: int = 10, latched: bool = False, best_effort: bool = False, lifespan_s: float = 0.0) -> QoSProfile:
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
        return qos_profile(self.depth, self.latched, self.best_effort, self.lifespan_s)


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
