"""Supervisor node: the FastAPI dashboard/API as a node of the graph (`rlif up … --serve`).

ROS side: status, events, observation, command and camera messages feed the ROS-free
`SupervisorState` (robot_stack/supervisor/state.py); the API's control calls (e-stop, episode
success/abort/start, training pause/resume) publish `events`. uvicorn runs in its own thread
(`robot_stack/supervisor/server.py`), so no ROS callback ever waits on HTTP. Parameters:
`port` (default: supervisor.port; 0 = any free port) and `host` (default: supervisor.host).
"""
from __future__ import annotations

import dataclasses

from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode
from sim.contract import Step


class SupervisorNode(RlifNode):
    def __init__(self):
        super().__init__("supervisor")
        from robot_stack.supervisor.live import start_supervisor

        sc = self.cfg.supervisor
        sc = dataclasses.replace(sc, port=int(self.param("port", sc.port)), host=str(self.param("host", sc.host)))
        self.obs_labels = contract.OBS_LABELS
        self.cameras = self.cfg.vision.frame_shapes()  # observations and steps carry these frames (unused here)
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.sup = start_supervisor(self.run_dir, sc, publish_event=lambda kind, data: self.publish_event(kind, **data),
                                    window=self.cfg.train.window, node_dead_s=self.cfg.graph.node_dead_s,
                                    announce=lambda line: self.get_logger().info(line))
        st = self.sup.state
        self.create_subscription(T.STATUS.msg_type, T.STATUS.name, lambda m: self._feed(T.unpack_status, m,
                                 st.on_status), T.STATUS.qos)
        self.on_events(lambda e: st.on_event(e.kind, {**e.data, "source": e.source}))
        self.create_subscription(T.OBSERVATION.msg_type, T.OBSERVATION.name, self.on_observation, T.OBSERVATION.qos)
        self.create_subscription(T.STEP.msg_type, T.STEP.name, self.on_step, T.STEP.qos)
        self.create_subscription(T.CAMERA.msg_type, T.CAMERA.name,
                                 lambda m: self._feed(T.unpack_jpeg, m, st.on_camera), T.CAMERA.qos)

    def status(self):
        return {"url": self.sup.url}

    def _feed(self, unpack, msg, sink):
        try:
            sink(unpack(msg))
        except T.TopicError as e:
            self.get_logger().warning(f"ignored: {e}")

    def on_observation(self, msg):
        try:
            o = T.unpack_observation(msg, self.obs_labels, self.cameras)
        except T.TopicError:
            return
        self.sup.state.on_observation(o.episode, o.step, o.t)

    def on_step(self, msg):
        """Who drove each executed step (the clock's `step`; an episode's end is not a step)."""
        try:
            m = T.unpack_step(msg, self.obs_labels, self.action_labels, self.cameras)
        except T.TopicError:
            return
        if isinstance(m, Step):
            self.sup.state.on_command(m.episode, m.step, int(m.source))

    def close(self):
        self.sup.stop()
