# Generated from solutions/ex08_diagnostics.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
"""Exercises of notebook 08 (diagnosing instability: what Fig. 3 measures).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex08_diagnostics.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.
"""
import math

import numpy as np
import torch


def global_grad_norm(parameters):
    """The gradient norm Fig. 3 plots: the L2 norm of *all* gradients of a network taken together.

    ``sqrt(sum over parameters p of sum(p.grad ** 2))``, right after ``backward()`` and before any
    clipping. Parameters whose ``.grad`` is ``None`` (not used in the loss) are skipped; if none
    has a gradient, the norm is 0.

    Args:
        parameters: an iterable of tensors (e.g. ``critic.parameters()``).

    Returns:
        a Python float.
    """
    raise NotImplementedError("Exercise: write global_grad_norm(), see its docstring")


def orders_of_magnitude_per_1000_frames(frames, values):
    """How fast a logged quantity grows: the least-squares slope of ``log10(value)`` per 1,000 frames.

    On Fig. 3's log scale an exponentially growing gradient norm is a straight line; its slope,
    in decades per 1,000 frames (1.0 = ten times larger every 1,000 frames), sums a stretch of a run
    up in one number. Fit ``log10(value) = a * frame + b`` by least squares (``np.polyfit`` is fine)
    and return ``1000 * a``. Use only the entries whose value is finite and positive (a crash logs
    NaN or inf); return ``nan`` if fewer than two remain.

    Args:
        frames: sequence of environment frames; values: sequence of the same length.

    Returns:
        a Python float.
    """
    raise NotImplementedError("Exercise: write orders_of_magnitude_per_1000_frames(), see its docstring")


def modern_head_bound(sigma_input, block_sigmas, sigma_output, ln_lipschitz):
    """Eq. (5)'s bound for a modern head, from the spectral norms of its layers.

    A modern head (Sec. 3.2) is ``output(block_n(... block_1(input(x))))`` with residual blocks
    ``x + w2(ReLU(w1(LN(x))))``. A composition is at most as steep as the product of its parts; a
    Linear is as steep as its spectral norm ``sigma``; ReLU is 1-Lipschitz; a LayerNorm at most
    ``ln_lipschitz``; and a residual block ``x + g(x)`` at most ``1 + Lip(g)``. So the bound is
    ``sigma_input * prod_k (1 + ln_lipschitz * sigma_w1_k * sigma_w2_k) * sigma_output``.

    Args:
        sigma_input, sigma_output: spectral norms of the input and output Linear (floats).
        block_sigmas: one ``(sigma_w1, sigma_w2)`` pair per residual block, in order.
        ln_lipschitz: the bound on every LayerNorm's slope (float).

    Returns:
        a Python float.
    """
    raise NotImplementedError("Exercise: write modern_head_bound(), see its docstring")


def actor_gradient_by_chain_rule(actor, critic, states):
    """Eq. (3) in two explicit steps: the critic's slope in the action, then back through the actor.

    The actor maximizes ``mean_s Q(s, pi(s))``; its loss is ``-mean_s Q(s, pi(s))``. Compute its
    gradient with respect to the actor's parameters as eq. (3) writes it:

    1. ``a = actor(states)``; ``dQ/da`` at those actions: the gradient of ``-mean Q(s, a)`` with
       respect to ``a`` alone (``torch.autograd.grad`` with ``a`` detached and requiring grad);
    2. the vector-Jacobian product of that with ``da/dtheta`` (``torch.autograd.grad(a,
       actor_params, grad_outputs=...)``).

    The critic takes ``torch.cat([states, actions], dim=1)`` and returns ``(batch, 1)``.
    Do not change the parameters or leave gradients in ``.grad``.

    Args:
        actor: a module ``(batch, state_dim) -> (batch, action_dim)``; critic: as above.
        states: a ``(batch, state_dim)`` tensor.

    Returns:
        ``(slopes, grad_norm)``: ``slopes`` the per-sample ``||dQ/da||`` of the critic at
        ``a = actor(s)`` (a 1-D tensor of length ``batch``, of ``Q`` itself, not of the mean), and
        ``grad_norm`` the global L2 norm of the actor loss's gradient (a Python float).
    """
    raise NotImplementedError("Exercise: write actor_gradient_by_chain_rule(), see its docstring")
