"""What carrying camera frames on the observation costs (robot_stack/wire.py): bytes, CPU, delivery.

`python -m robot_stack.bench_frames [--sizes 0,64,128] [--cameras 1] [-n 300]` prints per frame
size (0: the state-only message): the serialized message size, the CPU of `pack_observation` and of
`unpack_observation` (with every pixel checked) and of rclpy's (de)serialization, and the
publish -> receive time of one observation between two processes on this machine (half the round
trip through an echo process that unpacks and re-packs each message, as the actor does the
first and the cell the second), over the default DDS transports and the OBSERVATION QoS, and
how much the publishing process's resident memory grew over those messages (the writer's history).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import numpy as np

PING, PONG = "/rlif_bench/frames_ping", "/rlif_bench/frames_pong"
OBS = tuple(f"o{i}" for i in range(18))


N_CAMERAS = [1]  # set by --cameras


def cameras(size: int) -> dict:
    return {cam: (size, size, 3) for cam in ("wrist", "front")[:N_CAMERAS[0]]} if size else {}


def message(size: int, seed: int = 0):
    from robot_stack import topics as T

    rng = np.random.default_rng(seed)
    frames = {c: rng.integers(0, 256, s, dtype=np.uint8) for c, s in cameras(size).items()} or None
    return T.Observation(0, 0, 0.0, rng.standard_normal(18).astype(np.float32), frames)


def _best(fn, n: int) -> float:
    """Median wall time of fn() over n calls, ms."""
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))


def cpu(size: int, n: int) -> dict:
    from rclpy.serialization import deserialize_message, serialize_message
    from std_msgs.msg import Float64MultiArray

    from robot_stack import topics as T

    o, cams = message(size), cameras(size)
    msg = T.pack_observation(o, OBS, cams)
    raw = serialize_message(msg)
    return {"bytes": len(raw), "pack_ms": _best(lambda: T.pack_observation(o, OBS, cams), n),
            "unpack_ms": _best(lambda: T.unpack_observation(msg, OBS, cams), n),
            "serialize_ms": _best(lambda: serialize_message(msg), n),
            "deserialize_ms": _best(lambda: deserialize_message(raw, Float64MultiArray), n)}


def echo(size: int) -> None:
    """Child process: unpack each ping and publish it again as the pong."""
    import rclpy

    from robot_stack import topics as T

    rclpy.init()
    node = rclpy.create_node("bench_frames_echo")
    cams = cameras(size)
    pub = node.create_publisher(T.OBSERVATION.msg_type, PONG, T.OBSERVATION.qos)

    def on_ping(msg):
        pub.publish(T.pack_observation(T.unpack_observation(msg, OBS, cams), OBS, cams))

    node.create_subscription(T.OBSERVATION.msg_type, PING, on_ping, T.OBSERVATION.qos)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass


def delivery(size: int, n: int) -> dict:
    """Median and p99 of half the ping -> pong round trip, ms, and the echo's CPU share."""
    from robot_stack import topics as T
    from robot_stack.participant import Participant

    child = subprocess.Popen([sys.executable, "-m", "robot_stack.bench_frames", "--echo", str(size),
                              "--cameras", str(N_CAMERAS[0])], env=os.environ.copy())
    p = Participant("bench_frames")
    got = threading.Event()
    p.node.create_subscription(T.OBSERVATION.msg_type, PONG, lambda m: got.set(), T.OBSERVATION.qos)
    pub = p.node.create_publisher(T.OBSERVATION.msg_type, PING, T.OBSERVATION.qos)
    p.start()
    try:
        msg = T.pack_observation(message(size), OBS, cameras(size))
        t_end = time.monotonic() + 30
        while not got.is_set():  # discovery: ping until the echo answers
            if time.monotonic() > t_end:
                raise SystemExit("the echo process never answered")
            pub.publish(msg)
            got.wait(0.2)
        time.sleep(0.5)
        rtts = []
        cpu0, rss0 = _child_cpu_s(child.pid), _rss_mb()
        for _ in range(n):
            got.clear()
            t0 = time.perf_counter()
            pub.publish(msg)
            if not got.wait(5):
                raise SystemExit("a pong was lost")
            rtts.append(time.perf_counter() - t0)
            time.sleep(0.01)
        echo_cpu = (_child_cpu_s(child.pid) - cpu0) / n
        half = 0.5e3 * np.asarray(rtts)
        return {"half_rtt_p50_ms": float(np.median(half)), "half_rtt_p99_ms": float(np.percentile(half, 99)),
                "echo_cpu_ms_per_msg": 1e3 * echo_cpu, "publisher_rss_growth_mb": _rss_mb() - rss0}
    finally:
        p.close()
        child.kill()  # rclpy.spin may not return on SIGTERM; the echo holds nothing worth closing
        child.wait(10)


def _child_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0,64,128", help="frame sizes in pixels per side (0: state only)")
    ap.add_argument("-n", type=int, default=300, help="messages per measurement")
    ap.add_argument("--cameras", type=int, default=1, choices=(1, 2), help="frames per message")
    ap.add_argument("--echo", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    N_CAMERAS[0] = args.cameras
    if args.echo is not None:
        echo(args.echo)
        return
    for size in (int(s) for s in args.sizes.split(",")):
        row = {"size": size, **cpu(size, args.n), **delivery(size, args.n)}
        print("  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
