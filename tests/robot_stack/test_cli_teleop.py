"""`rlif teleop --check` as a user runs it (real subprocesses)."""
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time

import pytest

from tests.helpers import wait_for

# The console script, as users run it. (`python -m robot_stack.cli.main` loads main.py twice, as
# __main__ and as robot_stack.cli.main, so a CliError raised by a subcommand is not caught there.)
RLIF = [os.path.join(os.path.dirname(sys.executable), "rlif")]


def run(*args, env=None, timeout=60):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def assert_one_line_error(r, *needles):
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.e2e
def test_check_with_the_fake_device_prints_one_json_line():
    r = run("teleop", "--check", "--device", "fake", "--json", "--seconds", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"rate_hz", "takeovers", "releases", "buttons"} <= out.keys()
    assert out["takeovers"] >= 2 and out["releases"] >= 1 and out["buttons"] >= 1
    assert out["requests"]["request_success"] >= 1 and out["faults"] == 0
    assert out["rate_hz"] > 0  # the measured value is reported, never asserted against a target


@pytest.mark.e2e
def test_no_device_is_one_line_with_the_udev_fix():
    r = run("teleop", "--check", "--device", "spacemouse", "--set", "teleop.hid_path=/dev/hidraw-none")
    assert_one_line_error(r, "no HID device at teleop.hid_path=/dev/hidraw-none", "99-spacemouse.rules")


@pytest.mark.e2e
def test_no_hidapi_is_one_line_with_the_apt_fix(tmp_path):
    # shadow pyspacemouse's backend with one that fails to load libhidapi, as on a bare machine
    (tmp_path / "easyhid.py").write_text(
        "raise OSError(\"cannot load library 'libhidapi-hidraw.so.0': No such file or directory\")\n")
    r = run("teleop", "--check", "--device", "spacemouse", env={"PYTHONPATH": f"{tmp_path}:{os.getcwd()}"})
    assert_one_line_error(r, "hidapi library not found", "apt-get install -y libhidapi-hidraw0")


@pytest.mark.e2e
def test_keyboard_without_a_terminal_is_one_line():
    r = run("teleop", "--check", "--device", "keyboard", "--json", "--seconds", "1")
    assert_one_line_error(r, "keyboard needs a terminal", "ssh -t")


@pytest.mark.e2e
def test_keyboard_check_through_a_pseudo_terminal():
    master, slave = pty.openpty()
    p = subprocess.Popen([*RLIF, "teleop", "--check", "--device", "keyboard", "--json", "--seconds", "3"],
                         stdin=slave, stdout=slave, stderr=subprocess.PIPE, close_fds=True)
    os.close(slave)
    out = b""
    try:
        # Type only once the program has put the terminal in cbreak mode: keys typed earlier are
        # echoed in canonical mode (and land in front of the JSON line). The pty's master reports
        # the slave's termios flags.
        wait_for(lambda: p.poll() is not None or not termios.tcgetattr(master)[3] & termios.ICANON, 60,
                 interval=0.05, what="the keyboard check entering cbreak mode")
        assert p.poll() is None, "keyboard check exited before reading keys"
        os.write(master, b"www")
        time.sleep(0.2)
        os.write(master, b"g")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if p.poll() is not None and not select.select([master], [], [], 0)[0]:
                break
        assert p.wait(timeout=30) == 0, p.stderr.read().decode()
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    line = [x for x in out.decode().replace("\r", "").splitlines() if x.startswith("{")][-1]
    res = json.loads(line)
    assert res["takeovers"] >= 1 and res["requests"]["request_success"] == 1 and res["buttons"] == 1


@pytest.mark.unit
def test_operator_events_match_the_topic_contract():
    from robot_stack.topics import EventKind
    from teleop import operator

    assert operator.REQUEST_SUCCESS == EventKind.REQ_SUCCESS
    assert operator.REQUEST_ABORT == EventKind.REQ_ABORT
    assert operator.FAULT == EventKind.FAULT
