# Generated from solutions/ex09_results.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
"""Exercises of notebook 09 (reproducing the paper: results over seeds, the paper's way).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex09_results.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.
"""
import math


def return_at_budget(eval_frames, eval_returns, frames_done, crash_frame, budget):
    """One run's return at a frame budget, with the paper's rule for crashes (Secs. 3.1 and 5.1).

    - A run that **crashed at or before** the budget (``crash_frame <= budget``) reports "the
      performance before the crash": its last evaluation at or before ``crash_frame``, carried
      forward (``None`` if it crashed before its first evaluation).
    - Otherwise, a run that has **not reached** the budget (``budget > frames_done``) has no return
      there yet: ``None`` (it must not be averaged in).
    - Otherwise: its last evaluation at or before the budget (``None`` if there is none).

    Args:
        eval_frames: ascending frames at which the run was evaluated; eval_returns: the returns there.
        frames_done: the environment frames the run has trained for.
        crash_frame: the frame at which it crashed, or ``None``.
        budget: the frame budget (the paper: 500,000).

    Returns:
        a float, or ``None``.
    """
    raise NotImplementedError("Exercise: write return_at_budget(), see its docstring")


def mean_and_standard_error(returns):
    """Mean and one standard error over seeds, as the paper's figures report them.

    ``None`` entries (runs without a return at the budget) are left out. The standard error is
    the sample standard deviation (divide by ``n - 1``) over ``sqrt(n)``; it is ``nan`` for
    ``n < 2``, and the mean is ``nan`` for ``n = 0``.

    Args:
        returns: a sequence of floats or ``None``.

    Returns:
        ``(mean, standard_error, n)``: two floats and the number of values used.
    """
    raise NotImplementedError("Exercise: write mean_and_standard_error(), see its docstring")
