"""The image encoder (learner.encoder): DrQ's random shift, the shapes, pretrained trunk weights."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from learner.encoder import CameraTrunk, ObsEncoder, conv_out, load_trunk_weights, min_image_size, random_shift
from learner.errors import CheckpointError

pytestmark = pytest.mark.unit


def frames(n: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8))


def test_random_shift_crops_a_window_of_the_edge_padded_frame_per_sample():
    x = frames(64)
    gen = torch.Generator().manual_seed(3)
    y = random_shift(x, 2, gen)
    assert y.shape == x.shape and y.dtype == torch.uint8
    padded = np.pad(x.numpy(), ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    shifts = []
    for b in range(len(x)):
        hits = [(dy, dx) for dy in range(5) for dx in range(5)
                if np.array_equal(padded[b, dy:dy + 16, dx:dx + 16], y[b].numpy())]
        assert hits, f"sample {b} is not a window of its padded frame"
        shifts.append(hits[0])
    assert len(set(shifts)) > 5  # a shift per sample, not one for the batch
    again = random_shift(x, 2, torch.Generator().manual_seed(3))
    assert torch.equal(again, y)  # the agent's generator decides: reproducible
    assert torch.equal(random_shift(x, 0, gen), x)  # pad 0: augmentation off


def test_the_encoder_keeps_the_state_and_appends_each_cameras_features():
    enc = ObsEncoder(5, ("wrist", "front"), 32, channels=4, features=7)
    state = torch.randn(3, 5)
    out = enc(state, {"wrist": frames(3, 32), "front": frames(3, 32, seed=1)})
    assert out.shape == (3, enc.out_dim) == (3, 5 + 2 * 7)
    assert torch.equal(out[:, :5], state)
    assert out[:, 5:].abs().max() < 1  # tanh features
    assert not torch.allclose(out[:, 5:12], out[:, 12:])  # each camera has its own trunk


def test_too_small_a_frame_is_refused_with_the_minimum():
    assert conv_out(min_image_size()) == 1 and conv_out(min_image_size() - 1) < 1
    with pytest.raises(ValueError, match=f"at least {min_image_size()} px"):
        CameraTrunk(min_image_size() - 1, 4, 4)


def test_pretrained_trunk_weights_load_from_a_local_file_and_bad_files_are_named(tmp_path):
    src = ObsEncoder(3, ("wrist",), 32, channels=4, features=6)
    path = tmp_path / "trunk.safetensors"
    save_file({k: v.contiguous() for k, v in src.trunks["wrist"].state_dict().items()}, str(path))
    dst = ObsEncoder(3, ("wrist", "front"), 32, channels=4, features=6)
    load_trunk_weights(dst, path)
    for cam in ("wrist", "front"):
        for k, v in src.trunks["wrist"].state_dict().items():
            assert torch.equal(dst.trunks[cam].state_dict()[k], v), (cam, k)
    with pytest.raises(CheckpointError, match="no such file"):
        load_trunk_weights(dst, tmp_path / "none.safetensors")
    wider = ObsEncoder(3, ("wrist",), 32, channels=8, features=6)
    with pytest.raises(CheckpointError, match="camera 'wrist' needs"):
        load_trunk_weights(wider, path)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_trunk_weights(dst, tmp_path / "junk.safetensors")
