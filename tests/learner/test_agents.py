"""learner.agents: one table of methods, the same as the config allows; an unknown one is named."""
from __future__ import annotations

import dataclasses
import typing

import pytest

from learner.agent import Agent
from learner.agents import AGENTS, make_agent
from learner.config import AgentConfig

pytestmark = pytest.mark.unit


def test_the_registry_is_the_configs_list_of_methods():
    algo = {f.name: f for f in dataclasses.fields(AgentConfig)}["algo"]
    allowed = typing.get_args(typing.get_type_hints(AgentConfig)["algo"])
    assert set(AGENTS) == set(allowed) and algo.default in AGENTS
    assert all(issubclass(cls, Agent) for cls in AGENTS.values())


def test_each_method_builds_and_an_unknown_one_is_refused():
    for name, cls in AGENTS.items():
        agent = make_agent(AgentConfig(algo=name, hidden=[8, 8], n_critics=2, threads=1), 4, 2, seed=0)
        assert type(agent) is cls and agent.act([0.0] * 4).shape == (2,)
    with pytest.raises(ValueError, match="agent.algo='ppo'; allowed"):
        make_agent(dataclasses.replace(AgentConfig(), algo="ppo"), 4, 2, seed=0)
