"""What every node shares: config from the run folder, heartbeats, events, the process main.

A node is one process: `python -m robot_stack.nodes NAME --ros-args -p run_dir:=D [-p k:=v]`.
Its config is the run folder's resolved `config.yaml` (written by `rlif up` / `rlif train`);
node-specific switches are ROS parameters declared by the node. Every node publishes a JSON
heartbeat on `status` at `graph.heartbeat_hz` with its counters, and can publish / receive
`events`. SIGINT/SIGTERM end the spin loop and `close()` runs (stores closed, checkpoints
written), then the process exits 0.
"""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from robot_stack import config as cfgmod
from robot_stack import topics as T

DRAIN_S = 0.3  # on shutdown, keep handling already-received messages this long


class RlifNode(Node):
    """Base class: declares `run_dir`, loads the config, heartbeats, events helpers."""

    def __init__(self, name: str):
        super().__init__(name)
        self.declare_parameter("run_dir", "")
        run_dir = self.get_parameter("run_dir").value
        if not run_dir:
            raise SystemExit(f"{name}: parameter run_dir is required (-p run_dir:=DIR)")
        self.run_dir = Path(run_dir)
        self.cfg = cfgmod.load_saved(self.run_dir / "config.yaml")
        self.counters: dict[str, Any] = {}
        self._status_pub = self.create_publisher(T.STATUS.msg_type, T.STATUS.name, T.STATUS.qos)
        self._events_pub = self.create_publisher(T.EVENTS.msg_type, T.EVENTS.name, T.EVENTS.qos)
        self._started = time.monotonic()
        self.create_timer(1.0 / self.cfg.graph.heartbeat_hz, self.publish_status)

    def param(self, name: str, default: Any) -> Any:
        self.declare_parameter(name, default)
        return self.get_parameter(name).value

    def status(self) -> dict[str, Any]:
        """Override to add node-specific fields; counters are always included."""
        return {}

    def ready(self) -> bool:
        """Whether the node can do its job (the launcher starts the clock once all are ready)."""
        return True

    def publish_status(self) -> None:
        body = {"uptime_s": round(time.monotonic() - self._started, 3), "ready": self.ready(),
                **self.counters, **self.status()}
        self._status_pub.publish(T.pack_status(self.get_name(), body))

    def publish_event(self, kind: str, **data: Any) -> None:
        self._events_pub.publish(T.pack_event(T.Event(kind, data, source=self.get_name())))

    def fault(self, what: str, **data: Any) -> None:
        self.get_logger().warning(f"fault: {what}")
        self.counters["faults"] = self.counters.get("faults", 0) + 1
        self.publish_event(T.EventKind.FAULT, what=what, **data)

    def unpack(self, fn: Callable[..., Any], msg: Any, labels: Any, fault: str = "") -> Any:
        """`fn(msg, labels)` (a `topics.unpack_*`), or None for a message that breaks the contract:
        counted in `malformed`, then a fault event named `fault` or (if empty) a log warning."""
        try:
            return fn(msg, labels)
        except T.TopicError as e:
            self.counters["malformed"] = self.counters.get("malformed", 0) + 1
            if fault:
                self.fault(fault, detail=str(e))
            else:
                self.get_logger().warning(str(e))
            return None

    def on_events(self, callback: Callable[[T.Event], None]) -> None:
        def _cb(msg):
            try:
                callback(T.unpack_event(msg))
            except T.TopicError as e:
                self.get_logger().warning(f"ignored malformed event: {e}")

        self.create_subscription(T.EVENTS.msg_type, T.EVENTS.name, _cb, T.EVENTS.qos)

    def close(self) -> None:
        """Release resources (stores, files). Called once on shutdown."""


def run_node(factory: Callable[[], RlifNode]) -> int:
    """Process main for one node: init, spin until SIGINT/SIGTERM, close, exit 0."""
    rclpy.init(args=sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = {"flag": False}

    def _stop(signum, frame):  # noqa: ARG001
        stop["flag"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    node = factory()
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    try:
        while not stop["flag"] and rclpy.ok():
            ex.spin_once(timeout_sec=0.05)
        drain_until = time.monotonic() + DRAIN_S  # handle what already arrived (an episode's end)
        while rclpy.ok() and time.monotonic() < drain_until:
            ex.spin_once(timeout_sec=0.01)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        try:
            node.close()
        finally:
            node.destroy_node()
            if rclpy.ok():
                rclpy.shutdown()
    return 0
