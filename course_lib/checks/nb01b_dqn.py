"""Checks of notebook 01b · DQN (solutions/ex01b_dqn.py)."""
from __future__ import annotations

from .framework import CheckFailed, register


def _seeds(rng, n: int) -> list[int]:
    return [int(s) for s in rng.integers(0, 2**31, size=n)]


def _networks_and_batch(seed: int, n_features: int = 3, n_actions: int = 4, size: int = 12):
    """Two small Q-networks (online, target) in float64 and a batch with some finished episodes."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    online, target = (nn.Sequential(nn.Linear(n_features, 8), nn.ReLU(), nn.Linear(8, n_actions)).double()
                      for _ in range(2))
    g = torch.Generator().manual_seed(seed)
    batch = {"features": torch.randn(size, n_features, generator=g, dtype=torch.float64),
             "action": torch.randint(0, n_actions, (size,), generator=g),
             "reward": torch.randn(size, generator=g, dtype=torch.float64),
             "next_features": torch.randn(size, n_features, generator=g, dtype=torch.float64),
             "done": (torch.rand(size, generator=g) < 0.3).double()}
    return online, target, batch


@register("ex01b_dqn.dqn_loss", points=1, atol=1e-9, difficulty=2)
def _probe_dqn_loss(fn, rng):
    import torch

    out = {}
    for i, (seed, gamma) in enumerate(zip(_seeds(rng, 2), (0.9, 0.99))):
        online, target, batch = _networks_and_batch(seed)
        for label, frozen in (("with a target network", target), ("without one (target_net = q_net)", online)):
            loss = fn(online, frozen, batch, gamma)
            if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
                raise CheckFailed(f"the loss should be a 0-d tensor, got {type(loss).__name__} "
                                  f"{tuple(getattr(loss, 'shape', ()))}")
            if not loss.requires_grad:
                raise CheckFailed("the loss carries no gradient to q_net: only the label is computed without one")
            online.zero_grad()
            target.zero_grad()
            loss.backward()
            if frozen is target and any(p.grad is not None and p.grad.abs().sum() > 0 for p in target.parameters()):
                raise CheckFailed("a gradient reached target_net: compute the label under torch.no_grad()")
            out[f"the loss {label} (batch {i + 1})"] = loss.detach()
            for name, p in online.named_parameters():
                if p.grad is None:
                    raise CheckFailed(f"no gradient reaches q_net's {name}")
                out[f"the gradient w.r.t. q_net's {name} {label} (batch {i + 1})"] = p.grad.clone()
    return out
