"""Confidence intervals for the experiment's table: a two-level (hierarchical) bootstrap.

A method's success is a mean over training seeds of each seed's success rate over evaluation
episodes. Both levels vary: a new training seed gives a different actor, a new evaluation
episode a different start and hole. The bootstrap resamples seeds with replacement, then
episodes within each drawn seed with replacement, and takes the mean; the 2.5 / 97.5 %
percentiles of `n_boot` such means are the 95 % interval. With one seed it reduces to the
episode bootstrap (and says nothing about seed-to-seed spread: the table shows the seed count).
Deterministic: the generator is seeded from the data's shape.
"""
from __future__ import annotations

import numpy as np

N_BOOT = 4000


def hierarchical_ci(per_seed: list[list[float]], n_boot: int = N_BOOT, level: float = 0.95,
                    weights: list[list[float]] | None = None) -> tuple[float, float, float]:
    """(mean, lo, hi) of the mean over seeds of per-seed means of `per_seed` values.

    `weights` (same shape) turns each seed's mean into a weighted mean (e.g. a rate of
    operator-driven steps: values = operator steps per episode, weights = steps per episode,
    passed as values/weights pairs: value_i / weight_i summed).
    """
    groups = [np.asarray(g, dtype=np.float64) for g in per_seed if len(g)]
    if not groups:
        return float("nan"), float("nan"), float("nan")
    wgroups = None
    if weights is not None:
        wgroups = [np.asarray(w, dtype=np.float64) for w, g in zip(weights, per_seed) if len(g)]

    def seed_mean(i: int, idx: np.ndarray | None = None) -> float:
        g = groups[i] if idx is None else groups[i][idx]
        if wgroups is None:
            return float(g.mean())
        w = wgroups[i] if idx is None else wgroups[i][idx]
        return float(g.sum() / max(w.sum(), 1e-12))

    point = float(np.mean([seed_mean(i) for i in range(len(groups))]))
    rng = np.random.default_rng([len(groups), *[len(g) for g in groups]])
    means = np.empty(n_boot)
    for b in range(n_boot):
        picks = rng.integers(0, len(groups), len(groups))
        means[b] = np.mean([seed_mean(i, rng.integers(0, len(groups[i]), len(groups[i]))) for i in picks])
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [a, 1.0 - a])
    return point, float(lo), float(hi)
