"""`rlif experiment`: RLIF vs HG-DAgger vs DAgger vs BC on the twin, in process (no ROS), under
the RLIF paper's simulation protocol, with controls and held-out evaluation.

Protocol (defaults of the presets; README "The experiment" explains the choices):
- experts are realizable: actor snapshots of the reference agent (`learner.reference`), acting
  on exactly the observation the learner gets (`operator.expert_kind=reference`);
- the training operator is the `human` model (`sim.human`: reacts to visible, persistent errors,
  holds control until the situation is recovered); the paper's `value` judge (Q_ref of the
  reference agent, `learner.operators`) is one `--set operator.strategy=value` away. Why the
  presets do not use it: on this sparse-reward task a one-step Q margin cannot tell a slow but
  right action from a stall (README "The experiment");
- every cell starts with the same expert demonstrations; env-step budget `steps`;
- learning curves on `eval_episodes` fixed episodes; the final actor on held-out seeds never
  used before (`learner.experiment_eval`), a shifted cell and two deployment runs (operator on).
What each method does: `learner.experiment_cell`. Controls (named methods): `rlif-random`
(random takeovers at the rate and length the training operator had in the same seed's rlif cell) and
`dagger+offset` / `hg-dagger+offset` (the true hole offset observed).

Each cell's result is written atomically to `run_dir/cells/<method>-<expert>-s<seed>.json` with a
fingerprint of everything that determines it; a re-run with the same run folder skips finished
cells (a killed experiment resumes). `workers` > 1 runs cells in parallel processes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from learner.config import AgentConfig, ReplayConfig

METHODS = ("rlif", "rlif-random", "hg-dagger", "dagger", "bc", "dagger+offset", "hg-dagger+offset")
MAIN_METHODS = ("rlif", "hg-dagger", "dagger", "bc")
CONTROLS = ("rlif-random", "dagger+offset", "hg-dagger+offset")
LEVELS = ("low", "mid", "high")

# The learner of every preset: a small RLPD (5 critics of 128x128, UTD 2; ~25 ms per env step on a
# shared core). The paper's size (10 x 256x256, UTD 4) is ~4x per env step here; it is one --set
# away: `--set agent.hidden=[256,256] --set agent.n_critics=10 --set agent.utd=4`.
SMALL_RLPD = {"hidden": [128, 128], "n_critics": 5, "utd": 2, "threads": 1, "warmup_rows": 300,
              "init_temperature": 0.05}
# The training operator of every preset: the human model, the reference's actor snapshots as its hands.
PROTOCOL = {"strategy": "human", "expert_kind": "reference"}
PRESETS: dict[str, dict[str, Any]] = {
    # CI-sized smoke run: mid expert, one seed, 5k steps, the four methods, small final sets.
    "quick": {"methods": MAIN_METHODS, "experts": ("mid",), "seeds": (0,), "steps": 5000, "eval_every": 1000,
              "eval_episodes": 20, "demo_episodes": 5, "held_out_episodes": 50, "sampled_episodes": 20,
              "shifted_episodes": 20, "deploy_episodes": 20, "point_deploy": False,
              "agent": SMALL_RLPD, "operator": PROTOCOL},
    # The grid: every method and control at mid over 5 seeds; the main methods at low/high over 3.
    "full": {"methods": METHODS, "experts": LEVELS, "seeds": (0, 1, 2, 3, 4), "steps": 30000, "eval_every": 5000,
             "eval_episodes": 20, "demo_episodes": 5, "held_out_episodes": 200, "sampled_episodes": 100,
             "shifted_episodes": 100, "deploy_episodes": 100, "point_deploy": True,
             "agent": SMALL_RLPD, "operator": PROTOCOL,
             "restrict": {"low": {"methods": MAIN_METHODS, "seeds": (0, 1, 2)},
                          "high": {"methods": MAIN_METHODS, "seeds": (0, 1, 2)}}},
}


@dataclass(frozen=True)
class Spec:
    """What to run: the grid and the budget (env steps are control steps at the cell's rate)."""

    methods: tuple[str, ...] = MAIN_METHODS
    experts: tuple[str, ...] = ("mid",)
    seeds: tuple[int, ...] = (0,)
    steps: int = 5000             # online env-step budget per cell (demos not included)
    eval_every: int = 1000        # env steps between evaluation points
    eval_episodes: int = 20       # episodes per evaluation point (seeds.EVAL + k)
    demo_episodes: int = 5        # expert demonstrations every cell starts with
    held_out_episodes: int = 200  # final: deterministic actor on held-out seeds
    sampled_episodes: int = 100   # final: sampled actions on the same held-out seeds
    shifted_episodes: int = 100   # final: deterministic actor on the shifted cell
    deploy_episodes: int = 100    # final: deterministic actor with the human / value operator on
    point_deploy: bool = True     # also measure the deployment rate at every evaluation point
    restrict: tuple = ()          # ((expert, methods, seeds), ...): a smaller grid for some levels

    def validate(self) -> "Spec":
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(f"methods {bad or '[]'}: allowed {list(METHODS)}")
        if "rlif-random" in self.methods and "rlif" not in self.methods:
            raise ValueError("method rlif-random matches the rlif cell's takeover rate: add rlif to the methods")
        bad = [e for e in self.experts if e not in LEVELS]
        if bad or not self.experts:
            raise ValueError(f"experts {bad or '[]'}: allowed {list(LEVELS)}")
        if not self.seeds or any(not 0 <= s < 80 for s in self.seeds):
            raise ValueError("need at least one seed, each in [0, 80)")
        if self.steps < 1 or self.eval_every < 1 or self.eval_episodes < 1 or self.demo_episodes < 0:
            raise ValueError("steps, eval_every, eval_episodes must be >= 1 and demo_episodes >= 0")
        if min(self.held_out_episodes, self.sampled_episodes, self.shifted_episodes, self.deploy_episodes) < 0:
            raise ValueError("final evaluation episode counts must be >= 0")
        return self

    def cells(self) -> list[tuple[str, str, int]]:
        """(method, expert, seed) in run order: seed, then expert, then method (rlif before
        rlif-random: the control needs its rate)."""
        limits = {e: (set(m), set(s)) for e, m, s in self.restrict}
        out = []
        for s in self.seeds:
            for e in self.experts:
                ms, ss = limits.get(e, (set(self.methods), set(self.seeds)))
                out += [(m, e, s) for m in self.methods if m in ms and s in ss]
        return out


def spec_from_preset(name: str, **overrides: Any) -> Spec:
    pre = PRESETS[name]
    kw = {k: v for k, v in pre.items() if k in {f.name for f in dataclasses.fields(Spec)} and k != "restrict"}
    kw["restrict"] = tuple((e, tuple(r["methods"]), tuple(r["seeds"])) for e, r in pre.get("restrict", {}).items())
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return Spec(**{k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}).validate()


IMAGE_AGENT_FIELDS = ("encoder_channels", "encoder_features", "augment_pad", "encoder_weights")


@dataclass(frozen=True)
class Configs:
    """The component configs an experiment runs with (resolved by the CLI, --set applied)."""

    cell: Any          # sim.config.CellConfig
    operator: Any      # sim.config.OperatorConfig
    agent: AgentConfig
    replay: ReplayConfig
    vision: Any = None  # sim.config.VisionConfig; image_size > 0: the learners see camera frames (--obs image)

    @property
    def sees_images(self) -> bool:
        return self.vision is not None and self.vision.image_size > 0


def cell_key(method: str, expert: str, seed: int) -> str:
    return f"{method}-{expert}-s{seed}"


def reference_digest(cfgs: Configs) -> str:
    """sha256 (16 hex) of the reference file the cells depend on ('missing' when there is none)."""
    op = cfgs.operator  # every cell's final evaluation deploys its actor with the value operator
    from learner.reference import DEFAULT_FILE

    path = Path(op.reference) if op.reference else DEFAULT_FILE
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "missing"


def fingerprint(spec: Spec, cfgs: Configs, method: str, expert: str, seed: int) -> str:
    """Hash of everything that determines a cell's result (for resume)."""
    c = dataclasses.asdict(cfgs)
    if not cfgs.sees_images:  # a state-only cell is fingerprinted without any image setting
        c.pop("vision")
        for k in IMAGE_AGENT_FIELDS:  # settings that change nothing without frames
            c["agent"].pop(k)
    d = {"spec": {k: v for k, v in dataclasses.asdict(spec).items() if k not in ("methods", "experts", "seeds",
                                                                                 "restrict")},
         "cfgs": c, "cell": [method, expert, seed], "reference": reference_digest(cfgs)}
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def write_atomic(path: Path, data: bytes) -> None:
    """A temp file in the same folder, then rename: a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=1).encode())


def load_done(path: Path, fp: str) -> dict | None:
    """A finished cell's result if its file exists and matches the fingerprint."""
    try:
        res = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return res if res.get("fingerprint") == fp else None


def cell_configs(cfgs: Configs, method: str, rlif_result: dict | None) -> Configs:
    """The configs one cell runs with: rlif-random gets the matched random operator, which starts
    takeovers at the rlif cell's rate per policy step and holds each for that cell's mean takeover
    length (so the operator drives the same share of steps: a human-model takeover lasts until
    the situation is recovered, a value-judge one 4 steps)."""
    if method != "rlif-random":
        return cfgs
    p = float(rlif_result["takeover_start_rate"])
    starts = sum(int(n) for n in rlif_result.get("operator_reasons", {}).values())  # takeovers begun
    op_steps = float(rlif_result["intervention_rate"]) * int(rlif_result["env_steps"])
    hold = max(1, round(op_steps / starts)) if starts else cfgs.operator.steps
    return replace(cfgs, operator=replace(cfgs.operator, strategy="random", p_random=round(p, 6), steps=hold))


def _run_one(args: tuple) -> dict:
    """Worker entry (also used in process): run a cell and write its result file."""
    from learner.experiment_cell import run_cell

    spec, cfgs, method, expert, seed, run_dir, fp = args
    key = cell_key(method, expert, seed)
    res = dict(run_cell(spec, cfgs, method, expert, seed, Path(run_dir) / "stores" / key,
                        actor_file=Path(run_dir) / "actors" / f"{key}.safetensors"), fingerprint=fp)
    write_json(Path(run_dir) / "cells" / f"{key}.json", res)
    return res


def run_experiment(spec: Spec, cfgs: Configs, run_dir: Path, workers: int = 1,
                   on_cell_start: Callable[[str, bool], None] | None = None,
                   progress: Callable[[int], None] | None = None,
                   on_cell_done: Callable[[str, dict], None] | None = None,
                   finished_only: bool = False) -> tuple[dict[str, dict], list[dict]]:
    """Expert baselines, then every cell not already finished in `run_dir/cells/`.

    Returns ({level: expert result}, [cell results in `spec.cells()` order]). `finished_only`:
    run nothing, return what is finished (a partial table of a grid still running).
    """
    from learner.experiment_runner import finished_cells, run_cells
    from learner.experiment_eval import expert_eval
    from learner.experiment_cell import cell_factory

    spec.validate()
    cells_dir = Path(run_dir) / "cells"
    experts = {}
    for level in spec.experts:
        fp = fingerprint(spec, cfgs, "expert", level, 0)
        path = cells_dir / f"expert-{level}.json"
        res = load_done(path, fp)
        if res is None and not finished_only:
            res = dict(expert_eval(cell_factory("expert"), cfgs, level, spec), fingerprint=fp)
            write_json(path, res)
        if res is not None:
            experts[level] = res
    if finished_only:
        return experts, finished_cells(spec, cfgs, Path(run_dir))
    results = run_cells(spec, cfgs, Path(run_dir), workers, on_cell_start, progress, on_cell_done)
    return experts, results
