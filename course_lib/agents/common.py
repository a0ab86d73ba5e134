"""What SAC and DDPG share: the twin critic and its loss, target networks, the optimizer step with
its gradient norm, acting mode, checkpoints.

Both agents of the paper (Sec. 2.2) train a critic ``Q_psi(a, s)`` on the Bellman residual of
eq. (2) against a *target* critic "whose weights are the exponentially averaged weights of the
critic", and both use two critics and the minimum of their targets (clipped double Q-learning, as
DrQ and DrQ-v2 do). The actor-specific parts (eq. 1 vs. scheduled noise) live in ``sac.py`` and
``ddpg.py``.

Features. From states the heads read the flat state vector. From pixels a conv encoder (trained by
the critic's loss only) gives flat conv features, and each of actor and critic has its own small
trunk (Linear -> LayerNorm -> tanh to 50 dims, :class:`course_lib.nets.Trunk`) before its head: that
is DrQ-v2's layout, and DrQ's too (DrQ's actor and critic encoders share the conv layers and each
has its own Linear + LayerNorm).
"""
from __future__ import annotations

import contextlib
import copy

import torch
from torch import nn

from course_lib.config import TrainConfig
from course_lib.nets import Trunk, make_head


class Critic(nn.Module):
    """Twin Q-functions ``Q1(s, a), Q2(s, a)`` on ``[trunk(features) || action]`` (eq. 4's input).

    ``features`` are the flat state (``trunk`` is the identity) or the conv encoder's output
    (``trunk`` is Linear -> LayerNorm -> tanh). The heads ``q1``, ``q2`` come from
    :func:`course_lib.nets.make_head` with the run's ``arch``, ``depth``, ``sn`` and ``hidden_dim``.
    """

    def __init__(self, in_dim: int, action_dim: int, config: TrainConfig, pixels: bool, spectral_norm_fn=None):
        super().__init__()
        self.trunk = Trunk(in_dim, config.feature_dim) if pixels else nn.Identity()
        head_in = (config.feature_dim if pixels else in_dim) + action_dim
        pnorm = config.critic_pnorm  # penultimate normalization (Bjorck et al. 2022), off by default
        # spectral_norm_fn: a hand-written SN for the heads' normalized layers (make_head; None: the library's)
        self.q1 = make_head(config.arch, head_in, 1, config.hidden_dim, config.depth, config.sn, penultimate_norm=pnorm,
                            spectral_norm_fn=spectral_norm_fn)
        self.q2 = make_head(config.arch, head_in, 1, config.hidden_dim, config.depth, config.sn, penultimate_norm=pnorm,
                            spectral_norm_fn=spectral_norm_fn)

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.cat([self.trunk(features), action], dim=-1)
        return self.q1(h), self.q2(h)


def stack_views(x: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` copies of a batch stacked along dim 0 (DrQ's K / M views before augmentation).

    ``x.repeat(n, 1, ...)``, except that one view is ``x`` itself: no copy (from states K = M = 1).
    """
    return x if n == 1 else x.repeat(n, *([1] * (x.dim() - 1)))


def make_target(online: nn.Module) -> nn.Module:
    """A target network: a copy of ``online`` that is never trained, only averaged (:func:`soft_update`).

    It stays in *training* mode on purpose: with spectral normalization each forward then runs
    one power-iteration step on the target's own ``u``/``v`` buffers, so the target normalizes its
    averaged weights by their own estimated sigma. It is only ever called under
    ``torch.no_grad()``.
    """
    target = copy.deepcopy(online)
    target.requires_grad_(False)
    target.train()
    return target


@torch.no_grad()
def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """``target <- (1 - tau) * target + tau * online`` over all parameters (Polyak / EMA).

    With spectral normalization the parameters are the *un-normalized* weights (the
    parametrization's ``original``), so the target averages those and keeps its own power-iteration
    buffers; buffers are never copied.
    """
    target_params = list(target.parameters())
    online_params = list(online.parameters())
    if len(target_params) != len(online_params):
        raise ValueError("target and online networks have different parameter lists")
    # One fused kernel per parameter group instead of a Python loop (matters on CUDA).
    torch._foreach_lerp_(target_params, online_params, tau)


def grad_norm(parameters) -> torch.Tensor:
    """L2 norm of all gradients together, as a tensor on their device (no host sync).

    Taken right after ``backward()`` and before any clipping (the agents do not clip), which is
    what the paper's Fig. 3 plots.
    """
    parameters = list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:  # on the parameters' device: it is stacked with the losses (nonfinite) and logged
        return torch.zeros((), device=parameters[0].device if parameters else None)
    return torch.nn.utils.get_total_norm(grads, norm_type=2.0)


def twin_critic_loss(q1: torch.Tensor, q2: torch.Tensor, target: torch.Tensor, views: int) -> torch.Tensor:
    """Eq. (2) for both critics over ``views`` (DrQ's M) augmented copies of the batch.

    ``q1``, ``q2``: ``(views * batch, 1)``, the copies stacked view after view; ``target``:
    ``(batch, 1)``, already averaged over the K target views. DrQ sums the two critics' mean squared
    errors over the views (``M = 1``: the plain sum of the two MSEs, as DrQ-v2).
    """
    batch = target.shape[0]
    q1, q2 = q1.view(views, batch, 1), q2.view(views, batch, 1)
    return ((q1 - target) ** 2).mean(dim=(1, 2)).sum() + ((q2 - target) ** 2).mean(dim=(1, 2)).sum()


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, parameters,
                   scaler=None) -> torch.Tensor:
    """One gradient step on ``parameters`` only; returns their gradient norm (:func:`grad_norm`).

    ``backward(inputs=parameters)`` gives gradients to these parameters and no others: for the
    actor (eq. 3) the critic is only the path the gradient takes. The norm is taken after
    ``backward()`` and before the step, unclipped (what Fig. 3 plots).
    ``scaler`` (optional, a :class:`course_lib.agents.step_size.SigmaScaledSteps`) divides the
    step of some weights by their spectral norms.
    """
    parameters = list(parameters)
    optimizer.zero_grad(set_to_none=True)
    loss.backward(inputs=parameters)
    norm = grad_norm(parameters)
    if scaler is not None:  # --sigma-scaled-steps (course_lib.agents.step_size): off by default
        scaler.before_step()
        optimizer.step()
        scaler.after_step()
    else:
        optimizer.step()
    return norm


def agent_state_dict(agent) -> dict:
    """An agent's checkpoint: every network of ``agent.networks()``, every optimizer of
    ``agent.optimizers()`` (under the same names) and the update count."""
    state = {name: net.state_dict() for name, net in agent.networks().items()}
    state.update({name: opt.state_dict() for name, opt in agent.optimizers().items()})
    state["updates"] = agent.updates
    for name, scaler in getattr(agent, "step_scalers", {}).items():
        state[name] = scaler.state_dict()
    return state


def load_agent_state_dict(agent, state: dict) -> None:
    """Restore what :func:`agent_state_dict` saved."""
    for name, net in agent.networks().items():
        net.load_state_dict(state[name])
    for name, opt in agent.optimizers().items():
        opt.load_state_dict(state[name])
    for name, scaler in getattr(agent, "step_scalers", {}).items():
        scaler.load_state_dict(state[name])
    agent.updates = int(state["updates"])


def nonfinite(*tensors: torch.Tensor) -> torch.Tensor:
    """A 0-d bool tensor: does any of ``tensors`` hold a NaN or an infinity? (no host sync)"""
    return ~torch.stack([torch.isfinite(t).all() for t in tensors]).all()


@contextlib.contextmanager
def acting_mode(*modules: nn.Module | None):
    """Eval mode for acting: spectral norm then uses its stored ``u, v`` and does not iterate.

    Acting must not change the networks (as in DrQ / DrQ-v2, which act under ``eval_mode``);
    the previous modes are restored afterwards. What ``module.eval()`` and ``module.train(flag)``
    do, flag by flag, but only for the submodules that were training, and writing the ``training``
    flag directly: ``nn.Module.__setattr__``'s checks were half the cost of an action.
    """
    training = [sub for m in modules if m is not None for sub in m.modules() if sub.training]
    for sub in training:
        sub.__dict__["training"] = False
    try:
        with torch.no_grad():
            yield
    finally:
        for sub in training:
            sub.__dict__["training"] = True


def obs_to_tensor(obs, device: torch.device) -> torch.Tensor:
    """One observation from the environment as a batch of one on ``device`` (pixels stay uint8)."""
    return torch.as_tensor(obs, device=device).unsqueeze(0)


def compile_networks(*modules: nn.Module) -> None:
    """``torch.compile`` each module in place (``module.compile()``: state_dict keys stay the same).

    Call it after the target networks are copied: a deep copy of a compiled module would share the
    original's compiled forward.
    """
    import torch._dynamo

    # Online and target critics share one forward code object, called with and without grad and in
    # train/eval mode: allow those variants instead of falling back to eager after 8.
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 32)
    for module in modules:
        module.compile()


def make_optimizer(parameters, heads: list[nn.Module], config: TrainConfig, lr: float) -> torch.optim.Optimizer:
    """Adam (fused) over ``parameters`` at ``lr``; with ``--lr-reference-width`` the matrices of
    ``heads`` whose fan-in grows with the width take ``lr * reference / hidden_dim``
    (:func:`course_lib.agents.step_size.width_transfer_groups`)."""
    if config.lr_reference_width:
        from course_lib.agents.step_size import width_transfer_groups
        groups = width_transfer_groups(parameters, heads, lr, config.hidden_dim, config.lr_reference_width)
        return torch.optim.Adam(groups, lr=lr, fused=True)
    return torch.optim.Adam(parameters, lr=lr, fused=True)


def make_step_scalers(config: TrainConfig, critic_heads: list[nn.Module], actor_heads: list[nn.Module]) -> dict:
    """``{"critic_scaler": ..., "actor_scaler": ...}`` for ``--sigma-scaled-steps``, else ``{}``."""
    if not config.sigma_scaled_steps:
        return {}
    from course_lib.agents.step_size import SigmaScaledSteps, sn_candidate_weights
    return {"critic_scaler": SigmaScaledSteps(sn_candidate_weights(critic_heads)),
            "actor_scaler": SigmaScaledSteps(sn_candidate_weights(actor_heads))}
