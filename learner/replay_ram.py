"""RAM side of the replay store: growable numpy columns and lazily built sampling pools.

Training samples from here, never from zarr (random zarr reads cost milliseconds per chunk).
Columns are preallocated and grown by doubling, so an append is a few numpy element writes and
memory stays within 2x of the raw bytes (exactly 1x right after a reopen, which sizes the
columns to the stored rows plus one chunk). Pools are int32 row indices of a selection (e.g.
"operator rows" for HG-DAgger); each is built on first use and then extended incrementally as
episodes are committed, so a sample is one `rng.integers` plus numpy gathers.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

# name -> (dtype, trailing shape); a trailing shape of () is one value per row.
Spec = dict[str, tuple[np.dtype, tuple[int, ...]]]


class Columns:
    """Named numpy columns sharing one row capacity (zero-filled, grown by doubling)."""

    def __init__(self, spec: Spec, capacity: int = 1024):
        self.spec = {k: (np.dtype(d), tuple(s)) for k, (d, s) in spec.items()}
        self.capacity = max(int(capacity), 1)
        self.cols = {k: np.zeros((self.capacity, *s), dtype=d) for k, (d, s) in self.spec.items()}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def ensure(self, n: int) -> None:
        """Make room for at least `n` rows (doubling, so appends stay amortised O(1))."""
        if n <= self.capacity:
            return
        cap = self.capacity
        while cap < n:
            cap *= 2
        for k, old in self.cols.items():
            new = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
            new[: self.capacity] = old
            self.cols[k] = new
        self.capacity = cap

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.cols.values())

    @property
    def row_bytes(self) -> int:
        """Raw bytes of one row over all columns."""
        return sum(d.itemsize * int(np.prod(s, dtype=np.int64)) for d, s in self.spec.values())


class Pools:
    """Row-index pools keyed by any hashable, built by `mask_fn(key, lo, hi) -> bool[hi-lo]`.

    `get(key, n)` returns the indices (int32, ascending) of rows < n in the pool; rows are
    only ever added (the store is append-only), so a pool is extended, never rebuilt.
    """

    def __init__(self, mask_fn: Callable[[object, int, int], np.ndarray]):
        self.mask_fn = mask_fn
        self._pools: dict[object, list] = {}  # key -> [buffer, size, rows covered]

    def get(self, key: object, n: int) -> np.ndarray:
        entry = self._pools.setdefault(key, [np.zeros(1024, np.int32), 0, 0])
        buf, size, covered = entry
        if covered < n:
            new = np.flatnonzero(self.mask_fn(key, covered, n)).astype(np.int32) + covered
            if size + len(new) > len(buf):
                grown = np.zeros(max(2 * len(buf), size + len(new)), np.int32)
                grown[:size] = buf[:size]
                buf = grown
            buf[size: size + len(new)] = new
            entry[:] = [buf, size + len(new), n]
        return entry[0][: entry[1]]

    def clear(self) -> None:
        self._pools.clear()

    @property
    def nbytes(self) -> int:
        return sum(e[0].nbytes for e in self._pools.values())
