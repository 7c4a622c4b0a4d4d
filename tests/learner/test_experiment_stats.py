"""learner/experiment_stats.py: the two-level bootstrap behaves like an interval should."""
import numpy as np
import pytest

from learner.experiment_stats import hierarchical_ci

pytestmark = pytest.mark.unit


def test_interval_contains_the_mean_narrows_with_data_and_is_deterministic():
    rng = np.random.default_rng(0)
    few = [list(rng.random(20) < p) for p in (0.7, 0.8, 0.9)]
    many = [list(rng.random(200) < p) for p in (0.7, 0.8, 0.9, 0.75, 0.85)]
    m, lo, hi = hierarchical_ci(few)
    assert lo <= m <= hi and m == pytest.approx(np.mean([np.mean(g) for g in few]))
    m2, lo2, hi2 = hierarchical_ci(many)
    assert hi2 - lo2 < hi - lo
    assert hierarchical_ci(few) == (m, lo, hi)


def test_seed_spread_widens_the_interval():
    same = [[1] * 50 + [0] * 50] * 4                     # every seed 50 %
    spread = [[1] * 100, [0] * 100, [1] * 100, [0] * 100]  # seeds 100 / 0 / 100 / 0 %: mean 50 % too
    _, lo_a, hi_a = hierarchical_ci(same)
    _, lo_b, hi_b = hierarchical_ci(spread)
    assert hi_b - lo_b > 2 * (hi_a - lo_a)
    assert hierarchical_ci([[1, 1, 1]]) == (1.0, 1.0, 1.0) and np.isnan(hierarchical_ci([])[0])


def test_weighted_rate_is_a_ratio_of_sums():
    op_steps, steps = [[5, 0, 10], [0, 0, 2]], [[20, 10, 30], [10, 10, 20]]
    m, lo, hi = hierarchical_ci(op_steps, weights=steps)
    assert m == pytest.approx(np.mean([15 / 60, 2 / 40]))
    assert 0.0 <= lo <= m <= hi <= 1.0
