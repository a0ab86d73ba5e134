"""The power method against the spectral gap: what notebook 04's panel computes.

:func:`power_gap_report`: the power method on a matrix with a chosen spectral gap
``sigma_2 / sigma_1``, its errors per step against the rate ``(sigma_2/sigma_1)^(2k)``, and the
number of steps that rate predicts (:func:`power_steps_needed`). :mod:`course_lib.widgets` draws
it; the notebook calls it too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import torch

from course_lib import lipschitz as L

__all__ = ["power_steps_needed", "PowerGapReport", "power_gap_report"]

def power_steps_needed(ratio: float, tan0: float, tol: float) -> int:
    """Steps after which the rate ``tan0 * ratio^(2k)`` is at most ``tol``: ``ceil(log(tol/tan0) / (2 log ratio))``.

    ``ratio = sigma_2 / sigma_1`` in (0, 1); ``tan0`` is the tangent of the starting angle to the top
    singular vector; 0 steps if ``tan0 <= tol`` already.
    """
    if not 0 < ratio < 1:
        raise ValueError(f"ratio must lie strictly between 0 and 1, got {ratio}")
    if tan0 <= tol:
        return 0
    return math.ceil(math.log(tol / tan0) / (2 * math.log(ratio)))


@dataclass
class PowerGapReport:
    ratio: float
    errors: pd.DataFrame  # k, sigma_est, sigma_rel_error, u_error, theory (as lipschitz.power_convergence_table)
    tol: float
    steps_measured: int | None  # first k with u_error < tol (None: not within n_iters)
    steps_predicted: int        # power_steps_needed(ratio, tan0, tol)


def power_gap_report(ratio: float = 0.9, n_iters: int = 60, tol: float = 1e-3, dim: int = 64,
                     seed: int = 0) -> PowerGapReport:
    """The power method on a ``dim x dim`` matrix with ``sigma_2 / sigma_1 = ratio`` (notebook 04's panel)."""
    with torch.no_grad():
        errors = L.power_convergence_table(ratios=(ratio,), n_iters=n_iters, dim=dim, seed=seed)
    reached = errors.k[errors.u_error < tol]
    u0 = errors.u_error.iloc[0]
    tan0 = u0 / math.sqrt(max(1e-300, 1 - u0 * u0))
    return PowerGapReport(ratio, errors, tol, int(reached.min()) if len(reached) else None,
                          power_steps_needed(ratio, tan0, tol))
