"""Teleop node: the human operator (spacemouse, keyboard, or the fake spacemouse) on the
teleop topics: `teleop/twist` (every poll while intervening), `teleop/intervening` (on change +
10 Hz heartbeat), `teleop/joy` (raw axes and buttons, 20 Hz), and events: the operator's
success / abort buttons become `request_success` / `request_abort`, device faults `fault`.

The device is read by `teleop`'s reader thread; a timer polls `HumanOperator.poll()` at
`teleop.publish_hz` (never blocks); `teleop.heartbeat_hz` and `teleop.joy_hz` set the other
rates. Parameter `device`: spacemouse | keyboard | fake (default: the config's `teleop.device`).
A spacemouse that is missing at start is reported as a fault and opened as soon as it appears.
"""
from __future__ import annotations

import time

from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode


class TeleopNode(RlifNode):
    def __init__(self):
        super().__init__("teleop")
        from teleop.operator import HumanOperator, open_source

        device = str(self.param("device", self.cfg.teleop.device))
        source = open_source(self.cfg.teleop, device, must_open=False)
        self.op = HumanOperator(source, self.cfg.teleop, self.cfg.cell.action_space).start()
        self.device = device
        self.last_flag: bool | None = None
        self.last_flag_t = self.last_joy_t = 0.0
        self.state = None
        self.counters.update(takeovers=0, releases=0, requests=0, faults=0)
        self.flag_pub = self.create_publisher(T.TELEOP_INTERVENING.msg_type, T.TELEOP_INTERVENING.name,
                                              T.TELEOP_INTERVENING.qos)
        self.twist_pub = self.create_publisher(T.TELEOP_TWIST.msg_type, T.TELEOP_TWIST.name, T.TELEOP_TWIST.qos)
        self.joy_pub = self.create_publisher(T.TELEOP_JOY.msg_type, T.TELEOP_JOY.name, T.TELEOP_JOY.qos)
        tc = self.cfg.teleop
        self.heartbeat_s, self.joy_s = 1.0 / tc.heartbeat_hz, 1.0 / tc.joy_hz
        self.create_timer(1.0 / tc.publish_hz, self.on_poll)

    def status(self):
        s = self.state
        return {"device": self.device, "intervening": bool(s and s.intervening), "fault": s.fault if s else None,
                "warning": s.warning if s else None, "poll_hz": round(s.poll_hz, 1) if s else 0.0}

    def on_poll(self):
        s = self.state = self.op.poll()
        now = time.monotonic()
        # twist first, then the flag: the mux has the operator's action when it sees the takeover
        if s.intervening:
            self.twist_pub.publish(T.pack_twist(s.action, time.time()))
        if s.intervening != self.last_flag or now - self.last_flag_t >= self.heartbeat_s:
            self.flag_pub.publish(T.pack_intervening(s.intervening))
            self.last_flag, self.last_flag_t = s.intervening, now
        if now - self.last_joy_t >= self.joy_s:
            self.joy_pub.publish(T.pack_joy(s.axes, s.buttons, time.time()))
            self.last_joy_t = now
        for e in s.events:
            if e == "takeover":
                self.counters["takeovers"] += 1
            elif e == "release":
                self.counters["releases"] += 1
            elif e in (T.EventKind.REQ_SUCCESS, T.EventKind.REQ_ABORT):
                self.counters["requests"] += 1
                self.publish_event(e, device=self.device)
            elif e == "fault":
                self.fault(f"teleop device: {s.fault}", device=self.device)
            elif e == "warning" and s.warning:
                self.get_logger().warning(s.warning)

    def close(self):
        self.op.close()
