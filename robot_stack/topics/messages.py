"""The topics in standard messages other than labelled arrays and JSON: the operator's twist, its
takeover flag and raw joystick state, the actor's weights (safetensors bytes) and camera JPEGs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from geometry_msgs.msg import TwistStamped
from sensor_msgs.msg import CompressedImage, Joy
from std_msgs.msg import Bool, MultiArrayDimension, UInt8MultiArray

from robot_stack.topics.specs import CAMERA, POLICY_WEIGHTS
from robot_stack.wire import TopicError


def pack_twist(action6: Sequence[float], stamp_s: float, frame_id: str = "hole") -> TwistStamped:
    """`action6` in action units, order x y z rx ry rz (missing trailing axes = 0)."""
    a = list(action6) + [0.0] * (6 - len(action6))
    msg = TwistStamped()
    msg.header.frame_id = frame_id
    msg.header.stamp.sec = int(stamp_s)
    msg.header.stamp.nanosec = int((stamp_s - int(stamp_s)) * 1e9)
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in a[:3])
    msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = (float(v) for v in a[3:6])
    return msg


def unpack_twist(msg: TwistStamped) -> tuple[np.ndarray, float]:
    """Returns (6 action units x y z rx ry rz, stamp in s)."""
    lin, ang = msg.twist.linear, msg.twist.angular
    a = np.array([lin.x, lin.y, lin.z, ang.x, ang.y, ang.z], dtype=np.float32)
    return a, msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def pack_intervening(flag: bool) -> Bool:
    return Bool(data=bool(flag))


def unpack_intervening(msg: Bool) -> bool:
    return bool(msg.data)


def pack_joy(axes: Sequence[float], buttons: Sequence[int], stamp_s: float) -> Joy:
    msg = Joy()
    msg.header.stamp.sec = int(stamp_s)
    msg.header.stamp.nanosec = int((stamp_s - int(stamp_s)) * 1e9)
    msg.axes = [float(a) for a in axes]
    msg.buttons = [int(b) for b in buttons]
    return msg


def unpack_joy(msg: Joy) -> tuple[np.ndarray, list[int]]:
    return np.asarray(msg.axes, dtype=np.float32), list(msg.buttons)



# ---------------------------------------------------------------- weights
WEIGHTS_LABEL = "safetensors"


def pack_weights(blob: bytes) -> UInt8MultiArray:
    msg = UInt8MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=WEIGHTS_LABEL, size=len(blob), stride=len(blob))]
    msg.data = blob  # rosidl accepts bytes for uint8[] without a Python-level copy per element
    return msg


def unpack_weights(msg: UInt8MultiArray) -> bytes:
    labels = [d.label for d in msg.layout.dim]
    if labels != [WEIGHTS_LABEL]:
        raise TopicError(f"{POLICY_WEIGHTS.name}: expected layout label [{WEIGHTS_LABEL!r}], got {labels}")
    blob = bytes(msg.data)
    if len(blob) != msg.layout.dim[0].size:
        raise TopicError(f"{POLICY_WEIGHTS.name}: {len(blob)} bytes, layout says {msg.layout.dim[0].size}")
    return blob


# ---------------------------------------------------------------- camera
def pack_jpeg(jpeg: bytes, stamp_s: float, frame_id: str = "camera") -> CompressedImage:
    msg = CompressedImage()
    msg.header.frame_id = frame_id
    msg.header.stamp.sec = int(stamp_s)
    msg.header.stamp.nanosec = int((stamp_s - int(stamp_s)) * 1e9)
    msg.format = "jpeg"
    msg.data = jpeg
    return msg


def unpack_jpeg(msg: CompressedImage) -> bytes:
    if msg.format.split(";")[0].strip().lower() not in ("jpeg", "jpg"):
        raise TopicError(f"{CAMERA.name}: expected format 'jpeg', got {msg.format!r}")
    return bytes(msg.data)
