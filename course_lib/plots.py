"""Figures for the notebooks. Library code draws and returns figures/axes; notebooks call plt.show().

Sections are owned by topic; add a new clearly marked section rather than editing another's.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_lib import stats


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


def plot_intervals(labels: Sequence[str], points, lows, highs, xlabel: str, ax: plt.Axes | None = None,
                   references: Sequence[float] = (), colors: Sequence[str] | None = None) -> plt.Axes:
    """One row per label: a point estimate and its interval as a horizontal bar (rliable's style).

    For the aggregate statistics of :mod:`course_lib.stats` (an IQM with its bootstrap interval, a
    probability of improvement P(X > Y) with its interval). ``references`` draws dashed vertical
    lines, e.g. 0.5 for P(X > Y): an interval that crosses it cannot tell X and Y apart. The first
    label is drawn on top.
    """
    points, lows, highs = (np.asarray(v, dtype=float) for v in (points, lows, highs))
    if not len(labels) == len(points) == len(lows) == len(highs):
        raise ValueError(f"got {len(labels)} labels for {len(points)} points, {len(lows)} lows and {len(highs)} highs")
    if len(labels) == 0:
        raise ValueError("nothing to plot: no labels")
    if np.any(lows > points) or np.any(points > highs):
        raise ValueError("each interval must contain its point: low <= point <= high")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 0.45 * len(labels) + 1.2))
    y = np.arange(len(labels))[::-1]
    for i, (row, point, low, high) in enumerate(zip(y, points, lows, highs)):
        color = colors[i] if colors is not None else f"C{i}"
        ax.plot([low, high], [row, row], color=color, linewidth=6, alpha=0.35, solid_capstyle="butt")
        ax.plot([point], [row], "|", color=color, markersize=14, markeredgewidth=2.5)
    for ref in references:
        ax.axvline(ref, color="gray", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    return ax


def plot_profiles(matrices: dict, heads: Sequence[str], ax: plt.Axes | None = None, scale: float = 1000.0,
                  n_taus: int = 101) -> plt.Axes:
    """Performance profiles (Agarwal et al. 2021): per head, the fraction of its runs whose score
    passes each threshold tau, with a 95% pointwise stratified-bootstrap band
    (:func:`course_lib.stats.profile_intervals`).

    ``matrices`` maps each head to its score matrix (seeds x tasks, scores in [0, 1], as
    :func:`course_lib.stats.score_matrices` gives); the x axis shows ``tau * scale``, the return for
    DeepMind Control. A curve above another at every tau dominates it.
    """
    missing = [head for head in heads if head not in matrices]
    if missing:
        raise ValueError(f"no score matrix for {missing}; the matrices hold {sorted(matrices)}")
    if len(heads) == 0:
        raise ValueError("nothing to plot: no heads")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    taus = np.linspace(0, 1, n_taus)
    for head in heads:
        point, low, high = stats.profile_intervals(matrices[head], taus)
        line, = ax.plot(scale * taus, point, label=head)
        ax.fill_between(scale * taus, low, high, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("return threshold τ" if scale == 1000.0 else "score threshold τ")
    ax.set_ylabel("fraction of runs scoring above τ")
    ax.set_ylim(-0.03, 1.03)
    ax.legend()
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


# =========================================================================== diagnostics (Fig. 3)
# Owned by notebook 08 (diagnosing instability). Inputs: run directories' train.csv (the diagnostics
# columns of course_lib.diagnostics) via read_train_logs(), and eval curves via
# course_lib.results.curve_summary(). The paper's Fig. 3: critic loss (eq. 2), return, and the
# gradient norms of actor and critic on a log scale; Sec. 4 explains them with the spectral norms of
# the critic's layers, whose product bounds dQ/da (eq. 5).
from pathlib import Path  # noqa: E402  (kept inside this section, which reads run directories)

FIG3_METRICS = {  # train.csv column -> (panel title, log scale)
    "critic_loss": ("critic loss, eq. (2)", True),
    "actor_grad_norm": ("actor gradient norm", True),
    "critic_grad_norm": ("critic gradient norm", True),
}
FIG3_YLABELS = {  # the y axis of each Fig. 3 panel, with its unit
    "critic_loss": "mean squared TD error (log)",
    "return": "episode return (0 to 1000)",
    "actor_grad_norm": "L2 norm, all actor grads (log)",
    "critic_grad_norm": "L2 norm, all critic grads (log)",
}


def read_train_logs(runs: pd.DataFrame) -> pd.DataFrame:
    """Every run's ``train.csv``, stacked: one row per (run, logged frame).

    ``runs`` is :func:`course_lib.results.load_runs` output (it needs ``run_dir``; its other
    columns, e.g. ``config``, ``seed``, ``task``, are copied onto each row). Runs without a
    ``train.csv`` (or with an empty one) are skipped. Columns: the run's columns, then ``frame``
    and the diagnostics (``critic_loss``, ``actor_grad_norm``, ..., ``sigma/critic/...``).
    """
    if "run_dir" not in runs.columns:
        raise ValueError("runs needs a run_dir column: pass course_lib.results.load_runs(ROOT)")
    keep = [c for c in ("task", "agent", "obs", "config", "arch", "depth", "sn", "seed", "status",
                        "hidden_dim", "lr", "run_dir") if c in runs.columns]
    parts = []
    for run in runs[keep].to_dict("records"):
        path = Path(run["run_dir"]) / "train.csv"
        if not path.exists() or path.stat().st_size == 0:
            continue
        log = pd.read_csv(path)
        if log.empty:
            continue
        for key, value in run.items():
            if key not in log.columns:
                log[key] = value
        parts.append(log)
    if not parts:
        return pd.DataFrame(columns=keep + ["frame"])
    train = pd.concat(parts, ignore_index=True)
    return train[keep + [c for c in train.columns if c not in keep]]


def _group_order(values: pd.Series, groups: Sequence | None) -> list:
    return _ordered(values, groups, "groups")


def _mean_se_by_frame(part: pd.DataFrame, column: str, log: bool) -> pd.DataFrame:
    """Mean ± one standard error over runs per frame (geometric mean and its s.e. band if ``log``)."""
    values = part[["frame", column]]
    values = values[np.isfinite(values[column].astype(float))]  # a crash's inf/NaN is marked, not averaged
    if log:
        values = values[values[column] > 0].assign(**{column: lambda d: np.log10(d[column])})
    stats = values.groupby("frame")[column].agg(["mean", "std", "count"]).reset_index()
    stats["se"] = stats["std"] / np.sqrt(stats["count"])
    lo, hi = stats["mean"] - stats["se"].fillna(0), stats["mean"] + stats["se"].fillna(0)
    if log:
        stats["mean"], lo, hi = 10 ** stats["mean"], 10 ** lo, 10 ** hi
    return stats.assign(lo=lo, hi=hi)


def plot_training_dynamics(train: pd.DataFrame, curves: pd.DataFrame | None = None, group: str = "config",
                           groups: Sequence | None = None, show_runs: bool = True,
                           axes: Sequence[plt.Axes] | None = None) -> plt.Figure:
    """The paper's Fig. 3 for any set of runs: critic loss, return, actor and critic gradient norms.

    ``train`` is :func:`read_train_logs` output; ``curves`` (optional) is
    :func:`course_lib.results.curve_summary` output for the return panel (crashed runs carried
    forward, as in the paper). Runs are grouped by the ``group`` column (default: the head
    configuration, e.g. ``modern4`` vs ``modern4+sn``). Per group the thick line is the mean over
    runs (geometric mean on the log-scale panels) with a ± one standard error band; with
    ``show_runs`` each run is also drawn thinly, because averaging hides exactly the spikes Fig. 3
    is about. A crash (a ``nonfinite`` row) is marked with an x at the run's last finite value;
    non-finite values are left out of the means. Returns the figure (2 x 2 panels, the
    paper's layout; or pass four ``axes``).
    """
    if train.empty:
        raise ValueError("no diagnostics to plot: read_train_logs found no train.csv rows")
    missing = {group, "frame", *FIG3_METRICS} - set(train.columns)
    if missing:
        raise ValueError(f"train has no columns {sorted(missing)}; pass read_train_logs(load_runs(ROOT))")
    order = _group_order(train[group], groups)
    if axes is None:
        fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
        axes = axes.ravel()
    elif len(axes) != 4:
        raise ValueError(f"plot_training_dynamics draws 4 panels, got {len(axes)} axes")
    loss_ax, return_ax, actor_ax, critic_ax = axes
    panels = {"critic_loss": loss_ax, "actor_grad_norm": actor_ax, "critic_grad_norm": critic_ax}
    colors = {g: f"C{i}" for i, g in enumerate(order)}
    for g in order:
        part = train[train[group] == g]
        n_runs = part["run_dir"].nunique() if "run_dir" in part else 1
        for column, ax in panels.items():
            title, log = FIG3_METRICS[column]
            if show_runs and "run_dir" in part:
                for _, run in part.groupby("run_dir"):
                    ax.plot(run["frame"], run[column], color=colors[g], alpha=0.25, linewidth=0.7)
            stats = _mean_se_by_frame(part, column, log)
            ax.plot(stats["frame"], stats["mean"], color=colors[g], linewidth=2, label=f"{g} (n={n_runs})")
            ax.fill_between(stats["frame"], stats["lo"], stats["hi"], color=colors[g], alpha=0.2, linewidth=0)
            if "nonfinite" in part:  # a crash: an x at the run's last finite value of this metric
                crashes = [(run.loc[run["nonfinite"] == 1, "frame"].iloc[0],
                            run.loc[np.isfinite(run[column].astype(float)), column].iloc[-1])
                           for _, run in part.groupby("run_dir" if "run_dir" in part else group)
                           if (run["nonfinite"] == 1).any() and np.isfinite(run[column].astype(float)).any()]
                ax.scatter([f for f, _ in crashes], [v for _, v in crashes], marker="x", s=60,
                           color=colors[g], zorder=3)
            ax.set_title(title + (" (log scale)" if log and column != "critic_loss" else ""))
            if log:
                ax.set_yscale("log")
        if curves is not None and group in curves.columns:
            c = curves[curves[group] == g].sort_values("frame")
            if len(c):
                return_ax.plot(c["frame"], c["mean"], color=colors[g], linewidth=2,
                               label=f"{g} (n={int(c['n'].max())})")
                band = c["se"].notna()
                return_ax.fill_between(c["frame"][band], (c["mean"] - c["se"])[band],
                                       (c["mean"] + c["se"])[band], color=colors[g], alpha=0.2, linewidth=0)
    return_ax.set_title("eval return")
    for column, ax in (*panels.items(), ("return", return_ax)):
        ax.set_ylabel(FIG3_YLABELS[column])
    if curves is None:
        return_ax.text(0.5, 0.5, "no eval curves given", ha="center", va="center", transform=return_ax.transAxes)
    for ax in axes:
        ax.set_xlabel("environment frames")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig = axes[0].figure
    fig.tight_layout()
    return fig


def sigma_columns(train: pd.DataFrame, network: str = "critic", head: str | None = "q1") -> list[str]:
    """The ``sigma/<network>/<layer>`` columns of ``train`` (critic: of one head, ``q1`` by default)."""
    prefix = f"sigma/{network}/" + (f"{head}." if head and network == "critic" else "")
    columns = [c for c in train.columns if c.startswith(prefix)]
    if not columns:
        raise ValueError(f"train has no {prefix}* columns; the networks logged are "
                         f"{sorted({c.split('/')[1] for c in train.columns if c.startswith('sigma/')})}")
    return columns


def plot_spectral_norms(train: pd.DataFrame, network: str = "critic", head: str | None = "q1",
                        group: str = "config", groups: Sequence | None = None,
                        axes: Sequence[plt.Axes] | None = None) -> plt.Figure:
    """Spectral norm of each head layer over training (mean over runs), one panel per group.

    The largest singular value of every Linear of the head, as ``train.csv`` logs it (measured with
    ``torch.linalg``, after SN's division when SN is on). Their product bounds how steep the critic
    can be (eq. 5), and so the gradient ``dQ/da`` the actor receives (eq. 3): the dashed line at 1
    is where SN holds the normalized layers. Log scale; first layers dark, last layers light; each
    panel shows the layers its runs have (labels without ``.branch``).
    """
    if train.empty:
        raise ValueError("no diagnostics to plot: read_train_logs found no train.csv rows")
    columns = sigma_columns(train, network, head)
    order = _group_order(train[group], groups)
    if axes is None:
        fig, axes = plt.subplots(1, len(order), figsize=(4.6 * len(order), 3.6), squeeze=False, sharey=True)
        axes = axes.ravel()
    elif len(axes) < len(order):
        raise ValueError(f"got {len(axes)} axes for {len(order)} groups")
    cmap = plt.get_cmap("viridis")
    prefix = f"sigma/{network}/"
    for ax, g in zip(axes, order):
        part = train[train[group] == g]
        mine = [c for c in columns if part[c].notna().any()]  # groups of other architectures have other layers
        means = part.groupby("frame")[mine].mean()
        for i, column in enumerate(mine):
            ax.plot(means.index, means[column], color=cmap(i / max(1, len(mine) - 1)),
                    label=column[len(prefix):].replace(".branch", ""))
        ax.axhline(1.0, color="gray", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        n = part["run_dir"].nunique() if "run_dir" in part else 1
        ax.set_title(f"{g}: {network}{'/' + head if head and network == 'critic' else ''} (n={n})")
        ax.set_xlabel("environment frames")
        ax.legend(fontsize="xx-small" if len(mine) > 8 else "x-small", ncol=2 if len(mine) > 8 else 1)
    axes[0].set_ylabel("spectral norm σ_max (log scale)")
    fig = axes[0].figure
    fig.tight_layout()
    return fig


def _short_layer(column: str, prefix: str) -> str:
    """``sigma/critic/q1.blocks.3.branch.w2`` -> ``b3.w2`` (row labels of the heatmap)."""
    return column[len(prefix):].replace(".branch", "").replace("blocks.", "b")


def plot_spectral_heatmap(train: pd.DataFrame, network: str = "critic", head: str | None = "q1",
                          group: str = "config", groups: Sequence | None = None, axes: Sequence[plt.Axes] | None = None,
                          vmax: float | None = None) -> plt.Figure:
    """Spectral norm of every head layer over training as a heatmap: layers (rows) x frames.

    One panel per group, colour = ``log10(sigma_max)`` of the layer's effective weight (mean over
    the group's runs of the logged values, non-finite ones left out; blank where no run has a value,
    e.g. after a crash). One colour scale for all panels, centred on 0 (sigma = 1, where SN holds
    the normalized layers): white is 1, red above, blue below. Their product bounds how steep an MLP
    critic can be (eq. 5). Returns the figure.
    """
    if train.empty:
        raise ValueError("no diagnostics to plot: read_train_logs found no train.csv rows")
    columns = sigma_columns(train, network, head)
    order = _group_order(train[group], groups)
    prefix = f"sigma/{network}/" + (f"{head}." if head and network == "critic" else "")
    grids = []
    for g in order:
        part = train[train[group] == g]
        mine = [c for c in columns if part[c].notna().any()]
        values = part[["frame", *mine]].copy()
        values[mine] = np.log10(values[mine].where(np.isfinite(values[mine].astype(float)) & (values[mine] > 0)))
        grids.append((g, mine, values.groupby("frame")[mine].mean(), part["run_dir"].nunique()
                      if "run_dir" in part else 1))
    if vmax is None:
        vmax = max(float(np.nanmax(np.abs(grid.to_numpy()))) for _, _, grid, _ in grids if grid.size)
    if axes is None:
        fig, axes = plt.subplots(1, len(order), figsize=(4.3 * len(order) + 0.8, 4.2), squeeze=False)
        axes = axes.ravel()
    elif len(axes) < len(order):
        raise ValueError(f"got {len(axes)} axes for {len(order)} groups")
    image = None
    for ax, (g, mine, grid, n) in zip(axes, grids):
        frames = grid.index.to_numpy(dtype=float)
        step = np.diff(frames).min() if len(frames) > 1 else 1.0
        edges = np.concatenate([frames - step / 2, [frames[-1] + step / 2]])
        image = ax.pcolormesh(edges, np.arange(len(mine) + 1), grid.to_numpy().T, cmap="RdBu_r",
                              vmin=-vmax, vmax=vmax, shading="flat")
        ax.set_yticks(np.arange(len(mine)) + 0.5, [_short_layer(c, prefix) for c in mine],
                      fontsize=6 if len(mine) > 10 else 8)
        ax.invert_yaxis()  # input layer on top, output layer at the bottom
        ax.set_xlabel("environment frames")
        ax.set_title(f"{g} (n={n})", fontsize=10)
    axes[0].set_ylabel(f"{network}{'/' + head if head and network == 'critic' else ''} layer (input on top)")
    fig = axes[0].figure
    bar = fig.colorbar(image, ax=list(axes[:len(order)]), fraction=0.03, pad=0.02)
    bar.set_label("log10 of the layer's spectral norm σ_max (0: σ = 1)")
    return fig


def diagnostics_summary(train: pd.DataFrame, group: str = "config", groups: Sequence | None = None,
                        last_fraction: float = 0.25) -> pd.DataFrame:
    """Fig. 3 in numbers, per group: the diagnostics at the start and over the last part of training.

    Columns: ``runs``; ``critic_loss_end`` (mean over runs of each run's mean over the last
    ``last_fraction`` of its rows); ``actor_grad_start`` / ``actor_grad_end`` (same, first row /
    last part), ``actor_grad_max`` (largest logged value of any run: the spikes);
    ``critic_grad_end``, ``critic_grad_max``; ``critic_sigma_prod_end`` (product over the q1 head's
    layers of the logged spectral norms, the eq. 5 factor for a plain MLP; for residual heads a
    measure of weight growth, not the bound) and ``nonfinite_runs`` (runs that crashed). A crashed
    run contributes its rows *before* the crash (its last row holds NaN or inf), so ``_end`` means
    "just before the crash" for it.
    """
    if not 0 < last_fraction <= 1:
        raise ValueError(f"last_fraction must be in (0, 1], got {last_fraction}")
    order = _group_order(train[group], groups)
    try:
        sigmas = sigma_columns(train, "critic", "q1")
    except ValueError:
        sigmas = []
    rows = []
    for g in order:
        per_run = []
        for _, run in train[train[group] == g].groupby("run_dir" if "run_dir" in train else group):
            crashed = bool((run.get("nonfinite", pd.Series(0)) == 1).any())
            run = run.sort_values("frame")
            finite = np.isfinite(run[["critic_loss", "actor_grad_norm", "critic_grad_norm"]].astype(float)
                                 .fillna(0)).all(axis=1)
            run = run[finite & (run.get("nonfinite", 0) != 1)] if crashed else run
            if run.empty:
                per_run.append({"nonfinite": crashed})
                continue
            tail = run.iloc[-max(1, int(round(len(run) * last_fraction))):]
            per_run.append({
                "critic_loss_end": tail["critic_loss"].mean(),
                "actor_grad_start": run["actor_grad_norm"].dropna().iloc[0] if run["actor_grad_norm"].notna().any() else np.nan,
                "actor_grad_end": tail["actor_grad_norm"].mean(),
                "actor_grad_max": run["actor_grad_norm"].max(),
                "critic_grad_end": tail["critic_grad_norm"].mean(),
                "critic_grad_max": run["critic_grad_norm"].max(),
                "critic_sigma_prod_end": float(np.prod(tail[sigmas].iloc[-1])) if sigmas else np.nan,
                "nonfinite": crashed,
            })
        frame = pd.DataFrame(per_run)
        rows.append({group: g, "runs": len(frame),
                     **{k: frame[k].max() if k.endswith("_max") else frame[k].mean()
                        for k in frame.columns if k != "nonfinite"},
                     "nonfinite_runs": int(frame["nonfinite"].sum())})
    return pd.DataFrame(rows)


# =========================================================================== single training runs
# Owned by notebooks 02, 06 and 07 (and the training panel of course_lib.widgets). Inputs: what
# course_lib.train.train returns (RunResult.eval / .train), a run directory's eval.csv / train.csv,
# or the row lists a train() callback receives while the run goes on (for live plots).
RUN_PANELS = {  # panel name -> title, log scale
    "return": ("eval return (mean action)", False),
    "critic_loss": ("critic loss, eq. (2)", True),
    "grad_norms": ("gradient norms (actor solid, critic dashed)", True),
}


def _numeric(rows) -> pd.DataFrame:
    # Blank cells ("") become NaN through errors="coerce"; no .replace("", nan), which pandas 2.2
    # answers with a FutureWarning about downcasting.
    table = pd.DataFrame(rows)
    return table.apply(pd.to_numeric, errors="coerce") if len(table) else table


def plot_runs(runs: dict, axes: Sequence[plt.Axes], panels: Sequence[str] = ("return", "grad_norms"),
              frame_budget: int | None = None) -> None:
    """Draw training runs vs environment frames, one panel per name in ``panels``.

    ``runs`` maps a label to ``(eval, train)``: DataFrames or lists of row dicts with the columns of
    ``eval.csv`` (``frame, eval_return, crashed``) and ``train.csv`` (``frame, critic_loss,
    actor_grad_norm, critic_grad_norm, ...``). Panels: ``"return"``, ``"critic_loss"``,
    ``"grad_norms"`` (actor solid, critic dashed, log scale). A crash (the eval row with
    ``crashed=1``) is marked with a red x. Draws into the given ``axes`` (one per panel; works with
    pyplot axes and with a plain ``matplotlib.figure.Figure``'s, as the live panel uses).
    ``frame_budget`` fixes the x axis to the whole run (a live plot then fills in from the left).
    """
    unknown = [p for p in panels if p not in RUN_PANELS]
    if unknown or len(axes) != len(panels):
        raise ValueError(f"panels must be {len(axes)} names from {list(RUN_PANELS)}, got {list(panels)}")
    for i, (label, (eval_rows, train_rows)) in enumerate(runs.items()):
        evals, train = _numeric(eval_rows), _numeric(train_rows)
        color = f"C{i}"
        for ax, panel in zip(axes, panels):
            if panel == "return" and len(evals):
                crashed = evals["crashed"] == 1 if "crashed" in evals else pd.Series(False, index=evals.index)
                ok = evals[~crashed]
                ax.plot(ok["frame"], ok["eval_return"], "o-", color=color, markersize=3, label=label)
                ax.scatter(evals["frame"][crashed], evals["eval_return"][crashed], marker="x", s=60,
                           color="red", zorder=3, label="crash" if crashed.any() else None)
            elif panel == "critic_loss" and "critic_loss" in train:
                ax.plot(train["frame"], train["critic_loss"], color=color, label=label)
            elif panel == "grad_norms":
                for column, style, who in (("actor_grad_norm", "-", "actor"), ("critic_grad_norm", "--", "critic")):
                    if column in train:
                        ax.plot(train["frame"], train[column], color=color, linestyle=style, label=f"{label}: {who}")
    for ax, panel in zip(axes, panels):
        title, log = RUN_PANELS[panel]
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("environment frames")
        if frame_budget:
            ax.set_xlim(-0.02 * frame_budget, 1.02 * frame_budget)
        if log and any(line.get_ydata().size for line in ax.get_lines()):
            ax.set_yscale("log")
        if not ax.get_lines():
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="gray")
        elif ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
