"""Soft actor-critic with DrQ's recipe (Kostrikov, Yarats, Fergus 2020): the paper's main agent.

The paper (Sec. 2.2, 3.1) adopts DrQ and changes only the heads. One update, top to bottom:

1. ``update_critic``: the soft Bellman residual of **eq. (2)**,
   ``(Q(a, s_t) - [r_t + gamma (min_i Q_target_i(a', s_{t+1}) - alpha log pi(a'|s_{t+1}))])^2``
   with ``a' ~ pi(s_{t+1})``, for both critics. From pixels DrQ averages that target over K=2
   random shifts of ``s_{t+1}`` and sums the loss over M=2 random shifts of ``s_t``.
2. ``update_actor`` (every 2nd update): the actor samples ``a = tanh(mu + eps * sigma)``
   (**eq. 1**) with the reparametrization trick and ascends ``min_i Q_i(a, s) - alpha log pi(a|s)``;
   the gradient flows *through* the critic into the actor, **eq. (3)** -- exactly the path the paper
   shows can explode with deep heads. The temperature alpha is tuned towards entropy ``-|A|``
   (or held fixed with ``--fixed-alpha``).
3. ``update_target`` (every 2nd update): EMA of critic and encoder weights, tau = 0.01.

The conv encoder (pixels) is trained by the critic loss only; the actor reads its features
detached. Pixels are scaled as ``x/255`` (DrQ's ``Encoder.forward_conv``; DDPG uses DrQ-v2's
``x/255 - 0.5``). Every actor update logs the saturation of ``tanh(mu)`` (``pre_tanh_max``,
``saturated_frac``, :func:`course_lib.diagnostics.saturation_metrics`); the options ``pnorm``
(penultimate normalization) and ``pre_tanh_penalty`` (``c * mean(mu^2)`` added to the actor loss,
on the Gaussian's mean) from Bjorck et al. (ICLR 2022) are off by default. Differences from DrQ's
code, all deliberate and small: the K (and M) augmented copies are
batched into one forward pass; the actor update reuses the conv features computed for the critic
update (DrQ recomputes them after the critic step).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.agents.common import (Critic, acting_mode, agent_state_dict, compile_networks,
                                      load_agent_state_dict, make_optimizer, make_step_scalers, make_target,
                                      nonfinite, obs_to_tensor, optimizer_step, soft_update, stack_views,
                                      twin_critic_loss)
from course_lib.augment import RandomShift
from course_lib.config import TrainConfig
from course_lib.diagnostics import saturation_metrics
from course_lib.nets import ConvEncoder, Trunk, make_head

__all__ = ["SACAgent", "GaussianActor", "squashed_gaussian_log_prob", "sample_squashed_gaussian",
           "soft_bellman_target", "sac_actor_loss", "temperature_loss"]


# ------------------------------------------------------------------------------- the equations
def squashed_gaussian_log_prob(pre_tanh: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """``log pi(a|s)`` of ``a = tanh(u)``, ``u ~ N(mu, sigma^2)`` (eq. 1), summed over action dims.

    Change of variables: ``log pi(a) = log N(u; mu, sigma) - sum_j log(1 - tanh(u_j)^2)``. The
    correction is computed as ``2 (log 2 - u - softplus(-2u))``, the same quantity written so that
    it stays finite when ``|u|`` is large (where ``1 - tanh(u)^2`` underflows to 0).
    Returns shape ``(batch, 1)``.
    """
    gaussian = -0.5 * ((pre_tanh - mu) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    tanh_correction = 2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))
    return (gaussian - tanh_correction).sum(dim=-1, keepdim=True)


def sample_squashed_gaussian(mu: torch.Tensor, log_std: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (1): ``a = tanh(mu + eps * sigma)``, ``eps ~ N(0, 1)``, and its log-probability.

    Reparametrized (the sample is a differentiable function of ``mu`` and ``sigma``), which is what
    lets eq. (3) take the actor's gradient through the critic.
    """
    pre_tanh = mu + torch.randn_like(mu) * log_std.exp()
    return torch.tanh(pre_tanh), squashed_gaussian_log_prob(pre_tanh, mu, log_std)


def soft_bellman_target(reward: torch.Tensor, discount: torch.Tensor, next_q1: torch.Tensor,
                        next_q2: torch.Tensor, next_log_prob: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """The bracket of eq. (2): ``r + discount * (min(Q1', Q2') - alpha * log pi(a'|s'))``.

    ``discount`` is what the replay buffer returns: ``gamma`` times dm_control's discount (1 at
    time limits, so the agent bootstraps there). ``-alpha log pi`` is the entropy bonus
    ``alpha H(pi)`` of eq. (2), estimated with the sampled ``a'``. All inputs ``(batch, 1)``.
    """
    soft_value = torch.min(next_q1, next_q2) - alpha * next_log_prob
    return reward + discount * soft_value


def sac_actor_loss(q1: torch.Tensor, q2: torch.Tensor, log_prob: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """SAC's actor loss ``E[alpha log pi(a|s) - min(Q1, Q2)(s, a)]`` with ``a`` from eq. (1).

    Its gradient w.r.t. the actor flows through ``Q(s, a)`` into ``a``: eq. (3).
    """
    return (alpha * log_prob - torch.min(q1, q2)).mean()


def temperature_loss(log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """Alpha's loss ``E[alpha (-log pi - H_target)]``: alpha grows when entropy is below target."""
    return (log_alpha.exp() * (-log_prob - target_entropy).detach()).mean()


# ------------------------------------------------------------------------------- the networks
class GaussianActor(nn.Module):
    """``features -> (mu, log_std)`` of eq. (1); ``log_std`` squashed into ``[log_std_min, log_std_max]``."""

    def __init__(self, in_dim: int, action_dim: int, config: TrainConfig, pixels: bool):
        super().__init__()
        self.trunk = Trunk(in_dim, config.feature_dim) if pixels else nn.Identity()
        head_in = config.feature_dim if pixels else in_dim
        self.head = make_head(config.actor_arch, head_in, 2 * action_dim, config.hidden_dim,
                              config.actor_depth, config.actor_sn, penultimate_norm=config.actor_pnorm)
        self.log_std_min, self.log_std_max = config.log_std_min, config.log_std_max

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_std = self.head(self.trunk(features)).chunk(2, dim=-1)
        # DrQ: a tanh keeps log_std in bounds smoothly (no dead gradient as with clamping).
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (torch.tanh(log_std) + 1)
        return mu, log_std


# ------------------------------------------------------------------------------- the agent
class SACAgent:
    """DrQ: SAC from states or pixels, with heads chosen by ``config`` (arch, depth, sn per network).

    ``act(obs, step, eval_mode)`` returns an action in ``[-1, 1]^d``; ``update(batch, step)`` runs
    one update on a batch of tensors (``obs, action, reward, discount, next_obs``) and returns the
    diagnostics as tensors on the device (pulled to the host only when they are logged).
    """

    name = "sac"

    def __init__(self, config: TrainConfig, obs_shape: tuple[int, ...], action_dim: int, device: torch.device,
                 critic_spectral_norm_fn=None):
        """``critic_spectral_norm_fn(linear) -> module``: optional, a hand-written SN for the critic's
        normalized layers (notebook 04's capstone; needs ``config.sn``); None: the library's."""
        self.config = config
        self.device = torch.device(device)
        self.pixels = config.obs == "pixels"
        self.action_dim = action_dim
        self.target_entropy = -float(action_dim)  # SAC's heuristic -|A|
        self.updates = 0  # number of update() calls so far (sets the actor/target rhythm)

        if self.pixels:
            self.encoder = ConvEncoder(obs_shape, scaling="unit").to(self.device)  # DrQ: x / 255
            self.encoder_target = make_target(self.encoder)  # DrQ: the target critic has its own encoder
            self.augment = RandomShift(config.augment_pad)
            in_dim = self.encoder.out_dim
        else:
            self.encoder = self.encoder_target = self.augment = None
            in_dim = obs_shape[0]
        self.actor = GaussianActor(in_dim, action_dim, config, self.pixels).to(self.device)
        self.critic = Critic(in_dim, action_dim, config, self.pixels, critic_spectral_norm_fn).to(self.device)
        self.critic_target = make_target(self.critic)
        if config.compile:  # after the targets are copied, so each network compiles its own forward
            compile_networks(*self.networks().values())
        self.log_alpha = torch.tensor(math.log(config.init_temperature), device=self.device, requires_grad=True)

        critic_params = list(self.critic.parameters())
        if self.pixels:
            critic_params += list(self.encoder.parameters())  # the encoder learns from eq. (2) only
        self.critic_params = critic_params
        critic_heads, actor_heads = [self.critic.q1, self.critic.q2], [self.actor.head]
        self.critic_opt = make_optimizer(critic_params, critic_heads, config, config.lr)
        self.actor_opt = make_optimizer(self.actor.parameters(), actor_heads, config, config.lr)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=config.lr, fused=True)
        # Controls of the pre-registered experiment (results/prereg), off by default.
        self.step_scalers = make_step_scalers(config, critic_heads, actor_heads)

    @property
    def alpha(self) -> torch.Tensor:
        return self.log_alpha.exp()

    # --------------------------------------------------------------------------- acting
    def act(self, obs: np.ndarray, step: int, eval_mode: bool) -> np.ndarray:
        """Evaluation: the mean action ``tanh(mu)``; training: a sample from eq. (1)."""
        with acting_mode(self.encoder, self.actor):
            features = obs_to_tensor(obs, self.device)
            if self.pixels:
                features = self.encoder(features)
            mu, log_std = self.actor(features)
            # Eq. (1)'s sample without its log-probability, which acting does not need (the same
            # draw as sample_squashed_gaussian; and notebook 06's capstone trains with the library's
            # log-probability stubbed, as an exercise's answer).
            action = torch.tanh(mu) if eval_mode else torch.tanh(mu + torch.randn_like(mu) * log_std.exp())
        return action[0].cpu().numpy()

    # --------------------------------------------------------------------------- learning
    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """One DrQ update. ``step`` (agent steps so far) is unused by SAC; DDPG's schedule needs it."""
        c = self.config
        obs, action, reward, discount, next_obs = (batch[k] for k in ("obs", "action", "reward", "discount", "next_obs"))
        k, m = c.target_augs, c.critic_augs
        if self.pixels:
            # M random shifts of s_t (trained through), K of s_{t+1} (targets only).
            features = self.encoder(self.augment(stack_views(obs, m)))
            with torch.no_grad():
                next_views = self.augment(stack_views(next_obs, k))
                next_features = self.encoder(next_views)               # the actor's view of s_{t+1}
                next_features_target = self.encoder_target(next_views)  # the target critic's view
        else:
            features = stack_views(obs, m)
            next_features = next_features_target = stack_views(next_obs, k)

        metrics = self.update_critic(features, action, reward, discount, next_features, next_features_target)
        self.updates += 1
        if self.updates % c.actor_update_every == 0:
            # The actor sees the first view's conv features, detached: the encoder learns from eq. (2) only.
            actor_metrics = self.update_actor(features[: obs.shape[0]].detach())
            actor_metrics["nonfinite"] = actor_metrics["nonfinite"] | metrics["nonfinite"]
            metrics.update(actor_metrics)
        if self.updates % c.target_update_every == 0:
            self.update_target()
        return metrics

    def update_critic(self, features, action, reward, discount, next_features, next_features_target):
        """Eq. (2): regress both critics on the soft Bellman target, averaged over K views of s'."""
        batch = action.shape[0]
        k, m = self.config.target_augs, self.config.critic_augs
        with torch.no_grad():
            mu, log_std = self.actor(next_features)
            next_action, next_log_prob = sample_squashed_gaussian(mu, log_std)  # a' ~ pi(s'), eq. (1)
            next_q1, next_q2 = self.critic_target(next_features_target, next_action)
            target = soft_bellman_target(stack_views(reward, k), stack_views(discount, k), next_q1, next_q2,
                                         next_log_prob, self.alpha)
            target = target.view(k, batch, 1).mean(0)  # DrQ: average over the K augmentations

        q1, q2 = self.critic(features, stack_views(action, m))
        # DrQ sums the two critics' mean squared errors over the M augmentations.
        critic_loss = twin_critic_loss(q1, q2, target, m)
        critic_grad_norm = optimizer_step(self.critic_opt, critic_loss, self.critic_params,
                                          self.step_scalers.get("critic_scaler"))
        return {"critic_loss": critic_loss.detach(), "q_mean": q1[:batch].detach().mean(),
                "critic_grad_norm": critic_grad_norm,
                "nonfinite": nonfinite(critic_loss.detach(), critic_grad_norm)}

    def update_actor(self, features):
        """Eq. (3): ascend ``min Q(s, a) - alpha log pi`` through the critic; then tune alpha."""
        mu, log_std = self.actor(features)
        action, log_prob = sample_squashed_gaussian(mu, log_std)
        q1, q2 = self.critic(features, action)
        actor_loss = sac_actor_loss(q1, q2, log_prob, self.alpha.detach())
        loss = actor_loss
        if self.config.pre_tanh_penalty > 0:  # Bjorck et al. 2022, on the mean of eq. (1)'s Gaussian
            loss = actor_loss + self.config.pre_tanh_penalty * mu.pow(2).mean()

        # Only the actor's parameters get gradients; the critic is just the path (eq. 3).
        actor_grad_norm = optimizer_step(self.actor_opt, loss, self.actor.parameters(),
                                         self.step_scalers.get("actor_scaler"))

        if not self.config.fixed_alpha:  # --fixed-alpha: alpha stays at --init-temperature
            alpha_loss = temperature_loss(self.log_alpha, log_prob, self.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_opt.step()
        return {"actor_loss": actor_loss.detach(), "actor_grad_norm": actor_grad_norm,
                "alpha": self.alpha.detach(), **saturation_metrics(mu),
                "nonfinite": nonfinite(actor_loss.detach(), actor_grad_norm, self.log_alpha.detach())}

    def update_target(self) -> None:
        """EMA of the critic (DrQ: with its encoder): ``target <- (1 - tau) target + tau online``."""
        soft_update(self.critic_target, self.critic, self.config.tau)
        if self.pixels:
            soft_update(self.encoder_target, self.encoder, self.config.tau)

    # --------------------------------------------------------------------------- bookkeeping
    def networks(self) -> dict[str, nn.Module]:
        nets = {"actor": self.actor, "critic": self.critic, "critic_target": self.critic_target}
        if self.pixels:
            nets.update(encoder=self.encoder, encoder_target=self.encoder_target)
        return nets

    def head_modules(self) -> dict[str, nn.Module]:
        """The heads whose layers' spectral norms are logged: ``{"critic/q1": ..., "actor": ...}``."""
        return {"critic/q1": self.critic.q1, "critic/q2": self.critic.q2, "actor": self.actor.head}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"critic_opt": self.critic_opt, "actor_opt": self.actor_opt, "alpha_opt": self.alpha_opt}

    def state_dict(self) -> dict:
        return {**agent_state_dict(self), "log_alpha": self.log_alpha.detach().clone()}

    def load_state_dict(self, state: dict) -> None:
        load_agent_state_dict(self, state)
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
