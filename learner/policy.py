"""Actor-only inference for the actor node and eval: numpy in, numpy out, no autograd.

The actor travels as safetensors BYTES (the `policy_weights` topic, `actor.safetensors`):
tensors `layers.<i>.weight|bias`, `head.weight|bias` (float32, torch Linear layout (out, in)), `obs_scale`
(per-feature observation multipliers, applied first)
and metadata (kind "rlif-actor"): format version, obs/action dims, hidden sizes, log-std bounds,
`version` (export counter of the learner, monotonic across resumes), `n_updates`, `algo`.
`Policy.from_bytes` verifies all of it (and the checksum) and raises `CheckpointError` on a
corrupt, truncated or mismatched blob, before replacing anything the caller holds.

Format 3 is format 2 plus an image encoder (`learner.encoder.ObsEncoder`, tensors
`encoder.trunks.<camera>.*`, metadata `vision`: cameras, image_size, channels, features): the
first layer and `obs_scale` then span the state and each camera's features. A state-only actor is
still written as format 2, byte for byte as before. The caller says what its profile feeds
(`cameras`, `image_size`): an actor trained with images loaded into a state-only profile, or the
reverse, is refused naming both.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from learner import safeio
from learner.errors import CheckpointError
from learner.encoder import ObsEncoder, checked_frames
from learner.nets import LOG_STD_MAX, LOG_STD_MIN, TanhGaussianActor

__all__ = ["Policy", "ZeroedObs", "CheckpointError", "encode_actor", "ACTOR_KIND", "ACTOR_FORMAT", "STATE_FORMAT"]

ACTOR_KIND = "rlif-actor"
ACTOR_FORMAT = 3  # 2: + obs_scale (observation multipliers applied before the first layer); 3: + encoder
STATE_FORMAT = 2  # what a state-only actor is written as


def encode_actor(actor: TanhGaussianActor, version: int, n_updates: int, algo: str,
                 encoder: ObsEncoder | None = None) -> bytes:
    """Serialise an actor network (and its image encoder) to safetensors bytes (module docstring)."""
    meta = {
        "format": STATE_FORMAT if encoder is None else ACTOR_FORMAT,
        "obs_dim": actor.obs_dim if encoder is None else encoder.state_dim, "action_dim": actor.action_dim,
        "hidden": list(actor.hidden), "log_std_min": LOG_STD_MIN, "log_std_max": LOG_STD_MAX,
        "version": int(version), "n_updates": int(n_updates), "algo": algo,
    }
    tensors = dict(actor.state_dict())
    if encoder is not None:
        meta["vision"] = encoder.spec()
        tensors.update({f"encoder.{k}": v.detach().cpu() for k, v in encoder.state_dict().items()})
    return safeio.pack({k: v.detach().cpu() for k, v in tensors.items()}, ACTOR_KIND, meta)


def _encoder_from_meta(meta: dict[str, Any], obs_dim: int, name: str) -> ObsEncoder | None:
    """The (untrained) encoder a format-3 actor's metadata describes, or None for format 2."""
    if meta.get("format") == STATE_FORMAT:
        return None
    return ObsEncoder.from_spec(obs_dim, meta.get("vision"), f"{name}: format-3 actor metadata `vision`").eval()


def _check_profile(name: str, cameras: tuple[str, ...], size: int, want_cameras, want_size) -> None:
    """The actor sees what the caller's profile feeds it (CheckpointError naming both otherwise)."""
    if want_cameras is None and want_size is None:
        return
    want_cameras = tuple(want_cameras or ()) if want_size != 0 else ()
    if cameras == want_cameras and (not cameras or want_size is None or size == want_size):
        return
    def says(c, s):
        return f"cameras {list(c)} at {s} px" if c else "state only (vision.image_size=0)"
    raise CheckpointError(f"{name}: the actor was trained on {says(cameras, size)}, this profile feeds "
                          f"{says(want_cameras, want_size)}: use a matching profile (vision.*) or actor")


class Policy:
    """A frozen tanh-Gaussian actor in numpy. `act(obs)` -> action in [-1, 1], float32."""

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], meta: dict[str, Any],
                 obs_scale: np.ndarray | None = None, encoder: ObsEncoder | None = None):
        self.layers = weights[:-1]  # hidden (W (out, in), b (out,)) pairs, ReLU after each
        self.head = weights[-1]
        self.meta = dict(meta)
        self.obs_dim = int(meta["obs_dim"])
        self.encoder = encoder  # None: state only
        self.cameras: tuple[str, ...] = () if encoder is None else encoder.cameras
        self.image_size = 0 if encoder is None else encoder.image_size
        in_dim = self.obs_dim if encoder is None else encoder.out_dim
        self.obs_scale = np.ones(in_dim, np.float32) if obs_scale is None else obs_scale
        self.action_dim = int(meta["action_dim"])
        self.version = int(meta["version"])
        self.n_updates = int(meta.get("n_updates", 0))
        self.algo = str(meta.get("algo", "?"))

    @classmethod
    def from_bytes(cls, blob: bytes, obs_dim: int | None = None, action_dim: int | None = None,
                   name: str = "<policy bytes>", cameras=None, image_size: int | None = None) -> Policy:
        """Load and verify an exported actor; optional expected dims and image inputs (`cameras`,
        `image_size`: what the profile feeds; 0 / () = state only): mismatch -> CheckpointError."""
        tensors, meta = safeio.unpack(blob, ACTOR_KIND, name)
        if meta.get("format") not in (STATE_FORMAT, ACTOR_FORMAT):
            raise CheckpointError(f"{name}: actor format {meta.get('format')!r}, this code reads "
                                  f"{STATE_FORMAT} and {ACTOR_FORMAT}")
        try:
            o, a, hidden = int(meta["obs_dim"]), int(meta["action_dim"]), [int(h) for h in meta["hidden"]]
            int(meta["version"])
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{name}: actor metadata incomplete ({e})") from None
        if obs_dim is not None and o != obs_dim:
            raise CheckpointError(f"{name}: actor expects obs_dim {o}, this cell has {obs_dim}")
        if action_dim is not None and a != action_dim:
            raise CheckpointError(f"{name}: actor outputs action_dim {a}, this cell has {action_dim}")
        if (meta.get("log_std_min"), meta.get("log_std_max")) != (LOG_STD_MIN, LOG_STD_MAX):
            raise CheckpointError(f"{name}: actor log-std bounds differ from this code's")
        encoder = _encoder_from_meta(meta, o, name)
        _check_profile(name, () if encoder is None else encoder.cameras,
                       0 if encoder is None else encoder.image_size, cameras, image_size)
        enc_shapes = {} if encoder is None else {f"encoder.{k}": tuple(v.shape)
                                                 for k, v in encoder.state_dict().items()}
        in_dim = o if encoder is None else encoder.out_dim
        dims = [in_dim, *hidden]
        names = [f"layers.{i}" for i in range(len(hidden))] + ["head"]
        shapes = [(dims[i + 1], dims[i]) for i in range(len(hidden))] + [(2 * a, dims[-1])]
        expected = {f"{n}.weight": s for n, s in zip(names, shapes)}
        expected.update({f"{n}.bias": (s[0],) for n, s in zip(names, shapes)})
        expected["obs_scale"] = (in_dim,)
        expected.update(enc_shapes)
        if set(tensors) != set(expected):
            raise CheckpointError(f"{name}: actor tensors {sorted(tensors)} != expected {sorted(expected)}")
        for k, shape in expected.items():
            t = tensors[k]
            if tuple(t.shape) != shape or t.dtype != torch.float32:
                raise CheckpointError(f"{name}: tensor {k} is {tuple(t.shape)} {t.dtype}, expected {shape} float32")
            if not torch.isfinite(t).all():
                raise CheckpointError(f"{name}: tensor {k} holds NaN/inf")
        weights = [(tensors[f"{n}.weight"].numpy().copy(), tensors[f"{n}.bias"].numpy().copy()) for n in names]
        if encoder is not None:
            encoder.load_state_dict({k[len("encoder."):]: tensors[k].clone() for k in enc_shapes})
        return cls(weights, meta, tensors["obs_scale"].numpy().copy(), encoder)

    @classmethod
    def load(cls, path: str | Path, obs_dim: int | None = None, action_dim: int | None = None,
             cameras=None, image_size: int | None = None) -> Policy:
        """Load `actor.safetensors` (or any exported actor file); checks as `from_bytes`."""
        try:
            blob = Path(path).read_bytes()
        except OSError as e:
            raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
        return cls.from_bytes(blob, obs_dim, action_dim, name=str(path), cameras=cameras, image_size=image_size)

    def _dist(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = obs * self.obs_scale
        for w, b in self.layers:
            h = np.maximum(h @ w.T + b, 0.0)
        out = h @ self.head[0].T + self.head[1]
        mean, raw = out[..., : self.action_dim], out[..., self.action_dim:]
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (np.tanh(raw) + 1.0)
        return mean, log_std

    def act(self, obs: np.ndarray, deterministic: bool = True,
            rng: np.random.Generator | None = None, images=None) -> np.ndarray:
        """Action(s) for obs (obs_dim,) or (B, obs_dim); tanh(mean) or a sample (needs `rng`).
        An actor with cameras needs `images` {camera: uint8 (S, S, 3)} (or (B, S, S, 3)); a
        state-only actor ignores frames.

        NaN in obs gives NaN actions: the caller (actor node, cell) holds pose on those.
        """
        x = np.asarray(obs, dtype=np.float32)
        if x.shape[-1:] != (self.obs_dim,) or x.ndim > 2:
            raise ValueError(f"policy expects obs of shape ({self.obs_dim},) or (B, {self.obs_dim}), got {x.shape}")
        if self.encoder is not None:
            single = x.ndim == 1
            xb = x[None] if single else x
            frames = checked_frames(images, self.cameras, self.image_size, len(xb), single, "policy")
            with torch.inference_mode():
                f = self.encoder(torch.from_numpy(xb), {c: torch.from_numpy(v) for c, v in frames.items()}).numpy()
            x = f[0] if single else f
        mean, log_std = self._dist(x)
        if deterministic:
            u = mean
        else:
            if rng is None:
                raise ValueError("a stochastic action needs rng=np.random.Generator")
            u = mean + np.exp(log_std) * rng.standard_normal(mean.shape).astype(np.float32)
        return np.tanh(u).astype(np.float32)

    def warm_up(self) -> None:
        """One action on zeros (and black frames): torch builds its convolution kernels on the first
        call (tens of ms), which a caller with a deadline takes here rather than on a control step."""
        size = (self.image_size, self.image_size, 3)
        self.act(np.zeros(self.obs_dim, np.float32), images={c: np.zeros(size, np.uint8) for c in self.cameras})

    def __repr__(self) -> str:
        seen = f", cameras={list(self.cameras)}@{self.image_size}px" if self.cameras else ""
        return (f"Policy(algo={self.algo}, obs_dim={self.obs_dim}, action_dim={self.action_dim}{seen}, "
                f"version={self.version}, n_updates={self.n_updates})")


class ZeroedObs:
    """A policy that sees some observation features as 0 (a sensor ablation for `rlif eval
    --zero-obs`: e.g. no F/T sensor = f_*, tq_* zero; position zeroed = "at the nominal hole")."""

    def __init__(self, policy: Any, indices: list[int]):
        self.policy, self.indices = policy, list(indices)
        self.cameras = tuple(getattr(policy, "cameras", ()))  # frames pass through untouched

    def act(self, obs: np.ndarray, deterministic: bool = True,
            rng: np.random.Generator | None = None, images=None) -> np.ndarray:
        x = np.array(obs, dtype=np.float32, copy=True)
        x[..., self.indices] = 0.0
        return self.policy.act(x, deterministic=deterministic, rng=rng, images=images)
