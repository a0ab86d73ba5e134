"""Checks of notebook 07 · DrQ-v2: deterministic policy gradients (solutions/ex07_drqv2.py)."""
from __future__ import annotations

import contextlib

from .capstone import metric, params, train_with_update
from .framework import CheckFailed, as_float, register, torch_generator
from .learning import register_learning


@register("ex07_drqv2.n_step_target", points=1, difficulty=2)
def _probe_n_step_target(fn, rng):
    import numpy as np

    out = {}
    for n in (1, 3, 5):
        batch = 24
        rewards = rng.normal(size=(batch, n))
        discounts = np.where(rng.uniform(size=(batch, n)) < 0.15, 0.0, 1.0)  # a few terminal steps
        discounts[0] = 1.0
        steps = rng.integers(1, n + 1, size=batch)
        steps[0], steps[-1] = n, 1  # a full window and the shortest one, always
        for i, k in enumerate(steps):  # past the window: the next episode's steps, never to be used
            rewards[i, k:] = rng.uniform(50, 100, size=n - k)
            discounts[i, k:] = rng.uniform(0, 1, size=n - k)
        bootstrap = rng.normal(size=batch) * 10
        gamma = float(rng.uniform(0.8, 0.999))
        inputs = [rewards, discounts, steps, bootstrap]
        copies = [a.copy() for a in inputs]
        got = fn(*copies, gamma)
        if any(not np.array_equal(a, c) for a, c in zip(inputs, copies)):
            raise CheckFailed("n_step_target modified its inputs; compute into new arrays")
        got = np.asarray(got, dtype=float)
        if got.shape != (batch,):
            raise CheckFailed(f"with B={batch}, n={n}: return an array of shape ({batch},), got {got.shape}")
        out[f"the targets with n={n} (windows of k <= n steps, some ending at a terminal state)"] = got
    return out


@register("ex07_drqv2.exploration_std", points=1, difficulty=1)
def _probe_exploration_std(fn, rng):
    out = {}
    for case in range(3):
        start = float(rng.uniform(0.5, 1.5))
        end = float(rng.uniform(0.0, 0.3)) if case < 2 else float(rng.uniform(1.6, 2.0))  # may rise
        duration = int(rng.integers(1_000, 500_000))
        steps = [0, duration // 3, duration // 2, duration, duration + int(rng.integers(1, 10**6)),
                 int(rng.integers(0, duration)), -int(rng.integers(1, 1000))]
        what = f"linear({start:.3f}, {end:.3f}, {duration})"
        out[what] = {f"at step {s}": as_float(fn(s, start, end, duration), f"exploration_std at step {s}")
                     for s in steps}
    return out


@register("ex07_drqv2.penultimate_normalize", points=1, atol=1e-5, difficulty=1)
def _probe_penultimate_normalize(fn, rng):
    import torch

    g = torch_generator(rng)
    x = torch.randn(6, 16, generator=g) * float(rng.uniform(0.5, 20))
    x[1] = 0.0  # every ReLU off
    x[2] = x[2] * 1e-9  # shorter than eps
    w = torch.randn(16, generator=g)
    leaf = x.clone().requires_grad_(True)
    y = fn(leaf, 1e-6)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        raise CheckFailed(f"return a tensor of the input's shape {tuple(x.shape)}, "
                          f"got {getattr(y, 'shape', type(y).__name__)}")
    if not y.requires_grad:
        raise CheckFailed("the result carries no gradient: compute with torch operations on x, "
                          "without .detach() or numpy")
    (y * w).sum().backward()
    stacked = torch.randn(2, 3, 8, generator=g) * 3
    eps = float(rng.uniform(0.5, 2.0))
    return {"x / max(||x||, 1e-6) on a batch (6, 16)": y.detach(),
            "its gradient of sum(w * output) with respect to x": leaf.grad,
            f"a batch (2, 3, 8), eps={eps:.3f} (norms over the last dimension)": fn(stacked.clone(), eps).detach()}


# --------------------------------------------------------------------------------------------------
# Capstone: ddpg_update, graded twice (probes on fixed batches, and whether the agent learns)
# --------------------------------------------------------------------------------------------------

def _capstone_agent(rng, actor_update_every: int, batch_size: int = 16):
    """A small state DDPG agent (hidden 32, 3-step returns, from a seeded config), a fixed batch for
    it and two agent steps inside its exploration schedule (where the std is neither end's)."""
    import torch

    from course_lib.agents.ddpg import DDPGAgent
    from course_lib.config import TrainConfig

    torch.manual_seed(int(rng.integers(2**31)))
    decay = int(rng.integers(2_000, 20_000))
    cfg = TrainConfig(agent="ddpg", obs="state", hidden_dim=32, batch_size=batch_size, n_step=3,
                      std_decay_steps=decay, actor_update_every=actor_update_every,
                      target_update_every=actor_update_every, seed=int(rng.integers(1, 1000))).resolved()
    obs_dim, action_dim = 5, 2
    agent = DDPGAgent(cfg, (obs_dim,), action_dim, torch.device("cpu"))
    g = torch_generator(rng)
    # As the replay returns 3-step windows: gamma^k for k = 1..3 steps, 0 after a terminal state.
    steps = torch.randint(1, 4, (batch_size, 1), generator=g)
    alive = (torch.rand(batch_size, 1, generator=g) > 0.2).float()
    batch = {"obs": torch.randn(batch_size, obs_dim, generator=g),
             "action": torch.rand(batch_size, action_dim, generator=g) * 2 - 1,
             "reward": torch.rand(batch_size, 1, generator=g) * 3,
             "discount": cfg.discount ** steps.float() * alive,
             "next_obs": torch.randn(batch_size, obs_dim, generator=g)}
    agent_steps = sorted(int(s) for s in rng.integers(decay // 5, 4 * decay // 5, size=2))
    return agent, batch, agent_steps


def _noise_values(rng):
    """The values every normal draw gives in the probes: half small (the clip does not bite, the std
    shows), half large (clipped at any std of the schedule's middle), signs mixed."""
    import numpy as np
    import torch

    small = rng.uniform(0.02, 0.25, size=7)
    large = rng.uniform(0.8, 2.5, size=6)
    values = np.concatenate([small, large]) * rng.choice([-1.0, 1.0], size=13)
    return torch.as_tensor(rng.permutation(values), dtype=torch.float32)


@contextlib.contextmanager
def _fixed_noise(values):
    """Every normal draw of torch gives ``mean + std * values`` (tiled to its shape) meanwhile.

    So the noise of the target action and of the actor's action does not depend on how many draws
    the student's update makes or in which order, while it is large enough for the clip and the
    scheduled std to matter. Covers ``torch.randn``, ``torch.randn_like``, ``torch.normal`` and
    ``Tensor.normal_`` (what ``torch.distributions.Normal`` uses); restored afterwards.
    """
    import torch

    saved = {name: getattr(torch, name) for name in ("randn", "randn_like", "normal")}
    saved_normal_ = torch.Tensor.normal_

    def fill(out, mean=0.0, std=1.0):
        n = out.numel()
        table = values.repeat(n // len(values) + 1)[:n].view(out.shape).to(out.device, out.dtype)
        with torch.no_grad():
            out.copy_(torch.as_tensor(mean, dtype=out.dtype) + torch.as_tensor(std, dtype=out.dtype) * table)
        return out

    def normal(mean, std=1.0, *args, **kwargs):
        return fill(saved["normal"](mean, std, *args, **kwargs), mean, std)

    torch.randn = lambda *a, **k: fill(saved["randn"](*a, **k))
    torch.randn_like = lambda *a, **k: fill(saved["randn_like"](*a, **k))
    torch.normal = normal
    torch.Tensor.normal_ = lambda self, mean=0.0, std=1.0, *a, **k: fill(self, mean, std)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(torch, name, value)
        torch.Tensor.normal_ = saved_normal_




def _one_update(fn, agent, batch, step: int, noise):
    before = agent.updates
    with _fixed_noise(noise):
        metrics = fn(agent, {k: v.clone() for k, v in batch.items()}, step)
    if agent.updates != before + 1:
        raise CheckFailed(f"agent.updates went from {before} to {agent.updates}; add 1 per update")
    return metrics


@register("ex07_drqv2.ddpg_update_critic", function="ddpg_update", points=2, atol=1e-5, difficulty=3)
def _probe_ddpg_update_critic(fn, rng):
    """The first update with ``actor_update_every = target_update_every = 2``: only the critic steps."""
    agent, batch, (step, _) = _capstone_agent(rng, actor_update_every=2)
    noise = _noise_values(rng)
    actor, target = params(agent.actor), params(agent.critic_target)
    metrics = _one_update(fn, agent, batch, step, noise)
    if any(p.grad is not None and p.grad.abs().max() > 0 for p in agent.actor.parameters()):
        raise CheckFailed("after the critic's update the actor has gradients: compute the target "
                          "under torch.no_grad() (it is a constant in eq. 2)")
    for name, old, new in (("the actor", actor, params(agent.actor)),
                           ("the target critic", target, params(agent.critic_target))):
        if any(not bool((a == b).all()) for a, b in zip(old, new)):
            raise CheckFailed(f"the first update changed {name}: with actor_update_every = "
                              "target_update_every = 2 only the critic steps on update 1")
    return {"the critic's loss on update 1": metric(metrics, "critic_loss", "of update 1", "ddpg_update"),
            "the critic's parameters after update 1": params(agent.critic)}


@register("ex07_drqv2.ddpg_update_actor", function="ddpg_update", points=2, atol=1e-5, difficulty=3)
def _probe_ddpg_update_actor(fn, rng):
    """Two updates with DrQ-v2's rhythm (actor and target at every update): everything after them.

    The critic's learning rate is 0 here, so that a mistake in the critic's part (graded by
    ``ddpg_update_critic``) does not cost these points too, and the target critic starts away from
    the critic (its weights halved), so that the Polyak average moves it.
    """
    import torch

    agent, batch, (step1, step2) = _capstone_agent(rng, actor_update_every=1)
    noise = _noise_values(rng)
    g = torch_generator(rng)
    for group in agent.critic_opt.param_groups:
        group["lr"] = 0.0
    with torch.no_grad():
        for p in agent.critic_target.parameters():  # halved: away from the critic, within its range
            p.mul_(0.5)
    _one_update(fn, agent, batch, step1, noise)
    batch2 = {k: v[torch.randperm(len(v), generator=g)] for k, v in batch.items()}
    metrics = _one_update(fn, agent, batch2, step2, noise)
    return {"the actor's loss on update 2": metric(metrics, "actor_loss", "of update 2 (the actor steps)",
                                                   "ddpg_update"),
            "the actor's parameters after update 2": params(agent.actor),
            "the target critic's parameters after update 2": params(agent.critic_target)}


#: The learning outcome's run (``learning.register_learning``): state DDPG on cartpole_balance, the
#: state defaults (hidden 64, batch 256, action repeat 8, 1-step returns, the std decaying from 1.0
#: to 0.1 over the first 5,000 of the 6,000 agent steps) for 48,000 frames; the judge evaluates the
#: trained actor on 5 episodes of its own. Calibration of ``LEARN_THRESHOLD`` (the procedure of
#: tools/calibrate_learning.py, OMP_NUM_THREADS=1): the reference on the training seeds drawn by
#: grading seeds 0..9 was judged at 989, 944, 959, 999, 999, 988, 999, 999, 986, 924 (32-38 s of CPU
#: each; 160-450 s of wall time on a loaded 2-core machine), so 800 passes it on 10 of 10; an
#: untrained actor is judged at 146-299. Not cartpole_swingup: there the reference was judged at
#: 838, 839, 582, 161, 489, 820, 290, 140, 685, 227 on the same seeds (four of ten below 300, an
#: untrained actor 4-40), too spread for a bar that separates training from not training well.
LEARN_TASK = "cartpole_balance"
LEARN_FRAMES = 48_000
LEARN_THRESHOLD = 800


def learn_config(seed: int, smoke: bool = False):
    """The ``TrainConfig`` of the learning check (``smoke``: a tiny budget, for the tests)."""
    from course_lib.config import TrainConfig

    if smoke:
        return TrainConfig(agent="ddpg", obs="state", task=LEARN_TASK, frames=1600, seed_frames=800,
                           eval_every_frames=1600, eval_episodes=1, hidden_dim=32, batch_size=32,
                           std_decay_steps=200, seed=seed, video=False, device="cpu")
    return TrainConfig(agent="ddpg", obs="state", task=LEARN_TASK, frames=LEARN_FRAMES, seed=seed,
                       eval_episodes=5, video=False, device="cpu")




register_learning("ex07_drqv2.ddpg_update_learns", function="ddpg_update", config_fn=learn_config,
                  train_fn=train_with_update("ddpg_update"), threshold=LEARN_THRESHOLD, what="the DDPG agent")
