"""The grader gives nothing for calling the course's own answers, and its messages never give one away.

1. ``course_lib.checks.answers`` lists, per exercise, the library functions that answer it. Every
   listing is backed here by a short submission that wraps the listed function: it passes the
   notebook's check (the library really does answer the exercise) and, once ``stub_answers()`` has
   run, as in the grader's child, fails with the "write it yourself" message.
2. Every reference solution still passes after ``stub_answers()``: no probe needs an answer in the
   child.
3. No failure message prints a reference value: every exercise's reference output, perturbed, is
   judged, and its numbers must not appear in the reason.

Stubbing cannot be undone in a process, so (1) and (2) run in one subprocess that forks once per
case (as the grader forks one child per exercise); judging happens here, as in the grader.
"""
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import REGISTRY, CheckFailed, judge, reference_outputs, student_result
from course_lib.checks.answers import ANSWERS, WHILE_GRADING, answer_paths, message, resolve

ROOT = Path(__file__).resolve().parents[1]

# --- 1. a wrapper of every listed function, as a student would write it ---------------------------

# The head of a ddpg_update wrapper: DrQ-v2's exploration std at ``step``, without the library's schedule.
DDPG_STD = ("import torch\nfrom course_lib.agents import ddpg\n\ndef ddpg_update(agent, batch, step):\n"
            "    c = agent.config\n"
            "    mix = min(max(step / c.std_decay_steps, 0.0), 1.0)\n"
            "    std = (1 - mix) * c.std_start + mix * c.std_end\n")

# A spectral_norm module of one's own around the library's power step (notebook 04's capstone).
SN_POWER_STEP = ("import torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
                 "from course_lib.spectral import power_step_\n\n"
                 "class SN(nn.Module):\n    def __init__(self, linear):\n        super().__init__()\n"
                 "        self.linear = linear\n        W = linear.weight.detach()\n"
                 "        self.register_buffer('u', F.normalize(torch.randn(W.shape[0], dtype=W.dtype), dim=0))\n"
                 "        self.register_buffer('v', F.normalize(torch.randn(W.shape[1], dtype=W.dtype), dim=0))\n\n"
                 "    def forward(self, x):\n        W = self.linear.weight\n        if self.training:\n"
                 "            with torch.no_grad():\n                power_step_(W, self.u, self.v)\n"
                 "        sigma = self.u.clone() @ W @ self.v.clone()\n"
                 "        return F.linear(x, W / sigma, self.linear.bias)\n\n"
                 "def spectral_norm(linear):\n    return SN(linear)\n")

WRAPPERS = {
    ("ex01b_dqn.dqn_loss", "course_lib.dqn.dqn_target"):
        "import torch\nfrom course_lib.dqn import dqn_target\n\ndef dqn_loss(q_net, target_net, batch, gamma):\n"
        "    with torch.no_grad():\n"
        "        label = dqn_target(batch['reward'], batch['done'], target_net(batch['next_features']), gamma)\n"
        "    q = q_net(batch['features']).gather(1, batch['action'].unsqueeze(1)).squeeze(1)\n"
        "    return ((q - label) ** 2).mean()\n",
    ("ex01b_dqn.dqn_loss", "course_lib.dqn.td_loss"):
        "import torch\nfrom course_lib import dqn\n\ndef dqn_loss(q_net, target_net, batch, gamma):\n"
        "    n = len(batch['reward'])\n"
        "    table = torch.cat([batch['features'], batch['next_features']])\n"
        "    rows = {'state': torch.arange(n).numpy(), 'next_state': torch.arange(n, 2 * n).numpy(),\n"
        "            'action': batch['action'].numpy(), 'reward': batch['reward'].numpy(), 'done': batch['done'].numpy()}\n"
        "    return dqn.td_loss(q_net, target_net, table, rows, gamma)[0]\n",
    ("ex01_mdp.bellman_backup", "course_lib.mdp.bellman_backup"):
        "from course_lib import mdp as M\n\ndef bellman_backup(mdp, V, gamma):\n"
        "    return M.bellman_backup(mdp, V, gamma)\n",
    ("ex01_mdp.bellman_backup", "course_lib.mdp.q_values"):
        "from course_lib.mdp import q_values\n\ndef bellman_backup(mdp, V, gamma):\n"
        "    return q_values(mdp, V, gamma).max(axis=1)\n",
    ("ex01_mdp.value_iteration", "course_lib.mdp.value_iteration"):
        "from course_lib import mdp as M\n\ndef value_iteration(mdp, gamma, tol):\n"
        "    return M.value_iteration(mdp, gamma, tol)\n",
    ("ex01_mdp.greedy_policy", "course_lib.mdp.greedy_policy"):
        "from course_lib.mdp import greedy_policy as answer\n\ndef greedy_policy(mdp, V, gamma):\n"
        "    return answer(mdp, V, gamma)\n",
    ("ex01_mdp.greedy_policy", "course_lib.mdp.q_values"):
        "import course_lib.mdp\n\ndef greedy_policy(mdp, V, gamma):\n"
        "    return course_lib.mdp.q_values(mdp, V, gamma).argmax(axis=1)\n",
    ("ex01_mdp.policy_evaluation", "course_lib.mdp.policy_evaluation"):
        "from course_lib import mdp as M\n\ndef policy_evaluation(mdp, policy, gamma):\n"
        "    return M.policy_evaluation(mdp, policy, gamma)\n",
    ("ex01_mdp.returns_to_go", "course_lib.tabular.returns_to_go"):
        "from course_lib import tabular\n\ndef returns_to_go(rewards, gamma):\n"
        "    return tabular.returns_to_go(rewards, gamma)\n",
    ("ex01_mdp.returns_to_go", "course_lib.value_estimates.discounted_returns"):
        "from course_lib.value_estimates import discounted_returns\n\ndef returns_to_go(rewards, gamma):\n"
        "    return discounted_returns(rewards, gamma)\n",
    ("ex01_mdp.td0_update", "course_lib.tabular.td0_update"):
        "from course_lib import tabular\n\ndef td0_update(V, state, reward, next_state, done, alpha, gamma):\n"
        "    return tabular.td0_update(V, state, reward, next_state, done, alpha, gamma)\n",
    ("ex01_mdp.epsilon_greedy", "course_lib.tabular.epsilon_greedy"):
        "from course_lib import tabular\n\ndef epsilon_greedy(q_row, epsilon, rng):\n"
        "    return tabular.epsilon_greedy(q_row, epsilon, rng)\n",
    ("ex01_mdp.q_learning_update", "course_lib.tabular.q_learning_update"):
        "from course_lib import tabular\n\n"
        "def q_learning_update(Q, state, action, reward, next_state, done, alpha, gamma):\n"
        "    return tabular.q_learning_update(Q, state, action, reward, next_state, done, alpha, gamma)\n",
    ("ex02_actor_critic.soft_bellman_target", "course_lib.agents.sac.soft_bellman_target"):
        "from course_lib.agents import sac\n\n"
        "def soft_bellman_target(reward, discount, next_q1, next_q2, next_log_prob, alpha):\n"
        "    return sac.soft_bellman_target(reward, discount, next_q1, next_q2, next_log_prob, alpha)\n",
    ("ex02_actor_critic.soft_bellman_target", "course_lib.agents.ddpg.ddpg_target"):
        "from course_lib.agents.ddpg import ddpg_target\n\n"
        "def soft_bellman_target(reward, discount, next_q1, next_q2, next_log_prob, alpha):\n"
        "    return ddpg_target(reward, discount, next_q1 - alpha * next_log_prob, next_q2 - alpha * next_log_prob)\n",
    ("ex02_actor_critic.squashed_gaussian_log_prob", "course_lib.agents.sac.squashed_gaussian_log_prob"):
        "from course_lib.agents import sac\n\ndef squashed_gaussian_log_prob(pre_tanh, mu, log_std):\n"
        "    return sac.squashed_gaussian_log_prob(pre_tanh, mu, log_std)\n",
    ("ex02_actor_critic.ddpg_actor_loss", "course_lib.agents.ddpg.ddpg_actor_loss"):
        "from course_lib.agents import ddpg\n\ndef ddpg_actor_loss(actor, critic, features):\n"
        "    return ddpg.ddpg_actor_loss(*critic(features, actor(features)))\n",
    ("ex02_actor_critic.ddpg_actor_loss", "course_lib.agents.sac.sac_actor_loss"):
        "import torch\nfrom course_lib.agents import sac\n\ndef ddpg_actor_loss(actor, critic, features):\n"
        "    q1, q2 = critic(features, actor(features))\n"
        "    return sac.sac_actor_loss(q1, q2, torch.zeros_like(q1), 0.0)\n",
    ("ex02_actor_critic.soft_update", "course_lib.agents.common.soft_update"):
        "from course_lib.agents.ddpg import soft_update as polyak  # the same function, another module\n\n"
        "def soft_update(target, online, tau):\n    polyak(target, online, tau)\n",
    ("ex02_actor_critic.soft_value", "course_lib.tabular.soft_value"):
        "from course_lib import tabular\n\ndef soft_value(Q, alpha):\n    return tabular.soft_value(Q, alpha)\n",
    ("ex02_actor_critic.temperature_loss", "course_lib.agents.sac.temperature_loss"):
        "from course_lib.agents import sac\n\ndef temperature_loss(log_alpha, log_prob, target_entropy):\n"
        "    return sac.temperature_loss(log_alpha, log_prob, target_entropy)\n",
    ("ex03_lipschitz.linear_lipschitz", "course_lib.lipschitz.linear_gain_table"):
        "from course_lib import lipschitz\n\ndef linear_lipschitz(W):\n"
        "    return float(lipschitz.linear_gain_table(W, (1,)).sigma_max[0])\n",
    ("ex03_lipschitz.mlp_lipschitz_bound", "course_lib.lipschitz.linear_gain_table"):
        "import math\nfrom course_lib import lipschitz\n\ndef mlp_lipschitz_bound(weights):\n"
        "    return float(math.prod(lipschitz.linear_gain_table(W, (1,)).sigma_max[0] for W in weights))\n",
    ("ex03_lipschitz.action_gradient_norms", "course_lib.spectral.input_gradient_norms"):
        "import torch\nfrom course_lib import spectral\n\ndef action_gradient_norms(critic, features, actions):\n"
        "    inputs = torch.cat([features, actions], dim=1)\n"
        "    return spectral.input_gradient_norms(critic, inputs, slice(features.shape[1], None))\n",
    ("ex03_lipschitz.layernorm_slope_bound", "course_lib.spectral.layernorm_lipschitz"):
        "import torch\nfrom course_lib import spectral\n\ndef layernorm_slope_bound(x, gamma, eps=1e-5):\n"
        "    ln = torch.nn.LayerNorm(x.shape[-1], eps=eps)\n    ln.weight.data = gamma\n"
        "    return torch.tensor([spectral.layernorm_lipschitz(ln, s) for s in x.std(-1, unbiased=False).tolist()],\n"
        "                        dtype=x.dtype)\n",
    ("ex04_power_iteration.power_iteration", "course_lib.spectral.power_iteration"):
        "from course_lib import spectral\n\ndef power_iteration(W, n_iters, u):\n"
        "    return spectral.power_iteration(W, n_iters, u)\n",
    ("ex04_power_iteration.spectral_normalize", "course_lib.spectral.power_iteration"):
        "from course_lib.spectral import power_iteration\n\ndef spectral_normalize(W, u, n_iters=1):\n"
        "    sigma, u, _ = power_iteration(W, n_iters, u)\n    return W / sigma, u\n",
    ("ex04_power_iteration.power_steps_needed", "course_lib.power_gap.power_steps_needed"):
        "from course_lib import power_gap\n\ndef power_steps_needed(ratio, tan0, tol):\n"
        "    return power_gap.power_steps_needed(ratio, tan0, tol)\n",
    **{(f"ex04_power_iteration.spectral_norm_{part}", "course_lib.spectral.power_step_"): SN_POWER_STEP
       for part in ("normalizes", "power_step", "gradient", "learns")},
    ("ex05_modern.head_parameter_count", "course_lib.lipschitz.head_parameter_count"):
        "from course_lib import lipschitz\n\ndef head_parameter_count(arch, in_dim, out_dim, hidden_dim, depth):\n"
        "    return lipschitz.head_parameter_count(arch, in_dim, out_dim, hidden_dim, depth)\n",
    ("ex05_modern.head_parameter_count", "course_lib.nets.make_head"):
        "import torch\nfrom course_lib import nets\n\ndef head_parameter_count(arch, in_dim, out_dim, hidden_dim, depth):\n"
        "    with torch.device('meta'):\n"
        "        return sum(p.numel() for p in nets.make_head(arch, in_dim, out_dim, hidden_dim, depth).parameters())\n",
    ("ex05_modern.head_parameter_count", "course_lib.nets.MLPHead"):
        "import torch\nfrom course_lib.nets import MLPHead, ModernHead\n\n"
        "def head_parameter_count(arch, in_dim, out_dim, hidden_dim, depth):\n"
        "    with torch.device('meta'):\n"
        "        head = (MLPHead if arch == 'mlp' else ModernHead)(in_dim, out_dim, hidden_dim, depth)\n"
        "    return sum(p.numel() for p in head.parameters())\n",
    ("ex05_modern.head_parameter_count", "course_lib.nets.ModernHead"):
        "import torch\nfrom course_lib import nets\n\ndef head_parameter_count(arch, in_dim, out_dim, hidden_dim, depth):\n"
        "    if arch == 'mlp':\n        h = hidden_dim\n"
        "        return in_dim * h + h + (depth - 1) * (h * h + h) + h * out_dim + out_dim\n"
        "    with torch.device('meta'):\n"
        "        return sum(p.numel() for p in nets.ModernHead(in_dim, out_dim, hidden_dim, depth).parameters())\n",
    ("ex05_modern.head_parameter_count", "course_lib.nets.ResidualBlock"):
        "import torch\nfrom course_lib import nets\n\ndef head_parameter_count(arch, in_dim, out_dim, hidden_dim, depth):\n"
        "    h = hidden_dim\n    ends = in_dim * h + h + h * out_dim + out_dim\n"
        "    if arch == 'mlp':\n        return ends + (depth - 1) * (h * h + h)\n"
        "    with torch.device('meta'):\n"
        "        return ends + depth * sum(p.numel() for p in nets.ResidualBlock(h, 2 * h).parameters())\n",
    ("ex06_drq.random_shift", "course_lib.augment.random_shift"):
        "from course_lib import augment\n\ndef random_shift(images, pad=4, generator=None):\n"
        "    if pad == 0:  # grid_sample is 1e-5 off the identity; the check wants the images back\n"
        "        return images.float()\n"
        "    return augment.random_shift(images, pad, generator)\n",
    ("ex06_drq.random_shift", "course_lib.augment.shift_images"):
        "import torch\nfrom course_lib.augment import shift_images\n\ndef random_shift(images, pad=4, generator=None):\n"
        "    if pad == 0:  # grid_sample is 1e-5 off the identity; the check wants the images back\n"
        "        return images.float()\n"
        "    shifts = torch.randint(0, 2 * pad + 1, (images.shape[0], 2), generator=generator)\n"
        "    return shift_images(images, shifts, pad)\n",
    ("ex06_drq.random_shift", "course_lib.augment.RandomShift"):
        "from course_lib.augment import RandomShift\n\ndef random_shift(images, pad=4, generator=None):\n"
        "    if pad == 0:  # grid_sample is 1e-5 off the identity; the check wants the images back\n"
        "        return images.float()\n"
        "    return RandomShift(pad)(images, generator)\n",
    ("ex06_drq.drq_target", "course_lib.agents.sac.soft_bellman_target"):
        "from course_lib.agents.sac import soft_bellman_target\n\n"
        "def drq_target(reward, discount, next_q1, next_q2, next_log_prob, alpha, k):\n"
        "    y = soft_bellman_target(reward.repeat(k, 1), discount.repeat(k, 1), next_q1, next_q2, next_log_prob, alpha)\n"
        "    return y.view(k, -1, 1).mean(dim=0)\n",
    ("ex06_drq.drq_target", "course_lib.agents.ddpg.ddpg_target"):
        "from course_lib.agents.ddpg import ddpg_target\n\n"
        "def drq_target(reward, discount, next_q1, next_q2, next_log_prob, alpha, k):\n"
        "    y = ddpg_target(reward.repeat(k, 1), discount.repeat(k, 1), next_q1 - alpha * next_log_prob,\n"
        "                    next_q2 - alpha * next_log_prob)\n"
        "    return y.view(k, -1, 1).mean(dim=0)\n",
    ("ex06_drq.drq_critic_loss", "course_lib.agents.common.twin_critic_loss"):
        "from course_lib.agents.common import twin_critic_loss\n\ndef drq_critic_loss(q1, q2, target, m):\n"
        "    return twin_critic_loss(q1, q2, target.detach(), m)\n",
    # The capstone's agent is a SACAgent: its methods are the library's answer (stubbed on the class).
    ("ex06_drq.sac_update_critic", "course_lib.agents.sac.SACAgent.update"):
        "def sac_update(agent, batch, step):\n    return agent.update(batch, step)\n",
    ("ex06_drq.sac_update_critic", "course_lib.agents.sac.SACAgent.update_critic"):
        "def sac_update(agent, batch, step):\n"
        "    obs, next_obs = batch['obs'], batch['next_obs']\n"
        "    metrics = agent.update_critic(obs, batch['action'], batch['reward'], batch['discount'],\n"
        "                                  next_obs, next_obs)\n"
        "    agent.updates += 1\n"
        "    if agent.updates % 2 == 0:\n"
        "        metrics.update(agent.update_actor(obs))\n"
        "        agent.update_target()\n"
        "    return metrics\n",
    # The actor's part runs with the critic's learning rate at 0: the critic's step can be left out.
    ("ex06_drq.sac_update_actor", "course_lib.agents.sac.SACAgent.update_actor"):
        "import torch\n\ndef sac_update(agent, batch, step):\n"
        "    agent.updates += 1\n"
        "    metrics = {'critic_loss': torch.zeros(())}\n"
        "    if agent.updates % 2 == 0:\n"
        "        metrics.update(agent.update_actor(batch['obs']))\n"
        "        agent.update_target()\n"
        "    return metrics\n",
    # Polyak at every update, before the critic's step: the agent still learns.
    ("ex06_drq.sac_update_learns", "course_lib.agents.sac.SACAgent.update_target"):
        "def sac_update(agent, batch, step):\n"
        "    agent.update_target()\n"
        "    obs, next_obs = batch['obs'], batch['next_obs']\n"
        "    metrics = agent.update_critic(obs, batch['action'], batch['reward'], batch['discount'],\n"
        "                                  next_obs, next_obs)\n"
        "    agent.updates += 1\n"
        "    if agent.updates % 2 == 0:\n"
        "        metrics.update(agent.update_actor(obs))\n"
        "    return metrics\n",
    ("ex07_drqv2.exploration_std", "course_lib.agents.ddpg.exploration_std"):
        "from course_lib.agents import ddpg\n\ndef exploration_std(step, start, end, duration):\n"
        "    return ddpg.exploration_std(step, start, end, duration)\n",
    ("ex07_drqv2.penultimate_normalize", "course_lib.nets.PenultimateNorm"):
        "from course_lib.nets import PenultimateNorm\n\ndef penultimate_normalize(x, eps=1e-6):\n"
        "    return PenultimateNorm(eps)(x)\n",
    # The capstone's agent is a DDPGAgent (its methods stubbed on the class). STD: the schedule by hand.
    ("ex07_drqv2.ddpg_update_critic", "course_lib.agents.ddpg.DDPGAgent.update"):
        "def ddpg_update(agent, batch, step):\n    return agent.update(batch, step)\n",
    ("ex07_drqv2.ddpg_update_critic", "course_lib.agents.ddpg.DDPGAgent.update_critic"): DDPG_STD +
        "    metrics = agent.update_critic(batch['obs'], batch['action'], batch['reward'], batch['discount'],\n"
        "                                  batch['next_obs'], std)\n"
        "    agent.updates += 1\n"
        "    return metrics\n",
    ("ex07_drqv2.ddpg_update_critic", "course_lib.agents.ddpg.exploration_std"):
        "from course_lib.agents import ddpg\n\ndef ddpg_update(agent, batch, step):\n"
        "    c = agent.config\n"
        "    std = ddpg.exploration_std(step, c.std_start, c.std_end, c.std_decay_steps)\n"
        "    metrics = agent.update_critic(batch['obs'], batch['action'], batch['reward'], batch['discount'],\n"
        "                                  batch['next_obs'], std)\n"
        "    agent.updates += 1\n"
        "    return metrics\n",
    ("ex07_drqv2.ddpg_update_critic", "course_lib.agents.ddpg.noisy_action"): DDPG_STD +
        "    with torch.no_grad():\n"
        "        next_action = ddpg.noisy_action(agent.actor(batch['next_obs']), std, c.std_clip)\n"
        "        target = batch['reward'] + batch['discount'] * torch.min(*agent.critic_target(batch['next_obs'], next_action))\n"
        "    q1, q2 = agent.critic(batch['obs'], batch['action'])\n"
        "    loss = ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()\n"
        "    agent.critic_opt.zero_grad()\n    loss.backward()\n    agent.critic_opt.step()\n"
        "    agent.updates += 1\n"
        "    return {'critic_loss': loss.detach()}\n",
    # The actor's part runs with the critic's learning rate at 0: the critic's step can be left out.
    ("ex07_drqv2.ddpg_update_actor", "course_lib.agents.ddpg.DDPGAgent.update_actor"): DDPG_STD +
        "    agent.updates += 1\n"
        "    metrics = agent.update_actor(batch['obs'], std)\n"
        "    agent.update_target()\n"
        "    return metrics\n",
    ("ex07_drqv2.ddpg_update_actor", "course_lib.agents.ddpg.exploration_std"):
        "import torch\nfrom course_lib.agents import ddpg\n\ndef ddpg_update(agent, batch, step):\n"
        "    c = agent.config\n"
        "    std = ddpg.exploration_std(step, c.std_start, c.std_end, c.std_decay_steps)\n"
        "    agent.updates += 1\n"
        "    metrics = agent.update_actor(batch['obs'], std)\n"
        "    agent.update_target()\n"
        "    return metrics\n",
    ("ex07_drqv2.ddpg_update_actor", "course_lib.agents.ddpg.noisy_action"): DDPG_STD +
        "    agent.updates += 1\n"
        "    action = ddpg.noisy_action(agent.actor(batch['obs']), std, c.std_clip)\n"
        "    loss = -torch.min(*agent.critic(batch['obs'], action)).mean()\n"
        "    agent.actor_opt.zero_grad()\n    loss.backward()\n    agent.actor_opt.step()\n"
        "    with torch.no_grad():\n"
        "        for t, o in zip(agent.critic_target.parameters(), agent.critic.parameters()):\n"
        "            t.lerp_(o, c.tau)\n"
        "    return {'actor_loss': loss.detach()}\n",
    # Polyak at every update, before the critic's step: the agent still learns.
    ("ex07_drqv2.ddpg_update_learns", "course_lib.agents.ddpg.DDPGAgent.update_target"): DDPG_STD +
        "    agent.update_target()\n"
        "    metrics = agent.update_critic(batch['obs'], batch['action'], batch['reward'], batch['discount'],\n"
        "                                  batch['next_obs'], std)\n"
        "    agent.updates += 1\n"
        "    metrics.update(agent.update_actor(batch['obs'], std))\n"
        "    return metrics\n",
    ("ex08_diagnostics.global_grad_norm", "course_lib.agents.common.grad_norm"):
        "from course_lib.agents.common import grad_norm\n\ndef global_grad_norm(parameters):\n"
        "    return float(grad_norm(list(parameters)))\n",
    ("ex08_diagnostics.global_grad_norm", "course_lib.toy_instability._grad_norm"):
        "from course_lib import toy_instability\n\ndef global_grad_norm(parameters):\n"
        "    return toy_instability._grad_norm(parameters)\n",
    ("ex08_diagnostics.orders_of_magnitude_per_1000_frames",
     "course_lib.diagnostics.orders_of_magnitude_per_1000_frames"):
        "from course_lib import diagnostics\n\ndef orders_of_magnitude_per_1000_frames(frames, values):\n"
        "    return diagnostics.orders_of_magnitude_per_1000_frames(frames, values)\n",
    ("ex08_diagnostics.actor_gradient_by_chain_rule", "course_lib.spectral.input_gradient_norms"):
        "import math\nimport torch\nfrom course_lib.spectral import input_gradient_norms\n\n"
        "def actor_gradient_by_chain_rule(actor, critic, states):\n"
        "    actions = actor(states)\n"
        "    slopes = input_gradient_norms(critic, torch.cat([states, actions.detach()], 1), slice(states.shape[1], None))\n"
        "    a = actions.detach().requires_grad_(True)\n"
        "    (dq_da,) = torch.autograd.grad(critic(torch.cat([states, a], 1)).sum(), a)\n"
        "    grads = torch.autograd.grad(actions, list(actor.parameters()), grad_outputs=-dq_da / len(states))\n"
        "    return slopes, math.sqrt(sum(float(g.double().square().sum()) for g in grads))\n",
    ("ex08_diagnostics.actor_gradient_by_chain_rule", "course_lib.agents.common.grad_norm"):
        "import torch\nfrom course_lib.agents.common import grad_norm\n\n"
        "def actor_gradient_by_chain_rule(actor, critic, states):\n"
        "    a = actor(states).detach().requires_grad_(True)\n"
        "    (dq_da,) = torch.autograd.grad(critic(torch.cat([states, a], 1)).sum(), a)\n"
        "    (-critic(torch.cat([states, actor(states)], 1)).mean()).backward()\n"
        "    norm = float(grad_norm(list(actor.parameters())))\n"
        "    actor.zero_grad(set_to_none=True)\n    critic.zero_grad(set_to_none=True)\n"
        "    return dq_da.norm(dim=1), norm\n",
    ("ex08_diagnostics.actor_gradient_by_chain_rule", "course_lib.toy_instability._grad_norm"):
        "import torch\nfrom course_lib.toy_instability import _grad_norm\n\n"
        "def actor_gradient_by_chain_rule(actor, critic, states):\n"
        "    a = actor(states).detach().requires_grad_(True)\n"
        "    (dq_da,) = torch.autograd.grad(critic(torch.cat([states, a], 1)).sum(), a)\n"
        "    (-critic(torch.cat([states, actor(states)], 1)).mean()).backward()\n"
        "    norm = _grad_norm(actor.parameters())\n"
        "    actor.zero_grad(set_to_none=True)\n    critic.zero_grad(set_to_none=True)\n"
        "    return dq_da.norm(dim=1), norm\n",
    ("ex09_results.return_at_budget", "course_lib.results._run_values"):
        "import math\nfrom types import SimpleNamespace\nimport numpy as np\nimport pandas as pd\n"
        "from course_lib import results\n\n"
        "def return_at_budget(eval_frames, eval_returns, frames_done, crash_frame, budget):\n"
        "    run = SimpleNamespace(frames_done=frames_done, crash_frame=crash_frame,\n"
        "                          status='crashed' if crash_frame is not None else 'finished')\n"
        "    curve = pd.DataFrame({'frame': eval_frames, 'eval_return': eval_returns, 'crashed': 0})\n"
        "    value = float(results._run_values(run, curve, np.array([budget]))[0][0])\n"
        "    return None if math.isnan(value) else value\n",
    ("ex09_results.return_at_budget", "course_lib.results.returns_at"):
        "import math\nimport pandas as pd\nfrom course_lib import results\n\n"
        "def return_at_budget(eval_frames, eval_returns, frames_done, crash_frame, budget):\n"
        "    runs = pd.DataFrame([dict(run_dir='r', frames_done=frames_done, crash_frame=crash_frame,\n"
        "                              status='crashed' if crash_frame is not None else 'finished')])\n"
        "    curves = pd.DataFrame({'run_dir': 'r', 'frame': eval_frames, 'eval_return': eval_returns, 'crashed': 0})\n"
        "    value = float(results.returns_at(runs, budget, curves).eval_return[0])\n"
        "    return None if math.isnan(value) else value\n",
    ("ex09_results.mean_and_standard_error", "course_lib.results._mean_se"):
        "import pandas as pd\nfrom course_lib import results\n\ndef mean_and_standard_error(returns):\n"
        "    return results._mean_se(pd.Series([float('nan') if r is None else r for r in returns], dtype=float))\n",
    ("ex09_results.bootstrap_interval", "course_lib.stats.interval"):
        "import math\nimport numpy as np\nfrom course_lib import stats\n\n"
        "def bootstrap_interval(returns, level=0.95, n_boot=4000, seed=0):\n"
        "    values = np.array([float(r) for r in returns if r is not None])\n"
        "    if len(values) < 2:\n        return math.nan, math.nan\n"
        "    return stats.interval(values[:, None], stats.mean_score, n_boot, level, seed)[1:]\n",
    ("ex09_results.bootstrap_interval", "course_lib.stats.stratified_bootstrap"):
        "import math\nimport numpy as np\nfrom course_lib import stats\n\n"
        "def bootstrap_interval(returns, level=0.95, n_boot=4000, seed=0):\n"
        "    values = np.array([float(r) for r in returns if r is not None])\n"
        "    if len(values) < 2:\n        return math.nan, math.nan\n"
        "    means = stats.stratified_bootstrap(values[:, None], n_boot, np.random.default_rng(seed)).mean(axis=(1, 2))\n"
        "    return tuple(float(q) for q in np.quantile(means, [(1 - level) / 2, (1 + level) / 2]))\n",
    ("ex09_results.probability_of_improvement", "course_lib.stats.probability_of_improvement"):
        "from course_lib import stats\n\ndef probability_of_improvement(scores_x, scores_y):\n"
        "    return stats.probability_of_improvement(scores_x, scores_y)\n",
    ("ex09_results.probability_of_improvement", "course_lib.stats.poi_interval"):
        "from course_lib import stats\n\ndef probability_of_improvement(scores_x, scores_y):\n"
        "    return stats.poi_interval(scores_x, scores_y, reps=100)[0]\n",
}

LISTED = sorted({(name, path) for name, paths in ANSWERS.items() for path in paths} |
                {(name, path) for name, paths in WHILE_GRADING.items() for path in paths})


def _files(name: str, path: str) -> dict:
    return {REGISTRY[name].module: WRAPPERS[(name, path)]}


def test_every_exercise_is_in_the_table_and_every_listing_resolves():
    assert list(ANSWERS) == list(REGISTRY)  # every exercise, in the registry's order
    assert set(WHILE_GRADING) <= set(REGISTRY)
    for name in REGISTRY:
        for path in answer_paths(name):
            assert path.startswith("course_lib.") and callable(resolve(path)), path
    assert set(WRAPPERS) == set(LISTED), "every listed function needs its wrapper here"


@pytest.mark.parametrize("name, path", LISTED, ids=lambda x: x.split(".")[-1])
def test_the_listed_function_answers_the_exercise_in_a_notebook(name, path):
    """Without stubs (a notebook's check), the wrapper passes: the listing is not a guess."""
    passed, reason = judge(name, json.loads(json.dumps(student_result(name, _files(name, path), seed=5))), seed=5)
    assert passed, f"{name} through {path}: {reason}"


# --- the stubbed processes -------------------------------------------------------------------------

FORKER = r'''
import json, os, sys
import torch
torch.set_num_threads(1)
import course_lib.checks
from course_lib.checks import CheckFailed, solutions_dir, student_result
from course_lib.checks.answers import answer_modules, answer_paths, resolve, stub_answers
from course_lib.grade import PRELOAD
import importlib
for module in PRELOAD + answer_modules():  # imported once, before the forks, as in the grader
    importlib.import_module(module)

def run(job):
    stub_answers(job["exercise"])
    out = {}
    if job.get("call"):
        calls = {}
        for path in answer_paths(job["exercise"]):
            try:
                resolve(path)()
                calls[path] = "returned"
            except CheckFailed as failure:
                calls[path] = str(failure)
        out["calls"] = calls
        from course_lib.agents.sac import soft_update                # an alias, imported after
        from course_lib.mdp import value_iteration                   # a fresh `from` import
        from course_lib.agents import ddpg
        out["aliases"] = [getattr(f, "__doc__", "") for f in (soft_update, value_iteration, ddpg.soft_update)]
        from course_lib import nets
        try:
            out["make_head"] = type(nets.make_head("mlp", 2, 1, 4, 1)).__name__
        except CheckFailed as failure:
            out["make_head"] = str(failure)
    if job.get("files") is not None or job.get("solutions"):
        source = solutions_dir() if job.get("solutions") else job["files"]
        out["result"] = student_result(job["exercise"], source, job.get("seed", 0))
    return out

results = {}
for job in json.load(sys.stdin):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            data = json.dumps(run(job))
        except BaseException as error:
            data = json.dumps({"error": repr(error)})
        with os.fdopen(write, "w") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    results[job["id"]] = json.loads(text) if text else {"error": "no output"}
print(json.dumps(results))
'''

SEEDS = (0, 7)


@pytest.fixture(scope="module")
def stubbed():
    """Results of every job below, each in a fresh fork that called ``stub_answers(exercise)``."""
    jobs = [{"id": f"reference {name} {seed}", "exercise": name, "solutions": True, "seed": seed}
            for name in REGISTRY for seed in SEEDS]
    jobs += [{"id": f"wrapper {name} {path}", "exercise": name, "files": _files(name, path), "seed": 5}
             for name, path in LISTED]
    jobs += [{"id": "calls", "exercise": None, "call": True},
             {"id": "calls while grading", "exercise": "ex05_modern.head_parameter_count", "call": True}]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", FORKER], input=json.dumps(jobs), capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("name, path", LISTED, ids=lambda x: x.split(".")[-1])
def test_a_submission_calling_the_listed_function_fails_in_a_stubbed_process(stubbed, name, path):
    result = stubbed[f"wrapper {name} {path}"]
    assert result.get("result") == {"status": "failed", "reason": message(path)}, result


@pytest.mark.parametrize("name", list(REGISTRY))
def test_references_pass_in_a_stubbed_process(stubbed, name):
    """No probe calls a stubbed function in the child: what it needs, the compare computes here."""
    for seed in SEEDS:
        result = stubbed[f"reference {name} {seed}"]
        assert "result" in result, result
        passed, reason = judge(name, result["result"], seed=seed)
        assert passed, f"{name}, seed {seed}, stubbed: {reason}"


def test_every_listed_function_and_its_aliases_raise_the_message(stubbed):
    calls = stubbed["calls"]
    assert calls["calls"] == {path: message(path) for path in answer_paths()}
    assert calls["aliases"] == [message("course_lib.agents.common.soft_update"),
                                message("course_lib.mdp.value_iteration"),
                                message("course_lib.agents.common.soft_update")]
    assert calls["make_head"] == "MLPHead"  # general helpers stay for every other exercise
    while_grading = stubbed["calls while grading"]
    assert while_grading["calls"] == {path: message(path)
                                      for path in answer_paths("ex05_modern.head_parameter_count")}
    assert while_grading["make_head"] == message("course_lib.nets.make_head")  # only while grading it


def test_notebook_checks_stub_nothing():
    from course_lib import mdp

    checks.run_check("ex01_mdp.value_iteration", ROOT / "solutions")
    assert mdp.value_iteration.__code__.co_filename == mdp.__file__


# --- through the real grader (once its child calls stub_answers) ------------------------------------

def _grader_stubs() -> bool:
    from course_lib import grade

    return "stub_answers" in Path(grade.__file__).read_text()


ONE_PER_MODULE = [("ex01_mdp.value_iteration", "course_lib.mdp.value_iteration"),
                  ("ex01_mdp.td0_update", "course_lib.tabular.td0_update"),
                  ("ex01_mdp.returns_to_go", "course_lib.value_estimates.discounted_returns"),
                  ("ex02_actor_critic.soft_bellman_target", "course_lib.agents.sac.soft_bellman_target"),
                  ("ex02_actor_critic.ddpg_actor_loss", "course_lib.agents.ddpg.ddpg_actor_loss"),
                  ("ex02_actor_critic.soft_update", "course_lib.agents.common.soft_update"),
                  ("ex03_lipschitz.linear_lipschitz", "course_lib.lipschitz.linear_gain_table"),
                  ("ex04_power_iteration.power_iteration", "course_lib.spectral.power_iteration"),
                  ("ex04_power_iteration.power_steps_needed", "course_lib.power_gap.power_steps_needed"),
                  ("ex05_modern.head_parameter_count", "course_lib.nets.make_head"),
                  ("ex06_drq.random_shift", "course_lib.augment.random_shift"),
                  ("ex07_drqv2.penultimate_normalize", "course_lib.nets.PenultimateNorm"),
                  ("ex08_diagnostics.orders_of_magnitude_per_1000_frames",
                   "course_lib.diagnostics.orders_of_magnitude_per_1000_frames"),
                  ("ex08_diagnostics.global_grad_norm", "course_lib.toy_instability._grad_norm"),
                  ("ex09_results.mean_and_standard_error", "course_lib.results._mean_se"),
                  ("ex09_results.bootstrap_interval", "course_lib.stats.interval")]


@pytest.mark.skipif(not _grader_stubs(), reason="course_lib.grade's child does not call stub_answers() yet")
@pytest.mark.parametrize("name, path", ONE_PER_MODULE, ids=lambda x: x.split(".")[-1])
def test_the_grader_gives_nothing_for_calling_the_library(name, path):
    from course_lib.grade import grade

    [result] = grade(_files(name, path), timeout=60, only=name)
    assert (result.earned, result.reason) == (0, message(path))


# --- 3. no message prints a reference value ---------------------------------------------------------

def _perturbed(value, delta):
    """``value`` with ``delta`` added to every float, 1 to every int, bools flipped; None and str kept."""
    if isinstance(value, dict):
        return {k: _perturbed(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_perturbed(v, delta) for v in value]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + delta
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return ~value
        return value + (1 if value.dtype.kind in "iu" else delta)
    return value


def _floats(value):
    """Every finite float of ``value`` (array entries included) and every key on the way."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)
    elif isinstance(value, float):
        yield value
    elif isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        yield from (float(v) for v in value.ravel())


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _leaks(reason: str, want) -> list[str]:
    """The reference's numbers, formatted as a message might, that ``reason`` contains.

    Left out, as no lookup table can be built from them: non-finite values; integral values below
    1000 in size (0, 1, 2, ... are everywhere in messages: indices, shapes, counts); values whose
    formatting appears in a part's name (keys name the inputs on purpose, e.g. "linear(0.734, ...)");
    the perturbation sizes themselves.
    """
    labels = " ".join(_keys(want))
    found = []
    for v in set(_floats(want)):
        if not math.isfinite(v) or (v == int(v) and abs(v) < 1000):
            continue
        for text in {f"{v:.6g}", repr(v), f"{v:.3g}", f"{v:.4g}"}:
            if text in ("0.5", "-0.5", "0.03", "-0.03") or text in labels:
                continue
            if re.search(rf"(?<![\d.]){re.escape(text)}(?!\d)", reason):
                found.append(text)
    return found


@pytest.mark.parametrize("name", list(REGISTRY))
@pytest.mark.parametrize("delta", [0.5, -0.03])
def test_no_failure_message_prints_a_reference_value(name, delta):
    seed = 11  # a "private" grading seed
    want = reference_outputs(name, seed)
    reasons = []
    for got in (_perturbed(want, delta), _perturbed_one(want, delta)):
        result = {"status": "ok", "got": json.loads(checks.encode(got).decode())}
        passed, reason = judge(name, result, seed=seed, want=want)
        reasons.append(reason)
        assert not _leaks(reason, want), f"{name}: {reason!r} prints {_leaks(reason, want)}"
    assert any(reason != "correct" for reason in reasons), reasons


def _perturbed_one(want, delta):
    """Only the first numeric leaf changed (other branches of the compares)."""
    done = [False]

    def walk(value):
        if done[0]:
            return value
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, (float, np.ndarray)) and not isinstance(value, bool):
            done[0] = True
            return _perturbed(value, delta)
        return value

    return walk(want)


def test_close_and_relative_messages_give_direction_and_size_only():
    from course_lib.checks.framework import expect_close, expect_relative

    with pytest.raises(CheckFailed) as failure:
        expect_close([1.0, 2.5, 3.0], [1.0, 2.123456, 3.0], "the values")
    assert str(failure.value) == ("the values is off by up to 0.4 (allowed 1e-06); the worst entry at (1,) "
                                  "is too large")
    with pytest.raises(CheckFailed, match=r"^the value is off by up to 0\.1 \(allowed 1e-06\); it is too small$"):
        expect_close(4.7, 4.812345, "the value")
    with pytest.raises(CheckFailed, match=r"should be nan \(no value\) at \(2,\), got a number"):
        expect_close([1.0, 2.0, 3.0], [1.0, 2.0, np.nan], "the values")
    with pytest.raises(CheckFailed, match=r"has an infinity of the wrong sign at \(1,\)$"):
        expect_close([np.inf, -np.inf], [np.inf, np.inf], "the values")
    with pytest.raises(CheckFailed, match=r"^the values should be infinite at \(0,\) and 1 more$"):
        expect_close([5.0, 7.0], [np.inf, -np.inf], "the values")
    with pytest.raises(CheckFailed) as failure:
        expect_relative(123.0, 456.789, "the bound", rtol=1e-6)
    assert str(failure.value) == "the bound is off by 0.7 relative to its size (allowed 1e-06): it is too small"


@pytest.mark.parametrize("forged", [np.array([]), np.zeros((0, 3)), 1108993.0, True, None, "1108993", [1108993]],
                         ids=["empty", "empty-2d", "float", "bool", "none", "str", "list"])
def test_parameter_counts_must_be_ints(forged):
    name = "ex05_modern.head_parameter_count"
    want = reference_outputs(name)
    compare = REGISTRY[name].compare
    compare(want, want)
    with pytest.raises(CheckFailed, match="should be an int"):
        compare({what: forged for what in want}, want)
    wrong = {what: count + 1 for what, count in want.items()}
    with pytest.raises(CheckFailed, match=r"returned \d+: too many parameters for the course's head$"):
        compare(wrong, want)
