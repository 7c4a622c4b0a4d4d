"""Run an experiment's cells in order, resuming finished ones, in process or in `workers` processes.

A cell is *ready* when what it depends on is finished: `rlif-random` needs the rlif cell of the
same expert and seed (its takeover rate). Finished cells (result file with the matching
fingerprint) are skipped; the rest run in process (`workers` = 1, with per-episode progress)
or in a pool of spawned processes (one cell each; torch threads as `agent.threads` says), which
starts the long cells first (`start_order_key`). A failed cell stops the run with its error once
the cells in flight have finished; their results are kept, so the re-run resumes.
"""
from __future__ import annotations

import heapq
import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable

from learner.experiment import _run_one, cell_configs, cell_key, fingerprint, load_done


def run_cells(spec, cfgs, run_dir: Path, workers: int = 1,
              on_cell_start: Callable[[str, bool], None] | None = None,
              progress: Callable[[int], None] | None = None,
              on_cell_done: Callable[[str, dict], None] | None = None) -> list[dict]:
    if workers < 1:
        raise ValueError(f"workers={workers}: must be >= 1")
    order = spec.cells()
    done: dict[str, dict] = {}
    pending = list(order)

    def job(cell: tuple[str, str, int]) -> tuple | None:
        m, e, s = cell
        need = dependency(cell)
        dep = done.get(cell_key(*need)) if need else None
        if need and dep is None:
            return None  # not ready
        c = cell_configs(cfgs, m, dep)
        return (spec, c, m, e, s, str(run_dir), fingerprint(spec, c, m, e, s))

    def finish(key: str, res: dict, skipped: bool) -> None:
        done[key] = res
        if on_cell_done is not None:
            on_cell_done(key, dict(res, skipped=skipped))

    def skip_finished() -> None:
        for cell in list(pending):
            j = job(cell)
            if j is None:
                continue
            key = cell_key(*cell)
            res = load_done(Path(run_dir) / "cells" / f"{key}.json", j[-1])
            if res is not None:
                pending.remove(cell)
                if on_cell_start is not None:
                    on_cell_start(key, True)
                finish(key, res, True)

    skip_finished()
    if workers == 1:
        from learner.experiment_cell import run_cell
        from learner.experiment import write_json

        while pending:
            cell = next(c for c in pending if job(c) is not None)
            pending.remove(cell)
            spec_, c, m, e, s, rd, fp = job(cell)
            key = cell_key(m, e, s)
            if on_cell_start is not None:
                on_cell_start(key, False)
            res = dict(run_cell(spec_, c, m, e, s, Path(rd) / "stores" / key, progress,
                                actor_file=Path(rd) / "actors" / f"{key}.safetensors"), fingerprint=fp)
            write_json(Path(rd) / "cells" / f"{key}.json", res)
            finish(key, res, False)
            skip_finished()
    else:
        pending.sort(key=start_order_key)  # in place: skip_finished removes from this same list
        _run_pool(pending, job, workers, on_cell_start, finish, skip_finished)
    return [done[cell_key(*c)] for c in order]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: taskset, cgroup cpusets), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(n_cells: int, threads_per_cell: int, cores: int | None = None) -> int:
    """`rlif experiment`'s default `--workers`: one cell per free core, i.e. `cores` (default: the
    usable ones) shared out at `threads_per_cell` torch threads each (`agent.threads`; 0 = all
    cores, so one cell at a time), never more than there are cells. 1 runs in process."""
    cores = usable_cores() if cores is None else cores
    per_cell = threads_per_cell if threads_per_cell > 0 else cores
    return max(1, min(n_cells, cores // per_cell))


def dependency(cell: tuple[str, str, int]) -> tuple[str, str, int] | None:
    """The cell that must finish before `cell` can start: rlif-random uses its rlif cell's rate."""
    m, e, s = cell
    return ("rlif", e, s) if m == "rlif-random" else None


def pool_wall_time(cell_times: dict[tuple[str, str, int], float], workers: int) -> float:
    """The wall time (s) of running cells that took `cell_times` (s each; keys in run order) through
    the pool of `workers`, started as `run_cells` starts them (`start_order_key`; each once a worker
    is free and its `dependency` has finished), each taking its recorded time. The report's estimate
    of a grid's time on more cores, at the speed per core the times were measured at."""
    if workers < 1:
        raise ValueError(f"workers={workers}: must be >= 1")
    pending = sorted(cell_times, key=start_order_key)
    running: list[tuple[float, tuple[str, str, int]]] = []
    finished: set = set()
    now = 0.0
    while pending or running:
        while len(running) < workers:
            cell = next((c for c in pending if dependency(c) is None or dependency(c) in finished
                         or dependency(c) not in cell_times), None)
            if cell is None:
                break
            pending.remove(cell)
            heapq.heappush(running, (now + float(cell_times[cell]), cell))
        now, cell = heapq.heappop(running)
        finished.add(cell)
    return now


def start_order_key(cell: tuple[str, str, int]) -> int:
    """Sort key of the pool's start order: the cells that train an RL agent (RLPD) first, then the
    imitation cells; a stable sort keeps run order within each (rlif before its rlif-random).

    Why: an RLPD cell takes ~3x an imitation cell's wall time at the presets' size (full grid here:
    ~750 s against ~260 s), and rlif-random can only start once its rlif cell has finished. Started
    in run order, the last long cells start late and run alone; started first, the short cells fill
    the gaps. Simulated from the full grid's measured cell times: 16 workers 39 -> 26 min (the rlif
    -> rlif-random chain is ~25 min), 8 workers 63 -> 51 min, 2 workers unchanged. The results do
    not depend on the order: every cell is seeded on its own.
    """
    from learner.experiment_cell import ALGO

    return 0 if ALGO[cell[0]] == "rlpd" else 1


def finished_cells(spec, cfgs, run_dir: Path) -> list[dict]:
    """The cells of `spec` already finished in `run_dir` (matching fingerprints), in run order."""
    done: dict[str, dict] = {}
    for m, e, s in spec.cells():  # rlif comes before rlif-random in every seed
        need = dependency((m, e, s))
        dep = done.get(cell_key(*need)) if need else None
        if need and dep is None:
            continue
        c = cell_configs(cfgs, m, dep)
        res = load_done(Path(run_dir) / "cells" / f"{cell_key(m, e, s)}.json", fingerprint(spec, c, m, e, s))
        if res is not None:
            done[cell_key(m, e, s)] = res
    return list(done.values())


def _run_pool(pending, job, workers, on_cell_start, finish, skip_finished) -> None:
    running: dict = {}
    error: BaseException | None = None
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        while pending or running:
            while error is None and len(running) < workers:
                cell = next((c for c in pending if job(c) is not None), None)
                if cell is None:
                    break
                pending.remove(cell)
                key = cell_key(*cell)
                if on_cell_start is not None:
                    on_cell_start(key, False)
                running[pool.submit(_run_one, job(cell))] = key
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                key = running.pop(fut)
                try:
                    finish(key, fut.result(), False)
                except BaseException as e:  # noqa: BLE001 - reported after the cells in flight finish
                    error = error or RuntimeError(f"cell {key} failed: {type(e).__name__}: {e}")
            if error is None:
                skip_finished()
    if error is not None:
        raise error
