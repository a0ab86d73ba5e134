"""Spectral norms, the power method, spectral normalization and Lipschitz bounds (paper Sec. 4).

The paper's argument in three lines:

* the Lipschitz constant of a linear layer ``x -> W x`` is its operator norm ``||W||_2 = sigma_max(W)``;
* a composition is at most as steep as the product of its parts, which gives eq. (5):
  ``||Q(s)|| <= (||A(s)|| + ||phi(s)||) * prod_i ||f|| ||w_i^c||`` (ReLU has ``||f|| = 1``), so the
  gradient ``dQ/da`` that flows into the actor in eq. (3) is bounded by ``prod_i sigma_max(w_i^c)``;
* spectral normalization (Miyato et al. 2018) divides every weight by an estimate of its largest
  singular value, ``y = W x / sigma_max(W) ~= W x / (u^T W v)``, with ``u, v`` refined by one step of
  the power method ``u <- W v / ||W v||``, ``v <- W^T u / ||W^T u||`` per training forward pass.

This module computes each of those pieces; notebooks 03 and 04 build them up from scratch.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

__all__ = [
    "power_iteration",
    "spectral_norm",
    "SpectralLinear",
    "remove_spectral_norm",
    "has_spectral_norm",
    "layer_spectral_norms",
    "lipschitz_upper_bound",
    "layernorm_lipschitz",
    "input_gradient_norms",
]


def _check_matrix(W: torch.Tensor) -> None:
    if not isinstance(W, torch.Tensor):
        raise ValueError(f"expected a torch.Tensor weight matrix, got {type(W).__name__}")
    if W.dim() != 2:
        raise ValueError(
            f"power iteration needs a 2-D weight matrix (out_features x in_features), got shape "
            f"{tuple(W.shape)}; reshape conv kernels with W.flatten(1) first"
        )
    if W.numel() == 0:
        raise ValueError("power iteration needs a non-empty matrix")


def power_iteration(W: torch.Tensor, n_iters: int, u: torch.Tensor | None = None, *,
                    generator: torch.Generator | None = None, eps: float = 1e-12):
    """Estimate the largest singular value of ``W`` with the power method.

    Each iteration is the update of Sec. 4: ``v <- W^T u / ||W^T u||`` then ``u <- W v / ||W v||``.
    After ``k`` steps the error in ``u, v`` shrinks like ``(sigma_2 / sigma_1)^(2k)`` in angle terms,
    so a matrix with a large spectral gap converges in a handful of steps.

    Args:
        W: 2-D tensor of shape ``(m, n)``.
        n_iters: number of power steps (>= 1, or 0 to just evaluate ``u^T W v`` from a given ``u``).
        u: optional starting left vector of length ``m`` (e.g. the one kept from the previous step,
            which is how SN amortises the cost: one step per training forward).
        generator: optional ``torch.Generator`` for the random start, on the CPU or on ``W``'s GPU.

    Returns:
        ``(sigma, u, v)``: ``sigma = u^T W v`` (a 0-d tensor, differentiable w.r.t. ``W``), and the
        unit-norm left/right singular vector estimates (no gradient).
    """
    _check_matrix(W)
    if not isinstance(n_iters, int) or n_iters < 0:
        raise ValueError(f"n_iters must be an integer >= 0, got {n_iters!r}")
    m, n = W.shape
    with torch.no_grad():
        Wd = W.detach()
        if u is None:
            if n_iters == 0:
                raise ValueError("n_iters=0 needs a starting vector u")
            # Drawn where the generator lives (a CPU generator, or none, draws on the CPU as before;
            # torch.randn refuses a CUDA generator for a CPU tensor), then moved to W's device.
            where = generator.device if generator is not None else torch.device("cpu")
            u = torch.randn(m, generator=generator, dtype=W.dtype, device=where).to(W.device)
        elif u.shape != (m,):
            raise ValueError(f"u must have shape ({m},) to match W of shape {tuple(W.shape)}, got {tuple(u.shape)}")
        u = F.normalize(u.to(W), dim=0, eps=eps)
        v = F.normalize(Wd.t() @ u, dim=0, eps=eps)
        for _ in range(n_iters):
            v = F.normalize(Wd.t() @ u, dim=0, eps=eps)
            u = F.normalize(Wd @ v, dim=0, eps=eps)
    sigma = torch.dot(u, W @ v)
    return sigma, u, v


def power_step_(W: torch.Tensor, u: torch.Tensor, v: torch.Tensor, eps: float = 1e-12) -> None:
    """One power step on ``u, v`` in place: ``u <- W v / ||W v||``, then ``v <- W^T u / ||W^T u||``.

    Call it under ``torch.no_grad()``. Written with ``torch.div`` by the clamped norm rather than
    ``F.normalize``: the same numbers bit for bit, with fewer operations.
    """
    Wv = torch.mv(W, v)
    torch.div(Wv, torch.linalg.vector_norm(Wv).clamp_min(eps), out=u)
    Wtu = torch.mv(W.t(), u)
    torch.div(Wtu, torch.linalg.vector_norm(Wtu).clamp_min(eps), out=v)


class _SpectralNorm(nn.Module):
    """Parametrization ``W -> W / sigma(W)`` with a persistent power-iteration state (``_u``, ``_v``).

    Same semantics as ``torch.nn.utils.parametrizations.spectral_norm``: in training mode every
    forward runs ``n_power_iterations`` updates ``u <- normalize(W v)``, ``v <- normalize(W^T u)`` in
    place; in eval mode the stored vectors are used as they are. ``sigma = u^T W v`` carries the
    gradient, so backprop sees the normalization (Miyato et al. 2018).
    """

    def __init__(self, weight: torch.Tensor, n_power_iterations: int = 1, eps: float = 1e-12):
        super().__init__()
        if weight.dim() != 2:
            raise ValueError(f"spectral_norm here supports 2-D (Linear) weights, got shape {tuple(weight.shape)}")
        if n_power_iterations < 1:
            raise ValueError(f"n_power_iterations must be >= 1, got {n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps
        h, w = weight.shape
        with torch.no_grad():
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=eps)
        self.register_buffer("_u", u)
        self.register_buffer("_v", v)
        self._power_method(weight.detach(), 15)  # start from a converged estimate, as PyTorch does

    def _power_method(self, W: torch.Tensor, n: int) -> None:
        """``n`` steps ``u <- W v / ||W v||``, ``v <- W^T u / ||W^T u||`` on the buffers, in place.

        In place (:func:`power_step_`), so the buffers stay the same tensors (needed by
        DataParallel / torch.compile).
        """
        with torch.no_grad():
            for _ in range(n):
                power_step_(W, self._u, self._v, self.eps)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.training:
            self._power_method(weight.detach(), self.n_power_iterations)
        # Copies: the next training forward updates the buffers in place, and backward needs these.
        u = self._u.clone(memory_format=torch.contiguous_format)
        v = self._v.clone(memory_format=torch.contiguous_format)
        sigma = torch.dot(u, torch.mv(weight, v))
        return weight / sigma

    def right_inverse(self, value: torch.Tensor) -> torch.Tensor:
        # Assigning ``layer.weight = W`` stores W itself as the un-normalized original.
        return value


class SpectralLinear(nn.Linear):
    """An ``nn.Linear`` for layers that :func:`spectral_norm` will normalize: same maths, less overhead.

    Its forward reads the normalized weight by calling the ``_SpectralNorm`` parametrization
    directly (``W / sigma`` from the same buffers and the same operations as ``self.weight``), not
    through ``torch.nn.utils.parametrize``'s generic property, which at a CPU's widths costs as much
    as the power step itself (it builds a ``ModuleList`` slice on every read). The heads of
    :mod:`course_lib.nets` use it; ``parametrize.cached()`` does not apply to its forward. Before
    :func:`spectral_norm` is applied it is a plain ``nn.Linear``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        modules = self.__dict__["_modules"]
        if "parametrizations" not in modules:
            return F.linear(x, self.weight, self.bias)
        weight = modules["parametrizations"]["weight"]
        return F.linear(x, weight[0].forward(weight.original), self.bias)


def spectral_norm(module: nn.Module, n_power_iterations: int = 1, eps: float = 1e-12) -> nn.Module:
    """Apply our spectral normalization to ``module.weight`` (an ``nn.Linear``) and return the module.

    After this call ``module.weight`` is ``W / sigma_max(W)`` (estimated), the trainable tensor is
    ``module.parametrizations.weight.original``, and the power-iteration state lives in
    ``module.parametrizations.weight[0]._u/_v``. Behaviour matches PyTorch's
    ``torch.nn.utils.parametrizations.spectral_norm`` (checked in tests/test_spectral.py).
    """
    if not isinstance(module, nn.Linear):
        raise ValueError(
            f"spectral_norm expects an nn.Linear, got {type(module).__name__}; the course applies SN "
            "to the Linear layers of the heads only"
        )
    if has_spectral_norm(module):
        raise ValueError("this layer already has spectral normalization")
    parametrize.register_parametrization(module, "weight", _SpectralNorm(module.weight, n_power_iterations, eps))
    return module


def has_spectral_norm(module: nn.Module) -> bool:
    """True if ``module.weight`` is spectrally normalized (ours or PyTorch's parametrization)."""
    if not parametrize.is_parametrized(module, "weight"):
        return False
    return any(isinstance(p, _SpectralNorm) or type(p).__name__ == "_SpectralNorm"
               for p in module.parametrizations.weight)


def remove_spectral_norm(module: nn.Module) -> nn.Module:
    """Undo :func:`spectral_norm`, keeping the current *normalized* weight as a plain parameter."""
    parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    return module


@contextmanager
def _eval_mode(module: nn.Module):
    """Temporarily switch to eval mode so reading ``.weight`` does not advance the power method."""
    was_training = [m.training for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, flag in zip(module.modules(), was_training):
            m.training = flag


@torch.no_grad()
def layer_spectral_norms(module: nn.Module) -> dict[str, float]:
    """Measured ``sigma_max`` of every ``nn.Linear``'s *effective* weight, keyed by layer name.

    For a spectrally normalized layer this is the largest singular value of ``W / sigma_est`` (close
    to 1, but measured exactly with ``torch.linalg.matrix_norm(ord=2)``, not the SN estimate).
    Reading the weights never advances SN's power iteration, so logging does not change training.
    """
    out: dict[str, float] = {}
    with _eval_mode(module):
        for name, m in module.named_modules():
            if isinstance(m, nn.Linear):
                out[name] = float(torch.linalg.matrix_norm(m.weight.float(), ord=2))
    return out


def layernorm_lipschitz(ln: nn.LayerNorm, min_std: float | None = None) -> float:
    """Lipschitz constant of LayerNorm, stated honestly.

    ``LN(x) = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta``. Its Jacobian at ``x`` has operator
    norm exactly ``1 / sqrt(var(x) + eps)`` before the ``gamma`` scaling (the centering projector and
    the radial term never enlarge a vector), so

    * globally (over all inputs) the constant is ``max|gamma| / sqrt(eps)``: ~316 for eps=1e-5.
      Inputs with almost no spread make LayerNorm arbitrarily steep; this is the true worst case.
    * on the region where every input's standard deviation is at least ``min_std`` it is
      ``max|gamma| / sqrt(min_std**2 + eps)``: a bound valid only for such inputs.
    """
    if not isinstance(ln, nn.LayerNorm):
        raise ValueError(f"expected nn.LayerNorm, got {type(ln).__name__}")
    gamma = ln.weight.detach().abs().max().item() if ln.weight is not None else 1.0
    if min_std is None:
        return gamma / math.sqrt(ln.eps)
    if min_std < 0:
        raise ValueError(f"min_std must be >= 0, got {min_std}")
    return gamma / math.sqrt(min_std**2 + ln.eps)


_ONE_LIPSCHITZ = (nn.ReLU, nn.Tanh, nn.Identity, nn.Dropout, nn.ELU, nn.Sigmoid)


@torch.no_grad()
def lipschitz_upper_bound(net: nn.Module, layernorm_min_std: float | None = None) -> float:
    """Upper bound on the Lipschitz constant (w.r.t. the l2 norm) of a head from ``course_lib.nets``.

    Rules, composed recursively:

    * ``nn.Linear``: ``sigma_max`` of its effective weight (eq. 5's ``||w_i||``), measured exactly;
    * ReLU / tanh / identity: 1 (eq. 5's ``||f||``);
    * ``nn.Sequential``: the product of its parts (eq. 5);
    * a residual block ``x + g(x)`` (a module with ``residual = True`` and the branch ``g`` as
      ``.branch``, e.g. ``course_lib.nets.ResidualBlock``): ``1 + Lip(g)``;
    * ``nn.LayerNorm``: see :func:`layernorm_lipschitz` — globally ``max|gamma|/sqrt(eps)``, or the
      region-restricted value when ``layernorm_min_std`` is given.

    For an MLP the result is exactly the product bound of eq. (5). For modern heads the global
    bound is valid but very loose (LayerNorm's worst case); notebook 03 shows both versions against
    the measured ``max ||dQ/da||``.
    """
    with _eval_mode(net):
        return _lipschitz(net, layernorm_min_std)


def _lipschitz(m: nn.Module, min_std) -> float:
    if isinstance(m, nn.Linear):
        return float(torch.linalg.matrix_norm(m.weight.float(), ord=2))
    if isinstance(m, _ONE_LIPSCHITZ):
        return 1.0
    if isinstance(m, nn.LayerNorm):
        return layernorm_lipschitz(m, min_std)
    if getattr(m, "residual", False):
        return 1.0 + _lipschitz(m.branch, min_std)
    if isinstance(m, nn.Sequential) or hasattr(m, "lipschitz_parts"):
        parts = m if isinstance(m, nn.Sequential) else m.lipschitz_parts()
        bound = 1.0
        for part in parts:
            bound *= _lipschitz(part, min_std)
        return bound
    raise ValueError(
        f"no Lipschitz rule for {type(m).__name__}; supported: Linear, ReLU/Tanh/Identity, LayerNorm, "
        "Sequential, residual blocks (residual = True, .branch) and modules defining lipschitz_parts()"
    )


def input_gradient_norms(net: nn.Module, inputs: torch.Tensor, wrt: slice | None = None) -> torch.Tensor:
    """Per-sample ``||d net(x) / d x[wrt]||_2`` for a scalar-output net (e.g. ``dQ/da`` of eq. 3).

    ``wrt`` selects the input coordinates, e.g. ``slice(feature_dim, None)`` for the action part of a
    critic input ``[phi(s) || a]``. Any such gradient norm is a lower bound on the Lipschitz constant,
    so ``input_gradient_norms(...).max() <= lipschitz_upper_bound(net)`` must always hold.
    """
    if inputs.dim() != 2:
        raise ValueError(f"inputs must be a (batch, features) tensor, got shape {tuple(inputs.shape)}")
    x = inputs.detach().clone().requires_grad_(True)
    with _eval_mode(net):
        out = net(x)
        if out.dim() == 2 and out.shape[1] != 1:
            raise ValueError(f"input_gradient_norms needs a scalar output per sample, got shape {tuple(out.shape)}")
        (grad,) = torch.autograd.grad(out.sum(), x)
    if wrt is not None:
        grad = grad[:, wrt]
    return grad.norm(dim=1)
