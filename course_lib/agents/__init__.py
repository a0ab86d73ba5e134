"""The paper's two agents, looked up by name: ``sac`` (DrQ) and ``ddpg`` (DrQ-v2).

A new agent is one new module here with a class that has the same small interface
(``act(obs, step, eval_mode)``, ``update(batch, step) -> dict of tensors``, ``head_modules()``,
``state_dict()``, ``load_state_dict()``), registered in :data:`AGENTS`.
"""
from __future__ import annotations

import torch

from course_lib.agents.ddpg import DDPGAgent
from course_lib.agents.sac import SACAgent
from course_lib.config import TrainConfig

AGENTS = {"sac": SACAgent, "ddpg": DDPGAgent}


def make_agent(config: TrainConfig, obs_shape: tuple[int, ...], action_dim: int, device) -> SACAgent | DDPGAgent:
    """Build the agent named by ``config.agent`` (``config`` must be resolved, see ``TrainConfig.resolved``)."""
    if config.agent not in AGENTS:
        raise ValueError(f"unknown agent {config.agent!r}; allowed: {', '.join(AGENTS)}")
    if config.hidden_dim is None or config.actor_depth is None:
        raise ValueError("make_agent needs a resolved config: call config.resolved() first")
    return AGENTS[config.agent](config, tuple(obs_shape), int(action_dim), torch.device(device))
