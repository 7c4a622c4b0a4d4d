"""Disk side of the replay store: zarr v3 groups, checks, the writer lock, batched column I/O.

Schema-agnostic: `learner/replay.py` passes its column specs (`{"rows": {name: (dtype, tail)},
"episodes": {...}}`) and counts. Every failure to read a store becomes a `StoreError` naming the
path and what is wrong; nothing here writes while checking.
Facts relied on (zarr 3.1): LocalStore writes each file to `<name>.<uuid>.partial` and renames
it, so a reader sees a whole old or a whole new file, never a torn one; `group.attrs.update`
writes zarr.json once PER KEY, so attributes are written with `update_attributes` (one write).
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import os
from pathlib import Path

import numpy as np


class StoreError(ValueError):
    """A store that cannot be used as asked (wrong schema, damaged metadata, locked, ...)."""


def lock(path: Path) -> int:
    """Exclusive writer lock: flock on the store folder itself (no extra file inside the zarr
    hierarchy). Released when the fd is closed, also when the process is killed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreError(f"{path}: already open for writing by another process "
                         "(open it with readonly=True to read)") from None
    return fd


def read_attrs(path: Path, schema: str, version: int, required: dict[str, type]) -> dict:
    """Root attrs, read fresh from zarr.json (no zarr cache) and checked."""
    try:
        doc = json.loads((path / "zarr.json").read_text())
    except FileNotFoundError:
        raise StoreError(f"{path}: not a replay store (no zarr.json)") from None
    except (OSError, ValueError) as e:
        raise StoreError(f"{path}: damaged metadata: zarr.json is not readable JSON ({e})") from None
    attrs = doc.get("attributes") if isinstance(doc, dict) else None
    if not isinstance(attrs, dict) or doc.get("node_type") != "group" or doc.get("zarr_format") != 3:
        raise StoreError(f"{path}: damaged metadata: zarr.json is not a zarr v3 group")
    if attrs.get("schema") != schema:
        hint = (" (its creation was interrupted, or it is another zarr group: it holds no committed "
                "data of ours; move it aside to start a new store)") if "schema" not in attrs else ""
        raise StoreError(f"{path}: not an rlif replay store (schema attribute {attrs.get('schema')!r}){hint}")
    if attrs.get("schema_version") != version:
        raise StoreError(f"{path}: schema version {attrs.get('schema_version')!r}, this code reads "
                         f"version {version}; use a matching rlif version (nothing was changed)")
    for key, kind in required.items():
        v = attrs.get(key)
        if not isinstance(v, kind) or isinstance(v, bool) or (kind is int and v < 0):
            raise StoreError(f"{path}: damaged metadata: attribute {key!r} is {v!r}")
    return attrs


def open_arrays(path: Path, specs: dict, counts: dict[str, int], readonly: bool):
    """(root group, {"group/name": zarr.Array}) with dtypes, trailing shapes and lengths checked."""
    import zarr

    try:
        root = zarr.open_group(str(path), mode="r" if readonly else "r+", zarr_format=3)
    except Exception as e:  # noqa: BLE001 - any zarr failure here means damaged metadata
        raise StoreError(f"{path}: damaged metadata: {type(e).__name__}: {e}") from None
    out = {}
    for group, spec in specs.items():
        for name, (dt, tail) in spec.items():
            key = f"{group}/{name}"
            try:
                a = root[key]
            except Exception as e:  # noqa: BLE001
                raise StoreError(f"{path}: damaged: array {key} missing or unreadable ({e})") from None
            if not isinstance(a, zarr.Array) or a.dtype != np.dtype(dt) or tuple(a.shape[1:]) != tail:
                raise StoreError(f"{path}: damaged: {key} should be {dt} (n, *{tail}), "
                                 f"found {getattr(a, 'dtype', '?')} {getattr(a, 'shape', '?')}")
            if a.shape[0] < counts[group]:
                raise StoreError(f"{path}: damaged: {key} has {a.shape[0]} rows, counters say {counts[group]}")
            out[key] = a
    return root, out


def create_arrays(root, specs: dict, chunks: dict[str, int]) -> None:
    """Empty arrays with explicit chunks. `chunks[group]` is the chunk length of the group's
    widest column; narrower columns get longer chunks (doubling while they stay under the widest
    chunk's bytes): writing costs ~1 ms per chunk file, whatever its size, so a 1-byte column
    chunked like an 18-float one would cost 72x more files for the same data."""
    for group, spec in specs.items():
        widths = {name: np.dtype(dt).itemsize * int(np.prod(tail, dtype=np.int64)) for name, (dt, tail) in spec.items()}
        budget = chunks[group] * max(widths.values())
        for name, (dt, tail) in spec.items():
            rows = chunks[group]
            while 2 * rows * widths[name] <= budget:
                rows *= 2
            root.create_array(f"{group}/{name}", shape=(0, *tail), chunks=(rows, *tail), dtype=dt, fill_value=0)


def cut_back(path: Path, arrays: dict, counts: dict[str, int]) -> None:
    """Writer open / close: arrays back to the counters (drops an uncommitted tail), and the temp
    files a killed writer left mid-write removed."""
    for leftover in path.rglob("*.partial"):
        leftover.unlink(missing_ok=True)
    for key, a in arrays.items():
        n = counts[key.split("/")[0]]
        if a.shape[0] != n:
            a.resize((n, *a.shape[1:]))


def write_columns(arrays: dict, ranges: dict[str, tuple[int, int]], source) -> None:
    """arrays[key][lo:hi] = source(key)[lo:hi] for every key, growing arrays a chunk at a time
    (ahead of the counters), all writes in one event-loop round trip so file I/O overlaps."""
    jobs = []
    for key, a in arrays.items():
        lo, hi = ranges[key.split("/")[0]]
        if hi <= lo:
            continue
        if hi > a.shape[0]:
            chunk = a.chunks[0]
            a.resize((-(-hi // chunk) * chunk, *a.shape[1:]))
        jobs.append(a.async_array.setitem(slice(lo, hi), source(key)[lo:hi]))
    _run(jobs)


def read_columns(arrays: dict, ranges: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """{key: arrays[key][lo:hi]} read concurrently (reopen of a large store)."""
    keys = [k for k in arrays if ranges[k.split("/")[0]][1] > ranges[k.split("/")[0]][0]]
    jobs = [arrays[k].async_array.getitem(slice(*ranges[k.split("/")[0]])) for k in keys]
    return dict(zip(keys, _run(jobs)))


def _run(coros: list) -> list:
    from zarr.core.sync import sync  # zarr's own bridge to its event-loop thread

    async def gather():
        return await asyncio.gather(*coros)

    return sync(gather()) if coros else []
