"""`SupervisorState`: what the supervisor knows about the graph, ROS-free and thread-safe.

The ROS node (or a test, or `rlif serve`) feeds it; the web app only reads snapshots and asks it
to publish requests. Ingest (any thread):

- `on_status(dict)`: a node's JSON heartbeat `{"node": name, ...}` (age -> node health; the
  learner's `updates_per_s`, `updates`, `paused`, `policy_version`; the actor's `policy_version`;
  the cell's `episode`/`step` until observations arrive; the mux's `estop` as the initial sync);
- `on_event(kind, data)`: the `events` vocabulary (`topics.EventKind`): e-stop and clear,
  pause/resume, episode start/end (an `episode_end` becomes a metrics row), faults, weights;
- `on_observation(episode, step, t)`, `on_command(episode, step, source)` (who drives:
  source 0 "policy", 1 "operator", 2 "hold"; no command for `drive_stale_s`, or e-stop -> "hold");
- `on_camera(jpeg_bytes)`: the latest frame;
- `add_metrics(rows)`: rows from the run folder's metrics file (`metrics_file.read_metrics`);
  rows are keyed by episode, so the same episode from the file and from an event is kept once.
  Only the newest `history` rows are kept; a row no newer than one already dropped for that
  limit is not added again (a re-read file does not re-send its old rows with new seqs).
  Non-finite numbers anywhere in a row (nested values too) become null: the JSON stays valid.

Control (`request(kind, **data)` and the helpers `estop()`, `clear_estop()`, ...) publishes the
event through the injected `publish_event(kind, data)` first and only then changes the state
(e-stop shows as active at once, before the event comes back from the graph). Without a
`publish_event` the state is read-only: `request` raises `ReadOnlyError`.

Decisions: the top-level `estop` is driven by events (only an explicit `estop_clear` clears
it); a mux heartbeat only sets it before any e-stop event was seen (a supervisor started while
the cell is already stopped). Rolling rates are means over the last `window` metrics rows;
"autonomous success" counts episodes that succeeded with no intervention.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable

from robot_stack.events import EventKind
from robot_stack.launcher import CLOCK_NODES

PublishFn = Callable[[str, dict], None]
DRIVERS = {0: "policy", 1: "operator", 2: "hold"}
METRIC_KEYS = ("episode", "success", "interventions", "intervention_rate", "length", "autonomous",
               "updates_per_s", "wall_time")


PAUSE_CONFIRM_S = 5.0  # a pause/resume shows at once; the learner's heartbeat is believed once it
# agrees, or this long after the request (a learner that did not act shows its truth), s

class ReadOnlyError(RuntimeError):
    """A state-changing request on a state with no live graph (no `publish_event`)."""


class SupervisorState:
    def __init__(self, publish_event: PublishFn | None = None, *, window: int = 20,
                 history: int = 10000, node_dead_s: float = 5.0, drive_stale_s: float = 1.0,
                 recent_events: int = 30, clock: Callable[[], float] = time.monotonic):
        self._publish = publish_event
        self.window = max(1, int(window))
        self.node_dead_s = node_dead_s
        self.drive_stale_s = drive_stale_s
        self._clock = clock
        self._lock = threading.Lock()
        self._t0 = clock()
        self._wall0 = time.time()
        # live status
        self._episode: int | None = None
        self._step: int | None = None
        self._t: float | None = None
        self._source: int | None = None
        self._source_at: float | None = None
        self._estop = False
        self._estop_seen = False
        self._estop_reason = ""
        self._paused = False
        self._pause_req: tuple[bool, float] | None = None  # (asked, when): until the learner agrees
        self._updates_per_s = 0.0
        self._updates = 0
        self._policy_version: int | None = None
        self._nodes: dict[str, tuple[float, dict]] = {}
        self._events: deque[dict] = deque(maxlen=recent_events)
        self._faults = 0
        # metrics: rows in episode order; _n_added counts every row ever added (stream cursor)
        self._rows: deque[dict] = deque(maxlen=history)
        self._episodes: set[int] = set()
        self._dropped_upto: int | None = None  # highest episode dropped for the history limit
        self._n_added = 0
        # camera
        self._jpeg: bytes | None = None
        self._jpeg_seq = 0
        self._jpeg_at: float | None = None
        self._version = 0

    # ------------------------------------------------------------------ properties
    @property
    def read_only(self) -> bool:
        return self._publish is None

    @property
    def version(self) -> int:
        """Bumped on every change (cheap "anything new?" check for pollers)."""
        with self._lock:
            return self._version

    def _bump(self) -> None:  # caller holds the lock
        self._version += 1

    # ------------------------------------------------------------------ ingest
    def on_status(self, status: dict) -> None:
        node = status.get("node")
        if not isinstance(node, str) or not node:
            return
        with self._lock:
            self._nodes[node] = (self._clock(), dict(status))
            if node == "learner":
                self._updates_per_s = _num(status.get("updates_per_s"), self._updates_per_s)
                self._updates = int(_num(status.get("updates"), self._updates))
                if "paused" in status:  # a heartbeat sent before our request must not undo it
                    p, req = bool(status["paused"]), self._pause_req
                    if req is None or p == req[0] or self._clock() - req[1] > PAUSE_CONFIRM_S:
                        self._paused, self._pause_req = p, None
                if status.get("policy_version") is not None and self._policy_version is None:
                    self._policy_version = int(_num(status["policy_version"], -1))
            elif node == "actor" and status.get("policy_version") is not None:
                self._policy_version = int(_num(status["policy_version"], -1))
            elif node in CLOCK_NODES and self._t is None:  # no observations seen: the clock's word
                self._episode = _int_or(status.get("episode"), self._episode)
                self._step = _int_or(status.get("step"), self._step)
            elif node == "mux" and not self._estop_seen and "estop" in status:
                self._estop = bool(status["estop"])
            self._bump()

    def on_event(self, kind: str, data: dict | None = None) -> None:
        data = dict(data or {})
        with self._lock:
            self._events.append({"kind": kind, "age_ref": self._clock(), "data": _short(data)})
            self._apply(kind, data)
            self._bump()

    def _apply(self, kind: str, data: dict) -> None:  # caller holds the lock
        if kind == EventKind.ESTOP:
            self._estop, self._estop_seen = True, True
            self._estop_reason = str(data.get("reason", ""))
        elif kind == EventKind.ESTOP_CLEAR:
            self._estop, self._estop_seen, self._estop_reason = False, True, ""
        elif kind in (EventKind.TRAINING_PAUSE, EventKind.TRAINING_RESUME):
            self._paused = kind == EventKind.TRAINING_PAUSE
            self._pause_req = (self._paused, self._clock())
        elif kind == EventKind.EPISODE_START and "episode" in data:
            self._episode, self._step = int(_num(data["episode"], 0)), 0
        elif kind == EventKind.EPISODE_END and "episode" in data:
            self._add_row(self._row_from_end(data))
        elif kind == EventKind.WEIGHTS_LOADED and "version" in data:
            self._policy_version = int(_num(data["version"], -1))
        elif kind == EventKind.FAULT:
            self._faults += 1

    def on_observation(self, episode: int, step: int, t: float) -> None:
        with self._lock:
            self._episode, self._step, self._t = int(episode), int(step), float(t)
            self._bump()

    def on_command(self, episode: int, step: int, source: int) -> None:
        with self._lock:
            self._source, self._source_at = int(source), self._clock()
            if self._episode is None or int(episode) >= self._episode:
                self._episode, self._step = int(episode), int(step)
            self._bump()

    def on_camera(self, jpeg: bytes) -> None:
        with self._lock:
            self._jpeg, self._jpeg_at = bytes(jpeg), self._clock()
            self._jpeg_seq += 1
            self._bump()

    def add_metrics(self, rows: Iterable[dict]) -> int:
        """Add per-episode rows (see `metrics_file`); episodes already known are skipped."""
        n = 0
        with self._lock:
            for r in rows:
                n += self._add_row(dict(r))
            self._bump()
        return n

    def _row_from_end(self, d: dict) -> dict:  # caller holds the lock
        steps = int(_num(d.get("steps", d.get("length")), 0))
        interventions = int(_num(d.get("interventions"), 0))
        return {"episode": int(_num(d["episode"], 0)), "success": int(bool(d.get("success"))),
                "interventions": interventions,
                "intervention_rate": round(interventions / max(steps, 1), 4), "length": steps,
                "autonomous": int(interventions == 0), "updates_per_s": self._updates_per_s,
                "wall_time": round(time.time() - self._wall0, 3), "reason": str(d.get("reason", ""))}

    def _add_row(self, row: dict) -> int:  # caller holds the lock
        ep = row.get("episode")
        if not isinstance(ep, int) or isinstance(ep, bool) or ep in self._episodes:
            return 0
        if self._dropped_upto is not None and ep <= self._dropped_upto:
            return 0  # older than the kept history: it was shown once and dropped on purpose
        if len(self._rows) == self._rows.maxlen:
            old = self._rows[0]["episode"]
            self._episodes.discard(old)
            self._dropped_upto = old if self._dropped_upto is None else max(self._dropped_upto, old)
        self._episodes.add(ep)
        row = {str(k): _json_safe(v) for k, v in row.items()}
        self._rows.append({**row, "seq": self._n_added})  # NaN/inf -> null: the JSON stays valid
        self._n_added += 1
        return 1

    # ------------------------------------------------------------------ control
    def request(self, kind: str, **data: Any) -> None:
        """Publish `kind` on the events topic, then apply it here (raises `ReadOnlyError`)."""
        if self._publish is None:
            raise ReadOnlyError("no live graph: this supervisor only browses a run")
        data.setdefault("by", "supervisor")
        self._publish(kind, dict(data))
        if kind in (EventKind.ESTOP, EventKind.ESTOP_CLEAR, EventKind.TRAINING_PAUSE, EventKind.TRAINING_RESUME):
            with self._lock:  # shown at once; the recent-events list gets it when the graph echoes it
                self._apply(kind, data)
                self._bump()

    def estop(self, reason: str = "") -> None:
        self.request(EventKind.ESTOP, reason=reason or "supervisor e-stop")

    def clear_estop(self) -> None:
        self.request(EventKind.ESTOP_CLEAR)

    def pause_training(self) -> None:
        self.request(EventKind.TRAINING_PAUSE)

    def resume_training(self) -> None:
        self.request(EventKind.TRAINING_RESUME)

    def start_episode(self) -> None:
        self.request(EventKind.REQ_START)

    def mark_success(self) -> None:
        self.request(EventKind.REQ_SUCCESS, episode=self._episode)

    def abort_episode(self, reason: str = "") -> None:
        self.request(EventKind.REQ_ABORT, episode=self._episode, reason=reason or "supervisor abort")

    # ------------------------------------------------------------------ read
    def status(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            drives = "hold"  # e-stopped: the cell holds whatever commands say
            if (not self._estop and self._source is not None
                    and now - (self._source_at or now) <= self.drive_stale_s):
                drives = DRIVERS.get(self._source, "hold")
            last = list(self._rows)[-self.window:]
            return {
                "episode": self._episode, "step": self._step, "t": self._t, "drives": drives,
                "estop": self._estop, "estop_reason": self._estop_reason, "paused": self._paused,
                "read_only": self._publish is None, "window": self.window,
                "episodes": len(self._rows), "metrics_seq": self._n_added,
                "success_rate": _mean(r.get("success") for r in last),
                "autonomous_success_rate": _mean(_auto_success(r) for r in last),
                "intervention_rate": _mean(r.get("intervention_rate") for r in last),
                "updates_per_s": self._updates_per_s, "updates": self._updates,
                "policy_version": self._policy_version, "faults": self._faults,
                "nodes": {name: {"age_s": round(now - at, 3), "healthy": now - at < self.node_dead_s}
                          for name, (at, _) in sorted(self._nodes.items())},
                "camera": None if self._jpeg is None else
                {"seq": self._jpeg_seq, "age_s": round(now - (self._jpeg_at or now), 3)},
                "events": [{"kind": e["kind"], "age_s": round(now - e["age_ref"], 3), "data": e["data"]}
                           for e in reversed(self._events)],
                "uptime_s": round(now - self._t0, 3),
            }

    def node_status(self, node: str) -> dict | None:
        with self._lock:
            got = self._nodes.get(node)
            return dict(got[1]) if got else None

    def metrics(self, since: int = 0, limit: int | None = None) -> list[dict]:
        """Rows with `seq >= since` (seq counts rows as they were added), oldest first."""
        with self._lock:
            rows = [dict(r) for r in self._rows if r["seq"] >= since]
        return rows[:limit] if limit is not None else rows

    def camera(self) -> tuple[bytes, int] | None:
        with self._lock:
            return None if self._jpeg is None else (self._jpeg, self._jpeg_seq)


def _num(x: Any, default: float) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def _int_or(x: Any, default: int | None) -> int | None:
    v = _num(x, float("nan"))
    return int(v) if math.isfinite(v) else default


def _mean(xs: Iterable[Any]) -> float | None:
    vals = [float(x) for x in xs if isinstance(x, (int, float))]
    return round(sum(vals) / len(vals), 4) if vals else None


def _auto_success(r: dict) -> int:
    return int(bool(r.get("success")) and bool(r.get("autonomous", r.get("interventions") == 0)))


def _json_safe(v: Any, depth: int = 0) -> Any:
    """`v` with every non-finite float (nested too) as None, nesting cut at 16 levels, and
    anything that is not JSON data as its str(): what strict JSON (and a browser) accepts."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if v is None or isinstance(v, (str, int, bool)):
        return v
    if depth >= 16:
        return None
    if isinstance(v, dict):
        return {str(k): _json_safe(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x, depth + 1) for x in v]
    return str(v)


def _short(data: dict) -> dict:
    """Event data for the recent-events list: scalars only (no observation arrays)."""
    return {k: v for k, v in data.items()
            if isinstance(v, (str, int, bool)) or v is None or (isinstance(v, float) and math.isfinite(v))}
