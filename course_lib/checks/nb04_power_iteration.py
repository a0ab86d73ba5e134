"""Checks of notebook 04 · Power iteration and SN (solutions/ex04_power_iteration.py)."""
from __future__ import annotations

from .framework import register, torch_generator, unpack


def _cases(rng):
    import torch

    g = torch_generator(rng)
    cases = []
    for shape in [(5, 3), (4, 7), (6, 6)]:
        W = torch.randn(*shape, generator=g, dtype=torch.float64)
        u = torch.randn(shape[0], generator=g, dtype=torch.float64)
        cases.append((f"a {shape[0]}x{shape[1]} matrix", W, u))
    return cases


@register("ex04_power_iteration.power_iteration", points=2, atol=1e-8, difficulty=2)
def _probe_power_iteration(fn, rng):
    out = {}
    for case, W, u in _cases(rng):
        for k in (0, 1, 3, 30):
            got = unpack(fn(W.clone(), k, u.clone()), 3, "power_iteration")
            for name, value in zip(("sigma", "u", "v"), got):
                out[f"{name} after {k} steps on {case}"] = value
    return out


@register("ex04_power_iteration.spectral_normalize", points=1, atol=1e-8, difficulty=1)
def _probe_spectral_normalize(fn, rng):
    out = {}
    for case, W, u in _cases(rng):
        for k in (1, 5):
            W_sn, u_new = unpack(fn(W.clone(), u.clone(), k), 2, "spectral_normalize")
            out[f"W_sn after {k} steps on {case}"] = W_sn
            out[f"the returned u after {k} steps on {case}"] = u_new
    return out


@register("ex04_power_iteration.sn_linear_forward", points=2, atol=1e-5, difficulty=2)
def _probe_sn_linear_forward(fn, rng):
    """Three forwards in a row (training, training, eval), each from the state the last one left."""
    import torch
    from torch.nn.utils.parametrizations import spectral_norm as torch_spectral_norm

    torch.manual_seed(int(rng.integers(2**31)))
    layer = torch_spectral_norm(torch.nn.Linear(6, 4))
    state = layer.parametrizations.weight[0]
    x = torch.randn(3, 6)
    out = {}
    with torch.no_grad():
        # A weight SN has not seen yet (as after an optimizer step), so u and v really move.
        layer.parametrizations.weight.original.add_(torch.randn(4, 6))
        W, b = layer.parametrizations.weight.original.clone(), layer.bias.clone()
        u, v = state._u.clone(), state._v.clone()
        for step, training in enumerate((True, True, False), start=1):
            mode = "training" if training else "eval"
            y, u, v = unpack(fn(x.clone(), W.clone(), b.clone(), u.clone(), v.clone(), training), 3,
                             "sn_linear_forward")
            out[f"y of forward {step} ({mode} mode)"] = y
            out[f"u after forward {step} ({mode} mode)"] = u
            out[f"v after forward {step} ({mode} mode)"] = v
            u, v = torch.as_tensor(u, dtype=W.dtype), torch.as_tensor(v, dtype=W.dtype)
    return out


@register("ex04_power_iteration.power_steps_needed", points=1, atol=0, difficulty=2)
def _probe_power_steps_needed(fn, rng):
    out = {}
    for ratio in (0.5, 0.9, 0.99, round(float(rng.uniform(0.1, 0.95)), 3)):
        for tan0, tol in ((1.0, 1e-3), (round(float(rng.uniform(0.5, 20.0)), 3), 1e-6)):
            out[f"power_steps_needed(ratio={ratio:g}, tan0={tan0:g}, tol={tol:g})"] = int(fn(ratio, tan0, tol))
    out["power_steps_needed when tan0 <= tol already (0 steps)"] = int(fn(0.9, 1e-4, 1e-3))
    return out
