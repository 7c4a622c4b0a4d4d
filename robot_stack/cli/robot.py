"""`rlif robot`: the real arm's housekeeping (franka_ros2; the twin in franka mode for tries).

  rlif robot recover             franka's error recovery (after a reflex / FCI error) + re-arm the cell
  rlif robot controller-params   the impedance controller's cell parameters from the run config
  rlif robot joints              the arm's joints now, as a `franka.home_q` line
  rlif robot push-test           live force on the tip (hole axes): push it up by hand, f_z must be > 0

`recover`: with a running graph (a Franka bridge heartbeat within 3 s) it asks the bridge
(`request_recover` event), which runs the three steps and re-arms (the next reset starts from the
measured pose); without one it runs the steps itself (`franka.admin`: franka_ros2's CLI or the twin).
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from robot_stack.cli.common import CliError, add_config_args, add_json_arg, emit_json, resolve_config

BRIDGE = "franka_bridge"
HEARTBEAT_WAIT_S = 5.0  # once a graph node is heard (or the bridge seen), wait this long for its heartbeat, s
GRAPH_WAIT_S = 10.0  # no heartbeat at all for this long: no graph (DDS discovery here takes 0.1-3.4 s), s
PUSH_MIN_N = 5.0  # push-test: a push is a |f_z| above this, N
DISCOVERY_WAIT_S = 10.0  # push-test: wait this long for the driver's topics before listening, s


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("robot", help="the real arm: recover after an FCI error, controller parameters, "
                                     "home joints, push test")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    r = verbs.add_parser("recover", help="franka error recovery (reflex / FCI error) and re-arm the cell")
    _config_args(r)
    r.add_argument("--timeout", type=float, default=60.0, help="give up after this long, s (default 60)")
    r.set_defaults(func=run_recover)
    c = verbs.add_parser("controller-params", help="the impedance controller's cell parameters (ROS 2 YAML)")
    _config_args(c)
    c.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    c.set_defaults(func=run_controller_params)
    j = verbs.add_parser("joints", help="the arm's joints now, as a franka.home_q line")
    _config_args(j)
    j.add_argument("--seconds", type=float, default=1.0, help="average over this long, s")
    j.add_argument("--timeout", type=float, default=10.0, help="give up without joint messages after this, s")
    j.set_defaults(func=run_joints)
    t = verbs.add_parser("push-test", help="live tip force: push the peg up by hand; f_z must read positive")
    _config_args(t)
    t.add_argument("--seconds", type=float, default=15.0, help="watch this long, s (default 15)")
    t.set_defaults(func=run_push_test)


def _config_args(p: argparse.ArgumentParser) -> None:
    add_config_args(p, default_profile="robot")
    p.add_argument("--run-dir", type=Path, default=None, help="use this run's saved config.yaml instead")
    add_json_arg(p)


def load_config(args):
    if args.run_dir is not None:
        from robot_stack import config as cfgmod

        path = args.run_dir / "config.yaml"
        if not path.exists():
            raise CliError(f"{path} does not exist: pass the run folder of a started run, or --profile", code=2)
        return cfgmod.load_saved(path)
    return resolve_config(args)


@contextmanager
def ros_node(name: str):
    """An rclpy node in its own context, spun in a thread (service futures complete meanwhile)."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node(name, context=ctx)
    ex = SingleThreadedExecutor(context=ctx)
    ex.add_node(node)
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ex.spin_once(timeout_sec=0.02)

    th = threading.Thread(target=spin, daemon=True)
    th.start()
    try:
        yield node
    finally:
        stop.set()
        th.join(timeout=2)
        node.destroy_node()
        rclpy.shutdown(context=ctx)


def _say(args, text: str) -> None:
    print(text, file=sys.stderr if args.json else sys.stdout, flush=True)


# ---------------------------------------------------------------- recover
def run_recover(args: argparse.Namespace) -> int:
    from robot_stack import topics as T
    from robot_stack.franka import admin as A

    cfg = load_config(args)
    names = A.controllers_of(cfg.franka)
    seen: dict[str, list] = {"bridge": [], "any": [], "events": []}
    with ros_node("rlif_robot") as node:
        def on_status(msg):
            try:
                node_name = T.unpack_status(msg)["node"]
            except T.TopicError:
                return
            seen["any"].append(time.monotonic())
            if node_name == BRIDGE:
                seen["bridge"].append(time.monotonic())

        def on_event(msg):
            try:
                e = T.unpack_event(msg)
            except T.TopicError:
                return
            failed = e.kind == "fault" and e.data.get("what") == "recovery failed"
            if e.source == BRIDGE and (e.kind == A.RECOVERED or failed):
                seen["events"].append(e)

        node.create_subscription(T.STATUS.msg_type, T.STATUS.name, on_status, T.STATUS.qos)
        node.create_subscription(T.EVENTS.msg_type, T.EVENTS.name, on_event, T.EVENTS.qos)
        pub = node.create_publisher(T.EVENTS.msg_type, T.EVENTS.name, T.EVENTS.qos)
        # Is a bridge running? Discovery is not instant: a bridge seen in the ROS graph, or any
        # graph node heard, gives the bridge's heartbeat HEARTBEAT_WAIT_S more to arrive.
        t_start, t_hint = time.monotonic(), None
        while not seen["bridge"]:
            now = time.monotonic()
            if t_hint is None and (seen["any"] or BRIDGE in node.get_node_names()):
                t_hint = now
            if now > (t_hint + HEARTBEAT_WAIT_S if t_hint is not None else t_start + GRAPH_WAIT_S):
                break
            time.sleep(0.05)
        if seen["bridge"]:
            _say(args, "the Franka bridge is running: asking it to recover and re-arm")
            pub.publish(T.pack_event(T.Event(A.REQ_RECOVER, {"by": "rlif robot recover"}, source="rlif_robot")))
            deadline = time.monotonic() + args.timeout
            while not seen["events"] and time.monotonic() < deadline:
                time.sleep(0.05)
            if not seen["events"]:
                raise CliError(f"no answer from the bridge within {args.timeout:.0f} s (its log: logs/{BRIDGE}.log)")
            e = seen["events"][0]
            if e.kind != A.RECOVERED:
                raise CliError(f"recovery failed: {e.data.get('detail', '')}")
            result = {"ok": True, "via": "bridge", "steps": e.data.get("steps", []), "re_armed": True}
        else:
            _say(args, f"no Franka bridge running: recovering through the {cfg.franka.admin} directly")
            try:
                steps = A.recover(A.make_admin(cfg, node=node), names, log=lambda s: _say(args, s))
            except A.AdminError as e:
                raise CliError(f"recovery failed: {e}") from None
            result = {"ok": True, "via": cfg.franka.admin, "steps": steps, "re_armed": False}
    if args.json:
        emit_json(result)
    else:
        print(f"recovered ({', '.join(result['steps'])}) via {result['via']}"
              + ("; the cell re-armed: the next reset starts from the measured pose" if result["re_armed"] else ""))
    return 0


# ---------------------------------------------------------------- controller-params
def run_controller_params(args: argparse.Namespace) -> int:
    from robot_stack.franka.controller_params import ControllerNameError, params_yaml

    cfg = load_config(args)
    try:
        text = params_yaml(cfg)
    except ControllerNameError as e:
        raise CliError(str(e), code=2) from None
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- joints
def run_joints(args: argparse.Namespace) -> int:
    from robot_stack.franka import topics as FT

    cfg = load_config(args)
    spec = FT.franka_topics(cfg.franka).joints
    got: list[np.ndarray] = []
    with ros_node("rlif_robot_joints") as node:
        node.create_subscription(spec.msg_type, spec.name, lambda m: got.append(FT.unpack_joints(m)[0]), spec.qos)
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.timeout and not got:
            time.sleep(0.05)
        time.sleep(args.seconds if got else 0.0)
    q = [g for g in list(got) if g.shape == (7,)]
    if not q:
        raise CliError(f"no joint states on {spec.name} within {args.timeout:.0f} s: is the driver running "
                       "(docker compose up driver), with the same ROS_DOMAIN_ID?")
    home = [round(float(v), 4) for v in np.mean(q, axis=0)]
    if args.json:
        emit_json({"home_q": home, "samples": len(q), "topic": spec.name})
    else:
        print(f"joints from {len(q)} samples on {spec.name}:")
        print(f"  in launch/{cfg.profile}.yaml, under config.franka:  home_q: {home}")
    return 0


# ---------------------------------------------------------------- push test
def run_push_test(args: argparse.Namespace) -> int:
    """The wrench through the bridge's own conversion (FrankaCore: sign, EE -> hole axes)."""
    from robot_stack.franka import topics as FT
    from robot_stack.franka.core import FrankaCore

    cfg = load_config(args)
    core = FrankaCore(cfg.cell, cfg.franka)
    ft = FT.franka_topics(cfg.franka)
    lock, fz = threading.Lock(), []

    def on_pose(m):
        p, q, _ = FT.unpack_pose(m)
        with lock:
            core.on_pose(p, q, time.monotonic())

    def on_wrench(m):
        f, t, _ = FT.unpack_wrench(m)
        with lock:
            if core.pose is not None:
                core.on_wrench(f, t, time.monotonic())
                fz.append(float(core.force[2]))

    _say(args, f"push the peg tip UP by hand (as the board does, > {PUSH_MIN_N:.0f} N): f_z must read positive")
    with ros_node("rlif_push_test") as node:
        subs = [node.create_subscription(ft.pose.msg_type, ft.pose.name, on_pose, ft.pose.qos),
                node.create_subscription(ft.wrench.msg_type, ft.wrench.name, on_wrench, ft.wrench.qos)]
        # discovery first (a fresh participant can take seconds on a busy machine), then the window
        t_found = time.monotonic() + DISCOVERY_WAIT_S
        while not all(sub.get_publisher_count() for sub in subs) and time.monotonic() < t_found:
            time.sleep(0.05)
        t_end = time.monotonic() + args.seconds
        while time.monotonic() < t_end:
            time.sleep(0.2)
            with lock:
                f, n = core.force.copy(), len(fz)
            if n:
                _say(args, f"  f = [{f[0]:+7.1f} {f[1]:+7.1f} {f[2]:+7.1f}] N  (hole axes, z up, on the robot)")
    if not fz:
        raise CliError(f"no wrench on {ft.wrench.name}: is the driver running, with the same ROS_DOMAIN_ID?")
    up, down = max(fz), min(fz)
    result = {"samples": len(fz), "max_fz_n": round(up, 2), "min_fz_n": round(down, 2)}
    if max(up, -down) < PUSH_MIN_N:
        verdict, rc = f"no push seen (|f_z| stayed below {PUSH_MIN_N:.0f} N): push harder, try again", 1
    elif up >= -down:
        verdict, rc = f"PASS: pushing up read f_z = {up:+.1f} N (franka.wrench_sign {cfg.franka.wrench_sign})", 0
    else:
        verdict, rc = (f"FAIL: pushing up read f_z = {down:+.1f} N: the wrench sign is inverted; check that you "
                       f"pushed UP, then set franka.wrench_sign={-cfg.franka.wrench_sign}"), 1
    if args.json:
        emit_json({**result, "ok": rc == 0, "verdict": verdict})
    else:
        print(verdict)
    return rc
