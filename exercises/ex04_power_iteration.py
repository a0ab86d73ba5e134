# Generated from solutions/ex04_power_iteration.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
# ★ applies what the notebook gives, ★★ needs a step of your own, ★★★ asks you to derive it.
"""Exercises of notebook 04 (the power method and spectral normalization).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex04_power_iteration.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.

All inputs are PyTorch tensors. ``torch.nn.functional.normalize(x, dim=0)`` divides a vector by its
norm. Do not call ``torch.linalg.svd``/``matrix_norm`` here: the point is to avoid them.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


# Exercise (★★, 1 point): checks.check("ex04_power_iteration.power_steps_needed")
def power_steps_needed(ratio, tan0, tol):
    """How many power steps the convergence rate needs to bring the vector error below ``tol``.

    Notebook 04, section 2 gives the rate at which each step shrinks the tangent of the angle
    between ``u_k`` and the top singular vector. Return the smallest integer ``k >= 0`` for which
    that rate guarantees a tangent ``<= tol``, in closed form (no loop; mind the sign of a log).

    Args:
        ratio: ``sigma_2 / sigma_1``, strictly between 0 and 1 (the spectral gap is ``1 - ratio``).
        tan0: tangent of the starting vector's angle to the top singular vector, > 0.
        tol: the wanted bound on the tangent, > 0.

    Returns:
        An int.
    """
    raise NotImplementedError("Exercise: write power_steps_needed(), see its docstring")


# Exercise (★★, 2 points): checks.check("ex04_power_iteration.power_iteration")
def power_iteration(W, n_iters, u):
    """Estimate the largest singular value of ``W`` and its singular vectors with the power method.

    Use the *correct* update of notebook 04, section 2 (not the one the paper prints): ``v``'s
    half-step first, then ``u``'s, ``n_iters`` times. So that ``n_iters = 0`` is defined too, start
    from ``u`` normalized and ``v`` from one half-step on it; estimate sigma from the final vectors.

    Args:
        W: matrix of shape ``(m, n)``.
        n_iters: number of updates (>= 0).
        u: starting vector, shape ``(m,)`` (not necessarily of unit length).

    Returns:
        ``(sigma, u, v)``: a 0-d tensor and the unit vectors of shapes ``(m,)`` and ``(n,)``.
    """
    raise NotImplementedError("Exercise: write power_iteration(), see its docstring")


# Exercise (★, 1 point): checks.check("ex04_power_iteration.spectral_normalize")
def spectral_normalize(W, u, n_iters=1):
    """Spectral normalization of a weight: ``W / sigma`` with ``sigma`` from your ``power_iteration``.

    Args:
        W: weight matrix ``(m, n)``.
        u: the left vector kept from the previous call, shape ``(m,)``.
        n_iters: power steps to take from ``u`` (one per training step in the paper).

    Returns:
        ``(W_sn, u)``: the normalized weight (same shape as W) and the updated left vector, to be
        passed in again next time (that is how SN gets away with a single step per update).
    """
    raise NotImplementedError("Exercise: write spectral_normalize(), see its docstring")


# Exercise (★★, 2 points): checks.check("ex04_power_iteration.sn_linear_forward")
def sn_linear_forward(x, W, b, u, v, training):
    """The forward pass of a spectrally normalized ``nn.Linear``, exactly as PyTorch computes it.

    ``torch.nn.utils.parametrizations.spectral_norm`` keeps unit vectors ``u`` (length ``m``) and
    ``v`` (length ``n``). In training mode each forward first takes one power step, in PyTorch's
    order of the half-steps (notebook 04, section 3, which differs from your ``power_iteration``'s);
    in eval mode ``u`` and ``v`` are used unchanged. Then the layer uses ``W / sigma``.

    Args:
        x: input ``(batch, n)``; W: weight ``(m, n)``; b: bias ``(m,)``;
        u, v: the stored vectors; training: bool.

    Returns:
        ``(y, u, v)``: the output ``(batch, m)`` and the (possibly updated) vectors.
    """
    raise NotImplementedError("Exercise: write sn_linear_forward(), see its docstring")


# --------------------------------------------------------------------------------------------------
# Capstone: spectral normalization as a module
# --------------------------------------------------------------------------------------------------

class SpectralNorm(nn.Module):
    """A linear layer that uses its weight divided by that weight's largest singular value.

    Spectral normalization (Miyato et al. 2018), which the paper applies to the hidden layers of its
    heads (Sec. 4 and 5.1) to keep every factor ``||w_i||`` of the bound of eq. (5) near 1. It wraps
    an existing ``nn.Linear`` (the one ``spectral_norm`` below gets) and normalizes its weight on the
    fly, the way notebook 04, section 3 describes:

    - keep ``linear`` as the submodule ``self.linear``: its ``weight`` and ``bias`` stay the only
      parameters (what the optimizer trains and the target critic averages);
    - keep the power method's vectors as **buffers** named ``u`` (length ``out_features``) and ``v``
      (length ``in_features``), unit vectors drawn at random at creation (a few warm-up power steps
      there are allowed), so that ``.to()``/``.double()`` move them and ``state_dict()`` saves them;
    - in **training** mode, each forward first takes exactly **one** power step from the stored
      vectors, in PyTorch's order of the half-steps (as your ``sn_linear_forward``), without
      gradient, and stores the new vectors; in **eval** mode the stored vectors stay as they are;
    - then the layer computes ``linear``'s output with the weight divided by the estimate of
      sigma made from the current ``u`` and ``v``; the gradient flows through that estimate (through
      ``W`` in it), with ``u`` and ``v`` held constant, as in Miyato et al.

    Do not use ``torch.nn.utils`` spectral norms, ``course_lib.spectral`` or ``torch.linalg`` here.
    """

    def __init__(self, linear, eps=1e-12):
        super().__init__()
        raise NotImplementedError("Exercise: write __init__(), see its docstring")

    def forward(self, x):
        raise NotImplementedError("Exercise: write forward(), see its docstring")


# Exercise (★★★, 2 points): checks.check("ex04_power_iteration.spectral_norm_normalizes")
# Exercise (★★★, 2 points): checks.check("ex04_power_iteration.spectral_norm_power_step")
# Exercise (★★★, 2 points): checks.check("ex04_power_iteration.spectral_norm_gradient")
# Exercise (★★★, 2 points): checks.check("ex04_power_iteration.spectral_norm_learns")
def spectral_norm(linear):
    """``linear`` (an ``nn.Linear``) wrapped in your ``SpectralNorm``: the layer normalized.

    Like ``torch.nn.utils.parametrizations.spectral_norm`` and ``course_lib.spectral.spectral_norm``,
    it takes a layer and gives it back normalized. The checks call it, and so does the course's
    training loop, which builds the critic's hidden layers as plain ``nn.Linear`` s and passes each
    to this function (``SACAgent(..., critic_spectral_norm_fn=spectral_norm)``).

    Returns:
        An ``nn.Module`` mapping ``(batch, in_features)`` to ``(batch, out_features)``.
    """
    raise NotImplementedError("Exercise: write spectral_norm(), see its docstring")
