"""The replay store in one process: round trip, sampling, errors (learner/replay.py)."""
import json

import numpy as np
import pytest
import zarr

from learner.config import ReplayConfig
from learner.errors import EmptySubset
from learner.labeling import rlif_rewards
from learner.replay import ReplayStore, Source, StoreError
from learner.replay_verify import verify

pytestmark = pytest.mark.unit
OBS = [f"o{i}" for i in range(4)]
ACT = ["x", "y"]


def obs_of(ep, step):
    return np.arange(4, dtype=np.float32) + 1000 * ep + step


def fill(store, drivers: str, ep0=0, **end):
    """One episode per '|'-separated part; 'P' policy, 'H' operator step, 'E' policy step with
    an expert label. Last episode per `end` (default: success)."""
    parts = drivers.split("|")
    for k, part in enumerate(parts):
        ep = ep0 + k
        for step, c in enumerate(part):
            h = c == "H"
            store.append(obs_of(ep, step), np.full(2, 0.1 * step), np.full(2, -0.1), Source.HUMAN if h else Source.POLICY,
                         h, t=0.1 * step, expert_action=np.full(2, 0.5) if c == "E" else None)
        kw = end if k == len(parts) - 1 else dict(terminal=False, success=False, truncated=True)
        kw = kw or dict(terminal=True, success=True)
        store.end_episode(final_obs=obs_of(ep, len(part)), operator="alice", cell="sim", **kw)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "replay.zarr"


def test_round_trip_and_plain_zarr_client(path):
    with ReplayStore.create(path, OBS, ACT, run="r1") as s:
        fill(s, "PPHHP|HPE")
        assert (s.n_rows, s.n_episodes) == (8, 2)
    with ReplayStore.open(path) as s:
        assert (s.n_rows, s.n_episodes) == (8, 2) and s.obs_labels == OBS and s.action_labels == ACT
        assert s.meta == {"run": "r1"}
        ep = s.episodes
        assert ep["start"].tolist() == [0, 5] and ep["length"].tolist() == [5, 3]
        assert ep["success"].tolist() == [False, True] and ep["truncated"].tolist() == [True, False]
        assert ep["interventions"].tolist() == [1, 1] and ep["intervention_steps"].tolist() == [2, 1]
        assert ep["operator"].tolist() == ["alice"] * 2 and ep["cell"].tolist() == ["sim"] * 2
        assert s.column("step").tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
        assert np.isnan(s.column("expert_action")[:7]).all() and (s.column("expert_action")[7] == 0.5).all()
    g = zarr.open_group(str(path), mode="r")  # any zarr client, no rlif code
    assert g.attrs["n_committed_rows"] == 8 and g["rows/obs"].shape == (8, 4)
    assert g["rows/source"][:].tolist() == [0, 0, 1, 1, 0, 1, 0, 0]
    assert verify(path) == []


def test_next_obs_mask_done_and_rewards(path):
    s = ReplayStore.create(path, OBS, ACT)
    fill(s, "PPH|PHPP", terminal=True, success=True)
    rng = np.random.default_rng(0)
    b = s.sample(512, rng)
    assert set(b) == {"obs", "action", "next_obs", "reward", "mask", "done", "intervening", "source",
                      "policy_action", "expert_action", "index"}
    ep, step = s.column("episode")[b["index"]], s.column("step")[b["index"]]
    for i in range(512):
        assert (b["obs"][i] == obs_of(ep[i], step[i])).all()
        assert (b["next_obs"][i] == obs_of(ep[i], step[i] + 1)).all()  # incl. final_obs of last rows
    want_r = rlif_rewards(s.column("intervening"), s.column("episode"))[b["index"]]
    assert (b["reward"] == want_r).all() and b["reward"].dtype == np.float32
    last_ep0, last_ep1 = b["index"] == 2, b["index"] == 6
    assert (b["mask"][last_ep0] == 1).all() and (b["done"][last_ep0] == 1).all()  # truncated
    assert (b["mask"][last_ep1] == 0).all() and (b["done"][last_ep1] == 1).all()  # success: terminal
    assert (b["mask"][b["index"] < 2] == 1).all() and (b["done"][b["index"] < 2] == 0).all()
    task = s.sample(512, rng, reward="task")
    assert (task["reward"] == (task["index"] == 6)).all()
    both = s.sample(512, rng, reward="rlif+task")
    assert set(both["reward"].tolist()) <= {-1.0, 0.0, 1.0}


def test_force_abort_blames_the_policy_and_bootstraps(path):
    """An aborted episode's last policy row: reward -1 and mask 1 (not a 0-valued terminal);
    an abort while the operator drove blames nobody; a success stays terminal."""
    s = ReplayStore.create(path, OBS, ACT)
    fill(s, "PPP", terminal=True, success=False, aborted=True)          # rows 0-2, policy aborts
    fill(s, "PH", ep0=1, terminal=True, success=False, aborted=True)    # rows 3-4, operator aborts
    fill(s, "PP", ep0=2, terminal=True, success=True)                   # rows 5-6, success
    b = s.sample(512, np.random.default_rng(0))
    by_row = {int(i): (float(r), float(m)) for i, r, m in zip(b["index"], b["reward"], b["mask"])}
    assert by_row[2] == (-1.0, 1.0) and by_row[1] == (0.0, 1.0)
    assert by_row[3] == (-1.0, 1.0) and by_row[4] == (0.0, 1.0)  # row 3: followed by a takeover
    assert by_row[6] == (0.0, 0.0)
    assert (b["done"][b["index"] == 2] == 1).all()  # still the episode's end for n-step logic


def test_final_obs_defaults_to_last_obs(path):
    s = ReplayStore.create(path, OBS, ACT)
    s.append(obs_of(0, 0), np.zeros(2), np.zeros(2), 0, False)
    s.end_episode(terminal=False, success=False, truncated=True)
    b = s.sample(4, np.random.default_rng(0))
    assert (b["next_obs"] == obs_of(0, 0)).all()


def test_symmetric_and_subsets(path):
    s = ReplayStore.create(path, OBS, ACT)
    fill(s, "PPPPPPHH|EEPP")
    rng = np.random.default_rng(0)
    b = s.sample(100, rng, symmetric=True)
    assert (b["source"][:50] == Source.HUMAN).all() and (b["source"][50:] != Source.HUMAN).all()
    assert not s.sample(200, rng, subset="policy")["intervening"].any()
    assert (s.sample(50, rng, subset="operator")["source"] == Source.HUMAN).all()
    ex = s.sample(50, rng, subset="expert_labeled")
    assert np.isfinite(ex["expert_action"]).all() and set(ex["index"].tolist()) <= {8, 9}
    assert (ex["action"] != ex["expert_action"]).any()  # the executed action, not the label
    only = s.sample(20, rng, symmetric=True, subset="policy")  # prior part empty: all online
    assert len(only["index"]) == 20 and not only["intervening"].any()
    s.discard_episode()
    fill(s, "HHH", ep0=2, terminal=False, success=False, demo=True)  # a demo episode joins the prior set
    b = s.sample(10, rng, symmetric=True, subset="operator")
    assert len(b["index"]) == 10


def test_empty_subsets_and_bad_names(path):
    s = ReplayStore.create(path, OBS, ACT)
    with pytest.raises(ValueError, match="no committed rows"):
        s.sample(8, np.random.default_rng(0))
    fill(s, "PP")
    with pytest.raises(EmptySubset, match="no committed rows in subset 'expert_labeled'"):
        s.sample(8, np.random.default_rng(0), subset="expert_labeled")
    with pytest.raises(ValueError, match="allowed"):
        s.sample(8, np.random.default_rng(0), reward="sparse")


def test_episode_api_errors_and_discard(path):
    s = ReplayStore.create(path, OBS, ACT)
    with pytest.raises(ValueError, match="no rows"):
        s.end_episode(terminal=True, success=True)
    s.append(obs_of(0, 0), np.zeros(2), np.zeros(2), 0, False)
    with pytest.raises(TypeError, match="allowed"):
        s.end_episode(terminal=True, success=True, mood="good")
    with pytest.raises(ValueError, match="success is terminal"):
        s.end_episode(terminal=False, success=True)
    with pytest.raises(ValueError, match="do not match"):
        s.append(np.zeros(3), np.zeros(2), np.zeros(2), 0, False)
    with pytest.raises(ValueError, match="source"):
        s.append(obs_of(0, 1), np.zeros(2), np.zeros(2), 7, False)
    s.append(np.full(4, np.nan), np.zeros(2), np.zeros(2), 0, False)
    with pytest.raises(ValueError, match="non-finite obs"):
        s.end_episode(terminal=True, success=True)
    assert s.discard_episode() == 2 and s.n_pending == 0 and s.n_rows == 0
    fill(s, "PH")
    assert s.column("step").tolist() == [0, 1] and s.n_episodes == 1
    s.close()
    assert verify(path) == []


def test_create_refuses_existing_and_second_writer(path):
    ReplayStore.create(path, OBS, ACT).close()
    with pytest.raises(StoreError, match="already exists"):
        ReplayStore.create(path, OBS, ACT)
    w = ReplayStore.open(path)
    with pytest.raises(StoreError, match="already open for writing"):
        ReplayStore.open(path)
    ReplayStore.open(path, readonly=True).close()  # readers are always welcome
    w.close()
    ReplayStore.open(path).close()  # lock released


def _edit_attrs(path, **changes):
    doc = json.loads((path / "zarr.json").read_text())
    doc["attributes"].update(changes)
    (path / "zarr.json").write_text(json.dumps(doc))


def test_schema_mismatch_and_damaged_metadata_are_clear_and_change_nothing(path):
    with ReplayStore.create(path, OBS, ACT) as s:
        fill(s, "PPH")
    _edit_attrs(path, schema_version=99)
    before = {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}
    with pytest.raises(StoreError, match=r"replay.zarr: schema version 99, this code reads version 1"):
        ReplayStore.open(path)
    assert {p: p.read_bytes() for p in path.rglob("*") if p.is_file()} == before
    _edit_attrs(path, schema_version=1, schema="something-else")
    with pytest.raises(StoreError, match="not an rlif replay store"):
        ReplayStore.open(path)
    _edit_attrs(path, schema="rlif-replay", n_committed_rows="many")
    with pytest.raises(StoreError, match="damaged metadata: attribute 'n_committed_rows'"):
        ReplayStore.open(path)
    _edit_attrs(path, n_committed_rows=50)
    with pytest.raises(StoreError, match="rows/obs has 3 rows, counters say 50"):
        ReplayStore.open(path)
    (path / "zarr.json").write_text('{"zarr_format": 3, "node_ty')  # torn
    with pytest.raises(StoreError, match="damaged metadata: zarr.json is not readable JSON"):
        ReplayStore.open(path)
    assert (path / "zarr.json").read_text() == '{"zarr_format": 3, "node_ty'  # nothing overwritten
    assert verify(path) and "damaged metadata" in verify(path)[0]


def test_missing_array_is_named(path):
    with ReplayStore.create(path, OBS, ACT) as s:
        fill(s, "PP")
    import shutil
    shutil.rmtree(path / "rows" / "intervening")
    with pytest.raises(StoreError, match="rows/intervening missing"):
        ReplayStore.open(path, readonly=True)


def test_open_truncates_uncommitted_tail(path):
    with ReplayStore.create(path, OBS, ACT) as s:
        fill(s, "PPP")
    g = zarr.open_group(str(path), mode="r+")  # simulate a writer that died after writing data
    for name in ("obs", "step"):
        a = g[f"rows/{name}"]
        a.resize((10, *a.shape[1:]))
        a[3:10] = 7
    (path / "rows" / "zarr.9f.partial").write_text("half a file")
    with ReplayStore.open(path) as s:
        assert s.n_rows == 3 and g["rows/obs"].shape[0] == 3  # cut back to the counters
        fill(s, "PH", ep0=1)
    g = zarr.open_group(str(path), mode="r")
    assert g["rows/obs"].shape == (5, 4) and g["rows/step"][:].tolist() == [0, 1, 2, 0, 1]
    assert not list(path.rglob("*.partial"))
    assert verify(path) == []


def test_reader_refresh_and_write_behind(path):
    w = ReplayStore.create(path, OBS, ACT, config=ReplayConfig(flush_interval_s=3600))
    r = ReplayStore.open(path, readonly=True)
    fill(w, "PPH")
    assert w.n_rows == 3 and r.refresh() == 0 and r.n_rows == 0  # not flushed yet
    w.flush()
    assert r.refresh() == 3 and r.n_rows == 3 and r.n_episodes == 1
    fill(w, "HP|PP", ep0=1)
    w.close()
    assert r.refresh() == 4 and r.episodes["length"].tolist() == [3, 2, 2]
    b = r.sample(64, np.random.default_rng(0), symmetric=True)
    assert len(b["index"]) == 64
    with pytest.raises(StoreError, match="readonly"):
        r.append(obs_of(0, 0), np.zeros(2), np.zeros(2), 0, False)
    r.close()


def test_ram_stays_close_to_raw_bytes(path):
    cfg = ReplayConfig(flush_interval_s=3600)
    with ReplayStore.create(path, [f"o{i}" for i in range(18)], [f"a{i}" for i in range(6)], config=cfg) as s:
        for i in range(20_000):
            s.append(np.zeros(18), np.zeros(6), np.zeros(6), 0, False)
            if i % 100 == 99:
                s.end_episode(terminal=False, success=False, truncated=True)
    with ReplayStore.open(path, readonly=True) as s:
        assert s.ram_bytes / s.n_rows < 1.5 * s.rows.row_bytes


def test_verify_names_damaged_rows(path):
    with ReplayStore.create(path, OBS, ACT) as s:
        fill(s, "PPH|PHP")
    assert verify(path) == []
    g = zarr.open_group(str(path), mode="r+")
    g["rows/step"][4] = 9
    g["rows/obs"][1, 2] = np.nan
    g["rows/expert_action"][0] = [np.nan, 1.0]
    g["rows/terminal"][0] = True
    problems = verify(path)
    for text in ("rows/step does not count", "rows/obs holds NaN", "rows/expert_action: a row is partly NaN",
                 "rows/terminal set on a row that is not its episode's last"):
        assert any(text in p for p in problems), (text, problems)


def test_create_is_atomic_and_makes_parents(tmp_path):
    path = tmp_path / "runs" / "r1" / "replay.zarr"
    ReplayStore.create(path, OBS, ACT).close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["replay.zarr"]  # no temp folder left
    with pytest.raises(StoreError, match="already exists"):
        ReplayStore.create(path, OBS, ACT)
    with pytest.raises(StoreError, match="unique"):
        ReplayStore.create(tmp_path / "other.zarr", ["a", "a"], ACT)
    assert not (tmp_path / "other.zarr").exists()
