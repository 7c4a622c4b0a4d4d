"""RLPD-style SAC: tanh-Gaussian actor, batched LayerNorm critic ensemble, high UTD.

One `update(batch)` (see `learner.agent`) = cfg.utd critic steps + 1 actor step + 1 temperature
step, as RLPD does:
- critic target: y = r + gamma * mask * min_{k in K} Q'_k(s', a'),  a' ~ pi(s'), K a random
  subset of cfg.critic_subset members of the target ensemble (fresh per step); no entropy term
  unless cfg.backup_entropy (then - alpha * log pi(a'|s') inside the min'd value);
  loss = mean over members and rows of (Q_k(s, a) - y)^2; then a soft target update (tau).
- actor: minimise alpha * log pi(a|s) - mean_k Q_k(s, a), a ~ pi(s) (reparameterised), with
  the critic weights detached (gradient flows to the action only).
- temperature: alpha = exp(log_alpha); minimise alpha * (-log pi - target_entropy), target
  entropy -|A|/2 by default.
With cameras (`learner.encoder`), the critic loss trains the shared encoder (its parameters are
in the critic's optimizer) on randomly shifted frames of s and s' (s' under no gradient, as
DrQ-v2), and the actor reads the encoder's output detached.
Adam everywhere (cfg.lr), fused kernels where torch has them. Every loss passes the NaN guard
before its optimizer step (`TrainingDiverged`).
"""
from __future__ import annotations

import copy
import math
import warnings
from typing import Any, Callable

import numpy as np
import torch

from learner.agent import Agent
from learner.nets import EnsembleCritic, TanhGaussianActor

# A NaN guard: called with the optimizers about to step and the losses (0-d tensors) they step on.
Guard = Callable[..., None]


def adam(params, lr: float) -> torch.optim.Optimizer:
    """Adam with fused kernels when this torch build supports them on the device."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older builds / unsupported device
        return torch.optim.Adam(params, lr=lr, foreach=True)


class SACAgent(Agent):
    algo = "rlpd"
    batch_keys = ("obs", "action", "next_obs", "reward", "mask")

    def _build(self) -> None:
        cfg, dev = self.cfg, self.device
        self.actor = TanhGaussianActor(self.feature_dim, self.action_dim, cfg.hidden, self.net_scale).to(dev)
        self.critic = EnsembleCritic(self.feature_dim + self.action_dim, cfg.hidden, cfg.n_critics,
                                     cfg.layer_norm, self.net_scale).to(dev)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(math.log(cfg.init_temperature), device=dev, requires_grad=True)
        self.target_entropy = (float(cfg.target_entropy) if cfg.target_entropy is not None
                               else -self.action_dim / 2.0)
        self.actor_opt = adam(self.actor.parameters(), cfg.lr)
        self.critic_opt = adam(self._trained_params(self.critic), cfg.lr)
        self.alpha_opt = adam([self.log_alpha], cfg.lr)

    def _cache_params(self) -> None:
        self._critic_params = list(self.critic.parameters())
        self._target_params = list(self.critic_target.parameters())
        self._setup_losses()
        self._graphed = None
        if self.cfg.cuda_graph:
            from learner.sac_graph import GraphedUpdate

            self._graphed = GraphedUpdate(self)

    def modules(self):
        return self._with_encoder({"actor": self.actor, "critic": self.critic, "critic_target": self.critic_target})

    def optimizers(self):
        return {"actor": self.actor_opt, "critic": self.critic_opt, "alpha": self.alpha_opt}

    def extra_tensors(self):
        return {"log_alpha": self.log_alpha}

    @property
    def sample_spec(self) -> dict[str, Any]:
        return {"batch_size": self.cfg.batch_size * self.cfg.utd, "reward": self.cfg.reward,
                "symmetric": self.replay_cfg.symmetric,
                "subset": "all" if self.replay_cfg.rlif_keep_operator_steps else "policy"}

    @property
    def alpha(self) -> float:
        return float(self.log_alpha.detach().exp())

    # ---- one update --------------------------------------------------------------------------
    def update(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        if self._graphed is not None:  # agent.cuda_graph: learner.sac_graph runs the same steps
            return self._graphed.update(batch)
        return super().update(batch)

    def _update_minibatches(self, mbs):
        out: dict[str, torch.Tensor] = {}
        for mb in mbs:
            out.update(self._critic_step(mb))
            self.n_grad_steps += 1
        out.update(self._actor_step(self._features(mbs[-1], "obs", grad=False)))
        return out

    def _critic_step(self, mb: dict[str, torch.Tensor], guard: Guard | None = None) -> dict[str, torch.Tensor]:
        """One critic step. `guard(optimizers, **losses)` runs before the optimizer step: by default
        the host-side NaN guard (raises); learner.sac_graph passes a device-side one."""
        cfg = self.cfg
        # Randomness is drawn here, outside the (optionally compiled) pure loss function.
        eps = torch.randn(len(mb["obs"]), self.action_dim, generator=self.gen, device=self.device)
        members = torch.randperm(cfg.n_critics, generator=self.gen, device=self.device)[: cfg.critic_subset]
        obs = self._features(mb, "obs")
        with torch.no_grad():
            next_obs = self._features(mb, "next_obs")
        with self._autocast():
            loss, q_mean, target_mean = self._critic_loss(
                obs, mb["action"], next_obs, mb["reward"].reshape(-1), mb["mask"].reshape(-1), eps, members)
        (guard or self._host_guard)((self.critic_opt,), critic_loss=loss)
        self.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_opt.step()
        with torch.no_grad():  # Polyak averaging of the target ensemble
            torch._foreach_lerp_(self._target_params, self._critic_params, cfg.tau)
        return {"critic_loss": loss.detach(), "q_mean": q_mean, "target_q": target_mean}

    def _actor_step(self, obs: torch.Tensor, guard: Guard | None = None) -> dict[str, torch.Tensor]:
        eps = torch.randn(len(obs), self.action_dim, generator=self.gen, device=self.device)
        with self._autocast():
            actor_loss, temp_loss, alpha, entropy = self._actor_loss(obs, eps)
        (guard or self._host_guard)((self.actor_opt, self.alpha_opt), actor_loss=actor_loss, temperature_loss=temp_loss)
        self.actor_opt.zero_grad(set_to_none=True)
        self.alpha_opt.zero_grad(set_to_none=True)
        (actor_loss + temp_loss).backward()  # disjoint parameters: one backward for both
        self.actor_opt.step()
        self.alpha_opt.step()
        return {"actor_loss": actor_loss.detach(), "temperature_loss": temp_loss.detach(),
                "alpha": alpha, "entropy": entropy}

    def _host_guard(self, optimizers, **losses: torch.Tensor) -> None:
        self._guard(**losses)

    # ---- pure loss functions (compiled when cfg.compile) ----------------------------------
    def _critic_loss_eager(self, obs, action, next_obs, reward, mask, eps, members):
        with torch.no_grad():
            next_a, next_logp = self.actor.sample(next_obs, eps=eps)
            next_q = self.critic_target(next_obs, next_a, members=members).min(dim=0).values
            if self.cfg.backup_entropy:
                next_q = next_q - self.log_alpha.exp() * next_logp
            target = reward + self.cfg.gamma * mask * next_q
        q = self.critic(obs, action)  # (E, B)
        loss = (q - target).pow(2).mean()  # mean over members and rows (RLPD)
        return loss, q.detach().mean(), target.mean()

    def _actor_loss_eager(self, obs, eps):
        a, logp = self.actor.sample(obs, eps=eps)
        q = self.critic(obs, a, detach=True).mean(dim=0)  # mean over the whole ensemble (RLPD)
        alpha = self.log_alpha.exp()
        actor_loss = (alpha.detach() * logp - q).mean()
        entropy = -logp.detach().mean()
        temp_loss = alpha * (entropy - self.target_entropy)
        return actor_loss, temp_loss, alpha.detach(), entropy

    def _autocast(self):
        # no cast cache under graph capture: cached casts would be graph-private memory
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.matmul_dtype == "bf16",
                              cache_enabled=self._graphed is None)

    def _setup_losses(self) -> None:
        self._critic_loss = self._critic_loss_eager
        self._actor_loss = self._actor_loss_eager
        if self.cfg.compile:
            self._critic_loss = _compiled_or_eager(self._critic_loss_eager)
            self._actor_loss = _compiled_or_eager(self._actor_loss_eager)


def _compiled_or_eager(fn):
    """torch.compile(fn); on any compile failure warn once and run `fn` eagerly from then on.

    Safe because the loss functions are pure: a failed compiled call changed nothing.
    """
    compiled = torch.compile(fn)
    state = {"ok": True}

    def call(*args):
        if state["ok"]:
            try:
                return compiled(*args)
            except Exception as e:  # noqa: BLE001 - any backend/toolchain failure
                state["ok"] = False
                warnings.warn(f"torch.compile failed ({type(e).__name__}: {str(e)[:200]}); "
                              "running the SAC losses eagerly", RuntimeWarning, stacklevel=2)
        return fn(*args)

    return call
