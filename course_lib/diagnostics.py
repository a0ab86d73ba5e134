"""Training diagnostics: what the paper's Fig. 3 plots, and the non-finite check behind "crashes".

Fig. 3 follows the critic loss (eq. 2), the return, and the gradient norms of actor and critic;
Sec. 4 explains them with the spectral norms of the head layers (eq. 5). Every log interval a run
writes one ``train.csv`` row with:

``frame, critic_loss, actor_loss, q_mean, actor_grad_norm, critic_grad_norm, alpha, nonfinite,
pre_tanh_max, saturated_frac`` and one ``sigma/critic/<layer>`` / ``sigma/actor/<layer>`` column per
head layer.

* losses, ``q_mean`` and gradient norms are **means over the updates of the interval** (spikes
  raise the mean; nothing is skipped); gradient norms are taken before any clipping (the agents do
  not clip);
* ``alpha`` is SAC's temperature (empty for DDPG);
* ``nonfinite`` is 1 if any loss, gradient norm or parameter became NaN or infinite;
* ``pre_tanh_max`` and ``saturated_frac`` measure the actor's tanh saturation in each actor update's
  forward pass over the batch (:func:`saturation_metrics`): the largest ``|u|`` of the pre-tanh
  action ``u`` (DDPG: the head's output; SAC: the Gaussian's mean ``mu``) and the fraction of
  action entries (batch x action dims) with ``|tanh(u)| > 0.99``, i.e. ``|u| > 2.65``, where
  tanh's slope ``1 - tanh^2`` is below 0.02; both are means over the interval's actor updates.
  In float32 ``tanh(u)`` rounds to exactly 1 from ``|u| ~ 9``: the actor's gradient is 0 there;
* the sigmas are *measured* largest singular values of each layer's effective weight (with SN:
  ``W / sigma_estimate``), via ``torch.linalg.matrix_norm(ord=2)``, not SN's own estimate.

On CUDA nothing here waits for the GPU during training: per-update values stay tensors on the
device and are summed there (:class:`IntervalMeans`); the host reads them once per log interval.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from course_lib.spectral import layer_spectral_norms

TRAIN_COLUMNS = ["frame", "critic_loss", "actor_loss", "q_mean", "actor_grad_norm", "critic_grad_norm",
                 "alpha", "nonfinite", "pre_tanh_max", "saturated_frac"]
EVAL_COLUMNS = ["frame", "eval_return", "crashed"]
_MEANS = ["critic_loss", "actor_loss", "q_mean", "actor_grad_norm", "critic_grad_norm", "alpha",
          "pre_tanh_max", "saturated_frac"]
#: ``|tanh(u)|`` above this counts as saturated (slope ``1 - tanh(u)^2`` < 0.02).
SATURATION_THRESHOLD = 0.99


def saturation_metrics(pre_tanh: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"pre_tanh_max": max |u|, "saturated_frac": mean(|tanh(u)| > 0.99)}`` over a batch of pre-tanh actions.

    ``pre_tanh``: ``(batch, action_dim)``, the actor's output before its tanh. Both values are 0-d
    tensors on its device, detached: nothing waits for the device (they are pulled at log time).
    """
    u = pre_tanh.detach()
    return {"pre_tanh_max": u.abs().max(),
            "saturated_frac": (torch.tanh(u).abs() > SATURATION_THRESHOLD).float().mean()}


class IntervalMeans:
    """Running sums of per-update metrics on the device; :meth:`pull` returns the means as floats.

    Each metric is averaged over the updates that produced it (SAC's actor loss only exists on
    every 2nd update). ``nonfinite`` is combined with a logical OR instead of a mean.
    """

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.nonfinite: torch.Tensor | None = None

    def add(self, metrics: dict[str, torch.Tensor]) -> None:
        for key, value in metrics.items():
            if key == "nonfinite":
                self.nonfinite = value if self.nonfinite is None else (self.nonfinite | value)
                continue
            value = value.detach().float()
            self.sums[key] = value if key not in self.sums else self.sums[key] + value
            self.counts[key] = self.counts.get(key, 0) + 1

    def pull(self) -> tuple[dict[str, float], bool]:
        """``({metric: mean}, any_nonfinite)`` -- the one host sync per interval -- then reset."""
        keys = list(self.sums)
        if keys:
            values = torch.stack([self.sums[k] for k in keys]).cpu().tolist()
            means = {k: v / self.counts[k] for k, v in zip(keys, values)}
        else:
            means = {}
        bad = bool(self.nonfinite.item()) if self.nonfinite is not None else False
        bad = bad or any(not math.isfinite(v) for v in means.values())
        self.sums, self.counts, self.nonfinite = {}, {}, None
        return means, bad

    def state_dict(self) -> dict:
        return {"sums": {k: v.cpu() for k, v in self.sums.items()}, "counts": dict(self.counts),
                "nonfinite": None if self.nonfinite is None else self.nonfinite.cpu()}

    def load_state_dict(self, state: dict, device) -> None:
        self.sums = {k: v.to(device) for k, v in state["sums"].items()}
        self.counts = dict(state["counts"])
        self.nonfinite = None if state["nonfinite"] is None else state["nonfinite"].to(device)


@torch.no_grad()
def parameters_nonfinite(modules) -> bool:
    """True if any parameter of ``modules`` holds a NaN or an infinity (one host sync)."""
    flags = [torch.isfinite(p).all() for m in modules for p in m.parameters()]
    return not bool(torch.stack(flags).all()) if flags else False


def head_spectral_norms(head_modules: dict[str, nn.Module]) -> dict[str, float]:
    """``{"sigma/critic/q1.fc1": 1.7, ..., "sigma/actor/fc1": 2.3, ...}`` measured with torch.linalg.

    ``head_modules`` maps ``"group/sub"`` (or ``"group"``) to a head, as ``agent.head_modules()``
    returns it. Reading the weights does not advance spectral norm's power iteration.
    """
    out: dict[str, float] = {}
    for key, module in head_modules.items():
        group, _, sub = key.partition("/")
        try:
            sigmas = layer_spectral_norms(module)
        except (RuntimeError, ValueError):  # the SVD refuses NaN/inf weights: record them as NaN
            sigmas = {name: float("nan") for name, m in module.named_modules() if isinstance(m, nn.Linear)}
        for layer, sigma in sigmas.items():
            name = f"{sub}.{layer}" if sub else layer
            out[f"sigma/{group}/{name}"] = sigma
    return out


def train_row(frame: int, means: dict[str, float], nonfinite: bool, head_modules: dict[str, nn.Module]) -> dict:
    """One ``train.csv`` row in the contract's column order (missing metrics are left empty)."""
    row = {"frame": int(frame)}
    for key in TRAIN_COLUMNS[1:]:
        row[key] = int(bool(nonfinite)) if key == "nonfinite" else means.get(key, "")
    row.update(head_spectral_norms(head_modules))
    return row


# ------------------------------------------------------------------------------- reading the logs
def orders_of_magnitude_per_1000_frames(frames, values) -> float:
    """How fast a logged quantity grows: the least-squares slope of ``log10(value)`` per 1,000 frames.

    Fig. 3 plots gradient norms on a log scale because, when training goes wrong, they grow
    *exponentially*: a straight line there. Its slope (1.0 = ten times larger every 1,000 frames)
    summarizes a stretch of a run in one number. Only the finite, positive values are used (a crash
    logs NaN or inf); ``nan`` if fewer than two remain.
    """
    import numpy as np

    frames = np.asarray(frames, dtype=float)
    values = np.asarray(values, dtype=float)
    if frames.shape != values.shape:
        raise ValueError(f"frames and values must have the same length, got {frames.shape} and {values.shape}")
    keep = np.isfinite(values) & (values > 0) & np.isfinite(frames)
    if keep.sum() < 2 or np.ptp(frames[keep]) == 0:
        return math.nan
    slope = np.polyfit(frames[keep], np.log10(values[keep]), 1)[0]
    return float(slope * 1000)
