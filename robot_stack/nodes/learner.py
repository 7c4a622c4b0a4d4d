"""Learner node: trains from the replay store in a background thread, publishes weights.

The ROS callbacks never run an update: a training thread samples the store (reopened read-only,
`refresh()`ed for newly committed episodes) and calls `learner.train_step` (sample + update): one call per stored
step past `agent.warmup_rows`, each doing `agent.utd` gradient steps (so the UTD ratio holds
whether the cell runs on the wall clock or accelerated). Weights go out on `policy_weights` (latched) at
start and every `train.weights_every_s`; checkpoints every `train.checkpoint_every` updates and
at shutdown. `-p resume:=true` restores the latest checkpoint (networks, optimizers, counters,
RNG) before publishing, so the actor never starts from a random init after a resume.
A diverged update (non-finite loss) stops training with a fault; the last checkpoint is kept.
Events: training_pause / training_resume. Status `train_s` / `wait_s`: seconds the training
thread spent sampling and updating / waiting for committed rows (where the learner's time goes).
`train.logger` (tensorboard | wandb): every `train.log_every_updates` updates the training thread
logs the mean of the update metrics over them (losses, Q statistics, temperature `alpha`,
entropy), updates/s and the policy version, at step = updates (`learner/loggers.py`, part
`learner`).
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

from learner.loggers import guarded, make_logger, numbers
from learner.seeds import stream_seed
from learner.train_step import train_step
from robot_stack import contract
from robot_stack import topics as T
from robot_stack.logic.pacing import WAITING_FOR_DATA, WAITING_FOR_SUBSET
from robot_stack.nodes.base import RlifNode

STORE_WAIT_S = 60.0  # the recorder creates the store; wait this long for it


class LearnerNode(RlifNode):
    def __init__(self):
        super().__init__("learner")
        from learner.agents import make_agent

        resume = bool(self.param("resume", False))
        self.ckpt_dir = self.run_dir / "checkpoints"
        a = self.cfg.agent
        self.agent = make_agent(a, len(contract.OBS_LABELS), len(contract.action_labels(self.cfg.cell.action_space)),
                                seed=self.cfg.train.seed + a.seed, vision=self.cfg.vision)  # cameras: an image actor
        self.updates = 0
        if resume and self.ckpt_dir.exists() and any(self.ckpt_dir.iterdir()):
            from learner.checkpoint import load_checkpoint

            extra = load_checkpoint(self.ckpt_dir, self.agent)
            self.updates = self.agent.n_updates
            self.get_logger().info(f"resumed from checkpoint at {self.updates} updates")
        self.rng = np.random.default_rng(stream_seed(self.cfg.train.seed, "sampler"))
        if resume and "sampler_rng" in locals().get("extra", {}):
            self.rng.bit_generator.state = extra["sampler_rng"]
        self.paused = False
        self.state = WAITING_FOR_DATA
        self.rate = 0.0
        self.times = {"train_s": 0.0, "wait_s": 0.0}
        self.last_metrics: dict = {}
        self.blob: bytes | None = self.agent.export_actor()
        self.version = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.store = None
        self.weights_pub = self.create_publisher(T.POLICY_WEIGHTS.msg_type, T.POLICY_WEIGHTS.name,
                                                 T.POLICY_WEIGHTS.qos)
        self.publish_weights()
        self.on_events(self.on_event)
        self.create_timer(0.05, self.publish_weights)  # sends staged weights, if any
        if self.cfg.graph.accelerated:
            self.create_timer(0.05, self.publish_status)  # the cell's UTD gate reads our counter
        self.metrics_log = guarded(make_logger(self.cfg.train.logger, self.run_dir, "learner",
                                               project=self.cfg.train.wandb_project),
                                   self.get_logger().warning)
        self._sums: dict[str, float] = {}
        self._n_sums = 0
        if not self.cfg.graph.accelerated:
            self.yield_cpu(self.cfg.graph.learner_nice)
        self.thread = threading.Thread(target=self.train_loop, name="learner-train", daemon=True)
        self.thread.start()

    def yield_cpu(self, nice: int) -> None:
        """On the wall clock a step never waits for us: on a shared machine the control loop's
        nodes (and on the robot-twin, the simulated driver) must win the CPU."""
        now = os.getpriority(os.PRIO_PROCESS, 0)
        if nice > now:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        self.get_logger().info(f"niceness {os.getpriority(os.PRIO_PROCESS, 0)} (graph.learner_nice={nice}): "
                               "the control loop comes first")

    def status(self):
        return {"updates": self.updates, "updates_per_s": round(self.rate, 2), "policy_version": self.version,
                "paused": self.paused, "state": self.state,
                "rows_seen": self.store.n_rows if self.store is not None else 0,
                **{k: round(v, 3) for k, v in self.times.items()},
                **{k: round(float(v), 5) for k, v in self.last_metrics.items()}}

    def publish_weights(self):
        with self.lock:
            blob, self.blob = self.blob, None
        if blob is not None:
            self.version += 1
            self.weights_pub.publish(T.pack_weights(blob))

    def on_event(self, e: T.Event):
        if e.kind == T.EventKind.TRAINING_PAUSE:
            self.paused = True
        elif e.kind == T.EventKind.TRAINING_RESUME:
            self.paused = False

    # ------------------------------------------------------------ training thread
    def open_store(self):
        from learner.replay import ReplayStore

        path = self.run_dir / "replay.zarr"
        deadline = time.monotonic() + STORE_WAIT_S
        while not self.stop.is_set() and time.monotonic() < deadline:
            if (path / "zarr.json").exists():
                try:
                    return ReplayStore.open(path, readonly=True)
                except Exception as e:  # noqa: BLE001 - being created right now: retry
                    err = e
            time.sleep(0.2)
        raise RuntimeError(f"replay store {path} did not appear: {locals().get('err', 'timeout')}")

    def train_loop(self):
        if not self.cfg.graph.profile:
            return self._train_loop()
        import cProfile

        prof = cProfile.Profile()
        try:
            prof.runcall(self._train_loop)
        finally:
            prof.dump_stats(str(self.run_dir / "logs" / "learner-train.prof"))

    def _train_loop(self):
        from learner.checkpoint import save_checkpoint

        try:
            self.store = self.open_store()
        except Exception as e:  # noqa: BLE001
            self.state = "no_store"
            self.fault("learner cannot open the replay store", detail=str(e))
            return
        a, tr = self.cfg.agent, self.cfg.train
        last_refresh = last_weights = t_rate = time.monotonic()
        n_rate = 0
        while not self.stop.is_set():
            now = time.monotonic()
            if now - last_refresh > 0.2:
                self.store.refresh()
                last_refresh = now
            allowed = max(0, self.store.n_rows - a.warmup_rows)  # one update() per stored step
            if self.paused or self.updates >= allowed:
                self.state = "paused" if self.paused else WAITING_FOR_DATA
                time.sleep(0.005)
                self.times["wait_s"] += time.monotonic() - now
                continue
            try:
                metrics = train_step(self.agent, self.store, self.rng)
            except Exception as e:  # noqa: BLE001 - diverged or broken: stop, keep the last checkpoint
                self.state = "stopped"
                self.fault("training stopped", detail=f"{type(e).__name__}: {e}", updates=self.updates)
                return
            if metrics is None:  # the agent's subset is still empty (HG-DAgger before a takeover)
                if self.state != WAITING_FOR_SUBSET:
                    self.get_logger().info(f"{WAITING_FOR_SUBSET}: agent.algo={a.algo} trains on rows of its subset "
                                           f"{self.agent.sample_spec.get('subset')!r}; none is committed yet")
                self.state = WAITING_FOR_SUBSET
                time.sleep(0.05)
                self.times["wait_s"] += time.monotonic() - now
                continue
            self.state = "training"
            self.last_metrics = metrics
            self.times["train_s"] += time.monotonic() - now
            self.updates += 1
            n_rate += 1
            if now - t_rate > 1.0:
                self.rate, n_rate, t_rate = n_rate / (now - t_rate), 0, now
            if now - last_weights > tr.weights_every_s:
                with self.lock:
                    self.blob = self.agent.export_actor()
                last_weights = now
            if self.updates % tr.checkpoint_every == 0:
                self.checkpoint(save_checkpoint)
            self.log_metrics()

    def log_metrics(self):
        """Sum this update's metrics; every `train.log_every_updates` updates log their means."""
        if self.metrics_log.kind == "none":
            return
        for k, v in numbers(self.last_metrics).items():  # a non-number is skipped, never raised here
            self._sums[k] = self._sums.get(k, 0.0) + v
        self._n_sums += 1
        if self.updates % self.cfg.train.log_every_updates == 0:
            self.metrics_log.log({**{k: v / self._n_sums for k, v in self._sums.items()},
                                  "updates_per_s": self.rate, "policy_version": self.version,
                                  "rows": self.store.n_rows}, self.updates)
            self._sums, self._n_sums = {}, 0

    def extra(self) -> dict:
        return {"updates": self.updates, "sampler_rng": self.rng.bit_generator.state}

    def checkpoint(self, save_checkpoint):
        path = save_checkpoint(self.ckpt_dir, self.agent, self.extra())
        self.publish_event(T.EventKind.CHECKPOINT, path=str(path), updates=self.updates)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=30)
        if self.updates > 0 and self.state != "stopped":
            from learner.checkpoint import save_checkpoint

            save_checkpoint(self.ckpt_dir, self.agent, self.extra())
        if self.store is not None:
            self.store.close()
        self.metrics_log.close()
