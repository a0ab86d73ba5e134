"""The results table of README.md: return at the budget (mean ± s.e. over seeds, course_lib.results)
and, from each run's train.csv, how saturated its actor was.

    OMP_NUM_THREADS=1 python results/ddpg_saturation/make_table.py

The budget is each run's own ``frames`` (48000 on cartpole_swingup, 24000 on ball_in_cup_catch).
Saturation columns (means over seeds): ``sat. logs`` is the share of train.csv rows (one per 1000
frames after the seed phase) in which more than 99% of the actor's action entries had
``|tanh| > 0.99``, and ``stuck logs`` the share in which, in addition, the actor's gradient norm
was below 1e-4: the actor could not move. ``max max|mu|`` is the largest logged ``pre_tanh_max``.
Each sweep root (``plain``, ``pnorm_actor``, ``pnorm_both``) is told apart by its runs' ``pnorm``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from course_lib import results

ROOT = Path(__file__).resolve().parent / "runs"


def saturation(run_dir: str) -> dict:
    log = pd.read_csv(Path(run_dir) / "train.csv")
    saturated = log["saturated_frac"] > 0.99
    return {"sat_rows": saturated.mean(), "stuck_rows": (saturated & (log["actor_grad_norm"] < 1e-4)).mean(),
            "max_mu": log["pre_tanh_max"].max()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args = parser.parse_args()
    runs = results.load_runs(ROOT)
    table = pd.concat([results.summary(group, frames, by=["pnorm"])
                       for (task, frames), group in runs.groupby(["task", "frames"])])
    sat = pd.DataFrame([{**saturation(r.run_dir), "task": r.task, "config": r.config, "pnorm": r.pnorm}
                        for r in runs.itertuples()])
    sat = sat.groupby(["task", "config", "pnorm"], as_index=False).mean(numeric_only=True)
    table = table.merge(sat, on=["task", "config", "pnorm"])
    print("| task | critic / actor | pnorm | frames | return at the budget (mean ± s.e.) | n | seeds "
          "| sat. logs | stuck logs | max max\\|mu\\| |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in table.itertuples():
        actor = "modern2+sn" if r.config.endswith("+sn") else "modern2"
        print(f"| {r.task} | {r.config} / {actor} | {r.pnorm} | {r.frame_budget} | {r.mean:.1f} ± {r.se:.1f} | {r.n} "
              f"| {r.seeds} "
              f"| {r.sat_rows:.0%} | {r.stuck_rows:.0%} | {r.max_mu:.1f} |")


if __name__ == "__main__":
    main()
