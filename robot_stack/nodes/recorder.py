"""Recorder node: joins observation + policy action + command by (episode, step) into the store.

Rows are appended to `run_dir/replay.zarr` in step order (`logic.joiner.StepJoiner`) and the
episode is committed when the cell's `episode_end` arrives (with the final observation). A
crash loses at most the episode in flight: on restart the store drops its uncommitted tail and
the cell continues at `store.n_episodes`. The clock's first step waits for this node's heartbeat
to report `inputs_matched` (see `inputs_matched`), so no first-episode message is lost to
discovery. An episode whose rows never all arrive (2 s after its
end) is discarded with a fault, never committed with a hole in it.
It also appends one row per episode to `run_dir/metrics.csv` (columns in `METRIC_COLUMNS`; the
supervisor and `rlif train` read them) and, with `train.logger` set, logs the same episode's
success, autonomous, intervention rate, length, takeovers and the learner's counters at step =
episode (`learner/loggers.py`, part `episodes`).
"""
from __future__ import annotations

import csv
import time

import numpy as np

from robot_stack import config as cfgmod
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.logic.joiner import StepJoiner
from robot_stack.nodes.base import RlifNode

METRIC_COLUMNS = ("episode", "success", "interventions", "intervention_rate", "length", "autonomous",
                  "updates_per_s", "wall_time", "intervention_steps", "holds", "missed_deadlines", "reason",
                  "learner_updates", "policy_version", "env_steps")
# interventions = takeovers in the episode; intervention_rate = operator-driven steps / steps;
# autonomous = 1 when the operator never drove.
END_WAIT_S = 2.0  # how long an episode end waits for its last rows


def open_or_create_store(run_dir, action_space: str):
    from learner.replay import ReplayStore

    path = run_dir / "replay.zarr"
    if path.exists():
        return ReplayStore.open(path)
    return ReplayStore.create(path, contract.OBS_LABELS, contract.action_labels(action_space))


class RecorderNode(RlifNode):
    def __init__(self):
        super().__init__("recorder")
        self.operator = str(self.param("operator", "sim"))
        self.obs_labels = contract.OBS_LABELS
        self.action_labels = contract.action_labels(self.cfg.cell.action_space)
        self.store = open_or_create_store(self.run_dir, self.cfg.cell.action_space)
        self.joiner = StepJoiner(len(self.action_labels))
        # episodes below the store's count are committed: their events, replayed to a restarted
        # recorder (events are transient-local), are not episodes to wait for
        self.joiner.closed_below = self.store.n_episodes
        self.store_episode: int | None = None  # episode whose rows sit uncommitted in the store
        self.pending_ends: dict[int, tuple[dict, float]] = {}
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
        self.obs_sub = self.create_subscription(T.OBSERVATION.msg_type, T.OBSERVATION.name, self.on_observation,
                                                T.OBSERVATION.qos)
        self.create_subscription(T.POLICY_ACTION.msg_type, T.POLICY_ACTION.name, self.on_policy, T.POLICY_ACTION.qos)
        self.cmd_sub = self.create_subscription(T.COMMAND.msg_type, T.COMMAND.name, self.on_command, T.COMMAND.qos)
        self.create_subscription(T.STATUS.msg_type, T.STATUS.name, self.on_status, T.STATUS.qos)
        self.on_events(self.on_event)
        self.create_timer(0.1, self.process)

    def status(self):
        return {"n_rows": self.store.n_rows, "n_episodes": self.store.n_episodes}

    def inputs_matched(self) -> bool:
        """Our subscriptions see the clock's observations and the commands of the mux and the clock.
        The clock node waits for this (param wait_recorder) before its first step: DDS matching is
        per endpoint pair, and an observation missed at step 0 would leave the episode with a hole
        (it is discarded, never committed), and the cell's own subscriber count can be reached by
        other observers while ours is still unmatched."""
        return self.obs_sub.get_publisher_count() >= 1 and self.cmd_sub.get_publisher_count() >= 2

    def on_observation(self, msg):
        o = self.unpack(T.unpack_observation, msg, self.obs_labels)
        if o:
            self.joiner.on_observation(o.episode, o.step, o.t, o.obs)

    def on_policy(self, msg):
        p = self.unpack(T.unpack_policy_action, msg, self.action_labels)
        if p:
            self.joiner.on_policy_action(p.episode, p.step, p.action)

    def on_command(self, msg):
        c = self.unpack(T.unpack_command, msg, self.action_labels)
        if c:
            self.joiner.on_command(c.episode, c.step, c.source, c.action)
            self.process()

    def on_event(self, e: T.Event):
        if e.kind == T.EventKind.EPISODE_END:
            self.pending_ends[int(e.data["episode"])] = (e.data, time.monotonic())
            self.process()

    def process(self):
        """Write the oldest open episode's final rows; commit it once its end and rows are in.

        The store holds one uncommitted episode at a time, so later episodes wait in the joiner
        (accelerated mode can run ahead of the `episode_end` event)."""
        while True:
            open_eps = set(self.joiner.open_episodes()) | set(self.pending_ends)
            if not open_eps:
                return
            cur = min(open_eps)
            self.write(cur, self.joiner.take(cur))
            if cur in self.pending_ends:
                data, since = self.pending_ends[cur]
                rows, complete = self.joiner.end_episode(cur, int(data["steps"]))
                self.write(cur, rows)
                if complete:
                    del self.pending_ends[cur]
                    self.commit(data)
                    continue
                if time.monotonic() - since > END_WAIT_S:
                    del self.pending_ends[cur]
                    self.discard(cur, "episode discarded: rows missing at its end")
                    continue
            elif any(e > cur and time.monotonic() - t > END_WAIT_S for e, (_, t) in self.pending_ends.items()):
                self.discard(cur, "episode discarded: it never ended (cell restarted?)")
                continue
            return

    def write(self, episode: int, rows):
        if rows and self.store_episode != episode:
            if self.store.n_pending:  # rows of an episode that never ended
                self.store.discard_episode()
            self.store_episode = episode
        for r in rows:
            self.store.append(r.obs, r.action, r.policy_action, int(r.source), r.intervening, t=r.t)
            self.counters["rows"] += 1

    def discard(self, episode: int, why: str):
        if self.store_episode == episode and self.store.n_pending:
            self.store.discard_episode()
        self.store_episode = None
        self.joiner.close(episode)
        self.counters["discarded"] += 1
        self.fault(why, episode=episode)

    def commit(self, d: dict):
        final = np.asarray(d.get("final_obs", np.full(len(self.obs_labels), np.nan)), dtype=np.float32)
        self.store.end_episode(terminal=bool(d["terminal"]), success=bool(d["success"]),
                               truncated=bool(d["truncated"]), final_obs=final, operator=self.operator,
                               cell=self.cfg.cell.kind if self.cfg.cell.kind != "twin" else "sim",
                               aborted=bool(d["aborted"]))
        self.store_episode = None
        self.counters["episodes"] += 1  # (the joiner closed the episode in end_episode)
        self.env_steps += int(d["steps"])
        steps = max(int(d["steps"]), 1)
        row = {"episode": d["episode"], "success": int(bool(d["success"])), "interventions": d["interventions"],
               "intervention_rate": round(d["intervention_steps"] / steps, 4), "length": d["steps"],
               "autonomous": int(d["intervention_steps"] == 0), "updates_per_s": self.learner["updates_per_s"],
               "wall_time": round(time.time() - self.t0, 3), "intervention_steps": d["intervention_steps"],
               "holds": d.get("holds", 0), "missed_deadlines": d.get("missed_deadlines", 0),
               "reason": d.get("reason", ""), "learner_updates": self.learner["updates"],
               "policy_version": self.actor_version, "env_steps": self.env_steps}
        with open(self.metrics_path, "a", newline="") as f:
            csv.writer(f).writerow([row[c] for c in METRIC_COLUMNS])
        self.metrics_log.log({f"episode/{k}": v for k, v in row.items() if k not in ("episode", "reason")},
                             int(d["episode"]))

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
        self.process()  # an episode whose end (and rows) arrived is committed
        self.store.close()  # commits nothing new: an unfinished episode stays uncommitted
        self.metrics_log.close()
