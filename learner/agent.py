"""The agent interface shared by RLPD/SAC and the imitation baselines (`learner.agents` builds them).

Every agent:
- `sample_spec` -> dict of keyword arguments for `ReplayStore.sample(rng=..., **spec)`:
  `batch_size` (= cfg.batch_size * cfg.utd rows), `reward`, `symmetric`, `subset`. The
  training loop stays generic: `agent.update(store.sample(rng=rng, **agent.sample_spec))`.
- `update(batch) -> metrics`: ONE call per environment step. The batch (cfg.utd * m rows) is
  split into cfg.utd minibatches of m rows by interleaving (minibatch k = rows k, k+utd, ...),
  so a symmetric batch (prior half then online half) gives every minibatch the same 50/50 mix.
  SAC does a critic step on every minibatch and one actor + temperature step on the last one
  (RLPD); the baselines do one gradient step per minibatch.
- `act(obs, deterministic=False, images=None) -> action` in [-1, 1] (float32), for (obs_dim,) or
  (B, obs_dim); an agent built with cameras (`vision`) needs `images` = {camera: uint8 (S, S, 3)}
  or (B, S, S, 3) and reads them through its encoder (`learner.encoder`); a state-only agent
  ignores frames.
- `export_actor() -> bytes`: the actor for `learner.policy.Policy` (version counter bumps).
- checkpoint hooks used by `learner.checkpoint`: `modules()`, `optimizers()`, `extra_tensors()`,
  `counters()` / `set_counters()`, `structure()`.

With cameras, the networks see `encoder(state, frames)` (the state, then each camera's
features) instead of the state; training batches carry `image_<camera>` (and `next_image_<camera>`
for SAC) as uint8, shifted at random per sample (`agent.augment_pad`).

Randomness of an agent (network init, exploration noise, target-subset choice) comes from its
own `torch.Generator` seeded with `seed`, so two agents with one seed are identical and the
global RNGs are left alone (checkpoints save the global ones as well, for the caller's sake).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from learner.config import AgentConfig, ReplayConfig
from learner.encoder import ObsEncoder, checked_frames, load_trunk_weights, random_shift
from learner.errors import TrainingDiverged
from learner.policy import encode_actor


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"agent.device={name!r} but CUDA is not available (use 'auto' or 'cpu')")
    return torch.device(name)


def resolve_obs_scale(scale: tuple[float, ...], obs_dim: int) -> torch.Tensor:
    """`agent.obs_scale`, or the cell contract's default for its observation size, else ones."""
    if scale:
        if len(scale) != obs_dim or not all(math.isfinite(s) and s > 0 for s in scale):
            raise ValueError(f"agent.obs_scale: need {obs_dim} finite positive values, got {len(scale)}: {scale}")
        return torch.tensor(scale, dtype=torch.float32)
    from sim.contract import OBS_SCALE

    return torch.tensor(OBS_SCALE if obs_dim == len(OBS_SCALE) else (1.0,) * obs_dim, dtype=torch.float32)


class Agent:
    """Base class: device, generator, actor, batch plumbing, NaN guard, export."""

    algo = "?"
    batch_keys: tuple[str, ...] = ("obs", "action")

    def __init__(self, cfg: AgentConfig, obs_dim: int, action_dim: int, seed: int,
                 replay: ReplayConfig | None = None, vision=None):
        cfg.validate()
        self.cfg, self.obs_dim, self.action_dim, self.seed = cfg, int(obs_dim), int(action_dim), int(seed)
        self.replay_cfg = replay or ReplayConfig()
        self.obs_scale = resolve_obs_scale(cfg.obs_scale, self.obs_dim)
        # vision: a sim.config.VisionConfig; its cameras join the observation when image_size > 0
        on = vision is not None and vision.image_size > 0
        self.cameras: tuple[str, ...] = tuple(vision.cameras) if on else ()
        self.image_size = int(vision.image_size) if on else 0
        if self.cameras and cfg.cuda_graph:
            raise ValueError("agent.cuda_graph does not take image observations yet; set agent.cuda_graph=false "
                             "or vision.image_size=0")
        self.device = resolve_device(cfg.device)
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(self.seed)
        self.n_updates = 0  # update() calls (= environment steps trained on)
        self.n_grad_steps = 0  # gradient steps (critic steps for SAC)
        self.policy_version = 0  # export_actor() counter
        self.diverged = False
        # Parameter init draws from the global RNG (nn.Linear); fork it so init is a pure
        # function of `seed` and the caller's global RNG stream is untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.encoder = None
            if self.cameras:
                self.encoder = ObsEncoder(self.obs_dim, self.cameras, self.image_size, cfg.encoder_channels,
                                          cfg.encoder_features).to(self.device)
                if cfg.encoder_weights:
                    load_trunk_weights(self.encoder, cfg.encoder_weights)
            self._build()
        self._cache_params()

    @property
    def feature_dim(self) -> int:
        """Input size of the actor and critics: the state, then each camera's features."""
        return self.obs_dim if self.encoder is None else self.encoder.out_dim

    @property
    def net_scale(self) -> torch.Tensor:
        """The networks' input multipliers: obs_scale for the state, ones for image features (O(1))."""
        extra = self.feature_dim - self.obs_dim
        return torch.cat([self.obs_scale, torch.ones(extra)]) if extra else self.obs_scale

    @property
    def keys(self) -> tuple[str, ...]:
        """The batch columns `update` reads: `batch_keys` plus the frames of obs / next_obs."""
        frames = [f"{'image_' if k == 'obs' else 'next_image_'}{c}" for k in self.batch_keys
                  if k in ("obs", "next_obs") for c in self.cameras]
        return (*self.batch_keys, *frames)

    def _features(self, mb: dict[str, torch.Tensor], key: str = "obs", grad: bool = True) -> torch.Tensor:
        """The networks' input for column `key` (obs or next_obs): the state alone, or with the
        encoder's features of its randomly shifted frames (no gradient into the encoder unless
        `grad`)."""
        if self.encoder is None:
            return mb[key]
        prefix = "image_" if key == "obs" else "next_image_"
        frames = {c: random_shift(mb[prefix + c], self.cfg.augment_pad, self.gen) for c in self.cameras}
        with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
            return self.encoder(mb[key], frames)

    def _with_encoder(self, modules: dict[str, nn.Module]) -> dict[str, nn.Module]:
        return modules if self.encoder is None else {**modules, "encoder": self.encoder}

    def _trained_params(self, module: nn.Module) -> list[nn.Parameter]:
        """`module`'s parameters, and the encoder's when there is one (its one optimizer)."""
        params = list(module.parameters())
        return params if self.encoder is None else params + list(self.encoder.parameters())

    # ---- subclass hooks ------------------------------------------------------------------
    def _build(self) -> None:
        raise NotImplementedError

    def _update_minibatches(self, mbs: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def modules(self) -> dict[str, nn.Module]:
        return self._with_encoder({"actor": self.actor})

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        """Learnable tensors outside modules (e.g. SAC's log-temperature)."""
        return {}

    @property
    def sample_spec(self) -> dict[str, Any]:
        raise NotImplementedError

    # ---- public API --------------------------------------------------------------------------
    def act(self, obs: np.ndarray, deterministic: bool = False, images=None) -> np.ndarray:
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        single = x.ndim == 1
        if x.shape[-1] != self.obs_dim:
            raise ValueError(f"act: obs has {x.shape[-1]} features, agent expects {self.obs_dim}")
        with torch.no_grad():
            xb = x.unsqueeze(0) if single else x
            if self.encoder is not None:
                frames = checked_frames(images, self.cameras, self.image_size, len(xb), single, "act")
                xb = self.encoder(xb, {c: torch.as_tensor(f, device=self.device) for c, f in frames.items()})
            a = self.actor.deterministic(xb) if deterministic else self.actor.sample(xb, self.gen)[0]
        a = a.clamp(-1.0, 1.0).cpu().numpy().astype(np.float32)
        return a[0] if single else a

    def update(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        if self.diverged:
            raise TrainingDiverged(f"{self.algo}: this agent diverged earlier; reload the last good checkpoint")
        mbs = self._split(batch)
        metrics = self._update_minibatches(mbs)
        self.n_updates += 1
        names = list(metrics)
        values = torch.stack([metrics[k].detach().float().reshape(()) for k in names]).tolist() if names else []
        return dict(zip(names, values))  # one host transfer for all metrics

    def export_actor(self) -> bytes:
        self.policy_version += 1
        return encode_actor(self.actor, self.policy_version, self.n_updates, self.algo, self.encoder)

    # ---- helpers -----------------------------------------------------------------------------
    def _split(self, batch: dict[str, np.ndarray]) -> list[dict[str, torch.Tensor]]:
        """Check columns, move to the device, split into cfg.utd interleaved minibatches."""
        utd = self.cfg.utd
        n, arrays = self._checked_columns(batch)
        m = n // utd
        cols = {}
        for k, arr in arrays.items():
            t = torch.as_tensor(arr, device=self.device)
            # (n, ...) -> (m, utd, ...) -> (utd, m, ...): minibatch k takes rows k, k+utd, ...
            cols[k] = t.reshape(m, utd, *t.shape[1:]).transpose(0, 1).contiguous()
        return [{k: v[i] for k, v in cols.items()} for i in range(utd)]

    def _checked_columns(self, batch: dict[str, np.ndarray]) -> tuple[int, dict[str, np.ndarray]]:
        """The batch's columns as float32 arrays (rows, ...), checked: every key present, rows a
        positive multiple of cfg.utd, all finite. ValueError (one line) otherwise."""
        utd = self.cfg.utd
        missing = [k for k in self.keys if k not in batch]
        if missing:
            raise ValueError(f"{self.algo}.update: batch lacks {missing} (has {sorted(batch)})")
        n = len(batch[self.batch_keys[0]])
        if n < utd or n % utd:
            raise ValueError(f"{self.algo}.update: {n} rows is not a positive multiple of utd={utd}")
        arrays = {}
        frame = (self.image_size, self.image_size, 3)
        for k in self.keys[len(self.batch_keys):]:  # frames stay bytes until the encoder
            arr = np.asarray(batch[k])
            if arr.dtype != np.uint8 or arr.shape != (n, *frame):
                raise ValueError(f"{self.algo}.update: column {k!r} is {arr.dtype} {arr.shape}, expected uint8 "
                                 f"{(n, *frame)}")
            arrays[k] = arr
        for k in self.batch_keys:
            arr = np.asarray(batch[k], dtype=np.float32)
            if len(arr) != n:
                raise ValueError(f"{self.algo}.update: column {k!r} has {len(arr)} rows, expected {n}")
            if not np.isfinite(arr).all():
                bad = np.flatnonzero(~np.isfinite(arr.reshape(n, -1)).all(axis=1))[:5]
                raise ValueError(f"{self.algo}.update: column {k!r} holds NaN/inf (rows {bad.tolist()}...)")
            arrays[k] = arr
        return n, arrays

    def _guard(self, **losses: torch.Tensor) -> None:
        """Raise TrainingDiverged if any loss is non-finite (call before optimizer.step)."""
        vals = torch.stack([v.detach().reshape(()) for v in losses.values()])
        if not bool(torch.isfinite(vals).all()):
            self.diverged = True
            shown = ", ".join(f"{k}={v:.4g}" for k, v in zip(losses, vals.tolist()))
            raise TrainingDiverged(
                f"{self.algo}: non-finite loss at update {self.n_updates} ({shown}); this step was not "
                "applied. Resume from the last good checkpoint (lower lr or check the data).")

    def _cache_params(self) -> None:
        """Hook after building (subclasses cache parameter lists)."""

    def counters(self) -> dict[str, int]:
        return {"n_updates": self.n_updates, "n_grad_steps": self.n_grad_steps,
                "policy_version": self.policy_version}

    def set_counters(self, c: dict[str, int]) -> None:
        self.n_updates, self.n_grad_steps = int(c["n_updates"]), int(c["n_grad_steps"])
        self.policy_version = int(c["policy_version"])

    def structure(self) -> dict[str, Any]:
        """What must match between a checkpoint and an agent for it to load."""
        s = {"algo": self.algo, "obs_dim": self.obs_dim, "action_dim": self.action_dim,
             "hidden": list(self.cfg.hidden), "n_critics": self.cfg.n_critics,
             "layer_norm": self.cfg.layer_norm}
        if self.encoder is not None:  # absent for state-only agents: their checkpoints stay as they were
            s["vision"] = self.encoder.spec()
        return s

