"""MCAP files of a run's ROS 2 traffic, readable by Foxglove, `ros2 bag` and the `mcap` tools.

What is written is what rosbag2's MCAP storage writes: profile `ros2`, one schema per message
type in `ros2msg` encoding (the type's .msg text, then every type it depends on after a line of
`=` and `MSG: pkg/Type`), one channel per topic with `cdr` message encoding, and each message as
the serialized CDR bytes rclpy received (encapsulation header included): the exact bytes on the
wire, never re-encoded. The .msg texts come from the ROS wheels' `share/<pkg>/msg/` folders
(this environment's prefix, then `AMENT_PREFIX_PATH`).

`RotatingMcap(folder, max_bytes)` writes `folder/rlif_000.mcap`, `rlif_001.mcap`, ... and starts
the next file once the current one reaches `max_bytes` (schemas and channels are written again
in every file, so each file opens on its own). A resumed run continues the numbering. Files are
finished (summary and index written) on `close()`; a killed recorder leaves its last file
without a summary, which the `mcap` tools still read (`mcap recover` rewrites it).
No rclpy here: the node (`robot_stack/nodes/mcap_recorder.py`) passes type names and bytes.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from learner.optional import need

BUILTIN = {"bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
           "int64", "uint64", "string", "wstring"}
SEPARATOR = "=" * 80
CHUNK_BYTES = 1 << 20  # the mcap library's default chunk, bytes of messages before compression


class SchemaError(ValueError):
    """A message type whose .msg definition cannot be found."""


def share_dirs() -> list[Path]:
    """Where `share/<pkg>/msg/*.msg` may be: this environment first, then AMENT_PREFIX_PATH."""
    roots = [Path(sys.prefix)] + [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    return [r / "share" for r in roots]


def type_name(msg_type: type) -> str:
    """`std_msgs.msg.Float64MultiArray` (the class) -> 'std_msgs/msg/Float64MultiArray'."""
    return f"{msg_type.__module__.split('.')[0]}/msg/{msg_type.__name__}"


def msg_text(pkg: str, name: str) -> str:
    for share in share_dirs():
        path = share / pkg / "msg" / f"{name}.msg"
        if path.is_file():
            return path.read_text()
    raise SchemaError(f"no message definition {pkg}/msg/{name}.msg under {', '.join(map(str, share_dirs()))}")


def _dependencies(pkg: str, text: str) -> list[tuple[str, str]]:
    """(pkg, Name) of every non-builtin field type in a .msg text, in order of appearance."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        ftype = re.sub(r"\[.*?\]$", "", line.split()[0])  # drop [], [N], [<=N]
        base = ftype.split("<=")[0]
        if base in BUILTIN or "=" in line.split()[0]:
            continue
        if "/" in base:
            parts = base.split("/")
            out.append((parts[0], parts[-1]))
        elif base == "Header":
            out.append(("std_msgs", "Header"))
        else:
            out.append((pkg, base))  # a type of the same package
    return out


def definition(full_name: str) -> str:
    """The ros2msg schema text of 'pkg/msg/Name': its .msg, then each dependency (depth first, once)."""
    pkg, name = full_name.split("/")[0], full_name.split("/")[-1]
    main = msg_text(pkg, name)
    parts, seen = [main.rstrip("\n")], {(pkg, name)}
    stack = list(reversed(_dependencies(pkg, main)))
    while stack:
        dep = stack.pop()
        if dep in seen:
            continue
        seen.add(dep)
        text = msg_text(*dep)
        parts.append(f"{SEPARATOR}\nMSG: {dep[0]}/{dep[1]}\n{text.rstrip(chr(10))}")
        stack.extend(reversed(_dependencies(dep[0], text)))
    return "\n".join(parts) + "\n"


class RotatingMcap:
    """Raw CDR messages into size-rotated MCAP files (see the module doc). Not thread-safe."""

    def __init__(self, folder: Path, max_bytes: int, prefix: str = "rlif"):
        need("mcap", "--record-mcap")
        self.folder, self.max_bytes, self.prefix = Path(folder), int(max_bytes), prefix
        self.folder.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for p in self.folder.glob(f"{prefix}_*.mcap")
                 if (m := re.fullmatch(rf"{prefix}_(\d+)\.mcap", p.name))]
        self.index = max(taken) + 1 if taken else 0
        self.topics: dict[str, str] = {}  # topic -> full type name
        self._defs: dict[str, str] = {}
        self.files: list[Path] = []
        self.messages = 0
        self._open()

    def _open(self) -> None:
        from mcap.well_known import Profile
        from mcap.writer import Writer

        path = self.folder / f"{self.prefix}_{self.index:03d}.mcap"
        self.index += 1
        self._file = open(path, "wb")
        # a chunk (zstd) reaches the file when it fills: chunks well below the rotation size keep
        # each file within about a chunk of it
        self._writer = Writer(self._file, chunk_size=min(CHUNK_BYTES, max(1024, self.max_bytes // 8)))
        self._writer.start(profile=Profile.ROS2, library="rlif-cell mcap_writer")
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self.files.append(path)
        for topic, tname in self.topics.items():
            self._channel(topic, tname)

    def add_topic(self, topic: str, full_type: str) -> None:
        """Declare a topic (its schema text is looked up now, so a missing one fails at start)."""
        if full_type not in self._defs:
            self._defs[full_type] = definition(full_type)
        self.topics[topic] = full_type
        self._channel(topic, full_type)

    def _channel(self, topic: str, full_type: str) -> int:
        from mcap.well_known import MessageEncoding, SchemaEncoding

        if topic not in self._channels:
            if full_type not in self._schemas:
                self._schemas[full_type] = self._writer.register_schema(
                    full_type, SchemaEncoding.ROS2, self._defs[full_type].encode())
            self._channels[topic] = self._writer.register_channel(topic, MessageEncoding.CDR,
                                                                  self._schemas[full_type])
        return self._channels[topic]

    def write(self, topic: str, cdr: bytes, log_time_ns: int | None = None) -> None:
        """One message (rclpy's serialized bytes) on a declared topic."""
        now = time.time_ns() if log_time_ns is None else log_time_ns
        self._writer.add_message(self._channels[topic], log_time=now, data=cdr, publish_time=now)
        self.messages += 1
        if self._file.tell() >= self.max_bytes:  # chunks reach the file as they fill
            self._finish()
            self._open()

    def _finish(self) -> None:
        self._writer.finish()
        self._file.close()

    def close(self) -> None:
        self._finish()
