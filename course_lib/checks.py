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

