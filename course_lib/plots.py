"""Figures for the notebooks. Library code draws and returns figures/axes; notebooks call plt.show().

Sections are owned by topic; add a new clearly marked section rather than editing another's.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


# =========================================================================== results (sweeps, tables)
# Inputs come from course_lib.results: curve_summary(), summary(), compare_with_paper().

def _ordered(values: pd.Series, wanted: Sequence | None, what: str) -> list:
    present = list(dict.fromkeys(values))
    if wanted is None:
        return present
    unknown = [w for w in wanted if w not in present]
    if unknown:
        raise ValueError(f"{what} {unknown} not in the data; it has {present}")
    return list(wanted)


def plot_learning_curves(curves: pd.DataFrame, tasks: Sequence[str] | None = None,
                         configs: Sequence[str] | None = None, ncols: int = 3,
                         axes: Sequence[plt.Axes] | None = None) -> plt.Figure:
    """Mean return ± one standard error over seeds vs environment frames, one panel per task.

    ``curves`` is :func:`course_lib.results.curve_summary` output; a band is drawn where n >= 2.
    Crashed runs are already carried forward there (the paper's Fig. 4 convention). Returns the
    figure (pass ``axes`` to draw into existing ones, one per task).
    """
    if curves.empty:
        raise ValueError("no learning curves to plot (curve_summary returned an empty table)")
    tasks = _ordered(curves["task"], tasks, "tasks")
    configs = _ordered(curves["config"], configs, "configs")
    if axes is None:
        ncols = min(ncols, len(tasks))
        nrows = -(-len(tasks) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False,
                                 sharex=False)
        axes = axes.ravel()
        for ax in axes[len(tasks):]:
            ax.set_visible(False)
    elif len(axes) < len(tasks):
        raise ValueError(f"got {len(axes)} axes for {len(tasks)} tasks")
    colors = {c: f"C{i}" for i, c in enumerate(configs)}
    for ax, task in zip(axes, tasks):
        for config in configs:
            part = curves[(curves["task"] == task) & (curves["config"] == config)].sort_values("frame")
            if part.empty:
                continue
            ax.plot(part["frame"], part["mean"], color=colors[config],
                    label=f"{config} (n={int(part['n'].max())})")
            band = part["se"].notna()
            ax.fill_between(part["frame"][band], (part["mean"] - part["se"])[band],
                            (part["mean"] + part["se"])[band], color=colors[config], alpha=0.2,
                            linewidth=0)
        ax.set_title(task)
        ax.set_xlabel("environment frames")
        ax.set_ylabel("eval return")
        ax.legend(fontsize="small")
    fig = axes[0].figure
    fig.tight_layout()
    return fig


def plot_task_bars(summary: pd.DataFrame, tasks: Sequence[str] | None = None,
                   configs: Sequence[str] | None = None, paper: pd.DataFrame | None = None,
                   ax: plt.Axes | None = None) -> plt.Axes:
    """Grouped bars: per task, one bar per configuration (mean ± one standard error).

    ``summary`` is :func:`course_lib.results.summary` output. With ``paper`` (e.g.
    ``paper.table1()``), the paper's mean for the same task and config is drawn as a black tick
    on each bar. Bars of configs with crashed runs are hatched; incomplete runs are not in the means.
    """
    if summary.empty:
        raise ValueError("no results to plot (summary returned an empty table)")
    tasks = _ordered(summary["task"], tasks, "tasks")
    configs = _ordered(summary["config"], configs, "configs")
    if ax is None:
        width = min(20.0, max(4.0, 0.65 * len(tasks) * len(configs)))
        _, ax = plt.subplots(figsize=(width + 2.5, 3.5))  # + room for the legend on the right
    width = 0.8 / len(configs)
    x = np.arange(len(tasks))
    for i, config in enumerate(configs):
        part = summary[summary["config"] == config].set_index("task").reindex(tasks)
        offsets = x - 0.4 + width * (i + 0.5)
        bars = ax.bar(offsets, part["mean"], width, yerr=part["se"].fillna(0), capsize=3,
                      color=f"C{i}", label=config)
        for bar, n_crashed in zip(bars, part["n_crashed"].fillna(0)):
            if n_crashed:
                bar.set_hatch("//")
        if paper is not None:
            ref = paper[paper["config"] == config].set_index("task")["mean"].reindex(tasks)
            ax.scatter(offsets, ref, marker="_", s=200, color="black", zorder=3,
                       label="paper" if i == 0 else None)
    if summary["n_crashed"].fillna(0).gt(0).any():
        ax.bar([np.nan], [np.nan], color="white", edgecolor="gray", hatch="//",
               label="includes crashed runs (carried forward)")
    ax.set_xticks(x, tasks, rotation=20, ha="right")
    ax.set_ylabel(f"eval return at {int(summary['frame_budget'].iloc[0]):,} frames"
                  if "frame_budget" in summary else "eval return")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.figure.tight_layout()
    return ax


def _pm(mean, spread, decimals: int) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.{decimals}f}" + ("" if pd.isna(spread) else f" ± {spread:.{decimals}f}")


def paper_comparison_table(comparison: pd.DataFrame, decimals: int = 1, styled: bool = False):
    """:func:`course_lib.results.compare_with_paper` output as a readable table.

    Columns: task, method, config, paper (mean ± the paper's ±), ours (mean ± s.e.), n (seeds;
    "+k crashed" and "k incomplete" where any), diff (ours - paper). Returns a plain DataFrame of
    strings (deterministic text for notebooks; nbval compares it), or with ``styled=True`` a pandas
    Styler that colours the difference (HTML only: its plain-text repr changes between runs, so tag
    such a cell ``nbval-ignore-output``).
    """
    rows = []
    for r in comparison.itertuples(index=False):
        n = "-" if pd.isna(r.ours_n) else str(int(r.ours_n))
        if not pd.isna(r.ours_crashed) and r.ours_crashed:
            n += f" ({int(r.ours_crashed)} crashed)"
        if not pd.isna(r.ours_incomplete) and r.ours_incomplete:
            n += f", {int(r.ours_incomplete)} incomplete"
        rows.append(dict(task=r.task, method=r.method, config="-" if pd.isna(r.config) else r.config,
                         paper=_pm(r.paper_mean, r.paper_pm, decimals),
                         ours=_pm(r.ours_mean, r.ours_se, decimals), n=n,
                         diff="-" if pd.isna(r.diff) else f"{r.diff:+.{decimals}f}"))
    table = pd.DataFrame(rows, columns=["task", "method", "config", "paper", "ours", "n", "diff"])
    if not styled:
        return table
    diffs = comparison["diff"].to_numpy(dtype=float)

    def colour(column: pd.Series) -> list[str]:
        return ["" if np.isnan(d) else f"color: {'green' if d >= 0 else 'red'}" for d in diffs]

    return table.style.apply(colour, subset=["diff"]).hide(axis="index")
