"""Recorder node: stores what the clock executed, as the clock published it on `step`.

The clock (twin cell or Franka bridge) publishes each executed step and then the episode's
`EpisodeEnd` on the one `step` topic; this node hands them to `learner.recording.EpisodeWriter`,
the one write path (the in-process loop uses it too): rows are appended to
`run_dir/replay.zarr` and the episode is committed whole at its end, or discarded with a fault
saying why (a recorder restarted mid-episode did not see its first steps). A crash loses at most
the episode in flight: on restart the store drops its uncommitted tail and the clock continues
at `store.n_episodes`. With cameras (`vision.image_size` > 0) the store has one image column per
camera (`images={camera: (S, S, 3)}`) and each step's frames, and the end's final frames, are
stored with it; a store made for other cameras is refused at start. The clock's first step waits for this node's heartbeat to report
`inputs_matched`, so no first-episode step is lost to discovery.
It also appends one row per episode to `run_dir/metrics.csv` (columns in `METRIC_COLUMNS`; the
supervisor and `rlif train` read them) and, with `train.logger` set, logs the same episode's
success, autonomous, intervention rate, length, takeovers and the learner's counters at step =
episode (`learner/loggers.py`, part `episodes`).
"""
from __future__ import annotations

import csv
import time

from learner.recording import EpisodeWriter
from robot_stack import config as cfgmod
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.nodes.base import RlifNode
from sim.contract import EpisodeEnd

METRIC_COLUMNS = ("episode", "success", "interventions", "intervention_rate", "length", "autonomous",
                  "updates_per_s", "wall_time", "intervention_steps", "holds", "missed_deadlines", "reason",
                  "learner_updates", "policy_version", "env_steps")
# interventions = takeovers in the episode; intervention_rate = operator-driven steps / steps;
# autonomous = 1 when the operator never drove.


def open_or_create_store(run_dir, action_space: str, cameras: dict | None = None):
    """The run's store; `cameras` ({camera: (H, W, 3)}, `VisionConfig.frame_shapes`) must match an existing
    one's image columns (SystemExit naming both otherwise: its rows could not hold this graph's steps)."""
    from learner.replay import ReplayStore

    cameras = dict(cameras or {})
    path = run_dir / "replay.zarr"
    if path.exists():
        store = ReplayStore.open(path)
        if dict(store.images) != cameras:
            store.close()
            raise SystemExit(f"recorder: {path} holds frames {dict(store.images) or 'none'}, this run's cameras "
                             f"(vision.*) give {cameras or 'none'}")
        return store
    return ReplayStore.create(path, contract.OBS_LABELS, contract.action_labels(action_space), images=cameras)


class RecorderNode(RlifNode):
    def __init__(self):
        super().__init__("recorder")
        self.operator = str(self.param("operator", "sim"))
        self.obs_labels = contract.OBS_LABELS
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.cameras = self.cfg.vision.frame_shapes()  # {} without vision
        self.store = open_or_create_store(self.run_dir, self.cfg.cell.action_space, self.cameras)
        self.writer = EpisodeWriter(self.store, operator=self.operator,
                                    cell=self.cfg.cell.kind if self.cfg.cell.kind != "twin" else "sim")
        self.learner = {"updates_per_s": 0.0, "updates": 0}
        self.actor_version = -1
        self.env_steps = self.store.n_rows
        self.t0 = time.time()
        self.counters.update(rows=self.store.n_rows, episodes=self.store.n_episodes, discarded=0, malformed=0)
        self.metrics_path = self.run_dir / "metrics.csv"
        if not self.metrics_path.exists():
            with open(self.metrics_path, "w", newline="") as f:
                csv.writer(f).writerow(METRIC_COLUMNS)
        from learner.loggers import guarded, make_logger

        self.metrics_log = guarded(make_logger(self.cfg.train.logger, self.run_dir, "episodes",
                                               project=self.cfg.train.wandb_project,
                                               config=cfgmod.to_dict(self.cfg)),
                                   self.get_logger().warning)
        self.step_sub = self.create_subscription(T.STEP.msg_type, T.STEP.name, self.on_step, T.STEP.qos)
        self.create_subscription(T.STATUS.msg_type, T.STATUS.name, self.on_status, T.STATUS.qos)

    def status(self):
        return {"n_rows": self.store.n_rows, "n_episodes": self.store.n_episodes}

    def inputs_matched(self) -> bool:
        """The clock's `step` messages reach us. The clock waits for this (param wait_recorder)
        before its first step: DDS matching is per endpoint pair, and a step missed at step 0 would
        cost the whole episode (never committed with a hole)."""
        return self.step_sub.get_publisher_count() >= 1

    def on_step(self, msg):
        m = self.unpack(T.unpack_step, msg, self.obs_labels, self.action_labels, self.cameras)
        if m is None:
            return
        if isinstance(m, EpisodeEnd):
            self.on_end(m)
            return
        if self.writer.episode not in (None, m.episode):  # the clock restarted within an episode
            self.discarded(self.writer.episode, self.writer.next_step, "it never ended (the clock restarted?)")
        if self.writer.step(m):
            self.counters["rows"] += 1

    def on_end(self, e: EpisodeEnd):
        if e.steps == 0:  # ended (operator's request) before its first step: nothing to store
            return
        pending = self.writer.next_step if self.writer.episode == e.episode else 0
        done = self.writer.end(e)
        if not done.committed:
            self.discarded(e.episode, pending, done.why)
            return
        self.commit(e)

    def discarded(self, episode: int, rows: int, why: str):
        self.counters["rows"] -= rows
        self.counters["discarded"] += 1
        self.fault("episode discarded", episode=episode, why=why)

    def commit(self, e: EpisodeEnd):
        self.counters["episodes"] += 1
        self.env_steps += e.steps
        row = {"episode": e.episode, "success": int(e.success), "interventions": e.interventions,
               "intervention_rate": round(e.intervention_steps / e.steps, 4), "length": e.steps,
               "autonomous": int(e.intervention_steps == 0), "updates_per_s": self.learner["updates_per_s"],
               "wall_time": round(time.time() - self.t0, 3), "intervention_steps": e.intervention_steps,
               "holds": e.holds, "missed_deadlines": e.missed_deadlines,
               "reason": e.reason, "learner_updates": self.learner["updates"],
               "policy_version": self.actor_version, "env_steps": self.env_steps}
        with open(self.metrics_path, "a", newline="") as f:
            csv.writer(f).writerow([row[c] for c in METRIC_COLUMNS])
        self.metrics_log.log({f"episode/{k}": v for k, v in row.items() if k not in ("episode", "reason")},
                             e.episode)

    def on_status(self, msg):
        s = self.read_status(msg)
        if s is None:
            return
        if s["node"] == "learner":  # control fields (topics.CONTROL_STATUS)
            self.learner["updates_per_s"] = s["updates_per_s"]
            self.learner["updates"] = s["updates"]
        elif s["node"] == "actor":
            self.actor_version = s["policy_version"]

    def close(self):
        self.store.close()  # commits nothing new: an unfinished episode stays uncommitted
        self.metrics_log.close()
