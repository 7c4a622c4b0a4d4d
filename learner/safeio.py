"""Safetensors files with JSON metadata, a content checksum and atomic writes.

Format: a plain safetensors file (any safetensors client reads it). Its header metadata holds
`rlif.kind` (what the file is), `rlif.meta` (one JSON object) and `rlif.sha256` (hex digest of
the kind, the meta JSON text and every tensor's raw bytes in key order), so a flipped byte
anywhere in the data or the metadata is detected, not silently loaded. Files written before the
metadata was covered (digest of the tensors alone) still load; their metadata is unprotected. Writes go to a temp file in the same folder, are fsynced, then renamed:
a reader sees the old file or the new one, never a partial one.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from learner.errors import CheckpointError

MAX_HEADER = 100 * 1024 * 1024  # bytes; a larger header length means garbage


def _digest(tensors: dict[str, torch.Tensor], kind: str | None = None, meta_json: str | None = None) -> str:
    """sha256 over kind + meta JSON + tensors; with kind None over the tensors alone (older files)."""
    h = hashlib.sha256()
    if kind is not None:
        h.update(b"rlif-v2\0" + kind.encode() + b"\0" + (meta_json or "").encode() + b"\0")
    for k in sorted(tensors):
        t = tensors[k].detach().cpu().contiguous()
        h.update(k.encode())
        h.update(str(tuple(t.shape)).encode() + str(t.dtype).encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def pack(tensors: dict[str, torch.Tensor], kind: str, meta: dict[str, Any]) -> bytes:
    """Serialise CPU copies of `tensors` with `meta` (JSON-able) into safetensors bytes."""
    cpu = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    meta_json = json.dumps(meta)
    header = {"rlif.kind": kind, "rlif.meta": meta_json, "rlif.sha256": _digest(cpu, kind, meta_json)}
    return _canonical(st_save(cpu, metadata=header))


def _canonical(blob: bytes) -> bytes:
    """The same file with its metadata keys sorted: safetensors writes them in the order of a hash
    map seeded afresh for every map, so equal content would give different bytes (and file hashes).
    The header is re-padded with spaces to 8-byte alignment; tensor offsets are relative to the
    data that follows it, so the data bytes are kept as they are."""
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + blob[8 + n:]


def unpack(blob: bytes, kind: str, name: str = "<bytes>") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Parse and verify bytes written by `pack`; CheckpointError naming `name` on any problem."""
    def bad(problem: str) -> CheckpointError:
        return CheckpointError(f"{name}: {problem}")

    if len(blob) < 8:
        raise bad(f"truncated or empty ({len(blob)} bytes)")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise bad(f"truncated or not a safetensors file (header claims {n} bytes, file has {len(blob)})")
    try:
        header = json.loads(blob[8:8 + n])
        extra = header.get("__metadata__") or {}
        tensors = st_load(bytes(blob))
    except (ValueError, SafetensorError, UnicodeDecodeError, AttributeError, RecursionError) as e:
        raise bad(f"corrupt safetensors data ({e})") from None
    if not isinstance(extra, dict) or extra.get("rlif.kind") != kind:
        found = extra.get("rlif.kind") if isinstance(extra, dict) else None
        raise bad(f"is a {found!r} file, expected {kind!r}")
    meta_json, stored = extra.get("rlif.meta"), extra.get("rlif.sha256")
    if not isinstance(meta_json, str):
        raise bad("metadata missing or corrupt (no rlif.meta)")
    if stored != _digest(tensors, kind, meta_json) and stored != _digest(tensors):  # else: an older file
        raise bad("checksum mismatch: tensor data or metadata is corrupt")
    try:
        meta = json.loads(meta_json)
    except (ValueError, RecursionError) as e:
        raise bad(f"metadata missing or corrupt ({e})") from None
    if not isinstance(meta, dict):
        raise bad("metadata corrupt (not a JSON object)")
    return tensors, meta


def read_file(path: Path, kind: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """`unpack` a file; unreadable files raise CheckpointError too."""
    try:
        blob = Path(path).read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    return unpack(blob, kind, str(path))


def atomic_write(path: Path, blob: bytes) -> Path:
    """Write `blob` to `path` via a fsynced temp file + rename (POSIX atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path
