"""The replay store: writes and reads every step on disk (docs/architecture.md "Data path").

The layout on disk (zarr v3, columns, root attrs, counters) is `learner.replay_schema`.

Only rows below `n_committed_rows` (and episodes below `n_committed_episodes`) exist; arrays
may be longer (they grow a chunk at a time, ahead of the counters). Decisions:
- Write-behind: `append` writes into the RAM mirror only; `end_episode` commits the episode in
  RAM and, by default (`ReplayConfig.flush_interval_s = 0`), writes it through to zarr: row
  and episode data first, then the counters in one atomic write of the root zarr.json (zarr's
  LocalStore writes every file to a temp name and renames it). A kill -9 therefore loses at
  most the episode in flight; `open` cuts arrays back to the counters (that uncommitted tail
  only). With an interval > 0, committed episodes reach disk in batches (bulk import,
  benchmarks). A write that fails (disk full, ...) leaves the episode uncommitted, in flight.
- Nothing committed is ever deleted on open. A writer refuses a store whose counters disagree
  with its episode table (a counter below the data), whose chunk files are missing (dense
  stores) or do not decode, or that it cannot write to (read-only filesystem); the error names
  `rlif store repair` (learner/replay_repair.py), which explains a fix and keeps a backup.
- `create` builds the store under a temp name and renames it: it appears complete or not at all.
- `episode` column = the store's own episode index (position in the episodes table).
- `expert_action` (float32, NaN where there is no label): the simulated expert labels every
  visited state, so DAgger trains from the same store; on the real robot it stays NaN.
  `policy_action` is NaN where the policy did not answer in time.
- next_obs is derived, not stored: row i+1 of the same episode, and for an episode's last row
  the episode's `final_obs` (if the caller gave none or a non-finite one, the last obs
  itself: harmless for a terminal step, whose mask is 0; a slight bias for a truncation).
- Rewards are never stored: learner.labeling computes them once per committed episode into
  RAM-only columns, so `sample` is a gather.
- One writer at a time (flock on the store directory); any number of readonly readers, which
  see new committed rows on `refresh()` and trust only the counters. A store object is not
  thread-safe. Durability is against process death (kill -9), not power loss (no fsync).

API: `ReplayStore.create(path, obs_labels, action_labels, *, config=None, images=None, **meta)`,
`ReplayStore.open(path, readonly=False, *, config=None)`, `append(obs, action, policy_action,
source, intervening, t=None, expert_action=None, images=None)` (t None = wall clock; images =
{camera: uint8 frame}, required exactly when the store has cameras), `end_episode(terminal,
success, truncated=False, final_obs=None, final_images=None, operator=, cell=, aborted=, demo=)
-> episode index`,
`discard_episode()`, `flush()`, `refresh()`, `close()` / context manager; `n_rows`, `n_episodes`
(committed), `n_pending`, `episodes` (dict of numpy columns, EPISODE_COLUMNS with operator/cell
decoded to str), `column(name)` (committed rows of a row column), `obs_labels`, `action_labels`,
`meta`. `sample(batch_size, rng, reward="rlif"|"task"|"rlif+task", symmetric=False,
subset="all"|"policy"|"operator"|"expert_labeled")` -> {obs, action, next_obs, policy_action,
expert_action: float32 (B, D); reward, mask (0 on terminal rows, except force aborts: see
labeling), done (terminal or truncated): float32 (B,); intervening: bool; source: uint8; index: int64 row;
with cameras also image_<camera> and next_image_<camera>: uint8 (B, H, W, C)}. symmetric: first half from
the prior set (source HUMAN or demo episode), second half from the rest, all from one set when
the other is empty; subsets as in learner.labeling.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from learner import replay_images as RI
from learner.config import ReplayConfig
from learner.replay_disk import (StoreError, chunk_problems, create_arrays, cut_back, lock,  # noqa: F401
                                 open_arrays, probe_writable, read_attrs, read_columns, write_columns)
from learner.replay_ram import Columns, Pools
from learner.replay_sample import Sampler
from learner.replay_schema import (DERIVED, EPISODE_META, REQUIRED_ATTRS, SCHEMA, SCHEMA_VERSION, SPECS,
                                   counter_problem)
from sim.contract import Source  # noqa: F401  (the store's `source` codes; the contract is its home)


class ReplayStore(Sampler):
    """See the module docstring. Use `create` / `open`, not the constructor."""

    @classmethod
    def create(cls, path, obs_labels, action_labels, *, config: ReplayConfig | None = None,
               images: dict | None = None, **meta: Any) -> "ReplayStore":
        import zarr

        path, cfg = Path(path), config or ReplayConfig()
        cfg.validate()
        try:
            images = RI.normalise(images, f"{path}: images")
        except ValueError as e:
            raise StoreError(str(e)) from None
        if path.exists():
            raise StoreError(f"{path}: already exists (open it with ReplayStore.open)")
        try:
            json.dumps(meta)
        except TypeError as e:
            raise StoreError(f"{path}: meta must be JSON-serialisable ({e})") from None
        obs_labels, action_labels = [str(x) for x in obs_labels], [str(x) for x in action_labels]
        for kind, labels in (("obs_labels", obs_labels), ("action_labels", action_labels)):
            if not labels or len(set(labels)) != len(labels) or not all(labels):
                raise StoreError(f"{path}: {kind} must be non-empty, unique, non-empty strings: {labels}")
        # Built under a temp name, then renamed: a store appears complete or not at all.
        tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
        root = zarr.open_group(str(tmp), mode="w-", zarr_format=3)
        fixed = {**{f"rows/{k}": cfg.image_chunk_rows for k in RI.row_columns(images)},
                 **{f"episodes/{k}": RI.FINAL_CHUNK_EPISODES for k in RI.episode_columns(images)}}
        create_arrays(root, SPECS(len(obs_labels), len(action_labels), images),
                      {"rows": cfg.chunk_rows, "episodes": cfg.chunk_episodes}, fixed)
        root.update_attributes({"images": {cam: list(shape) for cam, shape in images.items()},"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "obs_labels": obs_labels,
                                "action_labels": action_labels, "chunk_rows": cfg.chunk_rows, "meta": meta,
                                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "operators": [], "cells": [], "n_committed_rows": 0, "n_committed_episodes": 0,
                                "dense_chunks": True})
        try:
            os.rename(tmp, path)  # atomic; fails if another process created `path` meanwhile
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(f"{path}: cannot create ({e.strerror}; created by another process?)") from None
        return cls(path, readonly=False, config=cfg)

    @classmethod
    def open(cls, path, readonly: bool = False, *, config: ReplayConfig | None = None) -> "ReplayStore":
        return cls(Path(path), readonly=readonly, config=config)

    def __init__(self, path: Path, readonly: bool, config: ReplayConfig | None):
        self.path, self.readonly = Path(path), readonly
        self.cfg = config or ReplayConfig()
        self._lock_fd: int | None = None
        if not (self.path / "zarr.json").is_file():
            raise StoreError(f"{self.path}: not a replay store (no zarr.json)")
        if not readonly:
            self._lock_fd = lock(self.path)
        try:
            if not readonly:
                probe_writable(self.path)
            attrs = self._read_attrs()
            self.obs_labels, self.action_labels = list(attrs["obs_labels"]), list(attrs["action_labels"])
            try:
                self.images = RI.normalise(attrs.get("images") or {}, f"{self.path}: damaged metadata: images")
            except ValueError as e:
                raise StoreError(str(e)) from None
            self._specs = SPECS(len(self.obs_labels), len(self.action_labels), self.images)
            self._arrays = self._open_arrays(attrs)
            self.meta = attrs.get("meta", {})
            self.rows = Columns({**self._specs["rows"], **DERIVED}, attrs["n_committed_rows"] + 4096)
            self.eps = Columns(self._specs["episodes"], attrs["n_committed_episodes"] + 1024)
            self._n = self._e = self._pending = 0
            self._vocab = {"operator": [], "cell": []}
            self.pools = Pools(self._pool_mask)
            self._load(attrs)
            if not readonly:
                self._refuse_damage(attrs)
                cut_back(self.path, self._arrays, self._counts())
        except BaseException:
            self._unlock()
            raise
        self._flushed = (self._n, self._e)
        self._last_flush = time.monotonic()

    # ---- opening ------------------------------------------------------------------------------
    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the fd releases the flock
            self._lock_fd = None

    def _refuse_damage(self, attrs: dict) -> None:
        """A writer's check before it changes anything: counters agree with the episode table,
        and (dense stores) every chunk below the counters is there."""
        problem = counter_problem(self.eps["start"][: self._e], self.eps["length"][: self._e], self._n)
        if problem is None and attrs.get("dense_chunks"):
            missing = chunk_problems(self.path, self._arrays, self._counts(), dense=True, decode=False)  # read by _load
            problem = missing[0] if missing else None
        if problem:
            raise StoreError(f"{self.path}: {problem}; nothing was changed: `rlif store repair {self.path}` "
                             "explains a fix (and keeps a backup)")

    def _read_attrs(self) -> dict:
        return read_attrs(self.path, SCHEMA, SCHEMA_VERSION, REQUIRED_ATTRS)

    def _counts(self, attrs: dict | None = None) -> dict[str, int]:
        if attrs is None:
            return {"rows": self._n, "episodes": self._e}
        return {"rows": attrs["n_committed_rows"], "episodes": attrs["n_committed_episodes"]}

    def _open_arrays(self, attrs: dict) -> dict:
        self._root, arrays = open_arrays(self.path, self._specs, self._counts(attrs), self.readonly)
        return arrays

    def _load(self, attrs: dict) -> int:
        """Copy committed rows/episodes beyond what RAM holds into the mirror; returns new rows."""
        n1, e1 = attrs["n_committed_rows"], attrs["n_committed_episodes"]
        if n1 < self._n or e1 < self._e:
            raise StoreError(f"{self.path}: counters went backwards ({n1} rows < {self._n} seen)")
        n0, e0 = self._n, self._e
        self._vocab = {"operator": list(attrs["operators"]), "cell": list(attrs["cells"])}
        self.eps.ensure(e1)
        self.rows.ensure(n1 + 1)  # +1: next_obs gathers row i+1
        data = read_columns(self._arrays, {"rows": (n0, n1), "episodes": (e0, e1)}, self.path)
        for key, values in data.items():
            group, name = key.split("/")
            lo, hi = (n0, n1) if group == "rows" else (e0, e1)
            (self.rows if group == "rows" else self.eps)[name][lo:hi] = values
        self._n, self._e = n1, e1
        self._derive(n0, n1)
        return n1 - n0

    # ---- writing ------------------------------------------------------------------------------
    def append(self, obs, action, policy_action, source, intervening, t=None, expert_action=None,
               images=None) -> None:
        """Add one step to the current (uncommitted) episode. RAM only; cheap."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened readonly")
        if np.shape(obs) != (len(self.obs_labels),) or np.shape(action) != (len(self.action_labels),):
            raise ValueError(f"append: obs {np.shape(obs)} / action {np.shape(action)} do not match the "
                             f"store's {len(self.obs_labels)} obs and {len(self.action_labels)} action labels")
        if source not in (0, 1, 2):
            raise ValueError(f"append: source {source!r} is not one of {[int(s) for s in Source]}")
        frames = RI.check_frames(self.images, images, "append")
        i = self._n + self._pending
        if i + 1 >= self.rows.capacity:
            self.rows.ensure(i + 2)
        c = self.rows.cols
        c["obs"][i] = obs
        c["action"][i] = action
        c["policy_action"][i] = policy_action
        c["expert_action"][i] = np.nan if expert_action is None else expert_action
        c["source"][i] = source
        c["intervening"][i] = intervening
        c["episode"][i] = self._e
        c["step"][i] = self._pending
        c["t"][i] = time.time() if t is None else t
        for cam, f in (frames or {}).items():
            c[RI.ROW_PREFIX + cam][i] = f
        self._pending += 1

    def discard_episode(self) -> int:
        """Drop the uncommitted current episode (e.g. an aborted reset); returns rows dropped."""
        n, self._pending = self._pending, 0
        return n

    def end_episode(self, terminal: bool, success: bool, truncated: bool = False, final_obs=None,
                    final_images=None, **episode_meta: Any) -> int:
        """Commit the current episode; returns its index. episode_meta: operator (str), cell
        ("sim" | "real"), aborted (bool), demo (bool: a demonstration, part of the prior set)."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened readonly")
        unknown = sorted(set(episode_meta) - set(EPISODE_META))
        if unknown:
            raise TypeError(f"end_episode: unknown episode meta {unknown}; allowed: {list(EPISODE_META)}")
        if success and not terminal:
            raise ValueError("end_episode: success is terminal (the cell contract): success=True needs terminal=True")
        s, e, j = self._n, self._n + self._pending, self._e
        if e == s:
            raise ValueError("end_episode: the current episode has no rows")
        c = self.rows.cols
        finals = RI.check_frames(self.images, final_images, "end_episode final_images") if final_images else \
            {cam: c[RI.ROW_PREFIX + cam][e - 1] for cam in self.images}  # none given: the last step's
        for name in ("obs", "action", "t"):
            if not np.isfinite(c[name][s:e]).all():
                raise ValueError(f"end_episode: non-finite {name} in the episode (not committed; "
                                 "discard_episode() drops it)")
        c["terminal"][s:e] = c["truncated"][s:e] = False
        c["terminal"][e - 1], c["truncated"][e - 1] = bool(terminal), bool(truncated)
        fo = c["obs"][e - 1] if final_obs is None else np.asarray(final_obs, dtype=np.float32)
        if fo.shape != (len(self.obs_labels),) or not np.isfinite(fo).all():
            fo = c["obs"][e - 1]
        iv = c["intervening"][s:e]
        self.eps.ensure(j + 1)
        row = {"start": s, "length": e - s, "success": success, "terminal": terminal, "truncated": truncated,
               "aborted": episode_meta.get("aborted", False), "demo": episode_meta.get("demo", False),
               "interventions": int(iv[0]) + int(np.count_nonzero(~iv[:-1] & iv[1:])),
               "intervention_steps": int(np.count_nonzero(iv)), "final_obs": fo,
               "operator": self._code("operator", str(episode_meta.get("operator", ""))),
               "cell": self._code("cell", str(episode_meta.get("cell", "sim"))),
               **{RI.FINAL_PREFIX + cam: f for cam, f in finals.items()}}
        for name, v in row.items():
            self.eps[name][j] = v
        self._n, self._e, self._pending = e, j + 1, 0
        self._derive(s, e)
        if time.monotonic() - self._last_flush >= self.cfg.flush_interval_s:
            try:
                self.flush()
            except Exception as err:  # noqa: BLE001 - not on disk: the episode is in flight again
                self._n, self._e, self._pending = s, j, e - s
                why = getattr(err, "strerror", None) or f"{type(err).__name__}: {err}"
                raise StoreError(f"{self.path}: episode not committed, writing it failed ({why}); it is still "
                                 "in flight: end_episode again once the disk is fixed, or discard_episode()") from None
        return j

    def _code(self, kind: str, value: str) -> int:
        vocab = self._vocab[kind]
        if value not in vocab:
            vocab.append(value)
        return vocab.index(value)

    def flush(self) -> None:
        """Write committed rows and episodes not yet on disk, then the counters (in that order)."""
        (n0, e0), n1, e1 = self._flushed, self._n, self._e
        if self.readonly or (n0, e0) == (n1, e1):
            return
        write_columns(self._arrays, {"rows": (n0, n1), "episodes": (e0, e1)},
                      lambda key: (self.rows if key.startswith("rows/") else self.eps)[key.split("/")[1]])
        # ONE write of zarr.json (group.attrs.update would write it once per key: torn counters).
        self._root.update_attributes({"n_committed_rows": n1, "n_committed_episodes": e1,
                                      "operators": self._vocab["operator"], "cells": self._vocab["cell"]})
        self._flushed, self._last_flush = (n1, e1), time.monotonic()

    # ---- reading ------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Reader: load rows committed since the last look (trusting only the counters); returns
        the number of new rows. A writer's RAM is already current: returns 0."""
        if not self.readonly:
            return 0
        attrs = self._read_attrs()
        if (attrs["n_committed_rows"], attrs["n_committed_episodes"]) == (self._n, self._e):
            return 0
        self._arrays = self._open_arrays(attrs)  # fresh shapes
        return self._load(attrs)

    # ---- properties and lifecycle ---------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        """Committed rows (a writer counts episodes committed in RAM, even if not yet flushed)."""
        return self._n

    @property
    def n_episodes(self) -> int:
        return self._e

    @property
    def n_pending(self) -> int:
        """Rows of the current, uncommitted episode."""
        return self._pending

    def column(self, name: str) -> np.ndarray:
        """Committed rows of one row column (a read-only view of the RAM mirror)."""
        v = self.rows[name][: self._n].view()
        v.flags.writeable = False
        return v

    @property
    def episodes(self) -> dict[str, np.ndarray]:
        """The committed episodes table: dict of numpy columns (copies), operator/cell decoded."""
        out = {k: self.eps[k][: self._e].copy() for k in self._specs["episodes"]}
        for k in ("operator", "cell"):
            vocab = np.array(self._vocab[k] or [""], dtype=str)
            out[k] = vocab[out[k]]
        return out

    @property
    def ram_bytes(self) -> int:
        return self.rows.nbytes + self.eps.nbytes + self.pools.nbytes

    def close(self) -> None:
        """Flush committed episodes and release the store; an uncommitted episode is dropped."""
        if not self.readonly and self._lock_fd is not None:
            self.flush()
            cut_back(self.path, self._arrays, self._counts())  # plain zarr clients: shape == counters
        self._unlock()

    def __enter__(self) -> "ReplayStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ReplayStore({str(self.path)!r}, rows={self._n}, episodes={self._e}, readonly={self.readonly})"
