"""The image encoder: camera frames + the state vector -> one feature vector for actor and critics.

DrQ-style (Kostrikov et al. 2020; DrQ-v2): per camera a small CNN of four 3x3 convolutions
(`channels` each; strides 2, 2, 1, 1: a 64 px frame becomes 11 x 11, a 128 px frame 27 x 27),
ReLU after each, then Linear -> LayerNorm -> tanh to `features` numbers in (-1, 1). Pixels enter
as uint8 (B, H, W, 3) and are scaled to [-0.5, 0.5] inside the module, so batches cross the host
as bytes (a quarter of float32's size). The output is `cat(state, features of each camera)`:
the state keeps its place (its scale is applied by the networks, `obs_scale`), the image
features follow in the order of `cameras`.

One encoder is shared: SAC trains it through the critic loss only and the actor reads its
output detached (DrQ); the imitation baselines, which have no critic, train it through their
own loss. `random_shift` is DrQ's augmentation: pad each frame by `pad` pixels (edge copies)
and crop a random H x W window back, a different shift per sample, applied to the frames of
s and s' of every training batch, never at inference.

The weights of a camera's CNN (`trunks.<camera>.*`) may come from a local safetensors file
(`agent.encoder_weights`) with the same tensor names and shapes as one trunk; nothing is ever
downloaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from learner.errors import CheckpointError
from learner.replay_images import check_frames

STRIDES = (2, 2, 1, 1)  # of the four 3x3 convolutions (DrQ uses 2, 1, 1, 1 at 84 px; two 2s keep 128 px cheap)
KERNEL = 3


def conv_out(size: int) -> int:
    """Side of the last feature map for a `size` px frame (valid convolutions, STRIDES)."""
    for s in STRIDES:
        size = (size - KERNEL) // s + 1
    return size


def min_image_size() -> int:
    """The smallest frame side that leaves a 1 x 1 feature map."""
    size = 1
    while conv_out(size) < 1:
        size += 1
    return size


class CameraTrunk(nn.Module):
    """uint8 (B, H, W, 3) -> features (B, F) in (-1, 1)."""

    def __init__(self, image_size: int, channels: int, features: int):
        super().__init__()
        side = conv_out(image_size)
        if side < 1:
            raise ValueError(f"vision.image_size={image_size}: the encoder needs frames of at least "
                             f"{min_image_size()} px")
        ins = (3, *(channels,) * (len(STRIDES) - 1))
        self.convs = nn.ModuleList(nn.Conv2d(i, channels, KERNEL, stride=s) for i, s in zip(ins, STRIDES))
        self.proj = nn.Linear(channels * side * side, features)
        self.norm = nn.LayerNorm(features)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.permute(0, 3, 1, 2).float() / 255.0 - 0.5  # NHWC bytes -> NCHW in [-0.5, 0.5]
        for conv in self.convs:
            x = F.relu(conv(x))
        return torch.tanh(self.norm(self.proj(x.flatten(1))))


class ObsEncoder(nn.Module):
    """(state (B, D), {camera: uint8 (B, S, S, 3)}) -> (B, D + len(cameras) * features)."""

    def __init__(self, state_dim: int, cameras: Sequence[str], image_size: int, channels: int = 32,
                 features: int = 50):
        super().__init__()
        if not cameras:
            raise ValueError("ObsEncoder: no cameras (a state-only agent needs no encoder)")
        self.state_dim, self.cameras, self.image_size = int(state_dim), tuple(cameras), int(image_size)
        self.channels, self.features = int(channels), int(features)
        self.trunks = nn.ModuleDict({c: CameraTrunk(image_size, channels, features) for c in self.cameras})

    @classmethod
    def from_spec(cls, state_dim: int, spec, where: str) -> "ObsEncoder":
        """An (untrained) encoder of the shapes `spec()` recorded (an exported actor's or a
        checkpoint's `vision`), built without touching the global RNG (the file's weights replace
        the init); CheckpointError naming `where` if the record is malformed."""
        try:
            cams, size = [str(c) for c in spec["cameras"]], int(spec["image_size"])
            channels, features = int(spec["channels"]), int(spec["features"])
            ok = cams and len(set(cams)) == len(cams) and size >= min_image_size() and channels >= 1 and features >= 1
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise CheckpointError(f"{where} malformed: {spec!r}")
        with torch.random.fork_rng(devices=[]):
            return cls(state_dim, cams, size, channels, features)

    @property
    def out_dim(self) -> int:
        return self.state_dim + len(self.cameras) * self.features

    def spec(self) -> dict:
        """What an exported actor or a checkpoint records of the encoder."""
        return {"cameras": list(self.cameras), "image_size": self.image_size, "channels": self.channels,
                "features": self.features}

    def forward(self, state: torch.Tensor, images: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([state, *(self.trunks[c](images[c]) for c in self.cameras)], dim=-1)


def random_shift(frames: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """DrQ's augmentation on uint8 (B, H, W, C): edge-pad by `pad` px, crop a random H x W window
    per sample (shifts of -pad..pad px in each axis). `pad` 0 returns the frames unchanged."""
    if pad <= 0:
        return frames
    b, h, w, _ = frames.shape
    padded = F.pad(frames.permute(0, 3, 1, 2).float(), (pad, pad, pad, pad), mode="replicate")
    padded = padded.to(frames.dtype).permute(0, 2, 3, 1)  # (B, H + 2 pad, W + 2 pad, C)
    shift = torch.randint(0, 2 * pad + 1, (2, b), generator=generator, device=frames.device)
    rows = (shift[0][:, None] + torch.arange(h, device=frames.device))[:, :, None]  # (B, H, 1)
    cols = (shift[1][:, None] + torch.arange(w, device=frames.device))[:, None, :]  # (B, 1, W)
    batch = torch.arange(b, device=frames.device)[:, None, None]
    return padded[batch, rows, cols]


def load_trunk_weights(encoder: ObsEncoder, path: str | Path) -> None:
    """Copy a local safetensors file's tensors into every camera's trunk (same names and shapes
    as one `CameraTrunk`); CheckpointError naming the file and the mismatch otherwise."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"agent.encoder_weights={str(p)!r}: no such file (a local safetensors file "
                              "with one camera trunk's tensors; nothing is downloaded)")
    try:
        tensors = load_file(str(p))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{p}: not a readable safetensors file ({e})") from None
    for camera, trunk in encoder.trunks.items():
        want = trunk.state_dict()
        if set(tensors) != set(want):
            raise CheckpointError(f"{p}: encoder tensors {sorted(tensors)} != this encoder's {sorted(want)} "
                                  f"(channels={encoder.channels}, features={encoder.features}, "
                                  f"image_size={encoder.image_size})")
        for k, ref in want.items():
            t = tensors[k]
            if tuple(t.shape) != tuple(ref.shape) or not torch.isfinite(t).all():
                raise CheckpointError(f"{p}: tensor {k} is {tuple(t.shape)} (finite: "
                                      f"{bool(torch.isfinite(t).all())}), camera {camera!r} needs {tuple(ref.shape)}")
        trunk.load_state_dict({k: v.to(want[k].dtype) for k, v in tensors.items()})


def checked_frames(images, cameras: tuple[str, ...], size: int, rows: int, single: bool,
                   what: str) -> dict[str, np.ndarray]:
    """{camera: uint8 (rows, S, S, 3)} from `images` ({camera: (S, S, 3)} for one observation,
    (B, S, S, 3) for a batch); ValueError naming the camera and the mismatch otherwise. Cameras
    the actor does not see may come along (a graph's profile may carry more); each frame it sees
    is checked by the store's one frame check (`learner.replay_images.check_frames`)."""
    if images is None or set(cameras) - set(images):
        have = None if images is None else sorted(images)
        raise ValueError(f"{what}: this actor sees cameras {list(cameras)} at {size} px; frames given: {have}")
    want = (size, size, 3) if single else (rows, size, size, 3)
    frames = check_frames({c: want for c in cameras}, {c: images[c] for c in cameras}, what)
    return {c: f[None] for c, f in frames.items()} if single else frames
