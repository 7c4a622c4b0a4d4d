"""`rlif eval CHECKPOINT`: autonomous success rate of a trained actor on the twin (no operator).

CHECKPOINT may be an actor file (`actor.safetensors`), a learner checkpoint (`ckpt-*.safetensors`),
a checkpoints folder, or a run folder (its `checkpoints/`). The actor runs deterministically
(tanh of the mean) through `learner.policy.Policy`, exactly as the actor node would; the cell
comes from the run folder's `config.yaml` when CHECKPOINT is a run folder, else from the profile
(default sim), plus `--set`. A corrupt or mismatched file is one clear line, exit 1.
`--zero-obs` evaluates the actor with some observation features replaced by 0 (which sensors
does it rely on: e.g. `force` = no F/T sensor).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robot_stack import config as cfgmod
from robot_stack.cli.common import add_json_arg, add_set_arg, emit_json
from robot_stack.cli.main import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="autonomous success rate of a checkpoint on the twin (no operator)")
    p.add_argument("checkpoint", type=Path, help="actor.safetensors, ckpt-*.safetensors, a checkpoints or run folder")
    p.add_argument("--episodes", type=int, default=20, help="evaluation episodes (default 20)")
    p.add_argument("--seed", type=int, default=10_000, help="episode k is reset with seed SEED+k")
    p.add_argument("--profile", default=None,
                   help="launch profile for the cell (default: the run folder's config.yaml if CHECKPOINT "
                        "is a run folder, else sim)")
    add_set_arg(p)
    p.add_argument("--zero-obs", default="", metavar="LABELS",
                   help="sensor ablation: the actor sees these observation features as 0, comma list of "
                        "labels or groups (pos, rot, vel, force = f_*,tq_*), e.g. --zero-obs force")
    add_json_arg(p)
    p.set_defaults(func=run)


def zeroed_labels(text: str, obs_labels) -> list[str]:
    """Labels named by `--zero-obs` (labels or group names), validated against the cell's."""
    from sim.contract import OBS_GROUPS

    names: list[str] = []
    for item in (x.strip() for x in text.split(",") if x.strip()):
        for name in OBS_GROUPS.get(item, (item,)):
            if name not in obs_labels:
                raise CliError(f"--zero-obs: unknown observation feature {item!r}; labels: {', '.join(obs_labels)}; "
                               f"groups: {', '.join(OBS_GROUPS)}", 2)
            if name not in names:
                names.append(name)
    return names


def _resolve(path: Path) -> Path:
    if path.is_dir() and (path / "checkpoints").is_dir():
        return path / "checkpoints"
    return path


def run(args: argparse.Namespace) -> int:
    from learner.checkpoint import load_policy
    from learner.errors import CheckpointError
    from learner.loop import evaluate
    from learner.policy import ZeroedObs
    from sim.contract import OBS_LABELS

    if args.episodes < 1:
        raise CliError("--episodes must be >= 1", 2)
    zeroed = zeroed_labels(args.zero_obs, OBS_LABELS)
    if not args.checkpoint.exists():
        raise CliError(f"{args.checkpoint}: no such file or folder", 2)
    saved = args.checkpoint / "config.yaml"
    if args.profile is None and saved.is_file():  # a run folder: evaluate on the cell it trained on
        run_cfg = cfgmod.merge(cfgmod.load_saved(saved), cfgmod.parse_set(args.set)).validate()
    else:
        run_cfg = cfgmod.resolve(args.profile or "sim", args.set)
    cfg = run_cfg.cell
    if cfg.kind != "twin":
        raise CliError(f"rlif eval runs on the twin; the profile has cell.kind={cfg.kind!r}", 2)
    try:
        policy = load_policy(_resolve(args.checkpoint))
    except CheckpointError as e:
        raise CliError(str(e)) from None
    from dataclasses import replace

    from sim.cell import TwinCell

    # an actor that sees frames gets its cameras rendered at its size (the profile's camera and
    # light jitter); a state-only actor gets no rendering
    vision = replace(run_cfg.vision, image_size=policy.image_size, cameras=policy.cameras or run_cfg.vision.cameras)
    cell = TwinCell(cfg, seed=args.seed, vision=vision)
    try:
        if (policy.obs_dim, policy.action_dim) != (cell.obs_dim, cell.action_dim):
            raise CliError(f"{args.checkpoint}: actor has obs_dim {policy.obs_dim} / action_dim "
                           f"{policy.action_dim}, this cell {cell.obs_dim} / {cell.action_dim} "
                           f"(cell.action_space={cfg.action_space!r})")

        def progress(k: int, r: dict) -> None:
            if not args.json:
                what = "success" if r["success"] else "aborted" if r["aborted"] else "timeout"
                print(f"episode {k + 1}/{args.episodes}: {what} in {r['steps']} steps", file=sys.stderr, flush=True)

        actor = ZeroedObs(policy, [cell.obs_labels.index(n) for n in zeroed]) if zeroed else policy
        res = evaluate(cell, actor, args.episodes, seed=args.seed, progress=progress)
    finally:
        cell.close()
    res.update({"checkpoint": str(args.checkpoint), "policy_version": policy.version,
                "n_updates": policy.n_updates, "algo": policy.algo, "zeroed_obs": zeroed})
    if args.json:
        emit_json(res)
    else:
        print(f"autonomous success {res['success_rate']:.0%} over {res['episodes']} episodes "
              f"(aborts {res['abort_rate']:.0%}, mean {res['mean_steps']:.0f} steps); "
              f"{policy.algo} policy v{policy.version} after {policy.n_updates} updates"
              + (f"; zeroed: {', '.join(zeroed)}" if zeroed else ""))
    return 0
