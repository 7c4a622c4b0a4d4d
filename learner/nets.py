"""Networks of the learner: a tanh-Gaussian actor and a batched ensemble of LayerNorm critics.

The critic ensemble is ONE module with stacked weights: every layer is a single batched matmul
(`torch.baddbmm`) over all members at once, shape (E, B, features). There is no Python loop over
critics, so autograd and Adam see a handful of big tensors instead of E x (layers) small ones;
that is where the speed-up over a per-critic loop comes from (`rlif bench learner`).

Each member is Linear -> LayerNorm (own affine) -> ReLU per hidden layer, then Linear -> 1, as in
RLPD. Members are initialised independently like `nn.Linear` (U(-1/sqrt(fan_in), 1/sqrt(fan_in))).

The actor is a plain MLP (Linear -> ReLU ..., head -> 2|A|) whose layer names (`layers.i`,
`head`) are part of the actor export format read by `learner.policy.Policy`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Bounds of the actor's log standard deviation (pre-tanh Gaussian); squashed smoothly into them.
LOG_STD_MIN = -5.0  # std >= 0.0067 (pre-tanh)
LOG_STD_MAX = 2.0  # std <= 7.4; init (raw 0) sits at the midpoint, std ~0.22


class EnsembleCritic(nn.Module):
    """E independent Q(s, a) MLPs with stacked weights; forward returns (E, B)."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], n_members: int, layer_norm: bool = True,
                 obs_scale: torch.Tensor | None = None):
        super().__init__()
        self.n_members = n_members
        # input multipliers: the observation's scale, then ones for the action (already O(1))
        in_scale = torch.ones(in_dim)
        if obs_scale is not None:
            in_scale[: len(obs_scale)] = torch.as_tensor(obs_scale, dtype=torch.float32)
        self.register_buffer("in_scale", in_scale)
        self.layer_norm = layer_norm
        dims = [in_dim, *hidden, 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(dims[:-1], dims[1:]):
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default init, per member
            self.weights.append(nn.Parameter(torch.empty(n_members, fan_in, fan_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(n_members, 1, fan_out).uniform_(-bound, bound)))
        # Per-member LayerNorm affine (scale 1, shift 0 at init), one pair per hidden layer.
        self.ln_scales = nn.ParameterList()
        self.ln_shifts = nn.ParameterList()
        if layer_norm:
            for h in hidden:
                self.ln_scales.append(nn.Parameter(torch.ones(n_members, 1, h)))
                self.ln_shifts.append(nn.Parameter(torch.zeros(n_members, 1, h)))

    def forward(self, obs: torch.Tensor, action: torch.Tensor, members: torch.Tensor | None = None,
                detach: bool = False) -> torch.Tensor:
        """Q-values (E', B) for the members `members` (index tensor; None = all).

        `detach=True` uses the weights without tracking their gradient (the actor's loss
        back-propagates into the action only).
        """
        def p(t: torch.Tensor) -> torch.Tensor:
            t = t.detach() if detach else t
            return t if members is None else t.index_select(0, members)

        x = torch.cat([obs, action], dim=-1) * self.in_scale  # (B, in)
        n_layers = len(self.weights)
        for i in range(n_layers):
            w, b = p(self.weights[i]), p(self.biases[i])
            if i == 0:
                h = torch.matmul(x, w) + b  # (B, in) @ (E, in, out) broadcasts to (E, B, out)
            else:
                h = torch.baddbmm(b, h, w)
            if i < n_layers - 1:
                if self.layer_norm:
                    h = F.layer_norm(h, h.shape[-1:])
                    h = torch.addcmul(p(self.ln_shifts[i]), h, p(self.ln_scales[i]))
                h = F.relu(h)
        return h.squeeze(-1).float()  # fp32 even under bf16 autocast

    def member_forward(self, k: int, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Member k alone, computed with plain per-member ops (reference for the ensemble test)."""
        h = torch.cat([obs, action], dim=-1)
        n_layers = len(self.weights)
        for i in range(n_layers):
            h = h @ self.weights[i][k] + self.biases[i][k, 0]
            if i < n_layers - 1:
                if self.layer_norm:
                    h = F.layer_norm(h, h.shape[-1:], self.ln_scales[i][k, 0], self.ln_shifts[i][k, 0])
                h = F.relu(h)
        return h.squeeze(-1)


class TanhGaussianActor(nn.Module):
    """pi(a|s) = tanh(N(mu(s), sigma(s))): actions in (-1, 1) with an exact log-density."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: tuple[int, ...],
                 obs_scale: torch.Tensor | None = None):
        super().__init__()
        self.obs_dim, self.action_dim, self.hidden = obs_dim, action_dim, tuple(hidden)
        scale = torch.ones(obs_dim) if obs_scale is None else torch.as_tensor(obs_scale, dtype=torch.float32)
        self.register_buffer("obs_scale", scale.clone())  # observation -> O(1), part of the export
        dims = [obs_dim, *hidden]
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(dims[-1], 2 * action_dim)

    def dist_params(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-std of the pre-tanh Gaussian, each (B, A)."""
        h = obs * self.obs_scale
        for layer in self.layers:
            h = F.relu(layer(h))
        mean, raw = self.head(h).float().chunk(2, dim=-1)  # fp32 even under bf16 autocast
        log_std = squash_log_std(raw)
        return mean, log_std

    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None,
               eps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised action (B, A) and its log-density log pi(a|s) (B,).

        `eps` (B, A) standard-normal noise may be given (keeps compiled loss functions pure).
        """
        mean, log_std = self.dist_params(obs)
        if eps is None:
            eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        u = mean + log_std.exp() * eps
        # log N(u; mean, std) summed over action dims, then the tanh change of variables:
        # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))  (numerically stable form).
        logp = (-0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        logp = logp - (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(-1)
        return torch.tanh(u), logp

    def deterministic(self, obs: torch.Tensor) -> torch.Tensor:
        """The mode's squashed mean tanh(mu(s)) (B, A)."""
        return torch.tanh(self.dist_params(obs)[0])

    def log_prob(self, obs: torch.Tensor, action: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
        """log pi(action|s) (B,) for given actions in [-1, 1] (clipped to the open interval)."""
        mean, log_std = self.dist_params(obs)
        a = action.clamp(-1.0 + eps, 1.0 - eps)
        u = torch.atanh(a)
        z = (u - mean) / log_std.exp()
        logp = (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        return logp - torch.log1p(-a.pow(2)).sum(-1)


def squash_log_std(raw: torch.Tensor) -> torch.Tensor:
    """Map an unbounded head output smoothly into [LOG_STD_MIN, LOG_STD_MAX]."""
    return LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(raw) + 1.0)
