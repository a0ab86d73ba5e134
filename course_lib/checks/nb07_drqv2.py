"""Checks of notebook 07 · DrQ-v2: deterministic policy gradients (solutions/ex07_drqv2.py)."""
from __future__ import annotations

from .framework import CheckFailed, as_float, register, torch_generator


@register("ex07_drqv2.n_step_target", points=1, difficulty=2)
def _probe_n_step_target(fn, rng):
    import numpy as np

    out = {}
    for n in (1, 3, 5):
        batch = 24
        rewards = rng.normal(size=(batch, n))
        discounts = np.where(rng.uniform(size=(batch, n)) < 0.15, 0.0, 1.0)  # a few terminal steps
        discounts[0] = 1.0
        steps = rng.integers(1, n + 1, size=batch)
        steps[0], steps[-1] = n, 1  # a full window and the shortest one, always
        for i, k in enumerate(steps):  # past the window: the next episode's steps, never to be used
            rewards[i, k:] = rng.uniform(50, 100, size=n - k)
            discounts[i, k:] = rng.uniform(0, 1, size=n - k)
        bootstrap = rng.normal(size=batch) * 10
        gamma = float(rng.uniform(0.8, 0.999))
        inputs = [rewards, discounts, steps, bootstrap]
        copies = [a.copy() for a in inputs]
        got = fn(*copies, gamma)
        if any(not np.array_equal(a, c) for a, c in zip(inputs, copies)):
            raise CheckFailed("n_step_target modified its inputs; compute into new arrays")
        got = np.asarray(got, dtype=float)
        if got.shape != (batch,):
            raise CheckFailed(f"with B={batch}, n={n}: return an array of shape ({batch},), got {got.shape}")
        out[f"the targets with n={n} (windows of k <= n steps, some ending at a terminal state)"] = got
    return out


@register("ex07_drqv2.exploration_std", points=1, difficulty=1)
def _probe_exploration_std(fn, rng):
    out = {}
    for case in range(3):
        start = float(rng.uniform(0.5, 1.5))
        end = float(rng.uniform(0.0, 0.3)) if case < 2 else float(rng.uniform(1.6, 2.0))  # may rise
        duration = int(rng.integers(1_000, 500_000))
        steps = [0, duration // 3, duration // 2, duration, duration + int(rng.integers(1, 10**6)),
                 int(rng.integers(0, duration)), -int(rng.integers(1, 1000))]
        what = f"linear({start:.3f}, {end:.3f}, {duration})"
        out[what] = {f"at step {s}": as_float(fn(s, start, end, duration), f"exploration_std at step {s}")
                     for s in steps}
    return out


@register("ex07_drqv2.penultimate_normalize", points=1, atol=1e-5, difficulty=1)
def _probe_penultimate_normalize(fn, rng):
    import torch

    g = torch_generator(rng)
    x = torch.randn(6, 16, generator=g) * float(rng.uniform(0.5, 20))
    x[1] = 0.0  # every ReLU off
    x[2] = x[2] * 1e-9  # shorter than eps
    w = torch.randn(16, generator=g)
    leaf = x.clone().requires_grad_(True)
    y = fn(leaf, 1e-6)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        raise CheckFailed(f"return a tensor of the input's shape {tuple(x.shape)}, "
                          f"got {getattr(y, 'shape', type(y).__name__)}")
    if not y.requires_grad:
        raise CheckFailed("the result carries no gradient: compute with torch operations on x, "
                          "without .detach() or numpy")
    (y * w).sum().backward()
    stacked = torch.randn(2, 3, 8, generator=g) * 3
    eps = float(rng.uniform(0.5, 2.0))
    return {"x / max(||x||, 1e-6) on a batch (6, 16)": y.detach(),
            "its gradient of sum(w * output) with respect to x": leaf.grad,
            f"a batch (2, 3, 8), eps={eps:.3f} (norms over the last dimension)": fn(stacked.clone(), eps).detach()}
