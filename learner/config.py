"""Config of the learner and the replay store (no rclpy here)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.config_fields import doc_field as _f


@dataclass(frozen=True)
class ReplayConfig:
    """The zarr replay store and its RAM sampler."""

    chunk_rows: int = _f(4096, "zarr chunk length in rows of obs (explicit; narrower columns get "
                               "longer chunks of about the same bytes)", ge=1)
    chunk_episodes: int = _f(1024, "zarr chunk length of the episodes table, in episodes", ge=1)
    image_chunk_rows: int = _f(100, "zarr chunk length of an image column, in rows (about one episode: 100 "
                                    "frames of 64 x 64 x 3 = 1.2 MB before compression)", ge=1)
    flush_interval_s: float = _f(0.0, "write-behind: committed episodes reach zarr at most this long "
                                      "after end_episode (checked at each end_episode); 0 = write "
                                      "through, a kill -9 then loses only the episode in flight", ge=0)
    symmetric: bool = _f(True, "RLPD: half of each batch from the prior set (operator steps, demos)")
    rlif_keep_operator_steps: bool = _f(True, "train RL on operator-driven steps too (HIL-SERL); "
                                              "False = only policy steps (RLIF reference code)")

    def validate(self) -> None:
        if self.chunk_rows < 1 or self.chunk_episodes < 1 or self.image_chunk_rows < 1:
            raise ValueError("replay.chunk_rows, replay.chunk_episodes and replay.image_chunk_rows must be >= 1")
        if not 0 <= self.flush_interval_s < math.inf:
            raise ValueError("replay.flush_interval_s must be a finite number >= 0")


@dataclass(frozen=True)
class AgentConfig:
    """RLPD-style SAC and the imitation baselines."""

    algo: Literal["rlpd", "bc", "hg-dagger", "dagger"] = _f("rlpd", "learning method")
    reward: Literal["rlif", "task", "rlif+task"] = _f("rlif", "reward computed at sample time")
    n_critics: int = _f(10, "critic ensemble size (one batched module, stacked weights)", ge=1)
    critic_subset: int = _f(2, "target = min over a random subset of this many critics", ge=1)
    hidden: tuple[int, ...] = _f((256, 256), "MLP hidden sizes (actor and critics)", ge=1)
    layer_norm: bool = _f(True, "LayerNorm after each hidden layer of the critics (RLPD)")
    lr: float = _f(3e-4, "Adam learning rate (actor, critics, temperature)", gt=0)
    tau: float = _f(0.005, "soft target update rate", gt=0, le=1)
    gamma: float = _f(0.99, "discount", gt=0, lt=1)
    batch_size: int = _f(256, "batch size per update", ge=2)
    utd: int = _f(4, "critic updates per environment step (UTD); one update() call does utd "
                     "critic steps and one actor + temperature step", ge=1)
    init_temperature: float = _f(1.0, "initial SAC temperature", gt=0)
    target_entropy: float | None = _f(None, "entropy target; None = -|A|/2")
    backup_entropy: bool = _f(False, "include the entropy term in the critic backup")
    bc_loss: Literal["mse", "nll"] = _f("mse", "BC/HG-DAgger/DAgger loss: MSE of tanh(mean) or "
                                                "negative log-likelihood of the target action")
    obs_scale: tuple[float, ...] = _f((), "per-feature observation multipliers applied inside the networks "
                                          "(saved with the actor); () = the cell contract's sim.contract.OBS_SCALE "
                                          "for an 18-D observation (1 cm, 0.1 rad, 10 N ... -> 1), else ones")
    encoder_channels: int = _f(32, "image observations: channels of each of the encoder's four 3x3 "
                                   "convolutions (learner.encoder)", ge=1)
    encoder_features: int = _f(50, "image observations: features per camera out of the encoder (DrQ: 50)", ge=1)
    augment_pad: int = _f(4, "image observations: random-shift augmentation, px of padding (DrQ: 4 at 84 px); "
                             "0 = off", ge=0)
    encoder_weights: str = _f("", "image observations: a local safetensors file with one camera trunk's "
                                  "weights to start from (names as learner.encoder.CameraTrunk); '' = random "
                                  "init. Never downloaded")
    warmup_rows: int = _f(500, "no updates before the store holds this many rows", ge=0)
    compile: bool = _f(False, "torch.compile the SAC loss functions (~20 s once per process, cached on "
                              "disk; falls back to eager with a warning if it fails)")
    matmul_dtype: Literal["fp32", "bf16"] = _f("fp32", "SAC matmul precision: bf16 = autocast (fp32 weights, "
                                                       "fp32 LayerNorm/losses); pays off with compile on, on a GPU or a "
                                                       "CPU with native bf16 (`rlif doctor` says)")
    cuda_graph: bool = _f(False, "RLPD: the whole update (utd critic steps, actor, temperature, target update) "
                                 "replayed as one CUDA graph on a CUDA device, batch staged in pinned buffers, "
                                 "NaN guard on the device; without CUDA the same code runs eagerly")
    metrics_every: int = _f(1, "with cuda_graph: read the update metrics and the NaN guard's verdict back to the "
                               "host every this many updates (no host sync in between)", ge=1)
    device: str = _f("auto", "torch device: auto | cpu | cuda")
    threads: int = _f(0, "torch CPU threads; 0 = all cores", ge=0)
    seed: int = _f(0, "learner RNG seed (offset by the run seed)", ge=0)

    def validate(self) -> None:
        if self.n_critics < 1 or not 1 <= self.critic_subset <= self.n_critics:
            raise ValueError("agent: need n_critics >= 1 and 1 <= critic_subset <= n_critics")
        if self.batch_size < 2 or self.utd < 1:
            raise ValueError("agent: batch_size must be >= 2 and utd >= 1")
        if self.metrics_every < 1:
            raise ValueError("agent.metrics_every must be >= 1")
        if self.encoder_channels < 1 or self.encoder_features < 1 or self.augment_pad < 0:
            raise ValueError("agent: encoder_channels and encoder_features must be >= 1, augment_pad >= 0")
        if any(h < 1 for h in self.hidden) or not self.hidden:
            raise ValueError("agent: hidden must be a non-empty list of positive sizes")
        if not 0 < self.lr < math.inf or not 0 < self.init_temperature < math.inf:
            raise ValueError("agent: lr and init_temperature must be finite numbers > 0")
        if not 0 < self.gamma < 1 or not 0 < self.tau <= 1:
            raise ValueError("agent: gamma must be in (0, 1) and tau in (0, 1]")
