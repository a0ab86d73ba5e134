"""Checks of notebook 09 · Reproducing the paper (solutions/ex09_results.py)."""
from __future__ import annotations

from .framework import CheckFailed, as_float, register


@register("ex09_results.return_at_budget", points=2, difficulty=2)
def _probe_return_at_budget(fn, rng):
    frames = [10_000, 20_000, 30_000, 40_000]
    returns = [round(float(r), 1) for r in rng.uniform(0, 900, size=4)]
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
    out = {}
    for frames_done, crash_frame, budget, what in cases:
        shown = [(f, r) for f, r in zip(frames, returns) if f <= frames_done]
        got = fn([f for f, _ in shown], [r for _, r in shown], frames_done, crash_frame, budget)
        out[what] = None if got is None else as_float(got, "the return")
    return out


@register("ex09_results.mean_and_standard_error", points=1, difficulty=1)
def _probe_mean_and_standard_error(fn, rng):
    out = {}
    cases = [[round(float(v), 1) for v in rng.uniform(0, 500, size=3)], [float(v) for v in rng.uniform(0, 1000, 10)],
             [300.0, None, round(float(rng.uniform(0, 900)), 1), None], [42.0]]
    for values in cases:
        got = fn(list(values))
        if not isinstance(got, tuple) or len(got) != 3:
            raise CheckFailed(f"return a tuple (mean, standard_error, n), got {got!r:.80}")
        what = f"over {values if len(values) < 5 else f'{len(values)} seeds'}"
        if len(values) == 1:
            what += " (one seed has a mean but no standard error: nan)"
        out[f"the mean {what}"] = as_float(got[0], "the mean")
        out[f"the standard error {what}"] = as_float(got[1], "the standard error")
        out[f"n {what} (None entries are left out)"] = as_float(got[2], "n")
    return out


@register("ex09_results.updates_and_hours", points=1, atol=1e-9, difficulty=2)
def _probe_updates_and_hours(fn, rng):
    cases = [  # (frames, action_repeat, seed_frames, update_every, what)
        (500_000, 2, 2000, 1, "DrQ from pixels (SAC, Table 2)"),
        (500_000, 2, 4000, 2, "DrQ-v2 from pixels (DDPG, Table 1)"),
        (50_000, 8, 2000, 1, "the CPU pixel setting on cartpole"),
        (int(rng.integers(1000, 5000)), 3, 100, 2, "frames not a multiple of the action repeat"),
        (4000, 4, int(rng.integers(1, 400)) * 2 + 1, 3, "seed frames not a multiple of the action repeat"),
        (1000, 2, 2000, 1, "a budget shorter than the seed phase"),
        (10_000, 2, 0, 4, "no seed phase"),
    ]
    out = {}
    for frames, repeat, seed_frames, every, what in cases:
        ms = round(float(rng.uniform(1, 200)), 2)
        got = fn(ms, frames, repeat, seed_frames, every)
        if not isinstance(got, tuple) or len(got) != 2:
            raise CheckFailed(f"return a tuple (updates, hours), got {got!r:.80}")
        out[f"the number of updates for {what}"] = as_float(got[0], "the number of updates")
        out[f"the hours of updates at {ms} ms each for {what}"] = as_float(got[1], "the hours")
    return out


@register("ex09_results.bootstrap_interval", points=1, atol=1e-6, difficulty=2)
def _probe_bootstrap_interval(fn, rng):
    solved = [round(float(v), 1) for v in rng.normal(900, 30, size=3)]
    failed = [round(float(v), 1) for v in rng.uniform(0, 120, size=7)]
    cases = [
        ([round(float(v), 1) for v in rng.uniform(0, 1000, size=10)], 0.95, "10 seeds, 95%"),
        (solved + failed, 0.95, "10 seeds of which 3 solve the task (a skewed mean)"),
        ([round(float(v), 1) for v in rng.uniform(100, 600, size=5)] + [None], 0.9,
         "5 seeds and one run without a return (None), 90%"),
        ([512.0], 0.95, "one seed (nothing to resample: nan)"),
    ]
    out = {}
    for values, level, what in cases:
        seed = int(rng.integers(2**31))
        got = fn(list(values), level, 2000, seed)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a tuple (low, high), got {got!r:.80}")
        out[f"the low end over {what}"] = as_float(got[0], "low")
        out[f"the high end over {what}"] = as_float(got[1], "high")
    return out


@register("ex09_results.probability_of_improvement", points=2, atol=1e-9, difficulty=2)
def _probe_probability_of_improvement(fn, rng):
    cases = [  # (runs of X, runs of Y, tasks, rounding that makes ties, what)
        (5, 5, 3, 2, "5 runs each on 3 tasks"),
        (3, 7, 2, 1, "3 runs against 7 on 2 tasks, with ties"),
        (4, 4, 1, 0, "one task whose scores are mostly tied"),
    ]
    out = {}
    for n_x, n_y, tasks, decimals, what in cases:
        x = rng.uniform(0, 1, size=(n_x, tasks)).round(decimals)
        y = (rng.uniform(0, 1, size=(n_y, tasks)) - 0.1).clip(0, 1).round(decimals)
        out[f"P(X > Y) for {what}"] = as_float(fn(x.copy(), y.copy()), "P(X > Y)")
        out[f"P(Y > X) for {what}"] = as_float(fn(y.copy(), x.copy()), "P(Y > X)")
    return out
