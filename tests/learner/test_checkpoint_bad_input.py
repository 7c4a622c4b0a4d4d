"""Checkpoints on bad input: metadata under the checksum, loading all-or-nothing (agent and every
RNG untouched on any problem), one clear line from `rlif eval`, pruning never removes the file
just written."""
import random
import re

import numpy as np
import pytest
import torch

from learner import safeio
from learner.checkpoint import KIND, checkpoint_paths, load_checkpoint, load_policy, save_checkpoint
from learner.errors import CheckpointError
from tests.learner.helpers import params_equal, random_batch, small_agent

pytestmark = pytest.mark.unit


def trained(tmp_path, seed=1):
    a = small_agent(seed=seed)
    for i in range(3):
        a.update(random_batch(32, seed=i))
    return a, save_checkpoint(tmp_path, a)


def repack(path, edit):
    """Rewrite a checkpoint with `edit(meta)` applied and a VALID checksum (what a buggy writer
    or a hand edit that also re-signed would produce): only the semantic checks can catch it."""
    tensors, meta = safeio.read_file(path, KIND)
    edit(meta)
    safeio.atomic_write(path, safeio.pack(tensors, KIND, meta))


def global_rngs():
    return torch.get_rng_state().clone(), np.random.get_state(), random.getstate()


def same_rngs(a, b):
    return (torch.equal(a[0], b[0]) and a[1][0] == b[1][0] and np.array_equal(a[1][1], b[1][1])
            and a[1][2:] == b[1][2:] and a[2] == b[2])


@pytest.mark.parametrize("edit", [
    lambda m: m["rng"].__setitem__("python", [3, [1, 2, 3], None]),
    lambda m: m["rng"].__setitem__("python", "garbage"),
    lambda m: m["rng"].__setitem__("numpy", ["MT19937", "x", 0, 0.0]),
    lambda m: m["rng"].__setitem__("numpy", ["NOPE", 0, 0, 0.0]),
    lambda m: m["optim"]["critic"].__setitem__("param_groups", [{"lr": "fast"}]),
    lambda m: m["optim"]["critic"].__setitem__("scalars", {"x.y": 1}),
], ids=["py-short", "py-str", "np-pos", "np-name", "optim-groups", "optim-scalars"])
def test_a_malformed_state_in_the_metadata_touches_neither_agent_nor_any_rng(tmp_path, edit):
    _, path = trained(tmp_path)
    repack(path, edit)
    b, ref = small_agent(seed=2), small_agent(seed=2)
    b_gen = b.gen.get_state()
    before = global_rngs()
    with pytest.raises(CheckpointError, match=re.escape(path.name)):
        load_checkpoint(path, b)
    assert params_equal(b, ref) and b.n_updates == 0 and torch.equal(b.gen.get_state(), b_gen)
    assert same_rngs(before, global_rngs())


def test_a_malformed_torch_rng_tensor_is_refused_before_anything_changes(tmp_path):
    _, path = trained(tmp_path)
    tensors, meta = safeio.read_file(path, KIND)
    tensors["rng.agent"] = torch.zeros(3, dtype=torch.uint8)
    safeio.atomic_write(path, safeio.pack(tensors, KIND, meta))
    b, ref = small_agent(seed=2), small_agent(seed=2)
    with pytest.raises(CheckpointError, match="RNG state rng.agent"):
        load_checkpoint(path, b)
    assert params_equal(b, ref)


def test_the_metadata_is_under_the_checksum(tmp_path):
    _, path = trained(tmp_path)
    blob = path.read_bytes()
    assert b'\\"n_updates\\": 3' in blob
    path.write_bytes(blob.replace(b'\\"n_updates\\": 3', b'\\"n_updates\\": 7', 1))  # same length, valid JSON
    b, ref = small_agent(seed=2), small_agent(seed=2)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(path, b)
    assert params_equal(b, ref)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_policy(path)


def test_a_file_from_before_the_metadata_checksum_still_loads(tmp_path):
    a, path = trained(tmp_path)
    tensors, meta = safeio.read_file(path, KIND)
    from safetensors.torch import save as st_save
    legacy = {"rlif.kind": KIND, "rlif.meta": __import__("json").dumps(meta), "rlif.sha256": safeio._digest(tensors)}
    path.write_bytes(st_save(tensors, metadata=legacy))
    b = small_agent(seed=2)
    load_checkpoint(path, b)
    assert params_equal(a, b)


@pytest.mark.parametrize("drop", ["structure", "counters", "optim", "rng"])
def test_missing_metadata_keys_are_one_clear_error(tmp_path, drop):
    _, path = trained(tmp_path)
    repack(path, lambda m: m.pop(drop))
    with pytest.raises(CheckpointError, match=rf"metadata incomplete or malformed: no `{drop}`"):
        load_checkpoint(path, small_agent(seed=2))
    with pytest.raises(CheckpointError, match=rf"no `{drop}`"):
        load_policy(path)


@pytest.mark.parametrize("drop", ["structure", "counters"])
def test_rlif_eval_on_a_checkpoint_missing_metadata_is_one_line(tmp_path, capsys, drop):
    from robot_stack.cli.main import main

    _, path = trained(tmp_path)
    repack(path, lambda m: m.pop(drop))
    rc = main(["eval", str(path), "--episodes", "1"])
    err = capsys.readouterr().err
    assert rc == 1 and f"no `{drop}`" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_pruning_never_removes_the_file_just_written(tmp_path):
    a, _ = trained(tmp_path / "first", seed=3)  # a later run's checkpoints, numbered higher
    for name in ("ckpt-000000900.safetensors", "ckpt-000000950.safetensors"):
        (tmp_path / name).write_bytes((tmp_path / "first" / "ckpt-000000003.safetensors").read_bytes())
    b = small_agent(seed=4)
    b.update(random_batch(32))
    paths = [save_checkpoint(tmp_path, b, keep=1)]
    b.update(random_batch(32, seed=1))
    paths.append(save_checkpoint(tmp_path, b, keep=2))
    b.update(random_batch(32, seed=2))
    paths.append(save_checkpoint(tmp_path, b, keep=2))
    assert all(p.exists() for p in paths[1:]) and not paths[0].exists()  # keep=2: this and the one before
    names = [p.name for p in checkpoint_paths(tmp_path)]
    assert names == ["ckpt-000000002.safetensors", "ckpt-000000003.safetensors",
                     "ckpt-000000900.safetensors", "ckpt-000000950.safetensors"]  # higher ones left alone
    c = small_agent(seed=5)
    load_checkpoint(paths[-1], c)
    assert params_equal(b, c)
