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

    Read right after ``backward()`` and before any clipping, as if all gradients were one long
    vector. Parameters whose ``.grad`` is ``None`` (not used in the loss) are skipped; if none has
    a gradient, the norm is 0.

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
    up in one number: fit that line by least squares. Use only the entries that have a logarithm
    and are finite (a crash logs NaN or inf); return ``nan`` if fewer than two remain.

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


def actor_gradient_by_chain_rule(actor, critic, states):
    """Eq. (3) in two explicit steps: the critic's slope in the action, then back through the actor.

    The actor maximizes ``mean_s Q(s, pi(s))``; its loss is ``-mean_s Q(s, pi(s))``. Compute the
    gradient of that loss with respect to the actor's parameters as eq. (3) writes it (notebook 08,
    section 2): first the critic's slope in the action alone, at the actor's actions, then carried
    back through the actor, without ever differentiating the loss end to end in one call.

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
