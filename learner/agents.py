"""The agent registry: `agent.algo` -> its class, and `make_agent`.

The interface is `learner.agent.Agent`; the implementations (`learner.sac`, `learner.baselines`)
import only that, and this module imports them: no import cycle, one table of methods.
"""
from __future__ import annotations

import torch

from learner.agent import Agent
from learner.baselines import BCAgent, DAggerAgent, HGDAggerAgent
from learner.config import AgentConfig, ReplayConfig
from learner.sac import SACAgent

AGENTS: dict[str, type[Agent]] = {"rlpd": SACAgent, "bc": BCAgent, "hg-dagger": HGDAggerAgent,
                                  "dagger": DAggerAgent}


def make_agent(cfg: AgentConfig, obs_dim: int, action_dim: int, seed: int,
               replay: ReplayConfig | None = None, vision=None) -> Agent:
    """The agent for `cfg.algo` (a key of AGENTS). `cfg.threads > 0` sets torch's CPU thread
    count (process-wide). `vision` (sim.config.VisionConfig) with image_size > 0: the agent sees
    its cameras' frames through an image encoder."""
    if cfg.algo not in AGENTS:
        raise ValueError(f"agent.algo={cfg.algo!r}; allowed: {sorted(AGENTS)}")
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    return AGENTS[cfg.algo](cfg, obs_dim, action_dim, seed, replay, vision)
