"""Deterministic policy gradient with DrQ-v2's recipe (Yarats et al. 2021): the paper's Table 1 agent.

The paper (Sec. 5.3) takes DrQ-v2 "and adopt[s] hyperparameters therein", changing only the heads.
One update, top to bottom:

1. ``update_critic``: eq. (2) without the entropy term and with **n-step returns** (n = 3):
   ``(Q_i(a_t, s_t) - [sum_{j<n} gamma^j r_{t+j} + gamma^n min_i Q_target_i(a', s_{t+n})])^2``,
   ``a' = clip(mu(s_{t+n}) + clip(eps, -c, c))``, ``eps ~ N(0, sigma(t)^2)``, c = 0.3.
2. ``update_actor``: ascend ``min_i Q_i(s, a)`` with ``a = mu(s) + clipped noise``; the gradient
   flows through the critic into the actor, **eq. (3)**.
3. ``update_target``: EMA of the critic, tau = 0.01, every update.

Exploration (**eq. 1**'s note: "DDPG typically adds the exploration noise outside the tanh"): the
actor outputs ``tanh(mu)``, noise with a scheduled std ``sigma(t) = linear(1.0 -> 0.1)`` over the
first 100k agent steps (500k for DrQ-v2's "medium" tasks) is added after it. From pixels: one
random shift per observation (K = M = 1), the encoder is trained by the critic only and shared by
the target critic (DrQ-v2 has no target encoder), and an update happens every 2nd agent step.

Saturation (Table 1's modern columns). Every actor update logs ``pre_tanh_max`` and
``saturated_frac`` (:func:`course_lib.diagnostics.saturation_metrics`). DDPG has no entropy term
pulling a saturated ``tanh(mu)`` back, and once ``|mu| > ~9`` its gradient is exactly 0 in float32.
Two options from the authors' follow-up (Bjorck, Gomes, Weinberger, ICLR 2022) are available, both
off by default: ``pnorm`` (penultimate normalization of the actor's and/or critic's heads,
:class:`course_lib.nets.PenultimateNorm`) and ``pre_tanh_penalty`` (``c * mean(mu^2)`` added to
the actor loss; the logged ``actor_loss`` is eq. (3)'s part without it).

Pixels: frames are scaled as ``x/255 - 0.5`` (DrQ-v2's encoder). n-step windows: DrQ-v2's replay
samples only full n-step windows of finished episodes; ours also samples the last ``n - 1`` steps
of an episode with a shorter window (``k < n`` rewards, discount ``gamma^k``) and the episode in
progress (see :mod:`course_lib.replay` and the fidelity notes in :mod:`course_lib.config`).

From states the course's default is 1-step returns (as DrQ-v2 itself uses on walker tasks): with
3-step returns, uncorrected for the exploration noise (std 1.0 at first), state DDPG stalled at a
return of ~150 on cartpole_swingup in 48k frames; with 1-step returns it reached ~830 (seed 1).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_lib.agents.common import (Critic, acting_mode, agent_state_dict, compile_networks,
                                      load_agent_state_dict, make_optimizer, make_step_scalers, make_target,
                                      nonfinite, obs_to_tensor, optimizer_step, soft_update, stack_views,
                                      twin_critic_loss)
from course_lib.augment import RandomShift
from course_lib.config import TrainConfig
from course_lib.diagnostics import saturation_metrics
from course_lib.nets import ConvEncoder, Trunk, make_head

__all__ = ["DDPGAgent", "DeterministicActor", "exploration_std", "noisy_action", "ddpg_target",
           "ddpg_actor_loss"]


# ------------------------------------------------------------------------------- the equations
def exploration_std(step: int, start: float, end: float, duration: int) -> float:
    """DrQ-v2's ``linear(start, end, duration)`` schedule over agent steps."""
    mix = min(max(step / duration, 0.0), 1.0)
    return (1.0 - mix) * start + mix * end


def noisy_action(mu: torch.Tensor, std: float, clip: float | None = None) -> torch.Tensor:
    """``mu + eps``, ``eps ~ N(0, std^2)`` (clipped to ``[-clip, clip]`` if given), kept in ``[-1, 1]``.

    As DrQ-v2's ``TruncatedNormal.sample``: the final clamp passes gradients straight through
    (``x - x.detach() + clamped.detach()``), so the actor's gradient (eq. 3) is never cut off.
    """
    eps = torch.randn_like(mu) * std
    if clip is not None:
        eps = eps.clamp(-clip, clip)
    x = mu + eps
    clamped = x.clamp(-1.0 + 1e-6, 1.0 - 1e-6)
    return x - x.detach() + clamped.detach()


def ddpg_target(reward: torch.Tensor, discount: torch.Tensor, next_q1: torch.Tensor,
                next_q2: torch.Tensor) -> torch.Tensor:
    """The bracket of eq. (2) for DDPG: ``r^(n) + discount * min(Q1', Q2')`` (no entropy term).

    With n-step replay, ``reward`` is the discounted n-step sum and ``discount`` is ``gamma^n``
    (times dm_control's discounts), as the replay buffer returns them.
    """
    return reward + discount * torch.min(next_q1, next_q2)


def ddpg_actor_loss(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """``-E[min(Q1, Q2)(s, a)]`` with ``a`` from the actor: its gradient is eq. (3)."""
    return -torch.min(q1, q2).mean()


# ------------------------------------------------------------------------------- the networks
class DeterministicActor(nn.Module):
    """``features -> tanh(mu)`` in ``[-1, 1]^d``; exploration noise is added outside (eq. 1's note)."""

    def __init__(self, in_dim: int, action_dim: int, config: TrainConfig, pixels: bool):
        super().__init__()
        self.trunk = Trunk(in_dim, config.feature_dim) if pixels else nn.Identity()
        head_in = config.feature_dim if pixels else in_dim
        self.head = make_head(config.actor_arch, head_in, action_dim, config.hidden_dim,
                              config.actor_depth, config.actor_sn, penultimate_norm=config.actor_pnorm)

    def pre_tanh(self, features: torch.Tensor) -> torch.Tensor:
        """``mu`` before the tanh (what saturates, and what the pre-tanh penalty acts on)."""
        return self.head(self.trunk(features))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.pre_tanh(features))


# ------------------------------------------------------------------------------- the agent
class DDPGAgent:
    """DrQ-v2: DDPG from states or pixels, with heads chosen by ``config`` (arch, depth, sn per network).

    Same interface as :class:`course_lib.agents.sac.SACAgent`.
    """

    name = "ddpg"

    def __init__(self, config: TrainConfig, obs_shape: tuple[int, ...], action_dim: int, device: torch.device):
        self.config = config
        self.device = torch.device(device)
        self.pixels = config.obs == "pixels"
        self.action_dim = action_dim
        self.updates = 0

        if self.pixels:
            self.encoder = ConvEncoder(obs_shape).to(self.device)
            self.augment = RandomShift(config.augment_pad)
            in_dim = self.encoder.out_dim
        else:
            self.encoder = self.augment = None
            in_dim = obs_shape[0]
        self.actor = DeterministicActor(in_dim, action_dim, config, self.pixels).to(self.device)
        self.critic = Critic(in_dim, action_dim, config, self.pixels).to(self.device)
        self.critic_target = make_target(self.critic)
        if config.compile:  # after the targets are copied, so each network compiles its own forward
            compile_networks(*self.networks().values())

        critic_params = list(self.critic.parameters())
        if self.pixels:
            critic_params += list(self.encoder.parameters())  # the encoder learns from eq. (2) only
        self.critic_params = critic_params
        critic_heads, actor_heads = [self.critic.q1, self.critic.q2], [self.actor.head]
        self.critic_opt = make_optimizer(critic_params, critic_heads, config, config.lr)
        self.actor_opt = make_optimizer(self.actor.parameters(), actor_heads, config, config.lr)
        # Controls of the pre-registered experiment (results/prereg), off by default.
        self.step_scalers = make_step_scalers(config, critic_heads, actor_heads)

    def std(self, step: int) -> float:
        c = self.config
        return exploration_std(step, c.std_start, c.std_end, c.std_decay_steps)

    # --------------------------------------------------------------------------- acting
    def act(self, obs: np.ndarray, step: int, eval_mode: bool) -> np.ndarray:
        """Evaluation: ``tanh(mu)``; training: plus unclipped noise of the scheduled std (DrQ-v2)."""
        with acting_mode(self.encoder, self.actor):
            features = obs_to_tensor(obs, self.device)
            if self.pixels:
                features = self.encoder(features)
            mu = self.actor(features)
            action = mu if eval_mode else noisy_action(mu, self.std(step))
        return action[0].cpu().numpy()

    # --------------------------------------------------------------------------- learning
    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """One DrQ-v2 update at agent step ``step`` (which sets the exploration std)."""
        obs, action, reward, discount, next_obs = (batch[k] for k in ("obs", "action", "reward", "discount", "next_obs"))
        k, m = self.config.target_augs, self.config.critic_augs
        if self.pixels:
            features = self.encoder(self.augment(stack_views(obs, m)))
            with torch.no_grad():  # DrQ-v2: the online encoder also encodes s' for the target
                next_features = self.encoder(self.augment(stack_views(next_obs, k)))
        else:
            features = stack_views(obs, m)
            next_features = stack_views(next_obs, k)
        std = self.std(step)

        metrics = self.update_critic(features, action, reward, discount, next_features, std)
        self.updates += 1
        if self.updates % self.config.actor_update_every == 0:
            actor_metrics = self.update_actor(features[: obs.shape[0]].detach(), std)
            actor_metrics["nonfinite"] = actor_metrics["nonfinite"] | metrics["nonfinite"]
            metrics.update(actor_metrics)
        if self.updates % self.config.target_update_every == 0:
            self.update_target()
        return metrics

    def update_critic(self, features, action, reward, discount, next_features, std):
        """Eq. (2) with n-step returns and target policy smoothing (clipped noise on a')."""
        batch = action.shape[0]
        k, m = self.config.target_augs, self.config.critic_augs
        with torch.no_grad():
            next_action = noisy_action(self.actor(next_features), std, self.config.std_clip)
            next_q1, next_q2 = self.critic_target(next_features, next_action)
            target = ddpg_target(stack_views(reward, k), stack_views(discount, k), next_q1, next_q2)
            target = target.view(k, batch, 1).mean(0)

        q1, q2 = self.critic(features, stack_views(action, m))
        critic_loss = twin_critic_loss(q1, q2, target, m)
        critic_grad_norm = optimizer_step(self.critic_opt, critic_loss, self.critic_params,
                                          self.step_scalers.get("critic_scaler"))
        return {"critic_loss": critic_loss.detach(), "q_mean": q1[:batch].detach().mean(),
                "critic_grad_norm": critic_grad_norm,
                "nonfinite": nonfinite(critic_loss.detach(), critic_grad_norm)}

    def update_actor(self, features, std):
        """Eq. (3): the actor's gradient is ``dQ/da * da/dtheta``, taken through the critic.

        With ``pre_tanh_penalty = c > 0`` the actor minimizes ``actor_loss + c * mean(mu^2)``.
        """
        pre_tanh = self.actor.pre_tanh(features)
        action = noisy_action(torch.tanh(pre_tanh), std, self.config.std_clip)
        q1, q2 = self.critic(features, action)
        actor_loss = ddpg_actor_loss(q1, q2)
        loss = actor_loss
        if self.config.pre_tanh_penalty > 0:
            loss = actor_loss + self.config.pre_tanh_penalty * pre_tanh.pow(2).mean()

        actor_grad_norm = optimizer_step(self.actor_opt, loss, self.actor.parameters(),  # critic: the path
                                         self.step_scalers.get("actor_scaler"))
        return {"actor_loss": actor_loss.detach(), "actor_grad_norm": actor_grad_norm,
                **saturation_metrics(pre_tanh),
                "nonfinite": nonfinite(actor_loss.detach(), actor_grad_norm)}

    def update_target(self) -> None:
        """EMA of the critic (trunk and heads): ``target <- (1 - tau) target + tau online``."""
        soft_update(self.critic_target, self.critic, self.config.tau)

    # --------------------------------------------------------------------------- bookkeeping
    def networks(self) -> dict[str, nn.Module]:
        nets = {"actor": self.actor, "critic": self.critic, "critic_target": self.critic_target}
        if self.pixels:
            nets["encoder"] = self.encoder
        return nets

    def head_modules(self) -> dict[str, nn.Module]:
        """The heads whose layers' spectral norms are logged."""
        return {"critic/q1": self.critic.q1, "critic/q2": self.critic.q2, "actor": self.actor.head}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"critic_opt": self.critic_opt, "actor_opt": self.actor_opt}

    def state_dict(self) -> dict:
        return agent_state_dict(self)

    def load_state_dict(self, state: dict) -> None:
        load_agent_state_dict(self, state)
