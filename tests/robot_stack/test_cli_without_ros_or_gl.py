"""Off the robot: the commands that need no ROS graph run where rclpy is not installed, and the
twin runs where no OpenGL library loads (real subprocesses of the real entry point).

"No ROS" is made by a sitecustomize.py on PYTHONPATH that makes `import rclpy` (and the ROS
message packages, which come with it) raise ModuleNotFoundError, as on a machine without the ROS 2
wheels. "No GL" is made the same way: loading libEGL / libGL / libOSMesa / libglfw raises OSError
and find_library finds none of them, which is what PyOpenGL meets on a machine without them.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

pytestmark = pytest.mark.e2e
RLIF = [sys.executable, "-m", "robot_stack.cli.main"]
REPO = Path(__file__).resolve().parents[2]

NO_ROS = '''
import sys
BLOCKED = ("rclpy", "std_msgs", "geometry_msgs", "sensor_msgs", "std_srvs", "rcl_interfaces", "builtin_interfaces")
class _NoRos:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoRos())
'''
NO_GL = '''
import ctypes, ctypes.util, re
_GL = re.compile(r"(^|/)(lib)?(EGL|GL|GLX|OSMesa|glfw|OpenGL|GLESv\\d\\w*)([._-]|$)")
_init, _find = ctypes.CDLL.__init__, ctypes.util.find_library
def _no_gl_init(self, name, *a, **k):
    if name and _GL.search(str(name)):
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")
    _init(self, name, *a, **k)
ctypes.CDLL.__init__ = _no_gl_init
ctypes.util.find_library = lambda name: None if _GL.search(name) else _find(name)
'''


def env_without(tmp_path: Path, *blocks: str, **extra: str) -> dict:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text("\n".join(blocks))
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "DISPLAY", "PYOPENGL_PLATFORM")}
    env.update(PYTHONPATH=os.pathsep.join([str(site), str(REPO)]), **extra)
    return env


def rlif(env, *args, timeout=300):
    return subprocess.run([*RLIF, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


def ok_json(r) -> dict:
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def one_clear_line(r, *words: str) -> str:
    err = r.stderr.strip()
    assert "Traceback" not in err and err.count("\n") == 0, err[-3000:]
    for w in words:
        assert w in err, err
    return err


def test_the_blocks_work(tmp_path):
    env = env_without(tmp_path, NO_ROS, NO_GL)
    r = subprocess.run([sys.executable, "-c", "import rclpy"], capture_output=True, text=True, env=env)
    assert "ModuleNotFoundError: No module named 'rclpy'" in r.stderr
    # without GL, MUJOCO_GL=egl breaks `import mujoco` itself (the failure the twin must avoid)
    r = subprocess.run([sys.executable, "-c", "import mujoco"], capture_output=True, text=True,
                       env={**env, "MUJOCO_GL": "egl"})
    assert r.returncode != 0 and "eglQueryString" in r.stderr


@pytest.mark.slow
def test_non_ros_commands_run_where_rclpy_is_missing(tmp_path):
    from learner.agents import make_agent
    from learner.checkpoint import save_checkpoint
    from learner.config import AgentConfig
    from learner.replay import ReplayStore, Source
    from sim.contract import ACTION_LABELS, OBS_LABELS

    env = env_without(tmp_path, NO_ROS)
    assert "experiment" in rlif(env, "--help").stdout
    assert ok_json(rlif(env, "config", "--json"))["agent"]["algo"] == "rlpd"
    for what in ("sim", "replay", "learner"):
        assert ok_json(rlif(env, "bench", what, "--quick", "--json"))
    out = ok_json(rlif(env, "sim", "rollout", "--episodes", "1", "--out", str(tmp_path / "roll"),
                       "--set", "cell.episode_steps=5", "--json"))
    assert out["episodes"] == 1
    with ReplayStore.create(tmp_path / "store" / "replay.zarr", list(OBS_LABELS), list(ACTION_LABELS["6d"])) as s:
        for _ in range(3):
            s.append(np.zeros(18), np.zeros(6), np.zeros(6), Source.POLICY, False)
        s.end_episode(terminal=True, success=True, truncated=False, operator="sim", cell="sim")
    assert ok_json(rlif(env, "store", "inspect", str(tmp_path / "store"), "--json"))["n_rows"] == 3
    agent = make_agent(AgentConfig(hidden=(32, 32), n_critics=2), len(OBS_LABELS), len(ACTION_LABELS["6d"]), 0)
    ckpt = save_checkpoint(tmp_path / "run" / "checkpoints", agent)
    assert ok_json(rlif(env, "eval", str(ckpt), "--episodes", "1", "--set", "cell.episode_steps=5",
                        "--json"))["episodes"] == 1
    out = ok_json(rlif(env, "experiment", "--methods", "bc", "--steps", "20", "--eval-every", "20",
                       "--eval-episodes", "1", "--demo-episodes", "1", "--final-episodes", "1", "--quiet",
                       "--set", "cell.episode_steps=20", "--set", "agent.hidden=[16, 16]",
                       "--set", "agent.warmup_rows=10", "--set", "agent.batch_size=8",
                       "--run-dir", str(tmp_path / "exp"), "--json"))
    assert [m["method"] for m in out["methods"]] == ["bc"]
    r = rlif(env, "reference", "show", str(tmp_path / "none.safetensors"))
    assert r.returncode == 1 and "ROS" not in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "serve").mkdir()
    p = subprocess.Popen([*RLIF, "serve", "--run-dir", str(tmp_path / "serve"), "--port", "0"], env=env, cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert "supervisor (read-only): http://" in line, p.stderr.read() if p.poll() is not None else line
        url = line.split(": ", 1)[1].strip().rstrip("/")
        assert httpx.get(url + "/api/status", timeout=10).status_code == 200
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(20) == 0


def test_ros_commands_say_in_one_line_what_is_missing(tmp_path):
    env = env_without(tmp_path, NO_ROS)
    for args in (["train", "--episodes", "1", "--run-dir", str(tmp_path / "t")],
                 ["up", "--episodes", "1", "--run-dir", str(tmp_path / "u")],
                 ["teach", "--seconds", "0.1"]):
        r = rlif(env, *args, timeout=120)
        assert r.returncode == 1, (args, r.stderr[-2000:])
        one_clear_line(r, f"rlif {args[0]}: needs ROS 2, which is not installed here", "requirements.txt",
                       "without ROS use experiment")
    assert not (tmp_path / "t").exists()  # refused before a run folder is made
    r = rlif(env, "doctor", "--json", "--runs", str(tmp_path), timeout=120)
    checks = {c["name"]: c for c in json.loads(r.stdout.strip().splitlines()[-1])["checks"]}
    assert r.returncode == 1 and checks["ros 2 pub/sub"]["level"] == "fail"
    assert "rclpy" in checks["ros 2 pub/sub"]["detail"] and "ros-rclpy" in checks["ros 2 pub/sub"]["fix"]


GL_SCRIPT = '''
import numpy as np, sim
from sim.cell import TwinCell
from sim.gl import RenderUnavailable
cell = TwinCell()
obs, info = cell.reset(seed=3)
for _ in range(5):
    obs, term, trunc, info = cell.apply(np.array([0.0, 0.0, -1.0, 0.0, 0.0, 0.0]))
print("z", float(obs[2]))
try:
    cell.render()
except RenderUnavailable as e:
    print("RENDER", e)
'''


@pytest.mark.parametrize("mujoco_gl", ["", "egl", "osmesa"])
def test_the_twin_simulates_without_any_gl_library(tmp_path, mujoco_gl):
    env = env_without(tmp_path, NO_GL, **({"MUJOCO_GL": mujoco_gl} if mujoco_gl else {}))
    r = subprocess.run([sys.executable, "-c", GL_SCRIPT], capture_output=True, text=True, env=env, cwd=REPO,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())
    ref = subprocess.run([sys.executable, "-c", GL_SCRIPT.split("try:")[0]], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert lines["z"] == ref.stdout.split()[-1]  # the same physics as with GL
    msg = lines["RENDER"]
    assert "\n" not in msg and "apt-get install -y libegl1" in msg and "the physics runs without it" in msg
    if mujoco_gl:
        assert f"MUJOCO_GL={mujoco_gl}" in msg


def test_doctor_and_sim_rollout_report_the_missing_gl(tmp_path):
    env = env_without(tmp_path, NO_GL)
    r = rlif(env, "doctor", "--json", "--runs", str(tmp_path), timeout=120)
    checks = {c["name"]: c for c in json.loads(r.stdout.strip().splitlines()[-1])["checks"]}
    render = checks["mujoco render"]
    assert render["level"] == "warn" and render["required"] is False
    assert "physics ok" in render["detail"] and "libEGL" in render["detail"] and "libegl1" in render["fix"]
    r = rlif(env, "sim", "rollout", "--episodes", "1", "--out", str(tmp_path / "roll"), "--set",
             "cell.episode_steps=3", timeout=120)
    assert r.returncode == 1
    one_clear_line(r, "rlif sim: no camera frame", "apt-get install -y libegl1")
