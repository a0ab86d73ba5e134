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
    # BEGIN SOLUTION
    total = 0.0
    for p in parameters:
        if p.grad is not None:
            total += float(p.grad.detach().double().square().sum())
    return math.sqrt(total)
    # END SOLUTION


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
    # BEGIN SOLUTION
    frames = np.asarray(frames, dtype=float)
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values) & (values > 0)
    if keep.sum() < 2:
        return math.nan
    return float(1000 * np.polyfit(frames[keep], np.log10(values[keep]), 1)[0])
    # END SOLUTION


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
    # BEGIN SOLUTION
    bound = float(sigma_input) * float(sigma_output)
    for sigma_w1, sigma_w2 in block_sigmas:
        bound *= 1.0 + float(ln_lipschitz) * float(sigma_w1) * float(sigma_w2)
    return bound
    # END SOLUTION


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
    # BEGIN SOLUTION
    actions = actor(states)
    a = actions.detach().requires_grad_(True)
    q = critic(torch.cat([states, a], dim=1))
    (dq_da,) = torch.autograd.grad(q.sum(), a)
    n = states.shape[0]
    params = [p for p in actor.parameters() if p.requires_grad]
    grads = torch.autograd.grad(actions, params, grad_outputs=-dq_da / n, allow_unused=True)
    total = sum(float(g.double().square().sum()) for g in grads if g is not None)
    return dq_da.norm(dim=1).detach(), math.sqrt(total)
    # END SOLUTION
