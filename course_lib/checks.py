"""Instant checks for the exercises: one registry serves notebooks, tests and the grader.

A student writes the bodies in ``exercises/exNN_topic.py``. Every exercise has a *check*: a function
that receives the student's function, runs it on seeded random inputs, compares with the
``course_lib`` reference and raises ``CheckFailed("what is wrong")``. The same registry is used by

- notebooks: ``checks.check("ex01_mdp.value_iteration")`` prints ``✓ correct``, ``✗ <reason>``
  or ``… not written yet``; it never raises because of the student's code;
- tests: ``tests/test_exercises.py`` runs every check against ``solutions/`` (or, with
  ``pytest --exercises PATH``, against a student's copy) and checks that untouched stubs fail;
- the grader: ``python -m course_lib.grade PATH`` runs each check in its own process.

How to add an exercise (three steps, nothing else to touch):

1. In ``solutions/exNN_topic.py`` write the function with its full docstring and put its body
   between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines; run ``make exercises`` (or
   ``python tools/make_exercises.py``) to regenerate the stub in ``exercises/``.
2. In this file, in the section of your notebook (add a section if there is none), write::

       @register("exNN_topic.function_name", points=1)
       def _check_function_name(student_fn):
           ...  # call student_fn on seeded inputs; on a mismatch: raise CheckFailed("why")

   Use the helpers below (``expect_close``, ``expect_shape``) so messages read alike. A check must
   fail for the untouched stub (it raises ``NotImplementedError``) and pass for the solution; keep
   it under a second on a CPU.
3. In the notebook, add a check cell ``checks.check("exNN_topic.function_name")``.
The tests pick the new exercise up from the registry automatically.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np

NOT_WRITTEN = "not written yet (NotImplementedError)"
MAX_REASON = 300  # characters: a student's exception message can be arbitrarily long


class CheckFailed(Exception):
    """The student's function ran but gave a wrong answer; the message says what is wrong."""


@dataclass(frozen=True)
class Exercise:
    name: str  # "exNN_topic.function_name"
    points: int
    check: Callable[[Callable], None]

    @property
    def module(self) -> str:
        return self.name.split(".")[0]

    @property
    def function(self) -> str:
        return self.name.split(".")[1]


REGISTRY: dict[str, Exercise] = {}


def register(name: str, points: int = 1):
    """Decorator: register ``check_fn(student_fn)`` as the check of exercise ``name``."""
    parts = name.split(".")
    if len(parts) != 2 or not parts[0].startswith("ex") or not all(p.isidentifier() for p in parts):
        raise ValueError(f"exercise names look like 'exNN_topic.function_name', got {name!r}")
    if name in REGISTRY:
        raise ValueError(f"exercise {name!r} is registered twice")
    if not isinstance(points, int) or points < 1:
        raise ValueError(f"points must be a positive integer, got {points!r}")

    def decorator(check_fn):
        REGISTRY[name] = Exercise(name, points, check_fn)
        return check_fn

    return decorator


def exercise(name: str) -> Exercise:
    """The registered exercise ``name``; ``ValueError`` (listing the known names) if there is none."""
    if name not in REGISTRY:
        raise ValueError(f"unknown exercise {name!r}; registered: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def default_exercises_dir() -> Path:
    """The course's own ``exercises/`` folder, the one a student edits."""
    import exercises

    return Path(exercises.__path__[0])


def load_module(module: str, source: str | Path | None = None) -> ModuleType:
    """Load ``<source>/<module>.py`` afresh (edits since the last call are picked up).

    ``source`` is a folder such as ``exercises/``, ``solutions/`` or a student's copy; ``None``
    means the course's ``exercises/``. Raises ``FileNotFoundError`` if the file is missing.
    """
    folder = Path(source) if source is not None else default_exercises_dir()
    path = folder / f"{module}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    # A unique name per folder, so a student's copy never shadows the course's own modules.
    name = f"_checked_{abs(hash(str(folder.resolve())))}_{module}"
    loaded = ModuleType(name)
    loaded.__file__ = str(path)
    sys.modules[name] = loaded  # dataclasses and pickling look the module up here
    # Compiled from the text every time: no stale bytecode cache after a quick edit, and no
    # __pycache__ folder written into the student's folder.
    exec(compile(path.read_text(), str(path), "exec"), loaded.__dict__)
    return loaded


def run_check(name: str, module: ModuleType | str | Path | None = None) -> tuple[bool, str]:
    """Run the check of exercise ``name``; return ``(passed, reason)``.

    ``module`` is the student's module object, or a folder holding ``exNN_topic.py`` (default: the
    course's ``exercises/``). Whatever the student's code does (raise, return garbage, fail to
    import) becomes ``(False, reason)``; only an unknown exercise ``name`` raises ``ValueError``.
    """
    ex = exercise(name)
    try:
        loaded = module if isinstance(module, ModuleType) else load_module(ex.module, module)
        student_fn = getattr(loaded, ex.function, None)
        if not callable(student_fn):
            return False, f"{ex.module}.py has no function {ex.function}()"
        ex.check(student_fn)
    except NotImplementedError:
        return False, NOT_WRITTEN
    except CheckFailed as failure:
        return False, str(failure)
    except (Exception, SystemExit) as error:  # the student's code crashed: say how, carry on
        # (KeyboardInterrupt is not caught: interrupting a looping exercise must still work.)
        message = f"raised {type(error).__name__}: {error}"
        return False, message if len(message) <= MAX_REASON else message[: MAX_REASON - 1] + "…"
    return True, "correct"


def check(name: str, module_or_path: ModuleType | str | Path | None = None) -> None:
    """Notebook helper: run the check and print one line: ``✓ correct``, ``✗ <reason>``, or ``…``."""
    passed, reason = run_check(name, module_or_path)
    mark = "✓" if passed else ("…" if reason == NOT_WRITTEN else "✗")
    print(f"{name}: {mark} {reason}")


# ---------------------------------------------------------------------------------------------------
# Helpers for writing checks: consistent messages.
# ---------------------------------------------------------------------------------------------------

def expect_shape(value, shape: tuple, what: str) -> np.ndarray:
    """``value`` as a float array of ``shape``; ``CheckFailed`` naming ``what`` otherwise."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be an array of shape {shape}, got {type(value).__name__}")
    if array.shape != tuple(shape):
        raise CheckFailed(f"{what} should have shape {tuple(shape)}, got {array.shape}")
    return array


def expect_close(value, expected, what: str, atol: float = 1e-6) -> None:
    """``CheckFailed`` unless ``value`` matches ``expected`` (same shape, max error <= atol)."""
    expected = np.asarray(expected, dtype=float)
    array = expect_shape(value, expected.shape, what)
    if not np.all(np.isfinite(array)):
        raise CheckFailed(f"{what} contains NaN or inf")
    error = float(np.abs(array - expected).max()) if array.size else 0.0
    if error > atol:
        raise CheckFailed(f"{what} is off by up to {error:.3g} (allowed {atol:.0e})")


# ===================================================================================================
# Notebook 01 · MDPs and value iteration  (solutions/ex01_mdp.py, reference: course_lib.mdp)
# ===================================================================================================

def _ex01_cases():
    """Seeded MDPs every ex01 check uses: random dense ones and the slippery grid world."""
    from course_lib import mdp

    yield "a random 5-state, 3-action MDP (seed 0), gamma=0.9", mdp.random_mdp(5, 3, seed=0), 0.9
    yield "a random 7-state, 2-action MDP (seed 1), gamma=0.5", mdp.random_mdp(7, 2, seed=1), 0.5
    yield "the grid world (slip 0.2), gamma=0.95", mdp.gridworld(slip=0.2), 0.95


@register("ex01_mdp.bellman_backup", points=1)
def _check_bellman_backup(student_fn):
    from course_lib import mdp

    rng = np.random.default_rng(0)
    for case, m, gamma in _ex01_cases():
        V = rng.normal(size=m.n_states)
        expect_close(student_fn(m, V.copy(), gamma), mdp.bellman_backup(m, V, gamma),
                     f"bellman_backup(V) on {case}")


@register("ex01_mdp.value_iteration", points=2)
def _check_value_iteration(student_fn):
    from course_lib import mdp

    for case, m, gamma in _ex01_cases():
        tol = 1e-6
        result = student_fn(m, gamma, tol)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise CheckFailed("value_iteration should return a tuple (V, history)")
        V, history = result
        V_star, _ = mdp.value_iteration(m, gamma, tol=1e-12)
        # tol / (1 - gamma) also accepts the common stopping rule ||V_{k+1} - V_k|| <= tol.
        expect_close(V, V_star, f"V on {case}", atol=tol / (1 - gamma))
        history = np.asarray(history, dtype=float)
        if history.ndim != 2 or history.shape[1] != m.n_states or len(history) < 2:
            raise CheckFailed(f"history should stack V_0, V_1, ... as shape (K + 1, {m.n_states}), "
                              f"got {history.shape}")
        expect_close(history[0], np.zeros(m.n_states), "history[0] (V_0 starts at zero)")
        expect_close(history[-1], V, "history[-1] (the returned V)")
        for k in range(len(history) - 1):
            expect_close(history[k + 1], mdp.bellman_backup(m, history[k], gamma),
                         f"history[{k + 1}] (one Bellman backup of history[{k}]) on {case}")


@register("ex01_mdp.greedy_policy", points=1)
def _check_greedy_policy(student_fn):
    from course_lib import mdp

    rng = np.random.default_rng(1)
    for case, m, gamma in _ex01_cases():
        V = rng.normal(size=m.n_states)
        policy = np.asarray(student_fn(m, V.copy(), gamma))
        if policy.shape != (m.n_states,) or not np.issubdtype(policy.dtype, np.integer):
            raise CheckFailed(f"greedy_policy should return one integer action per state, shape "
                              f"({m.n_states},); got {policy.dtype} {policy.shape}")
        if policy.min() < 0 or policy.max() >= m.n_actions:
            raise CheckFailed(f"actions must be in [0, {m.n_actions}), got {policy.tolist()}")
        Q = mdp.q_values(m, V, gamma)
        # Ties may go to any maximizing action: compare the Q-value reached, not the index.
        expect_close(Q[np.arange(m.n_states), policy], Q.max(axis=1),
                     f"Q(s, policy(s)) on {case} (should be max_a Q(s, a))")


@register("ex01_mdp.policy_evaluation", points=1)
def _check_policy_evaluation(student_fn):
    from course_lib import mdp

    rng = np.random.default_rng(2)
    for case, m, gamma in _ex01_cases():
        policy = rng.integers(0, m.n_actions, size=m.n_states)
        expect_close(student_fn(m, policy.copy(), gamma), mdp.policy_evaluation(m, policy, gamma),
                     f"V^pi of a random deterministic policy on {case}")


# ===================================================================================================
# Notebook 02 · Actor-critic: SAC and DDPG  (solutions/ex02_actor_critic.py,
#               reference: course_lib.agents.sac, course_lib.agents.ddpg, course_lib.agents.common)
# ===================================================================================================

def _ex02_batch(seed: int, batch: int = 6):
    """Seeded (B, 1) tensors of a replay batch in float64: reward, discount, two target Q's, log pi."""
    import torch

    g = torch.Generator().manual_seed(seed)
    reward = torch.rand(batch, 1, generator=g, dtype=torch.float64)
    discount = 0.99 * (torch.rand(batch, 1, generator=g, dtype=torch.float64) > 0.2)  # some terminal
    next_q1 = 10 * torch.randn(batch, 1, generator=g, dtype=torch.float64)
    next_q2 = 10 * torch.randn(batch, 1, generator=g, dtype=torch.float64)
    next_log_prob = torch.randn(batch, 1, generator=g, dtype=torch.float64)
    return reward, discount, next_q1, next_q2, next_log_prob


@register("ex02_actor_critic.soft_bellman_target", points=1)
def _check_soft_bellman_target(student_fn):
    import torch

    from course_lib.agents import sac

    for seed, alpha in ((0, 0.1), (1, torch.tensor(0.5, dtype=torch.float64)), (2, 0.0)):
        args = _ex02_batch(seed)
        expected = sac.soft_bellman_target(*args, alpha)
        got = student_fn(*(a.clone() for a in args), alpha)
        expect_close(got, expected, f"the target with alpha={float(alpha):g} (seed {seed})", atol=1e-9)


@register("ex02_actor_critic.squashed_gaussian_log_prob", points=2)
def _check_squashed_gaussian_log_prob(student_fn):
    import torch

    from course_lib.agents import sac

    g = torch.Generator().manual_seed(0)
    mu = torch.randn(32, 3, generator=g, dtype=torch.float64)
    log_std = torch.empty(32, 3, dtype=torch.float64).uniform_(-2.0, 0.5, generator=g)
    pre_tanh = (mu + log_std.exp() * torch.randn(32, 3, generator=g, dtype=torch.float64)).clamp(-3, 3)
    expected = sac.squashed_gaussian_log_prob(pre_tanh, mu, log_std)
    got = student_fn(pre_tanh.clone(), mu.clone(), log_std.clone())
    gaussian_only = torch.distributions.Normal(mu, log_std.exp()).log_prob(pre_tanh).sum(-1, keepdim=True)
    try:
        expect_close(got, expected, "log pi(a|s) for moderate pre-tanh values", atol=1e-3)
    except CheckFailed as failure:
        if torch.allclose(torch.as_tensor(got, dtype=torch.float64), gaussian_only, atol=1e-3):
            raise CheckFailed("you return the Gaussian log-density of u only: subtract the tanh "
                              "correction sum_j log(1 - tanh(u_j)^2)") from None
        raise failure
    # Large |u|: 1 - tanh(u)^2 underflows; the stable identity keeps the answer finite and exact.
    pre_tanh = torch.tensor([[12.0, -15.0], [0.5, 20.0]], dtype=torch.float64)
    mu = torch.tensor([[11.0, -14.0], [0.0, 19.0]], dtype=torch.float64)
    log_std = torch.zeros(2, 2, dtype=torch.float64)
    expected = sac.squashed_gaussian_log_prob(pre_tanh, mu, log_std)
    got = student_fn(pre_tanh.clone(), mu.clone(), log_std.clone())
    expect_close(got, expected, "log pi(a|s) for large |u| (12, 15, 20; the stable form "
                 "2 (log 2 - u - softplus(-2u)) of log(1 - tanh(u)^2) is needed there)", atol=1e-6)


def _ex02_actor_and_critic(seed: int, in_dim: int = 5, action_dim: int = 2):
    """A small actor ``tanh(W s + b)`` and twin critics whose minimum switches between them."""
    from collections import OrderedDict

    import torch
    from torch import nn

    class TwinCritic(nn.Module):
        def __init__(self):
            super().__init__()
            self.q1 = nn.Linear(in_dim + action_dim, 1)
            self.q2 = nn.Linear(in_dim + action_dim, 1)

        def forward(self, features, action):
            x = torch.cat([features, action], dim=-1)
            return self.q1(x) - (action ** 2).sum(-1, keepdim=True), self.q2(x) + 0.1 * action[:, :1]

    torch.manual_seed(seed)
    actor = nn.Sequential(OrderedDict(linear=nn.Linear(in_dim, action_dim), tanh=nn.Tanh()))
    return actor, TwinCritic()


@register("ex02_actor_critic.ddpg_actor_loss", points=1)
def _check_ddpg_actor_loss(student_fn):
    import torch

    from course_lib.agents import ddpg

    for seed in (0, 1):
        actor, critic = _ex02_actor_and_critic(seed)
        features = torch.randn(16, 5, generator=torch.Generator().manual_seed(seed))
        expected = ddpg.ddpg_actor_loss(*critic(features, actor(features)))
        expected_grads = torch.autograd.grad(expected, list(actor.parameters()))
        loss = student_fn(actor, critic, features)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise CheckFailed(f"the loss should be a 0-d tensor, got {type(loss).__name__} "
                              f"{tuple(getattr(loss, 'shape', ()))}")
        expect_close(loss.detach(), expected.detach(), f"the loss (seed {seed})", atol=1e-5)
        if not loss.requires_grad:
            raise CheckFailed("the loss carries no gradient to the actor: do not detach the action; "
                              "eq. (3) differentiates Q(s, mu(s)) through the critic into the actor")
        grads = torch.autograd.grad(loss, list(actor.parameters()), allow_unused=True)
        for (name, _), grad, want in zip(actor.named_parameters(), grads, expected_grads):
            if grad is None:
                raise CheckFailed(f"no gradient reaches the actor's {name}: the action must stay "
                                  "attached to the actor (eq. 3)")
            expect_close(grad, want, f"the gradient of the loss w.r.t. the actor's {name}", atol=1e-5)


@register("ex02_actor_critic.soft_update", points=1)
def _check_soft_update(student_fn):
    import copy

    import torch

    from course_lib.agents import common
    from course_lib.nets import make_head

    for tau in (0.01, 0.5, 1.0):
        torch.manual_seed(0)
        online = make_head("mlp", 6, 2, 16, depth=3, spectral_norm=True)
        target = copy.deepcopy(online)
        with torch.no_grad():
            for p in target.parameters():
                p.add_(torch.randn_like(p))
            online(torch.randn(4, 6))  # the online network's power iteration moves its u, v buffers
        online_before = copy.deepcopy(online.state_dict())
        expected = copy.deepcopy(target)
        common.soft_update(expected, online, tau)
        student_fn(target, online, tau)
        for (name, want), got in zip(expected.state_dict().items(), target.state_dict().values()):
            is_param = any(name == n for n, _ in expected.named_parameters())
            what = f"target {'parameter' if is_param else 'buffer'} {name} after tau={tau:g}"
            if not is_param and not torch.equal(got, want):
                raise CheckFailed(f"the {what} changed: average parameters only, buffers (spectral "
                                  "norm's u, v) stay the target's own")
            expect_close(got.detach(), want, f"the {what}", atol=1e-6)
        for name, value in online.state_dict().items():
            if not torch.equal(value, online_before[name]):
                raise CheckFailed(f"soft_update changed the online network's {name}; only the target changes")
        if any(p.grad_fn is not None for p in target.parameters()):
            raise CheckFailed("the target's parameters now carry autograd history: update them under "
                              "torch.no_grad()")


# ===================================================================================================
# Notebook 03 · Lipschitz constants, eq. (5)  (solutions/ex03_lipschitz.py, reference: course_lib.spectral)
# ===================================================================================================

def _ex03_matrices():
    """Seeded matrices of several shapes and dtypes, each with a label for messages."""
    import torch

    g = torch.Generator().manual_seed(3)
    yield "a 5x5 float64 matrix", torch.randn(5, 5, generator=g, dtype=torch.float64)
    yield "a 7x3 float32 matrix", torch.randn(7, 3, generator=g)
    yield "a 3x9 float32 matrix scaled by 4", 4 * torch.randn(3, 9, generator=g)
    yield "a rank-1 4x6 matrix", torch.outer(torch.randn(4, generator=g), torch.randn(6, generator=g))


def _as_float(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number (a Python float), got {type(value).__name__}")


@register("ex03_lipschitz.linear_lipschitz", points=1)
def _check_linear_lipschitz(student_fn):
    import torch

    for case, W in _ex03_matrices():
        expected = torch.linalg.matrix_norm(W.double(), ord=2).item()
        got = _as_float(student_fn(W.clone()), f"linear_lipschitz({case})")
        expect_close(got, expected, f"linear_lipschitz({case})", atol=1e-5 * expected)


@register("ex03_lipschitz.mlp_lipschitz_bound", points=1)
def _check_mlp_lipschitz_bound(student_fn):
    import torch

    from course_lib import lipschitz, spectral

    got = _as_float(student_fn([]), "mlp_lipschitz_bound([])")
    expect_close(got, 1.0, "mlp_lipschitz_bound([]) (an empty product)")
    for depth, gain in [(1, 1.0), (3, 1.7), (5, 0.8)]:
        head = lipschitz.random_critic("mlp", depth, hidden_dim=16, gain=gain, seed=depth)
        weights = [m.weight.detach().clone() for m in head.modules() if isinstance(m, torch.nn.Linear)]
        expected = spectral.lipschitz_upper_bound(head)
        got = _as_float(student_fn(weights), f"mlp_lipschitz_bound of a depth-{depth} MLP")
        expect_close(got, expected, f"mlp_lipschitz_bound of a depth-{depth} MLP (weights x{gain})",
                     atol=1e-5 * expected)


@register("ex03_lipschitz.action_gradient_norms", points=2)
def _check_action_gradient_norms(student_fn):
    from course_lib import lipschitz, spectral

    x = lipschitz.sample_critic_inputs(64, seed=5)
    f = lipschitz.FEATURE_DIM
    for arch in ("mlp", "modern"):
        head = lipschitz.random_critic(arch, 2, hidden_dim=32, gain=1.5, seed=7)
        expected = spectral.input_gradient_norms(head, x, wrt=slice(f, None))
        got = student_fn(head, x[:, :f].clone(), x[:, f:].clone())
        got = got.detach().numpy() if hasattr(got, "detach") else got
        expect_close(got, expected.numpy(), f"||dQ/da|| of a random {arch} critic on 64 samples", atol=1e-5)


# ===================================================================================================
# Notebook 04 · Power iteration and SN  (solutions/ex04_power_iteration.py, reference: course_lib.spectral)
# ===================================================================================================

def _ex04_cases():
    import torch

    g = torch.Generator().manual_seed(4)
    for shape in [(5, 3), (4, 7), (6, 6)]:
        W = torch.randn(*shape, generator=g, dtype=torch.float64)
        u = torch.randn(shape[0], generator=g, dtype=torch.float64)
        yield f"a {shape[0]}x{shape[1]} matrix", W, u


def _unpack(result, n: int, what: str):
    if not (isinstance(result, tuple) and len(result) == n):
        raise CheckFailed(f"{what} should return a tuple of {n} values, got {type(result).__name__}")
    return [r.detach().numpy() if hasattr(r, "detach") else r for r in result]


@register("ex04_power_iteration.power_iteration", points=2)
def _check_power_iteration(student_fn):
    from course_lib import spectral

    for case, W, u in _ex04_cases():
        for k in (0, 1, 3, 30):
            want = [t.detach().numpy() for t in spectral.power_iteration(W, k, u=u)]
            got = _unpack(student_fn(W.clone(), k, u.clone()), 3, "power_iteration")
            for name, g_, w_ in zip(("sigma", "u", "v"), got, want):
                expect_close(g_, w_, f"{name} after {k} steps on {case}", atol=1e-8)


@register("ex04_power_iteration.spectral_normalize", points=1)
def _check_spectral_normalize(student_fn):
    from course_lib import spectral

    for case, W, u in _ex04_cases():
        for k in (1, 5):
            sigma, u_ref, _ = spectral.power_iteration(W, k, u=u)
            got = _unpack(student_fn(W.clone(), u.clone(), k), 2, "spectral_normalize")
            expect_close(got[0], (W / sigma).numpy(), f"W_sn after {k} steps on {case}", atol=1e-8)
            expect_close(got[1], u_ref.numpy(), f"the returned u after {k} steps on {case}", atol=1e-8)


@register("ex04_power_iteration.sn_linear_forward", points=2)
def _check_sn_linear_forward(student_fn):
    import torch
    from torch.nn.utils.parametrizations import spectral_norm as torch_spectral_norm

    torch.manual_seed(11)
    layer = torch_spectral_norm(torch.nn.Linear(6, 4))
    state = layer.parametrizations.weight[0]
    x = torch.randn(3, 6)
    with torch.no_grad():
        # A weight SN has not seen yet (as after an optimizer step), so u and v really move.
        layer.parametrizations.weight.original.add_(torch.randn(4, 6))
        for training in (True, True, False):
            W, b = layer.parametrizations.weight.original.clone(), layer.bias.clone()
            u, v = state._u.clone(), state._v.clone()
            got = _unpack(student_fn(x.clone(), W, b, u, v, training), 3, "sn_linear_forward")
            layer.train(training)
            y = layer(x)  # PyTorch's own forward updates state._u, state._v in training mode
            mode = "training" if training else "eval"
            expect_close(got[0], y.numpy(), f"y in {mode} mode (compared with PyTorch's spectral_norm)", atol=1e-5)
            expect_close(got[1], state._u.numpy(), f"u after a {mode}-mode forward", atol=1e-5)
            expect_close(got[2], state._v.numpy(), f"v after a {mode}-mode forward", atol=1e-5)


# ===================================================================================================
# Notebook 05 · Modern heads  (solutions/ex05_modern.py, reference: course_lib.nets)
# ===================================================================================================

def _ex05_block(dim: int = 8, inner: int = 16, seed: int = 12):
    """A course ResidualBlock with non-trivial LayerNorm parameters, and a seeded input."""
    import torch

    from course_lib import nets

    torch.manual_seed(seed)
    block = nets.ResidualBlock(dim, inner)
    with torch.no_grad():
        block.branch.norm.weight.add_(0.5 * torch.randn(dim))
        block.branch.norm.bias.add_(0.5 * torch.randn(dim))
    return block, 3 * torch.randn(5, dim) + 1


@register("ex05_modern.layer_norm", points=1)
def _check_layer_norm(student_fn):
    import torch
    import torch.nn.functional as F

    block, x = _ex05_block()
    ln = block.branch.norm
    with torch.no_grad():
        expected = F.layer_norm(x, (x.shape[1],), ln.weight, ln.bias, ln.eps)
        got = student_fn(x.clone(), ln.weight.clone(), ln.bias.clone(), ln.eps)
    got = got.detach().numpy() if hasattr(got, "detach") else got
    expect_close(got, expected.numpy(), "layer_norm(x) compared with torch.nn.functional.layer_norm", atol=1e-5)


@register("ex05_modern.residual_block_forward", points=2)
def _check_residual_block_forward(student_fn):
    import torch

    for dim, inner in [(8, 16), (6, 6)]:
        block, x = _ex05_block(dim, inner)
        b = block.branch
        with torch.no_grad():
            expected = block(x)
            got = student_fn(x.clone(), b.norm.weight, b.norm.bias, b.w1.weight, b.w1.bias, b.w2.weight,
                             b.w2.bias, b.norm.eps)
        got = got.detach().numpy() if hasattr(got, "detach") else got
        expect_close(got, expected.numpy(), f"the block output (d={dim}, inner={inner}) compared with "
                     "course_lib.nets.ResidualBlock", atol=1e-5)


@register("ex05_modern.head_parameter_count", points=1)
def _check_head_parameter_count(student_fn):
    import torch

    from course_lib import nets

    for arch, in_dim, out_dim, hidden, depth in [("mlp", 56, 1, 1024, 2), ("mlp", 50, 12, 1024, 4),
                                                 ("mlp", 3, 2, 5, 1), ("modern", 56, 1, 1024, 4),
                                                 ("modern", 50, 12, 1024, 2), ("modern", 3, 2, 5, 1)]:
        with torch.device("meta"):  # count without allocating the weights
            expected = nets.count_parameters(nets.make_head(arch, in_dim, out_dim, hidden, depth))
        got = student_fn(arch, in_dim, out_dim, hidden, depth)
        if got != expected:
            raise CheckFailed(f"head_parameter_count({arch!r}, {in_dim}, {out_dim}, {hidden}, {depth}) "
                              f"returned {got}, the course's head has {expected}")


# ===================================================================================================
# Notebook 06 · DrQ: SAC from pixels  (solutions/ex06_drq.py,
#               reference: course_lib.augment, course_lib.agents.sac)
# ===================================================================================================

def _ex06_all_shifts(images, pad: int):
    """``{(dx, dy): images shifted by (dx, dy)}`` for every offset, from the reference ``shift_images``."""
    import torch

    from course_lib.augment import shift_images

    n = images.shape[0]
    return {(dx, dy): shift_images(images, torch.tensor([[dx, dy]] * n), pad)
            for dx in range(2 * pad + 1) for dy in range(2 * pad + 1)}


def _ex06_offsets(student_out, images, pad: int, what: str) -> list[tuple[int, int]]:
    """The offset of each output image; ``CheckFailed`` if one is not a shifted copy of its input."""
    shifted = _ex06_all_shifts(images, pad)
    offsets = []
    for i in range(images.shape[0]):
        match = [o for o, batch in shifted.items() if (student_out[i] - batch[i]).abs().max() < 0.01]
        if not match:
            raise CheckFailed(f"{what}: image {i} is not a shifted copy of its input; pad every side by "
                              "pad pixels repeating the border (mode='replicate'), then crop an HxW "
                              "window, with the same shift for all channels of the image")
        offsets.append(match[0])
    return offsets


@register("ex06_drq.random_shift", points=2)
def _check_random_shift(student_fn):
    import torch

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (48, 6, 14, 14), generator=g, dtype=torch.uint8)
    out = student_fn(images.clone(), 4, torch.Generator().manual_seed(1))
    if not isinstance(out, torch.Tensor) or out.dtype != torch.float32:
        raise CheckFailed(f"return a float32 tensor, got {getattr(out, 'dtype', type(out).__name__)}")
    expect_shape(out, tuple(images.shape), "the shifted batch")
    offsets = _ex06_offsets(out, images, 4, "pad=4 on uint8 images")
    # Independent, uniform offsets: 48 draws from 81 cells hit ~36 distinct ones, never only a few.
    if len(set(offsets)) < 15:
        raise CheckFailed(f"only {len(set(offsets))} distinct shifts among 48 images: draw an "
                          "independent (dx, dy) for each image, each in 0 .. 2 * pad")
    more = torch.randint(0, 256, (200, 3, 12, 12), generator=g, dtype=torch.uint8)
    many = _ex06_offsets(student_fn(more.clone(), 2, torch.Generator().manual_seed(2)), more, 2, "pad=2")
    for axis, name in ((0, "dx"), (1, "dy")):
        seen = {o[axis] for o in many}
        if seen != set(range(5)):
            raise CheckFailed(f"with pad=2 over 200 images, {name} took the values {sorted(seen)}; "
                              "it should take every value 0 .. 4 (shifts of -2 .. +2 pixels)")
    again = student_fn(images.clone(), 4, torch.Generator().manual_seed(1))
    if not torch.equal(torch.as_tensor(again), out):
        raise CheckFailed("the same seeded generator gave different shifts: pass generator=generator "
                          "to torch.randint")
    floats = images[:4].float() / 7.0
    expect_close(student_fn(floats.clone(), 0, None), floats, "pad=0 (must return the images unchanged)")


@register("ex06_drq.drq_target", points=1)
def _check_drq_target(student_fn):
    import torch

    from course_lib.agents import sac

    for seed, k, alpha in ((0, 2, 0.1), (1, 1, 0.3), (2, 3, torch.tensor(0.05, dtype=torch.float64))):
        reward, discount, _, _, _ = _ex02_batch(seed, batch=5)
        views = _ex02_batch(seed + 10, batch=5 * k)
        next_q1, next_q2, next_log_prob = views[2], views[3], views[4]
        # The reference: eq. (2)'s target per view (course_lib.agents.sac), averaged as SACAgent does.
        per_view = sac.soft_bellman_target(reward.repeat(k, 1), discount.repeat(k, 1), next_q1, next_q2,
                                           next_log_prob, alpha)
        expected = per_view.view(k, 5, 1).mean(0)
        got = student_fn(reward.clone(), discount.clone(), next_q1.clone(), next_q2.clone(),
                         next_log_prob.clone(), alpha, k)
        expect_close(got, expected, f"the target averaged over K={k} views (seed {seed})", atol=1e-9)


@register("ex06_drq.drq_critic_loss", points=1)
def _check_drq_critic_loss(student_fn):
    import torch

    from course_lib.agents.common import twin_critic_loss

    for seed, m in ((0, 2), (1, 1), (2, 3)):
        g = torch.Generator().manual_seed(seed)
        q1 = torch.randn(4 * m, 1, generator=g, dtype=torch.float64, requires_grad=True)
        q2 = torch.randn(4 * m, 1, generator=g, dtype=torch.float64, requires_grad=True)
        target = torch.randn(4, 1, generator=g, dtype=torch.float64, requires_grad=True)
        # The reference: the agents' loss (a sum over views and critics of MSEs).
        expected = twin_critic_loss(q1, q2, target.detach(), m)
        loss = student_fn(q1, q2, target, m)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise CheckFailed(f"the loss should be a 0-d tensor, got shape {tuple(getattr(loss, 'shape', ()))}")
        expect_close(loss.detach(), expected.detach(), f"the loss with M={m} views (seed {seed})", atol=1e-9)
        loss.backward()
        if target.grad is not None and target.grad.abs().max() > 0:
            raise CheckFailed("gradient flows into the target: treat it as a constant (target.detach())")
        if q1.grad is None or q2.grad is None:
            raise CheckFailed("the loss must be differentiable w.r.t. q1 and q2")


# ===================================================================================================
# Notebook 08 · Diagnosing instability  (solutions/ex08_diagnostics.py, reference: course_lib.diagnostics)
# ===================================================================================================

@register("ex08_diagnostics.global_grad_norm", points=1)
def _check_global_grad_norm(student_fn):
    import torch

    from course_lib.agents.common import grad_norm
    from course_lib.nets import make_head

    torch.manual_seed(0)
    head = make_head("modern", 6, 1, hidden_dim=8, depth=2)
    unused = torch.nn.Parameter(torch.ones(3))  # never in the loss: its .grad stays None
    head(torch.randn(16, 6)).square().mean().backward()
    params = [*head.parameters(), unused]
    expected = float(grad_norm(params))  # the reference the agents log (torch.nn.utils.get_total_norm)
    got = student_fn(iter(params))  # an iterator, as module.parameters() is: go through it once
    expect_close(_as_float(got, "the gradient norm"), expected, "the gradient norm of a modern head", atol=1e-5)
    single = torch.nn.Parameter(torch.zeros(2))
    single.grad = torch.tensor([3.0, -4.0])
    expect_close(_as_float(student_fn([single]), "the gradient norm"), 5.0, "the norm of the gradient [3, -4]")
    expect_close(_as_float(student_fn([unused]), "the gradient norm"), 0.0,
                 "the norm when no parameter has a gradient (skip .grad None)")


@register("ex08_diagnostics.orders_of_magnitude_per_1000_frames", points=1)
def _check_orders_of_magnitude(student_fn):
    from course_lib.diagnostics import orders_of_magnitude_per_1000_frames as reference

    rng = np.random.default_rng(0)
    frames = np.arange(5000, 13000, 250)
    for rate in (2.0, 0.0, -0.3):  # decades per 1,000 frames
        values = 1.7 * 10 ** (rate * (frames - frames[0]) / 1000 + rng.normal(0, 0.1, len(frames)))
        expect_close(_as_float(student_fn(frames, values), "the slope"), reference(frames, values),
                     f"the slope of a norm growing {rate:g} decades per 1,000 frames", atol=1e-6)
    crashed = 10.0 ** (frames / 1000)
    crashed[-3:] = [np.inf, np.nan, -1.0]  # a crash: only finite, positive values count
    expect_close(_as_float(student_fn(frames, crashed), "the slope"), 1.0,
                 "the slope when the last rows are inf, NaN and negative (leave them out)", atol=1e-6)
    lone = student_fn(frames[:2], [5.0, np.nan])
    if not (isinstance(lone, float) and math.isnan(lone)):
        raise CheckFailed(f"with one usable value the slope should be nan, got {lone!r}")


# ===================================================================================================
# Notebook 09 · Reproducing the paper  (solutions/ex09_results.py, reference: course_lib.results)
# ===================================================================================================

def _reference_return_at_budget(eval_frames, eval_returns, frames_done, crash_frame, budget):
    """course_lib.results' rule on one run, through its own code path (a run row and its curve)."""
    from types import SimpleNamespace

    import pandas as pd

    from course_lib import results

    run = SimpleNamespace(frames_done=frames_done, status="crashed" if crash_frame is not None else "running",
                          crash_frame=crash_frame)
    curve = pd.DataFrame({"frame": list(eval_frames), "eval_return": list(eval_returns),
                          "crashed": [0] * len(eval_frames)})
    value, _ = results._run_values(run, curve, np.array([budget]))
    return None if np.isnan(value[0]) else float(value[0])


@register("ex09_results.return_at_budget", points=2)
def _check_return_at_budget(student_fn):
    frames, returns = [10_000, 20_000, 30_000, 40_000], [100.0, 250.0, 400.0, 380.0]
    cases = [  # (frames_done, crash_frame, budget, what)
        (40_000, None, 40_000, "a finished run at its budget"),
        (40_000, None, 25_000, "a budget between two evaluations (the last one before it)"),
        (40_000, None, 5_000, "a budget before the first evaluation"),
        (30_000, None, 40_000, "a run that has not reached the budget yet (incomplete)"),
        (33_000, 33_000, 40_000, "a run that crashed before the budget (carry its last return forward)"),
        (33_000, 33_000, 500_000, "the same crashed run at the paper's budget"),
        (33_000, 33_000, 30_000, "a crashed run at a budget before its crash"),
        (30_000, 30_000, 30_000, "a crash exactly at the budget"),
        (8_000, 8_000, 40_000, "a crash before the first evaluation"),
    ]
    for frames_done, crash_frame, budget, what in cases:
        shown = [(f, r) for f, r in zip(frames, returns) if f <= frames_done]
        f_done, r_done = [f for f, _ in shown], [r for _, r in shown]
        expected = _reference_return_at_budget(f_done, r_done, frames_done, crash_frame, budget)
        got = student_fn(list(f_done), list(r_done), frames_done, crash_frame, budget)
        if expected is None:
            if got is not None:
                raise CheckFailed(f"{what}: expected None (no return to report), got {got!r}")
        elif got is None:
            raise CheckFailed(f"{what}: expected {expected:g}, got None")
        else:
            expect_close(_as_float(got, "the return"), expected, what)


@register("ex09_results.mean_and_standard_error", points=1)
def _check_mean_and_standard_error(student_fn):
    import pandas as pd

    from course_lib import results

    rng = np.random.default_rng(9)
    for values in ([100.0, 200.0, 400.0], list(rng.uniform(0, 1000, 10)), [300.0, None, 500.0, None]):
        mean, se, n = results._mean_se(pd.Series([np.nan if v is None else v for v in values]))
        got = student_fn(list(values))
        if not isinstance(got, tuple) or len(got) != 3:
            raise CheckFailed(f"return a tuple (mean, standard_error, n), got {got!r}")
        what = f"over {values if len(values) < 5 else f'{len(values)} seeds'}"
        expect_close(_as_float(got[0], "the mean"), mean, f"the mean {what}")
        expect_close(_as_float(got[1], "the standard error"), se, f"the standard error {what}",
                     atol=1e-6)
        if int(got[2]) != n:
            raise CheckFailed(f"n {what} should be {n} (None entries are left out), got {got[2]!r}")
    one = student_fn([42.0])
    if not (one[0] == 42.0 and isinstance(one[1], float) and math.isnan(one[1]) and int(one[2]) == 1):
        raise CheckFailed(f"one seed has a mean but no standard error: expected (42.0, nan, 1), got {one!r}")
