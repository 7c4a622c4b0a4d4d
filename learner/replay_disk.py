"""Disk side of the replay store: zarr v3 groups, checks, the writer lock, batched column I/O.

Schema-agnostic: `learner/replay.py` passes its column specs (`{"rows": {name: (dtype, tail)},
"episodes": {...}}`) and counts. Every failure to read a store becomes a `StoreError` naming the
path and what is wrong (a chunk that does not decode included); nothing here writes while
checking. Writers write every chunk, all-zero ones too (zarr skips those by default), so in a
store with the root attr `dense_chunks` a missing chunk file below the counters is damage.
Facts relied on (zarr 3.1): LocalStore writes each file to `<name>.<uuid>.partial` and renames
it, so a reader sees a whole old or a whole new file, never a torn one; `group.attrs.update`
writes zarr.json once PER KEY, so attributes are written with `update_attributes` (one write).
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import os
import tempfile
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
            out[key] = a if readonly else a.with_config({"write_empty_chunks": True})
    return root, out


def probe_writable(path: Path) -> None:
    """A writer's check at open: can files be created in the store? (read-only filesystem, no
    permission: refused now, not at the first end_episode with an episode counted in RAM)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rlif-write-probe-", dir=path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise StoreError(f"{path}: cannot write to the store ({e.strerror or e}: a read-only filesystem or no "
                         "permission); open it with readonly=True to read it, or copy it somewhere writable") from None


def chunk_problems(path: Path, arrays: dict, counts: dict[str, int], dense: bool, decode: bool = True) -> list[str]:
    """Chunks holding rows below the counters that are missing (`dense` stores only: elsewhere an
    all-zero chunk is legitimately absent) or (with `decode`) that do not decode; one line per array."""
    out = []
    for key, (missing, bad) in _chunk_status(path, arrays, counts, decode).items():
        c = arrays[key].chunks[0]
        if missing and dense:
            out.append(f"{key}: {len(missing)} chunk file(s) missing (chunk {_few(missing)}, rows from "
                       f"{missing[0] * c}): those rows would read as zeros")
        if bad:
            i, e = bad[0]
            out.append(f"{key}: {len(bad)} chunk(s) do not decode (chunk {_few([x for x, _ in bad])}, rows from "
                       f"{i * c}: {type(e).__name__}: {str(e)[:80]})")
    return out


def readable_rows(path: Path, arrays: dict, counts: dict[str, int], dense: bool) -> dict[str, int]:
    """Per group, how many leading rows (below counts) every array of the group holds in chunks
    that are present (dense stores) and decode."""
    out = dict(counts)
    for key, (missing, bad) in _chunk_status(path, arrays, counts).items():
        first = min([i for i, _ in bad] + (missing if dense else []), default=None)
        if first is not None:
            group = key.split("/")[0]
            out[group] = min(out[group], first * arrays[key].chunks[0])
    return out


def _chunk_status(path: Path, arrays: dict, counts: dict[str, int],
                  decode: bool = True) -> dict[str, tuple[list, list]]:
    """{key: (missing chunk indices, [(chunk index, decode error)])} for the chunks below counts;
    with `decode`, every present chunk is read on its own (concurrently) so a bad one is named."""
    status: dict[str, tuple[list, list]] = {}
    jobs, where = [], []
    for key, a in arrays.items():
        n, c = counts[key.split("/")[0]], a.chunks[0]
        status[key] = ([], [])
        for i in range(-(-n // c)):
            if not (path / key / a.metadata.encode_chunk_key((i,) + (0,) * (a.ndim - 1))).is_file():
                status[key][0].append(i)
            elif decode:
                jobs.append(a.async_array.getitem(slice(i * c, min((i + 1) * c, n))))
                where.append((key, i))
    for (key, i), res in zip(where, _run(jobs, return_exceptions=True)):
        if isinstance(res, BaseException):
            status[key][1].append((i, res))
    return status


def _few(items: list[int]) -> str:
    return ", ".join(map(str, items[:5])) + (", ..." if len(items) > 5 else "")


def create_arrays(root, specs: dict, chunks: dict[str, int], fixed: dict[str, int] | None = None) -> None:
    """Empty arrays with explicit chunks. `chunks[group]` is the chunk length of the group's
    widest column; narrower columns get longer chunks (doubling while they stay under the widest
    chunk's bytes): writing costs ~1 ms per chunk file, whatever its size, so a 1-byte column
    chunked like an 18-float one would cost 72x more files for the same data. Columns named in
    `fixed` ("group/name": rows, e.g. camera frames) get that chunk length and set no budget."""
    fixed = fixed or {}
    for group, spec in specs.items():
        widths = {name: np.dtype(dt).itemsize * int(np.prod(tail, dtype=np.int64)) for name, (dt, tail) in spec.items()}
        budget = chunks[group] * max(w for name, w in widths.items() if f"{group}/{name}" not in fixed)
        for name, (dt, tail) in spec.items():
            rows = fixed.get(f"{group}/{name}", chunks[group])
            while f"{group}/{name}" not in fixed and 2 * rows * widths[name] <= budget:
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


def read_columns(arrays: dict, ranges: dict[str, tuple[int, int]], path: Path | None = None) -> dict[str, np.ndarray]:
    """{key: arrays[key][lo:hi]} read concurrently (reopen of a large store); a chunk that does
    not decode is a StoreError naming the array."""
    keys = [k for k in arrays if ranges[k.split("/")[0]][1] > ranges[k.split("/")[0]][0]]
    jobs = [arrays[k].async_array.getitem(slice(*ranges[k.split("/")[0]])) for k in keys]
    results = _run(jobs, return_exceptions=True)
    for k, r in zip(keys, results):
        if isinstance(r, BaseException):
            raise StoreError(f"{path}: damaged: {k} holds a chunk that does not decode ({type(r).__name__}: "
                             f"{str(r)[:80]}); `rlif store verify` lists them, `rlif store repair` explains a fix")
    return dict(zip(keys, results))


def _run(coros: list, return_exceptions: bool = False) -> list:
    from zarr.core.sync import sync  # zarr's own bridge to its event-loop thread

    async def gather():
        return await asyncio.gather(*coros, return_exceptions=return_exceptions)

    return sync(gather()) if coros else []
