"""learner/experiment_runner.py: the pool's start order and the wall-time replay of recorded cell
times (pure; the pool itself runs real cells in tests/learner/test_experiment.py)."""
from __future__ import annotations

import pytest

from learner.experiment import spec_from_preset
from learner.experiment_runner import (default_workers, dependency, pool_wall_time, start_order_key,
                                       usable_cores)

pytestmark = pytest.mark.unit
RL = ("rlif", "rlif-random")


def test_the_pool_starts_rl_cells_first_and_keeps_run_order_within_each_kind():
    cells = spec_from_preset("full").cells()
    first = sorted(cells, key=start_order_key)  # what the pool does (a stable sort)
    n_rl = sum(m in RL for m, _, _ in cells)
    assert first[:n_rl] == [c for c in cells if c[0] in RL]
    assert first[n_rl:] == [c for c in cells if c[0] not in RL]
    for cell in first:  # every rlif-random comes after the rlif cell it needs
        if dependency(cell) is not None:
            assert first.index(dependency(cell)) < first.index(cell)


def test_one_worker_runs_the_cells_back_to_back():
    times = {("rlif", "mid", 0): 30.0, ("bc", "mid", 0): 7.0, ("rlif-random", "mid", 0): 20.0}
    assert pool_wall_time(times, 1) == 57.0


def test_long_cells_start_first_so_short_ones_fill_the_gaps():
    # run order: two short cells, then a long one. Started in that order on 2 workers they would end
    # at 5 + 10 = 15; the pool starts the RL cell first: 10.
    times = {("bc", "mid", 0): 5.0, ("bc", "mid", 1): 5.0, ("rlif", "mid", 0): 10.0}
    assert pool_wall_time(times, 2) == 10.0


def test_rlif_random_waits_for_its_rlif_cell_whatever_the_workers():
    times = {("rlif", "mid", 0): 10.0, ("rlif-random", "mid", 0): 10.0, ("bc", "mid", 0): 1.0}
    assert pool_wall_time(times, 16) == 20.0  # the chain, not the widest cell, bounds it
    assert dependency(("rlif-random", "low", 3)) == ("rlif", "low", 3)
    assert dependency(("rlif", "low", 3)) is None and dependency(("bc", "mid", 0)) is None


def test_more_workers_never_take_longer_on_the_full_grid_shape():
    lengths = {"rlif": 750.0, "rlif-random": 750.0}  # s, the full grid's typical cell times
    times = {c: lengths.get(c[0], 260.0) for c in spec_from_preset("full").cells()}
    walls = [pool_wall_time(times, n) for n in (1, 2, 4, 8, 16, 64)]
    assert walls == sorted(walls, reverse=True) and walls[0] == sum(times.values())
    assert walls[-1] == 1500.0  # with a worker for every cell: one rlif -> rlif-random chain


def test_workers_below_one_are_refused():
    with pytest.raises(ValueError, match="workers=0"):
        pool_wall_time({("bc", "mid", 0): 1.0}, 0)


def test_default_workers_give_each_cell_its_threads_of_the_usable_cores():
    assert default_workers(59, 1, cores=16) == 16  # the presets: one thread per cell, one cell per core
    assert default_workers(4, 1, cores=16) == 4  # never more workers than cells
    assert default_workers(59, 4, cores=16) == 4 and default_workers(59, 3, cores=16) == 5
    assert default_workers(59, 0, cores=16) == 1  # agent.threads 0 = all cores: one cell at a time
    assert default_workers(59, 8, cores=2) == 1 and default_workers(0, 1, cores=2) == 1  # at least one
    assert 1 <= default_workers(59, 1) == min(59, usable_cores())  # this machine's own cores
