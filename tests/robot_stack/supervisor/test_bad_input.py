"""The supervisor on hostile or broken input (issue reproductions): the e-stop is never refused for
an empty or absurd body, metrics files with inf / stray quotes / nested NaN neither kill nor
confuse it, old rows are not re-sent, headers are bounded and the rebinding guard is strict."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from robot_stack.config import SupervisorConfig
from robot_stack.supervisor.metrics_file import COLUMNS, read_metrics
from robot_stack.supervisor.routes.stream import MAX_ROWS_PER_EVENT, sse
from robot_stack.supervisor.state import SupervisorState
from robot_stack.topics import EventKind as K
from tests.robot_stack.supervisor.conftest import AUTH
from tests.robot_stack.supervisor.test_api import make_client

HEADER = ",".join(COLUMNS) + "\n"


def row(ep: int, success: int = 1) -> str:
    return f"{ep},{success},0,0.0,10,1,5.0,{ep}.0\n"


def strict_json(text: str):
    """json.loads that refuses NaN / Infinity, as a browser's JSON.parse does."""
    def refuse(name):
        raise ValueError(f"bare {name} in JSON")
    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------- e-stop bodies (defect 4)
@pytest.mark.unit
def test_a_negative_body_limit_never_refuses_an_empty_estop(state, events):
    client = make_client(state, max_body=-1)  # what `supervisor.max_body_bytes=-1` used to give
    r = client.post("/api/estop", headers={**AUTH, "Content-Length": "0"}, content=b"")
    assert r.status_code == 200 and r.json()["status"]["estop"] and events.kinds() == [K.ESTOP]
    with pytest.raises(ValueError, match="max_body_bytes"):
        SupervisorConfig(max_body_bytes=-1).validate()


@pytest.mark.unit
def test_an_estop_with_30000_deep_json_still_stops_the_cell(state, events):
    body = b"[" * 30000 + b"]" * 30000
    r = make_client(state, max_body=100_000).post("/api/estop", headers={**AUTH, "content-type": "application/json"},
                                                  content=body)
    assert r.status_code == 200 and r.json()["status"]["estop"], r.text
    assert "body ignored" in r.json()["warning"] and events.kinds() == [K.ESTOP]


@pytest.mark.unit
def test_deep_json_on_another_control_endpoint_is_422_not_500(state):
    client = make_client(state, max_body=100_000)
    r = client.post("/api/episode/abort", headers={**AUTH, "content-type": "application/json"},
                    content=b"[" * 30000 + b"]" * 30000)
    assert r.status_code in (400, 422) and r.headers["content-type"] == "application/json"


# ---------------------------------------------------------------- metrics files (defect 5)
@pytest.mark.unit
@pytest.mark.parametrize("bad", ["inf", "1e999", "-inf", "nan", "9" * 5000])
def test_inf_in_an_integer_column_skips_that_row_only(tmp_path, bad):
    (tmp_path / "metrics.csv").write_text(HEADER + row(0) + f"{bad},1,0,0.0,10,1,5.0,1.0\n"
                                          + f"2,1,{bad},0.0,10,1,5.0,1.0\n" + row(3))
    got = read_metrics(tmp_path)
    assert [r["episode"] for r in got.rows] == [0, 3] and got.skipped == 2


@pytest.mark.unit
def test_a_stray_quote_spoils_only_its_own_line(tmp_path):
    (tmp_path / "metrics.csv").write_text(HEADER + row(0) + '1,1,0,0.0,10,"1,5.0,1.0\n' + row(2) + row(3))
    got = read_metrics(tmp_path)
    assert [r["episode"] for r in got.rows] == [0, 2, 3] and got.skipped == 1


@pytest.mark.unit
def test_nested_nan_in_jsonl_reaches_the_browser_as_valid_json(tmp_path, state):
    lines = [{"episode": 0, "success": 1, "extra": {"x": float("nan"), "deep": [1.0, float("inf")]}},
             {"episode": 1, "success": 0, "updates_per_s": float("nan")}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    state.add_metrics(read_metrics(tmp_path).rows)
    event = sse("metrics", {"rows": state.metrics(0, MAX_ROWS_PER_EVENT)}, id=2)  # what /api/stream sends
    rows = strict_json(event.decode().split("data: ", 1)[1])["rows"]
    assert [x["episode"] for x in rows] == [0, 1]
    assert rows[0]["extra"] == {"x": None, "deep": [1.0, None]} and rows[1]["updates_per_s"] is None
    assert strict_json(make_client(state).get("/api/metrics").text)["rows"] == rows


@pytest.mark.unit
def test_rows_beyond_history_are_not_resent_when_the_file_grows(tmp_path):
    state = SupervisorState(None, history=5)
    path = tmp_path / "metrics.csv"
    path.write_text(HEADER + "".join(row(e) for e in range(12)))
    state.add_metrics(read_metrics(tmp_path).rows)
    seq = state.status()["metrics_seq"]
    assert [r["episode"] for r in state.metrics()] == list(range(7, 12))
    for e in range(12, 15):  # the file grows: re-read whole, as `rlif serve` does
        with open(path, "a") as f:
            f.write(row(e))
        state.add_metrics(read_metrics(tmp_path).rows)
    assert state.status()["metrics_seq"] == seq + 3  # only the 3 new rows got new seqs
    assert [r["episode"] for r in state.metrics()] == list(range(10, 15))
    assert [r["episode"] for r in state.metrics(since=seq)] == [12, 13, 14]


@pytest.mark.e2e
def test_rlif_serve_survives_inf_in_an_integer_column(tmp_path):
    (tmp_path / "metrics.csv").write_text(HEADER + row(0) + "inf,1,0,0.0,10,1,5.0,1.0\n" + row(2))
    p = subprocess.Popen([sys.executable, "-m", "robot_stack.cli.main", "serve", "--run-dir", str(tmp_path),
                          "--port", "0", "--poll", "0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert "supervisor (read-only): http://" in line, p.stderr.read() if p.poll() is not None else line
        url = line.split(": ", 1)[1].strip().rstrip("/")
        assert [r["episode"] for r in httpx.get(url + "/api/metrics", timeout=5).json()["rows"]] == [0, 2]
        with open(tmp_path / "metrics.csv", "a") as f:  # while serving: another poisoned row, then a good one
            f.write("3,1e999,0,0.0,10,1,5.0,1.0\n" + row(4))
        deadline = time.monotonic() + 10
        while httpx.get(url + "/api/status", timeout=5).json()["episodes"] < 3:
            assert p.poll() is None, p.stderr.read()
            assert time.monotonic() < deadline, "new row not picked up"
            time.sleep(0.1)
        assert [r["episode"] for r in httpx.get(url + "/api/metrics", timeout=5).json()["rows"]] == [0, 2, 4]
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(10)
    assert rc == 0


# ---------------------------------------------------------------- headers and hosts (defect 5)
@pytest.mark.e2e
def test_an_endless_header_is_cut_off_not_buffered(live_server):
    server, url = live_server
    port = server.port
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent, refused = 0, False
    chunk = b"a" * (256 * 1024)
    try:
        sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        while sent < 64 * 1024 * 1024:  # the server must hang up long before 64 MB
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        refused = True
    except socket.timeout:
        pass
    finally:
        sock.close()
    assert refused, f"the server kept reading a {sent >> 20} MB header"
    assert sent < 32 * 1024 * 1024
    assert httpx.get(url + "/api/status", timeout=5).status_code == 200  # and it still serves


@pytest.mark.unit
@pytest.mark.parametrize("host", ["[::1]evil.com", "[::1]:80evil.com", "localhost:80:evil.com", "localhost:",
                                  "127.0.0.1.evil.com", "[::1", "localhost@evil.com", "evil.com:80"])
def test_rebinding_guard_refuses_lookalike_hosts(client, host):
    r = client.get("/api/status", headers={"Host": host})
    assert r.status_code == 400 and "not allowed" in r.json()["detail"]

