"""`rlif bench replay`: append rate, sample latency and reopen time of the replay store.

Measured on 18-D obs / 6-D actions, 100-step episodes with 4-step interventions (~10 % of
steps), like the cell. Numbers depend on the machine and its load: they are reported, never
asserted. Keys:
  append_rows_per_s                append + end_episode, write-behind (flush_interval_s=1)
  append_rows_per_s_write_through  the same with the default write-through (one flush per episode)
  sample_p50_ms, sample_p99_ms     one `sample(256, symmetric=True)` (RLPD's call), from RAM
  sample_p99_cpu_ms                the p99 of the sampler's thread CPU time (without preemption)
  sample_p99_ms_plain              one `sample(256)` (uniform over all rows)
  load_avg_1m                      the machine's load while measuring (numbers are noisy above ~1/core)
  reopen_1m_s                      `ReplayStore.open` of a 1M-row store (mirror reload included);
                                   with --quick, linearly extrapolated from `reopen_rows` rows
  ram_bytes_per_row, raw_bytes_per_row  RAM of the mirror per row after a reopen vs the raw row
With --images, the same store with a 64 x 64 x 3 wrist frame per row (`images_*`: append rows/s
write-behind and write-through, sample p50/p99 with this and the next state's frames, RAM per
row) and how many rows of frames this machine's RAM holds (`image_rows_fit_in_ram_64` / `_128`:
available memory / raw bytes per row; the mirror grows by doubling, so plan for half). Past it
the mirror cannot grow and the writer's append fails with MemoryError: committed episodes on disk
stay intact, the episode in flight is lost.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from learner.config import ReplayConfig
from learner.replay import ReplayStore, Source

N_OBS, N_ACT, EP_LEN = 18, 6, 100


class _Rows:
    """A bank of random rows, cycled, so the timing measures the store and not the RNG."""

    def __init__(self, rng: np.random.Generator, n: int = 4096):
        self.obs = rng.normal(size=(n, N_OBS)).astype(np.float32)
        self.act = rng.uniform(-1, 1, size=(n, N_ACT)).astype(np.float32)
        step = np.arange(n) % EP_LEN
        self.iv = (step % 25) >= 21  # one 4-step intervention every 25 steps
        self.n = n


def _fill(store: ReplayStore, n_rows: int, bank: _Rows, progress: bool, what: str) -> float:
    """Append n_rows in 100-step episodes; returns rows/s."""
    frames = [{cam: np.full(shape, k, np.uint8) for cam, shape in store.images.items()} or None for k in range(16)]
    t0 = time.perf_counter()
    for i in range(n_rows):
        k = i % bank.n
        iv = bool(bank.iv[k])
        store.append(bank.obs[k], bank.act[k], bank.act[k], Source.HUMAN if iv else Source.POLICY, iv,
                     t=0.1 * i, images=frames[i % 16])
        if (i + 1) % EP_LEN == 0:
            ep = (i + 1) // EP_LEN
            store.end_episode(terminal=ep % 3 == 0, success=ep % 3 == 0, truncated=ep % 3 != 0,
                              final_obs=bank.obs[k], operator="bench", cell="sim")
            if progress and ep % 1000 == 0:
                print(f"  {what}: {i + 1} rows", file=sys.stderr)
    store.flush()
    return n_rows / (time.perf_counter() - t0)


def _sample_ms(store: ReplayStore, n: int, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Per-call wall time and thread CPU time (ms): on a loaded machine the wall-time tail is
    mostly the scheduler (time slices of other processes), the CPU time is the sampler's own."""
    rng = np.random.default_rng(1)
    for _ in range(20):  # warm the pools and caches
        store.sample(256, rng, **kw)
    wall, cpu = np.empty(n), np.empty(n)
    for j in range(n):
        t0, c0 = time.perf_counter(), time.thread_time()
        store.sample(256, rng, **kw)
        wall[j], cpu[j] = time.perf_counter() - t0, time.thread_time() - c0
    return wall * 1e3, cpu * 1e3


def _images(tmp: Path, labels, bank: _Rows, quick: bool, progress: bool) -> dict:
    cam = {"wrist": (64, 64, 3)}
    n_append, n_samples = (5_000, 300) if quick else (50_000, 2_000)
    out: dict = {}
    with ReplayStore.create(tmp / "img-through.zarr", *labels, images=cam) as s:
        out["images_append_rows_per_s_write_through"] = round(_fill(s, n_append // 5, bank, progress, "frames"))
    with ReplayStore.create(tmp / "img.zarr", *labels, images=cam, config=ReplayConfig(flush_interval_s=1.0)) as s:
        out["images_append_rows_per_s"] = round(_fill(s, n_append, bank, progress, "frames write-behind"))
    with ReplayStore.open(tmp / "img.zarr", readonly=True) as s:
        wall, _ = _sample_ms(s, n_samples, symmetric=True)
        out["images_sample_p50_ms"] = round(float(np.percentile(wall, 50)), 3)
        out["images_sample_p99_ms"] = round(float(np.percentile(wall, 99)), 3)
        out["images_ram_bytes_per_row"] = round(s.ram_bytes / s.n_rows, 1)
        state_bytes = s.rows.row_bytes - 64 * 64 * 3  # a row without its frame (derived columns included)
    available = _available_bytes()
    for side in (64, 128):
        raw = state_bytes + side * side * 3
        out[f"image_rows_fit_in_ram_{side}"] = int(available // raw) if available else None
    out["available_ram_gb"] = round(available / 2**30, 1) if available else None
    return out


def _available_bytes() -> int | None:
    """MemAvailable of this machine (Linux), bytes."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run(quick: bool = False, progress: bool = True, images: bool = False) -> dict:
    n_append, n_through, n_reopen, n_samples = ((20_000, 2_000, 50_000, 500) if quick
                                                else (200_000, 20_000, 1_000_000, 5_000))
    bank = _Rows(np.random.default_rng(0))
    labels = ([f"o{i}" for i in range(N_OBS)], [f"a{i}" for i in range(N_ACT)])
    tmp = Path(tempfile.mkdtemp(prefix="rlif-bench-replay-"))
    out: dict = {}
    try:
        behind = ReplayConfig(flush_interval_s=1.0)
        with ReplayStore.create(tmp / "append.zarr", *labels, config=behind) as s:
            out["append_rows_per_s"] = round(_fill(s, n_append, bank, progress, "append"))
        with ReplayStore.create(tmp / "through.zarr", *labels) as s:
            out["append_rows_per_s_write_through"] = round(_fill(s, n_through, bank, progress, "write-through"))
        with ReplayStore.create(tmp / "big.zarr", *labels, config=behind) as s:
            _fill(s, n_reopen, bank, progress, "reopen store")
        t0 = time.perf_counter()
        s = ReplayStore.open(tmp / "big.zarr", readonly=True)
        reopen = time.perf_counter() - t0
        out["reopen_rows"] = s.n_rows
        out["reopen_1m_s"] = round(reopen * 1_000_000 / s.n_rows, 3)
        wall, cpu = _sample_ms(s, n_samples, symmetric=True)
        out["sample_p50_ms"] = round(float(np.percentile(wall, 50)), 4)
        out["sample_p99_ms"] = round(float(np.percentile(wall, 99)), 4)
        out["sample_p99_cpu_ms"] = round(float(np.percentile(cpu, 99)), 4)
        out["sample_p99_ms_plain"] = round(float(np.percentile(_sample_ms(s, n_samples)[0], 99)), 4)
        out["load_avg_1m"] = round(os.getloadavg()[0], 2)  # context for the numbers above
        out["ram_bytes_per_row"] = round(s.ram_bytes / s.n_rows, 1)
        out["raw_bytes_per_row"] = s.rows.row_bytes
        s.close()
        if images:
            out.update(_images(tmp, labels, bank, quick, progress))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["quick"] = quick
    return out
