"""The headless report (python -m course_lib.report): a sweep's runs beside the paper's tables."""
import statistics

import pandas as pd
import pytest

from course_lib import paper
from course_lib.report import main
from tests.test_results import make_run


def run_report(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse's way out on bad input
        code = exit_.code
    return code, capsys.readouterr()


def test_report_prints_the_paper_beside_ours_and_writes_tables_and_figures(tmp_path, capsys):
    runs = tmp_path / "runs"
    finals = [700.0, 760.0, 820.0]
    for seed, final in enumerate(finals):  # DDPG from pixels at the paper's budget: Table 1
        make_run(runs, task="walker_walk", config="modern4+sn", seed=seed, agent="ddpg", obs="pixels",
                 frames=500_000, evals=[(250_000, final / 2), (500_000, final)])
    make_run(runs, task="walker_walk", config="modern4", seed=0, agent="ddpg", obs="pixels",
             frames=500_000, evals=[(250_000, 300.0)], status="crashed", crash=(300_000, 310.0))
    make_run(runs, task="walker_walk", config="modern4", seed=1, agent="ddpg", obs="pixels",
             frames=500_000, evals=[(250_000, 500.0), (500_000, 900.0)])
    code, out = run_report(capsys, runs, "--out", tmp_path / "report")
    assert code == 0, out.err
    mean = statistics.mean(finals)
    se = statistics.stdev(finals) / len(finals) ** 0.5
    ref = paper.table1().query("task == 'walker_walk' and config == 'modern4+sn'").iloc[0]
    line = next(l for l in out.out.splitlines() if "walker_walk" in l and "modern4+sn" in l and "±" in l
                and f"{ref['mean']:.1f}" in l)
    assert f"{mean:.1f} ± {se:.1f}" in line and f"{mean - ref['mean']:+.1f}" in line
    assert "(2, 1 crashed)" in out.out  # modern4: the crash carried forward, counted, not dropped
    assert "Table 1 (ddpg)" in out.out and "warning" not in out.out  # pixels at 500k: the paper's setting
    assert "not run (4 of Table 1's tasks)" in out.out
    table1 = pd.read_csv(tmp_path / "report" / "table1.csv")
    row = table1[(table1.task == "walker_walk") & (table1.config == "modern4")].iloc[0]
    assert row.ours_mean == pytest.approx((310.0 + 900.0) / 2) and row.ours_crashed == 1
    for name in ["summary.csv", "learning_curves.png", "bars_ddpg_pixels.png"]:
        assert (tmp_path / "report" / name).stat().st_size > 0


def test_report_warns_when_runs_are_not_the_papers_experiment(tmp_path, capsys):
    make_run(tmp_path, task="cartpole_swingup", config="mlp2", seed=0, frames=48_000,
             evals=[(48_000, 800.0)])
    code, out = run_report(capsys, tmp_path)
    assert code == 0 and "Table 2 (sac)" in out.out
    assert "warning: ours are state at 48,000 frames" in out.out


def test_report_bad_input_is_one_line_exit_2(tmp_path, capsys):
    code, out = run_report(capsys, tmp_path / "missing")
    assert code == 2 and "is not a directory" in out.err and len(out.err.strip().splitlines()) == 1
    code, out = run_report(capsys, tmp_path)
    assert code == 2 and "no run directories" in out.err
