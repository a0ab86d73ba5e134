"""The pre-registered experiment's analysis, exactly as PLAN.md states it: scores, intervals, verdicts.

    python results/prereg/analyze.py                 # print the tables and verdicts
    python results/prereg/analyze.py --write         # also write results.md, scores.csv and figures

Scores (PLAN.md, "Metrics"): a run's mean return at 56k and 64k frames over 1000, a crashed run's
last finite evaluation carried forward. IQM and probability-of-improvement intervals: stratified
bootstrap, 10,000 repetitions, seed 0 (course_lib.stats). Verdicts: the decision rules of PLAN.md,
applied mechanically by the functions below; a hypothesis whose heads are not all complete
(15 runs each) gets no verdict, only the count of runs it still lacks.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats

from course_lib import results, stats

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
TASKS = ["cartpole_swingup", "cheetah_run", "reacher_easy"]
SEEDS = [100, 101, 102, 103, 104]
HEADS = ["mlp2", "mlp2+fixed_alpha", "modern4", "modern4+fixed_alpha", "modern4+sigma_steps",
         "modern4+sn", "modern4+critic_sn"]
SCORE_FRAMES = [56_000, 64_000]
REPS, SEED = 10_000, 0
MODERATE = 0.7  # "at most moderately better": the upper end of a P(X > Y) interval below this
PIXEL_GRIDS = [("sac", "cartpole_swingup", 50_000), ("ddpg", "cartpole_balance", 30_000)]
PIXEL_HEADS = ["mlp2", "modern4", "modern4+sn"]
PIXEL_SEEDS = [100, 101, 102]
ENDED = ("complete", "crashed")  # a run's status once it has stopped for good


@dataclass
class Comparison:
    """P(X > Y) with its interval."""
    x: str
    y: str
    point: float
    low: float
    high: float

    @property
    def above(self) -> bool:      # the interval lies above 0.5
        return self.low > 0.5

    @property
    def below(self) -> bool:      # the interval lies below 0.5
        return self.high < 0.5

    @property
    def moderate(self) -> bool:   # X is at most moderately better than Y
        return self.high < MODERATE

    def __str__(self) -> str:
        return f"P({self.x} > {self.y}) = {self.point:.2f} [{self.low:.2f}, {self.high:.2f}]"


def compare(m: dict, x: str, y: str) -> Comparison:
    return Comparison(x, y, *stats.poi_interval(m[x], m[y], reps=REPS, seed=SEED))


def crash_excess(crashes: dict, more: str, fewer: str) -> tuple[bool, float]:
    """Does ``more`` crash in more runs than ``fewer``, one-sided Fisher exact p < 0.05? (and p)"""
    n = len(TASKS) * len(SEEDS)
    a, b = crashes[more], crashes[fewer]
    p = scipy.stats.fisher_exact([[a, n - a], [b, n - b]], alternative="greater")[1]
    return bool(a > b and p < 0.05), float(p)


# ------------------------------------------------------------------------- the decision rules
def verdict_h1(m: dict, crashes: dict) -> tuple[str, list[str]]:
    c = compare(m, "mlp2", "modern4")
    crash, p = crash_excess(crashes, "modern4", "mlp2")
    why = [str(c), f"crashes modern4 {crashes['modern4']} vs mlp2 {crashes['mlp2']} (Fisher one-sided p = {p:.3f})"]
    if c.above or crash:
        return "supported", why
    if c.below:
        return "rejected", why
    return "inconclusive", why


def verdict_h2(m: dict, h1: str) -> tuple[str, list[str]]:
    a, b = compare(m, "modern4+sn", "modern4"), compare(m, "mlp2", "modern4+sn")
    why = [f"(a) {a}", f"(b) {b}: upper end {'below' if b.moderate else 'not below'} {MODERATE}"]
    if h1 != "supported":
        return "no gap to remove", why
    if a.above and b.moderate:
        return "supported", why
    if not a.above:
        return "rejected", why
    return "inconclusive (SN helps, the gap is not shown to close)", why


def verdict_h3(m: dict) -> tuple[str, list[str]]:
    helps, both = compare(m, "modern4+critic_sn", "modern4"), compare(m, "modern4+sn", "modern4+critic_sn")
    why = [str(helps), f"{both}: upper end {'below' if both.moderate else 'not below'} {MODERATE}"]
    if helps.above and both.moderate:
        return "supported", why
    if both.above and not helps.above:
        return "rejected", why
    return "inconclusive", why


def verdict_h4(m: dict, crashes: dict, h1: str) -> tuple[str, list[str]]:
    c = compare(m, "mlp2+fixed_alpha", "modern4+fixed_alpha")
    crash, p = crash_excess(crashes, "modern4+fixed_alpha", "mlp2+fixed_alpha")
    why = [str(c), f"crashes modern4+fixed_alpha {crashes['modern4+fixed_alpha']} vs mlp2+fixed_alpha "
                   f"{crashes['mlp2+fixed_alpha']} (Fisher one-sided p = {p:.3f})"]
    if h1 != "supported":
        return "not applicable (H1 not supported)", why
    if c.above or crash:
        return "supported", why
    return "rejected", why


def verdict_h5(m: dict) -> tuple[str, list[str]]:
    sn, steps = compare(m, "modern4+sn", "modern4+sigma_steps"), compare(m, "modern4+sigma_steps", "modern4")
    why = [str(sn), str(steps)]
    if sn.above:
        return "supported", why
    if sn.below or (not sn.below and not sn.above and steps.above):
        return "rejected", why
    return "inconclusive", why


NEEDS = {"H1": ["mlp2", "modern4"], "H2": ["mlp2", "modern4", "modern4+sn"],
         "H3": ["modern4", "modern4+sn", "modern4+critic_sn"],
         "H4": ["mlp2", "modern4", "mlp2+fixed_alpha", "modern4+fixed_alpha"],
         "H5": ["modern4", "modern4+sn", "modern4+sigma_steps"]}


#: Every P(X > Y) the decision rules read, in the order of the hypotheses: (hypothesis, X, Y).
COMPARISONS = [("H1", "mlp2", "modern4"),
               ("H2", "modern4+sn", "modern4"), ("H2", "mlp2", "modern4+sn"),
               ("H3", "modern4+critic_sn", "modern4"), ("H3", "modern4+sn", "modern4+critic_sn"),
               ("H4", "mlp2+fixed_alpha", "modern4+fixed_alpha"),
               ("H5", "modern4+sn", "modern4+sigma_steps"), ("H5", "modern4+sigma_steps", "modern4")]


def comparison_table(m: dict) -> pd.DataFrame:
    """Each comparison of :data:`COMPARISONS` whose two heads are complete: P(X > Y) and its 95% interval."""
    rows = []
    for hypothesis, x, y in COMPARISONS:
        if x in m and y in m:
            c = compare(m, x, y)
            rows.append({"hypothesis": hypothesis, "X": x, "Y": y, "P(X > Y)": c.point, "low": c.low,
                         "high": c.high})
    return pd.DataFrame(rows, columns=["hypothesis", "X", "Y", "P(X > Y)", "low", "high"])


def verdicts(m: dict, crashes: dict) -> dict[str, tuple[str, list[str]]]:
    """Every hypothesis whose heads are all complete: ``{H: (verdict, reasons)}``."""
    have = set(m)
    out = {}
    h1 = verdict_h1(m, crashes) if set(NEEDS["H1"]) <= have else None
    if h1:
        out["H1"] = h1
    if set(NEEDS["H2"]) <= have:
        out["H2"] = verdict_h2(m, h1[0])
    if set(NEEDS["H3"]) <= have:
        out["H3"] = verdict_h3(m)
    if set(NEEDS["H4"]) <= have:
        out["H4"] = verdict_h4(m, crashes, h1[0])
    if set(NEEDS["H5"]) <= have:
        out["H5"] = verdict_h5(m)
    return out


# ------------------------------------------------------------------------- tables
def state_runs(root: Path = RUNS, finished: bool = False) -> pd.DataFrame:
    """The state grid's runs (``results.load_runs``: its tasks, heads and seeds only); with ``finished``
    only those that ended, complete or crashed."""
    runs = results.load_runs(root / "sac-state") if (root / "sac-state").is_dir() else pd.DataFrame()
    if runs.empty:
        return runs
    runs = runs[runs["task"].isin(TASKS) & runs["seed"].isin(SEEDS) & runs["config"].isin(HEADS)]
    return runs[runs["status"].isin(ENDED)] if finished else runs


def state_scores(root: Path = RUNS) -> pd.DataFrame:
    runs = state_runs(root)
    if runs.empty:
        return pd.DataFrame(columns=["task", "config", "seed", "score", "crashed", "complete"])
    return stats.run_scores(runs, SCORE_FRAMES)


def complete_heads(scores: pd.DataFrame, tasks=TASKS, seeds=SEEDS) -> tuple[list[str], dict[str, int]]:
    """Heads with every run complete, and for the others how many runs they still lack."""
    done, missing = [], {}
    for head in HEADS:
        rows = scores[(scores["config"] == head) & scores["complete"]]
        lack = len(tasks) * len(seeds) - len(rows)
        (done.append(head) if lack == 0 else missing.__setitem__(head, lack))
    return done, missing


def head_table(m: dict, scores: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for head, matrix in m.items():
        iqm, lo, hi = stats.interval(matrix, stats.iqm, reps=REPS, seed=SEED)
        mean, mlo, mhi = stats.interval(matrix, stats.mean_score, reps=REPS, seed=SEED)
        sub = scores[scores["config"] == head]
        rows.append({"head": head, "IQM": iqm, "IQM low": lo, "IQM high": hi, "mean": mean,
                     "mean low": mlo, "mean high": mhi, "crashed runs": int(sub["crashed"].sum())})
    return pd.DataFrame(rows)


def task_table(scores: pd.DataFrame, heads) -> pd.DataFrame:
    """Per task and head: mean ± standard error of the return (x1000), as the paper reports."""
    sub = scores[scores["config"].isin(heads) & scores["complete"]].copy()
    sub["return"] = sub["score"] * 1000
    g = sub.groupby(["task", "config"])["return"]
    table = pd.DataFrame({"mean": g.mean(), "se": g.std(ddof=1) / np.sqrt(g.count()), "n": g.count()})
    return table.reset_index()


def pixel_runs(root: Path = RUNS, finished: bool = False) -> pd.DataFrame:
    """The secondary pixel grids' runs (``results.load_runs``: each grid's agent, task, heads and
    seeds only); with ``finished`` only those that ended, complete or crashed."""
    parts = []
    for agent, task, _ in PIXEL_GRIDS:
        folder = root / f"{agent}-pixels"
        if folder.is_dir():
            runs = results.load_runs(folder)
            parts.append(runs[(runs["task"] == task) & runs["seed"].isin(PIXEL_SEEDS) & runs["config"].isin(PIXEL_HEADS)])
    runs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if runs.empty:
        return runs
    return runs[runs["status"].isin(ENDED)] if finished else runs


def pixel_scores(root: Path = RUNS) -> pd.DataFrame:
    """The secondary pixel runs' scores: the mean return of the last two evaluations (after frame 0)
    that the grid's ended runs made by the budget, over 1000. Runs still under way are incomplete;
    a grid with no ended run yet is left out."""
    every = pixel_runs(root)
    frames = []
    for agent, task, budget in PIXEL_GRIDS:
        runs = every[every["agent"] == agent] if len(every) else every
        ended = runs[runs["status"].isin(ENDED)] if len(runs) else runs
        if ended.empty:  # no run, or only runs under way: their evaluation frames so far are not the budget's
            continue
        curves = results.load_curves(runs)
        evals = sorted(curves.loc[curves["run_dir"].isin(ended["run_dir"]), "frame"].unique())
        last_two = [f for f in evals if 0 < f <= budget][-2:]
        s = stats.run_scores(runs, last_two or [budget], curves=curves)
        s["agent"] = agent
        frames.append(s)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def pixel_table(pix: pd.DataFrame) -> pd.DataFrame:
    """Per pixel grid and head, over its ended runs: mean and standard error of the return
    (the score x 1000) and the number of runs."""
    ended = pix[pix["complete"]].assign(ret=lambda t: 1000 * t["score"])
    g = ended.groupby(["agent", "task", "config"], sort=False)["ret"]
    return pd.DataFrame({"mean": g.mean(), "se": g.std(ddof=1) / np.sqrt(g.count()), "n": g.count()}).reset_index()


def markdown(table: pd.DataFrame, floatfmt: str) -> str:
    """A DataFrame as a Markdown table, floats formatted with ``floatfmt``."""
    def cell(v):
        return format(v, floatfmt) if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def report(root: Path = RUNS) -> tuple[str, dict]:
    scores = state_scores(root)
    done, missing = complete_heads(scores)
    lines = ["# Pre-registered experiment: results", ""]
    m = stats.score_matrices(scores[scores["complete"]], done, TASKS) if done else {}
    crashes = {h: int(scores[scores["config"] == h]["crashed"].sum()) for h in HEADS}
    if missing:
        lines += ["Unfinished heads (runs still lacking of 15): "
                  + ", ".join(f"{h} {n}" for h, n in missing.items()), ""]
    if m:
        lines += ["## Heads (state grid, 15 runs each: IQM and mean with 95% stratified-bootstrap intervals)", "",
                  markdown(head_table(m, scores), ".3f"), "",
                  "## Per task: mean ± s.e. of the return", "",
                  markdown(task_table(scores, done), ".1f"), ""]
    found = verdicts(m, crashes)
    lines += ["## Verdicts (PLAN.md's decision rules)", ""]
    for h in ["H1", "H2", "H3", "H4", "H5"]:
        if h in found:
            verdict, why = found[h]
            lines.append(f"- **{h}: {verdict}.** " + "; ".join(why))
        else:
            lacking = [x for x in NEEDS[h] if x not in done]
            lines.append(f"- **{h}: pending** (incomplete heads: {', '.join(lacking)})")
    pix = pixel_scores(root)
    if len(pix):
        lines += ["", "## From pixels (secondary, no verdicts): mean ± s.e. of the return at the last two evaluations", ""]
        lines.append(markdown(pixel_table(pix), ".1f"))
    return "\n".join(lines) + "\n", {"scores": scores, "matrices": m, "verdicts": found, "crashes": crashes,
                                     "missing": missing}


def finished_tables(root: Path = RUNS) -> list[Path]:
    """config.json, eval.csv and train.csv of every complete or crashed run under ``root``, and the
    sweep logs: what is committed at each stop (checkpoints and progress logs never are)."""
    # /usr/bin/time creates its file when the sweep starts and fills it when the sweep ends
    paths = sorted(root.glob("*.jsonl")) + sorted(p for p in root.glob("time_*.txt") if p.stat().st_size)
    for config in sorted(root.rglob("config.json")):
        if results.read_run(config.parent)["status"] in ENDED:
            paths += [config.parent / name for name in ("config.json", "eval.csv", "train.csv")]
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=RUNS, help="the sweep root (default: results/prereg/runs)")
    parser.add_argument("--write", action="store_true", help="write results.md and scores.csv next to this file")
    parser.add_argument("--list-finished", action="store_true",
                        help="only print the tables of every finished run (to commit them), one path a line")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.exit(2, f"analyze.py: error: {args.root} is not a directory; run the sweeps of PLAN.md first\n")
    if args.list_finished:
        for path in finished_tables(args.root):
            print(path)
        return 0
    text, out = report(args.root)
    print(text)
    if args.write:
        (HERE / "results.md").write_text(text)
        out["scores"].to_csv(HERE / "scores.csv", index=False, float_format="%.6f")
    return 0


if __name__ == "__main__":
    sys.exit(main())
