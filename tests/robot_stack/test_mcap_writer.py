"""robot_stack/mcap_writer.py: rclpy's CDR bytes of every recorded message type (the robot's
Franka topics included) are read back by the `mcap` reader with the ROS 2 decoder
(mcap-ros2-support) field for field; files rotate by size and each opens on its own."""
from __future__ import annotations

import pytest
from rclpy.serialization import serialize_message

from robot_stack import config as cfgmod
from robot_stack.mcap_writer import RotatingMcap, SchemaError, definition, type_name
from robot_stack.nodes.mcap_recorder import recorded_topics

pytestmark = pytest.mark.unit


def read(path):
    """[(topic, schema name, decoded message, log_time)] of one MCAP file."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        return [(ch.topic, schema.name, dec, msg.log_time) for schema, ch, msg, dec in reader.iter_decoded_messages()]


def sample(msg_type, k: int):
    """A message of `msg_type` with a few fields set from `k` (each type the recorder writes)."""
    m = msg_type()
    name = msg_type.__name__
    if name in ("Float64MultiArray", "UInt8MultiArray"):
        m.data = [float(k), 0.5, -2.0] if name == "Float64MultiArray" else [k % 256, 1, 2]
    elif name == "String":
        m.data = f'{{"k": {k}}}'
    elif name == "Bool":
        m.data = bool(k % 2)
    elif name == "TwistStamped":
        m.header.frame_id, m.twist.linear.x, m.twist.angular.z = "tool", 0.1 * k, -0.2
    elif name == "Joy":
        m.axes, m.buttons = [0.5, -0.25 * k], [1, 0]
    elif name == "CompressedImage":
        m.format, m.data = "jpeg", bytes([255, 216, k % 256])
    elif name in ("PoseStamped",):
        m.header.frame_id, m.pose.position.z, m.pose.orientation.w = "fr3_link0", 0.3 + k, 1.0
    elif name == "WrenchStamped":
        m.wrench.force.z, m.wrench.torque.x = -1.5 * k, 0.01
    elif name == "JointState":
        m.name, m.position = [f"fr3_joint{i}" for i in range(1, 8)], [0.1 * i + k for i in range(7)]
    else:
        raise AssertionError(f"no sample for {name}")
    return m


def same(decoded, original) -> bool:
    """The decoded message has the original's value in every field the sample set."""
    for field in original.get_fields_and_field_types():
        a, b = getattr(decoded, field), getattr(original, field)
        if hasattr(b, "get_fields_and_field_types"):
            if not same(a, b):
                return False
        elif list(a) != list(b) if isinstance(b, (list, bytes)) or hasattr(b, "tolist") else a != b:
            return False
    return True


def test_every_recorded_type_reads_back_field_for_field(tmp_path):
    specs = recorded_topics(cfgmod.resolve("robot"))  # the /rlif topics and the Franka ones
    assert {s.name for s in specs} >= {"/rlif/observation", "/rlif/command", "/rlif/events",
                                       "/franka_robot_state_broadcaster/current_pose"}
    out = RotatingMcap(tmp_path, max_bytes=10**9)
    sent = {}
    for k, spec in enumerate(specs):
        out.add_topic(spec.name, type_name(spec.msg_type))
        sent[spec.name] = sample(spec.msg_type, k)
        out.write(spec.name, serialize_message(sent[spec.name]), log_time_ns=1000 + k)
    out.close()
    got = read(tmp_path / "rlif_000.mcap")
    assert [t for t, *_ in got] == [s.name for s in specs]
    for (topic, schema, msg, log_time), spec in zip(got, specs):
        assert schema == type_name(spec.msg_type) and log_time == 1000 + specs.index(spec)
        assert same(msg, sent[topic]), topic


def test_files_rotate_by_size_and_each_opens_alone(tmp_path):
    import numpy as np
    from std_msgs.msg import Float64MultiArray

    rng = np.random.default_rng(0)  # observation-like doubles: zstd barely shrinks them
    out = RotatingMcap(tmp_path, max_bytes=20_000)
    out.add_topic("/rlif/observation", "std_msgs/msg/Float64MultiArray")
    for k in range(600):
        data = [float(k), *rng.normal(size=17).tolist()]
        out.write("/rlif/observation", serialize_message(Float64MultiArray(data=data)))
    out.close()
    files = sorted(tmp_path.glob("rlif_*.mcap"))
    assert len(files) >= 3 and files == out.files
    assert all(f.stat().st_size < 20_000 + 2 * 2500 for f in files)  # within about a chunk (max/8) of it
    values = [int(m.data[0]) for f in files for _, _, m, _ in read(f)]
    assert values == list(range(600)) and out.messages == 600
    again = RotatingMcap(tmp_path, max_bytes=20_000)  # a resumed run continues the numbering
    again.close()
    assert again.files == [tmp_path / f"rlif_{len(files):03d}.mcap"]


def test_schema_text_is_the_msg_with_its_dependencies_and_a_missing_type_is_named():
    text = definition("geometry_msgs/msg/TwistStamped")
    assert text.startswith("# A twist with reference coordinate frame and timestamp")
    for dep in ("MSG: std_msgs/Header", "MSG: builtin_interfaces/Time", "MSG: geometry_msgs/Twist",
                "MSG: geometry_msgs/Vector3"):
        assert text.count(dep) == 1, dep
    with pytest.raises(SchemaError, match="no message definition std_msgs/msg/NoSuchType.msg"):
        definition("std_msgs/msg/NoSuchType")
