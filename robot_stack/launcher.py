"""`rlif up`: the node processes of a profile, logs prefixed, health from heartbeats.

ROS 2 wheels bring no `ros2 launch`, so this is the project's launcher:
- a node runs as `python -m robot_stack.nodes NAME --ros-args -p run_dir:=D -p k:=v`; its output
  is prefixed `[name]` on our stdout and kept in `D/logs/NAME.log`;
- nodes that share a `group` (the twin's control loop) run as one composed process, in one
  executor: `python -m robot_stack.nodes cell+actor+... --ros-args -p run_dir:=D --params-file
  D/logs/GROUP.params.yaml` (per-node parameters in ROS 2's params-file format); its ROS log lines
  go to the member's prefix and log by logger name, anything else to the group's;
- start order: every other node first, then (once each reports `ready` in its heartbeat, e.g.
  the actor holds weights) the clock owner (the cell), so no first step is lost or held;
- children get SIGTERM if the launcher dies (PR_SET_PDEATHSIG), so no node outlives it;
- `stop()` sends SIGINT, waits, then SIGTERM / SIGKILL; `poll()` reports a node that died.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
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
    """A graph node, or (`members`) a composed process of several; `processes()` builds those."""

    name: str
    params: dict[str, object] = field(default_factory=dict)
    kind: str = ""  # node type in robot_stack.nodes.NODES; defaults to name
    group: str = ""  # nodes with the same group run in one process of that name
    executor: str = ""  # "events" (rclpy's EventsExecutor) or "" (SingleThreadedExecutor)
    members: list["NodeSpec"] = field(default_factory=list)  # a composed process: these nodes, in this order

    def nodes(self) -> list["NodeSpec"]:
        """The graph nodes this process runs (itself, or its members)."""
        return list(self.members) or [self]

    def node_names(self) -> list[str]:
        return [n.name for n in self.nodes()]

    def is_clock(self) -> bool:
        return any((n.kind or n.name) in CLOCK_NODES for n in self.nodes())

    def argv(self, run_dir: Path) -> list[str]:
        what = "+".join(n.kind or n.name for n in self.members) if self.members else self.kind or self.name
        args = [sys.executable, "-m", "robot_stack.nodes", what]
        if self.executor:
            args += ["--executor", self.executor]
        args += ["--ros-args", "-p", f"run_dir:={run_dir}"]
        if self.members:
            return args + ["--params-file", str(self.write_params(run_dir))]
        for k, v in self.params.items():
            v = str(v).lower() if isinstance(v, bool) else v
            args += ["-p", f"{k}:={v}"]
        return args

    def write_params(self, run_dir: Path) -> Path:
        """Members' parameters as a ROS 2 params file (JSON is YAML: values keep their types)."""
        path = run_dir / "logs" / f"{self.name}.params.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {m.name: {"ros__parameters": dict(m.params)} for m in self.members if m.params}
        path.write_text(json.dumps(body or {"/**": {"ros__parameters": {}}}, indent=1) + "\n")
        return path


ROS_LOG_LINE = re.compile(r"^\[[A-Z]+\] \[[0-9.]+\] \[([^\]]+)\]")  # [LEVEL] [stamp] [logger]: text


def _open_log(path: Path) -> TextIO:
    # 0600: node output may carry secrets (the supervisor prints its token link once)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return os.fdopen(fd, "a", buffering=1)


def processes(nodes: list[NodeSpec]) -> list[NodeSpec]:
    """One spec per OS process: a node of its own, or its group's composed process (members in
    the order given), at the position of its first member."""
    out: list[NodeSpec] = []
    groups: dict[str, NodeSpec] = {}
    for n in nodes:
        if not n.group:
            out.append(n)
        elif n.group in groups:
            groups[n.group].members.append(n)
        else:
            groups[n.group] = NodeSpec(n.group, executor=n.executor, members=[n])
            out.append(groups[n.group])
    return out


class NodeProcess:
    def __init__(self, spec: NodeSpec, run_dir: Path, out: Callable[[str], None], env: dict[str, str] | None = None):
        self.spec, self.out = spec, out
        log_dir = run_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log: TextIO = _open_log(log_dir / f"{spec.name}.log")
        self.member_logs = {m.name: _open_log(log_dir / f"{m.name}.log") for m in spec.members}
        env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(spec.argv(run_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True, bufsize=1, preexec_fn=_die_with_parent)
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self):
        for line in self.proc.stdout:
            m = ROS_LOG_LINE.match(line) if self.member_logs else None
            who = m.group(1) if m and m.group(1) in self.member_logs else self.spec.name
            (self.member_logs.get(who) or self.log).write(line)
            self.out(f"[{who}] {line.rstrip()}")
        self.log.flush()

    def close_logs(self) -> None:
        for f in (self.log, *self.member_logs.values()):
            f.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None


class Launcher:
    def __init__(self, run_dir: Path, nodes: list[NodeSpec], out: Callable[[str], None] | None = None,
                 env: dict[str, str] | None = None):
        self.run_dir, self.nodes = Path(run_dir), nodes
        self.env = dict(env or {})  # set in every node process's environment (over ours)
        self.processes = processes(nodes)
        self.out = out or (lambda s: print(s, flush=True))
        self.procs: dict[str, NodeProcess] = {}
        self.stopping = False

    def start(self, monitor=None, ready_timeout_s: float = 90.0) -> None:
        first = [n for n in self.processes if not n.is_clock()]
        last = [n for n in self.processes if n.is_clock()]
        for spec in first:
            self.procs[spec.name] = NodeProcess(spec, self.run_dir, self.out, self.env)
        if monitor is not None and last:
            deadline = time.monotonic() + ready_timeout_s
            waiting = {name for n in first for name in n.node_names()}
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
            self.procs[spec.name] = NodeProcess(spec, self.run_dir, self.out, self.env)

    def restart(self, name: str, **params) -> NodeProcess:
        """Start process `name` again (after it died or was killed), optionally with new
        parameters (a single-node process only)."""
        old = self.procs[name]
        if old.alive():
            raise RuntimeError(f"node {name} is still running (pid {old.pid})")
        if params and old.spec.members:
            raise ValueError(f"process {name} runs {old.spec.node_names()}: restart it without parameters")
        old.reader.join(timeout=2)
        old.close_logs()
        spec = NodeSpec(old.spec.name, {**old.spec.params, **params}, old.spec.kind, old.spec.group,
                        old.spec.executor, old.spec.members)
        self.procs[name] = NodeProcess(spec, self.run_dir, self.out, self.env)
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
        clock = [p for p in self.procs.values() if p.spec.is_clock()]
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
            p.close_logs()
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
