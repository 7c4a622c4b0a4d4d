"""`start_supervisor(...)`: everything a run's supervisor needs, in one call (ROS-free).

The graph's supervisor node only has to:

    sup = start_supervisor(run_dir, cfg.supervisor, publish_event=lambda k, d: node.publish_event(k, **d),
                           window=cfg.train.window, node_dead_s=cfg.graph.node_dead_s)
    # status msg  -> sup.state.on_status(topics.unpack_status(msg))
    # events msg  -> e = topics.unpack_event(msg); sup.state.on_event(e.kind, e.data)
    # observation -> sup.state.on_observation(o.episode, o.step, o.t)
    # command     -> sup.state.on_command(c.episode, c.step, int(c.source))
    # camera      -> sup.state.on_camera(encode_jpeg(rgb))   (or the JPEG bytes of a camera topic)
    ...
    sup.stop()

It issues the run's token (`<run-dir>/supervisor.token`, 0600), loads the metrics history the
run folder already has (a restarted supervisor keeps its charts), starts uvicorn in a thread
and prints the dashboard link with the token once (stdout).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from robot_stack.config import SupervisorConfig
from robot_stack.supervisor.app import create_app
from robot_stack.supervisor.metrics_file import read_metrics
from robot_stack.supervisor.server import SupervisorServer
from robot_stack.supervisor.state import PublishFn, SupervisorState
from robot_stack.supervisor.token import issue_token


@dataclass
class Supervisor:
    state: SupervisorState
    server: SupervisorServer
    token: str
    token_path: Path | None
    url: str  # base URL, e.g. http://127.0.0.1:8765

    @property
    def dashboard_link(self) -> str:
        return f"{self.url}/?token={self.token}"

    def stop(self) -> None:
        self.server.stop()


def start_supervisor(run_dir: Path | None, cfg: SupervisorConfig = SupervisorConfig(),
                     publish_event: PublishFn | None = None, *, window: int = 20, node_dead_s: float = 5.0,
                     announce: Callable[[str], None] | None = None) -> Supervisor:
    """Start a supervisor for a run; `publish_event=None` makes it read-only (no token file)."""
    state = SupervisorState(publish_event, window=window, history=cfg.history, node_dead_s=node_dead_s)
    if run_dir is not None:
        state.add_metrics(read_metrics(run_dir).rows)
    token, token_path = issue_token(run_dir if publish_event is not None else None)
    server = SupervisorServer(create_app(state, token, run_dir, cfg), cfg)
    url = server.start()
    sup = Supervisor(state, server, token, token_path, url)
    say = announce or (lambda line: print(line, flush=True))
    if publish_event is None:
        say(f"supervisor (read-only): {url}/")
    else:
        where = f" (token in {token_path})" if token_path else ""
        say(f"supervisor: {sup.dashboard_link}{where}")
    return sup


def encode_jpeg(rgb, quality: int = 80) -> bytes:
    """JPEG bytes of an HxWx3 uint8 RGB frame (e.g. `sim.cell.TwinCell.render()`)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


__all__ = ["Supervisor", "start_supervisor", "encode_jpeg"]
