"""Checks of notebook 05 · Modern heads (solutions/ex05_modern.py)."""
from __future__ import annotations

from .framework import CheckFailed, expect_relative, register


def _block(rng, dim: int = 8, inner: int = 16):
    """A course ResidualBlock with non-trivial LayerNorm parameters, and a seeded input."""
    import torch

    from course_lib import nets

    torch.manual_seed(int(rng.integers(2**31)))
    block = nets.ResidualBlock(dim, inner)
    with torch.no_grad():
        block.branch.norm.weight.add_(0.5 * torch.randn(dim))
        block.branch.norm.bias.add_(0.5 * torch.randn(dim))
    return block, 3 * torch.randn(5, dim) + 1


@register("ex05_modern.layer_norm", points=1, atol=1e-5, difficulty=1)
def _probe_layer_norm(fn, rng):
    import torch

    block, x = _block(rng)
    ln = block.branch.norm
    with torch.no_grad():
        return {"layer_norm(x)": fn(x.clone(), ln.weight.clone(), ln.bias.clone(), ln.eps)}


@register("ex05_modern.residual_block_forward", points=2, atol=1e-5, difficulty=1)
def _probe_residual_block_forward(fn, rng):
    import torch

    out = {}
    for dim, inner in [(8, 16), (6, 6)]:
        block, x = _block(rng, dim, inner)
        b = block.branch
        with torch.no_grad():
            out[f"the block output (d={dim}, inner={inner})"] = fn(
                x.clone(), b.norm.weight, b.norm.bias, b.w1.weight, b.w1.bias, b.w2.weight, b.w2.bias, b.norm.eps)
    return out


def _compare_counts(got, want):
    if not isinstance(got, dict) or list(got) != list(want):
        raise CheckFailed(f"the output should have the parts {list(want)}")
    for what, count in want.items():
        mine = got[what]
        # Exactly an int: the child sends ints as ints, and anything else (an empty array, whose
        # truth value numpy < 2.2 reads as False, a float, a bool) must not pass a != test.
        if type(mine) is not int:
            raise CheckFailed(f"{what} should be an int, got {type(mine).__name__}")
        if mine != count:
            raise CheckFailed(f"{what} returned {mine}: too {'many' if mine > count else 'few'} "
                              "parameters for the course's head")


@register("ex05_modern.head_parameter_count", points=1, compare=_compare_counts, difficulty=2)
def _probe_head_parameter_count(fn, rng):
    small = [int(n) for n in rng.integers(2, 9, size=3)]
    out = {}
    for arch, in_dim, out_dim, hidden, depth in [("mlp", 56, 1, 1024, 2), ("mlp", 50, 12, 1024, 4),
                                                 ("mlp", *small, 1), ("modern", 56, 1, 1024, 4),
                                                 ("modern", 50, 12, 1024, 2), ("modern", *small, 1),
                                                 ("modern", small[0], small[1], small[2], 3)]:
        count = fn(arch, in_dim, out_dim, hidden, depth)
        if not isinstance(count, int) or isinstance(count, bool):
            try:
                count = int(count) if int(count) == count else count
            except (TypeError, ValueError):
                raise CheckFailed(f"head_parameter_count should return an int, got {type(count).__name__}")
        out[f"head_parameter_count({arch!r}, {in_dim}, {out_dim}, {hidden}, {depth})"] = count
    return out


def _compare_bounds(got, want):
    if not isinstance(got, dict) or list(got) != list(want):
        raise CheckFailed(f"the output should have the parts {list(want)}")
    for what, ref in want.items():
        expect_relative(got[what], ref, what, rtol=1e-6)


@register("ex05_modern.modern_head_lipschitz_bound", points=1, compare=_compare_bounds, difficulty=1)
def _probe_modern_head_lipschitz_bound(fn, rng):
    """The formula on the parts of random modern heads (compared with a relative tolerance)."""
    import math

    import torch

    from course_lib import lipschitz, spectral

    out = {}
    for depth, sn in ((1, False), (3, False), (2, True)):
        head = lipschitz.random_critic("modern", depth, hidden_dim=16, gain=round(float(rng.uniform(0.8, 1.5)), 2),
                                       spectral_norm=sn, seed=int(rng.integers(2**31)))
        with torch.no_grad():
            for block in head.blocks:
                block.branch.norm.weight.copy_(torch.rand(16, generator=torch.Generator().manual_seed(
                    int(rng.integers(2**31)))) + 0.5)
        min_std = round(float(rng.uniform(0.05, 1.0)), 3)
        first = spectral.lipschitz_upper_bound(head.input)
        last = spectral.lipschitz_upper_bound(head.output)
        # LayerNorm's slope bound max|gamma| / sqrt(min_std^2 + eps), written out here: the course's
        # spectral.layernorm_lipschitz answers ex03_lipschitz.layernorm_slope_bound and is stubbed
        # where this probe runs (answers.py).
        blocks = [(float(b.branch.norm.weight.detach().abs().max()) / math.sqrt(min_std ** 2 + b.branch.norm.eps),
                   spectral.lipschitz_upper_bound(b.branch.w1), spectral.lipschitz_upper_bound(b.branch.w2))
                  for b in head.blocks]
        what = f"the bound of a {depth}-block modern head{' with SN' if sn else ''}"
        out[what] = fn(first, blocks, last)
    return out


@register("ex05_modern.generator_loss", points=1, atol=1e-6, difficulty=2)
def _probe_generator_loss(fn, rng):
    import torch

    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    torch.manual_seed(int(rng.integers(2**31)))
    generator = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    discriminator = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)).double()
    z = torch.randn(16, 3, generator=g, dtype=torch.float64)
    loss = fn(generator, discriminator, z)
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise CheckFailed("generator_loss should return a 0-d tensor (the batch mean)")
    if not loss.requires_grad:
        raise CheckFailed("the loss carries no gradient: do not detach the generated samples")
    params = list(generator.parameters())
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    if any(grad is None for grad in grads):
        raise CheckFailed("some generator weights get no gradient: the loss must go through D(G(z))")
    return {"generator loss": loss.detach(), "its gradient w.r.t. the generator's first weight": grads[0]}
