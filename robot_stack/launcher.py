"""`rlif up`: one process per node from a profile, logs prefixed, health from heartbeats.

ROS 2 wheels bring no `ros2 launch`, so this is the project's launcher:
- nodes run as `python -m robot_stack.nodes NAME --ros-args -p run_dir:=D -p k:=v`; their output
  is prefixed `[name]` on our stdout and kept in `D/logs/NAME.log`;
- start order: every other node first, then (once each reports `ready` in its heartbeat, e.g.
  the actor holds weights) the clock owner (the cell), so no first step is lost or held;
- children get SIGTERM if the launcher dies (PR_SET_PDEATHSIG), so no node outlives it;
- `stop()` sends SIGINT, waits, then SIGTERM / SIGKILL; `poll()` reports a node that died.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

CLOCK_NODES = ("cell", "franka_bridge")  # own the control clock: started last, stopped first
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


@dataclass
class NodeSpec:
    name: str
    params: dict[str, object] = field(default_factory=dict)
    kind: str = ""  # node type in robot_stack.nodes.NODES; defaults to name

    def argv(self, run_dir: Path) -> list[str]:
        args = [sys.executable, "-m", "robot_stack.nodes", self.kind or self.name, "--ros-args",
                "-p", f"run_dir:={run_dir}"]
        for k, v in self.params.items():
            v = str(v).lower() if isinstance(v, bool) else v
            args += ["-p", f"{k}:={v}"]
        return args


class NodeProcess:
    def __init__(self, spec: NodeSpec, run_dir: Path, out: Callable[[str], None]):
        self.spec, self.out = spec, out
        log_dir = run_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        # 0600: node output may carry secrets (the supervisor prints its token link once)
        fd = os.open(log_dir / f"{spec.name}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.log: TextIO = os.fdopen(fd, "a", buffering=1)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(spec.argv(run_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True, bufsize=1, preexec_fn=_die_with_parent)
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.out(f"[{self.spec.name}] {line.rstrip()}")
        self.log.flush()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None


class Launcher:
    def __init__(self, run_dir: Path, nodes: list[NodeSpec], out: Callable[[str], None] | None = None):
        self.run_dir, self.nodes = Path(run_dir), nodes
        self.out = out or (lambda s: print(s, flush=True))
        self.procs: dict[str, NodeProcess] = {}
        self.stopping = False

    def start(self, monitor=None, ready_timeout_s: float = 90.0) -> None:
        first = [n for n in self.nodes if (n.kind or n.name) not in CLOCK_NODES]
        last = [n for n in self.nodes if (n.kind or n.name) in CLOCK_NODES]
        for spec in first:
            self.procs[spec.name] = NodeProcess(spec, self.run_dir, self.out)
        if monitor is not None and last:
            deadline = time.monotonic() + ready_timeout_s
            waiting = {n.name for n in first}
            while waiting and time.monotonic() < deadline:
                dead = self.poll()
                if dead:
                    raise RuntimeError(f"node {dead} exited during start-up (see {self.run_dir}/logs/{dead}.log)")
                status = monitor.snapshot()[0]
                waiting -= {n for n, s in status.items() if s.get("ready", True)}
                time.sleep(0.05)
            if waiting:
                status = monitor.snapshot()[0]
                why = {n: ("not ready" if n in status else "no heartbeat") for n in sorted(waiting)}
                raise RuntimeError(f"nodes not ready within {ready_timeout_s:.0f} s: {why} "
                                   f"(see {self.run_dir}/logs/)")
        for spec in last:
            self.procs[spec.name] = NodeProcess(spec, self.run_dir, self.out)

    def restart(self, name: str, **params) -> NodeProcess:
        """Start node `name` again (after it died or was killed), optionally with new parameters."""
        old = self.procs[name]
        if old.alive():
            raise RuntimeError(f"node {name} is still running (pid {old.pid})")
        old.reader.join(timeout=2)
        old.log.close()
        spec = NodeSpec(old.spec.name, {**old.spec.params, **params}, old.spec.kind)
        self.procs[name] = NodeProcess(spec, self.run_dir, self.out)
        return self.procs[name]

    def poll(self) -> str | None:
        """Name of a node that died (exited on its own), else None."""
        for name, p in self.procs.items():
            if not p.alive() and not self.stopping:
                return name
        return None

    def exit_codes(self) -> dict[str, int | None]:
        return {n: p.proc.poll() for n, p in self.procs.items()}

    def stop(self, timeout_s: float = 20.0, drain_s: float = 0.5) -> dict[str, int | None]:
        """Clean shutdown: the clock first (no new steps), a moment for in-flight messages (the
        last episode's end) to land, then the rest; SIGTERM / SIGKILL whoever does not stop."""
        self.stopping = True
        clock = [p for p in self.procs.values() if (p.spec.kind or p.spec.name) in CLOCK_NODES]
        rest = [p for p in self.procs.values() if p not in clock]
        for group in (clock, rest):
            for p in group:
                if p.alive():
                    p.proc.send_signal(signal.SIGINT)
            self._escalate(group, timeout_s)
            if group is clock and clock:
                time.sleep(drain_s)
        for p in clock + rest:
            p.reader.join(timeout=2)
            p.log.close()
        return self.exit_codes()

    def _escalate(self, procs: list[NodeProcess], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for sig in (signal.SIGTERM, signal.SIGKILL):
            while any(p.alive() for p in procs) and time.monotonic() < deadline:
                time.sleep(0.05)
            for p in procs:
                if p.alive():
                    self.out(f"[launcher] {p.spec.name} did not stop; sending {sig.name}")
                    p.proc.send_signal(sig)
            deadline = time.monotonic() + 5.0
        for p in procs:
            p.proc.wait(timeout=5)
