"""What the capstones that grade a whole update share (notebook 06's ``sac_update``, 07's ``ddpg_update``).

Their probes run one or two updates on a fixed batch and read the parameters and the returned
metrics; their learning outcome (``learning.register_learning``) runs the course's loop with the
student's update in place of the agent's own.
"""
from __future__ import annotations

from typing import Callable

from .framework import CheckFailed


def params(module) -> list:
    """Copies of a module's parameters, in order: what an update moved, compared after it."""
    return [p.detach().clone() for p in module.parameters()]


def metric(metrics, key: str, what: str, function: str):
    """``metrics[key]`` of the student's ``function`` as a 0-d float tensor, or ``CheckFailed``."""
    import torch

    if not isinstance(metrics, dict):
        raise CheckFailed(f"{function} should return a dict of metrics, got {type(metrics).__name__}")
    if key not in metrics:
        raise CheckFailed(f"the metrics {what} should hold {key!r}; they hold {sorted(map(str, metrics))}")
    value = metrics[key]
    if isinstance(value, torch.Tensor) and value.requires_grad:
        raise CheckFailed(f"metrics[{key!r}] still carries a graph: return it .detach()ed")
    return torch.as_tensor(value, dtype=torch.float32).reshape(())


def logged_metrics(metrics, function: str) -> dict:
    """The student's metrics as the training loop logs them (0-d tensors; anything else dropped)."""
    import torch

    if not isinstance(metrics, dict):
        raise CheckFailed(f"{function} should return a dict of metrics, got {type(metrics).__name__}")
    return {k: torch.as_tensor(v).detach().float().reshape(()) for k, v in metrics.items()
            if isinstance(k, str) and isinstance(v, (torch.Tensor, float, int)) and k != "nonfinite"}


def train_with_update(function: str) -> Callable:
    """``train_fn(fn, config)`` for ``register_learning``: the course's loop with ``fn`` as the update."""

    def train_fn(fn, config):
        from course_lib.train import train

        return train(config, progress=False,
                     update_fn=lambda agent, batch, step: logged_metrics(fn(agent, batch, step), function))

    return train_fn
