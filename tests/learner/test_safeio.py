"""Safetensors files of the learner: the same content always gives the same bytes."""
import hashlib
import subprocess
import sys

import torch

from learner import safeio

KIND = "rlif-test"
PACK_IN_A_FRESH_PROCESS = """
import hashlib, sys, torch
from learner import safeio
t = {"w": torch.arange(12, dtype=torch.float32).reshape(3, 4), "b": torch.ones(4)}
sys.stdout.write(hashlib.sha256(safeio.pack(t, "rlif-test", {"n_updates": 7, "algo": "rlpd"})).hexdigest())
"""


def _content():
    return {"w": torch.arange(12, dtype=torch.float32).reshape(3, 4), "b": torch.ones(4)}, {"n_updates": 7, "algo": "rlpd"}


def test_packing_the_same_content_gives_the_same_bytes_every_time():
    tensors, meta = _content()
    blobs = {safeio.pack(tensors, KIND, meta) for _ in range(20)}
    assert len(blobs) == 1
    back, meta_back = safeio.unpack(blobs.pop(), KIND)
    assert meta_back == meta and torch.equal(back["w"], tensors["w"]) and torch.equal(back["b"], tensors["b"])


def test_separate_processes_write_the_same_bytes_too():
    tensors, meta = _content()
    here = hashlib.sha256(safeio.pack(tensors, KIND, meta)).hexdigest()
    for _ in range(3):  # each process seeds its hash maps afresh
        r = subprocess.run([sys.executable, "-c", PACK_IN_A_FRESH_PROCESS], capture_output=True, text=True, check=True)
        assert r.stdout == here


def test_the_canonical_header_stays_a_plain_aligned_safetensors_file():
    from safetensors.torch import load

    tensors, meta = _content()
    blob = safeio.pack(tensors, KIND, {**meta, "note": "é, ü and a \"quote\""})
    n = int.from_bytes(blob[:8], "little")
    assert (8 + n) % 8 == 0  # data starts 8-byte aligned
    assert torch.equal(load(blob)["w"], tensors["w"])
    assert safeio.unpack(blob, KIND)[1]["note"] == "é, ü and a \"quote\""
