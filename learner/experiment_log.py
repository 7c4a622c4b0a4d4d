"""`rlif experiment --logger tensorboard|wandb`: each cell's learning curve and final numbers.

A cell is logged once it has finished (in process or in a worker; finished cells of a resumed
experiment too, unless already logged): its evaluation points at step = env steps (held-out-style
success, abort rate, training and deployment intervention rates, updates, ...) and its final
numbers as the summary (`final/held_out/success`, ...). One logger run per cell, named by the
cell key (`rlif-mid-s0`): TensorBoard `RUN/tensorboard/<key>/`, W&B an offline run of group
RUN. `RUN/<kind>-logged.txt` lists the cells already logged, so a resumed experiment does not
log a cell twice.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from learner.loggers import make_logger

POINT_SKIP = ("env_steps",)  # the step itself


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to 'a/b' keys (lists and strings are left out by the logger)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _logged_file(run_dir: Path, kind: str) -> Path:
    return Path(run_dir) / f"{kind}-logged.txt"


def already_logged(run_dir: Path, kind: str) -> set[str]:
    path = _logged_file(run_dir, kind)
    return set(path.read_text().split()) if path.exists() else set()


def log_cell(kind: str, run_dir: Path, key: str, result: Mapping[str, Any], project: str = "rlif-cell") -> bool:
    """Log one finished cell (curve + final numbers); False if `kind` is none or it was logged."""
    if kind == "none" or key in already_logged(run_dir, kind):
        return False
    config = {k: result[k] for k in ("method", "expert", "seed", "algo") if k in result}
    logger = make_logger(kind, run_dir, key, project=project, config=config)
    try:
        for p in result.get("points", []):
            logger.log({k: v for k, v in p.items() if k not in POINT_SKIP}, int(p["env_steps"]))
        final = {k: v for k, v in result.items() if k not in ("points", "final", "operator_reasons", "skipped")}
        logger.summary({**flatten(final), **flatten(result.get("final", {}))})  # TensorBoard: final/held_out/...
    finally:
        logger.close()
    with open(_logged_file(run_dir, kind), "a") as f:
        f.write(key + "\n")
    return True
