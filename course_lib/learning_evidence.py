"""Does an agent learn? A folder of runs read against a random policy's floor, as a table and curves.

A folder of evidence holds run directories (written by ``python -m course_lib.train``) and
``random.csv``, the return of a uniformly random policy per task (:mod:`course_lib.baselines`), the
floor every curve is read against. ``results/cpu_pixels/`` is one: DrQ (SAC) and DrQ-v2 (DDPG)
from pixels in the CPU pixel setting (``--profile cpu``, :data:`course_lib.config.CPU_PROFILE`),
beside the same agents from states at the same frame budget. Notebooks 06 and 07 draw it::

    runs = learning_evidence.load_runs("../results/cpu_pixels")
    floor = learning_evidence.random_floor("../results/cpu_pixels")
    learning_evidence.evidence_table(runs, floor)                 # one row per task, agent, variant
    learning_evidence.plot_evidence(runs, floor, agent="sac")     # one panel per task

A *variant* names what differs between runs of one agent: the observations, the heads
(:func:`course_lib.results.config_name`) and penultimate normalization (``--pnorm``), e.g.
``"pixels mlp2"``, ``"pixels mlp2, pnorm actor"``, ``"state mlp2"``.

"Learns", made precise (:func:`evidence_table`): late in the run (the mean of its last three
evaluations, 5 episodes each) the return is above the random policy's by more than two standard
errors of each, *and* higher than early in the run (the evaluations of the first quarter of the
budget, after frame 0). Frame 0 is left out of "early" because an untrained actor's near-constant
action is not a random policy: on cartpole_balance it keeps the pole up for a while and scores
above the random floor.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd

from course_lib import results

__all__ = ["load_runs", "random_floor", "evidence_table", "saturation", "head_comparison", "plot_evidence",
           "markdown_table", "variant_name"]


def variant_name(obs: str, config: str, pnorm: str = "none") -> str:
    """``("pixels", "mlp2", "actor")`` -> ``"pixels mlp2, pnorm actor"``."""
    return f"{obs} {config}" + ("" if pnorm in (None, "none") else f", pnorm {pnorm}")


def _root(evidence: str | Path) -> Path:
    evidence = Path(evidence)
    if not evidence.is_dir():
        raise ValueError(f"{str(evidence)!r} is not a directory: pass the folder results/cpu_pixels of the "
                         "repository (from notebooks/: '../results/cpu_pixels')")
    return evidence


def load_runs(evidence: str | Path) -> pd.DataFrame:
    """Every run under ``evidence/runs`` (:func:`course_lib.results.load_runs`) plus a ``variant`` column."""
    runs = results.load_runs(_root(evidence) / "runs")
    if runs.empty:
        raise ValueError(f"no run directories under {Path(evidence) / 'runs'}")
    if "pnorm" not in runs.columns:
        runs["pnorm"] = "none"
    runs["pnorm"] = runs["pnorm"].fillna("none")
    runs["variant"] = [variant_name(r.obs, r.config, r.pnorm) for r in runs.itertuples()]
    return runs


def random_floor(evidence: str | Path) -> pd.DataFrame:
    """``evidence/random.csv`` (written by ``python -m course_lib.baselines --csv``): task, mean_return, se."""
    path = _root(evidence) / "random.csv"
    if not path.exists():
        raise ValueError(f"{path} is missing; write it with python -m course_lib.baselines --tasks TASK ... "
                         f"--episodes 50 --action-repeat 8 --csv {path}")
    return pd.read_csv(path)


#: Evaluations averaged into a run's ``late`` return: the last ones, at the end of the budget.
LATE_EVALS = 3


def _per_run(run) -> dict:
    """One run's returns: at frame 0, early (mean over evaluations in (0, budget/4]), late (mean of its
    last :data:`LATE_EVALS` evaluations) and at the budget."""
    curve = results.read_curve(run.run_dir)
    curve = curve[curve["crashed"] == 0]
    budget = int(run.frames)
    if not len(curve) or int(curve["frame"].max()) < budget:
        return dict(complete=False)
    early = curve[(curve["frame"] > 0) & (curve["frame"] <= budget // 4)]["eval_return"]
    return dict(complete=True, start=float(curve["eval_return"].iloc[0]), early=float(early.mean()),
                late=float(curve["eval_return"].iloc[-LATE_EVALS:].mean()),
                end=float(curve.loc[curve["frame"] == budget, "eval_return"].iloc[-1]))


def _group_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± s.e. over seeds of :func:`_per_run`, one row per task, agent and variant (complete runs only)."""
    rows = []
    for (task, agent, variant), group in runs.groupby(["task", "agent", "variant"], sort=True):
        per_run = pd.DataFrame([{**_per_run(r), "seed": r.seed} for r in group.itertuples()])
        done = per_run[per_run["complete"]]
        row = dict(task=task, agent=agent, variant=variant, obs=group["obs"].iloc[0],
                   frames=int(group["frames"].max()), n=len(done), n_incomplete=len(per_run) - len(done),
                   seeds=" ".join(str(s) for s in sorted(done["seed"])))
        for column in ("start", "early", "late", "end"):
            mean, se, _ = results._mean_se(done[column])  # std(ddof=1)/sqrt(n); NaN for n < 2
            row[column], row[f"{column}_se"] = mean, se
        rows.append(row)
    return pd.DataFrame(rows)


def evidence_table(runs: pd.DataFrame, floor: pd.DataFrame) -> pd.DataFrame:
    """One row per task, agent and variant: mean ± s.e. over seeds of the return at frame 0
    (``start``), early in the run (``early``: evaluations in the first quarter of the budget, after
    frame 0), ``late`` (the last :data:`LATE_EVALS` evaluations) and at the budget (``end``); the
    random policy's return; and the verdicts ``above_random`` (late above random by more than two
    standard errors of each), ``rising`` (late above early) and ``learns`` (both, every run complete).
    """
    table = _group_rows(runs).merge(floor[["task", "mean_return", "se"]].rename(
        columns={"mean_return": "random", "se": "random_se"}), on="task", how="left")
    if table["random"].isna().any():
        missing = sorted(table.loc[table["random"].isna(), "task"].unique())
        raise ValueError(f"random.csv has no row for {missing}; add them with python -m course_lib.baselines")
    margin = 2 * (table["late_se"].fillna(0) + table["random_se"])
    table["above_random"] = table["late"] - table["random"] > margin
    table["rising"] = table["late"] > table["early"]
    table["learns"] = table["above_random"] & table["rising"] & (table["n_incomplete"] == 0) & (table["n"] > 0)
    return table


def saturation(run_dir: str | Path, frames: int | None = None) -> dict:
    """How saturated a DDPG run's actor was (its ``train.csv``, up to ``frames`` if given): the share of
    logged rows in which more than 99% of the batch's action entries had ``|tanh| > 0.99``
    (``saturated_rows``), and the largest logged ``max |pre-tanh|`` (``max_pre_tanh``)."""
    log = pd.read_csv(Path(run_dir) / "train.csv")
    if frames is not None:
        log = log[log["frame"] <= frames]
    if "saturated_frac" not in log.columns:
        raise ValueError(f"{run_dir}/train.csv has no saturated_frac column: a run from before saturation logging")
    return {"saturated_rows": float((log["saturated_frac"] > 0.99).mean()),
            "max_pre_tanh": float(log["pre_tanh_max"].max())}


def head_comparison(runs: pd.DataFrame, task: str, frames: int) -> pd.DataFrame:
    """DDPG from pixels on ``task``, one row per run: its heads, SN, pnorm, the return late in the run
    and at ``frames`` (runs longer than ``frames`` are read up to it), and :func:`saturation`."""
    part = runs[(runs["agent"] == "ddpg") & (runs["obs"] == "pixels") & (runs["task"] == task)]
    if part.empty:
        raise ValueError(f"no DDPG pixel runs on {task!r}")
    rows = []
    for run in part.itertuples():
        curve = results.read_curve(run.run_dir)
        curve = curve[(curve["crashed"] == 0) & (curve["frame"] <= frames)]
        if not len(curve) or int(curve["frame"].max()) < frames:
            continue  # has not reached the budget compared here
        rows.append(dict(variant=run.variant, seed=run.seed, early=float(
            curve[(curve["frame"] > 0) & (curve["frame"] <= frames // 4)]["eval_return"].mean()),
            late=float(curve["eval_return"].iloc[-LATE_EVALS:].mean()),
            at_budget=float(curve["eval_return"].iloc[-1]), **saturation(run.run_dir, frames)))
    return pd.DataFrame(rows).sort_values(["variant", "seed"]).reset_index(drop=True)


def plot_evidence(runs: pd.DataFrame, floor: pd.DataFrame, agent: str, tasks: Sequence[str] | None = None,
                  variants: Sequence[str] | None = None) -> plt.Figure:
    """Mean evaluation return ± one standard error over seeds vs frames, one panel per task: each
    variant of ``agent`` (pixels and states) and the random policy's return as a dashed band."""
    mine = runs[runs["agent"] == agent]
    if mine.empty:
        raise ValueError(f"no runs of agent {agent!r}; the runs have {sorted(runs['agent'].unique())}")
    tasks = list(dict.fromkeys(mine["task"])) if tasks is None else list(tasks)
    variants = sorted(mine["variant"].unique(), key=lambda v: (not v.startswith("pixels"), v)) \
        if variants is None else list(variants)
    curves = results.curve_summary(mine, by=["pnorm"])
    curves["variant"] = [variant_name(c.obs, c.config, c.pnorm) for c in curves.itertuples()]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for i, variant in enumerate(variants):
            part = curves[(curves["task"] == task) & (curves["variant"] == variant)].sort_values("frame")
            if part.empty:
                continue
            style = "-" if variant.startswith("pixels") else "--"
            ax.plot(part["frame"], part["mean"], style, color=f"C{i}", marker="o", markersize=3,
                    label=f"{variant} (n={int(part['n'].max())})")
            band = part["se"].notna()
            ax.fill_between(part["frame"][band], (part["mean"] - part["se"])[band],
                            (part["mean"] + part["se"])[band], color=f"C{i}", alpha=0.2, linewidth=0)
        row = floor[floor["task"] == task]
        if len(row):
            mean, se = float(row["mean_return"].iloc[0]), float(row["se"].iloc[0])
            ax.axhline(mean, color="gray", linestyle=":", label=f"random policy ({mean:.0f})")
            ax.axhspan(mean - se, mean + se, color="gray", alpha=0.15, linewidth=0)
        ax.set(title=f"{agent.upper()}, {task}", xlabel="environment frames", ylabel="evaluation return (max 1000)",
               ylim=(0, 1000))
        ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def markdown_table(table: pd.DataFrame) -> str:
    """:func:`evidence_table` as the Markdown table of ``results/cpu_pixels/README.md``."""
    def pm(mean, se):
        if mean is None or math.isnan(mean):
            return "–"
        return f"{mean:.0f}" if se is None or math.isnan(se) else f"{mean:.0f} ± {se:.0f}"

    lines = ["| task | agent | variant | frames | seeds | frame 0 | early (first quarter) | late (last 3 evals) "
             "| at the budget | random | learns |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        if r.n_incomplete or not r.n:
            verdict = "incomplete"
        else:
            verdict = "yes" if r.learns else ("above random, not rising" if r.above_random else "no")
        lines.append(f"| {r.task} | {r.agent} | {r.variant} | {r.frames} | {r.seeds} | {pm(r.start, r.start_se)} "
                     f"| {pm(r.early, r.early_se)} | {pm(r.late, r.late_se)} | {pm(r.end, r.end_se)} "
                     f"| {pm(r.random, r.random_se)} | {verdict} |")
    return "\n".join(lines)
