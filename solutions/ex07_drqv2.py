"""Exercises of notebook 07 (DrQ-v2: deterministic policy gradients from pixels).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex07_drqv2.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.

DrQ-v2 (Yarats et al. 2021), the DDPG agent of the paper's Table 1, differs from DrQ in its critic's
target (n-step returns), in how it explores (Gaussian noise whose standard deviation decays
linearly), and, in the same first author's follow-up (Bjorck, Gomes & Weinberger, ICLR 2022), in a
fix for actors whose tanh saturates: penultimate normalization.
"""
import numpy as np
import torch


def n_step_target(rewards, discounts, steps, bootstrap_value, gamma):
    """The critic's n-step target (eq. 2 with multi-step returns), cut short at an episode's end.

    For a transition starting at time t, with ``k`` steps of the same episode available (``k = n``
    in the middle of an episode, fewer near its end), the target of notebook 07, section 2, where
    ``r_j`` is the reward received after the j-th step of the window (``r_0 = r_t``) and ``d_j`` the
    environment's discount of that step (dm_control: 1.0, also at a time limit; 0.0 at a terminal
    state, after which nothing more is added). ``k`` differs between rows. Entries ``j >= k`` of
    ``rewards`` and ``discounts`` belong to the next episode (or do not exist yet) and must be
    ignored, whatever they hold. This is what ``course_lib.replay.ReplayBuffer.sample`` returns as
    ``reward`` and ``discount``, followed by ``ddpg_target``'s ``reward + discount * Q``.

    Args:
        rewards: array (B, n), the rewards of the window's steps.
        discounts: array (B, n), the environment's discounts of the same steps (0 or 1, or in between).
        steps: integer array (B,), ``k`` for each transition, each in ``1 .. n``.
        bootstrap_value: array (B,), ``Q_target(s_{t+k}, a')`` (e.g. min of the twin target critics).
        gamma: the discount factor, a float in [0, 1].

    Returns:
        A float numpy array (B,) of targets. Do not modify the inputs.
    """
    # BEGIN SOLUTION
    rewards, discounts = np.asarray(rewards, dtype=float), np.asarray(discounts, dtype=float)
    steps, bootstrap_value = np.asarray(steps), np.asarray(bootstrap_value, dtype=float)
    target = np.zeros(len(rewards))
    scale = np.ones(len(rewards))  # gamma^j prod_{i<j} d_i
    for j in range(rewards.shape[1]):
        inside = j < steps
        target += np.where(inside, scale * rewards[:, j], 0.0)
        scale = np.where(inside, scale * gamma * discounts[:, j], scale)
    return target + scale * bootstrap_value
    # END SOLUTION


def exploration_std(step, start, end, duration):
    """DrQ-v2's exploration schedule ``linear(start, end, duration)`` at agent step ``step``.

    The schedule plotted in notebook 07, section 3: ``start`` at step 0 (and before), ``end`` from
    step ``duration`` on, linear in between. DrQ-v2 uses
    ``linear(1.0, 0.1, 100000)`` on easy tasks and ``linear(1.0, 0.1, 500000)`` on medium ones.

    Args:
        step: the agent step (an integer; agent steps, not frames).
        start, end: the standard deviations at the two ends (floats; ``end`` may exceed ``start``).
        duration: the number of agent steps of the decay, an integer >= 1.

    Returns:
        The standard deviation, a float.
    """
    # BEGIN SOLUTION
    mix = min(max(step / duration, 0.0), 1.0)
    return (1.0 - mix) * start + mix * end
    # END SOLUTION


def penultimate_normalize(x, eps=1e-6):
    """Penultimate normalization (Bjorck, Gomes & Weinberger 2022; notebook 07, section 5).

    One L2 norm per feature vector (over the last dimension), so every vector of features entering
    a head's last Linear gets unit length; ``eps`` only guards vectors shorter than it (an all-zero
    vector, e.g. every ReLU off, stays zero instead of becoming NaN). The operation must stay
    differentiable (no ``.detach()``, no numpy): it sits inside the network.

    Args:
        x: a float tensor (..., d).
        eps: the smallest norm divided by, a float > 0.

    Returns:
        A tensor of the same shape.
    """
    # BEGIN SOLUTION
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)
    # END SOLUTION



# --------------------------------------------------------------------------------------------------
# Capstone: DrQ-v2's (DDPG's) whole update, from states
# --------------------------------------------------------------------------------------------------

def _in_bounds(action):
    """Given: ``action`` clamped to ``[-1, 1]`` (a hair inside) in value, but not in gradient.

    DrQ-v2's clamp of a noisy action: the value is clamped, the gradient passes straight through
    (``x - x.detach() + clamped.detach()``), so that eq. (3)'s gradient is not cut off where the
    noise pushed an action past the bound. Apply it to every noisy action, in the target and in the
    actor's loss.
    """
    clamped = action.clamp(-1.0 + 1e-6, 1.0 - 1e-6)
    return action - action.detach() + clamped.detach()


def ddpg_update(agent, batch, step):
    """One update of DrQ-v2 (DDPG) from states (K = M = 1: no augmentation): critic, then actor, then target.

    What ``course_lib.agents.ddpg.DDPGAgent.update`` does for ``--obs state``, written by you; the course's
    training loop runs it with ``train(config, update_fn=ddpg_update)``. The pieces are your exercises of
    notebook 02 (the target policy smoothing, DDPG's actor loss, the Polyak average), of notebook 06
    (the twin critic's loss) and of this notebook: the n-step target (section 2) and the exploration
    schedule (section 3: call your ``exploration_std`` above). Both the critic's target action and the
    actor's action carry exploration noise of the scheduled standard deviation at agent step ``step``,
    clipped as in section 3; draw it with ``torch.randn_like`` (or any normal draw) and pass every
    noisy action through ``_in_bounds`` above.

    ``agent`` offers:

    - ``agent.actor(obs) -> action`` (``tanh(mu)``, shape ``(B, |A|)``, no noise);
      ``agent.critic(obs, action) -> (q1, q2)``; ``agent.critic_target`` (same call; never trained,
      only averaged);
    - the optimizers ``agent.critic_opt`` (the critic's parameters) and ``agent.actor_opt`` (the actor's);
    - ``agent.config.std_start``, ``std_end``, ``std_decay_steps`` (the schedule, in agent steps),
      ``std_clip`` (the noise clip), ``tau``, ``actor_update_every`` and ``target_update_every``;
    - ``agent.updates``: how many updates ran before this one; add 1 once the critic has stepped, and
      step the actor when the new count is a multiple of ``actor_update_every``, the target when it
      is a multiple of ``target_update_every`` (DrQ-v2: both 1).

    ``batch`` holds tensors ``obs (B, S)``, ``action (B, |A|)``, ``reward (B, 1)``, ``discount (B, 1)``
    and ``next_obs (B, S)``, as ``course_lib.replay.ReplayBuffer.sample`` returns them with n-step
    returns: ``reward`` is already the discounted sum of the window's rewards and ``discount`` the
    discount of its bootstrap (the powers of gamma and the episode's end included), and ``next_obs``
    is the state the window bootstraps from. Do not use ``agent.config.discount`` or ``n_step``.

    Each gradient step must move only the parameters it is for: no gradient may reach the actor from
    the critic's loss, nor the critic's target from anything.

    Returns:
        A dict of 0-d tensors, detached: ``critic_loss`` always; ``actor_loss`` on the updates where the
        actor stepped.
    """
    # BEGIN SOLUTION
    c = agent.config
    obs, action, reward, discount, next_obs = (batch[k] for k in ("obs", "action", "reward", "discount", "next_obs"))
    std = exploration_std(step, c.std_start, c.std_end, c.std_decay_steps)

    # Critic: eq. (2) against the n-step target with the twin minimum and target policy smoothing.
    with torch.no_grad():
        next_mu = agent.actor(next_obs)
        next_action = _in_bounds(next_mu + (torch.randn_like(next_mu) * std).clamp(-c.std_clip, c.std_clip))
        next_q1, next_q2 = agent.critic_target(next_obs, next_action)
        target = reward + discount * torch.min(next_q1, next_q2)
    q1, q2 = agent.critic(obs, action)
    critic_loss = ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
    agent.critic_opt.zero_grad(set_to_none=True)
    critic_loss.backward()
    agent.critic_opt.step()
    metrics = {"critic_loss": critic_loss.detach()}
    agent.updates += 1

    if agent.updates % c.actor_update_every == 0:
        # Actor: eq. (3), through the twin minimum at a noisy action; the critic is only the path.
        mu = agent.actor(obs)
        new_action = _in_bounds(mu + (torch.randn_like(mu) * std).clamp(-c.std_clip, c.std_clip))
        q1, q2 = agent.critic(obs, new_action)
        actor_loss = -torch.min(q1, q2).mean()
        agent.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward(inputs=list(agent.actor.parameters()))
        agent.actor_opt.step()
        metrics["actor_loss"] = actor_loss.detach()

    if agent.updates % c.target_update_every == 0:
        with torch.no_grad():  # Polyak: target <- (1 - tau) target + tau online
            for target_p, online_p in zip(agent.critic_target.parameters(), agent.critic.parameters()):
                target_p.lerp_(online_p, c.tau)
    return metrics
    # END SOLUTION
