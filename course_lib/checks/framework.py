"""The check framework: a check is a *probe* (what to run) plus a *compare* (how to judge).

A probe ``probe(fn, rng)`` calls a function ``fn`` on inputs drawn from ``rng`` (a seeded
``numpy.random.Generator``) and returns plain data: numbers, strings, ``None``, lists/tuples and
dicts with string keys of those, NumPy arrays and PyTorch tensors. The same probe runs twice, with
the same seed:

- with the **student's** function: in the notebook's own process (``check``), or in a child
  process of the grader (``course_lib.grade``), which sends the data back as JSON (arrays as
  base64 bytes of a numeric dtype), size-capped; nothing executable is ever unpickled;
- with the **reference** function of ``solutions/``, in the process that judges.

``compare(got, want)`` then raises ``CheckFailed("what is wrong")`` unless the student's data
``got`` is acceptable given the reference's ``want``. The default compares every leaf with
``expect_close`` and names it by the dict keys on its way (so probes key their cases by a readable
description). A custom compare implements a property (ties allowed, a tolerance per case, ...) and
may use anything the reference's probe returned (``want`` is trusted, ``got`` is not).

A probe may also raise ``CheckFailed`` itself, for what only the child can see (a wrong return
type, a loss without a gradient); that can only fail a student, never pass one.
"""
from __future__ import annotations

import base64
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

import numpy as np

NOT_WRITTEN = "not written yet (NotImplementedError)"
MAX_REASON = 300  # characters: a student's exception message can be arbitrarily long
MAX_PAYLOAD = 16_000_000  # bytes of encoded probe output a child may send back
DEFAULT_SEED = 0  # the notebooks' check cells; instructors grade with --seed N
_DTYPE_KINDS = "biufc"  # bool, int, uint, float, complex: the only array dtypes on the wire


class CheckFailed(Exception):
    """The student's function ran but gave a wrong answer; the message says what is wrong."""


def _default_compare(atol: float) -> Callable[[Any, Any], None]:
    def compare(got, want):
        expect_same(got, want, atol=atol)
    return compare


@dataclass(frozen=True)
class Exercise:
    name: str  # "exNN_topic.function_name"
    points: int
    probe: Callable[[Callable, np.random.Generator], Any]
    compare: Callable[[Any, Any], None]
    difficulty: int = 1  # 1..3: what the student must work out (a formula handed over is 1)
    attribute: str | None = None  # the function probed, when not the name's second part
    timeout: float | None = None  # seconds the grader allows it, when more than its default
    reference: Callable[[np.random.Generator], Any] | None = None  # the reference's data, without the probe

    @property
    def stars(self) -> str:
        """The difficulty as the notebooks and stubs show it: ``★``, ``★★`` or ``★★★``."""
        return "★" * self.difficulty

    @property
    def module(self) -> str:
        return self.name.split(".")[0]

    @property
    def function(self) -> str:
        """The function of ``exNN_topic.py`` the probe calls (several exercises may share one)."""
        return self.attribute or self.name.split(".")[1]


REGISTRY: dict[str, Exercise] = {}


MIN_DIFFICULTY, MAX_DIFFICULTY = 1, 3


def register(name: str, points: int = 1, compare: Callable[[Any, Any], None] | None = None,
             atol: float = 1e-6, difficulty: int = 1, function: str | None = None,
             timeout: float | None = None, reference: Callable[[np.random.Generator], Any] | None = None):
    """Decorator: register ``probe(fn, rng)`` as the probe of exercise ``name``.

    ``difficulty`` (1 to 3, shown as ★ to ★★★ in the notebook and the stub) says how much the
    student must work out: 1 applies a formula or recipe the notebook gives, 2 needs a step of
    one's own (a vectorization, an edge case, a derivation from the notebook's text), 3 asks to
    derive or design the computation. ``compare(got, want)`` judges the student's data against the reference's (default: every leaf
    within ``atol`` of the reference, see ``expect_same``).

    ``function`` names the function of ``exNN_topic.py`` to probe (default: the name's second
    part), so that several exercises can grade parts of one function, each with its own points
    (``ex06_drq.sac_update_critic`` and ``ex06_drq.sac_update_actor`` both probe ``sac_update``).
    ``timeout`` (seconds) replaces the grader's per-exercise limit when it is larger: for a probe
    that trains an agent. ``reference(rng)``, when given, computes the reference's data instead of
    running the probe on the solution: a learning outcome (``learning.register_learning``) needs the
    seed and the threshold, not a trained reference.
    """
    parts = name.split(".")
    if len(parts) != 2 or not parts[0].startswith("ex") or not all(p.isidentifier() for p in parts):
        raise ValueError(f"exercise names look like 'exNN_topic.function_name', got {name!r}")
    if name in REGISTRY:
        raise ValueError(f"exercise {name!r} is registered twice")
    if not isinstance(points, int) or points < 1:
        raise ValueError(f"points must be a positive integer, got {points!r}")
    if (not isinstance(difficulty, int) or isinstance(difficulty, bool)
            or not MIN_DIFFICULTY <= difficulty <= MAX_DIFFICULTY):
        raise ValueError(f"difficulty must be 1, 2 or 3 (★ to ★★★), got {difficulty!r}")
    if function is not None and not function.isidentifier():
        raise ValueError(f"function must be a Python name, got {function!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")

    def decorator(probe):
        REGISTRY[name] = Exercise(name, points, probe, compare or _default_compare(atol), difficulty,
                                  function, None if timeout is None else float(timeout), reference)
        return probe

    return decorator


def exercise(name: str) -> Exercise:
    """The registered exercise ``name``; ``ValueError`` (listing the known names) if there is none."""
    if name not in REGISTRY:
        raise ValueError(f"unknown exercise {name!r}; registered: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def rng_for(seed: int = DEFAULT_SEED) -> np.random.Generator:
    """The generator a probe receives for ``seed`` (a fresh one per probe run)."""
    return np.random.default_rng(seed)


def torch_generator(rng: np.random.Generator):
    """A ``torch.Generator`` seeded from ``rng``: probes draw tensors from it."""
    import torch

    return torch.Generator().manual_seed(int(rng.integers(2**31)))


# ---------------------------------------------------------------------------------------------------
# Where the functions come from
# ---------------------------------------------------------------------------------------------------

def default_exercises_dir() -> Path:
    """The course's own ``exercises/`` folder, the one a student edits."""
    import exercises

    return Path(exercises.__path__[0])


def solutions_dir() -> Path:
    """The reference ``solutions/`` folder: the trusted functions probes are compared with."""
    return Path(__file__).resolve().parents[2] / "solutions"


def load_module(module: str, source: str | Path | Mapping[str, str] | None = None) -> ModuleType:
    """Load ``<source>/<module>.py`` afresh (edits since the last call are picked up).

    ``source`` is a folder such as ``exercises/``, ``solutions/`` or a student's copy (``None``: the
    course's ``exercises/``), or a mapping ``{module: source text}`` (the grader reads a
    submission once, before any of it runs). Raises ``FileNotFoundError`` if the file is missing.
    """
    if isinstance(source, Mapping):
        if module not in source:
            raise FileNotFoundError(f"the submission has no file {module}.py")
        text, filename, key = source[module], f"<submission>/{module}.py", "submission"
    else:
        folder = Path(source) if source is not None else default_exercises_dir()
        path = folder / f"{module}.py"
        if not path.is_file():
            raise FileNotFoundError(f"no file {path}")
        text, filename, key = path.read_text(), str(path), str(folder.resolve())
    # A unique name per folder, so a student's copy never shadows the course's own modules.
    name = f"_checked_{abs(hash(key))}_{module}"
    loaded = ModuleType(name)
    loaded.__file__ = filename
    sys.modules[name] = loaded  # dataclasses and pickling look the module up here
    # Compiled from the text every time: no stale bytecode cache after a quick edit, and no
    # __pycache__ folder written into the student's folder.
    exec(compile(text, filename, "exec"), loaded.__dict__)
    return loaded


_REFERENCE_CACHE: dict[tuple, Any] = {}

# The student edition (tools/make_student_edition.py) ships without solutions/; in its place, this
# file holds every reference's probe output for DEFAULT_SEED, the notebooks' seed, and nothing else.
PUBLIC_REFERENCES = Path(__file__).resolve().with_name("reference_public.json")


def public_references() -> dict:
    """The content of :data:`PUBLIC_REFERENCES`, computed from ``solutions/`` (JSON-able).

    ``{"seed": DEFAULT_SEED, "references": {name: <encoded probe output>}}`` for every registered
    exercise, each output as ``encode`` writes it. Only the notebooks' seed: the grader's other
    seeds stay with the instructors.
    """
    return {"seed": DEFAULT_SEED,
            "references": {name: json.loads(encode(reference_outputs(name, DEFAULT_SEED)))
                           for name in REGISTRY}}


def _public_reference_outputs(name: str, seed: int) -> Any:
    """``reference_outputs`` where ``solutions/`` is absent: read from :data:`PUBLIC_REFERENCES`."""
    if int(seed) != DEFAULT_SEED:
        raise ValueError(f"this student edition holds the references of the notebooks' seed "
                         f"({DEFAULT_SEED}) only, not of seed {seed}; other seeds need solutions/, "
                         "which only instructors have")
    if not PUBLIC_REFERENCES.is_file():
        raise FileNotFoundError(f"neither {solutions_dir()} nor {PUBLIC_REFERENCES} exists; "
                                "restore solutions/, or rebuild the student edition")
    key = (name, "public", PUBLIC_REFERENCES.stat().st_mtime_ns)
    if key not in _REFERENCE_CACHE:
        stored = json.loads(PUBLIC_REFERENCES.read_text())
        if stored.get("seed") != DEFAULT_SEED or name not in stored.get("references", {}):
            raise ValueError(f"{PUBLIC_REFERENCES.name} holds no reference of {name} for seed "
                             f"{DEFAULT_SEED}; rebuild the student edition")
        _REFERENCE_CACHE[key] = _from_wire(stored["references"][name])
    return _REFERENCE_CACHE[key]


def reference_outputs(name: str, seed: int = DEFAULT_SEED) -> Any:
    """``probe(reference_fn, rng_for(seed))`` for the function of ``solutions/``, as decoded data.

    Without ``solutions/`` (the student edition) the data of :data:`PUBLIC_REFERENCES` instead,
    which exist for ``DEFAULT_SEED`` only: any other seed raises ``ValueError``.
    """
    ex = exercise(name)
    if not solutions_dir().is_dir():
        return _public_reference_outputs(name, seed)
    path = solutions_dir() / f"{ex.module}.py"
    key = (name, int(seed), path.stat().st_mtime_ns)
    if key not in _REFERENCE_CACHE:
        if ex.reference is not None:
            data = ex.reference(rng_for(seed))
        else:
            data = ex.probe(getattr(load_module(ex.module, solutions_dir()), ex.function), rng_for(seed))
        _REFERENCE_CACHE[key] = decode(encode(data))
    return _REFERENCE_CACHE[key]


# ---------------------------------------------------------------------------------------------------
# Running a student's function: the result is plain data or a reason
# ---------------------------------------------------------------------------------------------------

def _shorten(message: str) -> str:
    return message if len(message) <= MAX_REASON else message[: MAX_REASON - 1] + "…"


def student_result(name: str, module: ModuleType | str | Path | Mapping[str, str] | None = None,
                   seed: int = DEFAULT_SEED) -> dict:
    """Run the probe of ``name`` on the student's function: ``{"status": ..., ...}`` as plain data.

    ``{"status": "ok", "got": <encoded data>}``, ``{"status": "not_written"}`` or
    ``{"status": "failed", "reason": str}``. Whatever the student's code does (raise, return
    garbage, fail to import, call ``sys.exit``) becomes one of these.
    """
    ex = exercise(name)
    try:
        loaded = module if isinstance(module, ModuleType) else load_module(ex.module, module)
        student_fn = getattr(loaded, ex.function, None)
        if not callable(student_fn):
            return {"status": "failed", "reason": f"{ex.module}.py has no function {ex.function}()"}
        got = ex.probe(student_fn, rng_for(seed))
        return {"status": "ok", "got": _to_wire(got)}
    except NotImplementedError:
        return {"status": "not_written"}
    except CheckFailed as failure:
        return {"status": "failed", "reason": _shorten(str(failure))}
    except (Exception, SystemExit) as error:  # the student's code crashed: say how, carry on
        # (KeyboardInterrupt is not caught: interrupting a looping exercise must still work.)
        return {"status": "failed", "reason": _shorten(f"raised {type(error).__name__}: {error}")}


def judge(name: str, result: dict, seed: int = DEFAULT_SEED, want: Any = None) -> tuple[bool, str]:
    """``(passed, reason)`` for a ``student_result`` (decoded, untrusted) against the reference.

    ``want`` is the reference's data (default: ``reference_outputs(name, seed)``; the grader
    computes it before any student code runs). Runs in the judging process; never runs student code.
    """
    ex = exercise(name)
    status = result.get("status") if isinstance(result, dict) else None
    if status == "not_written":
        return False, NOT_WRITTEN
    if status == "failed":
        return False, _shorten(str(result.get("reason", "failed")))
    if status != "ok" or "got" not in result:
        return False, "sent back a malformed result"
    try:
        got = _from_wire(result["got"])
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        return False, _shorten(f"sent back data that is not plain numbers and arrays ({error})")
    if want is None:
        want = reference_outputs(name, seed)
    try:
        ex.compare(got, want)
    except CheckFailed as failure:
        return False, _shorten(str(failure))
    except Exception as error:  # untrusted data of an unexpected shape
        return False, _shorten(f"the output could not be compared ({type(error).__name__}: {error})")
    return True, "correct"


def run_check(name: str, module: ModuleType | str | Path | None = None,
              seed: int = DEFAULT_SEED) -> tuple[bool, str]:
    """Run the check of exercise ``name`` in this process; return ``(passed, reason)``.

    ``module`` is the student's module object, or a folder holding ``exNN_topic.py`` (default: the
    course's ``exercises/``). Only an unknown exercise ``name`` raises ``ValueError``. (The grader
    runs the student's half in a child process instead: ``course_lib.grade``.)
    """
    result = student_result(name, module, seed)
    try:
        result = json.loads(json.dumps(result))  # exactly what the grader's child would send
    except (TypeError, ValueError) as error:
        return False, _shorten(f"sent back data that cannot be sent ({error})")
    return judge(name, result, seed)


def check(name: str, module_or_path: ModuleType | str | Path | None = None) -> None:
    """Notebook helper: run the check and print one line: ``✓ correct``, ``✗ <reason>``, or ``…``."""
    passed, reason = run_check(name, module_or_path)
    mark = "✓" if passed else ("…" if reason == NOT_WRITTEN else "✗")
    print(f"{name}: {mark} {reason}")


# ---------------------------------------------------------------------------------------------------
# The wire format: JSON with arrays as base64 bytes (no pickle, no code)
# ---------------------------------------------------------------------------------------------------

def _to_wire(value, depth: int = 0):
    """Plain JSON-able structure of a probe's output; ``CheckFailed`` for anything else."""
    if depth > 20:
        raise CheckFailed("the output is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.bool_):
        return bool(value)
    if "torch" in sys.modules:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _DTYPE_KINDS:
            raise CheckFailed(f"the output holds an array of {value.dtype}, expected numbers")
        array = np.ascontiguousarray(value)
        return {"__array__": base64.b64encode(array.tobytes()).decode("ascii"),
                "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CheckFailed("the output is a dict with non-string keys")
        return {"__dict__": [[k, _to_wire(v, depth + 1)] for k, v in value.items()]}
    raise CheckFailed(f"returned a {type(value).__name__}, expected numbers, arrays or tensors")


def _from_wire(value, depth: int = 0):
    """Inverse of ``_to_wire`` on untrusted JSON data: only numbers, strings, lists, dicts, arrays."""
    if depth > 40:
        raise ValueError("nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_from_wire(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__float__"} and value["__float__"] in ("nan", "inf", "-inf"):
            return float(value["__float__"])
        if set(value) == {"__array__", "dtype", "shape"}:
            dtype = np.dtype(str(value["dtype"]))
            if dtype.kind not in _DTYPE_KINDS or dtype.hasobject:
                raise ValueError(f"array dtype {dtype} is not numeric")
            shape = [int(n) for n in value["shape"]]
            data = base64.b64decode(str(value["__array__"]), validate=True)
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if set(value) == {"__dict__"}:
            return {str(k): _from_wire(v, depth + 1) for k, v in value["__dict__"]}
    raise ValueError(f"unexpected {type(value).__name__}")


def encode(value) -> bytes:
    """A probe's output as JSON bytes (``CheckFailed`` if it is not plain data or too large)."""
    data = json.dumps(_to_wire(value)).encode()
    if len(data) > MAX_PAYLOAD:
        raise CheckFailed(f"the output is {len(data):,} bytes encoded, more than {MAX_PAYLOAD:,}")
    return data


def decode(data: bytes):
    """Inverse of ``encode``, safe on untrusted bytes (``ValueError`` if malformed)."""
    return _from_wire(json.loads(data))


# ---------------------------------------------------------------------------------------------------
# Helpers for probes and compares: consistent messages
# ---------------------------------------------------------------------------------------------------

def expect_shape(value, shape: tuple, what: str) -> np.ndarray:
    """``value`` as a float array of ``shape``; ``CheckFailed`` naming ``what`` otherwise."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be an array of shape {tuple(shape)}, got {type(value).__name__}")
    if array.shape != tuple(shape):
        raise CheckFailed(f"{what} should have shape {tuple(shape)}, got {array.shape}")
    return array


def _where(mask: np.ndarray) -> str:
    """`` at (i, j)``: the first entry where ``mask`` holds (nothing for a scalar)."""
    if mask.ndim == 0 or mask.size <= 1:
        return ""
    index = np.unravel_index(int(np.argmax(mask)), mask.shape)
    count = int(mask.sum())
    more = f" and {count - 1} more" if count > 1 else ""
    return f" at {tuple(int(i) for i in index)}{more}"


def expect_close(value, expected, what: str, atol: float = 1e-6) -> None:
    """``CheckFailed`` unless ``value`` matches ``expected`` (same shape, max error <= atol).

    NaN in ``expected`` must be matched by NaN in ``value``, an infinity by the same infinity.
    The message says where and in which direction ``value`` is off, and by roughly how much (one
    significant digit), never what ``expected`` holds: with a private grading seed the expected
    values belong to inputs the student does not see, and printing them would let a submission
    collect them (``tests/test_grade_answers.py`` checks every exercise for such leaks).
    """
    expected = np.asarray(expected, dtype=float)
    array = expect_shape(value, expected.shape, what)
    finite = np.isfinite(expected)
    missing = np.isnan(expected) & ~np.isnan(array)
    if missing.any():
        raise CheckFailed(f"{what} should be nan (no value){_where(missing)}, got a number")
    broken = finite & ~np.isfinite(array)
    if broken.any():
        raise CheckFailed(f"{what} contains NaN or inf{_where(broken)}")
    infinite = np.isinf(expected) & (array != expected)
    if infinite.any():
        sign = np.isinf(array) & infinite
        problem, mask = ("has an infinity of the wrong sign", sign) if sign.any() else ("should be infinite", infinite)
        raise CheckFailed(f"{what} {problem}{_where(mask)}")
    diff = np.where(finite, array - np.where(finite, expected, 0), 0.0)
    error = float(np.abs(diff).max()) if diff.size else 0.0
    if error > atol:
        worst = np.zeros(diff.shape, dtype=bool)
        worst[np.unravel_index(int(np.argmax(np.abs(diff))), diff.shape)] = True
        direction = "too large" if diff[worst][0] > 0 else "too small"
        where = f"; the worst entry{_where(worst)} is {direction}" if array.size > 1 else f"; it is {direction}"
        raise CheckFailed(f"{what} is off by up to {error:.1g} (allowed {atol:.0e}){where}")


def expect_relative(value, expected: float, what: str, rtol: float) -> None:
    """``CheckFailed`` unless the number ``value`` is within ``rtol * max(|expected|, 1)`` of ``expected``.

    For numbers that span orders of magnitude (Lipschitz bounds). As ``expect_close``, the message
    gives the relative error (one significant digit) and its direction, never ``expected``.
    """
    number = as_float(value, what)
    if not math.isfinite(number):
        raise CheckFailed(f"{what} should be a finite number, got {number!r}")
    error = (number - expected) / max(abs(expected), 1.0)
    if not abs(error) <= rtol:
        direction = "too large" if error > 0 else "too small"
        raise CheckFailed(f"{what} is off by {abs(error):.1g} relative to its size (allowed {rtol:.0e}): "
                          f"it is {direction}")


def expect_same(got, want, what: str = "the output", atol: float = 1e-6) -> None:
    """Nested ``expect_close``: same structure as ``want``; dict keys name the part that differs."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or list(got) != list(want):
            raise CheckFailed(f"{what} should have the parts {list(want)}")
        for key in want:
            expect_same(got[key], want[key], key if what == "the output" else f"{what}, {key}", atol)
    elif isinstance(want, list) and (not want or not isinstance(want[0], (int, float)) or
                                     isinstance(want[0], bool)):
        if not isinstance(got, list) or len(got) != len(want):
            raise CheckFailed(f"{what} should be a list of {len(want)} items, got "
                              f"{len(got) if isinstance(got, list) else type(got).__name__}")
        for i, (g, w) in enumerate(zip(got, want)):
            expect_same(g, w, f"{what}[{i}]", atol)
    elif want is None:
        if got is not None:
            raise CheckFailed(f"{what} should be None (no value), got {got!r:.60}")
    elif isinstance(want, (str, bool)):
        if type(got) is not type(want):
            raise CheckFailed(f"{what} should be a {type(want).__name__}, got {got!r:.60}")
        if got != want:
            raise CheckFailed(f"{what} is wrong (got {got!r:.60})")
    else:
        if got is None or isinstance(got, (str, dict)):
            raise CheckFailed(f"{what} should be a number or an array, got {got!r:.60}")
        expect_close(got, want, what, atol)


def as_float(value, what: str) -> float:
    """``float(value)``, or ``CheckFailed`` saying it should be a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number (a Python float), got {type(value).__name__}")


def unpack(result, n: int, what: str) -> list:
    """A tuple of ``n`` values (tensors stay tensors), or ``CheckFailed``."""
    if not (isinstance(result, tuple) and len(result) == n):
        raise CheckFailed(f"{what} should return a tuple of {n} values, got {type(result).__name__}")
    return list(result)
