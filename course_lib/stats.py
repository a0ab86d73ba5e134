"""Statistics across runs that a reviewer accepts: IQM, stratified-bootstrap intervals, probability of
improvement and performance profiles (Agarwal et al., NeurIPS 2021, "Deep Reinforcement Learning at
the Edge of the Statistical Precipice").

With 3 to 10 seeds per task, a mean ± standard error hides how wide the uncertainty is: one bad seed
moves the mean, and the standard error itself is estimated from 3 numbers. Agarwal et al. recommend:

* the **interquartile mean** (IQM): the mean of the middle 50% of all runs (tasks x seeds pooled),
  robust to the outliers that dominate a mean and less noisy than a median;
* **stratified bootstrap** confidence intervals: resample the seeds *within each task* (with
  replacement), recompute the statistic, repeat; the 2.5% and 97.5% percentiles of the repeats
  are a 95% interval that reflects the run-to-run variation actually seen;
* the **probability of improvement** P(X > Y): on a task, the chance that a run of X scores above
  a run of Y (ties count half; the Mann-Whitney U statistic over ``n * m``), averaged over tasks;
* **performance profiles**: for each threshold tau, the fraction of runs scoring above tau. A curve
  entirely above another is better at every level of performance.

The estimators are those of the ``rliable`` library (its ``metrics`` module gives the same point
values, which ``tests/test_stats.py`` checks); the bootstrap is written here with numpy, because
rliable's own needs ``arch<8``, which does not install on Python 3.14 and does not import with
pandas 3.

Scores come as a matrix per algorithm: ``scores[run, task]`` (runs are seeds; every task the same
number of them). :func:`run_scores` gives each run its score from its evaluations, and
:func:`score_matrices` arranges the scores into those matrices.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["run_scores", "iqm", "mean_score", "probability_of_improvement", "performance_profile",
           "stratified_bootstrap", "interval", "poi_interval", "profile_intervals", "score_matrices"]


def _matrix(scores, name: str = "scores") -> np.ndarray:
    m = np.asarray(scores, dtype=float)
    if m.ndim == 1:
        m = m[:, None]
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ValueError(f"{name} must be a (runs, tasks) matrix of numbers, got shape {np.shape(scores)}")
    if not np.isfinite(m).all():
        raise ValueError(f"{name} holds NaN or infinite values; give every run a finite score "
                         "(a crashed run's last finite evaluation, carried forward)")
    return m


def iqm(scores) -> float:
    """Interquartile mean of all runs pooled: drop the lowest and highest 25%, average the rest.

    As ``scipy.stats.trim_mean(scores, 0.25, axis=None)`` (rliable's ``aggregate_iqm``): with
    ``n`` values, ``int(0.25 * n)`` are cut from each end.
    """
    values = np.sort(_matrix(scores).ravel())
    cut = int(0.25 * values.size)
    return float(values[cut:values.size - cut].mean())


def mean_score(scores) -> float:
    """Mean of all runs pooled (what a table of means reports)."""
    return float(_matrix(scores).mean())


def probability_of_improvement(x, y) -> float:
    """P(X > Y): per task, the fraction of (x run, y run) pairs where x scores higher (ties 1/2),
    averaged over tasks. 0.5 means no difference; 1 means every run of X beats every run of Y."""
    x, y = _matrix(x, "x"), _matrix(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must cover the same tasks (columns): {x.shape[1]} vs {y.shape[1]}")
    return float(_poi(x[None], y[None])[0])


def _poi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Batched P(X > Y) for ``x`` (reps, n, tasks), ``y`` (reps, m, tasks) -> (reps,)."""
    greater = (x[:, :, None, :] > y[:, None, :, :]).mean(axis=(1, 2))
    ties = (x[:, :, None, :] == y[:, None, :, :]).mean(axis=(1, 2))
    return (greater + 0.5 * ties).mean(axis=-1)


def performance_profile(scores, taus) -> np.ndarray:
    """For each threshold in ``taus``: the fraction of runs (all tasks pooled) scoring above it."""
    values = _matrix(scores).ravel()
    return (values[None, :] > np.asarray(taus, dtype=float)[:, None]).mean(axis=1)


def stratified_bootstrap(scores, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` resampled copies of ``scores``: in each task (column) its runs drawn with replacement.

    Returns an array of shape ``(reps, runs, tasks)``.
    """
    m = _matrix(scores)
    runs, tasks = m.shape
    idx = rng.integers(0, runs, size=(reps, runs, tasks))
    return m[idx, np.arange(tasks)[None, None, :]]


def _check_reps(reps, confidence) -> None:
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 100:
        raise ValueError(f"reps must be an integer >= 100 (bootstrap repetitions), got {reps!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def interval(scores, statistic: Callable = iqm, reps: int = 10_000, confidence: float = 0.95,
             seed: int = 0) -> tuple[float, float, float]:
    """``(point, low, high)``: ``statistic`` of ``scores`` and its stratified-bootstrap percentile
    interval (``reps`` repetitions, seeded)."""
    _check_reps(reps, confidence)
    samples = stratified_bootstrap(scores, reps, np.random.default_rng(seed))
    if statistic is iqm:  # vectorized: sort each repetition, average its middle half
        flat = np.sort(samples.reshape(reps, -1), axis=1)
        cut = int(0.25 * flat.shape[1])
        values = flat[:, cut:flat.shape[1] - cut].mean(axis=1)
    elif statistic is mean_score:
        values = samples.reshape(reps, -1).mean(axis=1)
    else:
        values = np.array([statistic(s) for s in samples])
    return (statistic(scores), *_percentiles(values, confidence))


def poi_interval(x, y, reps: int = 10_000, confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """``(P(X > Y), low, high)`` with ``x`` and ``y`` resampled independently, each within its tasks."""
    _check_reps(reps, confidence)
    point = probability_of_improvement(x, y)  # also checks shapes
    rng = np.random.default_rng(seed)
    values = np.concatenate([_poi(stratified_bootstrap(x, n, rng), stratified_bootstrap(y, n, rng))
                             for n in _chunks(reps)])
    return (point, *_percentiles(values, confidence))


def _chunks(reps: int, size: int = 2_000) -> list[int]:
    return [size] * (reps // size) + ([reps % size] if reps % size else [])


def profile_intervals(scores, taus, reps: int = 2_000, confidence: float = 0.95,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Performance profile at ``taus`` with pointwise stratified-bootstrap intervals: (point, low, high)."""
    _check_reps(reps, confidence)
    taus = np.asarray(taus, dtype=float)
    samples = stratified_bootstrap(scores, reps, np.random.default_rng(seed)).reshape(reps, -1)
    fractions = (samples[:, None, :] > taus[None, :, None]).mean(axis=2)  # (reps, taus)
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(fractions, [tail, 100 - tail], axis=0)
    return performance_profile(scores, taus), lo, hi


def score_matrices(scores: pd.DataFrame, configs: Sequence[str], tasks: Sequence[str] | None = None,
                   value: str = "score") -> Mapping[str, np.ndarray]:
    """``{config: matrix[seed, task]}`` from a table with columns ``config, task, seed`` and ``value``.

    Each configuration must have the same seeds on every task (the grid's design); a missing run
    raises an error that names it.
    """
    missing_cols = {"config", "task", "seed", value} - set(scores.columns)
    if missing_cols:
        raise ValueError(f"scores table needs columns config, task, seed, {value}; missing {sorted(missing_cols)}")
    tasks = list(tasks) if tasks is not None else sorted(scores["task"].unique())
    out = {}
    for config in configs:
        rows = scores[scores["config"] == config]
        if rows.empty:
            raise ValueError(f"no runs of configuration {config!r}; have {sorted(scores['config'].unique())}")
        table = rows.pivot_table(index="seed", columns="task", values=value, aggfunc="first").reindex(columns=tasks)
        if table.isna().any().any():
            holes = [f"{t} seed {s}" for s in table.index for t in tasks if pd.isna(table.loc[s, t])]
            raise ValueError(f"configuration {config!r} lacks runs: {', '.join(holes)}")
        out[config] = table.to_numpy(dtype=float)
    return out


def run_scores(runs: pd.DataFrame, frames: Sequence[int], scale: float = 1000.0,
               curves: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each run's score: its mean return at ``frames`` (e.g. the last two evaluations), over ``scale``.

    ``runs`` comes from :func:`course_lib.results.load_runs`. A crashed run's last finite
    evaluation is carried forward (the paper, Sec. 3.1 and 5.1), so it scores what it reached; a
    run that has not reached every frame is left out (``complete`` False, ``score`` NaN).
    Columns: ``task, config, seed, score, crashed, complete``. DeepMind Control returns lie in
    [0, 1000], so ``scale=1000`` puts every task on [0, 1].
    """
    from course_lib import results

    if not frames:
        raise ValueError("frames must name at least one evaluation frame, e.g. [56000, 64000]")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    curves = results.load_curves(runs) if curves is None else curves
    per_frame = [results.returns_at(runs, f, curves) for f in frames]
    values = np.column_stack([t["eval_return"].to_numpy(dtype=float) for t in per_frame])
    outcomes = np.column_stack([t["outcome"].to_numpy() for t in per_frame])
    complete = (outcomes != "incomplete").all(axis=1)
    out = runs[["task", "config", "seed"]].copy()
    out["score"] = np.where(complete, values.mean(axis=1) / scale, np.nan)
    out["crashed"] = (outcomes == "crashed").any(axis=1)
    out["complete"] = complete
    return out.reset_index(drop=True)
