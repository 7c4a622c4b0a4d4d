"""Fuzz-style tests of config input: mutated profiles and random `--set` items.

Deterministic (fixed seeds), bounded in count (N_*) and time (each loop stops at its deadline;
the number of cases run is asserted non-trivial). The promise checked for every input: the
result is a valid config (every number finite and in range) or a one-line `ConfigError` of
reasonable length; never another exception, never rc 1 from `rlif config`.
"""
from __future__ import annotations

import math
import random
import time

import pytest

from robot_stack import config as C
from robot_stack.cli.main import main

pytestmark = pytest.mark.unit
N_PROFILES, N_SETS, BUDGET_S = 300, 400, 20.0
PROFILES = sorted(C.LAUNCH_DIR.glob("*.yaml"))
KEYS = [k for k, _, _ in C.describe()]
SCALARS = [".nan", ".inf", "-.inf", "-1", "0", "1e999", "1.0e999", "9" * 400, "x", "''", "null", "true", "[]",
           "{}", "[1, 2]", "[.nan, .nan, .nan]", "{a: 1}", "&a [1]", "*a", "!!binary aGk=", "2024-01-01",
           "!!python/object:os.system ls", "[[[[[[[[1]]]]]]]]", "0x1F", "1_000", "~", "'\\xff'", ": x"]


def bounded_check(fn):
    """Run fn(); a ConfigError must be one short line; a result must hold only finite numbers."""
    try:
        cfg = fn()
    except C.ConfigError as e:
        msg = str(e)
        assert "\n" not in msg and len(msg) < 600, msg[:300]
        return "error"
    C.check_numbers(cfg)
    for key, value, _ in C.describe(cfg):
        for x in value if isinstance(value, tuple) else (value,):
            assert not (isinstance(x, float) and not math.isfinite(x)), key
    return "ok"


def mutate(rnd: random.Random, text: str) -> bytes:
    lines = text.splitlines()
    for _ in range(rnd.randrange(1, 4)):
        op = rnd.randrange(7)
        i = rnd.randrange(len(lines) + 1)
        if op == 0 and lines:  # replace a value
            j = rnd.randrange(len(lines))
            if ":" in lines[j]:
                lines[j] = lines[j].split(":", 1)[0] + ": " + rnd.choice(SCALARS)
        elif op == 1:  # inject a key somewhere
            key = rnd.choice(KEYS)
            sec, name = key.split(".", 1) if "." in key else (key, "x")
            lines.insert(i, f"config: {{{sec}: {{{name}: {rnd.choice(SCALARS)}}}}}")
        elif op == 2 and lines:  # delete a line
            lines.pop(rnd.randrange(len(lines)))
        elif op == 3:  # top-level oddities
            lines.insert(i, rnd.choice(["extends: " + rnd.choice(["123", "sim", "nope", "[a]", "x.yaml", "''"]),
                                        "nodes: " + rnd.choice(SCALARS), "- item", "operator: 5", "? [a]\n: 1"]))
        elif op == 4 and lines:  # break indentation
            j = rnd.randrange(len(lines))
            lines[j] = " " * rnd.randrange(0, 5) + lines[j].lstrip()
        elif op == 5:  # an alias fan-out
            lines.insert(0, "x0: &x0 [1, 2, 3, 4, 5, 6, 7, 8]")
            depth = rnd.randrange(1, 8)
            for d in range(1, depth):
                lines.insert(d, f"x{d}: &x{d} [{', '.join([f'*x{d - 1}'] * 8)}]")
        else:  # random characters
            j = rnd.randrange(len(lines)) if lines else 0
            junk = "".join(rnd.choice("{}[]:&*!|>-'\"#%@` \t\\") for _ in range(rnd.randrange(1, 6)))
            lines.insert(j, junk)
    raw = ("\n".join(lines) + "\n").encode()
    if rnd.random() < 0.05:
        raw = raw[: rnd.randrange(len(raw))] + bytes([rnd.randrange(128, 256)]) + raw[rnd.randrange(len(raw)):]
    return raw


def test_mutated_profiles_give_a_config_or_one_line(tmp_path):
    rnd = random.Random(1234)
    deadline = time.monotonic() + BUDGET_S
    seen = {"ok": 0, "error": 0}
    for i in range(N_PROFILES):
        if time.monotonic() > deadline:
            break
        src = rnd.choice(PROFILES)
        p = tmp_path / f"p{i}.yaml"
        p.write_bytes(mutate(rnd, src.read_text()))
        seen[bounded_check(lambda: C.resolve(str(p)))] += 1
    assert sum(seen.values()) >= 50 and seen["ok"] and seen["error"], seen


def test_random_set_items_give_a_config_or_one_line():
    rnd = random.Random(99)
    deadline = time.monotonic() + BUDGET_S
    seen = {"ok": 0, "error": 0}
    for _ in range(N_SETS):
        if time.monotonic() > deadline:
            break
        items = []
        for _ in range(rnd.randrange(1, 4)):
            key = rnd.choice(KEYS) if rnd.random() < 0.9 else rnd.choice(["cell", "", ".", "cell..x", "a.b.c.d"])
            if rnd.random() < 0.3:
                key = key.rsplit(".", 1)[0]
            items.append(f"{key}={rnd.choice(SCALARS) if rnd.random() < 0.7 else rnd.uniform(-10, 10)}")
        seen[bounded_check(lambda: C.resolve("sim", items))] += 1
    assert sum(seen.values()) >= 100 and seen["ok"] and seen["error"], seen


def test_rlif_config_exits_0_or_2_on_mutated_profiles(tmp_path, capsys):
    rnd = random.Random(5)
    codes = set()
    for i in range(30):
        p = tmp_path / f"q{i}.yaml"
        p.write_bytes(mutate(rnd, rnd.choice(PROFILES).read_text()))
        rc = main(["config", "--profile", str(p)])
        err = capsys.readouterr().err
        assert rc in (0, 2) and "Traceback" not in err, err[:500]
        codes.add(rc)
    assert codes == {0, 2}
