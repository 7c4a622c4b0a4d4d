"""`rlif doctor`: is this machine ready? A table of checks, each failure with its fix.

Required (exit 1 when missing): Python packages, rclpy pub/sub round trip on localhost,
MuJoCo physics, free disk in the runs folder. Warn only: MuJoCo headless rendering (only camera
frames need OpenGL), hidapi, a spacemouse.
Info: CUDA.
With `--profile robot` (a profile with `cell.kind: franka`), also the driver as this process sees
it: each franka_ros2 state topic has a publisher of the right type AND its messages arrive (a
match without data is the Fast DDS 2 / 3 shared-memory trap: both sides need
FASTDDS_BUILTIN_TRANSPORTS=UDPv4), and the impedance controller subscribes the target topic.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from robot_stack.cli.common import RUNS_DIR, CliError, add_json_arg, add_set_arg, emit_json, print_table

REQUIRED_MODULES = ("numpy", "torch", "mujoco", "gymnasium", "zarr", "safetensors", "yaml", "rich",
                    "matplotlib", "fastapi", "uvicorn", "rclpy", "std_msgs.msg", "geometry_msgs.msg",
                    "sensor_msgs.msg")
SPACEMOUSE_VENDORS = (0x256F, 0x046D)  # 3Dconnexion, Logitech (older 3Dconnexion devices)
MIN_FREE_GB = 2.0


@dataclass
class Check:
    name: str
    level: str  # ok | warn | fail | info
    detail: str
    fix: str = ""
    required: bool = True


def check_packages() -> Check:
    missing = []
    for m in REQUIRED_MODULES:
        try:
            importlib.import_module(m)
        except Exception as e:  # noqa: BLE001 - any import failure is a finding
            missing.append(f"{m} ({type(e).__name__}: {e})")
    if missing:
        return Check("python packages", "fail", "cannot import: " + "; ".join(missing),
                     "run ./rlif.sh doctor (it rebuilds .venv from requirements.txt)")
    return Check("python packages", "ok", f"{len(REQUIRED_MODULES)} modules import")


def check_ros_roundtrip(n: int = 20) -> Check:
    fix = "install ros-rclpy[fastrtps]==9.1.2 (requirements.txt); check ROS_DOMAIN_ID / firewall on loopback"
    try:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from std_msgs.msg import Float64MultiArray

        from robot_stack.topics import qos_profile
    except Exception as e:  # noqa: BLE001
        return Check("ros 2 pub/sub", "fail", f"rclpy import failed: {e}", fix)
    ctx = rclpy.Context()
    try:
        rclpy.init(context=ctx)
        node = rclpy.create_node("rlif_doctor", context=ctx)
        topic = f"/rlif_doctor_{os.getpid()}"
        got: list[float] = []
        pub = node.create_publisher(Float64MultiArray, topic, qos_profile())
        node.create_subscription(Float64MultiArray, topic, lambda m: got.append(time.perf_counter() - m.data[0]), qos_profile())
        ex = SingleThreadedExecutor(context=ctx)
        ex.add_node(node)
        deadline = time.monotonic() + 5.0
        while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
            ex.spin_once(timeout_sec=0.01)
        for _ in range(n):
            k = len(got)
            pub.publish(Float64MultiArray(data=[time.perf_counter()]))
            t_end = time.monotonic() + 1.0
            while len(got) == k and time.monotonic() < t_end:
                ex.spin_once(timeout_sec=0.01)
        node.destroy_node()
    except Exception as e:  # noqa: BLE001
        return Check("ros 2 pub/sub", "fail", f"{type(e).__name__}: {e}", fix)
    finally:
        if ctx.ok():
            rclpy.shutdown(context=ctx)
    if len(got) < n:
        return Check("ros 2 pub/sub", "fail", f"{len(got)}/{n} messages came back on localhost", fix)
    got.sort()
    return Check("ros 2 pub/sub", "ok", f"{n} round trips, median {1e3 * got[n // 2]:.2f} ms "
                                        f"(domain {os.environ.get('ROS_DOMAIN_ID', '0')})")


def check_mujoco_render() -> Check:
    """Physics must work (a step of a tiny model); rendering only warns: camera frames (dashboard,
    `rlif sim rollout`) need OpenGL, training and evaluation do not (sim/gl.py)."""
    fix = "headless rendering needs EGL: apt-get install -y libegl1 libgl1; run with MUJOCO_GL=egl"
    try:
        from sim import gl  # picks MuJoCo's GL backend before mujoco is imported
        import mujoco
        import numpy as np

        model = mujoco.MjModel.from_xml_string(
            "<mujoco><worldbody><light pos='0 0 1'/><geom type='box' size='.1 .1 .1' rgba='1 0 0 1'/>"
            "<camera name='c' pos='0 -0.6 0.3' xyaxes='1 0 0 0 0.5 1'/></worldbody></mujoco>")
        data = mujoco.MjData(model)
        mujoco.mj_step(model, data)
    except Exception as e:  # noqa: BLE001
        return Check("mujoco render", "fail", f"mujoco physics: {type(e).__name__}: {e}",
                     "reinstall mujoco (requirements.txt)")
    if gl.PROBLEM:
        return Check("mujoco render", "warn", f"physics ok, no camera frames: {gl.PROBLEM}", gl.FIX, required=False)
    try:
        gl.load_before_context()
        with mujoco.Renderer(model, 48, 64) as r:
            r.update_scene(data, camera="c")
            img = r.render()
        if img.max() == 0 or np.unique(img.reshape(-1, 3), axis=0).shape[0] < 2:
            return Check("mujoco render", "fail", "rendered frame is blank", fix)
    except Exception as e:  # noqa: BLE001
        return Check("mujoco render", "warn", f"physics ok, no camera frames: {type(e).__name__}: "
                     f"{str(e).splitlines()[0][:160]} (MUJOCO_GL={os.environ.get('MUJOCO_GL')})", gl.FIX,
                     required=False)
    return Check("mujoco render", "ok", f"mujoco {mujoco.__version__}, {os.environ.get('MUJOCO_GL')} frame 64x48")


def check_hidapi() -> tuple[Check, Check]:
    fix_lib = "sudo apt-get install -y libhidapi-hidraw0"
    try:
        import easyhid  # pyspacemouse's HID backend

        hid = easyhid.Enumeration()
    except Exception as e:  # noqa: BLE001
        return (Check("hidapi", "warn", f"cannot load hidapi: {e}", fix_lib, required=False),
                Check("spacemouse", "warn", "not checked (no hidapi)", fix_lib, required=False))
    devices = [d for d in hid.find() if d.vendor_id in SPACEMOUSE_VENDORS]
    lib = Check("hidapi", "ok", "libhidapi loads", required=False)
    if not devices:
        return lib, Check("spacemouse", "warn", "no 3Dconnexion device found",
                          "plug it in; install docker/99-spacemouse.rules into /etc/udev/rules.d/ and replug; "
                          "`rlif teleop --check` to see live axes", required=False)
    names = ", ".join(sorted({f"{d.product_string} ({d.vendor_id:04x}:{d.product_id:04x})" for d in devices}))
    return lib, Check("spacemouse", "ok", names, required=False)


def check_cuda() -> Check:
    try:
        import torch

        if torch.cuda.is_available():
            return Check("cuda", "info", f"{torch.cuda.get_device_name(0)}", required=False)
        from learner.bench_preset import cpu_bf16_native

        bf16 = ("native bf16: agent.matmul_dtype=bf16 with agent.compile=true pays off" if cpu_bf16_native()
                else "no native bf16: keep agent.matmul_dtype=fp32")
        return Check("cuda", "info", f"not available: learner runs on CPU ({torch.get_num_threads()} threads; {bf16})",
                     required=False)
    except Exception as e:  # noqa: BLE001
        return Check("cuda", "info", f"torch not importable: {e}", required=False)


def check_disk(runs: Path) -> Check:
    probe = runs if runs.exists() else Path(".")
    free_gb = shutil.disk_usage(probe).free / 1e9
    if free_gb < MIN_FREE_GB:
        return Check("disk", "fail", f"{free_gb:.1f} GB free in {probe.resolve()}",
                     f"free space or pass --run-dir on a bigger disk (need >= {MIN_FREE_GB} GB)")
    return Check("disk", "ok", f"{free_gb:.1f} GB free in {probe.resolve()}")


def check_dds_transport(cfg=None) -> Check:
    if cfg is not None and cfg.graph.dds_transport == "UDPv4":
        return Check("dds transport", "ok", "graph.dds_transport=UDPv4: the launcher sets FASTDDS_BUILTIN_TRANSPORTS "
                     "for every node (the driver needs it too: docker/compose.yaml sets it)", required=False)
    t = os.environ.get("FASTDDS_BUILTIN_TRANSPORTS", "")
    if t == "UDPv4":
        return Check("dds transport", "ok", "FASTDDS_BUILTIN_TRANSPORTS=UDPv4", required=False)
    return Check("dds transport", "warn", f"FASTDDS_BUILTIN_TRANSPORTS={t or '(unset: shared memory + UDP)'}",
                 "export FASTDDS_BUILTIN_TRANSPORTS=UDPv4 here and in the driver (docker/compose.yaml does): "
                 "Fast DDS 2 (Jazzy driver) and 3 (these wheels) share no memory transport", required=False)


def check_driver_topics(cfg, wait_s: float = 5.0, listen_s: float = 2.0) -> list[Check]:
    """The franka_ros2 topics of `cfg.franka` from this process: publisher, type, data; the target's subscriber."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from robot_stack.franka import topics as FT

    ft = FT.franka_topics(cfg.franka)
    state = {"pose": ft.pose, "wrench": ft.wrench, "joints": ft.joints}
    counts = {k: 0 for k in state}
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    try:
        node = rclpy.create_node("rlif_doctor_robot", context=ctx)
        ex = SingleThreadedExecutor(context=ctx)
        ex.add_node(node)
        for key, spec in state.items():
            node.create_subscription(spec.msg_type, spec.name, lambda m, k=key: counts.__setitem__(k, counts[k] + 1),
                                     spec.qos)
        def spin(seconds: float, until=lambda: False):
            end = time.monotonic() + seconds
            while time.monotonic() < end and not until():
                ex.spin_once(timeout_sec=0.02)

        spin(wait_s, until=lambda: all(counts.values()) and node.count_subscribers(ft.target.name) > 0)
        before = dict(counts)
        spin(listen_s)
        checks = [_topic_check(node, key, spec, counts[key] - before[key], counts[key], listen_s)
                  for key, spec in state.items()]
        subs = node.get_subscriptions_info_by_topic(ft.target.name)
        if subs:
            names = ", ".join(sorted({f"{i.node_namespace.rstrip('/')}/{i.node_name}" for i in subs}))
            checks.append(Check("franka target", "ok", f"{ft.target.name} subscribed by {names}"))
        else:
            checks.append(Check("franka target", "fail", f"nothing subscribes {ft.target.name}",
                                "is rlif_impedance_controller active? (`ros2 control list_controllers` in the driver "
                                "container; after a reflex: `rlif robot recover`)"))
        node.destroy_node()
        return checks
    finally:
        rclpy.shutdown(context=ctx)


def _topic_check(node, key: str, spec, n_listen: int, n_total: int, listen_s: float) -> Check:
    name = f"franka {key}"
    want = f"{spec.msg_type.__module__.split('.')[0]}/msg/{spec.msg_type.__name__}"
    pubs = node.get_publishers_info_by_topic(spec.name)
    if not pubs:
        return Check(name, "fail", f"no publisher of {spec.name}",
                     "start the driver (`docker compose -f docker/compose.yaml up driver`), same ROS_DOMAIN_ID")
    types = sorted({p.topic_type for p in pubs})
    if types != [want]:
        return Check(name, "fail", f"{spec.name} has type {', '.join(types)}, expected {want}",
                     "check franka.*_topic in the profile against the driver's topics")
    if n_total == 0:
        return Check(name, "fail", f"{spec.name}: publisher seen, no message arrives",
                     "the DDS transport: export FASTDDS_BUILTIN_TRANSPORTS=UDPv4 on both sides (docker/compose.yaml)")
    return Check(name, "ok", f"{spec.name}: {n_listen / listen_s:.0f} Hz")


def run_checks(runs: Path = RUNS_DIR, cfg=None) -> list[Check]:
    checks = [check_packages(), check_ros_roundtrip(), check_mujoco_render()]
    checks += list(check_hidapi())
    checks += [check_cuda(), check_disk(runs)]
    if cfg is not None:
        checks += [check_dds_transport(cfg), *check_driver_topics(cfg)]
    return checks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check this machine: packages, ROS 2, MuJoCo rendering, devices, disk")
    add_json_arg(p)
    p.add_argument("--runs", type=Path, default=RUNS_DIR, help="runs folder whose disk is checked")
    p.add_argument("--profile", default=None, help="also check this robot profile's franka_ros2 topics (e.g. robot)")
    add_set_arg(p, "for --profile")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = None
    if args.profile:
        from robot_stack import config as cfgmod

        cfg = cfgmod.resolve(args.profile, args.set)
        if cfg.cell.kind != "franka":
            raise CliError(f"--profile {args.profile}: cell.kind is {cfg.cell.kind}; the driver check needs a "
                           "franka profile (robot, robot-pc, robot-twin)", code=2)
    checks = run_checks(args.runs, cfg)
    failed = [c for c in checks if c.level == "fail" and c.required]
    if args.json:
        emit_json({"ok": not failed, "checks": [c.__dict__ for c in checks]})
    else:
        marks = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]", "info": "[blue]info[/]"}
        print_table([(c.name, marks[c.level], c.detail, c.fix) for c in checks],
                    ("check", "", "detail", "fix"), title="rlif doctor")
    return 1 if failed else 0
