"""Video node (`train.video_every` = N > 0): an mp4 of every Nth episode in `RUN/videos/`, with
who drove each frame (POLICY / OPERATOR / HOLD), for the dashboard and report.md.

On the twin (`cell.kind=twin`) it keeps the executed commands of the episodes it films (the
`command` topic: the first command of a step, a HOLD the cell announced overriding a late one,
as the recorder joins them) and, once the cell's `episode_end` arrives, replays the episode on
its own twin from the episode's reset seed in a worker thread (`sim/video.py`): one frame per
control period, rendered off the control loop. The replay's last observation is compared with
the cell's `final_obs`; a difference is reported (warning, counter `inexact`) and the video is
still written. With a real arm it films the camera topic instead, when a camera publishes one;
an episode without frames gets no video. At most `MAX_BACKLOG` ended episodes wait for the
writer; an episode ending while that many wait gets no video. Status: `videos`, `inexact`,
`skipped` (episodes whose commands did not all arrive, or that found the writer behind),
`last_video`.
"""
from __future__ import annotations

import queue
import threading
import time

import numpy as np

from learner.replay import Source
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode

KEEP_EPISODES = 4  # episodes whose commands are held while their end is awaited
MAX_BACKLOG = 4  # ended episodes waiting for the writer; more are skipped (the writer fell behind)
END_WAIT_S = 2.0  # an ended episode waits this long for its last commands (another writer's topic)


class VideoNode(RlifNode):
    def __init__(self):
        super().__init__("video")
        from learner.optional import need

        need("imageio_ffmpeg", "episode videos (train.video_every)")
        self.every = int(self.cfg.train.video_every)
        self.twin = self.cfg.cell.kind == "twin"
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.commands: dict[int, dict[int, tuple[int, np.ndarray]]] = {}
        self.frames: dict[int, list[tuple[float, bytes, int]]] = {}
        self.episode = -1
        self.driver = int(Source.HOLD)
        self.counters.update(videos=0, inexact=0, skipped=0)
        self.last_video = ""
        self.jobs: queue.Queue = queue.Queue(maxsize=MAX_BACKLOG)
        self.pending: dict[int, tuple[dict, float]] = {}  # ended episodes waiting for their commands
        self.cmd_sub = self.create_subscription(T.COMMAND.msg_type, T.COMMAND.name, self.on_command, T.COMMAND.qos)
        if not self.twin:
            self.create_subscription(T.CAMERA.msg_type, T.CAMERA.name, self.on_camera, T.CAMERA.qos)
        self.on_events(self.on_event)
        self.create_timer(0.1, self.dispatch)
        self.worker = threading.Thread(target=self.work, name="video-writer", daemon=True)
        self.worker.start()

    def films(self, episode: int) -> bool:
        from sim.video import wanted

        return wanted(episode, self.every)

    def inputs_matched(self) -> bool:
        """The mux's and the clock's commands reach us (on the twin a replay needs every step)."""
        return self.cmd_sub.get_publisher_count() >= 2 if self.twin else True

    def status(self):
        return {"last_video": self.last_video}

    def on_command(self, msg):
        c = self.unpack(T.unpack_command, msg, self.action_labels)
        if c is None:
            return
        self.driver = int(c.source)
        if not self.films(c.episode):
            return
        steps = self.commands.setdefault(c.episode, {})
        if c.step not in steps or c.source == Source.HOLD:  # the cell's HOLD overrides a late mux command
            steps[c.step] = (int(c.source), c.action)
        for old in sorted(self.commands)[:-KEEP_EPISODES]:
            if old not in self.pending:
                del self.commands[old]
        if c.episode in self.pending:
            self.dispatch()

    def on_camera(self, msg):
        if self.films(self.episode):
            try:
                jpeg = T.unpack_jpeg(msg)
            except T.TopicError:
                return
            self.frames.setdefault(self.episode, []).append((time.monotonic(), jpeg, self.driver))

    def on_event(self, e: T.Event):
        if e.kind == T.EventKind.EPISODE_START:
            self.episode = int(e.data.get("episode", -1))
        elif e.kind == T.EventKind.EPISODE_END and self.films(int(e.data.get("episode", -1))):
            self.pending[int(e.data["episode"])] = (e.data, time.monotonic())
            self.dispatch()

    def dispatch(self):
        """Hand ended episodes to the writer once their commands are all in (or END_WAIT_S passed)."""
        for ep, (end, since) in sorted(self.pending.items()):
            have = self.commands.get(ep, {})
            if len(have) >= int(end.get("steps", 0)) or not self.twin or time.monotonic() - since > END_WAIT_S:
                del self.pending[ep]
                self.submit(ep, end)

    def submit(self, ep: int, end: dict) -> bool:
        """Queue an ended episode for the writer; skip it (counted, warned) when MAX_BACKLOG are
        already waiting: memory stays bounded and the callback never blocks."""
        job = (ep, end, self.commands.pop(ep, {}), self.frames.pop(ep, []))
        try:
            self.jobs.put_nowait(job)
            return True
        except queue.Full:
            self.counters["skipped"] += 1
            self.get_logger().warning(f"episode {ep}: no video, the writer is {MAX_BACKLOG} episodes behind "
                                      "(raise train.video_every)", throttle_duration_sec=10.0)
            return False

    # ------------------------------------------------------------ worker thread
    def work(self):
        from learner.seeds import episode_seed
        from sim.video import replay_twin, video_path, write_frames, write_mp4

        cell = None
        while True:
            job = self.jobs.get()
            if job is None:
                break
            ep, end, commands, frames = job
            path = video_path(self.run_dir, ep)
            try:
                if self.twin:
                    n = int(end.get("steps", 0))
                    if sorted(commands) != list(range(n)):
                        self.counters["skipped"] += 1
                        self.get_logger().warning(f"episode {ep}: {len(commands)} of {n} commands arrived; no video")
                        continue
                    if cell is None:
                        from sim.cell import TwinCell

                        cell = TwinCell(self.cfg.cell, seed=self.cfg.train.seed)
                    video, last = replay_twin(cell, episode_seed(self.cfg.train.seed, ep),
                                              [commands[k] for k in range(n)], ep)
                    write_mp4(path, video, self.cfg.cell.control_hz)
                    final = np.asarray(end.get("final_obs", []), dtype=np.float32)
                    if final.shape != last.shape or not np.array_equal(final, last.astype(np.float32)):
                        self.counters["inexact"] += 1
                        self.get_logger().warning(f"episode {ep}: the replay did not end where the cell did; "
                                                  f"the video may differ from the episode")
                elif frames:
                    write_frames(path, frames, ep)
                else:
                    continue
                self.counters["videos"] += 1
                self.last_video = path.name
            except Exception as e:  # noqa: BLE001 - a video must never stop the run
                self.counters["skipped"] += 1
                self.get_logger().warning(f"episode {ep}: no video ({type(e).__name__}: {e})")
        if cell is not None:
            cell.close()

    def close(self):
        for ep in sorted(self.pending):  # ended episodes: write what arrived
            end, _ = self.pending.pop(ep)
            self.submit(ep, end)
        self.jobs.put(None)  # videos of ended episodes are finished first (blocks until there is room)
        self.worker.join(timeout=60)
