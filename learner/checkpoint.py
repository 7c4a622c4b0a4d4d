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
    _check_meta(p, meta)
    return p, tensors, meta


def _is_int(x: Any, lo: int = 0) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= lo


def _check_meta(p: Path, meta: dict[str, Any]) -> None:
    """Every metadata field a load or `load_policy` reads, with its type (CheckpointError otherwise)."""
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise CheckpointError(f"{p}: metadata incomplete or malformed: {what}")

    s, c, rng = meta.get("structure"), meta.get("counters"), meta.get("rng")
    need(isinstance(s, dict), "no `structure`")
    need(isinstance(s.get("algo"), str), "structure.algo")
    need(_is_int(s.get("obs_dim"), 1) and _is_int(s.get("action_dim"), 1), "structure.obs_dim / action_dim")
    need(isinstance(s.get("hidden"), list) and all(_is_int(h, 1) for h in s["hidden"]), "structure.hidden")
    need(isinstance(c, dict), "no `counters`")
    for k in ("n_updates", "n_grad_steps", "policy_version"):
        need(_is_int(c.get(k)), f"counters.{k}")
    need(isinstance(meta.get("optim"), dict), "no `optim`")
    need(isinstance(meta.get("extra", {}), dict), "extra")
    need(isinstance(rng, dict) and isinstance(rng.get("numpy"), list) and isinstance(rng.get("python"), list),
         "no `rng` (numpy, python)")


def _validate(p: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any], agent) -> None:
    def bad(problem: str) -> CheckpointError:
        return CheckpointError(f"{p}: {problem}")

    want, have = agent.structure(), meta.get("structure", {})
    diff = {k: (have.get(k), v) for k, v in want.items() if have.get(k) != v}
    if diff:
        raise bad("does not match this agent: " + ", ".join(f"{k} saved {a!r} vs agent {b!r}"
                                                              for k, (a, b) in diff.items()))
    expected: dict[str, torch.Tensor] = {}
    for name, mod in agent.modules().items():
        expected.update({f"module.{name}.{k}": v for k, v in mod.state_dict().items()})
    expected.update({f"extra.{k}": v for k, v in agent.extra_tensors().items()})
    for k, ref in expected.items():
        if k not in tensors:
            raise bad(f"missing tensor {k}")
        t = tensors[k]
        if t.shape != ref.shape or t.dtype != ref.dtype:
            raise bad(f"tensor {k} is {tuple(t.shape)} {t.dtype}, agent has {tuple(ref.shape)} {ref.dtype}")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise bad(f"tensor {k} holds NaN/inf")
    stray = [k for k in tensors if k.split(".")[0] in ("module", "extra") and k not in expected]
    if stray:
        raise bad(f"unexpected tensors {stray[:5]}")
    for name, opt in agent.optimizers().items():
        om = meta["optim"].get(name)
        if not isinstance(om, dict):
            raise bad(f"missing optimizer {name!r}")
        params = [q for g in opt.param_groups for q in g["params"]]
        if om.get("n_params") != [len(g["params"]) for g in opt.param_groups]:
            raise bad(f"optimizer {name!r} has {om.get('n_params')} params per group, agent {len(params)}")
        for pid, q in enumerate(params):
            for key in ("exp_avg", "exp_avg_sq"):
                t = tensors.get(f"optim.{name}.{pid}.{key}")
                if t is not None and t.shape != q.shape:
                    raise bad(f"optimizer {name!r} {key} of param {pid} is {tuple(t.shape)}, param {tuple(q.shape)}")
    for k in ("rng.agent", "rng.torch", "rng.numpy"):
        if k not in tensors:
            raise bad(f"missing RNG state {k}")


def _prepare_optimizers(p: Path, tensors, meta, agent) -> dict[str, dict]:
    """Each optimizer's state dict, built from the file and tried on a copy of the optimizer."""
    out = {}
    for name, opt in agent.optimizers().items():
        om = meta["optim"].get(name)
        try:
            if not (isinstance(om, dict) and isinstance(om.get("param_groups"), list)
                    and len(om["param_groups"]) == len(opt.param_groups)
                    and all(isinstance(g, dict) for g in om["param_groups"]) and isinstance(om.get("scalars"), dict)):
                raise ValueError("param_groups / scalars missing or of the wrong shape")
            sd = _optimizer_state_dict(name, opt, tensors, om)
            copy.deepcopy(opt).load_state_dict(sd)  # a trial on a copy: the agent's stays untouched
        except Exception as e:  # noqa: BLE001 - any failure means a malformed optimizer state
            raise CheckpointError(f"{p}: optimizer {name!r} state is malformed ({type(e).__name__}: {e})") from None
        out[name] = sd
    return out


def _prepare_rngs(p: Path, tensors, meta, agent) -> dict[str, Any]:
    """Every RNG state in the file, each tried on a fresh generator (no live RNG is touched)."""
    def bad(what: str, e: Exception | str) -> CheckpointError:
        return CheckpointError(f"{p}: RNG state {what} is malformed ({e}); nothing was loaded")

    out: dict[str, Any] = {}
    for key, gen in (("rng.agent", lambda: torch.Generator(device=agent.gen.device)), ("rng.torch", torch.Generator)):
        try:
            gen().set_state(tensors[key])
        except Exception as e:  # noqa: BLE001
            raise bad(key, e) from None
        out[key] = tensors[key]
    try:
        n, arr = meta["rng"]["numpy"], tensors["rng.numpy"]
        if len(n) != 4 or arr.dtype != torch.int64 or tuple(arr.shape) != (624,):
            raise ValueError(f"expected [name, pos, has_gauss, gauss] and 624 int64 words, got {len(n)} / "
                             f"{tuple(arr.shape)} {arr.dtype}")
        words = arr.numpy()
        if (words < 0).any() or (words >= 2 ** 32).any():
            raise ValueError("words outside 32 bits")
        out["numpy"] = (str(n[0]), words.astype(np.uint32), int(n[1]), int(n[2]), float(n[3]))
        np.random.RandomState().set_state(out["numpy"])
    except Exception as e:  # noqa: BLE001
        raise bad("rng.numpy", e) from None
    try:
        py = meta["rng"]["python"]
        out["python"] = (py[0], tuple(py[1]), py[2])
        random.Random().setstate(out["python"])
    except Exception as e:  # noqa: BLE001
        raise bad("rng.python", e) from None
    return out


def _optimizer_state_dict(name: str, opt, tensors, om) -> dict:
    groups = copy.deepcopy(om["param_groups"])
    for g, cur in zip(groups, opt.param_groups):
        for k, v in cur.items():  # JSON turned tuples (Adam betas) into lists
            if isinstance(v, tuple) and isinstance(g.get(k), list):
                g[k] = tuple(g[k])
    state: dict[int, dict[str, Any]] = {}
    prefix = f"optim.{name}."
    for k, t in tensors.items():
        if k.startswith(prefix):
            pid, key = k[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[key] = t
    for k, v in om["scalars"].items():
        pid, key = k.split(".", 1)
        state.setdefault(int(pid), {})[key] = v
    return {"state": state, "param_groups": groups}


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
    _validate(p, tensors, meta, agent)
    optim_states = _prepare_optimizers(p, tensors, meta, agent)
    rngs = _prepare_rngs(p, tensors, meta, agent)
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

    s = meta["structure"]
    actor = TanhGaussianActor(s["obs_dim"], s["action_dim"], tuple(s["hidden"]))
    pre = "module.actor."
    try:
        actor.load_state_dict({k[len(pre):]: v for k, v in tensors.items() if k.startswith(pre)})
    except RuntimeError as e:
        raise CheckpointError(f"{p}: actor tensors do not fit ({e})") from None
    c = meta["counters"]
    return Policy.from_bytes(encode_actor(actor, c["policy_version"], c["n_updates"], s["algo"]), name=str(p))
