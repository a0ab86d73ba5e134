"""results/prereg/analyze.py: PLAN.md's decision rules, applied to made-up score matrices."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("prereg_analyze", ROOT / "results/prereg/analyze.py")
analyze = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = analyze  # dataclasses look their module up there
spec.loader.exec_module(analyze)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def heads(**levels):
    """Score matrices (5 seeds x 3 tasks) around each head's level, with a little seed noise."""
    rng = np.random.default_rng(0)
    return {h: np.clip(level + rng.normal(0, 0.03, size=(5, 3)), 0, 1) for h, level in levels.items()}


NO_CRASH = dict.fromkeys(analyze.HEADS, 0)


def test_the_papers_story_supports_every_hypothesis():
    m = heads(**{"mlp2": 0.8, "modern4": 0.3, "modern4+sn": 0.8, "modern4+critic_sn": 0.8,
                 "mlp2+fixed_alpha": 0.7, "modern4+fixed_alpha": 0.2, "modern4+sigma_steps": 0.3})
    found = analyze.verdicts(m, NO_CRASH)
    assert {h: v for h, (v, _) in found.items()} == dict.fromkeys(["H1", "H2", "H3", "H4", "H5"], "supported")


def test_no_gap_rejects_h1_and_leaves_h2_and_h4_without_a_question():
    m = heads(**{"mlp2": 0.5, "modern4": 0.8, "modern4+sn": 0.8, "modern4+critic_sn": 0.8,
                 "mlp2+fixed_alpha": 0.5, "modern4+fixed_alpha": 0.8, "modern4+sigma_steps": 0.8})
    found = analyze.verdicts(m, NO_CRASH)
    assert found["H1"][0] == "rejected"
    assert found["H2"][0] == "no gap to remove"
    assert found["H4"][0].startswith("not applicable")


def test_crashes_alone_can_support_h1():
    m = heads(**{"mlp2": 0.6, "modern4": 0.6})
    crashes = {**NO_CRASH, "modern4": 6}
    assert analyze.verdict_h1(m, crashes)[0] == "supported"
    assert analyze.verdict_h1(m, NO_CRASH)[0] == "inconclusive"


def test_step_size_that_matches_sn_rejects_h5_and_critic_sn_that_falls_short_rejects_h3():
    m = heads(**{"modern4": 0.3, "modern4+sn": 0.8, "modern4+sigma_steps": 0.8, "modern4+critic_sn": 0.3})
    assert analyze.verdict_h5(m)[0] == "rejected"
    assert analyze.verdict_h3(m)[0] == "rejected"


def test_sn_that_helps_without_closing_the_gap_is_inconclusive_for_h2():
    m = heads(**{"mlp2": 0.9, "modern4": 0.2, "modern4+sn": 0.5})
    assert analyze.verdict_h2(m, "supported")[0].startswith("inconclusive")
    assert analyze.verdict_h2(m, "supported")[0] != "supported"


def test_comparison_table_lists_every_comparison_the_rules_read_with_intervals_around_the_point():
    from course_lib import stats

    levels = {"mlp2": 0.8, "modern4": 0.3, "modern4+sn": 0.7, "modern4+critic_sn": 0.6,
              "mlp2+fixed_alpha": 0.7, "modern4+fixed_alpha": 0.4, "modern4+sigma_steps": 0.35}
    m = heads(**levels)
    table = analyze.comparison_table(m)
    assert list(table["hypothesis"]) == ["H1", "H2", "H2", "H3", "H3", "H4", "H5", "H5"]
    for row in table.itertuples(index=False):
        assert row[3] == pytest.approx(stats.probability_of_improvement(m[row.X], m[row.Y]))
        assert row.low <= row[3] <= row.high
    assert table.set_index(["X", "Y"]).loc[("mlp2", "modern4"), "low"] > 0.5  # levels 0.8 vs 0.3
    partial = analyze.comparison_table({h: m[h] for h in ("mlp2", "modern4", "modern4+sn")})
    assert list(zip(partial["X"], partial["Y"])) == [("mlp2", "modern4"), ("modern4+sn", "modern4"),
                                                     ("mlp2", "modern4+sn")]


def test_state_runs_keeps_the_grids_runs_and_with_finished_only_those_that_ended(tmp_path, monkeypatch):
    import pandas as pd

    table = pd.DataFrame({"task": ["cheetah_run", "cheetah_run", "walker_walk", "reacher_easy", "cheetah_run"],
                          "config": ["mlp2", "modern4+sn", "mlp2", "modern8", "mlp2"],
                          "seed": [100, 104, 100, 100, 1],
                          "status": ["complete", "running", "complete", "complete", "complete"]})
    (tmp_path / "sac-state").mkdir()
    monkeypatch.setattr(analyze.results, "load_runs", lambda root: table)
    every = analyze.state_runs(tmp_path)
    assert list(zip(every["config"], every["status"])) == [("mlp2", "complete"), ("modern4+sn", "running")]
    assert list(analyze.state_runs(tmp_path, finished=True)["config"]) == ["mlp2"]
    assert analyze.state_runs(tmp_path / "nowhere").empty


def test_pixel_scores_read_the_last_two_evaluations_of_ended_runs_and_leave_runs_under_way_out(tmp_path):
    import json
    import shutil

    stored = ROOT / "results/prereg/runs/sac-pixels/cartpole_swingup/mlp2/seed_100"
    grid = tmp_path / "sac-pixels" / "cartpole_swingup" / "mlp2"
    under_way = grid / "seed_101"
    under_way.mkdir(parents=True)
    config = json.loads((stored / "config.json").read_text())
    (under_way / "config.json").write_text(json.dumps({**config, "seed": 101, "status": "running",
                                                      "frames_done": 0}))
    (under_way / "eval.csv").write_text("frame,eval_return,crashed\n0,31.5,0\n")
    assert analyze.pixel_scores(tmp_path).empty  # only a run at frame 0: nothing to score yet

    shutil.copytree(stored, grid / "seed_100", ignore=shutil.ignore_patterns("*.pt", "*.log"))
    assert sorted(analyze.pixel_runs(tmp_path)["seed"]) == [100, 101]
    assert list(analyze.pixel_runs(tmp_path, finished=True)["seed"]) == [100]
    scores = analyze.pixel_scores(tmp_path).set_index("seed")
    evals = np.loadtxt(stored / "eval.csv", delimiter=",", skiprows=1)
    assert scores.loc[100, "complete"] and not scores.loc[101, "complete"]
    assert scores.loc[100, "score"] == pytest.approx(evals[-2:, 1].mean() / 1000)
