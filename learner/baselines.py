"""Imitation baselines behind the agent interface: BC, HG-DAgger, DAgger.

All three train the same tanh-Gaussian actor as SAC (so export, `Policy` and eval are shared)
by supervised learning on (obs, target action) rows; they differ only in WHICH rows and WHICH
target, i.e. in `sample_spec`:
- BC:        subset "operator", target = executed action (operator-driven steps: demos).
- HG-DAgger: subset "operator", target = executed action. Same loss as BC; the difference is
             in data collection: the operator corrects the running policy, and the store keeps
             every round's corrections, so sampling aggregates over rounds.
- DAgger:    subset "expert_labeled", target = `expert_action` (the simulated expert's label
             for every visited state, whoever drove).
Loss (cfg.bc_loss): "mse" = mean squared error of tanh(mean(s)) against the target, or
"nll" = negative log-likelihood of the target under the tanh-Gaussian. One gradient step per
minibatch (cfg.utd per update, the same gradient budget as SAC's critic). With cameras the
loss also trains the encoder (no critic here to train it), on randomly shifted frames.
"""
from __future__ import annotations

from typing import Any

from learner.agent import Agent
from learner.nets import TanhGaussianActor
from learner.sac import adam


class BCAgent(Agent):
    algo = "bc"
    subset = "operator"
    target_key = "action"
    batch_keys = ("obs", "action")

    def _build(self) -> None:
        self.actor = TanhGaussianActor(self.feature_dim, self.action_dim, self.cfg.hidden,
                                       self.net_scale).to(self.device)
        self.actor_opt = adam(self._trained_params(self.actor), self.cfg.lr)

    def optimizers(self):
        return {"actor": self.actor_opt}

    @property
    def sample_spec(self) -> dict[str, Any]:
        return {"batch_size": self.cfg.batch_size * self.cfg.utd, "reward": self.cfg.reward,
                "symmetric": False, "subset": self.subset}

    def _update_minibatches(self, mbs):
        for mb in mbs:
            obs, target = self._features(mb, "obs"), mb[self.target_key].clamp(-1.0, 1.0)
            if self.cfg.bc_loss == "nll":
                loss = -self.actor.log_prob(obs, target).mean()
            else:
                loss = (self.actor.deterministic(obs) - target).pow(2).sum(-1).mean()
            self._guard(bc_loss=loss)
            self.actor_opt.zero_grad(set_to_none=True)
            loss.backward()
            self.actor_opt.step()
            self.n_grad_steps += 1
        return {"bc_loss": loss.detach()}


class HGDAggerAgent(BCAgent):
    algo = "hg-dagger"


class DAggerAgent(BCAgent):
    algo = "dagger"
    subset = "expert_labeled"
    target_key = "expert_action"
    batch_keys = ("obs", "expert_action")
