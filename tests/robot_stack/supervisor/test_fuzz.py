"""Fuzz-style tests of the supervisor's inputs: headers, bodies, query strings and metrics files.

Deterministic (fixed seeds), bounded in count (N_* below) and in time (each loop stops at its
deadline; what it covered is asserted non-trivial). Requests go straight into the ASGI app with
raw bytes, so nothing a client library would refuse to send is filtered out first. The promise
checked for every input: never a 500 or an exception, every /api error is strict JSON
(no bare NaN), the state stays consistent and bounded.
"""
from __future__ import annotations

import asyncio
import json
import random
import time

import pytest

from robot_stack.config import SupervisorConfig
from robot_stack.supervisor.app import create_app
from robot_stack.supervisor.metrics_file import COLUMNS, read_metrics
from robot_stack.supervisor.state import SupervisorState
from robot_stack.topics import EventKind as K
from tests.robot_stack.supervisor.conftest import TOKEN
from tests.robot_stack.supervisor.helpers import EventLog

pytestmark = pytest.mark.unit
N_REQUESTS, N_FILES, BUDGET_S = 600, 150, 20.0
PATHS = ["/api/status", "/api/metrics", "/api/stream", "/api/camera.jpg", "/api", "/",
         "/api/estop", "/api/estop/clear", "/api/episode/start", "/api/episode/success", "/api/episode/abort",
         "/api/training/pause", "/api/training/resume", "/api/nope", "/api/metrics/../status", "/static/../x"]
ALLOWED = {200, 400, 401, 404, 405, 409, 413, 422, 503}


def strict_json(data: bytes):
    def refuse(name):
        raise ValueError(f"bare {name}")
    return json.loads(data, parse_constant=refuse)


def nasty_text(rnd: random.Random) -> str:
    pick = rnd.randrange(10)
    if pick == 0:
        return "".join(chr(rnd.randrange(0, 0x2FFF)) for _ in range(rnd.randrange(0, 40)))
    if pick == 1:
        return rnd.choice(["nan", "inf", "-inf", "1e999", "-1", "0", "-0", "9" * rnd.randrange(1, 5000), "1.5",
                           "0x10", " 3", "3 ", "", "true", "null"])
    if pick == 2:
        return "[" * rnd.randrange(1, 3000) + "]" * rnd.randrange(0, 3000)
    if pick == 3:
        return json.dumps({"reason": rnd.choice(["x" * rnd.randrange(0, 400), 5, None, [1], {"a": 1}]),
                           **({"extra": 1} if rnd.random() < 0.3 else {})})
    if pick == 4:
        return "%" + "".join(rnd.choice("0123456789abcdefXYZ%&=+;") for _ in range(rnd.randrange(1, 30)))
    return "".join(rnd.choice("abc019=&-.,;:\"'{}[] \t\\/") for _ in range(rnd.randrange(0, 60)))


def nasty_bytes(rnd: random.Random) -> bytes:
    pick = rnd.randrange(4)
    if pick == 0:
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 200)))
    if pick == 1:
        return b"{" * rnd.randrange(1, 40000)
    if pick == 2:
        return b""
    return nasty_text(rnd).encode("utf-8", "surrogatepass")


def random_request(rnd: random.Random) -> tuple[str, str, bytes, list, list[bytes]]:
    path = rnd.choice(PATHS) if rnd.random() < 0.9 else "/" + nasty_text(rnd)
    method = ("POST" if path.split("/")[2:3] in (["estop"], ["episode"], ["training"]) else "GET")
    if rnd.random() < 0.15:
        method = rnd.choice(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "X" * rnd.randrange(1, 9)])
    query = b""
    if rnd.random() < 0.6:
        keys = ["since", "limit", "token", nasty_text(rnd)]
        query = "&".join(f"{rnd.choice(keys)}={nasty_text(rnd)}" for _ in range(rnd.randrange(1, 4))).encode(
            "utf-8", "surrogatepass")
    host = b"127.0.0.1:8765" if rnd.random() < 0.8 else rnd.choice([
        nasty_bytes(rnd)[:300], b"[::1]evil.com", b"localhost:80:evil", b"[::1]:8765", b"localhost", b"evil.com"])
    headers = [(b"host", host)]
    if rnd.random() < 0.5:
        auth = rnd.choice([f"Bearer {TOKEN}", f"Bearer {TOKEN}", "Bearer", "Basic x", nasty_text(rnd), TOKEN])
        headers.append((b"authorization", auth.encode("utf-8", "surrogatepass")))
    body_chunks: list[bytes] = []
    if method == "POST" or rnd.random() < 0.2:
        body = nasty_bytes(rnd)
        cut = rnd.randrange(0, len(body) + 1)
        body_chunks = [body[:cut], body[cut:]]
        if rnd.random() < 0.7:
            cl = rnd.choice([str(len(body)), str(len(body)), "0", "-1", "abc", "99999999999999999999", ""])
            headers.append((b"content-length", cl.encode()))
        ctype = rnd.choice([b"application/json", b"text/plain", b"application/x-www-form-urlencoded",
                            nasty_bytes(rnd)[:50]])
        headers.append((b"content-type", ctype))
    for _ in range(rnd.randrange(0, 4)):
        name = rnd.choice([b"last-event-id", b"x-forwarded-for", b"cookie", b"accept", nasty_bytes(rnd)[:20].lower()])
        headers.append((name, nasty_bytes(rnd)[:rnd.choice([10, 100, 5000])]))
    return method, path, query, headers, body_chunks


async def call(app, method, path, query, headers, chunks, timeout=5.0) -> tuple[int, dict, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode("utf-8", "surrogatepass"),
             "query_string": query, "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8765)}
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    pending = pending or [{"type": "http.request", "body": b"", "more_body": False}]
    out = {"status": None, "headers": {}, "body": b""}

    async def receive():
        if pending:
            return pending.pop(0)
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(msg):
        if msg["type"] == "http.response.start":
            out["status"] = msg["status"]
            out["headers"] = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in msg.get("headers", [])}
        elif msg["type"] == "http.response.body":
            out["body"] += msg.get("body", b"")

    await asyncio.wait_for(app(scope, receive, send), timeout)
    return out["status"], out["headers"], out["body"]


def check_response(method, path, status, headers, body):
    assert status in ALLOWED, (method, path, status, body[:300])
    if path.startswith("/api") and status != 200 and method != "HEAD":
        assert headers.get("content-type", "").startswith("application/json"), (path, status, headers)
        assert "detail" in strict_json(body)
    if status == 200 and path in ("/api/status", "/api/metrics") and method == "GET":
        strict_json(body)


def test_random_requests_never_crash_and_errors_stay_json():
    rnd = random.Random(20240601)
    events = EventLog()
    state = SupervisorState(events, window=5, history=50)
    events.echo = state.on_event
    app = create_app(state, TOKEN, cfg=SupervisorConfig(max_body_bytes=4096))
    seen: dict[int, int] = {}

    async def run_all():
        deadline = time.monotonic() + BUDGET_S
        for i in range(N_REQUESTS):
            if time.monotonic() > deadline:
                break
            method, path, query, headers, chunks = random_request(rnd)
            status, h, body = await call(app, method, path, query, headers, chunks)
            check_response(method, path, status, h, body)
            seen[status] = seen.get(status, 0) + 1
            if i % 25 == 0:  # interleave graph input, some of it poisoned
                state.on_event(K.EPISODE_END, {"episode": i, "steps": rnd.choice([10, "x", None, 1e999]),
                                               "interventions": rnd.choice([0, 3, float("nan")]), "success": True})
                state.on_status({"node": rnd.choice(["learner", "cell", "", None, 5]),
                                 "updates_per_s": rnd.choice([1.0, float("inf"), "fast", None]),
                                 "episode": rnd.choice([1, "two", float("nan")])})
    asyncio.run(run_all())
    assert sum(seen.values()) >= 100 and {200, 400, 401}.issubset(seen), seen
    strict_json(json.dumps(state.status(), allow_nan=False))  # the state itself stays JSON-clean
    assert len(state.metrics()) <= 50
    # an authenticated, bodiless e-stop still works after all that
    status, _, body = asyncio.run(call(app, "POST", "/api/estop", b"",
                                       [(b"host", b"localhost"), (b"authorization", f"Bearer {TOKEN}".encode())], []))
    assert status == 200 and strict_json(body)["status"]["estop"]


def random_metrics_text(rnd: random.Random, jsonl: bool) -> str:
    lines = []
    if not jsonl and rnd.random() < 0.9:
        lines.append(",".join(COLUMNS if rnd.random() < 0.8 else rnd.sample(list(COLUMNS), 4) + ["reason"]))
    for ep in range(rnd.randrange(0, 40)):
        vals: list = [ep, rnd.choice([0, 1]), rnd.randrange(5), rnd.random(), rnd.randrange(1, 100), rnd.choice([0, 1]),
                      rnd.random() * 50, ep * 1.5]
        for _ in range(rnd.randrange(0, 3)):
            k = rnd.randrange(len(vals))
            vals[k] = rnd.choice(["inf", "1e999", "nan", "-1", "", '"', '""', "9" * 5000, nasty_text(rnd),
                                  float("nan"), 10 ** 400, [1, float("nan")], {"x": {"y": float("inf")}}])
        if jsonl:
            obj = dict(zip(COLUMNS, vals))
            line = json.dumps(obj, default=str) if rnd.random() < 0.9 else nasty_text(rnd)
        else:
            line = ",".join(str(v) for v in vals)
        if rnd.random() < 0.05:
            line = line[: rnd.randrange(len(line) + 1)]
        lines.append(line)
    text = "\n".join(lines) + ("\n" if rnd.random() < 0.8 else "")
    if rnd.random() < 0.1:
        text += "\x00\ufffd\r\n" + "x" * rnd.randrange(100)
    return text


def test_random_metrics_files_never_crash_and_serve_strict_json(tmp_path):
    rnd = random.Random(7)
    deadline = time.monotonic() + BUDGET_S
    done = 0
    for i in range(N_FILES):
        if time.monotonic() > deadline:
            break
        d = tmp_path / str(i)
        d.mkdir()
        jsonl = rnd.random() < 0.5
        (d / ("metrics.jsonl" if jsonl else "metrics.csv")).write_bytes(
            random_metrics_text(rnd, jsonl).encode("utf-8", "surrogatepass"))
        got = read_metrics(d)
        state = SupervisorState(None, history=rnd.choice([3, 10, 1000]))
        state.add_metrics(got.rows)
        seq = state.status()["metrics_seq"]
        assert seq <= len({r["episode"] for r in got.rows})
        state.add_metrics(read_metrics(d).rows)  # a re-read adds nothing new
        assert state.status()["metrics_seq"] == seq
        assert len(state.metrics()) <= state._rows.maxlen
        strict_json(json.dumps({"rows": state.metrics(), "status": state.status()}, allow_nan=False))
        done += 1
    assert done >= 30
