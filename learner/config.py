"""Config of the learner and the replay store (no rclpy here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


def _f(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class ReplayConfig:
    """The zarr replay store and its RAM sampler."""

    chunk_rows: int = _f(4096, "zarr chunk length in rows of obs (explicit; narrower columns get "
                               "longer chunks of about the same bytes)")
    chunk_episodes: int = _f(1024, "zarr chunk length of the episodes table, in episodes")
    flush_interval_s: float = _f(0.0, "write-behind: committed episodes reach zarr at most this long "
                                      "after end_episode (checked at each end_episode); 0 = write "
                                      "through, a kill -9 then loses only the episode in flight")
    symmetric: bool = _f(True, "RLPD: half of each batch from the prior set (operator steps, demos)")
    rlif_keep_operator_steps: bool = _f(True, "train RL on operator-driven steps too (HIL-SERL); "
                                              "False = only policy steps (RLIF reference code)")

    def validate(self) -> None:
        if self.chunk_rows < 1 or self.chunk_episodes < 1:
            raise ValueError("replay.chunk_rows and replay.chunk_episodes must be >= 1")
        if self.flush_interval_s < 0:
            raise ValueError("replay.flush_interval_s must be >= 0")


@dataclass(frozen=True)
class AgentConfig:
    """RLPD-style SAC and the imitation baselines."""

    algo: Literal["rlpd", "bc", "hg-dagger", "dagger"] = _f("rlpd", "learning method")
    reward: Literal["rlif", "task", "rlif+task"] = _f("rlif", "reward computed at sample time")
    n_critics: int = _f(10, "critic ensemble size (one batched module, stacked weights)")
    critic_subset: int = _f(2, "target = min over a random subset of this many critics")
    hidden: tuple[int, ...] = _f((256, 256), "MLP hidden sizes (actor and critics)")
    layer_norm: bool = _f(True, "LayerNorm after each hidden layer of the critics (RLPD)")
    lr: float = _f(3e-4, "Adam learning rate (actor, critics, temperature)")
    tau: float = _f(0.005, "soft target update rate")
    gamma: float = _f(0.99, "discount")
    batch_size: int = _f(256, "batch size per update")
    utd: int = _f(4, "critic updates per environment step (UTD); one update() call does utd "
                     "critic steps and one actor + temperature step")
    init_temperature: float = _f(1.0, "initial SAC temperature")
    target_entropy: float | None = _f(None, "entropy target; None = -|A|/2")
    backup_entropy: bool = _f(False, "include the entropy term in the critic backup")
    bc_loss: Literal["mse", "nll"] = _f("mse", "BC/HG-DAgger/DAgger loss: MSE of tanh(mean) or "
                                                "negative log-likelihood of the target action")
    obs_scale: tuple[float, ...] = _f((), "per-feature observation multipliers applied inside the networks "
                                          "(saved with the actor); () = the cell contract's sim.contract.OBS_SCALE "
                                          "for an 18-D observation (1 cm, 0.1 rad, 10 N ... -> 1), else ones")
    warmup_rows: int = _f(500, "no updates before the store holds this many rows")
    compile: bool = _f(False, "torch.compile the SAC loss functions (~20 s once per process, cached on "
                              "disk; falls back to eager with a warning if it fails)")
    matmul_dtype: Literal["fp32", "bf16"] = _f("fp32", "SAC matmul precision: bf16 = autocast (fp32 weights, "
                                                       "fp32 LayerNorm/losses); pays off with compile on")
    device: str = _f("auto", "torch device: auto | cpu | cuda")
    threads: int = _f(0, "torch CPU threads; 0 = all cores")
    seed: int = _f(0, "learner RNG seed (offset by the run seed)")

    def validate(self) -> None:
        if self.n_critics < 1 or not 1 <= self.critic_subset <= self.n_critics:
            raise ValueError("agent: need n_critics >= 1 and 1 <= critic_subset <= n_critics")
        if self.batch_size < 2 or self.utd < 1:
            raise ValueError("agent: batch_size must be >= 2 and utd >= 1")
        if any(h < 1 for h in self.hidden) or not self.hidden:
            raise ValueError("agent: hidden must be a non-empty list of positive sizes")
        if self.lr <= 0:
            raise ValueError("agent: lr must be > 0")
        if not 0 < self.gamma < 1 or not 0 < self.tau <= 1:
            raise ValueError("agent: gamma must be in (0, 1) and tau in (0, 1]")
