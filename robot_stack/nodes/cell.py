"""Cell node: the control clock with a cell driver composed in. It publishes `observation`,
applies `command` and publishes `step`. The driver is what differs between cells (`CellDriver`):
`nodes.drivers.TwinDriver` (the MuJoCo twin: resets at once, outcome known at apply time), and
`robot_stack.franka.bridge.FrankaDriver` for the real arm (node name `franka_bridge`).

Per step: publish observation(episode, step, t) -> wait for command(episode, step) until the
deadline -> apply it; no command in time -> hold pose and count a missed deadline. Malformed or
non-finite commands are held too. After each apply it publishes the step as executed (`step`:
observation, executed action, the policy's proposal, who drove) and, after an episode's last
step, its `EpisodeEnd` on the same topic: the recorder stores exactly that (the one write path,
`learner.recording`). Clocks:
- wall mode: one step per 1/control_hz s; deadline `graph.deadline_ms`;
- accelerated (`graph.accelerated`): the next step starts as soon as the command is applied and
  the learner has kept up with the UTD ratio (`logic.pacing.UtdGate`, from its status). Sim time
  stops while we wait, so the deadline is `graph.accelerated_wait_s`: only a dead or stuck node
  reaches it, never a busy machine.
Events handled: estop (hold within one tick, no steps until estop_clear), request_success,
request_abort. `t` is the cell clock: s of control time since this node started.
Cameras (`vision.image_size` > 0): each observation and its step record carry `cell.images()`
taken as the observation is published (the state it describes, as `learner.loop.run_episode`), the
episode's end those of the final state. Frames the cell cannot give (ValueError: a stale camera)
start no step (`logic.frames`: no tick, the arm keeps its target; one fault per outage, counted in
`stale_frames`); an end whose final frames fail carries its last step's, with a fault.
Parameters: start_episode (int), max_episodes (0 = no limit), learner_gate (bool),
expect_obs_subscribers (int: steps start once that many nodes and the mux are matched),
wait_recorder (bool: and once the recorder's heartbeat reports its inputs matched),
wait_for (comma-separated node names: and once each one's heartbeat reports ready and, where it
reports it, inputs_matched).
Status: latency percentiles (observation published -> command applied), and where the clock's
time went: `apply_s` (physics), `await_s` (waiting for commands), `gate_wait_s` (held by the UTD
gate).
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from sim.contract import Source, Step
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.logic.episode import EpisodeBook, end_payload
from robot_stack.logic.frames import FrameSource
from robot_stack.logic.pacing import LEARNER_STARVED, UtdGate
from robot_stack.nodes.base import RlifNode
from robot_stack.nodes.drivers import CellDriver, TwinDriver

RETRY_S = 0.05  # accelerated clock: re-check what holds a step that no message announces, s


class CellNode(RlifNode):
    def __init__(self, name: str = "cell", driver: Callable[["CellNode"], CellDriver] = TwinDriver):
        super().__init__(name)
        self.episode = int(self.param("start_episode", 0))
        self.max_episodes = int(self.param("max_episodes", 0))
        gate = bool(self.param("learner_gate", False))
        self.expect_obs_subs = int(self.param("expect_obs_subscribers", 1))
        # The plan sets wait_recorder when the graph has a recorder (here or on another machine):
        # no step until its heartbeat says it sees our observations and the commands.
        self.wait_recorder = bool(self.param("wait_recorder", False))
        self.recorder_matched = False
        self.waiting_for = {n for n in str(self.param("wait_for", "")).split(",") if n}
        self.halted = False
        self.obs_labels = contract.OBS_LABELS
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.cameras = self.cfg.vision.frame_shapes()  # {} without vision: messages carry no frames
        self.step_frames = None  # the frames of the current step's observation
        self.dt = 1.0 / self.cfg.cell.control_hz
        g = self.cfg.graph
        self.accelerated = g.accelerated
        self.deadline_s = g.accelerated_wait_s if g.accelerated else g.deadline_ms / 1000.0
        self.gate = UtdGate(self.cfg.agent.warmup_rows, self.cfg.cell.episode_steps, enabled=gate)
        self.book = EpisodeBook()
        self.phase = "ready"  # ready | await | estop | done
        self.step_t0 = 0.0  # monotonic time the current observation was published
        self.obs = None
        self.global_steps = 0
        self.latencies_ms: list[float] = []
        self.times = {"apply_s": 0.0, "await_s": 0.0, "gate_wait_s": 0.0}
        self.gate_blocked_since: float | None = None
        self.counters.update(steps=0, episodes=0, missed_deadlines=0, holds=0, malformed=0, stale_frames=0)
        self.driver = driver(self)
        self.cell = self.driver.cell
        self.frames = FrameSource(lambda: self.cell.images(), self.cameras) if self.cameras else None
        # one deadline timer, re-armed per step (creating a timer per step costs, and rclpy's
        # EventsExecutor may run a timer twice when another timer is created)
        self.deadline_timer = self.create_timer(self.deadline_s, self.on_deadline)
        self.deadline_timer.cancel()
        self.obs_pub = self.create_publisher(T.OBSERVATION.msg_type, T.OBSERVATION.name, T.OBSERVATION.qos)
        self.step_pub = self.create_publisher(T.STEP.msg_type, T.STEP.name, T.STEP.qos)
        self.cmd_sub = self.create_subscription(T.COMMAND.msg_type, T.COMMAND.name, self.on_command, T.COMMAND.qos)
        self.matched = False
        self.create_subscription(T.STATUS.msg_type, T.STATUS.name, self.on_status, T.STATUS.qos)
        self.on_events(self.on_event)
        camera_hz = float(self.param("camera_hz", 0.0))  # twin: render the front camera for the dashboard
        if camera_hz > 0 and hasattr(self.cell, "render"):
            self.cam_pub = self.create_publisher(T.CAMERA.msg_type, T.CAMERA.name, T.CAMERA.qos)
            self.create_timer(1.0 / camera_hz, self.publish_camera)
        self.start_episode()
        if self.accelerated:
            # steps follow commands, learner heartbeats and start-up matches at once; this timer
            # only retries what no message announces (subscriber counts during discovery)
            self.create_timer(RETRY_S, self.try_step)
        else:
            self.create_timer(self.dt, self.try_step)

    def status(self):
        lat = np.asarray(self.latencies_ms[-2000:]) if self.latencies_ms else np.zeros(1)
        return {"episode": self.episode, "step": self.book.steps, "phase": self.phase,
                "latency_p50_ms": round(float(np.percentile(lat, 50)), 3),
                "latency_p99_ms": round(float(np.percentile(lat, 99)), 3),
                "latency_n": len(self.latencies_ms), "waiting_for": sorted(self.waiting_for),
                **{k: round(v, 3) for k, v in self.times.items()}, **self.driver.status()}

    def halt(self):
        self.halted = True

    # ------------------------------------------------------------ episodes
    def start_episode(self):
        self.driver.start_episode()

    def begin_episode(self, obs, **event_data):
        """The driver's cell is at the start of episode `self.episode`, observing `obs`."""
        self.obs, self.step_frames = obs, None
        self.book.start(self.episode)
        self.publish_event(T.EventKind.EPISODE_START, episode=self.episode, **event_data)

    def end_episode(self, reason: str):
        if not self.driver.defer_end(reason):
            self.finish_episode(reason)

    def finish_episode(self, reason: str):
        end = self.book.finish(reason, self.obs, self.final_frames() if self.frames else None)
        self.step_pub.publish(T.pack_episode_end(end, self.obs_labels, self.cameras))
        self.publish_event(T.EventKind.EPISODE_END, **end_payload(end))
        self.counters["episodes"] += 1
        self.episode += 1
        if self.max_episodes and self.counters["episodes"] >= self.max_episodes:
            self.phase = "done"
            return
        self.start_episode()

    # ------------------------------------------------------------ clock
    def try_step(self):
        if not self.driver.before_tick() or self.phase != "ready" or self.halted:
            return
        if not self.gate.may_step(self.global_steps):
            if self.gate_blocked_since is None:
                self.gate_blocked_since = time.monotonic()
            return
        if self.gate_blocked_since is not None:
            self.times["gate_wait_s"] += time.monotonic() - self.gate_blocked_since
            self.gate_blocked_since = None
        if not self.matched:
            # Discovery is not instant: wait until every consumer of observations is matched and
            # the mux's commands reach us, and until the nodes we wait for see their own inputs
            # (matching is per side), so the first steps are neither lost nor held on a missed
            # deadline.
            if (self.obs_pub.get_subscription_count() < self.expect_obs_subs
                    or self.cmd_sub.get_publisher_count() < 1
                    or (self.wait_recorder and not self.recorder_matched)
                    or self.waiting_for):
                return
            self.matched = True
        frames = self.take_frames() if self.frames else None
        if self.frames and frames is None:
            return  # no tick until the cameras give frames again (take_frames reported it)
        self.phase = "await"
        self.key = (self.episode, self.book.steps)
        t = self.global_steps * self.dt
        self.step_t0 = time.monotonic()
        self.step_obs, self.step_t, self.step_frames = self.obs, t, frames
        self.obs_pub.publish(T.pack_observation(T.Observation(*self.key, t, self.obs, frames), self.obs_labels,
                                                self.cameras))
        self.deadline_timer.reset()

    def on_deadline(self):
        if self.phase != "await":
            self._cancel_deadline()
            return
        if time.monotonic() - self.step_t0 < 0.99 * self.deadline_s:
            return  # a stale timer event: that step was applied and this one started since
        self.counters["missed_deadlines"] += 1
        self.apply(Source.HOLD, None, missed=True)

    def _cancel_deadline(self):
        self.deadline_timer.cancel()

    # ------------------------------------------------------------ commands
    def on_command(self, msg):
        if self.phase != "await":
            return
        try:
            c = T.unpack_command(msg, self.action_labels)
        except T.TopicError as e:
            self.counters["malformed"] += 1
            self.fault("malformed command", detail=str(e))
            return
        if (c.episode, c.step) != self.key:
            return  # late command of an earlier step (already held)
        if c.source == Source.HOLD:
            self.apply(Source.HOLD, None, policy=c.policy_action)
        elif not np.all(np.isfinite(c.action)):
            self.fault("non-finite command", episode=c.episode, step=c.step)
            self.apply(Source.HOLD, None, policy=c.policy_action)
        else:
            self.apply(c.source, c.action, policy=c.policy_action)

    def apply(self, source: Source, action, missed: bool = False, policy=None):
        """Execute one step (HOLD: `action` ignored), then publish it as executed on `step`.
        `policy`: the policy's proposal for this step, when the command carried one."""
        source, action = self.driver.executed(source, action)
        self._cancel_deadline()
        # tick -> command applied: the command reached the cell and goes to the controller now
        t_applied = time.monotonic()
        self.latencies_ms.append(1e3 * (t_applied - self.step_t0))
        del self.latencies_ms[:-5000]
        self.times["await_s"] += t_applied - self.step_t0
        if source == Source.HOLD:
            executed = np.zeros(len(self.action_labels), np.float32)
            self.counters["holds"] += 1
            self.obs, term, trunc, info = self.cell.hold()
        else:
            executed = np.clip(np.asarray(action, np.float32), -1.0, 1.0)
            self.obs, term, trunc, info = self.cell.apply(executed)
        self.times["apply_s"] += time.monotonic() - t_applied
        nan = np.full(len(self.action_labels), np.nan, np.float32)
        step = Step(*self.key, self.step_t, self.step_obs, executed, nan if policy is None else policy, source,
                    self.step_frames)
        self.step_pub.publish(T.pack_step(step, self.obs_labels, self.action_labels, self.cameras))
        self.book.on_applied(source, missed)
        self.counters["steps"] += 1
        self.global_steps += 1
        if self.book.steps >= self.cfg.cell.episode_steps:
            trunc = True
        if self.phase == "await":
            self.phase = "ready"
        reason = self.book.end_reason(term, trunc, info)
        if reason:
            self.end_episode(reason)
        if self.accelerated:
            self.try_step()
        self.driver.after_apply()

    def take_frames(self) -> dict | None:
        """The frames for the observation about to be published, or None while they are unusable."""
        why = self.frames.why
        frames, news = self.frames.take()
        self.counters["stale_frames"] = self.frames.failures
        if news == "lost":
            self.fault("camera frames unusable: no step until they are back", detail=self.frames.why,
                       episode=self.episode)
        elif news == "back":
            self.get_logger().info(f"camera frames are back after: {why}")
        return frames

    def final_frames(self) -> dict:
        frames, why = self.frames.final(self.step_frames)
        self.counters["stale_frames"] = self.frames.failures
        if why:
            self.fault("final camera frames unusable: the episode's end carries its last step's", detail=why,
                       episode=self.episode)
        return frames

    def publish_camera(self):
        from robot_stack.supervisor.live import encode_jpeg

        frame = self.cell.render("front", width=320, height=240)  # ~ms on EGL; 2 Hz by default
        self.cam_pub.publish(T.pack_jpeg(encode_jpeg(frame), time.time(), frame_id="front"))

    # ------------------------------------------------------------ events / status
    def on_event(self, e: T.Event):
        if self.driver.on_event(e):
            return
        if e.kind == T.EventKind.ESTOP:
            if self.phase == "await":
                self.apply(Source.HOLD, None)
            if self.phase != "done":
                self.phase = "estop"
        elif e.kind == T.EventKind.ESTOP_CLEAR and self.phase == "estop":
            self.phase = "ready"
            if self.accelerated:
                self.try_step()
        elif e.kind == T.EventKind.REQ_SUCCESS:
            self.request_end("success")
        elif e.kind == T.EventKind.REQ_ABORT:
            self.request_end("abort")

    def request_end(self, what: str):
        self.book.requested_end = what
        if self.phase in ("ready", "estop"):
            self.end_episode(self.book.end_reason(False, False, {}))

    def on_status(self, msg) -> dict | None:
        """Act on a heartbeat (start-up waits, the learner's pace); returns it (None if refused)."""
        s = self.read_status(msg)
        if s is None:
            return None
        node = s["node"]
        if node == "recorder" and s.get("inputs_matched"):
            self.recorder_matched = True
        if node in self.waiting_for and s.get("ready", True) and s.get("inputs_matched", True):
            self.waiting_for.discard(node)
        if node == "learner":  # its counter and state are control fields (topics.CONTROL_STATUS)
            self.gate.on_learner_updates(s["updates"], starved=s["state"] in LEARNER_STARVED)
        if self.accelerated:
            self.try_step()  # the gate or the start-up wait may have opened
        self.driver.on_status(s)
        return s
