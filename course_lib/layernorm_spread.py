"""LayerNorm's slope against its input's spread: what notebook 03's panel computes.

:func:`layernorm_spread_report`: random modern critics of growing depth, fed inputs of a chosen
scale. The smaller the spread of a LayerNorm's input, the steeper LayerNorm can be
(``|gamma| / sqrt(var + eps)``), so the region-restricted eq. (5) bound grows as the input shrinks.
The measured slope ``max ||dQ/da||`` grows too (LayerNorm divides the scale out, so the head is
nearly scale-invariant and its slope goes like ``1 / scale``), but far less than the bound, which
multiplies one such factor per block. :mod:`course_lib.widgets` draws it; the notebook calls it too.
"""
from __future__ import annotations

import math

import pandas as pd

from course_lib import lipschitz as L

__all__ = ["LN_EPS", "layernorm_spread_report"]

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
