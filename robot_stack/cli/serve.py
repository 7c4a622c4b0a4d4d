"""`rlif serve --run-dir D [--host H] [--port P]`: browse a run's metrics in the dashboard.

Read-only: the state is filled from the run folder's `metrics.csv` / `metrics.jsonl` (contract
in `robot_stack/supervisor/metrics_file.py`) and re-read every `--poll` seconds when the file
grows, so a run that is still going updates too. There is no live graph, so state-changing
calls answer 409 "no live graph" and the dashboard's buttons are disabled; no token file is
written (the run's own `supervisor.token` belongs to its live supervisor). Host, port and the
rolling window come from the run's `config.yaml` (`supervisor.*`, `train.window`) when present,
else the defaults; the options override them. Ctrl-C stops it.
"""
from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import time
from pathlib import Path

from robot_stack.cli.common import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="browse a run's metrics in the web dashboard (read-only)")
    p.add_argument("--run-dir", type=Path, required=True, help="run folder with metrics.csv (or metrics.jsonl)")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1; others are warned about)")
    p.add_argument("--port", type=int, default=None, help="TCP port (default 8765; 0 = any free port)")
    p.add_argument("--poll", type=float, default=2.0, help="re-read the metrics file this often, s")
    p.set_defaults(func=run)


def run_config(run_dir: Path, host: str | None, port: int | None):
    """The run's saved config (defaults when it has none) with --host / --port applied."""
    from robot_stack import config as cfgmod

    saved = run_dir / "config.yaml"
    cfg = cfgmod.load_saved(saved) if saved.exists() else cfgmod.RunConfig()
    sup = cfg.supervisor
    if host is not None:
        sup = dataclasses.replace(sup, host=host)
    if port is not None:
        if not 0 <= port < 65536:
            raise CliError(f"--port {port}: must be 0-65535", code=2)
        sup = dataclasses.replace(sup, port=port)
    return dataclasses.replace(cfg, supervisor=sup)


def run(args: argparse.Namespace) -> int:
    from robot_stack.supervisor.live import start_supervisor
    from robot_stack.supervisor.metrics_file import metrics_path, read_metrics

    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise CliError(f"--run-dir {run_dir}: no such folder", code=2)
    cfg = run_config(run_dir, args.host, args.port)
    got = read_metrics(run_dir)
    note = f" ({got.skipped} unreadable rows skipped)" if got.skipped else ""
    print(f"rlif serve: {len(got.rows)} episodes from {got.path or f'no metrics file yet in {run_dir}'}{note}",
          file=sys.stderr)
    _stop_on_signals()  # before the URL is printed: a client may signal as soon as it reads it
    sup = None
    try:
        try:
            sup = start_supervisor(run_dir, cfg.supervisor, None, window=cfg.train.window,
                                   node_dead_s=cfg.graph.node_dead_s)
        except RuntimeError as e:
            raise CliError(str(e)) from None
        seen = _stamp(metrics_path(run_dir))
        while True:
            time.sleep(max(args.poll, 0.1))
            stamp = _stamp(metrics_path(run_dir))
            if stamp != seen:
                seen = stamp
                sup.state.add_metrics(read_metrics(run_dir).rows)
    except KeyboardInterrupt:
        pass
    finally:
        if sup is not None:  # (the HTTP thread is a daemon: a stop during start-up leaves nothing)
            sup.stop()
    return 0


def _stop_on_signals() -> None:
    """SIGINT (Ctrl-C) and SIGTERM end the loop cleanly, also when the command was started in the
    background of a script: a non-interactive shell starts background jobs with SIGINT ignored."""
    def _raise(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise)


def _stamp(path: Path | None) -> tuple | None:
    try:
        st = path.stat() if path else None
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if st else None
