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
    # BEGIN SOLUTION
    def last_at_or_before(frame):
        found = [r for f, r in zip(eval_frames, eval_returns) if f <= frame]
        return float(found[-1]) if found else None

    if crash_frame is not None and crash_frame <= budget:
        return last_at_or_before(crash_frame)
    if budget > frames_done:
        return None
    return last_at_or_before(budget)
    # END SOLUTION


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
    # BEGIN SOLUTION
    values = [float(r) for r in returns if r is not None]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, 0
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan, 1
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n), n
    # END SOLUTION
