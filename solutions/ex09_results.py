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

    ``None`` entries (runs without a return at the budget) are left out. The standard error uses
    the sample standard deviation (with Bessel's correction); it is ``nan`` for ``n < 2``, and the
    mean is ``nan`` for ``n = 0``.

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
    # BEGIN SOLUTION
    steps = -(-frames // action_repeat)                      # ceil(frames / action_repeat)
    first = -(-seed_frames // action_repeat)                 # first step past the seed phase
    first = -(-first // update_every) * update_every         # ... that is a multiple of update_every
    updates = len(range(first, steps, update_every))
    return updates, updates * ms_per_update / 1000 / 3600
    # END SOLUTION


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
    # BEGIN SOLUTION
    import numpy as np

    values = np.array([float(r) for r in returns if r is not None])
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    means = values[idx].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)
    # END SOLUTION


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
    # BEGIN SOLUTION
    import numpy as np

    x, y = np.asarray(scores_x, dtype=float), np.asarray(scores_y, dtype=float)
    per_task = []
    for task in range(x.shape[1]):
        a, b = x[:, task][:, None], y[:, task][None, :]
        per_task.append(((a > b) + 0.5 * (a == b)).mean())
    return float(np.mean(per_task))
    # END SOLUTION
