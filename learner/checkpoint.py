"""Learner checkpoints: full state in one safetensors file, atomically written, validated on load.

`save_checkpoint(dir, agent, extra)` writes `dir/ckpt-<n_updates:09d>.safetensors` holding
- tensors: every module's state (`module.<name>.<key>`: actor, critics, target critics),
  learnable extras (`extra.log_alpha`), optimizer moments (`optim.<name>.<param#>.<key>`),
  RNG states (`rng.agent` = the agent's generator, `rng.torch`, `rng.cuda.<i>`, `rng.numpy`);
- JSON metadata (safetensors header, key `rlif.meta`): format, the agent's structure (algo,
  dims, hidden sizes, ensemble size), its full config, step counters, optimizer hyper-parameters,
  the numpy/python RNG states, and the caller's `extra` dict (e.g. env steps, the sampler's
  `rng.bit_generator.state`), plus a sha256 of all of it, tensors and metadata (`learner.safeio`);
and refreshes `dir/actor.safetensors` (actor only, `learner.policy` format) for the actor node.
Both go through a temp file + fsync + rename, so a crash leaves the previous files intact.
Pruning keeps the file just written and the newest `keep - 1` checkpoints numbered below it;
files numbered above it (another run's, or a later one resumed from an earlier state) are
never deleted.

`load_checkpoint(path_or_dir, agent)` (newest `ckpt-*` if given a folder) verifies the checksum,
every metadata field (structure, counters, optimizer state, RNG states: each RNG state is tried
on a fresh generator), every tensor's name/shape/dtype and finiteness BEFORE touching the agent
or any RNG, then copies everything in; if anything still fails while copying, the agent's
previous state is restored. Any problem raises `CheckpointError` naming the file. A diverged
agent is never saved.
"""
from __future__ import annotations

import copy
import json
import random
import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from learner import safeio
from learner.checkpoint_check import check_meta, prepare_optimizers, prepare_rngs, validate
from learner.errors import CheckpointError, TrainingDiverged
from learner.policy import ACTOR_KIND, Policy, encode_actor

KIND = "rlif-learner-checkpoint"
FORMAT = 1
ACTOR_FILE = "actor.safetensors"
_NAME = re.compile(r"^ckpt-(\d+)\.safetensors$")


def checkpoint_paths(folder: str | Path) -> list[Path]:
    """Checkpoint files in `folder`, oldest first (temp files are ignored)."""
    folder = Path(folder)
    found = [(int(m.group(1)), p) for p in folder.glob("ckpt-*.safetensors") if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: str | Path) -> Path | None:
    paths = checkpoint_paths(folder)
    return paths[-1] if paths else None


# ---- save ------------------------------------------------------------------------------------
def _state(agent) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    for name, mod in agent.modules().items():
        for k, v in mod.state_dict().items():
            tensors[f"module.{name}.{k}"] = v
    for name, t in agent.extra_tensors().items():
        tensors[f"extra.{name}"] = t
    optim_meta = {}
    for name, opt in agent.optimizers().items():
        sd = opt.state_dict()
        scalars = {}
        for pid, st in sd["state"].items():
            for k, v in st.items():
                if torch.is_tensor(v):
                    tensors[f"optim.{name}.{pid}.{k}"] = v
                else:
                    scalars[f"{pid}.{k}"] = v
        optim_meta[name] = {"param_groups": sd["param_groups"], "scalars": scalars,
                            "n_params": [len(g["params"]) for g in sd["param_groups"]]}
    tensors["rng.agent"] = agent.gen.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    np_state = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(np.asarray(np_state[1], dtype=np.int64))
    meta = {
        "format": FORMAT, "structure": agent.structure(), "config": asdict(agent.cfg),
        "counters": agent.counters(), "optim": optim_meta,
        "rng": {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
                "python": _py_rng_to_json(random.getstate())},
        "saved_at": time.time(), "torch": torch.__version__,
    }
    return tensors, meta


def _py_rng_to_json(s: tuple) -> list:
    return [s[0], list(s[1]), s[2]]


def save_checkpoint(folder: str | Path, agent, extra: dict | None = None, keep: int = 3) -> Path:
    """Write the agent's full state (and `actor.safetensors`) into `folder`; returns the path."""
    if agent.diverged:
        raise TrainingDiverged("refusing to checkpoint a diverged agent: the last good checkpoint stays newest")
    extra = dict(extra or {})
    try:
        json.dumps(extra)
    except (TypeError, ValueError) as e:
        raise ValueError(f"save_checkpoint: extra must be JSON-serialisable ({e})") from None
    folder = Path(folder)
    actor_blob = agent.export_actor()  # bumps the policy version; the checkpoint records it
    tensors, meta = _state(agent)
    meta["extra"] = extra
    path = folder / f"ckpt-{agent.n_updates:09d}.safetensors"
    safeio.atomic_write(path, safeio.pack(tensors, KIND, meta))
    safeio.atomic_write(folder / ACTOR_FILE, actor_blob)
    if keep > 0:
        older = [p for p in checkpoint_paths(folder) if _number(p) < agent.n_updates]
        for old in older[:max(0, len(older) - (keep - 1))]:
            old.unlink(missing_ok=True)
    return path


def _number(path: Path) -> int:
    m = _NAME.match(path.name)
    return int(m.group(1)) if m else -1


# ---- load ------------------------------------------------------------------------------------
def read_checkpoint(path_or_dir: str | Path) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any]]:
    """Resolve, read and checksum-verify a checkpoint (no agent needed)."""
    p = Path(path_or_dir)
    if p.is_dir():
        latest = latest_checkpoint(p)
        if latest is None:
            raise CheckpointError(f"{p}: no checkpoint (ckpt-*.safetensors) in this folder")
        p = latest
    tensors, meta = safeio.read_file(p, KIND)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{p}: checkpoint format {meta.get('format')!r}, this code reads {FORMAT}")
    check_meta(p, meta)
    return p, tensors, meta


def _snapshot(agent) -> dict[str, Any]:
    return {"modules": {n: copy.deepcopy(m.state_dict()) for n, m in agent.modules().items()},
            "extra": {n: t.detach().clone() for n, t in agent.extra_tensors().items()},
            "optim": {n: copy.deepcopy(o.state_dict()) for n, o in agent.optimizers().items()},
            "counters": agent.counters(), "gen": agent.gen.get_state(), "diverged": agent.diverged}


def _restore(agent, snap: dict[str, Any]) -> None:
    for n, m in agent.modules().items():
        m.load_state_dict(snap["modules"][n])
    with torch.no_grad():
        for n, t in agent.extra_tensors().items():
            t.copy_(snap["extra"][n])
    for n, o in agent.optimizers().items():
        o.load_state_dict(snap["optim"][n])
    agent.set_counters(snap["counters"])
    agent.gen.set_state(snap["gen"])
    agent.diverged = snap["diverged"]


def load_checkpoint(path_or_dir: str | Path, agent, restore_global_rng: bool = True) -> dict:
    """Load a checkpoint into `agent` (all or nothing); returns the `extra` dict saved with it."""
    p, tensors, meta = read_checkpoint(path_or_dir)
    validate(p, tensors, meta, agent)
    optim_states = prepare_optimizers(p, tensors, meta, agent)
    rngs = prepare_rngs(p, tensors, meta, agent)
    snap = _snapshot(agent)
    try:
        dev = agent.device
        for name, mod in agent.modules().items():
            pre = f"module.{name}."
            mod.load_state_dict({k[len(pre):]: v.to(dev) for k, v in tensors.items() if k.startswith(pre)})
        with torch.no_grad():
            for name, t in agent.extra_tensors().items():
                t.copy_(tensors[f"extra.{name}"].to(dev))
        for name, opt in agent.optimizers().items():
            opt.load_state_dict(optim_states[name])
            for g in opt.param_groups:  # the current config's learning rate wins on resume
                g["lr"] = agent.cfg.lr
        agent.set_counters(meta["counters"])
        agent.gen.set_state(rngs["rng.agent"])
        agent.diverged = False
    except Exception as e:  # noqa: BLE001 - any failure: put the old state back
        _restore(agent, snap)
        raise CheckpointError(f"{p}: could not be applied ({type(e).__name__}: {e}); agent unchanged") from None
    if restore_global_rng:  # states checked above on fresh generators
        torch.set_rng_state(rngs["rng.torch"])
        if torch.cuda.is_available():
            cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
            if len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda)
        np.random.set_state(rngs["numpy"])
        random.setstate(rngs["python"])
    return dict(meta.get("extra", {}))


def load_policy(path: str | Path) -> Policy:
    """A `Policy` from an actor file, a checkpoint file, or a run's checkpoint folder."""
    p = Path(path)
    if p.is_dir():
        actor = p / ACTOR_FILE
        if actor.exists():
            return Policy.load(actor)
        p, tensors, meta = read_checkpoint(p)
    else:
        try:
            return Policy.load(p)
        except CheckpointError as e:
            if f"expected {ACTOR_KIND!r}" not in str(e) or f"{KIND!r}" not in str(e):
                raise
        p, tensors, meta = read_checkpoint(p)
    return _policy_from_tensors(p, tensors, meta)


def _policy_from_tensors(p: Path, tensors, meta) -> Policy:
    from learner.nets import TanhGaussianActor

    from learner.encoder import ObsEncoder

    s = meta["structure"]
    v = s.get("vision")
    encoder = None if v is None else ObsEncoder.from_spec(s["obs_dim"], v, f"{p}: structure.vision")
    in_dim = s["obs_dim"] if encoder is None else encoder.out_dim
    actor = TanhGaussianActor(in_dim, s["action_dim"], tuple(s["hidden"]))
    try:
        for prefix, module in (("module.actor.", actor), ("module.encoder.", encoder)):
            if module is not None:
                module.load_state_dict({k[len(prefix):]: t for k, t in tensors.items() if k.startswith(prefix)})
    except RuntimeError as e:
        raise CheckpointError(f"{p}: actor tensors do not fit ({e})") from None
    c = meta["counters"]
    return Policy.from_bytes(encode_actor(actor, c["policy_version"], c["n_updates"], s["algo"], encoder),
                             name=str(p))
