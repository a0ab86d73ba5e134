"""The tables of README.md, from the stored runs: return at frame 0, at half the budget and at the budget
(mean ± s.e. over seeds) beside the random policy's, the verdict "learns" (course_lib.learning_evidence), and
for DDPG how saturated each actor was (train.csv).

    python results/cpu_pixels/make_table.py            # prints Markdown; --png FILE also draws the curves
"""
from __future__ import annotations

import argparse
from pathlib import Path

from course_lib import learning_evidence

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--png", help="also save the learning curves (one row of panels per agent) here")
    args = parser.parse_args()
    runs, floor = learning_evidence.load_runs(HERE), learning_evidence.random_floor(HERE)
    # The main experiment: SAC, and DDPG with penultimate normalization of the actor, mlp2 heads.
    main_runs = runs[(runs["config"] == "mlp2") & ((runs["agent"] == "sac") | (runs["pnorm"] == "actor"))]
    print(learning_evidence.markdown_table(learning_evidence.evidence_table(main_runs, floor)))
    heads = learning_evidence.head_comparison(runs, "cartpole_balance", 30_000)
    print("\n| DDPG from pixels, cartpole_balance, first 30,000 frames | seed | early | late (last 3 evals) "
          "| at 30k | train.csv rows saturated | max \\|pre-tanh\\| |")
    print("|---|---|---|---|---|---|---|")
    for r in heads.itertuples():
        print(f"| {r.variant} | {r.seed} | {r.early:.0f} | {r.late:.0f} | {r.at_budget:.0f} | {r.saturated_rows:.0%} "
              f"| {r.max_pre_tanh:.1f} |")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        for agent in ("sac", "ddpg"):
            mine = main_runs[main_runs["agent"] == agent]
            fig = learning_evidence.plot_evidence(mine, floor, agent=agent)
            path = Path(args.png).with_name(f"{Path(args.png).stem}_{agent}{Path(args.png).suffix}")
            fig.savefig(path, dpi=90)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
