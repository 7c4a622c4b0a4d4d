"""An in-process observer of the graph for the launcher and `rlif train`: heartbeats and events.

A `robot_stack.participant.Participant` (its own context, spun by a background thread).
Callbacks only store what arrived; readers take copies.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from robot_stack import topics as T
from robot_stack.participant import Participant


class GraphMonitor:
    def __init__(self, name: str = "rlif_monitor", on_event: Callable[[T.Event], None] | None = None):
        self.participant = Participant(name)
        self.node = self.participant.node
        self.lock = threading.Lock()
        self.last_seen: dict[str, float] = {}
        self.status: dict[str, dict[str, Any]] = {}
        self.events: list[T.Event] = []
        self._on_event = on_event
        self.node.create_subscription(T.STATUS.msg_type, T.STATUS.name, self._status, T.STATUS.qos)
        self.node.create_subscription(T.EVENTS.msg_type, T.EVENTS.name, self._event, T.EVENTS.qos)
        self.events_pub = self.node.create_publisher(T.EVENTS.msg_type, T.EVENTS.name, T.EVENTS.qos)
        self.participant.start()

    def _status(self, msg):
        try:
            s = T.unpack_status(msg)
        except T.TopicError as e:  # a broken node: say so (its heartbeat is not acted on)
            self.node.get_logger().warning(f"ignored heartbeat: {e}", throttle_duration_sec=10.0)
            return
        with self.lock:
            self.status[s["node"]] = s
            self.last_seen[s["node"]] = time.monotonic()

    def _event(self, msg):
        try:
            e = T.unpack_event(msg)
        except T.TopicError:
            return
        with self.lock:
            self.events.append(e)
            del self.events[:-10000]
        if self._on_event:
            self._on_event(e)

    def publish_event(self, kind: str, **data: Any) -> None:
        self.events_pub.publish(T.pack_event(T.Event(kind, data, source="monitor")))

    def snapshot(self) -> tuple[dict[str, dict], dict[str, float]]:
        """(latest status per node, age in s of each node's last heartbeat)."""
        now = time.monotonic()
        with self.lock:
            return {k: dict(v) for k, v in self.status.items()}, {k: now - t for k, t in self.last_seen.items()}

    def close(self):
        self.participant.close()
