"""The reference agent of the RLIF paper's protocol: a near-optimal SAC trained ONCE with the task
reward on the learner's own observations, its Q-function as the simulated operator's judge, and
experts of three levels derived from its training (actor snapshots of increasing quality).

File (`rlif reference train` writes it; one ships at `DEFAULT_FILE`): a safetensors file of kind
"rlif-reference" (checksummed, `learner.safeio`) with
- `actor.*`   the final actor (export layout of `learner.policy`): a_ref = tanh(mean(s));
- `critic.*`  the final critic ensemble (`learner.nets.EnsembleCritic` state): Q_ref(s, a) is the
              MEAN over members (as the RLIF reference code does for RLPD judges);
- `level.<name>.*` one actor per expert level (low, mid, high): the training snapshot whose
              deterministic success on the calibration seeds is closest to the level's target;
- metadata: dims, hidden sizes, gamma, reward, the levels' measured success, the cell config it
  was trained on and the command that made it.
Inference is numpy (no autograd, no torch threads): a judge call is two Q evaluations.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from learner import safeio
from learner.errors import CheckpointError
from learner.nets import LOG_STD_MAX, LOG_STD_MIN
from learner.policy import STATE_FORMAT, Policy

REF_KIND = "rlif-reference"
REF_FORMAT = 1
DEFAULT_FILE = Path(__file__).resolve().parent / "assets" / "reference.safetensors"
LEVEL_TARGETS = {"low": 0.25, "mid": 0.45, "high": 0.90}  # deterministic success on calibration seeds
FIX = "make one with `rlif reference train` or point operator.reference at the shipped file"


class ReferenceError(CheckpointError):
    """The reference file is missing, corrupt or does not fit the cell (message names the fix)."""


class CriticEnsembleNp:
    """Q(s, a) of an `EnsembleCritic` state dict in numpy; `q(obs, act)` -> (E, B)."""

    def __init__(self, state: dict[str, np.ndarray], n_layers: int, layer_norm: bool):
        self.w = [state[f"weights.{i}"] for i in range(n_layers)]
        self.b = [state[f"biases.{i}"] for i in range(n_layers)]
        self.ln = [(state[f"ln_scales.{i}"], state[f"ln_shifts.{i}"]) for i in range(n_layers - 1)] if layer_norm else []
        self.in_scale = state["in_scale"]

    def q(self, obs: np.ndarray, act: np.ndarray) -> np.ndarray:
        x = np.concatenate([obs, act], axis=-1).astype(np.float32) * self.in_scale  # (B, in)
        h = np.einsum("bi,eio->ebo", x, self.w[0]) + self.b[0]
        for i in range(1, len(self.w)):
            if self.ln:
                s, t = self.ln[i - 1]
                mu = h.mean(-1, keepdims=True)
                var = h.var(-1, keepdims=True)
                h = (h - mu) / np.sqrt(var + 1e-5) * s + t
            h = np.maximum(h, 0.0)
            h = np.einsum("ebi,eio->ebo", h, self.w[i]) + self.b[i]
        return h[..., 0]


@dataclass
class Reference:
    actor: Policy
    critic: CriticEnsembleNp
    levels: dict[str, Policy]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def obs_dim(self) -> int:
        return self.actor.obs_dim

    def q(self, obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Mean-over-ensemble Q_ref for one observation and K actions (K, A) -> (K,)."""
        o = np.broadcast_to(np.asarray(obs, np.float32)[: self.obs_dim], (len(actions), self.obs_dim))
        return self.critic.q(o, np.asarray(actions, np.float32)).mean(axis=0)

    def action(self, obs: np.ndarray) -> np.ndarray:
        """a_ref: the reference's deterministic action."""
        return self.actor.act(np.asarray(obs, np.float32)[: self.obs_dim], deterministic=True)

    def level(self, name: str) -> Policy:
        if name not in self.levels:
            raise ReferenceError(f"reference has no expert level {name!r}; it has {sorted(self.levels)}")
        return self.levels[name]


def _actor_tensors(actor_bytes: bytes, prefix: str) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, meta = safeio.unpack(actor_bytes, "rlif-actor")
    return {f"{prefix}.{k}": v for k, v in tensors.items()}, meta


def encode(final_actor: bytes, critic_state: dict[str, torch.Tensor], level_actors: dict[str, bytes],
           meta: dict[str, Any]) -> bytes:
    """One reference file from exported actors (bytes of `Agent.export_actor`) and a critic state."""
    tensors, actor_meta = _actor_tensors(final_actor, "actor")
    tensors.update({f"critic.{k}": v.detach().float().cpu() for k, v in critic_state.items()})
    for name, blob in level_actors.items():
        tensors.update(_actor_tensors(blob, f"level.{name}")[0])
    meta = dict(meta, format=REF_FORMAT, actor=actor_meta, level_names=sorted(level_actors))
    return safeio.pack(tensors, REF_KIND, meta)


def _policy(tensors: dict[str, torch.Tensor], prefix: str, actor_meta: dict, name: str) -> Policy:
    sub = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    blob = safeio.pack(sub, "rlif-actor", actor_meta)
    try:
        return Policy.from_bytes(blob, name=f"{name} [{prefix}]")
    except CheckpointError as e:
        raise ReferenceError(f"{e}; {FIX}") from None


def load(path: str | Path | None = None, obs_dim: int = 18, action_dim: int = 6) -> Reference:
    """Load and verify a reference file (default: the shipped one); ReferenceError naming the fix."""
    path = Path(path) if path else DEFAULT_FILE
    if not path.is_file():
        raise ReferenceError(f"reference agent file {path} not found; {FIX}")
    try:
        tensors, meta = safeio.read_file(path, REF_KIND)
    except CheckpointError as e:
        raise ReferenceError(f"{e}; {FIX}") from None
    if meta.get("format") != REF_FORMAT:
        raise ReferenceError(f"{path}: reference format {meta.get('format')!r}, this code reads {REF_FORMAT}; {FIX}")
    am = dict(meta.get("actor") or {})
    if am.get("format") != STATE_FORMAT or (am.get("log_std_min"), am.get("log_std_max")) != (LOG_STD_MIN, LOG_STD_MAX):
        raise ReferenceError(f"{path}: actor metadata does not match this code; {FIX}")
    if (am.get("obs_dim"), am.get("action_dim")) != (obs_dim, action_dim):
        raise ReferenceError(f"{path}: reference is for obs_dim {am.get('obs_dim')} / action_dim "
                             f"{am.get('action_dim')}, this cell has {obs_dim} / {action_dim}; {FIX}")
    actor = _policy(tensors, "actor", am, str(path))
    levels = {n: _policy(tensors, f"level.{n}", dict(am, version=1), str(path)) for n in meta.get("level_names", [])}
    critic_state = {k[len("critic."):]: v.numpy() for k, v in tensors.items() if k.startswith("critic.")}
    hidden = [int(h) for h in am["hidden"]]
    n_layers = len(hidden) + 1
    try:
        e = int(meta["n_critics"])
        want = {f"weights.{i}": (e, d_in, d_out) for i, (d_in, d_out) in
                enumerate(zip([obs_dim + action_dim, *hidden], [*hidden, 1]))}
        for k, shape in want.items():
            if tuple(critic_state[k].shape) != shape:
                raise ReferenceError(f"{path}: critic tensor {k} is {critic_state[k].shape}, expected {shape}; {FIX}")
        critic = CriticEnsembleNp(critic_state, n_layers, bool(meta["layer_norm"]))
    except KeyError as e:
        raise ReferenceError(f"{path}: critic or its metadata incomplete (missing {e}); {FIX}") from None
    return Reference(actor, critic, levels, meta)


def describe(ref: Reference) -> dict[str, Any]:
    """The facts `rlif reference show` prints."""
    m = ref.meta
    return {"obs_dim": ref.obs_dim, "hidden": m["actor"]["hidden"], "n_critics": m.get("n_critics"),
            "gamma": m.get("gamma"), "reward": m.get("reward"), "train_env_steps": m.get("train_env_steps"),
            "final_success": m.get("final_success"), "levels": m.get("levels"), "command": m.get("command")}


def meta_json(ref: Reference) -> str:
    return json.dumps(describe(ref), indent=1)
