"""Exercises of notebook 06 (DrQ: SAC from pixels).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex06_drq.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.

DrQ (Kostrikov, Yarats & Fergus 2020), the agent the paper starts from (Sec. 3.1), adds two things
to SAC: random-shift augmentation of the images, and averaging over augmented copies: the critic's
target is averaged over K random shifts of the next observation, and the critic's loss is summed
over M random shifts of the current one (K = M = 2).
"""
import torch
import torch.nn.functional as F


def random_shift(images, pad=4, generator=None):
    """DrQ's augmentation: shift every image by a random whole number of pixels in [-pad, pad].

    The augmentation of notebook 06, section 2: pixels shifted in from outside the image repeat
    its border. All channels of one image (its stacked frames) get the same shift; different images
    get independent shifts, each of the ``(2 pad + 1)^2`` shifts equally likely; ``pad = 0`` gives
    the images back. Draw all randomness from ``generator`` (``torch`` random functions take a
    ``generator=`` argument), so that a seeded generator makes the shifts reproducible.

    Args:
        images: a batch (N, C, H, W), uint8 (0..255) or float.
        pad: the largest shift in pixels, an integer >= 0.
        generator: an optional ``torch.Generator`` for the random offsets.

    Returns:
        The shifted images as float32, shape (N, C, H, W), values unchanged (0..255 stays 0..255).
    """
    # BEGIN SOLUTION
    images = images.float()
    n, _, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate") if pad > 0 else images
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    crops = [padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets.tolist())]
    return torch.stack(crops)
    # END SOLUTION


def drq_target(reward, discount, next_q1, next_q2, next_log_prob, alpha, k):
    """DrQ's critic target: the soft Bellman target of eq. (2), averaged over K views of s'.

    The next observations were augmented K times and stacked view by view, so ``next_q1``,
    ``next_q2`` and ``next_log_prob`` have ``K * B`` rows: rows ``0 .. B-1`` come from the first
    random shift of the batch, rows ``B .. 2B-1`` from the second, and so on. Each view gives its own
    soft Bellman target (your ``soft_bellman_target`` of notebook 02) and the result is their mean
    (notebook 06, section 5). No loop over views is needed.

    Args:
        reward, discount: shape (B, 1), one per transition (the same for every view).
        next_q1, next_q2, next_log_prob: shape (K * B, 1), view-major as described above.
        alpha: the entropy temperature, a float or a 0-d tensor.
        k: the number of views K (an integer >= 1).

    Returns:
        The averaged targets, shape (B, 1).
    """
    # BEGIN SOLUTION
    batch = reward.shape[0]
    soft_value = torch.min(next_q1, next_q2) - alpha * next_log_prob
    targets = reward.repeat(k, 1) + discount.repeat(k, 1) * soft_value
    return targets.view(k, batch, 1).mean(dim=0)
    # END SOLUTION


def drq_critic_loss(q1, q2, target, m):
    """DrQ's critic loss: the squared Bellman residual of eq. (2), summed over M views of s.

    The current observations were augmented M times and stacked view by view, so ``q1`` and ``q2``
    (the two online critics' values of the stored action) have ``M * B`` rows: rows ``0 .. B-1``
    from the first shift, and so on. All views regress on the same (averaged) ``target``. To match
    DrQ's code (and the check) exactly: a *sum* over views and over the two critics of the *mean*
    (over the batch) squared error.

    Args:
        q1, q2: shape (M * B, 1), view-major.
        target: shape (B, 1), e.g. from ``drq_target`` (treat it as a constant).
        m: the number of views M (an integer >= 1).

    Returns:
        The loss, a 0-d tensor that can be differentiated w.r.t. ``q1`` and ``q2``.
    """
    # BEGIN SOLUTION
    batch = target.shape[0]
    target = target.detach()
    q1, q2 = q1.view(m, batch, 1), q2.view(m, batch, 1)
    return ((q1 - target) ** 2).mean(dim=(1, 2)).sum() + ((q2 - target) ** 2).mean(dim=(1, 2)).sum()
    # END SOLUTION


def stack_frames(frames, episode_start, t, stack=3):
    """Rebuild the observation of step ``t`` from a replay memory that stores every frame once.

    ``frames[i]`` is the frame rendered at step ``i`` (shape ``(C, H, W)``, so ``frames`` is
    ``(T, C, H, W)``) and ``episode_start[i]`` the index of the first step of the episode that step
    ``i`` belongs to. The observation at step ``t`` is the environment's stack of the last ``stack``
    frames, oldest first, concatenated along the channels, with notebook 06's rule at an episode
    start (section 4): frames of the previous episode never leak into a stack.

    Args:
        frames: a numpy array ``(T, C, H, W)``.
        episode_start: a sequence of ``T`` integers, ``episode_start[i] <= i``.
        t: the step, ``0 <= t < T``.
        stack: the number of stacked frames (DrQ: 3).

    Returns:
        A numpy array ``(stack * C, H, W)`` with the dtype of ``frames``.
    """
    # BEGIN SOLUTION
    import numpy as np

    first = int(episode_start[t])
    indices = [max(first, t - stack + 1 + j) for j in range(stack)]
    return np.concatenate([frames[i] for i in indices], axis=0)
    # END SOLUTION


# --------------------------------------------------------------------------------------------------
# Capstone: SAC's whole update, from states
# --------------------------------------------------------------------------------------------------

def _sample(actor, obs):
    """Given: ``a = tanh(u)``, ``u ~ N(mu, sigma^2)`` (eq. 1, reparametrized) and ``log pi(a|s)``.

    Returns ``(action, log_prob)``, shapes ``(B, |A|)`` and ``(B, 1)``; both carry gradients to the
    actor (call it under ``torch.no_grad()`` where none should flow). The log-probability is your
    ``squashed_gaussian_log_prob`` of notebook 02, written out.
    """
    import math

    mu, log_std = actor(obs)
    pre_tanh = mu + torch.randn_like(mu) * log_std.exp()
    action = torch.tanh(pre_tanh)
    gaussian = -0.5 * ((pre_tanh - mu) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    tanh_correction = 2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))  # stable log(1 - tanh^2)
    return action, (gaussian - tanh_correction).sum(dim=-1, keepdim=True)


def sac_update(agent, batch, step):
    """One update of SAC from states (K = M = 1: no augmentation): critic, then actor, temperature, target.

    What ``course_lib.agents.sac.SACAgent.update`` does for ``--obs state``, written by you; the course's
    training loop runs it with ``train(config, update_fn=sac_update)``. The pieces are your exercises of
    notebook 02 (sections 3-4: the soft Bellman target, the actor's and the temperature's losses, the
    Polyak average) and of this notebook (the critic's loss), put together in the order of notebook 06's
    walk through ``SACAgent.update``. Use ``_sample`` above for every ``a ~ pi(.|s)``.

    ``agent`` offers:

    - ``agent.actor(obs) -> (mu, log_std)``; ``agent.critic(obs, action) -> (q1, q2)``;
      ``agent.critic_target`` (same call; never trained, only averaged);
    - ``agent.log_alpha`` (a 0-d tensor that requires grad) and ``agent.alpha`` (its ``exp()``);
      ``agent.target_entropy`` (``-|A|``);
    - the optimizers ``agent.critic_opt`` (the critic's parameters), ``agent.actor_opt`` (the
      actor's) and ``agent.alpha_opt`` (``log_alpha``);
    - ``agent.config.tau``, ``agent.config.actor_update_every``, ``agent.config.target_update_every``;
    - ``agent.updates``: how many updates ran before this one; add 1 once the critic has stepped, and
      step the actor and temperature when the new count is a multiple of ``actor_update_every``, the
      target when it is a multiple of ``target_update_every``.

    ``batch`` holds tensors ``obs (B, S)``, ``action (B, |A|)``, ``reward (B, 1)``, ``discount (B, 1)``
    (gamma already included) and ``next_obs (B, S)``. ``step`` (agent steps so far) is unused by SAC.

    Each gradient step must move only the parameters it is for: no gradient may reach the actor from
    the critic's loss, nor the critic's target from anything.

    Returns:
        A dict of 0-d tensors, detached: ``critic_loss`` always; ``actor_loss`` and ``alpha`` (after
        the temperature step) on the updates where the actor stepped.
    """
    # BEGIN SOLUTION
    c = agent.config
    obs, action, reward, discount, next_obs = (batch[k] for k in ("obs", "action", "reward", "discount", "next_obs"))

    # Critic: eq. (2) against the twin-minimum soft target, which is a constant.
    with torch.no_grad():
        next_action, next_log_prob = _sample(agent.actor, next_obs)
        next_q1, next_q2 = agent.critic_target(next_obs, next_action)
        target = reward + discount * (torch.min(next_q1, next_q2) - agent.alpha * next_log_prob)
    q1, q2 = agent.critic(obs, action)
    critic_loss = ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
    agent.critic_opt.zero_grad(set_to_none=True)
    critic_loss.backward()
    agent.critic_opt.step()
    metrics = {"critic_loss": critic_loss.detach()}
    agent.updates += 1

    if agent.updates % c.actor_update_every == 0:
        # Actor: eq. (3), the gradient flows through the critic into the action; alpha is a constant.
        new_action, log_prob = _sample(agent.actor, obs)
        q1, q2 = agent.critic(obs, new_action)
        actor_loss = (agent.alpha.detach() * log_prob - torch.min(q1, q2)).mean()
        agent.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward(inputs=list(agent.actor.parameters()))
        agent.actor_opt.step()
        # Temperature: alpha grows when the policy's entropy is below the target.
        alpha_loss = (agent.log_alpha.exp() * (-log_prob - agent.target_entropy).detach()).mean()
        agent.alpha_opt.zero_grad(set_to_none=True)
        alpha_loss.backward()
        agent.alpha_opt.step()
        metrics.update(actor_loss=actor_loss.detach(), alpha=agent.alpha.detach())

    if agent.updates % c.target_update_every == 0:
        with torch.no_grad():  # Polyak: target <- (1 - tau) target + tau online
            for target_p, online_p in zip(agent.critic_target.parameters(), agent.critic.parameters()):
                target_p.lerp_(online_p, c.tau)
    return metrics
    # END SOLUTION
