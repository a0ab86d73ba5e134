# Generated from solutions/ex01b_dqn.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
# ★ applies what the notebook gives, ★★ needs a step of your own, ★★★ asks you to derive it.
"""Exercises of notebook 01b (DQN: Q-learning with a network, a replay memory and a target network).

Write each function body where it says ``raise NotImplementedError``; each is a few lines of PyTorch.
Check one exercise in the notebook with ``checks.check("ex01b_dqn.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.

Shapes: a batch of ``B`` transitions; the networks map features ``(B, F)`` to one value per
discrete action, ``(B, A)``; rewards and done flags are ``(B,)``, actions ``(B,)`` integers.
"""
import torch


# Exercise (★★, 1 point): checks.check("ex01b_dqn.dqn_loss")
def dqn_loss(q_net, target_net, batch, gamma):
    """DQN's TD loss of one batch, with its labels from the target network (notebook 01b, section 3).

    The label of each transition uses the target network's best value at the next state, except
    where the episode ended there. The loss must train ``q_net`` only: no gradient may reach
    ``target_net``, and the label must not move when the loss is differentiated.

    Args:
        q_net: the network being trained, features (B, F) -> values (B, A).
        target_net: the target network, the same shapes (pass ``q_net`` itself for DQN without one).
        batch: a dict of tensors: ``"features"`` (B, F) of the states, ``"action"`` (B,) int64,
            ``"reward"`` (B,), ``"next_features"`` (B, F) of the next states and ``"done"`` (B,),
            1.0 where the next state ends the episode and 0.0 elsewhere.
        gamma: the discount factor.

    Returns:
        A 0-d tensor: the mean over the batch of the squared TD errors.
    """
    raise NotImplementedError("Exercise: write dqn_loss(), see its docstring")
