"""`SupervisorServer`: uvicorn in a background thread, with `start()` (waits until it listens)
and a clean `stop()` (open event streams end, the port is released, the thread joins).

`cfg.port = 0` binds a free port (tests); `server.port` / `server.url` tell which. A host that
is not loopback is warned about loudly on stderr: anyone who can reach it can read the status,
and anyone holding the token can move the robot. HTTP is parsed by h11 with the request line and
headers bounded to MAX_HEAD_BYTES (over it: 400, connection closed), so a client cannot make the
process buffer an endless header.
"""
from __future__ import annotations

import sys
import threading
import time

import uvicorn
from fastapi import FastAPI

from robot_stack.config import SupervisorConfig
from robot_stack.supervisor.hosts import is_loopback

MAX_HEAD_BYTES = 64 * 1024  # request line + headers; browsers send a few KB


def warn_if_exposed(host: str, stream=None) -> bool:
    """Print a loud warning when `host` is not loopback; True when it warned."""
    if is_loopback(host):
        return False
    stream = stream or sys.stderr
    bar = "!" * 78
    print(f"{bar}\n!! WARNING: the supervisor listens on {host}, not on loopback.\n"
          "!! Anyone on this network can watch the run; anyone with the token can e-stop, abort,\n"
          "!! start episodes and pause training. Bind 127.0.0.1 and use an SSH tunnel instead\n"
          f"!! (ssh -L 8765:127.0.0.1:8765 robot-pc) unless you really mean it.\n{bar}",
          file=stream, flush=True)
    return True


class SupervisorServer:
    def __init__(self, app: FastAPI, cfg: SupervisorConfig = SupervisorConfig(), log_level: str = "warning"):
        self.app = app
        self.cfg = cfg
        self._config = uvicorn.Config(app, host=cfg.host, port=cfg.port, log_level=log_level,
                                      access_log=False, lifespan="off", ws="none", http="h11",
                                      h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                                      timeout_graceful_shutdown=2, timeout_keep_alive=5)
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        host = self.cfg.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        """Start serving; returns the base URL. Raises RuntimeError if it cannot listen."""
        warn_if_exposed(self.cfg.host)
        self._thread = threading.Thread(target=self._run, name="supervisor-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                why = f"{type(self._error).__name__}: {self._error}" if self._error else "it did not start in time"
                raise RuntimeError(f"supervisor could not listen on {self.cfg.host}:{self.cfg.port}: {why}")
            time.sleep(0.01)
        sock = self._server.servers[0].sockets[0]
        self.port = sock.getsockname()[1]
        return self.url

    def _run(self) -> None:
        try:
            self._server.run()
        except BaseException as e:  # noqa: BLE001 - reported by start()
            self._error = e

    def stop(self, timeout: float = 5.0) -> None:
        self.app.state.stopping.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout)

    def __enter__(self) -> "SupervisorServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
