"""`verify(path)`: check every invariant of a replay store without changing it.

Opens the store readonly (so nothing is truncated or rewritten) and checks, vectorised:
every chunk below the counters present (stores with `dense_chunks`) and decoding, then
metadata (schema, version, labels, counters vs array lengths: done by `ReplayStore.open`),
the episodes table (contiguous starts, lengths summing to the rows, codes within their
vocabularies, counts matching the rows), the rows (episode ids and steps matching the table,
terminal/truncated flags only on last rows and equal to the table, source values, finite obs,
action, t and final_obs; policy/expert actions finite or NaN, never inf).
Returns a list of problems (empty = the store is sound).
"""
from __future__ import annotations

import numpy as np

from pathlib import Path

from learner import replay_images as RI
from learner.replay import ReplayStore, Source, StoreError
from learner.replay_schema import REQUIRED_ATTRS, SCHEMA, SCHEMA_VERSION, SPECS
from learner.replay_disk import chunk_problems, open_arrays, read_attrs

REPAIR_HINT = "`rlif store repair` explains a fix"


def verify(path) -> list[str]:
    try:
        problems = chunks(Path(path))
    except StoreError as e:
        return [str(e)]
    if problems:  # rows that cannot be read: the checks below would judge zeros or fail
        return problems + [f"({REPAIR_HINT})"]
    try:
        store = ReplayStore.open(path, readonly=True)
    except StoreError as e:
        return [str(e)]
    try:
        return _labels(store) + _episodes(store) + _rows(store)
    finally:
        store.close()


def specs(attrs: dict) -> dict:
    try:
        images = RI.normalise(attrs.get("images") or {}, "images")
    except ValueError as e:
        raise StoreError(f"damaged metadata: {e}") from None
    return SPECS(len(attrs["obs_labels"]), len(attrs["action_labels"]), images)


def chunks(path: Path) -> list[str]:
    """Missing (dense stores) or undecodable chunks below the counters, without decoding anything else."""
    attrs = read_attrs(path, SCHEMA, SCHEMA_VERSION, REQUIRED_ATTRS)
    counts = {"rows": attrs["n_committed_rows"], "episodes": attrs["n_committed_episodes"]}
    _, arrays = open_arrays(path, specs(attrs), counts, readonly=True)
    return chunk_problems(path, arrays, counts, dense=bool(attrs.get("dense_chunks")))


def _labels(s: ReplayStore) -> list[str]:
    out = []
    for kind, labels in (("obs_labels", s.obs_labels), ("action_labels", s.action_labels)):
        if not labels or not all(isinstance(x, str) and x for x in labels):
            out.append(f"{kind}: must be a non-empty list of non-empty strings, found {labels!r}")
        elif len(set(labels)) != len(labels):
            out.append(f"{kind}: duplicate labels {sorted({x for x in labels if labels.count(x) > 1})}")
    return out


def _episodes(s: ReplayStore) -> list[str]:
    e, n = s.n_episodes, s.n_rows
    ep = {k: s.eps[k][:e] for k in s.eps.spec}
    out = []
    if e == 0:
        return [] if n == 0 else [f"{n} rows but no episodes"]
    if (ep["length"] < 1).any():
        out.append(f"episodes {np.flatnonzero(ep['length'] < 1)[:5].tolist()} have length < 1")
    expected = np.concatenate([[0], np.cumsum(ep["length"][:-1], dtype=np.int64)])
    if (ep["start"] != expected).any():
        out.append(f"episode starts are not contiguous (first bad: {int(np.flatnonzero(ep['start'] != expected)[0])})")
    if int(ep["length"].sum(dtype=np.int64)) != n:
        out.append(f"episode lengths sum to {int(ep['length'].sum())}, n_committed_rows is {n} "
                   f"(a counter below the data? {REPAIR_HINT})")
    for k, vocab in (("operator", s._vocab["operator"]), ("cell", s._vocab["cell"])):
        bad = (ep[k] < 0) | (ep[k] >= len(vocab))
        if bad.any():
            out.append(f"episodes/{k}: codes outside the {len(vocab)} known values")
    if not np.isfinite(ep["final_obs"]).all():
        out.append("episodes/final_obs holds NaN/inf")
    if (ep["success"] & ~ep["terminal"]).any():
        out.append(f"episodes {np.flatnonzero(ep['success'] & ~ep['terminal'])[:5].tolist()} succeed "
                   "without being terminal")
    return out


def _rows(s: ReplayStore) -> list[str]:
    n, e = s.n_rows, s.n_episodes
    if n == 0 or e == 0:
        return []
    col = s.column
    out = []
    ep = col("episode")
    starts, lengths = s.eps["start"][:e], s.eps["length"][:e].astype(np.int64)
    if lengths.sum() != n or (lengths < 1).any():
        return out  # reported by _episodes; the row checks below need a sound table
    want_ep = np.repeat(np.arange(e, dtype=np.int64), lengths)
    if (ep != want_ep).any():
        out.append(f"rows/episode does not match the episodes table (first bad row "
                   f"{int(np.flatnonzero(ep != want_ep)[0])})")
    want_step = np.arange(n, dtype=np.int64) - np.repeat(starts, lengths)
    if (col("step") != want_step).any():
        out.append(f"rows/step does not count 0.. within episodes (first bad row "
                   f"{int(np.flatnonzero(col('step') != want_step)[0])})")
    last = np.zeros(n, bool)
    last[starts + lengths - 1] = True
    for flag in ("terminal", "truncated"):
        v = col(flag)
        if (v & ~last).any():
            out.append(f"rows/{flag} set on a row that is not its episode's last")
        if (v[last] != s.eps[flag][:e]).any():
            out.append(f"rows/{flag} on last rows differs from episodes/{flag}")
    if not np.isin(col("source"), [int(x) for x in Source]).all():
        out.append(f"rows/source holds values outside {[int(x) for x in Source]}")
    for name in ("obs", "action", "t"):
        if not np.isfinite(col(name)).all():
            out.append(f"rows/{name} holds NaN/inf")
    for name in ("policy_action", "expert_action"):
        v = col(name)
        if np.isinf(v).any():
            out.append(f"rows/{name} holds inf (only finite values or NaN are allowed)")
        nan = np.isnan(v)
        if (nan.any(axis=1) & ~nan.all(axis=1)).any():
            out.append(f"rows/{name}: a row is partly NaN (a row is all NaN = no value, or all finite)")
    iv = col("intervening")
    steps = np.add.reduceat(iv.astype(np.int64), starts)
    if (steps != s.eps["intervention_steps"][:e]).any():
        out.append("episodes/intervention_steps differs from the rows' intervening flags")
    rises = iv & ~np.concatenate([[False], iv[:-1]]) | (iv & (want_step == 0))
    if (np.add.reduceat(rises.astype(np.int64), starts) != s.eps["interventions"][:e]).any():
        out.append("episodes/interventions differs from the takeovers in the rows")
    return out
