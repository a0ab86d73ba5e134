"""Are a critic's Q-values right? Compare them with Monte Carlo returns of the same policy (notebook 02b).

A critic ``Q_psi(a, s)`` trained on eq. (2) claims to know the discounted return of its policy.
That claim can be checked by brute force: from states the policy visits, roll the policy out long
enough and sum ``gamma^k r_k``. Where ``Q`` sits above those returns the critic *overestimates*
(the bias that twin critics, clipped double Q-learning, are there to counter); where it sits below,
it has not yet propagated the rewards back (or underestimates).

dm_control stops every episode at its time limit (1000 frames), but a time limit is not a terminal
state: the critic bootstraps through it and values what would come after. So the rollouts here run
past the time limit (``horizon`` agent steps, ``gamma^horizon`` small), which is what the critic's
value means.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from course_lib.agents.common import acting_mode, obs_to_tensor
from course_lib.envs import make_env

__all__ = ["discounted_returns", "ddpg_policy_action", "critic_vs_monte_carlo"]


def discounted_returns(rewards, gamma: float) -> np.ndarray:
    """``G_t = r_t + gamma G_{t+1}`` for every step of one rollout (``G = 0`` after the last)."""
    rewards = np.asarray(rewards, dtype=float)
    out, running = np.zeros_like(rewards), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def ddpg_policy_action(agent, features: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The policy a DDPG critic evaluates: ``clip(mu(s) + clip(eps, -c, c), -1, 1)``.

    Eq. (2)'s target (DrQ-v2) uses ``a'`` with clipped noise of the scheduled std; at the end of the
    schedule that std is ``std_end``. Rolling out that same noisy policy makes the Monte Carlo
    returns those of the policy the critic was trained to value.
    """
    c = agent.config
    mu = agent.actor(features)
    # Drawn by the (CPU) generator, then moved to the actor's device: the same draws on a GPU.
    noise = (torch.randn(mu.shape, generator=generator).to(mu.device) * c.std_end).clamp(-c.std_clip, c.std_clip)
    return (mu + noise).clamp(-1.0, 1.0)


@torch.no_grad()
def critic_vs_monte_carlo(agent, episodes: int = 3, horizon: int = 600, measured_steps: int = 125,
                          seed: int = 123) -> pd.DataFrame:
    """``Q1, Q2`` of a trained state-based DDPG agent against Monte Carlo returns of its own policy.

    For each of ``episodes`` episodes of ``agent.config.task`` (a new environment seed, so these are
    not the training episodes), the policy of :func:`ddpg_policy_action` runs for
    ``measured_steps + horizon`` agent steps, past the time limit. At each of the first
    ``measured_steps`` steps we record the critics' values of the action taken and the discounted
    return that followed (truncated after ``horizon`` more steps: the missing tail is at most
    ``gamma^horizon * r_max / (1 - gamma)``).

    Returns one row per measured step: ``episode, step, q1, q2, q_min, mc_return``.
    """
    c = agent.config
    if c.obs != "state" or agent.name != "ddpg":
        raise ValueError("critic_vs_monte_carlo needs a state-based DDPG agent")
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for episode in range(episodes):
        env = make_env(c.task, "state", seed + episode, c.action_repeat)
        env._env._step_limit = math.inf  # run past the time limit: the critic values what comes after
        time_step, states, actions, rewards = env.reset(), [], [], []
        with acting_mode(agent.actor):
            for _ in range(measured_steps + horizon):
                features = obs_to_tensor(time_step.observation, agent.device)
                action = ddpg_policy_action(agent, features, generator)[0].cpu().numpy()
                states.append(time_step.observation)
                actions.append(action)
                time_step = env.step(action)
                rewards.append(time_step.reward)
        returns = discounted_returns(rewards, c.discount)[:measured_steps]
        with acting_mode(agent.critic):
            q1, q2 = agent.critic(torch.as_tensor(np.array(states[:measured_steps]), device=agent.device),
                                  torch.as_tensor(np.array(actions[:measured_steps]), device=agent.device))
        q1, q2 = q1.squeeze(1).cpu().numpy(), q2.squeeze(1).cpu().numpy()
        rows.append(pd.DataFrame({"episode": episode, "step": np.arange(measured_steps), "q1": q1, "q2": q2,
                                  "q_min": np.minimum(q1, q2), "mc_return": returns}))
    return pd.concat(rows, ignore_index=True)
