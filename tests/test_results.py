"""Run directories -> tables: standard errors, the paper's crash rule, incomplete runs, plots."""
import json
import math
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_lib import paper, plots, results  # noqa: E402
from course_lib.results import config_name, parse_config  # noqa: E402


def make_run(root, task="cartpole_swingup", config="mlp2", seed=0, evals=(), status="complete",
             frames=50_000, frames_done=None, crash=None, agent="sac", obs="state", layout=None, **extra):
    """A run directory as ``python -m course_lib.train`` writes it (run-directory contract)."""
    head = parse_config(config)
    out = root / (layout or f"{agent}-{obs}/{task}/{config}/seed_{seed}")
    out.mkdir(parents=True)
    rows = [f"{f},{r},0" for f, r in evals]
    if crash is not None:
        rows.append(f"{crash[0]},{crash[1]},1")
    (out / "eval.csv").write_text("frame,eval_return,crashed\n" + "".join(r + "\n" for r in rows))
    (out / "train.csv").write_text("frame,critic_loss,actor_loss,nonfinite\n1000,0.5,0.1,0\n")
    if frames_done is None:
        frames_done = frames if status == "complete" else (crash[0] if crash else evals[-1][0])
    cfg = dict(agent=agent, obs=obs, task=task, seed=seed, frames=frames, hidden_dim=1024,
               batch_size=512, device="auto", status=status, frames_done=frames_done,
               crash_frame=crash[0] if crash else None,
               crash_reason="non-finite critic loss" if crash else None, **head)
    cfg.update(extra)
    (out / "config.json").write_text(json.dumps(cfg))
    return out


CURVE = [(10_000, 100.0), (20_000, 200.0), (30_000, 300.0), (40_000, 400.0), (50_000, 500.0)]


def curve(scale):
    return [(f, r * scale) for f, r in CURVE]


@pytest.fixture
def root(tmp_path):
    # cartpole_swingup, mlp2: three complete seeds ending at 100, 200, 400 (x CURVE / 500).
    for seed, final in enumerate([100.0, 200.0, 400.0]):
        make_run(tmp_path, seed=seed, evals=curve(final / 500))
    # modern4: seed 0 complete; seed 1 crashed at 25k after eval 20k (return 60); seed 2 still
    # running at 30k; seed 3 finished with a smaller budget (20k).
    make_run(tmp_path, config="modern4", seed=0, evals=curve(0.5))
    make_run(tmp_path, config="modern4", seed=1, evals=curve(0.3)[:2], status="crashed",
             crash=(25_000, 60.0))
    make_run(tmp_path, config="modern4", seed=2, evals=curve(0.2)[:3], status="running")
    make_run(tmp_path, config="modern4", seed=3, evals=curve(0.1)[:2], frames=20_000)
    # Something that is not a run directory: ignored.
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "config.json").write_text('{"title": "not a run"}')
    return tmp_path


def row(df, **query):
    for key, value in query.items():
        df = df[df[key] == value]
    assert len(df) == 1, query
    return df.iloc[0]


def test_config_grammar():
    assert parse_config("mlp2") == {"arch": "mlp", "depth": 2, "sn": False}
    assert parse_config("modern4+sn") == {"arch": "modern", "depth": 4, "sn": True}
    assert parse_config(" Modern12+SN ") == {"arch": "modern", "depth": 12, "sn": True}
    for name in ["mlp", "modern+sn", "resnet4", "mlp0", "mlp2+bn", "mlp2 sn", "4mlp", ""]:
        with pytest.raises(ValueError, match="ARCH DEPTH"):
            parse_config(name)
    assert config_name("modern", 4, True) == "modern4+sn"
    assert all(config_name(**parse_config(c)) == c for c in ["mlp2", "mlp4", "modern2", "modern4+sn"])


def test_load_runs_one_row_per_run(root):
    runs = results.load_runs(root)
    assert len(runs) == 7  # the notes/config.json without a status is not a run
    assert list(runs.columns[:len(results.RUN_COLUMNS)]) == results.RUN_COLUMNS
    crashed = row(runs, config="modern4", seed=1)
    assert (crashed.status, crashed.crash_frame, crashed.last_return) == ("crashed", 25_000, 60.0)
    assert crashed.n_evals == 2 and crashed.last_eval_frame == 20_000
    assert crashed.crash_reason == "non-finite critic loss"
    running = row(runs, config="modern4", seed=2)
    assert (running.status, running.frames_done, pd.isna(running.crash_frame)) == ("running", 30_000, True)
    assert "hidden_dim" in runs.columns  # extra config fields come along
    assert row(runs, config="mlp2", seed=2).last_return == 400.0


def test_load_runs_any_layout_and_bad_input(tmp_path):
    make_run(tmp_path, evals=CURVE, layout="my/own/layout")
    assert results.load_runs(tmp_path)["run_dir"].iloc[0].endswith("my/own/layout")
    assert results.load_runs(tmp_path / "my" / "own").shape[0] == 1
    with pytest.raises(ValueError, match="not a directory"):
        results.load_runs(tmp_path / "missing")
    bad = make_run(tmp_path, evals=CURVE, seed=1)
    cfg = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps(dict(cfg, status="exploded")))
    with pytest.raises(ValueError, match="status 'exploded'"):
        results.load_runs(tmp_path)


def test_summary_standard_error(root):
    runs = results.load_runs(root)
    table = results.summary(runs, 50_000)
    mlp = row(table, config="mlp2")
    values = [100.0, 200.0, 400.0]
    assert mlp["mean"] == pytest.approx(700 / 3)
    assert mlp["se"] == pytest.approx(statistics.stdev(values) / math.sqrt(3))
    assert mlp["se"] == pytest.approx(88.19171, abs=1e-4)  # by hand: sqrt(46666.67 / 2) / sqrt(3)
    assert (mlp["n"], mlp["n_crashed"], mlp["n_incomplete"], mlp["seeds"]) == (3, 0, 0, "0 1 2")
    # Earlier budget: the evaluation at or before it (no interpolation).
    assert row(results.summary(runs, 25_000), config="mlp2")["mean"] == pytest.approx(700 / 3 * 0.4)


def test_summary_crash_carried_forward_and_incomplete_flagged(root):
    runs = results.load_runs(root)
    modern = row(results.summary(runs, 50_000), config="modern4")
    # seed 0: 250 (complete); seed 1 crashed at 25k: its last return 60 carried to 50k; seed 2
    # (running at 30k) and seed 3 (a 20k run) have not reached 50k: flagged, not averaged.
    assert (modern["n"], modern["n_crashed"], modern["n_incomplete"], modern["n_runs"]) == (2, 1, 2, 4)
    assert modern["mean"] == pytest.approx((250 + 60) / 2)
    assert modern["se"] == pytest.approx(statistics.stdev([250, 60]) / math.sqrt(2))
    assert modern["seeds"] == "0 1"
    at = results.returns_at(runs, 50_000)
    assert row(at, config="modern4", seed=1)["outcome"] == "crashed"
    assert pd.isna(row(at, config="modern4", seed=2)["eval_return"])
    # Before the crash the crashed run counts as an ordinary one; the 30k run is complete at 30k.
    early = row(results.summary(runs, 20_000), config="modern4")
    assert (early["n"], early["n_crashed"], early["n_incomplete"]) == (4, 0, 0)
    assert early["mean"] == pytest.approx((100 + 60 + 40 + 20) / 4)
    mid = row(results.summary(runs, 30_000), config="modern4")
    assert (mid["n"], mid["n_crashed"], mid["n_incomplete"]) == (3, 1, 1)
    assert mid["mean"] == pytest.approx((150 + 60 + 60) / 3)
    # A budget before every first evaluation: nothing to report, all incomplete.
    none = row(results.summary(runs, 5_000), config="mlp2")
    assert (none["n"], none["n_incomplete"], np.isnan(none["mean"])) == (0, 3, True)
    with pytest.raises(ValueError, match="frame_budget"):
        results.summary(runs, 0)


def test_summary_warns_when_runs_differ_in_more_than_seed(tmp_path):
    make_run(tmp_path, seed=0, evals=CURVE, device="cuda")  # bookkeeping: no warning
    make_run(tmp_path, seed=1, evals=curve(0.5), hidden_dim=256)
    runs = results.load_runs(tmp_path)
    with pytest.warns(UserWarning, match=r"differ in \{'hidden_dim': \['1024', '256'\]\}"):
        assert results.summary(runs, 50_000)["n"].tolist() == [2]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apart = results.summary(runs, 50_000, by=["hidden_dim"])
    assert apart[["hidden_dim", "mean"]].values.tolist() == [[256, 250.0], [1024, 500.0]]


def test_single_seed_has_no_standard_error(tmp_path):
    make_run(tmp_path, evals=CURVE)
    one = results.summary(results.load_runs(tmp_path), 50_000).iloc[0]
    assert one["mean"] == 500.0 and one["n"] == 1 and np.isnan(one["se"])


def test_curve_summary_carries_crashes_and_drops_unfinished(root):
    runs = results.load_runs(root)
    curves = results.load_curves(runs)
    assert set(curves.columns) >= {"frame", "eval_return", "crashed", "task", "config", "seed"}
    assert curves["crashed"].sum() == 1
    stats = results.curve_summary(runs, curves)
    modern = stats[stats["config"] == "modern4"].set_index("frame")
    assert list(modern.index) == [10_000, 20_000, 30_000, 40_000, 50_000]
    assert list(modern["n"]) == [4, 4, 3, 2, 2]  # 20k run stops at 20k, running one at 30k
    assert list(modern["n_crashed"]) == [0, 0, 1, 1, 1]  # crash at 25k carried from 30k on
    assert modern.loc[40_000, "mean"] == pytest.approx((200 + 60) / 2)
    mlp = stats[stats["config"] == "mlp2"].set_index("frame")
    assert mlp.loc[30_000, "se"] == pytest.approx(statistics.stdev([60, 120, 240]) / math.sqrt(3))
    # A custom grid: frames between evaluations take the last evaluation before them.
    grid = results.curve_summary(runs, curves, frames=[15_000, 45_000])
    assert row(grid, config="mlp2", frame=45_000)["mean"] == pytest.approx(700 / 3 * 0.8)


def test_compare_with_paper(tmp_path):
    for seed, final in enumerate([950.0, 990.0]):
        make_run(tmp_path, task="ball_in_cup_catch", config="modern4+sn", seed=seed, agent="ddpg",
                 obs="pixels", evals=[(50_000, final)])
    make_run(tmp_path, task="walker_walk", config="mlp2", agent="ddpg", obs="pixels",
             evals=[(50_000, 400.0)])
    make_run(tmp_path, task="walker_walk", config="mlp4", agent="ddpg", obs="pixels",  # not in Table 1
             evals=[(50_000, 300.0)])
    table = results.summary(results.load_runs(tmp_path), 50_000)
    cmp = results.compare_with_paper(table, paper.table1())
    assert len(cmp) == 15  # one row per cell of Table 1
    cup = row(cmp, task="ball_in_cup_catch", config="modern4+sn")
    assert (cup["paper_mean"], cup["paper_pm"], cup["ours_mean"]) == (975.32, 1.3, 970.0)
    assert cup["diff"] == pytest.approx(970.0 - 975.32)
    assert cup["ours_se"] == pytest.approx(20.0) and cup["ours_n"] == 2
    assert row(cmp, task="walker_walk", config="mlp2")["diff"] == pytest.approx(400.0 - 477.40)
    assert cmp["ours_mean"].notna().sum() == 2
    text = plots.paper_comparison_table(cmp)
    assert list(text.columns) == ["task", "method", "config", "paper", "ours", "n", "diff"]
    cup_text = row(text, task="ball_in_cup_catch", config="modern4+sn")
    assert (cup_text["paper"], cup_text["ours"], cup_text["n"], cup_text["diff"]) == \
        ("975.3 ± 1.3", "970.0 ± 20.0", "2", "-5.3")
    assert row(text, task="hopper_stand", config="mlp2")["ours"] == "-"
    styled = plots.paper_comparison_table(cmp, styled=True)
    assert "color: red" in styled.to_html()
    # Wrong agent / table, mixed observation types: clear errors.
    with pytest.raises(ValueError, match="agent"):
        results.compare_with_paper(table, paper.table2())
    with pytest.raises(ValueError, match="Table 3"):
        results.compare_with_paper(table, paper.table3())
    make_run(tmp_path, task="walker_walk", config="mlp2", agent="ddpg", obs="state", evals=[(50_000, 1.0)])
    mixed = results.summary(results.load_runs(tmp_path), 50_000)
    with pytest.raises(ValueError, match="filter it first"):
        results.compare_with_paper(mixed, paper.table1())


def test_compare_with_table2_keeps_dreamer(tmp_path):
    make_run(tmp_path, task="cartpole_swingup", config="mlp2", agent="sac", obs="pixels",
             evals=[(500_000, 800.0)], frames=500_000)
    cmp = results.compare_with_paper(results.summary(results.load_runs(tmp_path), 500_000), paper.table2())
    assert len(cmp) == 45
    dreamer = row(cmp, task="cartpole_swingup", method="Dreamer")
    assert dreamer["paper_mean"] == 592.4 and np.isnan(dreamer["ours_mean"])
    assert row(cmp, task="cartpole_swingup", config="mlp2")["diff"] == pytest.approx(800 - 805.7)


def test_plots(root):
    runs = results.load_runs(root)
    stats = results.curve_summary(runs)
    fig = plots.plot_learning_curves(stats)
    ax = fig.axes[0]
    assert ax.get_title() == "cartpole_swingup"
    assert [l.get_label() for l in ax.get_lines()] == ["mlp2 (n=3)", "modern4 (n=4)"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), stats[stats.config == "mlp2"]["mean"])
    assert len(ax.collections) == 2  # one ± s.e. band per config
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    mlp = stats[stats.config == "mlp2"]
    assert band.max() == pytest.approx((mlp["mean"] + mlp["se"]).max())
    plt.close(fig)

    table = results.summary(runs, 50_000)
    ax = plots.plot_task_bars(table, paper=None)
    heights = [p.get_height() for p in ax.patches[:2]]  # one task x two configs
    assert heights == pytest.approx([row(table, config="mlp2")["mean"], row(table, config="modern4")["mean"]])
    assert ax.patches[1].get_hatch() == "//" and ax.patches[0].get_hatch() is None  # modern4 crashed
    assert "includes crashed runs (carried forward)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert "50,000 frames" in ax.get_ylabel()
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="not in the data"):
        plots.plot_task_bars(table, configs=["modern4+sn"])


def test_plot_intervals_draws_one_bar_and_one_tick_per_row_top_down():
    import matplotlib.pyplot as plt

    from course_lib import plots

    ax = plots.plot_intervals(["a", "b", "c"], [0.6, 0.5, 0.2], [0.55, 0.3, 0.1], [0.7, 0.9, 0.35],
                              "P(X > Y)", references=[0.5])
    where = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    assert where["a"] > where["b"] > where["c"]  # the first label on top
    bars = [line for line in ax.lines if len(line.get_xdata()) == 2 and line.get_xdata()[0] != line.get_xdata()[1]]
    assert sorted(tuple(b.get_xdata()) for b in bars) == [(0.1, 0.35), (0.3, 0.9), (0.55, 0.7)]
    assert any(tuple(line.get_xdata()) == (0.5, 0.5) for line in ax.lines)  # the reference line
    assert ax.get_xlabel() == "P(X > Y)"
    with pytest.raises(ValueError, match="contain its point"):
        plots.plot_intervals(["a"], [0.9], [0.1], [0.5], "x")
    with pytest.raises(ValueError, match="1 labels for 2 points"):
        plots.plot_intervals(["a"], [0.2, 0.3], [0.1, 0.1], [0.5, 0.5], "x")
    plt.close("all")


def test_plot_profiles_draws_the_fraction_of_runs_above_each_threshold_with_its_band():
    import matplotlib.pyplot as plt

    from course_lib import plots

    every_run_at_800 = np.full((5, 2), 0.8)
    half_at_200_half_at_600 = np.array([[0.2, 0.6]] * 4)  # per task: all 0.2 on one, all 0.6 on the other
    ax = plots.plot_profiles({"a": every_run_at_800, "b": half_at_200_half_at_600, "unused": every_run_at_800},
                             ["a", "b"])
    curves = {line.get_label(): line for line in ax.lines}
    assert sorted(curves) == ["a", "b"]
    taus, a = curves["a"].get_xdata(), curves["a"].get_ydata()
    b = curves["b"].get_ydata()
    assert taus[0] == 0 and taus[-1] == 1000
    at = lambda tau: int(np.argmin(np.abs(taus - tau)))  # noqa: E731
    assert a[at(500)] == 1 and a[at(900)] == 0
    assert b[at(100)] == 1 and b[at(400)] == 0.5 and b[at(700)] == 0
    # Each task's runs are all alike here, so every stratified resample equals the data: no band width.
    band = ax.collections[0].get_paths()[0].vertices
    assert np.ptp(band[:, 1][(band[:, 0] > 50) & (band[:, 0] < 750)]) == 0
    assert ax.get_xlabel() == "return threshold τ" and "fraction of runs" in ax.get_ylabel()
    with pytest.raises(ValueError, match=r"no score matrix for \['c'\]"):
        plots.plot_profiles({"a": every_run_at_800}, ["a", "c"])
    plt.close("all")
