# Generated from solutions/ex02_actor_critic.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
# ★ applies what the notebook gives, ★★ needs a step of your own, ★★★ asks you to derive it.
"""Exercises of notebook 02 (actor-critic: from Q-learning to DDPG and SAC).

Write each function body where it says ``raise NotImplementedError``; each is a few lines of PyTorch.
Check one exercise in the notebook with ``checks.check("ex02_actor_critic.<name>")``, or all of them
with ``pytest tests/test_exercises.py --exercises exercises``.

Shapes: a batch of ``B`` transitions; rewards, discounts, Q-values and log-probabilities are
``(B, 1)`` tensors; actions and Gaussian parameters are ``(B, action_dim)``.
The equation numbers are those of the paper (Bjorck, Gomes & Weinberger 2021, Sec. 2.2).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


# Exercise (★★★, 2 points): checks.check("ex02_actor_critic.squashed_gaussian_log_prob")
def squashed_gaussian_log_prob(pre_tanh, mu, log_std):
    """log pi(a | s) of the tanh-squashed Gaussian of eq. (1), summed over action dimensions.

    The policy samples ``u = mu + eps * sigma`` (``sigma = exp(log_std)``) and acts ``a = tanh(u)``;
    notebook 02, section 2 gives the change-of-variables formula. Its tanh correction, computed as
    written, fails for large ``|u|``: ``1 - tanh(u)^2`` rounds to 0 and its log to -inf. The check
    feeds such ``u``: rewrite the correction in a form that is exact and finite for every ``u``
    (write tanh with exponentials; ``torch.nn.functional.softplus`` is a stable ``log(1 + exp(.))``).

    Args:
        pre_tanh: the sampled ``u``, shape (B, action_dim).
        mu, log_std: the Gaussian's mean and log standard deviation, shape (B, action_dim).

    Returns:
        log pi(a | s), shape (B, 1).
    """
    raise NotImplementedError("Exercise: write squashed_gaussian_log_prob(), see its docstring")


# Exercise (★★, 1 point): checks.check("ex02_actor_critic.soft_value")
def soft_value(Q, alpha):
    """The soft state value of the maximum-entropy objective (the soft maximum of notebook 02,
    section 3), for each row of a Q table.

    As ``alpha -> 0`` it becomes ``max_a Q(s, a)``, the hard value of notebook 01. Computed as the
    notebook writes it, ``exp`` overflows for ``Q / alpha`` of a few hundred, and the check uses
    such tables: find an exactly equivalent form that cannot overflow.

    Args:
        Q: a NumPy array of shape (S, A).
        alpha: the temperature, > 0.

    Returns:
        A float array of shape (S,).
    """
    raise NotImplementedError("Exercise: write soft_value(), see its docstring")


# Exercise (★, 1 point): checks.check("ex02_actor_critic.soft_bellman_target")
def soft_bellman_target(reward, discount, next_q1, next_q2, next_log_prob, alpha):
    """The bracket of eq. (2): the target the SAC critic regresses on (notebook 02, section 3).

    ``a'`` was sampled from the current policy at ``s'``; ``Q1', Q2'`` are the two *target*
    critics (clipped double Q-learning: take the smaller one), and ``-log pi(a'|s')`` is a
    one-sample estimate of the entropy. ``discount`` is what the replay buffer returns: gamma times
    the environment's discount (0 at a terminal state), so it already holds gamma.

    Args:
        reward, discount, next_q1, next_q2, next_log_prob: tensors of shape (B, 1).
        alpha: the entropy temperature, a float or a 0-d tensor.

    Returns:
        The targets y, shape (B, 1).
    """
    raise NotImplementedError("Exercise: write soft_bellman_target(), see its docstring")


# Exercise (★★, 1 point): checks.check("ex02_actor_critic.soft_update")
def soft_update(target, online, tau):
    """Polyak averaging of a target network, in place (notebook 02, "Target networks").

    Both agents regress on targets from a slowly moving copy of the critic (eq. 2: "the target
    critic - a network whose weights are the exponentially averaged weights of the critic").

    Average the *parameters* only (``module.parameters()``, pairwise in order). Leave buffers
    alone: with spectral normalization, each network keeps its own power-iteration vectors ``u, v``
    as buffers, and the target runs its own power iteration on its averaged weights. Do not track
    gradients through the update (``torch.no_grad()``), and do not change ``online``.

    Args:
        target, online: two modules of the same architecture.
        tau: the averaging rate in (0, 1]; ``tau=1`` copies the online weights.

    Returns:
        None (``target`` is changed in place).
    """
    raise NotImplementedError("Exercise: write soft_update(), see its docstring")


# Exercise (★, 1 point): checks.check("ex02_actor_critic.smoothed_target_action")
def smoothed_target_action(mu, noise, clip):
    """DDPG's target action with *target policy smoothing* (line 9 of notebook 02's DDPG box, TD3/DrQ-v2).

    The noise (drawn by the caller, ``eps ~ N(0, sigma^2)``) is bounded before it is added, so the
    target averages Q over a small neighbourhood of the actor's action: a critic cannot be
    exploited through a narrow spike in ``a``. The result must stay a valid action in ``[-1, 1]``.

    Args:
        mu: the target actor's actions ``tanh(...)``, shape (B, action_dim), in [-1, 1].
        noise: the sampled exploration noise, same shape.
        clip: the noise clip c > 0 (0.3 in DrQ-v2).

    Returns:
        The actions a', shape (B, action_dim).
    """
    raise NotImplementedError("Exercise: write smoothed_target_action(), see its docstring")

# Exercise (★, 1 point): checks.check("ex02_actor_critic.ddpg_actor_loss")
def ddpg_actor_loss(actor, critic, features):
    """DDPG's actor loss (notebook 02, section 4), whose gradient is eq. (3): the actor learns *through* the critic.

    Minimizing it moves the actor's action ``mu(s)`` uphill on the twin critics' Q-surface. The gradient
    must flow from the critic's output, through the action, into the actor's weights: do not
    detach the action.

    Args:
        actor: a module, ``actor(features)`` -> actions of shape (B, action_dim) in [-1, 1].
        critic: a module, ``critic(features, actions)`` -> the pair ``(q1, q2)``, each (B, 1).
        features: the batch of states (or encoder features), shape (B, feature_dim).

    Returns:
        The loss, a 0-d tensor that the actor's parameters can be differentiated through.
    """
    raise NotImplementedError("Exercise: write ddpg_actor_loss(), see its docstring")


# Exercise (★, 1 point): checks.check("ex02_actor_critic.temperature_loss")
def temperature_loss(log_alpha, log_prob, target_entropy):
    """SAC's loss J(alpha) for its temperature (notebook 02, "The temperature"), averaged over the batch.

    SAC learns ``log alpha`` (so alpha stays positive); ``a`` was sampled from the current policy.
    Only alpha learns from this loss: no gradient may reach the actor through ``log_prob``.

    Args:
        log_alpha: a 0-d tensor with ``requires_grad=True``.
        log_prob: ``log pi(a|s)`` of a batch of sampled actions, shape (B, 1).
        target_entropy: a float, ``-|A|`` in SAC (minus the number of action dimensions).

    Returns:
        The loss, a 0-d tensor differentiable with respect to ``log_alpha``.
    """
    raise NotImplementedError("Exercise: write temperature_loss(), see its docstring")
