"""Read a LeRobot v3.0 dataset into episodes for the replay store (`rlif store import`).

Any v3.0 dataset whose `observation.state` and `action` have the cell contract's sizes is read.
One this cell exported (learner/lerobot_format.py) gives back every value of its store: the
rows' policy and expert actions, driver, intervention flag and cell time, the episodes' success,
terminal, truncated, aborted, operator, cell and final observation. A dataset from elsewhere
lacks those and is read as demonstrations: driver = operator (HUMAN) and intervening on every
row, policy and expert actions NaN, cell time = `timestamp`, success from `episode.success` or
`next.success` (last frame) when present, else a success (a demonstration), an episode that
did not succeed ends truncated; operator "import", cell "real", final observation the last.

Everything is read and checked before the caller writes anything: a missing or unreadable
file, another format version, a missing feature or sizes that do not match raise
`DatasetError`, one line naming the problem.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learner.lerobot_format import EPISODES_PATH

POLICY, HUMAN, HOLD = 0, 1, 2  # learner.replay.Source


class DatasetError(ValueError):
    """A dataset that cannot be imported; the message says why in one line."""


@dataclass
class Episode:
    obs: np.ndarray  # (T, n_obs) float32
    action: np.ndarray  # (T, n_act) float32, executed
    policy_action: np.ndarray
    expert_action: np.ndarray
    source: np.ndarray  # (T,) uint8
    intervening: np.ndarray  # (T,) bool
    t: np.ndarray  # (T,) float64, s
    success: bool
    terminal: bool
    truncated: bool
    aborted: bool
    operator: str
    cell: str
    final_obs: np.ndarray | None


def _vectors(table, name: str, n: int) -> np.ndarray:
    col = table.column(name).combine_chunks()
    flat = col.flatten() if hasattr(col, "flatten") else col
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float64).reshape(len(col), n)


def _scalars(table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    return np.asarray(table.column(name).combine_chunks().to_numpy(zero_copy_only=False))


def read_info(root: Path) -> dict:
    path = Path(root) / "meta" / "info.json"
    if not path.is_file():
        raise DatasetError(f"{root}: not a LeRobot dataset (no meta/info.json)")
    try:
        info = json.loads(path.read_text())
        version, feats = str(info["codebase_version"]), dict(info["features"])
    except (ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    if not version.startswith("v3."):
        raise DatasetError(f"{root}: LeRobot format {version}; this reads v3.x (lerobot's converter "
                           "`lerobot.datasets.v30.convert_dataset_v21_to_v30` upgrades a v2.1 dataset)")
    for name in ("observation.state", "action"):
        if name not in feats:
            raise DatasetError(f"{root}: no `{name}` feature (the cell needs observation.state and action)")
    return info


def check_sizes(root: Path, info: dict, obs_labels, action_labels) -> None:
    for name, labels in (("observation.state", obs_labels), ("action", action_labels)):
        shape = list(info["features"][name].get("shape", []))
        if shape != [len(labels)]:
            raise DatasetError(f"{root}: {name} has shape {shape}, the cell contract has {len(labels)} values "
                               f"({', '.join(labels)}); nothing was written")


def _table(root: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = sorted((Path(root) / "data").glob("*/*.parquet"))
    if not paths:
        raise DatasetError(f"{root}: no data/*/*.parquet files")
    try:
        tables = [pq.read_table(p) for p in paths]
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetError(f"{root}: unreadable data file ({type(e).__name__}: {e})") from None


def _episode_meta(root: Path) -> dict[int, dict]:
    """rlif/* episode fields of an export, by episode_index (empty for other datasets)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(root) / EPISODES_PATH
    if not path.is_file():
        return {}
    try:
        rows = pq.read_table(path, columns=None).to_pylist()
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    return {int(r["episode_index"]): r for r in rows if "rlif/operator" in r}


def read(root: Path, obs_labels, action_labels) -> tuple[dict, list[Episode]]:
    """(info, episodes in episode_index order) of the dataset at `root` (see the module doc)."""
    root = Path(root)
    info = read_info(root)
    check_sizes(root, info, obs_labels, action_labels)
    table = _table(root)
    n_obs, n_act = len(obs_labels), len(action_labels)
    try:
        obs = _vectors(table, "observation.state", n_obs)
        act = _vectors(table, "action", n_act)
        ep_idx = _scalars(table, "episode_index").astype(np.int64)
        order = np.lexsort((_scalars(table, "frame_index").astype(np.int64), ep_idx))
    except (KeyError, ValueError, AttributeError) as e:
        raise DatasetError(f"{root}: data files do not match info.json ({type(e).__name__}: {e})") from None
    if not (np.isfinite(obs).all() and np.isfinite(act).all()):
        raise DatasetError(f"{root}: observation.state or action holds NaN or inf values; nothing was written")
    cols = {name: (v[order] if v is not None else None) for name, v in (
        ("policy_action", _vectors(table, "policy_action", n_act) if "policy_action" in table.column_names else None),
        ("expert_action", _vectors(table, "expert_action", n_act) if "expert_action" in table.column_names else None),
        *((k, _scalars(table, k)) for k in ("driver", "intervention", "cell_time", "timestamp", "terminal",
                                            "truncated", "episode.success", "episode.aborted", "next.success")))}
    obs, act, ep_idx = obs[order], act[order], ep_idx[order]
    if cols["driver"] is not None and not np.isin(cols["driver"], (POLICY, HUMAN, HOLD)).all():
        raise DatasetError(f"{root}: `driver` holds values other than 0 (policy), 1 (operator), 2 (hold)")
    meta = _episode_meta(root)
    bounds = np.flatnonzero(np.diff(ep_idx)) + 1
    episodes = []
    for sl in (slice(a, b) for a, b in zip([0, *bounds], [*bounds, len(ep_idx)])):
        episodes.append(_episode(cols, obs[sl], act[sl], sl, meta.get(int(ep_idx[sl.start]))))
    return info, episodes


def _episode(cols: dict, obs, act, sl: slice, meta: dict | None) -> Episode:
    n, n_act = len(obs), act.shape[1]

    def col(name, default):
        v = cols[name]
        return v[sl] if v is not None else default

    nan = np.full((n, n_act), np.nan)
    source = col("driver", np.full(n, HUMAN)).astype(np.uint8)
    last = {k: bool(cols[k][sl][-1]) for k in ("episode.success", "next.success", "terminal", "truncated",
                                               "episode.aborted") if cols[k] is not None}
    success = last.get("episode.success", last.get("next.success", True))
    terminal = last.get("terminal", success)
    truncated = last.get("truncated", not terminal)
    if success and not terminal:
        raise DatasetError(f"episode with success but not terminal at frame {sl.start}: a success ends the episode")
    final = meta.get("rlif/final_obs") if meta else None
    return Episode(obs=obs.astype(np.float32), action=act.astype(np.float32),
                   policy_action=col("policy_action", nan).astype(np.float32),
                   expert_action=col("expert_action", nan).astype(np.float32), source=source,
                   intervening=col("intervention", np.ones(n, bool)).astype(bool),
                   t=col("cell_time", col("timestamp", np.arange(n, dtype=np.float64))).astype(np.float64),
                   success=success, terminal=terminal, truncated=truncated,
                   aborted=last.get("episode.aborted", False),
                   operator=str(meta["rlif/operator"]) if meta else "import",
                   cell=str(meta["rlif/cell"]) if meta else "real",
                   final_obs=np.asarray(final, np.float32) if final is not None else None)


def write_episodes(store, episodes: list[Episode], demo: bool = True) -> int:
    """Append the episodes to an open (writable) store; returns the rows written."""
    rows = 0
    for e in episodes:
        for k in range(len(e.obs)):
            store.append(e.obs[k], e.action[k], e.policy_action[k], int(e.source[k]), bool(e.intervening[k]),
                         t=float(e.t[k]), expert_action=e.expert_action[k])
        store.end_episode(e.terminal, e.success, truncated=e.truncated, final_obs=e.final_obs,
                          operator=e.operator, cell=e.cell, aborted=e.aborted, demo=demo)
        rows += len(e.obs)
    return rows
