"""Checks of notebook 02 · Actor-critic: SAC and DDPG (solutions/ex02_actor_critic.py)."""
from __future__ import annotations

import numpy as np

from .framework import CheckFailed, expect_close, register


def replay_batch(seed: int, batch: int = 6):
    """Seeded (B, 1) tensors of a replay batch in float64: reward, discount, two target Q's, log pi."""
    import torch

    g = torch.Generator().manual_seed(seed)
    reward = torch.rand(batch, 1, generator=g, dtype=torch.float64)
    discount = 0.99 * (torch.rand(batch, 1, generator=g, dtype=torch.float64) > 0.2)  # some terminal
    next_q1 = 10 * torch.randn(batch, 1, generator=g, dtype=torch.float64)
    next_q2 = 10 * torch.randn(batch, 1, generator=g, dtype=torch.float64)
    next_log_prob = torch.randn(batch, 1, generator=g, dtype=torch.float64)
    return reward, discount, next_q1, next_q2, next_log_prob


def _seeds(rng, n: int) -> list[int]:
    return [int(s) for s in rng.integers(0, 2**31, size=n)]


@register("ex02_actor_critic.soft_bellman_target", points=1, atol=1e-9, difficulty=1)
def _probe_soft_bellman_target(fn, rng):
    import torch

    out = {}
    for seed, alpha in zip(_seeds(rng, 3), (0.1, torch.tensor(0.5, dtype=torch.float64), 0.0)):
        args = replay_batch(seed)
        out[f"the target with alpha={float(alpha):g}"] = fn(*args, alpha)
    return out


def _compare_squashed(got, want):
    try:
        expect_close(got["moderate"], want["moderate"], "log pi(a|s) for moderate pre-tanh values", atol=1e-3)
    except CheckFailed:
        close = np.asarray(got["moderate"], dtype=float).shape == want["gaussian only"].shape and \
            np.allclose(np.asarray(got["moderate"], dtype=float), want["gaussian only"], atol=1e-3)
        if close:
            raise CheckFailed("you return the Gaussian log-density of u only: subtract the tanh "
                              "correction sum_j log(1 - tanh(u_j)^2)") from None
        raise
    # Large |u|: 1 - tanh(u)^2 underflows; a stable form keeps the answer finite and exact.
    expect_close(got["large"], want["large"], "log pi(a|s) for large |u| (12 and more, where 1 - tanh(u)^2 "
                 "rounds to 0: rewrite log(1 - tanh(u)^2) in a form that stays finite)", atol=1e-6)


@register("ex02_actor_critic.squashed_gaussian_log_prob", points=2, compare=_compare_squashed, difficulty=3)
def _probe_squashed_gaussian_log_prob(fn, rng):
    import torch

    g = torch.Generator().manual_seed(_seeds(rng, 1)[0])
    mu = torch.randn(32, 3, generator=g, dtype=torch.float64)
    log_std = torch.empty(32, 3, dtype=torch.float64).uniform_(-2.0, 0.5, generator=g)
    pre_tanh = (mu + log_std.exp() * torch.randn(32, 3, generator=g, dtype=torch.float64)).clamp(-3, 3)
    moderate = fn(pre_tanh.clone(), mu.clone(), log_std.clone())
    gaussian_only = torch.distributions.Normal(mu, log_std.exp()).log_prob(pre_tanh).sum(-1, keepdim=True)
    signs = torch.where(torch.rand(2, 2, generator=g) < 0.5, -1.0, 1.0).double()
    big = signs * (12 + 8 * torch.rand(2, 2, generator=g, dtype=torch.float64))
    big[1, 0] = 0.5  # one moderate entry in the same batch
    large = fn(big.clone(), big - signs, torch.zeros(2, 2, dtype=torch.float64))
    return {"moderate": moderate, "gaussian only": gaussian_only, "large": large}


def _actor_and_critic(seed: int, in_dim: int = 5, action_dim: int = 2):
    """A small actor ``tanh(W s + b)`` and twin critics whose minimum switches between them."""
    from collections import OrderedDict

    import torch
    from torch import nn

    class TwinCritic(nn.Module):
        def __init__(self):
            super().__init__()
            self.q1 = nn.Linear(in_dim + action_dim, 1)
            self.q2 = nn.Linear(in_dim + action_dim, 1)

        def forward(self, features, action):
            x = torch.cat([features, action], dim=-1)
            return self.q1(x) - (action ** 2).sum(-1, keepdim=True), self.q2(x) + 0.1 * action[:, :1]

    torch.manual_seed(seed)
    actor = nn.Sequential(OrderedDict(linear=nn.Linear(in_dim, action_dim), tanh=nn.Tanh()))
    return actor, TwinCritic()


@register("ex02_actor_critic.ddpg_actor_loss", points=1, atol=1e-5, difficulty=1)
def _probe_ddpg_actor_loss(fn, rng):
    import torch

    out = {}
    for i, seed in enumerate(_seeds(rng, 2)):
        actor, critic = _actor_and_critic(seed)
        features = torch.randn(16, 5, generator=torch.Generator().manual_seed(seed))
        loss = fn(actor, critic, features)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise CheckFailed(f"the loss should be a 0-d tensor, got {type(loss).__name__} "
                              f"{tuple(getattr(loss, 'shape', ()))}")
        if not loss.requires_grad:
            raise CheckFailed("the loss carries no gradient to the actor: do not detach the action; "
                              "eq. (3) differentiates Q(s, mu(s)) through the critic into the actor")
        out[f"the loss (batch {i + 1})"] = loss
        grads = torch.autograd.grad(loss, list(actor.parameters()), allow_unused=True)
        for (name, _), grad in zip(actor.named_parameters(), grads):
            if grad is None:
                raise CheckFailed(f"no gradient reaches the actor's {name}: the action must stay "
                                  "attached to the actor (eq. 3)")
            out[f"the gradient of the loss w.r.t. the actor's {name} (batch {i + 1})"] = grad
    return out


def _compare_soft_update(got, want):
    if list(got) != list(want):
        raise CheckFailed(f"the target network should keep its entries {list(want)}")
    for what, ref in want.items():
        if "buffer" in what and not np.array_equal(np.asarray(got[what]), ref):
            raise CheckFailed(f"the {what} changed: average parameters only, buffers (spectral "
                              "norm's u, v) stay the target's own")
        expect_close(got[what], ref, f"the {what}", atol=1e-6)


@register("ex02_actor_critic.soft_update", points=1, compare=_compare_soft_update, difficulty=2)
def _probe_soft_update(fn, rng):
    import copy

    import torch

    from course_lib.nets import make_head

    out = {}
    for tau, seed in zip((0.01, 0.5, 1.0), _seeds(rng, 3)):
        torch.manual_seed(seed)
        online = make_head("mlp", 6, 2, 16, depth=3, spectral_norm=True)
        target = copy.deepcopy(online)
        with torch.no_grad():
            for p in target.parameters():
                p.add_(torch.randn_like(p))
            online(torch.randn(4, 6))  # the online network's power iteration moves its u, v buffers
        online_before = copy.deepcopy(online.state_dict())
        fn(target, online, tau)
        params = {n for n, _ in target.named_parameters()}
        for name, value in target.state_dict().items():
            kind = "parameter" if name in params else "buffer"
            out[f"target {kind} {name} after tau={tau:g}"] = value
        for name, value in online.state_dict().items():
            if not torch.equal(value, online_before[name]):
                raise CheckFailed(f"soft_update changed the online network's {name}; only the target changes")
        if any(p.grad_fn is not None for p in target.parameters()):
            raise CheckFailed("the target's parameters now carry autograd history: update them under "
                              "torch.no_grad()")
    return out


# --- the maximum-entropy objective: the soft value and the temperature -------------------------

@register("ex02_actor_critic.soft_value", points=1, atol=1e-8, difficulty=2)
def _probe_soft_value(fn, rng):
    out = {}
    for alpha in (1.0, 0.1, 0.01):
        Q = rng.normal(size=(5, 4))
        out[f"soft_value of a 5x4 Q table with alpha={alpha:g}"] = np.asarray(fn(Q.copy(), alpha), dtype=float)
    Q = 500 * rng.normal(size=(3, 6))
    out["soft_value with Q / alpha in the tens of thousands (subtract the row max first)"] = \
        np.asarray(fn(Q.copy(), 0.01), dtype=float)
    return out


@register("ex02_actor_critic.temperature_loss", points=1, difficulty=1)
def _probe_temperature_loss(fn, rng):
    import torch

    out = {}
    g = torch.Generator().manual_seed(_seeds(rng, 1)[0])
    for action_dim, start in ((1, 0.1), (6, 1.0)):
        log_alpha = torch.tensor(float(np.log(start)) + 0.1 * float(rng.normal()), dtype=torch.float64,
                                 requires_grad=True)
        actor_out = torch.randn(8, 1, generator=g, dtype=torch.float64, requires_grad=True)
        log_prob = 2.0 * actor_out - action_dim  # a log pi that depends on actor weights
        loss = fn(log_alpha, log_prob, -float(action_dim))
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise CheckFailed("temperature_loss should return a 0-d tensor (the batch mean)")
        loss.backward()
        if log_alpha.grad is None:
            raise CheckFailed("no gradient reached log_alpha: compute alpha as log_alpha.exp()")
        if actor_out.grad is not None and actor_out.grad.abs().max() > 0:
            raise CheckFailed("the temperature loss sent a gradient into the actor: detach log_prob")
        case = f"|A|={action_dim}, alpha near {start:g}"
        out[f"loss ({case})"] = loss.detach()
        out[f"d loss / d log_alpha ({case})"] = log_alpha.grad
    return out


@register("ex02_actor_critic.smoothed_target_action", points=1, difficulty=1)
def _probe_smoothed_target_action(fn, rng):
    import torch

    g = torch.Generator().manual_seed(_seeds(rng, 1)[0])
    out = {}
    for std, clip in ((0.1, 0.3), (1.0, 0.3), (0.5, 0.05)):
        mu = torch.tanh(2 * torch.randn(32, 2, generator=g, dtype=torch.float64))  # many near the bounds
        noise = std * torch.randn(32, 2, generator=g, dtype=torch.float64)
        out[f"a' for noise std {std:g}, clip {clip:g}"] = fn(mu.clone(), noise.clone(), clip)
    return out
