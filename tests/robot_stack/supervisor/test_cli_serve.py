"""`rlif serve --run-dir D`: a real process browsing a run folder, read-only, following the file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from robot_stack.supervisor.metrics_file import COLUMNS

pytestmark = pytest.mark.e2e


def start_serve(run_dir, *extra):
    p = subprocess.Popen([sys.executable, "-m", "robot_stack.cli.main", "serve", "--run-dir", str(run_dir),
                          "--port", "0", "--poll", "0.2", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert "supervisor (read-only): http://127.0.0.1:" in line, (line, p.stderr.read() if p.poll() is not None else "")
    return p, line.split(": ", 1)[1].strip().rstrip("/")


def test_serve_browses_a_run_read_only_and_follows_the_metrics_file(tmp_path):
    from robot_stack.config import RunConfig, merge, save

    save(merge(RunConfig(), {"train": {"window": 7}}), tmp_path / "config.yaml")
    csv = tmp_path / "metrics.csv"
    csv.write_text(",".join(COLUMNS) + "\n0,1,2,0.2,10,0,5.0,1.0\n")
    p, url = start_serve(tmp_path)
    try:
        rows = httpx.get(url + "/api/metrics", timeout=5).json()["rows"]
        assert [r["episode"] for r in rows] == [0]
        st = httpx.get(url + "/api/status", timeout=5).json()
        assert st["read_only"] and st["episodes"] == 1 and st["window"] == 7
        r = httpx.post(url + "/api/estop", timeout=5)
        assert r.status_code == 409 and "no live graph" in r.json()["detail"]
        with open(csv, "a") as f:
            f.write("1,1,0,0,8,1,6.0,2.0\n")
        deadline = time.monotonic() + 10
        while httpx.get(url + "/api/status", timeout=5).json()["episodes"] < 2:
            assert time.monotonic() < deadline, "new row not picked up"
            time.sleep(0.1)
        assert not (tmp_path / "supervisor.token").exists()
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(10) == 0


def test_serve_tolerates_a_run_without_metrics_and_rejects_a_missing_folder(tmp_path):
    p, url = start_serve(tmp_path)
    try:
        assert httpx.get(url + "/api/metrics", timeout=5).json()["rows"] == []
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    r = subprocess.run([sys.executable, "-m", "robot_stack.cli.main", "serve", "--run-dir",
                        str(tmp_path / "nope")], capture_output=True, text=True, timeout=60,
                       env={**os.environ})
    assert r.returncode == 2 and "no such folder" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_on_a_signal_even_when_started_with_sigint_ignored(tmp_path, sig):
    """A non-interactive shell starts background jobs (`rlif serve ... &`) with SIGINT ignored."""
    p = subprocess.Popen([sys.executable, "-m", "robot_stack.cli.main", "serve", "--run-dir", str(tmp_path),
                          "--port", "0", "--poll", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert "supervisor (read-only): http://" in p.stdout.readline()
    finally:
        p.send_signal(sig)
        rc = p.wait(10)
    assert rc == 0
