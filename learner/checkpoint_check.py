"""Checks of a learner checkpoint before anything is loaded (`learner/checkpoint.py` calls them).

`check_meta`: every metadata field a load or `load_policy` reads, with its type. `validate`: the
file fits the agent (structure, every tensor's name/shape/dtype/finiteness, optimizer layout).
`prepare_optimizers` / `prepare_rngs`: the optimizer and RNG states built from the file and tried
on a copy of the optimizer / a fresh generator, so applying them afterwards cannot fail half-way
and no live RNG is touched by a bad file. Every problem is a `CheckpointError` naming the file.
"""
from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from learner.errors import CheckpointError


def _is_int(x: Any, lo: int = 0) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= lo


def check_meta(p: Path, meta: dict[str, Any]) -> None:
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


def validate(p: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any], agent) -> None:
    def bad(problem: str) -> CheckpointError:
        return CheckpointError(f"{p}: {problem}")

    want, have = agent.structure(), meta.get("structure", {})
    keys = [*want, *(k for k in ("vision",) if k in have and k not in want)]  # vision: only image agents have it
    diff = {k: (have.get(k), want.get(k)) for k in keys if have.get(k) != want.get(k)}
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


def prepare_optimizers(p: Path, tensors, meta, agent) -> dict[str, dict]:
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


def prepare_rngs(p: Path, tensors, meta, agent) -> dict[str, Any]:
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
