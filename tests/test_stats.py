"""course_lib.stats: IQM, probability of improvement, performance profiles, stratified bootstrap."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from course_lib import stats


def test_iqm_drops_a_quarter_from_each_end():
    scores = np.arange(1.0, 9.0).reshape(4, 2)  # 1..8 -> mean of 3, 4, 5, 6
    assert stats.iqm(scores) == 4.5
    rng = np.random.default_rng(1)
    for n in (3, 5, 7, 15, 16):
        x = rng.normal(size=(n, 3))
        assert stats.iqm(x) == pytest.approx(scipy.stats.trim_mean(x, 0.25, axis=None))
    # one wild seed moves the mean but not the IQM
    x = np.array([[0.5], [0.6], [0.55], [0.52], [100.0]])
    assert stats.mean_score(x) > 20 and stats.iqm(x) == pytest.approx(np.mean([0.52, 0.55, 0.6]))


def test_probability_of_improvement_counts_pairs_and_half_ties():
    x, y = np.array([[1.0], [2.0]]), np.array([[0.0], [2.0]])
    assert stats.probability_of_improvement(x, y) == 0.625  # (1 + 0 + 1 + 0.5) / 4
    assert stats.probability_of_improvement(y, x) == 0.375
    a = np.array([[3.0, 0.0], [4.0, 0.0]])
    b = np.array([[1.0, 1.0], [2.0, 1.0]])
    assert stats.probability_of_improvement(a, b) == 0.5  # task 1: 1.0, task 2: 0.0, averaged
    with pytest.raises(ValueError, match="same tasks"):
        stats.probability_of_improvement(a, b[:, :1])


def test_point_estimates_equal_rliables():
    metrics = pytest.importorskip("rliable.metrics")
    rng = np.random.default_rng(3)
    x, y = rng.uniform(size=(5, 3)), rng.uniform(size=(5, 3)).round(1)
    assert stats.iqm(x) == pytest.approx(metrics.aggregate_iqm(x))
    assert stats.probability_of_improvement(x, y) == pytest.approx(metrics.probability_of_improvement(x, y))


def test_performance_profile_is_the_fraction_above_each_threshold():
    scores = np.array([[0.1, 0.5], [0.9, 0.5]])
    assert stats.performance_profile(scores, [0.0, 0.5, 0.95]).tolist() == [1.0, 0.25, 0.0]


def test_stratified_bootstrap_resamples_within_each_task():
    scores = np.array([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0], [3.0, 30.0, 300.0]])
    samples = stats.stratified_bootstrap(scores, 500, np.random.default_rng(0))
    assert samples.shape == (500, 3, 3)
    for task in range(3):
        assert set(np.unique(samples[:, :, task])) <= set(scores[:, task])
        assert len(np.unique(samples[:, :, task])) == 3  # every run is drawn somewhere


def test_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    hits = 0
    trials = 200
    for t in range(trials):
        data = rng.normal(0.3, 1.0, size=(20, 1))
        _, lo, hi = stats.interval(data, stats.mean_score, reps=1000, seed=t)
        hits += lo <= 0.3 <= hi
    assert 0.85 <= hits / trials <= 0.99


def test_intervals_are_seeded_and_narrow_with_more_seeds():
    rng = np.random.default_rng(0)
    few, many = rng.normal(size=(3, 3)), rng.normal(size=(30, 3))
    assert stats.interval(few, seed=1) == stats.interval(few, seed=1)
    _, lo3, hi3 = stats.interval(few, reps=2000)
    _, lo30, hi30 = stats.interval(many, reps=2000)
    assert hi30 - lo30 < hi3 - lo3
    point, lo, hi = stats.interval(np.full((4, 2), 0.7))
    assert point == lo == hi == pytest.approx(0.7)


def test_poi_interval_brackets_its_point_and_separates_clear_differences():
    rng = np.random.default_rng(2)
    good, bad = rng.normal(1.0, 0.1, size=(5, 3)), rng.normal(0.0, 0.1, size=(5, 3))
    point, lo, hi = stats.poi_interval(good, bad, reps=2000)
    assert point == 1.0 and lo == 1.0
    same_a, same_b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    point, lo, hi = stats.poi_interval(same_a, same_b, reps=2000)
    assert lo <= point <= hi and lo < 0.5 < hi


def test_profile_intervals_contain_the_profile():
    scores = np.random.default_rng(4).uniform(size=(5, 3))
    taus = np.linspace(0, 1, 11)
    point, lo, hi = stats.profile_intervals(scores, taus, reps=500)
    assert np.all(lo <= point + 1e-12) and np.all(point <= hi + 1e-12)
    assert point[0] == 1.0 and point[-1] == 0.0


def test_score_matrices_need_every_seed_on_every_task():
    table = pd.DataFrame({"config": ["a"] * 4, "task": ["t1", "t2", "t1", "t2"], "seed": [1, 1, 2, 2],
                          "score": [0.1, 0.2, 0.3, 0.4]})
    m = stats.score_matrices(table, ["a"])["a"]
    assert m.tolist() == [[0.1, 0.2], [0.3, 0.4]]
    with pytest.raises(ValueError, match="t2 seed 2"):
        stats.score_matrices(table.iloc[:3], ["a"])
    with pytest.raises(ValueError, match="no runs of configuration 'b'"):
        stats.score_matrices(table, ["b"])


@pytest.mark.parametrize("bad, message", [
    (np.array([[np.nan]]), "NaN"), (np.zeros((2, 2, 2)), "matrix"),
])
def test_bad_scores_fail_in_one_line(bad, message):
    with pytest.raises(ValueError, match=message) as err:
        stats.iqm(bad)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="reps"):
        stats.interval(np.ones((3, 1)), reps=5)


def test_run_scores_average_the_last_evaluations_and_carry_crashes_forward(tmp_path):
    import json

    from course_lib import results

    def run(name, status, rows, crash_frame=None):
        d = tmp_path / name
        d.mkdir()
        cfg = {"task": "cartpole_swingup", "agent": "sac", "obs": "state", "arch": "mlp", "depth": 2,
               "sn": False, "seed": len(list(tmp_path.iterdir())), "frames": 64000, "status": status,
               "frames_done": rows[-1][0], "crash_frame": crash_frame}
        (d / "config.json").write_text(json.dumps(cfg))
        (d / "eval.csv").write_text("frame,eval_return,crashed\n" + "".join(f"{f},{r},{c}\n" for f, r, c in rows))

    run("ok", "complete", [(0, 0.0, 0), (56000, 500.0, 0), (64000, 700.0, 0)])
    run("crash", "crashed", [(0, 0.0, 0), (48000, 300.0, 0), (50000, 300.0, 1)], crash_frame=50000)
    run("short", "running", [(0, 0.0, 0), (56000, 400.0, 0)])
    scores = stats.run_scores(results.load_runs(tmp_path), [56000, 64000]).set_index("seed")
    by_status = dict(zip(results.load_runs(tmp_path)["status"], results.load_runs(tmp_path)["seed"]))
    assert scores.loc[by_status["complete"], "score"] == pytest.approx(0.6)
    assert scores.loc[by_status["crashed"], "score"] == pytest.approx(0.3)
    assert bool(scores.loc[by_status["crashed"], "crashed"])
    assert not scores.loc[by_status["running"], "complete"]
    assert np.isnan(scores.loc[by_status["running"], "score"])
