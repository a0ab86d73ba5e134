# Generated from solutions/ex09_results.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
# ★ applies what the notebook gives, ★★ needs a step of your own, ★★★ asks you to derive it.
"""Exercises of notebook 09 (reproducing the paper: results over seeds, the paper's way).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex09_results.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.
"""
import math


# Exercise (★★, 2 points): checks.check("ex09_results.return_at_budget")
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


# Exercise (★, 1 point): checks.check("ex09_results.mean_and_standard_error")
def mean_and_standard_error(returns):
    """Mean and one standard error over seeds, as the paper's figures report them.

    ``None`` entries (runs without a return at the budget) are left out. The standard error uses
    the sample standard deviation (with Bessel's correction); it is ``nan`` for ``n < 2``, and the
    mean is ``nan`` for ``n = 0``.

    Args:
        returns: a sequence of floats or ``None``.

    Returns:
        ``(mean, standard_error, n)``: two floats and the number of values used.
    """
    raise NotImplementedError("Exercise: write mean_and_standard_error(), see its docstring")


# Exercise (★★, 1 point): checks.check("ex09_results.updates_and_hours")
def updates_and_hours(ms_per_update, frames, action_repeat, seed_frames, update_every):
    """How many updates one training run makes, and the hours they take at a measured time per update.

    The training loop (``course_lib.train``) runs agent steps ``s = 0, 1, ..., S - 1`` with
    ``S = ceil(frames / action_repeat)``; before step ``s`` it has seen ``s * action_repeat``
    environment frames. It updates the agent at step ``s`` exactly when
    ``s * action_repeat >= seed_frames`` (the seed phase of random actions is over) and
    ``s % update_every == 0``.

    Args:
        ms_per_update: the measured time of one update in milliseconds (e.g. Table 3's train time).
        frames: the run's budget in environment frames (the paper: 500,000).
        action_repeat: environment frames per agent step (the paper: 2).
        seed_frames: frames of random actions before the first update.
        update_every: agent steps between updates (DrQ: 1, DrQ-v2: 2).

    Returns:
        ``(updates, hours)``: the number of updates (an int) and ``updates * ms_per_update`` in hours.
    """
    raise NotImplementedError("Exercise: write updates_and_hours(), see its docstring")


# Exercise (★★, 1 point): checks.check("ex09_results.bootstrap_interval")
def bootstrap_interval(returns, level=0.95, n_boot=4000, seed=0):
    """A percentile-bootstrap confidence interval for the mean return over seeds.

    The standard error assumes the mean over seeds is roughly normal; with few seeds and returns
    that split into "solved" and "not solved" it is not. The bootstrap makes no such assumption:
    resample the ``n`` seeds' returns with replacement ``n_boot`` times, take each resample's mean,
    and report the quantiles of those means that leave ``(1 - level) / 2`` on each side.

    ``None`` entries are left out. The check reproduces your numbers, so draw the resamples exactly
    as notebook 09, section 2, describes where it introduces this exercise: one generator seeded with
    ``seed``, all indices in one call, NumPy's default quantiles. With ``n < 2`` there is nothing to
    resample: return ``(nan, nan)``.

    Args:
        returns: a sequence of floats or ``None`` (one per seed).
        level: the confidence level, in (0, 1).
        n_boot: the number of resamples.
        seed: the seed of the resampling.

    Returns:
        ``(low, high)``, two floats.
    """
    raise NotImplementedError("Exercise: write bootstrap_interval(), see its docstring")


# Exercise (★★, 2 points): checks.check("ex09_results.probability_of_improvement")
def probability_of_improvement(scores_x, scores_y):
    """P(X > Y) of Agarwal et al. (2021): how likely a run of X beats a run of Y on the same task.

    On each task, look at every pair made of one run of X and one run of Y, and count the pairs where
    X's run scores higher; a tie counts as half a win. Divide by the number of pairs, then average
    over the tasks. The answer is 0.5 when X and Y cannot be told apart, and 1 when every run of X
    beats every run of Y.

    Args:
        scores_x: scores of X, an array of shape ``(runs of X, tasks)``.
        scores_y: scores of Y, an array of shape ``(runs of Y, tasks)``: the same tasks, in the same
            columns (the numbers of runs may differ).

    Returns:
        P(X > Y), a float in [0, 1].
    """
    raise NotImplementedError("Exercise: write probability_of_improvement(), see its docstring")
