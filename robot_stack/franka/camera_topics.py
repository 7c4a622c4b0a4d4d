"""The camera boundary: the RealSense ROS driver's color topics (sensor_msgs/Image), their packing,
and the bridge's side of them (`CameraInputs`: subscriptions, one `FrankaCell.on_image` call per
message, a tick held while a camera is stale, each problem reported once).

Names come from the run config (`franka.wrist_camera_topic`, `franka.front_camera_topic`), one per
camera of `vision.cameras`; nothing here exists while `vision.image_size` is 0.

QoS: realsense-ros 4.x publishes its images with the QoS its `color_qos` parameter names
(SYSTEM_DEFAULT, i.e. reliable, in its rs_launch.py; SENSOR_DATA, best effort, is the usual
override for image streams). A BEST_EFFORT depth-1 subscriber matches either, and only the newest
frame matters: a reliable depth-10 queue would hand the bridge old frames after a stall. The twin
in franka mode publishes the same way as the driver's default (reliable, depth 1).
"""
from __future__ import annotations

import time

import numpy as np
from sensor_msgs.msg import Image

from robot_stack.franka.topics import set_stamp, stamp_s
from robot_stack.topics import TopicSpec


def camera_topics(fr, vision) -> dict[str, TopicSpec]:
    """{camera: its image topic} of `vision.cameras` ({} with vision off)."""
    if not vision.enabled:
        return {}
    return {c: TopicSpec(getattr(fr, f"{c}_camera_topic"), Image, depth=1, best_effort=True,
                         doc=f"{c} camera color image, {fr.camera_encoding}") for c in vision.cameras}


def pack_image(rgb: np.ndarray, stamp_s_: float, frame_id: str, encoding: str = "rgb8") -> Image:
    """An (h, w, 3) uint8 RGB array -> Image in `encoding` (rgb8 or bgr8), rows unpadded."""
    rgb = np.asarray(rgb, dtype=np.uint8)
    msg = Image()
    set_stamp(msg.header, stamp_s_, frame_id)
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding, msg.is_bigendian, msg.step = encoding, 0, 3 * msg.width
    msg.data = np.ascontiguousarray(rgb[..., ::-1] if encoding == "bgr8" else rgb).tobytes()
    return msg


def unpack_image(msg: Image) -> dict:
    """Image -> the fields `FrankaCell.on_image` takes (data not copied; stamp in s)."""
    return dict(height=msg.height, width=msg.width, encoding=msg.encoding, step=msg.step, data=msg.data,
                stamp=stamp_s(msg.header))


class CameraInputs:
    """The bridge's cameras: one subscription per camera, faults once per problem, status."""

    def __init__(self, node, cell, fr, vision, clock):
        self.node, self.cell, self.clock = node, cell, clock
        self.topics = camera_topics(fr, vision)
        self.stale_why = ""  # set while ticks are held for a camera
        self._refused: dict[str, str] = {}  # camera -> the refusal last reported
        node.counters.update(camera_frames=0, camera_rejected=0, camera_holds=0)
        for camera, spec in self.topics.items():
            node.create_subscription(spec.msg_type, spec.name, lambda m, c=camera: self.on_image(c, m), spec.qos)

    def on_image(self, camera: str, msg) -> None:
        why = self.cell.on_image(camera, t=self.clock(), **unpack_image(msg))
        n = self.node
        if why is None:
            n.counters["camera_frames"] += 1
            self._refused.pop(camera, None)
            return
        n.counters["camera_rejected"] += 1
        if self._refused.get(camera) != why:  # once per kind of refusal, not 30 times a second
            self._refused[camera] = why
            n.fault("camera frame refused", detail=why, camera=camera)

    def tick_ok(self) -> bool:
        """False (and the step holds: no tick) while the latest observation has no frames."""
        stale = self.cell.frames_stale()
        n = self.node
        if stale is None:
            if self.stale_why:
                n.get_logger().info(f"camera frames are back after: {self.stale_why}")
                self.stale_why = ""
            return True
        n.counters["camera_holds"] += 1
        if not self.stale_why:  # once per spell
            latest = self.cell.camera.latest  # the newest frame's header stamp against our wall clock (another
            stamp_age_ms = {c: round(1e3 * (time.time() - latest[c].stamp), 1)  # machine's clock: a hint only)
                            for c in stale.cameras if c in latest and np.isfinite(latest[c].stamp)}
            n.fault("stale camera", detail=f"{stale}; holding the step", cameras=list(stale.cameras),
                    stamp_age_ms=stamp_age_ms, episode=n.episode)
        self.stale_why = str(stale)
        return False

    def status(self) -> dict:
        ages = self.cell.camera.ages(self.clock())
        return {"camera_stale": self.stale_why,
                "camera_age_ms": {c: round(1e3 * a, 1) if np.isfinite(a) else None for c, a in ages.items()}}
