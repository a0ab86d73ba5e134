"""Checks of notebook 08 · Diagnosing instability (solutions/ex08_diagnostics.py)."""
from __future__ import annotations

import numpy as np

from .framework import as_float, register


@register("ex08_diagnostics.global_grad_norm", points=1, atol=1e-5, difficulty=1)
def _probe_global_grad_norm(fn, rng):
    import torch

    from course_lib.nets import make_head

    torch.manual_seed(int(rng.integers(2**31)))
    head = make_head("modern", 6, 1, hidden_dim=8, depth=2)
    unused = torch.nn.Parameter(torch.ones(3))  # never in the loss: its .grad stays None
    head(torch.randn(16, 6)).square().mean().backward()
    params = [*head.parameters(), unused]
    single = torch.nn.Parameter(torch.zeros(2))
    single.grad = torch.as_tensor(rng.normal(size=2) * 4, dtype=torch.float32)
    return {
        # an iterator, as module.parameters() is: go through it once
        "the gradient norm of a modern head": as_float(fn(iter(params)), "the gradient norm"),
        "the norm of the gradient of one 2-vector": as_float(fn([single]), "the gradient norm"),
        "the norm when no parameter has a gradient (skip .grad None)": as_float(fn([unused]), "the gradient norm"),
    }


@register("ex08_diagnostics.orders_of_magnitude_per_1000_frames", points=1, atol=1e-6, difficulty=2)
def _probe_orders_of_magnitude(fn, rng):
    frames = np.arange(5000, 13000, 250)
    out = {}
    for rate in (2.0, 0.0, -0.3):  # decades per 1,000 frames
        values = 1.7 * 10 ** (rate * (frames - frames[0]) / 1000 + rng.normal(0, 0.1, len(frames)))
        out[f"the slope of a norm growing {rate:g} decades per 1,000 frames"] = as_float(
            fn(frames.copy(), values), "the slope")
    crashed = float(rng.uniform(0.5, 5)) * 10.0 ** (frames / 1000)
    crashed[-3:] = [np.inf, np.nan, -1.0]  # a crash: only finite, positive values count
    out["the slope when the last rows are inf, NaN and negative (leave them out)"] = as_float(
        fn(frames.copy(), crashed), "the slope")
    out["the slope with one usable value (should be nan)"] = as_float(fn(frames[:2].copy(), [5.0, np.nan]),
                                                                      "the slope")
    return out


@register("ex08_diagnostics.actor_gradient_by_chain_rule", points=1, atol=1e-5, difficulty=3)
def _probe_actor_gradient_by_chain_rule(fn, rng):
    import torch

    from course_lib.nets import make_head

    from .framework import CheckFailed, unpack

    torch.manual_seed(int(rng.integers(2**31)))
    state_dim, action_dim, batch = 3, 2, int(rng.integers(5, 20))
    out = {}
    for arch, depth in (("mlp", 2), ("modern", int(rng.integers(1, 4)))):
        actor = torch.nn.Sequential(make_head("mlp", state_dim, action_dim, hidden_dim=8, depth=2), torch.nn.Tanh())
        critic = make_head(arch, state_dim + action_dim, 1, hidden_dim=8, depth=depth)
        states = torch.as_tensor(rng.uniform(-1, 1, (batch, state_dim)), dtype=torch.float32)
        before = [p.detach().clone() for p in (*actor.parameters(), *critic.parameters())]
        slopes, grad_norm = unpack(fn(actor, critic, states), 2, "actor_gradient_by_chain_rule")
        if any(p.grad is not None for p in (*actor.parameters(), *critic.parameters())):
            raise CheckFailed("gradients were left in .grad: use torch.autograd.grad, not backward()")
        if any(not torch.equal(b, p) for b, p in zip(before, (*actor.parameters(), *critic.parameters()))):
            raise CheckFailed("the parameters changed: the function must only compute the gradient")
        out[f"the per-sample ||dQ/da|| for an {arch}{depth} critic"] = torch.as_tensor(slopes).detach()
        out[f"the actor's gradient norm for an {arch}{depth} critic"] = as_float(grad_norm, "grad_norm")
    return out
