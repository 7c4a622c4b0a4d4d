"""`rlif teach`: read the taught nominal hole pose off franka_ros2's `current_pose`.

Put the peg's tip centred at the hole entrance, its axis along the hole's, hold the arm still,
then run `rlif teach --profile robot`: the EE pose is averaged over `--seconds` and printed as
the `franka.hole_pose` line for launch/robot.yaml (and as a `--set` override).
"""
from __future__ import annotations

import argparse
import time

from robot_stack.cli.common import CliError, add_config_args, add_json_arg, emit_json, resolve_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("teach", help="teach the nominal hole pose from the arm's current pose (franka_ros2)")
    add_config_args(p, default_profile="robot")
    p.add_argument("--seconds", type=float, default=1.0, help="average the pose over this long (default 1 s)")
    p.add_argument("--timeout", type=float, default=10.0, help="give up without pose messages after this, s")
    add_json_arg(p)
    p.set_defaults(func=run)


def record_poses(topic_spec, seconds: float, timeout: float) -> tuple[list, list]:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from robot_stack.franka import topics as FT

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("rlif_teach", context=ctx)
    ex = SingleThreadedExecutor(context=ctx)
    ex.add_node(node)
    pos, quat, first = [], [], []

    def on_pose(msg):
        p, q, _ = FT.unpack_pose(msg)
        if not first:
            first.append(time.monotonic())
        pos.append(p)
        quat.append(q)

    node.create_subscription(topic_spec.msg_type, topic_spec.name, on_pose, topic_spec.qos)
    t0 = time.monotonic()
    try:
        while True:
            ex.spin_once(timeout_sec=0.02)
            now = time.monotonic()
            if first and now - first[0] >= seconds:
                break
            if not first and now - t0 > timeout:
                break
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)
    return pos, quat


def run(args: argparse.Namespace) -> int:
    from robot_stack.franka import topics as FT
    from robot_stack.franka.teach import TeachError, average_pose

    cfg = resolve_config(args)
    spec = FT.franka_topics(cfg.franka).pose
    pos, quat = record_poses(spec, args.seconds, args.timeout)
    if not pos:
        raise CliError(f"no pose on {spec.name} within {args.timeout:.0f} s: is franka_ros2 running with "
                       "franka_robot_state_broadcaster, with the same ROS_DOMAIN_ID?")
    try:
        pose, spread = average_pose(pos, quat)
    except TeachError as e:
        raise CliError(str(e)) from None
    values = [round(float(v), 6) for v in pose]
    if args.json:
        emit_json({"hole_pose": values, "samples": len(pos), "spread_mm": round(1000 * spread, 3),
                   "topic": spec.name})
    else:
        print(f"taught from {len(pos)} samples on {spec.name} (spread {1000 * spread:.2f} mm):")
        print(f"  in launch/{cfg.profile}.yaml, under config.franka:  hole_pose: {values}")
        print(f"  or:  --set 'franka.hole_pose={values}'")
    return 0
