"""How large a step each layer of a head takes: two controls for the pre-registered experiment.

Spectral normalization changes two things at once. In the forward pass every normalized layer is
``W / sigma(W)``, so the critic's Lipschitz constant is bounded (eq. 5) and so is the gradient that
reaches the actor (eq. 3): the paper's explanation. But it also changes the *optimizer's* step: Adam
moves the stored ``W`` by about ``lr`` per entry whatever the gradient's scale, and the layer the
network uses, ``W / sigma``, then moves by that step divided by ``sigma``. Gogianu et al. (ICML 2021,
"Spectral Normalisation for Deep Reinforcement Learning: an Optimisation Perspective", arXiv
2105.05246) found that modulating the parameter updates alone recovers most of SN's benefit in DQN.
Two tools here, both off by default:

* :class:`SigmaScaledSteps` (``--sigma-scaled-steps``): the forward pass stays *unnormalized*, and
  each layer that SN would normalize has its Adam update divided by its own ``sigma_max`` (estimated
  with one power step per update, as SN does). Gogianu et al. divided the *gradient* by ``sigma``
  ("DivGrad"); Adam divides every gradient by its own running scale, so with Adam the division has
  to act on the update instead. If SN's gain were only a smaller effective step, this control would
  recover it.
* :func:`width_transfer_groups` (``--lr-reference-width``): Adam learning rates that stand in for a
  wider network. For a matrix with fan-in ``n``, an Adam update whose entries are ``+-lr`` and
  aligned with the layer's input (a gradient is a sum of outer products ``delta x^T``) changes the
  layer's output by about ``lr * n`` times the input's entry size: the per-step change grows with the
  fan-in (Yang et al. 2022, "Tensor Programs V", Adam's hidden and output layers take ``lr ~ 1/n``).
  To take, at width ``h``, the same per-step change as the paper's width ``H`` (1024) at learning rate
  ``lr``, every head matrix whose fan-in grows with the width gets ``lr * H / h``; the first layer of
  each head (its fan-in is the input's size), biases, LayerNorm gains and SAC's temperature keep
  ``lr``. ``results/prereg/PLAN.md`` derives it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.spectral import power_step_

__all__ = ["width_scaled_weights", "width_transfer_groups", "sn_candidate_weights", "SigmaScaledSteps"]


def _weight(layer: nn.Linear) -> torch.Tensor:
    """The trainable matrix of a Linear: ``weight``, or SN's un-normalized ``original``."""
    parametrizations = layer.__dict__["_modules"].get("parametrizations")
    return parametrizations["weight"].original if parametrizations is not None else layer.weight


def _linears(head: nn.Module) -> list[nn.Linear]:
    return [m for m in head.modules() if isinstance(m, nn.Linear)]


def width_scaled_weights(heads: list[nn.Module]) -> list[torch.Tensor]:
    """The matrices of ``heads`` whose fan-in grows with the width: every Linear but each head's first."""
    return [_weight(layer) for head in heads for layer in _linears(head)[1:]]


def sn_candidate_weights(heads: list[nn.Module]) -> list[torch.Tensor]:
    """The matrices SN would normalize (Sec. 5.1): every Linear of each head but its first and last."""
    return [_weight(layer) for head in heads for layer in _linears(head)[1:-1]]


def width_transfer_groups(parameters, heads: list[nn.Module], lr: float, hidden_dim: int,
                          reference_width: int) -> list[dict]:
    """Adam parameter groups: ``lr * reference_width / hidden_dim`` for :func:`width_scaled_weights`
    of ``heads``, ``lr`` for the rest of ``parameters`` (both groups keep the parameters' order)."""
    scaled_ids = {id(p) for p in width_scaled_weights(heads)}
    parameters = list(parameters)
    scaled = [p for p in parameters if id(p) in scaled_ids]
    rest = [p for p in parameters if id(p) not in scaled_ids]
    groups = [{"params": scaled, "lr": lr * reference_width / hidden_dim}]
    return groups + ([{"params": rest, "lr": lr}] if rest else [])


class SigmaScaledSteps:
    """Divide each optimizer step on ``weights`` by the weight's ``sigma_max`` before the step.

    Usage, around an optimizer step: ``scaler.before_step()`` (one power step per weight on the
    persistent ``u, v`` from SN's initialization, and a copy of each weight), ``optimizer.step()``,
    then ``scaler.after_step()`` sets ``W <- W_old + (W_new - W_old) / sigma(W_old)``. The forward
    pass never sees ``sigma``. ``state_dict()`` keeps ``u, v`` so that a resumed run continues the
    same estimates.
    """

    def __init__(self, weights: list[torch.Tensor], eps: float = 1e-12, init_iterations: int = 15):
        if not weights:
            raise ValueError("sigma-scaled steps need at least one layer that SN would normalize "
                             "(a head of depth >= 2 for mlp, >= 1 for modern)")
        self.weights = list(weights)
        self.eps = eps
        with torch.no_grad():
            self.u = [F.normalize(w.new_empty(w.shape[0]).normal_(0, 1), dim=0, eps=eps) for w in self.weights]
            self.v = [F.normalize(w.new_empty(w.shape[1]).normal_(0, 1), dim=0, eps=eps) for w in self.weights]
        self._old: list[torch.Tensor] = []
        self.sigmas: list[torch.Tensor] = []
        for _ in range(init_iterations):  # start from a converged estimate, as SN does
            self._power_step()

    @torch.no_grad()
    def _power_step(self) -> None:
        sigmas = []
        for w, u, v in zip(self.weights, self.u, self.v):
            power_step_(w, u, v, self.eps)  # the same step as SN's (course_lib.spectral)
            sigmas.append(torch.dot(u, torch.mv(w, v)))
        self.sigmas = sigmas

    @torch.no_grad()
    def before_step(self) -> None:
        self._power_step()
        self._old = [w.detach().clone() for w in self.weights]

    @torch.no_grad()
    def after_step(self) -> None:
        if not self._old:
            raise RuntimeError("after_step() without before_step()")
        for w, old, sigma in zip(self.weights, self._old, self.sigmas):
            # W <- old + (W - old) / sigma, i.e. lerp from old towards W by 1 / sigma
            w.copy_(torch.lerp(old, w, 1.0 / sigma.clamp_min(self.eps)))
        self._old = []

    def state_dict(self) -> dict:
        return {"u": [u.clone() for u in self.u], "v": [v.clone() for v in self.v]}

    def load_state_dict(self, state: dict) -> None:
        if len(state["u"]) != len(self.u):
            raise ValueError(f"checkpoint has {len(state['u'])} sigma-scaled layers, this agent {len(self.u)}")
        with torch.no_grad():
            for mine, saved in zip(self.u + self.v, state["u"] + state["v"]):
                mine.copy_(saved)
