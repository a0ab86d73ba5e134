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
