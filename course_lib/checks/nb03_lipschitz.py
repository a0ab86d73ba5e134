"""Checks of notebook 03 · Lipschitz constants, eq. (5) (solutions/ex03_lipschitz.py)."""
from __future__ import annotations

from .framework import CheckFailed, as_float, expect_relative, register, torch_generator


def _matrices(rng):
    """Seeded matrices of several shapes and dtypes, each with a label for messages."""
    import torch

    g = torch_generator(rng)
    return [("a 5x5 float64 matrix", torch.randn(5, 5, generator=g, dtype=torch.float64)),
            ("a 7x3 float32 matrix", torch.randn(7, 3, generator=g)),
            ("a 3x9 float32 matrix scaled by 4", 4 * torch.randn(3, 9, generator=g)),
            ("a rank-1 4x6 matrix", torch.outer(torch.randn(4, generator=g), torch.randn(6, generator=g)))]


def _compare_relative(got, want):
    """Every number within 1e-5 of the reference, relative to its size."""
    if not isinstance(got, dict) or list(got) != list(want):
        raise CheckFailed(f"the output should have the parts {list(want)}")
    for what, ref in want.items():
        expect_relative(got[what], ref, what, rtol=1e-5)


@register("ex03_lipschitz.linear_lipschitz", points=1, compare=_compare_relative, difficulty=1)
def _probe_linear_lipschitz(fn, rng):
    return {f"linear_lipschitz({case})": as_float(fn(W.clone()), f"linear_lipschitz({case})")
            for case, W in _matrices(rng)}


@register("ex03_lipschitz.mlp_lipschitz_bound", points=1, compare=_compare_relative, difficulty=1)
def _probe_mlp_lipschitz_bound(fn, rng):
    import torch

    from course_lib import lipschitz

    out = {"mlp_lipschitz_bound([]) (an empty product)": as_float(fn([]), "mlp_lipschitz_bound([])")}
    for depth, gain in [(1, 1.0), (3, round(float(rng.uniform(1.2, 2.0)), 2)), (5, 0.8)]:
        head = lipschitz.random_critic("mlp", depth, hidden_dim=16, gain=gain, seed=int(rng.integers(2**31)))
        weights = [m.weight.detach().clone() for m in head.modules() if isinstance(m, torch.nn.Linear)]
        what = f"mlp_lipschitz_bound of a depth-{depth} MLP (weights x{gain:g})"
        out[what] = as_float(fn(weights), what)
    return out


@register("ex03_lipschitz.action_gradient_norms", points=2, atol=1e-5, difficulty=2)
def _probe_action_gradient_norms(fn, rng):
    from course_lib import lipschitz

    x = lipschitz.sample_critic_inputs(64, seed=int(rng.integers(2**31)))
    f = lipschitz.FEATURE_DIM
    out = {}
    for arch in ("mlp", "modern"):
        head = lipschitz.random_critic(arch, 2, hidden_dim=32, gain=1.5, seed=int(rng.integers(2**31)))
        got = fn(head, x[:, :f].clone(), x[:, f:].clone())
        if got is None:
            raise CheckFailed("action_gradient_norms returned None; return one norm per sample")
        out[f"||dQ/da|| of a random {arch} critic on 64 samples"] = got
    return out


@register("ex03_lipschitz.layernorm_slope_bound", points=1, atol=1e-6, difficulty=1)
def _probe_layernorm_slope_bound(fn, rng):
    import torch

    g = torch_generator(rng)
    out = {}
    for label, spread in (("inputs of spread about 1", 1.0), ("inputs of tiny spread (eps matters)", 1e-3)):
        x = 0.5 + spread * torch.randn(16, 32, generator=g, dtype=torch.float64)
        for gamma_label, gamma in (("gamma = 1", torch.ones(32, dtype=torch.float64)),
                                   ("a random gamma", torch.randn(32, generator=g, dtype=torch.float64))):
            got = fn(x.clone(), gamma.clone(), 1e-5)
            if not isinstance(got, torch.Tensor):
                raise CheckFailed("layernorm_slope_bound should return a tensor of shape (batch,)")
            out[f"layernorm_slope_bound on {label}, {gamma_label}"] = got
    x = torch.randn(8, 16, generator=g, dtype=torch.float64)
    out["layernorm_slope_bound with eps=0.1"] = fn(x.clone(), torch.full((16,), 2.0, dtype=torch.float64), 0.1)
    return out
