"""What the panels of notebooks 03 and 04 compute: plain functions of a few settings, returning tables.

- :func:`layernorm_spread_report` (notebook 03): random modern critics of growing depth, fed
  inputs of a chosen scale. The smaller the spread of a LayerNorm's input, the steeper LayerNorm
  can be (``|gamma| / sqrt(var + eps)``), so the region-restricted eq. (5) bound grows as the input
  shrinks. The measured slope ``max ||dQ/da||`` grows too (LayerNorm divides the scale out, so the
  head is nearly scale-invariant and its slope goes like ``1 / scale``), but far less than the
  bound, which multiplies one such factor per block.
- :func:`power_gap_report` (notebook 04): the power method on a matrix with a chosen spectral gap
  ``sigma_2 / sigma_1``, its errors per step against the rate ``(sigma_2/sigma_1)^(2k)``, and the
  number of steps that rate predicts (:func:`power_steps_needed`).

The widgets in :mod:`course_lib.widgets` only draw what these return; the notebooks call them too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import torch

from course_lib import lipschitz as L

__all__ = ["layernorm_spread_report", "power_steps_needed", "PowerGapReport", "power_gap_report"]

LN_EPS = 1e-5  # PyTorch's LayerNorm default, the one the course's heads use


@L._one_thread
def layernorm_spread_report(depth: int = 4, input_scale: float = 1.0, hidden_dim: int = 64,
                            n_inputs: int = 256, seed: int = 0) -> pd.DataFrame:
    """Bound against measurement for random modern critics of depth ``1 .. depth``, inputs scaled.

    The inputs are :func:`course_lib.lipschitz.sample_critic_inputs` (``[phi || a]``) times
    ``input_scale``; ``dQ/da`` is taken at those scaled inputs. One row per depth with ``depth,
    input_scale, min_ln_std`` (the smallest standard deviation any LayerNorm sees),
    ``ln_slope_bound = 1 / sqrt(min_ln_std^2 + eps)`` (LayerNorm's slope bound there; gamma = 1 at
    initialization), ``bound`` (global eq. 5 with LayerNorm's ``1/sqrt(eps)``), ``region_bound`` and
    ``measured`` (max ``||dQ/da||``), as :func:`course_lib.lipschitz.critic_lipschitz_row`.
    """
    if not (isinstance(depth, int) and 1 <= depth <= 12):
        raise ValueError(f"depth must be an integer in [1, 12], got {depth!r}")
    if not input_scale > 0:
        raise ValueError(f"input_scale must be positive, got {input_scale!r}")
    inputs = input_scale * L.sample_critic_inputs(n_inputs, seed=seed + 1).double()
    rows = []
    for d in range(1, depth + 1):
        head = L.random_critic("modern", d, hidden_dim=hidden_dim, seed=seed).double()
        row = {"depth": d, "input_scale": float(input_scale)}
        min_std = L.layernorm_min_input_std(head, inputs)
        row["min_ln_std"] = min_std
        row["ln_slope_bound"] = 1 / math.sqrt(min_std**2 + LN_EPS)
        row.update(L.critic_lipschitz_row(head, inputs))
        rows.append(row)
    return pd.DataFrame(rows)


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
