"""Experiments behind notebooks 03-05: eq. (5)'s bound against measured gradients, the power
method's convergence, SN tracking sigma during training, and the heads side by side.

``course_lib.spectral`` holds the *concepts* (power iteration, SN, the bound); this module holds the
*measurements* the notebooks plot, each a plain function that takes a seed and returns a pandas
DataFrame (or a small dataclass), so a notebook cell, a widget and a test all call the same code.

The critic the paper reasons about (Sec. 4, eq. 4) takes ``[phi(s) || a]``; the gradient it passes to
the actor (eq. 3) is ``dQ/da``. Any measured ``||dQ/da||`` is a *lower* bound on the critic's
Lipschitz constant and eq. (5)'s product of spectral norms is an *upper* bound; the notebooks show
how far apart the two are and how that gap grows with depth.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from course_lib import nets, spectral

__all__ = [
    "FEATURE_DIM", "ACTION_DIM",
    # notebook 03
    "linear_gain_table", "sample_critic_inputs", "synthetic_q", "random_critic", "train_critic",
    "layernorm_min_input_std", "critic_lipschitz_row", "bound_vs_measured",
    # notebook 04
    "matrix_with_spectrum", "power_iteration_errors", "power_convergence_table",
    "track_sigma_during_training",
    # notebook 05
    "head_parameter_count", "heads_table", "agent_weight_table", "HeadReport", "head_report",
]

FEATURE_DIM = 50  # DrQ's encoder feature size (Linear -> LayerNorm -> tanh to 50-d)
ACTION_DIM = 6  # e.g. walker / cheetah; the critic input is [phi(s) || a] of size 56


def _generator(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return torch.Generator().manual_seed(int(seed))


def _one_thread(fn):
    """Run ``fn`` with one intra-op thread, then restore the previous setting.

    These experiments use small matrices, where one thread is about as fast as several; more
    threads than free cores (two notebooks on a 2-core CI runner) slow them down many-fold, and a
    fixed thread count keeps the floating-point summation order, so the stored notebook outputs
    re-execute to the same digits on any machine.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(previous)

    return wrapper


def _check_depths(depths) -> list[int]:
    depths = list(depths)
    if not depths or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in depths):
        raise ValueError(f"depths must be a non-empty list of integers >= 1, got {depths!r}")
    return [int(d) for d in depths]


# --------------------------------------------------------------------------------------------
# Notebook 03: the Lipschitz constant of a linear layer, and eq. (5) against measured gradients
# --------------------------------------------------------------------------------------------

def linear_gain_table(W: torch.Tensor, sample_sizes=(10, 100, 1_000, 10_000, 100_000), seed: int = 0) -> pd.DataFrame:
    """How close does ``max ||W x|| / ||x||`` over random ``x`` get to ``sigma_max(W)``?

    The Lipschitz constant of ``x -> W x`` is ``sup_x ||W x|| / ||x||`` (Sec. 4: "the operator norm
    ``||w_i||``, equal to the largest singular value"). Random directions never exceed it, and approach
    it only slowly in high dimension, which is why we compute ``sigma_max`` instead of sampling.

    Returns one row per sample size: ``n_samples, max_gain, sigma_max, max_gain/sigma_max``.
    """
    spectral._check_matrix(W)
    sizes = sorted(int(n) for n in sample_sizes)
    if not sizes or sizes[0] < 1:
        raise ValueError(f"sample_sizes must be positive integers, got {sample_sizes!r}")
    W = W.detach().double()
    x = torch.randn(sizes[-1], W.shape[1], generator=_generator(seed), dtype=torch.float64)
    gains = (x @ W.T).norm(dim=1) / x.norm(dim=1)
    running_max = torch.cummax(gains, dim=0).values
    sigma = torch.linalg.matrix_norm(W, ord=2).item()
    rows = [dict(n_samples=n, max_gain=running_max[n - 1].item(), sigma_max=sigma) for n in sizes]
    df = pd.DataFrame(rows)
    df["fraction_of_sigma"] = df.max_gain / df.sigma_max
    return df


def sample_critic_inputs(n: int, feature_dim: int = FEATURE_DIM, action_dim: int = ACTION_DIM,
                         seed: int = 0) -> torch.Tensor:
    """A batch of critic inputs ``[phi(s) || a]`` that look like the real ones.

    DrQ's features come out of ``tanh`` (so they lie in ``[-1, 1]``); actions are tanh-squashed
    (eq. 1), also in ``[-1, 1]``. We draw ``phi = tanh(N(0, 1))`` and ``a ~ U(-1, 1)``.
    """
    nets._check_positive_int("n", n)
    g = _generator(seed)
    phi = torch.tanh(torch.randn(n, feature_dim, generator=g))
    a = 2 * torch.rand(n, action_dim, generator=g) - 1
    return torch.cat([phi, a], dim=1)


def synthetic_q(inputs: torch.Tensor, action_dim: int = ACTION_DIM,
                seed: int = 1234) -> tuple[torch.Tensor, torch.Tensor]:
    """A made-up ``Q*(s, a)`` with a known action gradient, used as a regression target.

    ``Q*(phi, a) = sin(phi . c) - ||a - tanh(phi M)||^2``: the best action is ``tanh(phi M)`` and
    ``dQ*/da = -2 (a - tanh(phi M))``. ``M`` and ``c`` are fixed by ``seed`` (not the data seed).

    Returns ``(q, dq_da_norm)``: targets of shape ``(n, 1)`` and the true ``||dQ*/da||`` per sample.
    """
    feature_dim = inputs.shape[1] - action_dim
    if feature_dim < 1:
        raise ValueError(f"inputs have {inputs.shape[1]} columns, not enough for {action_dim} action dims")
    g = _generator(seed)
    M = (torch.randn(feature_dim, action_dim, generator=g) / math.sqrt(feature_dim)).to(inputs)
    c = (torch.randn(feature_dim, generator=g) / math.sqrt(feature_dim)).to(inputs)
    phi, a = inputs[:, :feature_dim], inputs[:, feature_dim:]
    diff = a - torch.tanh(phi @ M)
    q = torch.sin(phi @ c) - diff.square().sum(dim=1)
    return q.unsqueeze(1), 2 * diff.norm(dim=1)


def random_critic(arch: str, depth: int, *, hidden_dim: int = 256, spectral_norm: bool = False,
                  gain: float = 1.0, feature_dim: int = FEATURE_DIM, action_dim: int = ACTION_DIM,
                  seed: int = 0) -> nn.Module:
    """A freshly initialised critic head ``[phi || a] -> Q`` (``nets.make_head``, DrQ's orthogonal init).

    ``gain`` multiplies every Linear weight (the un-normalized one under SN): with ``gain=1`` an
    orthogonal MLP layer has ``sigma_max = 1`` exactly, so eq. (5) gives 1; ``gain > 1`` mimics weights
    that have grown during training (Fig. 3) and shows what SN removes.
    """
    if not (isinstance(gain, (int, float)) and gain > 0):
        raise ValueError(f"gain must be a positive number, got {gain!r}")
    torch.manual_seed(int(seed))  # make_head draws its init from the global generator
    head = nets.make_head(arch, feature_dim + action_dim, 1, hidden_dim=hidden_dim, depth=depth,
                          spectral_norm=spectral_norm)
    if gain != 1.0:
        with torch.no_grad():
            for m in head.modules():
                if isinstance(m, nn.Linear):
                    w = m.parametrizations.weight.original if spectral.has_spectral_norm(m) else m.weight
                    w.mul_(gain)
    return head


def train_critic(head: nn.Module, steps: int = 300, batch_size: int = 256, lr: float = 1e-3,
                 action_dim: int = ACTION_DIM, seed: int = 0) -> list[float]:
    """Regress ``head`` onto :func:`synthetic_q` with Adam (fresh samples every step); return losses.

    This is what "trained critic" means in notebook 03: a few hundred supervised steps on a known
    target, seconds on a CPU. It is *not* a critic trained by an RL agent (notebooks 06-08 do that);
    it shows what fitting real structure does to the spectral norms and to ``dQ/da``.
    """
    nets._check_positive_int("steps", steps)
    feature_dim = head_in_features(head) - action_dim
    dtype = next(head.parameters()).dtype  # train in the head's precision (float64 in notebook 03)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    head.train()
    losses = []
    for step in range(steps):
        x = sample_critic_inputs(batch_size, feature_dim, action_dim, seed=seed * 100_003 + step).to(dtype)
        target, _ = synthetic_q(x, action_dim)
        loss = (head(x) - target).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def head_in_features(head: nn.Module) -> int:
    """Input size of a head from ``nets.make_head`` (its first Linear)."""
    first = next(m for m in head.modules() if isinstance(m, nn.Linear))
    return first.in_features


@torch.no_grad()
def layernorm_min_input_std(net: nn.Module, inputs: torch.Tensor) -> float | None:
    """Smallest per-sample standard deviation any LayerNorm in ``net`` sees on ``inputs`` (None if no LN).

    LayerNorm's local slope is ``|gamma| / sqrt(var + eps)`` (``spectral.layernorm_lipschitz``); on the
    region where every LN input has ``std >= min_std`` the bound uses this value instead of the global
    worst case ``std -> 0``. It is a bound for *those* inputs only, not a global Lipschitz constant.
    """
    stds: list[float] = []
    hooks = [m.register_forward_pre_hook(lambda m, inp: stds.append(inp[0].std(-1, unbiased=False).min().item()))
             for m in net.modules() if isinstance(m, nn.LayerNorm)]
    try:
        with spectral._eval_mode(net):
            net(inputs)
    finally:
        for h in hooks:
            h.remove()
    return min(stds) if stds else None


def critic_lipschitz_row(head: nn.Module, inputs: torch.Tensor, action_dim: int = ACTION_DIM) -> dict:
    """Bound vs measurement for one critic on one batch of inputs.

    Keys: ``bound`` (eq. 5, global; for modern heads with LayerNorm's global constant),
    ``region_bound`` (LayerNorm evaluated at the smallest input std seen on ``inputs``; equal to
    ``bound`` for MLPs), ``measured`` (max ``||dQ/da||`` over ``inputs``), ``mean_measured``.
    """
    dq_da = spectral.input_gradient_norms(head, inputs, wrt=slice(inputs.shape[1] - action_dim, None))
    min_std = layernorm_min_input_std(head, inputs)
    bound = spectral.lipschitz_upper_bound(head)
    region = bound if min_std is None else spectral.lipschitz_upper_bound(head, layernorm_min_std=min_std)
    return dict(bound=bound, region_bound=region, measured=dq_da.max().item(), mean_measured=dq_da.mean().item())


@_one_thread
def bound_vs_measured(arch: str, depths=(1, 2, 4, 8), *, hidden_dim: int = 256, spectral_norm: bool = False,
                      trained: bool = False, train_steps: int = 300, train_batch_size: int = 256, gain: float = 1.0,
                      n_inputs: int = 4096, dtype: torch.dtype = torch.float64, seed: int = 0) -> pd.DataFrame:
    """Eq. (5)'s bound against the measured ``max ||dQ/da||`` for critics of growing depth.

    For every depth a critic is built with :func:`random_critic` (and, if ``trained``, fitted with
    :func:`train_critic`), then measured on ``n_inputs`` samples from :func:`sample_critic_inputs`.

    Returns one row per depth with columns ``arch, depth, sn, weights ("random"/"trained"), bound,
    region_bound, measured, mean_measured, true_max`` (the target's own max ``||dQ*/da||``, trained
    rows only), ``looseness = bound / measured`` and ``region_looseness``. The invariant
    ``measured <= region_bound <= bound`` holds in every row (tests check it).

    Everything runs in ``dtype`` (float64 by default): training amplifies rounding differences, and
    in double precision they stay far below the digits the notebook prints.
    """
    inputs = sample_critic_inputs(n_inputs, seed=seed + 1).to(dtype)
    _, true_grad = synthetic_q(inputs)
    rows = []
    for depth in _check_depths(depths):
        head = random_critic(arch, depth, hidden_dim=hidden_dim, spectral_norm=spectral_norm, gain=gain,
                             seed=seed).to(dtype)
        if trained:
            train_critic(head, steps=train_steps, batch_size=train_batch_size, seed=seed)
        row = dict(arch=arch, depth=depth, sn=bool(spectral_norm), weights="trained" if trained else "random")
        row.update(critic_lipschitz_row(head, inputs))
        row["true_max"] = true_grad.max().item() if trained else float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    df["looseness"] = df.bound / df.measured
    df["region_looseness"] = df.region_bound / df.measured
    return df


# --------------------------------------------------------------------------------------------
# Notebook 04: the power method and spectral normalization
# --------------------------------------------------------------------------------------------

def matrix_with_spectrum(singular_values, n_cols: int | None = None, seed: int = 0) -> torch.Tensor:
    """A float64 matrix ``U diag(s) V^T`` with exactly the given singular values (random U, V).

    Shape ``(len(s), n_cols)``; ``n_cols`` defaults to ``len(s)``.
    """
    s = torch.as_tensor(list(singular_values), dtype=torch.float64)
    if s.dim() != 1 or len(s) == 0 or (s < 0).any():
        raise ValueError(f"singular_values must be a non-empty list of numbers >= 0, got {singular_values!r}")
    m = len(s)
    n = m if n_cols is None else int(n_cols)
    if n < m:
        raise ValueError(f"n_cols must be >= len(singular_values) = {m}, got {n}")
    g = _generator(seed)
    U, _ = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(n, m, generator=g, dtype=torch.float64))
    return U @ torch.diag(s) @ V.T


def power_iteration_errors(W: torch.Tensor, n_iters: int, seed: int = 0) -> pd.DataFrame:
    """Errors of ``spectral.power_iteration`` after ``k = 0 .. n_iters`` steps from one random start.

    Columns: ``k``, ``sigma_est`` (``u^T W v``), ``sigma_rel_error = (sigma_1 - sigma_est) / sigma_1``,
    ``u_error = sin(angle(u_k, u_1))`` (distance of the left vector to the true top singular vector).
    Theory (power method on ``W W^T``): ``tan angle(u_k, u_1)`` shrinks by ``(sigma_2/sigma_1)^2`` per
    step, so ``u_error ~ C (sigma_2/sigma_1)^(2k)``; ``sigma_est`` is a Rayleigh quotient and its error
    is about the square of the vector error.
    """
    spectral._check_matrix(W)
    W = W.detach().double()
    U, S, _ = torch.linalg.svd(W)
    u_true = U[:, 0]
    u0 = torch.randn(W.shape[0], generator=_generator(seed), dtype=torch.float64)
    rows = []
    for k in range(n_iters + 1):
        sigma, u, _ = spectral.power_iteration(W, k, u=u0)
        # sin of the angle as the length of u's part orthogonal to u_1: accurate down to 1e-16,
        # where sqrt(1 - cos^2) would bottom out near 1e-8.
        orthogonal = u - torch.dot(u, u_true) * u_true
        rows.append(dict(k=k, sigma_est=sigma.item(), sigma_rel_error=(S[0] - sigma).item() / S[0].item(),
                         u_error=orthogonal.norm().item()))
    return pd.DataFrame(rows)


@_one_thread
def power_convergence_table(ratios=(0.5, 0.8, 0.9, 0.99), n_iters: int = 30, dim: int = 64,
                            seed: int = 0) -> pd.DataFrame:
    """Power-method errors for matrices with ``sigma_2 / sigma_1 = ratio`` (sigma_1 = 1).

    Each matrix is ``dim x dim`` with spectrum ``1, ratio, ratio*0.9, ratio*0.9^2, ...`` so the gap
    between the first two singular values is what varies. Long format: ``ratio`` plus the columns of
    :func:`power_iteration_errors` plus ``theory = u_error[0] * ratio^(2k)`` (the asymptotic rate,
    started from the measured initial error; it bounds ``tan`` of the angle, which is ``>= sin``).
    """
    frames = []
    for i, r in enumerate(ratios):
        if not 0 < r < 1:
            raise ValueError(f"ratios must lie strictly between 0 and 1 (sigma_2 < sigma_1), got {r}")
        spectrum = [1.0] + [r * 0.9**j for j in range(dim - 1)]
        W = matrix_with_spectrum(spectrum, seed=seed + i)
        df = power_iteration_errors(W, n_iters, seed=seed)
        u0 = df.u_error.iloc[0]
        tan0 = u0 / math.sqrt(max(1e-300, 1 - u0 * u0))
        df.insert(0, "ratio", r)
        df["theory"] = tan0 * r ** (2 * df.k)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


@_one_thread
def track_sigma_during_training(steps: int = 200, lr: float = 1e-2, width: int = 64, n_power_iterations: int = 1,
                                seed: int = 0) -> pd.DataFrame:
    """Does one power step per training step keep up with a weight that Adam keeps changing?

    A small regression net ``Linear -> ReLU -> SN(Linear) -> ReLU -> Linear`` (our SN, i.e. the
    course's ``spectral.spectral_norm``) is trained with Adam on a random smooth target. After every
    optimizer step we record, for the SN layer's *un-normalized* weight ``W``:

    * ``sigma_exact``: ``sigma_max(W)`` from ``torch.linalg.svdvals``, and ``sigma_2`` (the spectral
      gap ``sigma_2 / sigma_1`` sets how fast the power method can follow);
    * ``sigma_sn``: SN's running estimate ``u^T W v`` after the forward pass's power step(s), i.e. what
      the layer divided by (warm-started from the previous step's ``u``);
    * ``sigma_cold``: the estimate from ``n_power_iterations`` steps started from a *fresh* random ``u``,
      to show why SN keeps ``u`` between steps;
    * ``normalized_sigma``: exact ``sigma_max`` of the weight the layer actually used, ``W / sigma_sn``.

    Runs in float64, so that 200 Adam steps re-execute to the same printed digits everywhere.
    """
    nets._check_positive_int("steps", steps)
    g = _generator(seed)
    torch.manual_seed(int(seed))
    first = nn.Linear(8, width)  # created in this order: the global RNG draws fix the initial weights
    sn_linear = spectral.spectral_norm(nn.Linear(width, width), n_power_iterations)
    net = nn.Sequential(first, nn.ReLU(), sn_linear, nn.ReLU(), nn.Linear(width, 1)).double()
    sn_layer = net[2]
    state = sn_layer.parametrizations.weight[0]
    A = torch.randn(8, 8, generator=g, dtype=torch.float64)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    rows = []
    for step in range(1, steps + 1):
        x = torch.randn(128, 8, generator=g, dtype=torch.float64)
        y = torch.sin(x @ A).sum(dim=1, keepdim=True) * 3  # needs a large gain: pushes W to grow
        loss = (net(x) - y).square().mean()  # training-mode forward: one power step on the current W
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():
            W = sn_layer.parametrizations.weight.original.detach().clone()  # the W this forward normalized
            sigma_sn = torch.dot(state._u, W @ state._v).item()
        opt.step()
        with torch.no_grad():
            s1, s2 = torch.linalg.svdvals(W)[:2].tolist()
            cold, _, _ = spectral.power_iteration(W, n_power_iterations, generator=g)
            rows.append(dict(step=step, loss=loss.item(), sigma_exact=s1, sigma_2=s2, sigma_sn=sigma_sn,
                             sigma_cold=cold.item(), normalized_sigma=s1 / sigma_sn))
    df = pd.DataFrame(rows)
    df["sn_rel_error"] = (df.sigma_exact - df.sigma_sn) / df.sigma_exact
    df["cold_rel_error"] = (df.sigma_exact - df.sigma_cold) / df.sigma_exact
    return df


# --------------------------------------------------------------------------------------------
# Notebook 05: the heads side by side, and the report behind the widget panel
# --------------------------------------------------------------------------------------------

def head_parameter_count(arch: str, in_dim: int, out_dim: int, hidden_dim: int = 1024, depth: int = 2,
                         inner_dim: int | None = None) -> int:
    """Trainable parameters of a head, by formula (no network is built).

    ``inner_dim`` is the width of ``w1`` in a modern block (default ``2 * hidden_dim`` as in
    ``nets.ModernHead``); giving it lets you ask "what if the paper used ``h``?" (notebook 05, Table 3).
    Equals ``nets.count_parameters(nets.make_head(...))`` for the default (tests check it).
    """
    if arch not in nets.ARCHS:
        raise ValueError(f"unknown head architecture {arch!r}; allowed: {', '.join(nets.ARCHS)}")
    for name, v in dict(in_dim=in_dim, out_dim=out_dim, hidden_dim=hidden_dim, depth=depth).items():
        nets._check_positive_int(name, v)
    h = hidden_dim
    linear = lambda i, o: i * o + o  # noqa: E731  weight + bias
    if arch == "mlp":
        return linear(in_dim, h) + (depth - 1) * linear(h, h) + linear(h, out_dim)
    inner = 2 * h if inner_dim is None else inner_dim
    nets._check_positive_int("inner_dim", inner)
    block = 2 * h + linear(h, inner) + linear(inner, h)  # LayerNorm gamma, beta + w1 + w2
    return linear(in_dim, h) + depth * block + linear(h, out_dim)


HEAD_CONFIGS = {  # Table 3's four heads; modern actors have 2 blocks (Sec. 3.2)
    "mlp2": ("mlp", 2, 2),
    "mlp4": ("mlp", 4, 4),
    "modern2": ("modern", 2, 2),
    "modern4": ("modern", 4, 2),
}


def heads_table(hidden_dim: int = 1024, feature_dim: int = FEATURE_DIM, action_dim: int = ACTION_DIM) -> pd.DataFrame:
    """Critic and actor heads of Table 3 side by side: layers, parameters, float32 weight megabytes.

    The critic maps ``[phi || a]`` (``feature_dim + action_dim``) to one Q value; the actor maps ``phi``
    to a mean and a log-std per action dimension (``2 * action_dim``). Counts come from the real modules
    (built on PyTorch's ``meta`` device, so nothing is allocated) and SN changes none of them.
    """
    rows = []
    for name, (arch, critic_depth, actor_depth) in HEAD_CONFIGS.items():
        with torch.device("meta"):
            critic = nets.make_head(arch, feature_dim + action_dim, 1, hidden_dim, critic_depth)
            actor = nets.make_head(arch, feature_dim, 2 * action_dim, hidden_dim, actor_depth)
        c, a = nets.count_parameters(critic), nets.count_parameters(actor)
        rows.append(dict(config=name, arch=arch, critic_depth=critic_depth, actor_depth=actor_depth,
                         critic_linears=sum(isinstance(m, nn.Linear) for m in critic.modules()),
                         critic_params=c, actor_params=a, critic_MB=4 * c / 1e6, actor_MB=4 * a / 1e6))
    return pd.DataFrame(rows)


def agent_weight_table(inner_multipliers=(2, 1), hidden_dim: int = 1024, action_dim: int = ACTION_DIM,
                       obs_shape=(9, 84, 84)) -> pd.DataFrame:
    """Float32 weight memory of a whole DrQ agent, to set beside Table 3's "act mem".

    What we count (DrQ's layout): the critic's encoder (4 convs + Linear/LayerNorm trunk), the actor's
    own trunk (its convs are tied to the critic's), the target critic's encoder copy, one actor head
    and four critic heads (Q1, Q2 and their targets). ``inner_multipliers`` sets the modern blocks'
    ``w1`` width as a multiple of ``hidden_dim`` (ours: 2). Memory the paper's PyTorch measurement also
    saw (CUDA allocator blocks, inputs, buffers) is not counted, so expect our numbers to be a bit lower.
    """
    with torch.device("meta"):
        encoder = nets.ConvEncoder(tuple(obs_shape))
        trunk = nets.Trunk(encoder.out_dim, FEATURE_DIM)
    conv, fc = nets.count_parameters(encoder), nets.count_parameters(trunk)
    encoders = 2 * (conv + fc) + fc  # critic, target critic, actor's own trunk
    rows = []
    for name, (arch, critic_depth, actor_depth) in HEAD_CONFIGS.items():
        for mult in inner_multipliers if arch == "modern" else (None,):
            inner = None if mult is None else int(mult * hidden_dim)
            critic = head_parameter_count(arch, FEATURE_DIM + action_dim, 1, hidden_dim, critic_depth, inner)
            actor = head_parameter_count(arch, FEATURE_DIM, 2 * action_dim, hidden_dim, actor_depth, inner)
            total = encoders + actor + 4 * critic
            rows.append(dict(config=name, inner_width="-" if mult is None else f"{mult}h",
                             params_M=total / 1e6, weights_MB=4 * total / 1e6))
    return pd.DataFrame(rows)


@dataclass
class HeadReport:
    """What the notebook-05 panel shows for one head (see :func:`head_report`)."""

    summary: pd.DataFrame  # one row: arch, depth, sn, hidden, gain, params, bounds, measured Lipschitz
    layers: pd.DataFrame  # one row per Linear: sigma_max of the effective weight, parameter-gradient norm
    dq_da: np.ndarray  # per-sample ||dQ/da|| on the random batch


@_one_thread
def head_report(arch: str = "modern", depth: int = 4, sn: bool = False, *, hidden_dim: int = 256,
                gain: float = 1.0, n_inputs: int = 1024, seed: int = 0) -> HeadReport:
    """Build a random critic head and measure what notebook 05's widget shows.

    * parameters (``nets.count_parameters``);
    * eq. (5)'s Lipschitz upper bound (global) and the LayerNorm region-restricted one;
    * the measured Lipschitz estimate ``max ||dQ/da||`` over ``n_inputs`` random critic inputs;
    * per-layer ``sigma_max`` and the norm of each Linear weight's gradient for a regression loss on
      :func:`synthetic_q` (a critic-like loss; how the gradient spreads over depth).
    """
    head = random_critic(arch, depth, hidden_dim=hidden_dim, spectral_norm=sn, gain=gain, seed=seed)
    inputs = sample_critic_inputs(n_inputs, seed=seed + 1)
    row = critic_lipschitz_row(head, inputs)
    dq_da = spectral.input_gradient_norms(head, inputs, wrt=slice(FEATURE_DIM, None))

    target, _ = synthetic_q(inputs)
    head.zero_grad()
    with spectral._eval_mode(head):  # eval: reading gradients must not advance SN's power iteration
        (head(inputs) - target).square().mean().backward()
    sigmas = spectral.layer_spectral_norms(head)
    layer_rows = []
    for name, m in head.named_modules():
        if isinstance(m, nn.Linear):
            w = m.parametrizations.weight.original if spectral.has_spectral_norm(m) else m.weight
            layer_rows.append(dict(layer=name, sn=spectral.has_spectral_norm(m), sigma_max=sigmas[name],
                                   grad_norm=w.grad.norm().item()))
    head.zero_grad()
    summary = pd.DataFrame([dict(arch=arch, depth=depth, sn=bool(sn), hidden=hidden_dim, gain=float(gain),
                                 params=nets.count_parameters(head), bound=row["bound"],
                                 region_bound=row["region_bound"], measured_lipschitz=row["measured"],
                                 mean_dq_da=row["mean_measured"])])
    return HeadReport(summary=summary, layers=pd.DataFrame(layer_rows), dq_da=dq_da.numpy())
