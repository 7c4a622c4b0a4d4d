"""Smoke tests of the `rlif` entry point and `rlif doctor` / `rlif config` (real subprocesses)."""
import json
import subprocess
import sys

import pytest

RLIF = [sys.executable, "-m", "robot_stack.cli.main"]


def run(*args, timeout=120):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.unit
def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    assert "doctor" in r.stdout and "config" in r.stdout


@pytest.mark.unit
def test_config_shows_resolved_values_and_rejects_bad_keys():
    r = run("config", "--json", "--set", "agent.utd=7")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["agent"]["utd"] == 7
    r = run("config", "--set", "agent.nope=1")
    assert r.returncode == 2
    assert "agent.nope: unknown key" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.graph
def test_doctor_passes_here_with_json(tmp_path):
    r = run("doctor", "--json", "--runs", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    by_name = {c["name"]: c for c in out["checks"]}
    assert out["ok"] is True
    assert by_name["ros 2 pub/sub"]["level"] == "ok" and "median" in by_name["ros 2 pub/sub"]["detail"]
    assert by_name["mujoco render"]["level"] == "ok"
    assert by_name["spacemouse"]["required"] is False
    from learner.bench_preset import cpu_bf16_native

    if "not available" in by_name["cuda"]["detail"]:  # the CPU learner's precision advice matches this CPU
        assert ("no native bf16" in by_name["cuda"]["detail"]) is not cpu_bf16_native()
