"""A sweep's run directories -> the paper's tables and figures, headless (what notebook 09 shows).

    python -m course_lib.report runs/paper                    # print the tables beside the paper's
    python -m course_lib.report runs/paper --frames 500000 --out runs/paper/report

It prints every configuration we ran (mean ± one standard error over seeds at the frame budget,
crashed runs carried forward and counted, incomplete runs counted and left out of the mean:
:mod:`course_lib.results`), then, per agent, our results next to the paper's table for it (DDPG /
DrQ-v2: Table 1; SAC / DrQ: Table 2) for the tasks we ran, and the names of those we did not. With
``--out`` it also writes, into that folder:

- ``summary.csv`` (every task and configuration), ``table1.csv`` / ``table2.csv`` (the comparisons;
  ``table2_state.csv`` and the like when one agent has runs from both pixels and states);
- ``learning_curves.png`` (Figs. 1, 2, 4: mean ± one standard error per task),
  ``bars_<agent>_<obs>.png`` (per task, one bar per configuration; from pixels the paper's mean as
  a black tick) and ``training_dynamics.png`` (Fig. 3: critic loss, return, gradient norms, from
  ``train.csv``).

Runs that are not the paper's experiment (state observations, or a budget other than 500,000 frames)
are compared all the same, with a warning line: the columns then do not measure the same thing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import pandas as pd

from course_lib import paper, plots, results

PAPER_TABLES = {"ddpg": ("Table 1", paper.table1), "sac": ("Table 2", paper.table2)}
PAPER_FRAMES = 500_000


def comparisons(table: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """``{(agent, obs): results.compare_with_paper(...)}`` for each agent the paper reports.

    ``table`` is :func:`results.summary` output. Observation kinds are compared separately, pixels
    first (the paper's tables are from pixels).
    """
    out = {}
    for agent in sorted(set(table["agent"]) & set(PAPER_TABLES)):
        mine = table[table["agent"] == agent]
        for obs in sorted(set(mine["obs"]), key=lambda obs: obs != "pixels"):
            out[(agent, obs)] = results.compare_with_paper(mine[mine["obs"] == obs], PAPER_TABLES[agent][1]())
    return out


def write_figures(table: pd.DataFrame, curves: pd.DataFrame, logs: pd.DataFrame, out: Path) -> list[Path]:
    """The learning curves, the bars beside the paper and Fig. 3's diagnostics, as PNG files.

    ``table``: :func:`results.summary`; ``curves``: :func:`results.curve_summary`; ``logs``:
    :func:`plots.read_train_logs`.
    """
    import matplotlib

    matplotlib.use("Agg")  # headless: files only
    import matplotlib.pyplot as plt

    written = []

    def save(fig, name: str) -> None:
        written.append(out / name)
        fig.savefig(written[-1], dpi=120, bbox_inches="tight")
        plt.close(fig)

    if not curves.empty:
        save(plots.plot_learning_curves(curves), "learning_curves.png")
    table = table[table["n"] > 0]
    for (agent, obs), mine in table.groupby(["agent", "obs"], sort=True):
        paper_table = PAPER_TABLES[agent][1]() if agent in PAPER_TABLES and obs == "pixels" else None
        ax = plots.plot_task_bars(mine, paper=paper_table)
        ax.set_title(f"{agent} from {obs}")
        save(ax.figure, f"bars_{agent}_{obs}.png")
    if not logs.empty and set(plots.FIG3_METRICS) <= set(logs.columns):
        save(plots.plot_training_dynamics(logs, curves if not curves.empty else None), "training_dynamics.png")
    return written


def _cell(row) -> str:
    """One table cell: ``mean ± se (n)``, crashes and incomplete runs named."""
    if not row.n:
        return f"- ({row.n_incomplete} incomplete)" if row.n_incomplete else "-"
    text = f"{row.mean:.1f}" + ("" if pd.isna(row.se) else f" ± {row.se:.1f}") + f" ({row.n}"
    text += f", {row.n_crashed} crashed" if row.n_crashed else ""
    text += f", +{row.n_incomplete} incomplete" if row.n_incomplete else ""
    return text + ")"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", help="the sweep's --root (any tree of run directories)")
    parser.add_argument("--frames", type=int, default=None,
                        help="frame budget of the tables (default: the largest budget among the runs)")
    parser.add_argument("--out", default=None, help="also write CSV tables and PNG figures into this folder")
    args = parser.parse_args(argv)
    try:
        runs = results.load_runs(args.root)
        if runs.empty:
            raise ValueError(f"no run directories under {args.root!r}: run python -m course_lib.sweep "
                             f"--root {args.root} ... first")
        budget = int(args.frames or runs["frames"].max())
        if budget <= 0:
            raise ValueError(f"--frames must be positive, got {budget}")
        evals = results.load_curves(runs)  # every eval.csv, read once for all tables and figures
        table = results.summary(runs, frame_budget=budget, curves=evals)
        compared = comparisons(table)
    except ValueError as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    counts = runs["status"].value_counts()
    print(f"{len(runs)} runs under {args.root} ({', '.join(f'{n} {s}' for s, n in counts.items())}); "
          f"returns at {budget:,} frames, mean ± one standard error over seeds")
    for (agent, obs), mine in table.groupby(["agent", "obs"], sort=True):
        cells = mine.assign(cell=[_cell(r) for r in mine.itertuples(index=False)])
        grid = cells.pivot(index="task", columns="config", values="cell").fillna("-")
        print(f"\nours, {agent} from {obs}, every configuration (mean ± s.e., n seeds):")
        print(grid.to_string())
    if not compared:
        print(f"no runs of an agent the paper reports ({', '.join(PAPER_TABLES)})")
    for (agent, obs), comparison in compared.items():
        name = PAPER_TABLES[agent][0]
        print(f"\n{name} ({agent}): the paper (pixels, {PAPER_FRAMES:,} frames) beside ours")
        if obs != "pixels" or budget != PAPER_FRAMES:
            print(f"warning: ours are {obs} at {budget:,} frames: not the paper's "
                  "experiment, so the columns do not measure the same thing")
        ran = comparison.groupby("task")["ours_n"].transform(lambda n: n.notna().any())
        print(plots.paper_comparison_table(comparison[ran]).to_string(index=False))
        missing = list(dict.fromkeys(comparison.loc[~ran, "task"]))
        if missing:
            print(f"not run ({len(missing)} of {name}'s tasks): {' '.join(missing)}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "summary.csv", index=False)
        written = [out / "summary.csv"]
        first_obs = {}
        for (agent, obs), comparison in compared.items():
            name = PAPER_TABLES[agent][0].replace(" ", "").lower()  # table1 / table2
            first_obs.setdefault(agent, obs)  # pixels if any: table2.csv; then table2_state.csv
            written.append(out / (f"{name}.csv" if obs == first_obs[agent] else f"{name}_{obs}.csv"))
            comparison.to_csv(written[-1], index=False)
        written += write_figures(table, results.curve_summary(runs, curves=evals), plots.read_train_logs(runs), out)
        print("\nwrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
