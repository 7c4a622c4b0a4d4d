"""`plan(path)` / `apply(path, plan)`: put a damaged replay store back into a state a writer accepts.

What it fixes: counters that disagree with the data (a counter below or above what the episode
table and the rows hold) and chunks that are missing (stores with `dense_chunks`) or do not
decode. The plan keeps the longest prefix of episodes that is sound: contiguous in the episode
table, every row of it present and readable, and the rows' own `episode` / `step` columns
agreeing with the table. Its counters become that prefix (which may be MORE than the old
counters said: a counter set too low hides whole episodes, and they come back), and everything
beyond it is cut. `apply` takes the writer lock, copies the whole store to
`<store>.backup-<UTC time>` first, then writes the counters (one atomic zarr.json write) and cuts
the arrays. Nothing else is rewritten; other invariants (`rlif store verify`) are not its job.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learner.replay import StoreError
from learner.replay_schema import REQUIRED_ATTRS, SCHEMA, SCHEMA_VERSION, counter_problem
from learner.replay_disk import _run, chunk_problems, cut_back, lock, open_arrays, read_attrs, readable_rows
from learner.replay_verify import specs


@dataclass
class Plan:
    path: Path
    rows: int  # counters now
    episodes: int
    new_rows: int  # counters after the repair
    new_episodes: int
    problems: list[str] = field(default_factory=list)  # what is wrong now (empty: nothing to repair)
    cut: list[str] = field(default_factory=list)  # what the repair removes, in words

    @property
    def needed(self) -> bool:
        return bool(self.problems)

    def lines(self) -> list[str]:
        if not self.needed:
            return [f"{self.path}: nothing to repair ({self.rows} rows, {self.episodes} episodes; "
                    "counters agree with the data, every chunk reads)"]
        out = [f"problem: {p}" for p in self.problems]
        out.append(f"repair: set the counters from {self.rows} rows / {self.episodes} episodes to "
                   f"{self.new_rows} rows / {self.new_episodes} episodes (the sound episodes from the start)")
        gained = self.new_rows - self.rows
        if gained > 0:
            out.append(f"repair: {gained} rows the old counters hid come back")
        out += [f"cut: {c}" for c in self.cut] or ["cut: nothing"]
        return out


def plan(path) -> Plan:
    """What a repair would do (under the writer lock: refused while a writer has the store)."""
    path = Path(path)
    read_attrs(path, SCHEMA, SCHEMA_VERSION, REQUIRED_ATTRS)  # not a store at all: say so first
    fd = lock(path)
    try:
        return _plan(path)
    finally:
        os.close(fd)


def _plan(path: Path) -> Plan:
    attrs = read_attrs(path, SCHEMA, SCHEMA_VERSION, REQUIRED_ATTRS)
    n, e = attrs["n_committed_rows"], attrs["n_committed_episodes"]
    dense = bool(attrs.get("dense_chunks"))
    _, arrays = open_arrays(path, specs(attrs), {"rows": 0, "episodes": 0}, readonly=True)
    shape = {g: min(a.shape[0] for k, a in arrays.items() if k.startswith(g + "/")) for g in ("rows", "episodes")}
    problems = []
    if n > shape["rows"] or e > shape["episodes"]:
        problems.append(f"the counters ({n} rows, {e} episodes) exceed the arrays ({shape['rows']} rows, "
                        f"{shape['episodes']} episodes)")
    else:
        problems += chunk_problems(path, arrays, {"rows": n, "episodes": e}, dense)
    ok = readable_rows(path, arrays, shape, dense)
    cols = dict(zip(("start", "length", "episode", "step"), _run([
        arrays["episodes/start"].async_array.getitem(slice(0, ok["episodes"])),
        arrays["episodes/length"].async_array.getitem(slice(0, ok["episodes"])),
        arrays["rows/episode"].async_array.getitem(slice(0, ok["rows"])),
        arrays["rows/step"].async_array.getitem(slice(0, ok["rows"]))])))
    if not problems and e <= ok["episodes"]:
        why = counter_problem(cols["start"][:e], cols["length"][:e], n)
        problems += [why] if why else []
    k, rows = _sound_prefix(cols, ok["rows"])
    p = Plan(path, n, e, rows, k, problems)
    if problems:
        if rows < n or k < e:
            p.cut.append(f"committed data past row {rows} / episode {k} ({max(0, n - rows)} rows, "
                         f"{max(0, e - k)} episodes), which is damaged or does not agree with the episode table")
        if shape["rows"] > max(rows, n) or shape["episodes"] > max(k, e):
            p.cut.append(f"uncommitted space past the counters ({shape['rows'] - rows} rows, "
                         f"{shape['episodes'] - k} episode entries)")
    return p


def _sound_prefix(cols: dict[str, np.ndarray], n_rows: int) -> tuple[int, int]:
    """(episodes, rows) of the longest prefix whose table entries chain from row 0 and whose rows
    say the same (episode id, steps 0..length-1), within the readable rows."""
    start, length = cols["start"].astype(np.int64), cols["length"].astype(np.int64)
    ep, step = cols["episode"], cols["step"]
    k = pos = 0
    while k < len(start):
        ln = int(length[k])
        if ln < 1 or int(start[k]) != pos or pos + ln > n_rows:
            break
        if (ep[pos:pos + ln] != k).any() or (step[pos:pos + ln] != np.arange(ln)).any():
            break
        pos, k = pos + ln, k + 1
    return k, pos


def apply(path, expected: Plan) -> Path:
    """Back the store up, then apply `expected` (re-planned under the writer lock: it must not have
    changed meanwhile). Returns the backup folder."""
    path = Path(path)
    fd = lock(path)
    try:
        now = _plan(path)
        if (now.new_rows, now.new_episodes, now.rows, now.episodes) != (
                expected.new_rows, expected.new_episodes, expected.rows, expected.episodes):
            raise StoreError(f"{path}: changed since the plan was shown; run `rlif store repair` again")
        backup = path.with_name(f"{path.name}.backup-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}")
        shutil.copytree(path, backup)
        attrs = read_attrs(path, SCHEMA, SCHEMA_VERSION, REQUIRED_ATTRS)
        root, arrays = open_arrays(path, specs(attrs), {"rows": 0, "episodes": 0}, readonly=False)
        root.update_attributes({"n_committed_rows": now.new_rows, "n_committed_episodes": now.new_episodes})
        cut_back(path, arrays, {"rows": now.new_rows, "episodes": now.new_episodes})
        return backup
    finally:
        os.close(fd)
