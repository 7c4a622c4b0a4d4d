"""learner/lerobot_format.py and learner/lerobot_import.py: a store exported as a LeRobot v3.0
dataset and imported back keeps every value; the `lerobot` library (0.6.1, in its own Python 3.12
environment, `.venv-lerobot`) loads the export with the same values; foreign datasets are read as
demonstrations; bad datasets are one-line errors."""
from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from learner.lerobot_format import features, write
from learner.lerobot_import import DatasetError, read, write_episodes
from learner.replay import ReplayStore, Source
from sim.contract import ACTION_LABELS, OBS_LABELS

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
ACT = ACTION_LABELS["6d"]
LEROBOT_PY = Path(os.environ.get("RLIF_LEROBOT_PYTHON", REPO / ".venv-lerobot" / "bin" / "python"))
ROWS = ("obs", "action", "policy_action", "expert_action", "source", "intervening", "step", "t", "terminal",
        "truncated")
EPISODE = ("start", "length", "success", "terminal", "truncated", "aborted", "interventions", "intervention_steps",
           "operator", "cell", "final_obs")


def fill(path: Path, n_episodes: int = 6, seed: int = 0) -> Path:
    """A store with every kind of value: takeovers, holds, NaN policy/expert actions, successes,
    aborts, truncations, two operators and cells, demo and non-demo episodes."""
    rng = np.random.default_rng(seed)
    with ReplayStore.create(path, OBS_LABELS, ACT) as s:
        for e in range(n_episodes):
            n = int(rng.integers(3, 12))
            for k in range(n):
                source = int(rng.choice([Source.POLICY, Source.HUMAN, Source.HOLD]))
                pa = rng.normal(size=6).astype(np.float32) if k % 4 else np.full(6, np.nan, np.float32)
                ea = rng.normal(size=6).astype(np.float32) if e % 2 else None
                s.append(rng.normal(size=18).astype(np.float32), rng.uniform(-1, 1, 6).astype(np.float32), pa,
                         source, source == Source.HUMAN, t=1000.0 + 0.1 * k + e / 7, expert_action=ea)
            success = e % 3 == 0
            s.end_episode(terminal=success or e == 4, success=success, truncated=not success and e != 4,
                          final_obs=rng.normal(size=18).astype(np.float32), operator=("sim", "spacemouse")[e % 2],
                          cell=("sim", "real")[e // 3 % 2], aborted=e == 4, demo=e == 5)
    return path


def columns(path: Path) -> tuple[dict, dict]:
    with ReplayStore.open(path, readonly=True) as s:
        return {c: s.column(c) for c in ROWS}, s.episodes


def assert_same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape, (what, a.dtype, b.dtype, a.shape, b.shape)
    if a.dtype.kind == "f":
        assert np.array_equal(a, b, equal_nan=True), what
    else:
        assert (a == b).all(), what


def export(tmp_path, **kw) -> tuple[Path, Path]:
    store = fill(tmp_path / "replay.zarr")
    out = tmp_path / "dataset"
    with ReplayStore.open(store, readonly=True) as s:
        write(s, out, fps=10, **kw)
    return store, out


@pytest.mark.parametrize("file_rows", [400_000, 10])  # one data file; an episode-aligned file every 10+ rows
def test_round_trip_keeps_every_value(tmp_path, file_rows):
    store, out = export(tmp_path, file_rows=file_rows)
    n_files = len(list((out / "data").glob("*/*.parquet")))
    assert n_files == 1 if file_rows > 1000 else n_files > 2
    info, episodes = read(out, OBS_LABELS, ACT)
    back = tmp_path / "back.zarr"
    with ReplayStore.create(back, OBS_LABELS, ACT) as s:
        write_episodes(s, episodes, demo=True)
    rows, eps = columns(store)
    rows2, eps2 = columns(back)
    for c in ROWS:
        assert_same(rows[c], rows2[c], c)
    for c in EPISODE:
        assert_same(np.asarray(eps[c]), np.asarray(eps2[c]), c)
    assert eps2["demo"].all() and not eps["demo"][:5].any()  # --as-demos: all of them demonstrations
    assert np.isnan(rows["policy_action"]).any() and np.isnan(rows["expert_action"]).any()
    assert info["total_frames"] == len(rows["obs"]) and info["features"] == features(OBS_LABELS, ACT)


def test_lerobot_loads_the_export_with_the_same_values(tmp_path):
    """The evidence that the files are LeRobot's: the library itself reads them."""
    if not LEROBOT_PY.exists():
        pytest.skip(f"no lerobot test environment at {LEROBOT_PY} (scripts/lerobot_env.sh creates it: "
                    "lerobot 0.6.1 needs Python >= 3.12)")
    store, out = export(tmp_path, file_rows=20)
    r = subprocess.run([str(LEROBOT_PY), str(REPO / "tests" / "learner" / "lerobot_load.py"), str(out)],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stderr[-3000:]
    got = json.loads(lines[0][len("RESULT "):])
    rows, eps = columns(store)
    n = len(rows["obs"])
    assert (got["num_episodes"], got["num_frames"], got["fps"]) == (len(eps["length"]), n, 10)
    assert got["episode_lengths"] == eps["length"].tolist() and got["robot_type"] == "franka"
    assert got["rlif_operator"] == [str(x) for x in eps["operator"]]
    frames = got["frames"]
    as_f32 = lambda key: np.asarray([f[key] for f in frames], dtype=np.float32)  # noqa: E731
    assert np.array_equal(as_f32("observation.state"), rows["obs"])
    assert np.array_equal(as_f32("action"), rows["action"])
    assert np.array_equal(as_f32("policy_action"), rows["policy_action"], equal_nan=True)
    assert np.array_equal(as_f32("expert_action"), rows["expert_action"], equal_nan=True)
    assert [f["driver"] for f in frames] == rows["source"].tolist()
    assert [f["intervention"] for f in frames] == rows["intervening"].tolist()
    # lerobot hands float features to torch as float32; the file keeps float64 (the round trip above)
    assert np.array_equal(as_f32("cell_time"), rows["t"].astype(np.float32))
    assert [f["frame_index"] for f in frames] == rows["step"].tolist()
    ep_of_row = np.repeat(np.arange(len(eps["length"])), eps["length"])
    assert [f["episode_index"] for f in frames] == ep_of_row.tolist()
    assert [f["episode.success"] for f in frames] == eps["success"][ep_of_row].tolist()
    assert [f["episode.aborted"] for f in frames] == eps["aborted"][ep_of_row].tolist()
    assert {f["task"] for f in frames} == {"insert the peg into the hole"}
    mean = got["stats"]["observation.state"]["mean"]
    assert np.allclose(mean, rows["obs"].astype(np.float64).mean(axis=0))
    assert got["stats"]["policy_action"]["count"] == [n] and not math.isnan(got["stats"]["policy_action"]["min"][0])


def foreign(tmp_path: Path, obs_dim: int = 18, version: str = "v3.0", success=(True, False)) -> Path:
    """A dataset from elsewhere: observation.state, action, next.success and lerobot's columns only."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "foreign"
    (root / "data" / "chunk-000").mkdir(parents=True)
    (root / "meta").mkdir()
    lengths = (4, 3)
    ep = np.repeat(np.arange(2), lengths)
    frame = np.concatenate([np.arange(n) for n in lengths])
    obs = np.arange(7 * obs_dim, dtype=np.float32).reshape(7, obs_dim)
    act = np.linspace(-1, 1, 42, dtype=np.float32).reshape(7, 6)
    done = np.concatenate([[False] * (n - 1) + [s] for n, s in zip(lengths, success)])
    vec = lambda a: pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1)), a.shape[1])  # noqa: E731
    pq.write_table(pa.table({"observation.state": vec(obs), "action": vec(act), "next.success": pa.array(done),
                             "timestamp": pa.array(frame / 10, pa.float32()), "frame_index": pa.array(frame),
                             "episode_index": pa.array(ep), "index": pa.array(np.arange(7)),
                             "task_index": pa.array(np.zeros(7, np.int64))}),
                   root / "data" / "chunk-000" / "file-000.parquet")
    feats = {"observation.state": {"dtype": "float32", "shape": [obs_dim], "names": None},
             "action": {"dtype": "float32", "shape": [6], "names": None}}
    (root / "meta" / "info.json").write_text(json.dumps({"codebase_version": version, "fps": 10, "features": feats}))
    return root


def test_a_foreign_dataset_is_read_as_demonstrations(tmp_path):
    _, episodes = read(foreign(tmp_path), OBS_LABELS, ACT)
    assert [len(e.obs) for e in episodes] == [4, 3]
    first, second = episodes
    assert (first.source == Source.HUMAN).all() and first.intervening.all()
    assert np.isnan(first.policy_action).all() and np.isnan(first.expert_action).all()
    assert (first.success, first.terminal, first.truncated) == (True, True, False)
    assert (second.success, second.terminal, second.truncated) == (False, False, True)
    assert np.allclose(second.t, [0.0, 0.1, 0.2]) and (first.operator, first.cell) == ("import", "real")
    assert np.array_equal(second.obs[0], np.arange(4 * 18, 5 * 18, dtype=np.float32))


def test_bad_datasets_are_one_line_errors(tmp_path):
    cases = {
        "no meta/info.json": tmp_path / "empty",
        "LeRobot format v2.1": foreign(tmp_path / "v2", version="v2.1"),
        "observation.state has shape [7], the cell contract has 18 values": foreign(tmp_path / "small", obs_dim=7),
    }
    (tmp_path / "empty").mkdir()
    for why, root in cases.items():
        with pytest.raises(DatasetError) as e:
            read(root, OBS_LABELS, ACT)
        assert why in str(e.value) and "\n" not in str(e.value), str(e.value)
    broken = foreign(tmp_path / "broken")
    (broken / "data" / "chunk-000" / "file-000.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DatasetError, match="unreadable data file"):
        read(broken, OBS_LABELS, ACT)
    with pytest.raises(DatasetError, match=r"action has shape \[6\], the cell contract has 3 values"):
        read(foreign(tmp_path / "xyz"), OBS_LABELS, ACTION_LABELS["xyz"])
