"""An rclpy participant of its own (its own context) that a background thread spins.

For observers inside a process that is not a graph node: the launcher's monitor, the
`rlif bench` listeners, the tests' probe. Its own context never interferes with anything else in
the process. Callbacks run in the spinning thread: they only store what arrived (under a lock).
Create the subscriptions on `node`, then `start()`; `close()` stops and shuts the context down.
"""
from __future__ import annotations

import threading

import rclpy
from rclpy.executors import SingleThreadedExecutor


class Participant:
    def __init__(self, name: str):
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node(name, context=self.ctx)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._spin, name=f"{name}-spin", daemon=True)

    def start(self) -> "Participant":
        self.thread.start()
        return self

    def _spin(self) -> None:
        while not self._stop.is_set() and self.ctx.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # noqa: BLE001 - the context was shut down under us
                if self._stop.is_set():
                    return
                raise

    def close(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=2)
        self.node.destroy_node()
        if self.ctx.ok():
            rclpy.shutdown(context=self.ctx)
