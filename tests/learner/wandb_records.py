"""Read a W&B offline run's transaction log (`run-<id>.wandb`) back into wandb's own protobuf
`Record`s, for tests. wandb 0.31 ships no Python reader of these files (its reader is in the Go
`wandb-core`), so the framing is read here: a 7-byte header (`:W&B`, 2 magic bytes, version),
then LevelDB log records (4-byte CRC, 2-byte little-endian length, 1-byte type: 1 full, 2 first,
3 middle, 4 last) in 32 KiB blocks, a block's tail shorter than a record header being padding.
Each reassembled payload is one `wandb.proto.wandb_internal_pb2.Record`.
"""
from __future__ import annotations

import json
from pathlib import Path

BLOCK = 32 * 1024
HEADER = 7


def records(path: Path) -> list:
    from wandb.proto import wandb_internal_pb2 as pb

    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path}: not a W&B transaction log"
    out, pos, parts = [], HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:
            pos += left  # block trailer padding
            continue
        length = int.from_bytes(data[pos + 4:pos + 6], "little")
        kind = data[pos + 6]
        if kind == 0 and length == 0:
            pos += left  # zero padding to the block's end
            continue
        payload = data[pos + HEADER:pos + HEADER + length]
        pos += HEADER + length
        parts += payload
        if kind in (1, 4):
            rec = pb.Record()
            rec.ParseFromString(parts)
            out.append(rec)
            parts = b""
    return out


def history(path: Path) -> list[dict]:
    """Each `run.log` call: {'_step': step, key: value, ...}."""
    rows = []
    for r in records(path):
        if r.WhichOneof("record_type") == "history":
            row = {"_step": r.history.step.num}
            for item in r.history.item:
                key = item.key or "/".join(item.nested_key)
                row[key] = json.loads(item.value_json)
            rows.append(row)
    return rows


def summary(path: Path) -> dict:
    out = {}
    for r in records(path):
        if r.WhichOneof("record_type") == "summary":
            for item in r.summary.update:
                out[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return out


def run_record(path: Path):
    for r in records(path):
        if r.WhichOneof("record_type") == "run":
            return r.run
    return None
