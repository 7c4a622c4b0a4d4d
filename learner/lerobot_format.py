"""LeRobotDataset v3.0 written with pyarrow: what `lerobot.datasets.LeRobotDataset` loads.

The `lerobot` library itself is not a dependency: lerobot 0.6.1 needs Python >= 3.12 and
torch < 2.12, this stack Python 3.11 (the ROS 2 Kilted wheels are built for it) and torch 2.13.
The files are those lerobot 0.6.1's own writer produces (codebase_version "v3.0"); a test loads
an export with lerobot in a separate Python 3.12 environment (tests/learner/test_lerobot_io.py).

    meta/info.json          codebase_version, fps, features (dtype, shape, names), totals,
                            chunks_size, data_files_size_in_mb, data_path, video_path (null:
                            no camera frames in the store yet), robot_type, splits
    meta/stats.json         per feature: min, max, mean, std, count, q01, q10, q50, q90, q99
                            (NaN-aware: policy/expert actions are NaN where there is none)
    meta/tasks.parquet      one task; pandas metadata makes the task string the index
    meta/episodes/chunk-000/file-000.parquet
                            episode_index, tasks, length, data/chunk_index, data/file_index,
                            dataset_from_index, dataset_to_index, stats/<feature>/<stat>,
                            meta/episodes/chunk_index, meta/episodes/file_index, and the
                            store's own episode fields as `rlif/operator`, `rlif/cell`,
                            `rlif/demo`, `rlif/final_obs` (lerobot keeps extra columns)
    data/chunk-000/file-NNN.parquet
                            one row per control step; a new file once one holds FILE_ROWS rows
                            (at an episode's end: an episode is in one file)

Frame features (FEATURES): `observation.state`, `action` (the executed action), `policy_action`,
`expert_action`, `driver` (0 policy, 1 operator, 2 hold: learner.replay.Source),
`intervention`, `episode.success`, `episode.aborted` (the episode's, on each of its frames),
`terminal`, `truncated` (on an episode's last frame), `cell_time` (the store's `t`, s), and
lerobot's own `timestamp` (frame_index / fps), `frame_index`, `episode_index`, `index`,
`task_index`. Together they are every value of the store, so an import gives it back.
lerobot hands float features to torch as float32: `cell_time` (wall-clock seconds on the robot)
is exact in the files and in an import, rounded in `LeRobotDataset[i]` (use `timestamp` there).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000  # files per chunk folder (lerobot's default)
FILE_ROWS = 400_000  # frames per data file: about lerobot's 100 MB at this cell's ~250 B a frame
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
TASK = "insert the peg into the hole"
STATS = ("min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99")
DEFAULTS = {"timestamp": "float32", "frame_index": "int64", "episode_index": "int64", "index": "int64",
            "task_index": "int64"}
SCALARS = {"driver": "int64", "intervention": "bool", "episode.success": "bool", "episode.aborted": "bool",
           "terminal": "bool", "truncated": "bool", "cell_time": "float64"}


def features(obs_labels, action_labels) -> dict:
    """info.json's `features` of an export (vectors with their labels as names)."""
    def vec(labels):
        return {"dtype": "float32", "shape": [len(labels)], "names": list(labels)}
    out = {"observation.state": vec(obs_labels), "action": vec(action_labels),
           "policy_action": vec(action_labels), "expert_action": vec(action_labels)}
    out.update({k: {"dtype": t, "shape": [1], "names": None} for k, t in {**SCALARS, **DEFAULTS}.items()})
    return out


def _arrow(pa, dtype: str, shape, values: np.ndarray):
    if shape == [1]:
        return pa.array(values.astype(dtype))
    flat = pa.array(np.ascontiguousarray(values, dtype=dtype).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, shape[0])


def _hf_features(feats: dict) -> dict:
    """The `huggingface` schema metadata lerobot's writer stores with each data file."""
    def one(f):
        value = {"dtype": f["dtype"], "_type": "Value"}
        return value if f["shape"] == [1] else {"feature": value, "length": f["shape"][0], "_type": "List"}
    return {"info": {"features": {k: one(f) for k, f in feats.items()}}}


def stats(values: np.ndarray) -> dict:
    """lerobot's statistics of one feature over frames (axis 0), NaN-aware; lists for JSON."""
    v = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    ok = np.isfinite(v)
    out: dict[str, list] = {k: [] for k in STATS}
    for j in range(v.shape[1]):
        col = v[ok[:, j], j]
        have = col.size > 0
        out["min"].append(float(col.min()) if have else math.nan)
        out["max"].append(float(col.max()) if have else math.nan)
        out["mean"].append(float(col.mean()) if have else math.nan)
        out["std"].append(float(col.std()) if have else math.nan)
        for q in (1, 10, 50, 90, 99):
            out[f"q{q:02d}"].append(float(np.quantile(col, q / 100)) if have else math.nan)
    out["count"] = [int(len(v))]
    return out


def frame_columns(store) -> dict[str, np.ndarray]:
    """Every frame feature's values over the store's committed rows (episodes in store order)."""
    ep = store.episodes
    lengths = ep["length"].astype(np.int64)
    episode_of_row = np.repeat(np.arange(len(lengths)), lengths)
    cols = {"observation.state": store.column("obs"), "action": store.column("action"),
            "policy_action": store.column("policy_action"), "expert_action": store.column("expert_action"),
            "driver": store.column("source").astype(np.int64), "intervention": store.column("intervening"),
            "episode.success": ep["success"][episode_of_row], "episode.aborted": ep["aborted"][episode_of_row],
            "terminal": store.column("terminal"), "truncated": store.column("truncated"),
            "cell_time": store.column("t"), "frame_index": store.column("step").astype(np.int64),
            "episode_index": episode_of_row.astype(np.int64), "index": np.arange(len(episode_of_row)),
            "task_index": np.zeros(len(episode_of_row), np.int64)}
    return cols


def write(store, out: Path, fps: int, robot_type: str = "franka", task: str = TASK,
          file_rows: int = FILE_ROWS) -> dict:
    """Write the store's committed episodes as a LeRobot v3.0 dataset into the folder `out`
    (created; the caller makes it appear atomically). Returns info.json's content."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    feats = features(store.obs_labels, store.action_labels)
    cols = frame_columns(store)
    cols["timestamp"] = (cols["frame_index"] / float(fps)).astype(np.float32)
    ep = store.episodes
    n_ep, n = len(ep["length"]), len(cols["index"])
    starts = ep["start"].astype(np.int64)
    ends = starts + ep["length"].astype(np.int64)
    file_of_episode, file_start, f = np.zeros(n_ep, np.int64), [0], 0
    for e in range(n_ep):  # a new data file once the current one holds file_rows frames
        if e and starts[e] - file_start[-1] >= file_rows:
            f += 1
            file_start.append(int(starts[e]))
        file_of_episode[e] = f
    bounds = file_start + [n]
    meta = {b"huggingface": json.dumps(_hf_features(feats)).encode()}
    for k in range(len(file_start)):
        a, b = bounds[k], bounds[k + 1]
        table = pa.table({name: _arrow(pa, ft["dtype"], ft["shape"], cols[name][a:b]) for name, ft in feats.items()})
        path = out / DATA_PATH.format(chunk_index=k // CHUNKS_SIZE, file_index=k % CHUNKS_SIZE)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.replace_schema_metadata(meta), path)

    episodes = {"episode_index": pa.array(np.arange(n_ep, dtype=np.int64)),
                "tasks": pa.array([[task]] * n_ep, pa.list_(pa.string())),
                "length": pa.array(ep["length"].astype(np.int64)),
                "data/chunk_index": pa.array(file_of_episode // CHUNKS_SIZE),
                "data/file_index": pa.array(file_of_episode % CHUNKS_SIZE),
                "dataset_from_index": pa.array(starts), "dataset_to_index": pa.array(ends)}
    per_episode = [{name: stats(cols[name][starts[e]:ends[e]]) for name in feats} for e in range(n_ep)]
    for name in feats:
        for s in STATS:
            typ = pa.list_(pa.int64() if s == "count" else pa.float64())
            episodes[f"stats/{name}/{s}"] = pa.array([per_episode[e][name][s] for e in range(n_ep)], typ)
    episodes.update({"meta/episodes/chunk_index": pa.array(np.zeros(n_ep, np.int64)),
                     "meta/episodes/file_index": pa.array(np.zeros(n_ep, np.int64)),
                     "rlif/operator": pa.array([str(x) for x in ep["operator"]], pa.string()),
                     "rlif/cell": pa.array([str(x) for x in ep["cell"]], pa.string()),
                     "rlif/demo": pa.array(ep["demo"].astype(bool)),
                     "rlif/final_obs": _arrow(pa, "float32", [len(store.obs_labels)], ep["final_obs"])})
    (out / EPISODES_PATH).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(episodes), out / EPISODES_PATH)

    pandas_meta = {"index_columns": ["task"], "column_indexes": [
        {"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
         "metadata": {"encoding": "UTF-8"}}], "columns": [
        {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64",
         "metadata": None},
        {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None}],
        "attributes": {}, "creator": {"library": "pyarrow", "version": pa.__version__}, "pandas_version": "2.3.3"}
    tasks = pa.table({"task_index": pa.array([0], pa.int64()), "task": pa.array([task], pa.string())})
    pq.write_table(tasks.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()}),
                   out / "meta" / "tasks.parquet")

    (out / "meta" / "stats.json").write_text(json.dumps({name: stats(cols[name]) for name in feats}, indent=2))
    info = {"codebase_version": CODEBASE_VERSION, "fps": int(fps), "features": feats, "total_episodes": n_ep,
            "total_frames": n, "total_tasks": 1, "chunks_size": CHUNKS_SIZE, "data_files_size_in_mb": 100,
            "video_files_size_in_mb": 200, "data_path": DATA_PATH, "video_path": None, "robot_type": robot_type,
            "splits": {"train": f"0:{n_ep}"}}
    (out / "meta" / "info.json").write_text(json.dumps(info, indent=4))
    return info
