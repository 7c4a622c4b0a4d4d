"""Shared bits of the supervisor tests: an event recorder standing in for the graph's `events`
publisher, and a feeder thread that plays synthetic episodes into a `SupervisorState`."""
from __future__ import annotations

import io
import random
import threading

from robot_stack.topics import EventKind


class EventLog:
    """`publish_event(kind, data)` stand-in that keeps what was published; with `echo` set (to a
    state's `on_event`) it also delivers each event back, as the graph's `events` topic does."""

    def __init__(self, fail: bool = False):
        self.events: list[tuple[str, dict]] = []
        self.fail = fail
        self.echo = None
        self.lock = threading.Lock()

    def __call__(self, kind: str, data: dict) -> None:
        if self.fail:
            raise ConnectionError("events publisher is gone")
        with self.lock:
            self.events.append((kind, data))
        if self.echo is not None:
            self.echo(kind, dict(data))

    def kinds(self) -> list[str]:
        with self.lock:
            return [k for k, _ in self.events]


def tiny_jpeg(shade: int = 128) -> bytes:
    """A real 32x24 JPEG (via matplotlib's PIL dependency)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (shade, 80, 200 - shade // 2)).save(buf, format="JPEG")
    return buf.getvalue()


class Feeder(threading.Thread):
    """Plays synthetic episodes (heartbeats, observations, commands, episode ends, frames) into
    the state until stopped; success rises and interventions fall as episodes go by."""

    def __init__(self, state, steps: int = 12, period_s: float = 0.005, seed: int = 0):
        super().__init__(name="feeder", daemon=True)
        self.state, self.steps, self.period_s = state, steps, period_s
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self.episodes = 0

    def run(self) -> None:
        ep = 0
        while not self.stop_event.is_set():
            self.state.on_event(EventKind.EPISODE_START, {"episode": ep})
            skill = min(1.0, ep / 15)
            interventions = 0
            for step in range(self.steps):
                if self.stop_event.wait(self.period_s):
                    return
                human = self.rng.random() < 0.3 * (1 - skill)
                interventions += human
                self.state.on_observation(ep, step, step * 0.1)
                self.state.on_command(ep, step, 1 if human else 0)
            for node in ("cell", "actor", "mux", "recorder"):
                self.state.on_status({"node": node, "episode": ep, "policy_version": ep // 3})
            self.state.on_status({"node": "learner", "updates_per_s": 40 + 5 * self.rng.random(),
                                  "updates": ep * 100, "paused": False})
            self.state.on_camera(tiny_jpeg(ep * 7 % 255))
            success = self.rng.random() < 0.2 + 0.8 * skill
            self.state.on_event(EventKind.EPISODE_END, {
                "episode": ep, "steps": self.steps, "success": success, "aborted": False,
                "truncated": not success, "interventions": interventions, "reason": "success" if success else "timeout"})
            ep += 1
            self.episodes = ep

    def stop(self) -> None:
        self.stop_event.set()
        self.join(5)
