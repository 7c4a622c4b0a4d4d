"""Video node (`train.video_every` = N > 0): an mp4 of every Nth episode in `RUN/videos/`, with
who drove each frame (POLICY / OPERATOR / HOLD), for the dashboard and report.md.

On the twin (`cell.kind=twin`) it keeps the executed actions of the episodes it films (the
clock's `step` topic, what the recorder stores) and, at the episode's end on the same topic,
replays the episode on its own twin from the episode's reset seed in a worker thread
(`sim/video.py`): one frame per control period, rendered off the control loop. The replay's
last observation is compared with the end's `final_obs`; a difference is reported (warning,
counter `inexact`) and the video is still written. With a real arm it films the camera topic instead, when a camera publishes one;
an episode without frames gets no video. At most `MAX_BACKLOG` ended episodes wait for the
writer; an episode ending while that many wait gets no video. Status: `videos`, `inexact`,
`skipped` (episodes whose steps did not all arrive, or that found the writer behind),
`last_video`.
"""
from __future__ import annotations

import queue
import threading
import time

import numpy as np

from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode
from sim.contract import EpisodeEnd, Source

MAX_BACKLOG = 4  # ended episodes waiting for the writer; more are skipped (the writer fell behind)


class VideoNode(RlifNode):
    def __init__(self):
        super().__init__("video")
        from learner.optional import need

        need("imageio_ffmpeg", "episode videos (train.video_every)")
        self.every = int(self.cfg.train.video_every)
        self.twin = self.cfg.cell.kind == "twin"
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.obs_labels = contract.OBS_LABELS
        self.cameras = self.cfg.vision.frame_shapes()  # steps carry these frames (the replay renders its own)
        self.commands: dict[int, dict[int, tuple[int, np.ndarray]]] = {}
        self.frames: dict[int, list[tuple[float, bytes, int]]] = {}
        self.episode = -1
        self.driver = int(Source.HOLD)
        self.counters.update(videos=0, inexact=0, skipped=0)
        self.last_video = ""
        self.jobs: queue.Queue = queue.Queue(maxsize=MAX_BACKLOG)
        self.step_sub = self.create_subscription(T.STEP.msg_type, T.STEP.name, self.on_step, T.STEP.qos)
        if not self.twin:
            self.create_subscription(T.CAMERA.msg_type, T.CAMERA.name, self.on_camera, T.CAMERA.qos)
        self.on_events(self.on_event)
        self.worker = threading.Thread(target=self.work, name="video-writer", daemon=True)
        self.worker.start()

    def films(self, episode: int) -> bool:
        from sim.video import wanted

        return wanted(episode, self.every)

    def inputs_matched(self) -> bool:
        """The clock's steps reach us (on the twin a replay needs every step)."""
        return self.step_sub.get_publisher_count() >= 1 if self.twin else True

    def status(self):
        return {"last_video": self.last_video}

    def on_step(self, msg):
        m = self.unpack(T.unpack_step, msg, self.obs_labels, self.action_labels, self.cameras)
        if m is None:
            return
        if isinstance(m, EpisodeEnd):
            if self.films(m.episode):
                self.submit(m.episode, m)
            self.commands = {ep: c for ep, c in self.commands.items() if ep > m.episode}
            return
        self.driver = int(m.source)
        if self.films(m.episode):
            self.commands.setdefault(m.episode, {})[m.step] = (int(m.source), m.action)

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

    def submit(self, ep: int, end: EpisodeEnd) -> bool:
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
                    n = end.steps
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
                    final = end.final_obs
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
        self.jobs.put(None)  # videos of ended episodes are finished first (blocks until there is room)
        self.worker.join(timeout=60)
