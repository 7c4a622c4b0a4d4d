"""A damaged replay store is diagnosed and never silently cut: counters below the data, deleted or
garbage chunks, a read-only filesystem; `rlif store repair` explains, backs up, then fixes."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from learner.config import ReplayConfig
from learner.replay import ReplayStore, StoreError
from learner.replay_verify import verify
from robot_stack.cli.main import main

pytestmark = pytest.mark.unit
OBS, ACT = [f"o{i}" for i in range(4)], ["x", "y"]
ROOT = Path(__file__).resolve().parents[2]


def make(path, episodes=10, steps=10):
    """A store of `episodes` x `steps` rows whose values say where they belong (small chunks)."""
    with ReplayStore.create(path, OBS, ACT, config=ReplayConfig(chunk_rows=16, chunk_episodes=4)) as s:
        for e in range(episodes):
            for k in range(steps):
                s.append(np.arange(4, dtype=np.float32) + 1000 * e + k, np.full(2, 0.1), np.full(2, 0.2), 0, False,
                         t=0.1 * k)
            s.end_episode(terminal=True, success=True)
    return path


def edit_attrs(path, **attrs):
    doc = json.loads((path / "zarr.json").read_text())
    doc["attributes"].update(attrs)
    (path / "zarr.json").write_text(json.dumps(doc))


def snapshot(path):
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def cli(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("attrs", [{"n_committed_rows": 60}, {"n_committed_episodes": 6},
                                   {"n_committed_rows": 60, "n_committed_episodes": 7}])
def test_a_counter_below_the_data_is_refused_and_nothing_is_deleted(tmp_path, attrs):
    path = make(tmp_path / "S")
    edit_attrs(path, **attrs)
    before = snapshot(path)
    with pytest.raises(StoreError, match=r"counters disagree with the data.*rlif store repair"):
        ReplayStore.open(path).close()
    assert snapshot(path) == before  # not one chunk file deleted or rewritten
    assert any("repair" in p for p in verify(path))


def test_repair_explains_then_backs_up_and_recovers_every_row(tmp_path, capsys):
    path = make(tmp_path / "S")
    edit_attrs(path, n_committed_rows=60)
    before = snapshot(path)
    rc, out, _ = cli(capsys, "store", "repair", str(path))
    assert rc == 1 and "60 rows / 10 episodes to 100 rows / 10 episodes" in out and "40 rows" in out
    assert "cut: nothing" in out and "--yes" in out
    assert snapshot(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["S"]
    rc, out, err = cli(capsys, "store", "repair", str(path), "--yes")
    assert rc == 0 and "backup" in out, err
    backup = next(p for p in tmp_path.iterdir() if p.name.startswith("S.backup-"))
    assert snapshot(backup) == before
    assert verify(path) == []
    with ReplayStore.open(path) as s:
        assert (s.n_rows, s.n_episodes) == (100, 10)
        assert (s.column("obs")[:, 0] == 1000 * s.column("episode") + s.column("step")).all()
    rc, out, _ = cli(capsys, "store", "repair", str(path))
    assert rc == 0 and "nothing to repair" in out


def test_a_deleted_chunk_is_reported_by_verify_and_refused_by_the_writer(tmp_path, capsys):
    path = make(tmp_path / "S")
    (path / "rows" / "obs" / "c" / "2" / "0").unlink()  # rows 32..47 would read back as zeros
    problems = verify(path)
    assert any("rows/obs: 1 chunk file(s) missing (chunk 2, rows from 32)" in p for p in problems), problems
    rc, _, err = cli(capsys, "store", "verify", str(path))
    assert rc == 1 and "missing" in err and "Traceback" not in err
    before = snapshot(path)
    with pytest.raises(StoreError, match="missing.*rlif store repair"):
        ReplayStore.open(path)
    assert snapshot(path) == before
    rc, out, _ = cli(capsys, "store", "repair", str(path), "--yes")
    assert rc == 0 and "to 30 rows / 3 episodes" in out  # the episodes before the hole are kept
    assert verify(path) == []


def test_all_zero_chunks_are_written_so_missing_means_damage(tmp_path):
    path = make(tmp_path / "S")  # source, intervening, terminal... are all-zero chunks here
    for col in ("source", "intervening", "truncated"):
        assert list((path / "rows" / col / "c").iterdir()), col
    assert verify(path) == []


def test_a_garbage_chunk_is_one_line_everywhere(tmp_path, capsys):
    path = make(tmp_path / "S")
    (path / "rows" / "t" / "c" / "0").write_bytes(os.urandom(300))
    for cmd in ("inspect", "verify"):
        rc, _, err = cli(capsys, "store", cmd, str(path))
        assert rc == 1 and "rows/t" in err and "decode" in err and "Traceback" not in err, err
    for readonly in (True, False):
        with pytest.raises(StoreError, match="rows/t holds a chunk that does not decode"):
            ReplayStore.open(path, readonly=readonly)


def test_repair_refuses_while_a_writer_has_the_store(tmp_path, capsys):
    path = make(tmp_path / "S", episodes=2)
    with ReplayStore.open(path):
        rc, _, err = cli(capsys, "store", "repair", str(path), "--yes")
    assert rc == 1 and "already open for writing" in err


READ_ONLY_SCRIPT = r"""
import subprocess, sys
import numpy as np
from learner.replay import ReplayStore, StoreError
d, path = sys.argv[1], sys.argv[2]
def ro():
    subprocess.run(["mount", "-o", "remount,bind,ro", d], check=True)
w = ReplayStore.open(path)                  # writable now
w.append(np.zeros(4), np.zeros(2), np.zeros(2), 0, False)
ro()                                        # the filesystem turns read-only under the writer
try:
    w.end_episode(terminal=False, success=False, truncated=True)
    print("COMMITTED")
except StoreError as e:
    print("END", w.n_episodes, w.n_pending, str(e).splitlines()[0][:200])
w._unlock()
try:
    ReplayStore.open(path)
    print("OPENED")
except StoreError as e:
    print("OPEN", str(e))
print("READ", ReplayStore.open(path, readonly=True).n_episodes)
"""


def test_a_read_only_filesystem_is_refused_at_open_and_never_half_commits(tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to mount a read-only bind mount in a private namespace")
    d = tmp_path / "ro"
    path = make(d / "S", episodes=2)
    cmd = f"mount --bind {d} {d} && exec {sys.executable} -c \"$RO_SCRIPT\" {d} {path}"
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", cmd], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "RO_SCRIPT": READ_ONLY_SCRIPT})
    if r.returncode != 0 and "mount" in r.stderr and "permission denied" in r.stderr.lower():
        pytest.skip(f"mount not permitted here: {r.stderr.strip()[:200]}")
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())
    assert "COMMITTED" not in r.stdout
    assert lines["END"].startswith("2 1 ") and "episode not committed" in lines["END"]  # counted nowhere, still in flight
    assert "cannot write to the store (Read-only file system" in lines["OPEN"]
    assert lines["READ"] == "2"
    with ReplayStore.open(path) as s:  # outside the namespace the folder is writable: nothing was lost
        assert s.n_episodes == 2
    assert verify(path) == []
