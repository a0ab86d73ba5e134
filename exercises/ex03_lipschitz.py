# Generated from solutions/ex03_lipschitz.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
# ★ applies what the notebook gives, ★★ needs a step of your own, ★★★ asks you to derive it.
"""Exercises of notebook 03 (Lipschitz constants and eq. 5 of the paper).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex03_lipschitz.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.

All inputs are PyTorch tensors (or modules); ``torch.linalg`` has everything you need.
"""
import torch


# Exercise (★, 1 point): checks.check("ex03_lipschitz.linear_lipschitz")
def linear_lipschitz(W):
    """The Lipschitz constant of the linear map ``x -> W x`` (w.r.t. the Euclidean norm).

    Sec. 4: "The Lipschitz constant of the linear layer w_i is the operator norm ||w_i||, equal to
    the largest singular value sigma_max of w_i."

    Args:
        W: weight matrix, shape ``(out_features, in_features)``.

    Returns:
        ``sigma_max(W)`` as a Python float.
    """
    raise NotImplementedError("Exercise: write linear_lipschitz(), see its docstring")


# Exercise (★, 1 point): checks.check("ex03_lipschitz.mlp_lipschitz_bound")
def mlp_lipschitz_bound(weights):
    """Eq. (5)'s bound on the Lipschitz constant of a ReLU MLP (notebook 03, section 2).

    The MLP is ``W_L relu(... relu(W_2 relu(W_1 x + b_1) + b_2) ...) + b_L``; the biases play no part.

    Args:
        weights: list of the weight matrices ``[W_1, ..., W_L]`` (first layer first).

    Returns:
        The bound as a Python float (1.0 for an empty list).
    """
    raise NotImplementedError("Exercise: write mlp_lipschitz_bound(), see its docstring")


# Exercise (★★, 2 points): checks.check("ex03_lipschitz.action_gradient_norms")
def action_gradient_norms(critic, features, actions):
    """Per-sample ``||dQ/da||``: the size of the gradient the critic hands to the actor (eq. 3).

    The critic takes the concatenation ``[features || actions]`` (the paper's ``A(s) || phi(s)``, in
    the course's order: features first) and returns one Q value per sample, shape ``(n, 1)``.
    Differentiate with respect to the actions only, with ``torch.autograd.grad`` (one call for the
    whole batch is enough: why?). Leave no gradients in any ``.grad``.

    Args:
        critic: a module mapping ``(n, f + a)`` to ``(n, 1)``.
        features: ``(n, f)`` tensor.
        actions: ``(n, a)`` tensor.

    Returns:
        A ``(n,)`` tensor: the Euclidean norm of ``dQ(s_i, a_i)/da_i`` for each sample i.
    """
    raise NotImplementedError("Exercise: write action_gradient_norms(), see its docstring")


# Exercise (★, 1 point): checks.check("ex03_lipschitz.layernorm_slope_bound")
def layernorm_slope_bound(x, gamma, eps=1e-5):
    """The upper bound on the slope (Jacobian norm) of LayerNorm at each input, from notebook 03,
    "Skip connections and LayerNorm, honestly".

    LayerNorm normalizes over the last dimension with the biased variance, as ``torch.nn.LayerNorm``.

    Args:
        x: a batch of inputs ``(batch, d)``.
        gamma: LayerNorm's scale ``(d,)``.
        eps: LayerNorm's epsilon.

    Returns:
        A ``(batch,)`` tensor: the bound at each input.
    """
    raise NotImplementedError("Exercise: write layernorm_slope_bound(), see its docstring")
