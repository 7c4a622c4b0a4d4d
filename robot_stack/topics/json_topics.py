"""The JSON topics: events (`Event`; one refused as `StaleEvent` when stamped before this process
started) and the nodes' status heartbeats (the fields other nodes act on declared in
`CONTROL_STATUS` and checked on receipt).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from std_msgs.msg import String

from robot_stack.topics.specs import EVENTS, STATUS, TopicSpec
from robot_stack.wire import TopicError

PROCESS_START = time.time()  # events stamped before this (less the margin) are stale, s
STALE_MARGIN_S = 0.25  # clock differences tolerated between machines, s


class StaleEvent(TopicError):
    """An event published before this process started (replayed history): not for us."""



@dataclass(frozen=True)
class Event:
    kind: str  # episode_start | episode_end | success | abort | estop | estop_clear | fault | ...
    data: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # node name
    stamp: float = 0.0  # wall clock when published, s (0: now, at packing)



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
    for name, kind in {**CONTROL_STATUS["*"], **CONTROL_STATUS.get(node, {})}.items():
        if not _IS[kind](d.get(name)):
            raise TopicError(f"{STATUS.name}: {node}'s heartbeat needs {name!r} ({kind}), got {d.get(name)!r}")
    for name, kind in OPTIONAL_STATUS.items():
        if name in d and not _IS[kind](d[name]):
            raise TopicError(f"{STATUS.name}: {node}'s {name!r} must be {kind}, got {d[name]!r}")
    return d


def _json(msg: String, topic: TopicSpec) -> dict[str, Any]:
    try:
        d = json.loads(msg.data)
    except json.JSONDecodeError as e:
        raise TopicError(f"{topic.name}: not JSON ({e}): {msg.data[:200]!r}") from None
    if not isinstance(d, dict):
        raise TopicError(f"{topic.name}: expected a JSON object, got {msg.data[:200]!r}")
    return d

