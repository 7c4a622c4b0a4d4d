"""A running graph: config resolved and saved, monitor up, nodes launched; stops cleanly.

Shared by `rlif up` (until Ctrl-C) and `rlif train` (until N episodes). SIGINT and SIGTERM
both lead to the same clean stop; a node that dies ends the session with its name.
"""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Callable

from robot_stack import config as cfgmod
from robot_stack.launcher import CLOCK_NODES, Launcher
from robot_stack.monitor import GraphMonitor
from robot_stack.plan import plan_nodes, process_env


class Interrupted(Exception):
    pass


def prepare_run(profile: str, sets: list[str], run_dir: Path, resume: bool) -> tuple[dict, cfgmod.RunConfig]:
    """Resolve (or, on resume, reload) the config; save it in the run folder. A new run needs a
    new or empty folder: any existing file in it (a report, metrics, checkpoints) is refused."""
    cfg_path = run_dir / "config.yaml"
    if resume:
        if not cfg_path.exists():
            raise cfgmod.ConfigError(f"--resume: {cfg_path} not found (is {run_dir} a run folder?)")
        cfg = cfgmod.load_saved(cfg_path)
        if sets:  # only the run length may change on resume; anything else would mix two configs
            over = cfgmod.parse_set(sets)
            if set(over) - {"train"}:
                raise cfgmod.ConfigError("--resume keeps the saved config; only train.* may be --set")
            cfg = cfgmod.merge(cfg, over).validate()
        prof = cfgmod.load_profile(cfg.profile)
    else:
        if cfg_path.exists():
            raise cfgmod.ConfigError(f"{run_dir} already holds a run; use --resume or another --run-dir")
        if run_dir.is_dir() and any(run_dir.iterdir()):  # another folder's files would be overwritten
            raise cfgmod.ConfigError(f"{run_dir} exists and is not empty (not a run folder: no config.yaml); "
                                     "nothing was written: pass a new or empty --run-dir")
        prof = cfgmod.load_profile(profile)
        cfg = cfgmod.resolve(profile, sets)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfgmod.save(cfg, cfg_path)
    return prof, cfg


class GraphSession:
    def __init__(self, prof: dict, cfg: cfgmod.RunConfig, run_dir: Path, operator: str | None,
                 resume: bool, max_episodes: int = 0, out: Callable[[str], None] | None = None,
                 on_event=None, serve: bool = False, port: int | None = None):
        self.cfg, self.run_dir = cfg, run_dir
        self.specs = plan_nodes(prof, cfg, run_dir, operator, resume, max_episodes, serve, port)
        self.monitor = GraphMonitor(on_event=on_event)
        self.launcher = Launcher(run_dir, self.specs, out, env=process_env(cfg))
        self._old = {}

    def __enter__(self) -> "GraphSession":
        def _interrupt(signum, frame):  # noqa: ARG001
            raise Interrupted(signal.Signals(signum).name)

        for s in (signal.SIGINT, signal.SIGTERM):
            self._old[s] = signal.signal(s, _interrupt)
        try:
            self.launcher.start(self.monitor)
        except BaseException:
            self.close()
            raise
        return self

    def wait(self, done: Callable[[], bool], every_s: float = 0.2, tick: Callable[[], None] | None = None) -> str:
        """Block until `done()` ("done"), a node dies ("died:NAME") or a signal ("interrupted")."""
        try:
            while True:
                dead = self.launcher.poll()
                if dead:
                    return f"died:{dead}"
                if done():
                    return "done"
                if tick:
                    tick()
                time.sleep(every_s)
        except Interrupted as e:
            self.launcher.out(f"[launcher] {e}: stopping")
            return "interrupted"

    def clock_episodes(self) -> int:
        """Episodes the clock node (the twin's cell or the Franka bridge) has ended, from its
        heartbeat: the stop conditions' fallback should an episode_end event be missed."""
        names = {n.name for p in self.launcher.processes for n in p.nodes() if (n.kind or n.name) in CLOCK_NODES}
        status = self.monitor.snapshot()[0]
        return max((status[n]["episodes"] for n in names if n in status), default=0)

    def close(self) -> dict:
        codes = self.launcher.stop()
        self.monitor.close()
        for s, h in self._old.items():
            signal.signal(s, h)
        return codes

    def __exit__(self, *exc) -> None:
        self.close()
