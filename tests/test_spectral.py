"""Spectral norms, power iteration, SN and Lipschitz bounds (paper Sec. 4, eq. 5)."""
import math

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as torch_spectral_norm

from course_lib import nets, spectral


def _matrix_with_spectrum(singular_values, n=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    m = len(singular_values)
    n = n or m + 3
    U, _ = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(n, m, generator=g, dtype=torch.float64))
    return U @ torch.diag(torch.tensor(singular_values, dtype=torch.float64)) @ V.T


@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 9), (64, 128)])
def test_power_iteration_matches_linalg(shape):
    W = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sigma, u, v = spectral.power_iteration(W, 500, generator=torch.Generator().manual_seed(2))
    exact = torch.linalg.matrix_norm(W, ord=2)
    assert torch.isclose(sigma, exact, rtol=1e-6)
    assert torch.isclose(u.norm(), torch.tensor(1.0, dtype=W.dtype)) and torch.isclose(v.norm(), torch.tensor(1.0, dtype=W.dtype))
    # u, v are singular vectors: W v = sigma u.
    assert torch.allclose(W @ v, sigma * u, atol=1e-5 * exact)


def test_power_iteration_converges_faster_with_a_larger_spectral_gap():
    def error_after(k, ratio):
        W = _matrix_with_spectrum([1.0, ratio, ratio / 2, ratio / 4])
        u0 = torch.ones(4, dtype=torch.float64)
        sigma, _, _ = spectral.power_iteration(W, k, u=u0)
        return abs(1.0 - sigma.item())

    for k in (2, 5, 10):
        assert error_after(k, 0.3) < error_after(k, 0.9)
    # And the error actually goes down with iterations.
    assert error_after(20, 0.9) < error_after(5, 0.9) < error_after(1, 0.9)


def test_power_iteration_is_a_lower_bound_and_rejects_bad_input():
    W = torch.randn(6, 4, generator=torch.Generator().manual_seed(3))
    for k in (1, 2, 5):
        sigma, _, _ = spectral.power_iteration(W, k, generator=torch.Generator().manual_seed(k))
        assert sigma <= torch.linalg.matrix_norm(W, ord=2) * (1 + 1e-5)
    with pytest.raises(ValueError, match="2-D"):
        spectral.power_iteration(torch.randn(2, 3, 4), 1)
    with pytest.raises(ValueError, match="n_iters"):
        spectral.power_iteration(W, -1)
    with pytest.raises(ValueError, match="shape"):
        spectral.power_iteration(W, 1, u=torch.randn(3))


def test_our_spectral_norm_matches_pytorch_step_by_step():
    torch.manual_seed(0)
    ours = nn.Linear(12, 8)
    theirs = nn.Linear(12, 8)
    theirs.load_state_dict(ours.state_dict())
    torch.manual_seed(42)
    spectral.spectral_norm(ours)
    torch.manual_seed(42)
    torch_spectral_norm(theirs)
    x = torch.randn(5, 12)
    opt_a = torch.optim.SGD(ours.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(5):  # training mode: each forward runs one power step; gradients flow through sigma
        ya, yb = ours(x), theirs(x)
        assert torch.allclose(ya, yb, atol=1e-6)
        ya.square().sum().backward()
        yb.square().sum().backward()
        opt_a.step(); opt_b.step(); opt_a.zero_grad(); opt_b.zero_grad()
    ours.eval(); theirs.eval()
    u_before = ours.parametrizations.weight[0]._u.clone()
    assert torch.allclose(ours(x), theirs(x), atol=1e-6)
    assert torch.equal(u_before, ours.parametrizations.weight[0]._u), "eval mode must not update u"


def test_spectral_norm_bounds_the_operator_norm():
    layer = spectral.spectral_norm(nn.Linear(30, 20))
    with torch.no_grad():
        layer.parametrizations.weight.original.mul_(7.0)
    for _ in range(50):
        layer(torch.zeros(1, 30))
    assert spectral.layer_spectral_norms(layer)[""] == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="nn.Linear"):
        spectral.spectral_norm(nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="already"):
        spectral.spectral_norm(layer)


def test_layer_spectral_norms_measure_without_advancing_power_iteration():
    head = nets.make_head("modern", 10, 1, hidden_dim=16, depth=2, spectral_norm=True)
    sn = head.blocks[0].branch.w1.parametrizations.weight[0]
    u = sn._u.clone()
    norms = spectral.layer_spectral_norms(head)
    assert torch.equal(u, sn._u)
    assert head.training
    assert set(norms) == {"input", "blocks.0.branch.w1", "blocks.0.branch.w2", "blocks.1.branch.w1",
                          "blocks.1.branch.w2", "output"}
    W = head.input.weight.detach()
    assert norms["input"] == pytest.approx(torch.linalg.matrix_norm(W, ord=2).item(), rel=1e-5)


@pytest.mark.parametrize("arch,depth,sn", [("mlp", 1, False), ("mlp", 4, False), ("mlp", 4, True),
                                           ("modern", 1, False), ("modern", 3, True)])
def test_lipschitz_bound_holds_for_measured_gradients(arch, depth, sn):
    torch.manual_seed(depth)
    head = nets.make_head(arch, 20, 1, hidden_dim=32, depth=depth, spectral_norm=sn)
    for p in head.parameters():  # move away from the orthogonal init so the bound is not trivial
        p.data.add_(0.3 * torch.randn_like(p))
    x = torch.randn(512, 20) * 3
    measured = spectral.input_gradient_norms(head, x).max().item()
    bound = spectral.lipschitz_upper_bound(head)
    assert 0 < measured <= bound * (1 + 1e-6)
    # The region-restricted LayerNorm bound is smaller for modern heads but still a bound here,
    # because we pass the smallest std the LayerNorms actually see on these inputs.
    if arch == "modern":
        stds = []
        hooks = [m.register_forward_pre_hook(lambda m, inp: stds.append(inp[0].std(-1, unbiased=False).min().item()))
                 for m in head.modules() if isinstance(m, nn.LayerNorm)]
        head(x)
        for h in hooks:
            h.remove()
        restricted = spectral.lipschitz_upper_bound(head, layernorm_min_std=min(stds))
        assert measured <= restricted * (1 + 1e-6) < bound


def test_mlp_bound_is_the_product_of_eq5():
    head = nets.make_head("mlp", 6, 1, hidden_dim=8, depth=3)
    sigmas = spectral.layer_spectral_norms(head)
    assert spectral.lipschitz_upper_bound(head) == pytest.approx(math.prod(sigmas.values()), rel=1e-6)


def test_layernorm_lipschitz_is_attained():
    ln = nn.LayerNorm(8)
    assert spectral.layernorm_lipschitz(ln) == pytest.approx(1 / math.sqrt(ln.eps))
    # Near a constant input the LayerNorm Jacobian norm approaches 1/sqrt(eps): the global bound is tight.
    x = torch.full((1, 8), 0.5) + 1e-4 * torch.randn(1, 8)
    J = torch.autograd.functional.jacobian(lambda z: ln(z), x).reshape(8, 8)
    assert torch.linalg.matrix_norm(J, ord=2) > 0.25 * spectral.layernorm_lipschitz(ln)
    assert torch.linalg.matrix_norm(J, ord=2) <= spectral.layernorm_lipschitz(ln) * (1 + 1e-4)


def test_lipschitz_bound_rejects_unknown_modules():
    with pytest.raises(ValueError, match="no Lipschitz rule"):
        spectral.lipschitz_upper_bound(nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=-1)))


def test_spectral_does_not_import_the_heads():
    """nets imports spectral (for SN); spectral must not import nets back (no import cycle)."""
    import subprocess
    import sys
    code = "import sys, course_lib.spectral; assert 'course_lib.nets' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
