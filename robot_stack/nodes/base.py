"""What every node shares: config from the run folder, heartbeats, events, the process main.

A node runs in a process of its own (`python -m robot_stack.nodes NAME --ros-args -p run_dir:=D
[-p k:=v]`) or composed with others in one process and one executor (`NAME+NAME...`, the twin's
control loop). Its config is the run folder's resolved `config.yaml` (written by `rlif up` /
`rlif train`); node-specific switches are ROS parameters declared by the node. Every node
publishes a JSON heartbeat on `status` at `graph.heartbeat_hz` with its counters (and `ready`,
and `inputs_matched` where it has inputs the clock must not start without), and can publish /
receive `events`. SIGINT/SIGTERM: every node is `halt()`ed (the clock takes no new step), already
received messages are handled for `DRAIN_S`, then `close()` runs (stores closed, checkpoints
written) and the process exits 0. `graph.profile` writes a cProfile of the executor thread to
`logs/<process>.prof` at exit.
"""
from __future__ import annotations

import cProfile
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.experimental import EventsExecutor
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

    def inputs_matched(self) -> bool | None:
        """Whether our subscriptions see the publishers the first step needs (None: nothing to
        wait for). DDS matching is per endpoint pair: the clock node waits for this (param
        `wait_for`), or the first messages can be lost to discovery."""
        return None

    def halt(self) -> None:
        """Shutdown begins: take no new step (clock nodes); what is in flight may complete."""

    def publish_status(self) -> None:
        body = {"uptime_s": round(time.monotonic() - self._started, 3), "ready": self.ready(),
                **self.counters, **self.status()}
        matched = self.inputs_matched()
        if matched is not None:
            body["inputs_matched"] = matched
        self._status_pub.publish(T.pack_status(self.get_name(), body))

    def publish_event(self, kind: str, **data: Any) -> None:
        self._events_pub.publish(T.pack_event(T.Event(kind, data, source=self.get_name())))

    def fault(self, what: str, **data: Any) -> None:
        """Log (one line, the data appended) and publish a `fault` event."""
        extra = ", ".join(f"{k} {v}" for k, v in data.items() if k != "episode")
        self.get_logger().warning(f"fault: {what}" + (f": {extra}" if extra else ""))
        self.counters["faults"] = self.counters.get("faults", 0) + 1
        self.publish_event(T.EventKind.FAULT, what=what, **data)

    def unpack(self, fn: Callable[..., Any], msg: Any, *labels: Any, fault: str = "") -> Any:
        """`fn(msg, *labels)` (a `topics.unpack_*`), or None for a message that breaks the contract:
        counted in `malformed`, then a fault event named `fault` or (if empty) a log warning."""
        try:
            return fn(msg, *labels)
        except T.TopicError as e:
            self.counters["malformed"] = self.counters.get("malformed", 0) + 1
            if fault:
                self.fault(fault, detail=str(e))
            else:
                self.get_logger().warning(str(e))
            return None

    def read_status(self, msg) -> dict[str, Any] | None:
        """Another node's heartbeat, or None (counted in `malformed`, warned) when it breaks the
        control fields of `topics.CONTROL_STATUS`: that node is broken, and acting on it would not be
        safe (a missing learner counter would stall pacing, a missing episode count numbering)."""
        try:
            return T.unpack_status(msg)
        except T.TopicError as e:
            self.counters["malformed"] = self.counters.get("malformed", 0) + 1
            self.get_logger().warning(f"ignored heartbeat: {e}", throttle_duration_sec=10.0)
            return None

    def on_events(self, callback: Callable[[T.Event], None]) -> None:
        def _cb(msg):
            try:
                e = T.unpack_event(msg)
            except T.StaleEvent:  # history from before we started (events are transient-local)
                return
            except T.TopicError as e:
                self.get_logger().warning(f"ignored malformed event: {e}")
                return
            callback(e)

        self.create_subscription(T.EVENTS.msg_type, T.EVENTS.name, _cb, T.EVENTS.qos)

    def close(self) -> None:
        """Release resources (stores, files). Called once on shutdown."""


def make_executor(kind: str = "single"):
    """"events": rclpy's EventsExecutor (C++ event queue: ~0.05 ms per delivered message here
    against ~0.35 ms for the SingleThreadedExecutor, which rebuilds its wait set every spin)."""
    return EventsExecutor() if kind == "events" else SingleThreadedExecutor()


def run_node(factory: Callable[[], RlifNode]) -> int:
    """Process main for one node (see `run_nodes`)."""
    return run_nodes([factory])


def run_nodes(factories: list[Callable[[], RlifNode]], executor: str = "single") -> int:
    """Process main: init, build the nodes in order, spin them in one executor until
    SIGINT/SIGTERM, halt, drain, close (in order), exit 0."""
    rclpy.init(args=sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = {"flag": False}

    def _stop(signum, frame):  # noqa: ARG001
        stop["flag"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    nodes: list[RlifNode] = []
    ex = None
    prof = None
    try:
        for factory in factories:
            nodes.append(factory())
        if nodes[0].cfg.graph.profile:
            prof = cProfile.Profile()
        ex = make_executor(executor)
        for node in nodes:
            ex.add_node(node)
        if prof:
            prof.enable()
        while not stop["flag"] and rclpy.ok():
            ex.spin_once(timeout_sec=0.05)
        for node in nodes:
            node.halt()
        drain_until = time.monotonic() + DRAIN_S  # handle what already arrived (an episode's end)
        while rclpy.ok() and time.monotonic() < drain_until:
            ex.spin_once(timeout_sec=0.01)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if prof:
            prof.disable()
            name = "+".join(n.get_name() for n in nodes)
            prof.dump_stats(str(nodes[0].run_dir / "logs" / f"{name}.prof"))
        errors = []
        for node in nodes:  # every node closes (stores, checkpoints) even if one fails
            try:
                node.close()
            except Exception as e:  # noqa: BLE001 - re-raised below, after the others
                errors.append(e)
        if ex is not None:
            ex.shutdown()
        for node in nodes:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
        if errors:
            raise errors[0]
    return 0
