"""The CPU pixel evidence: the verdict "learns" (above random by 2 s.e. and rising), the figure, bad input,
and the stored runs of results/cpu_pixels themselves (complete, reproducible commands recorded)."""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_lib import learning_evidence  # noqa: E402
from tests.test_results import make_run  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STORED = REPO / "results" / "cpu_pixels"


@pytest.fixture
def evidence(tmp_path):
    runs = tmp_path / "runs"
    frames = [0, 10_000, 20_000, 30_000, 40_000]
    for seed, noise in ((1, 0.0), (2, 20.0)):
        # rising well above the floor of 100
        make_run(runs, task="cartpole_balance", seed=seed, obs="pixels", frames=40_000,
                 evals=[(f, 100 + f / 100 + noise) for f in frames], pnorm="none")
        # above the floor but falling: not "learns"
        make_run(runs, task="cartpole_balance", seed=seed, obs="pixels", frames=40_000, agent="ddpg",
                 layout=f"ddpg/fall/seed_{seed}", evals=[(f, 600 - f / 100 + noise) for f in frames], pnorm="none")
        # the same DDPG with penultimate normalization: flat at the floor
        make_run(runs, task="cartpole_balance", seed=seed, obs="pixels", frames=40_000, agent="ddpg",
                 layout=f"ddpg/flat/seed_{seed}", evals=[(f, 100 + noise) for f in frames], pnorm="actor")
        make_run(runs, task="cartpole_balance", seed=seed, obs="state", frames=40_000,
                 evals=[(f, 100 + f / 50 + noise) for f in frames])
    pd.DataFrame([{"task": "cartpole_balance", "episodes": 50, "action_repeat": 8, "seed": 0,
                   "mean_return": 100.0, "se": 5.0}]).to_csv(tmp_path / "random.csv", index=False)
    return tmp_path


def test_verdicts(evidence):
    runs = learning_evidence.load_runs(evidence)
    assert set(runs["variant"]) == {"pixels mlp2", "pixels mlp2, pnorm actor", "state mlp2"}
    table = learning_evidence.evidence_table(runs, learning_evidence.random_floor(evidence)).set_index(["agent", "variant"])
    rising = table.loc[("sac", "pixels mlp2")]
    # early: the 10k evaluation (first quarter, frame 0 left out); late: mean of the 20k, 30k, 40k ones
    assert rising["early"] == pytest.approx(100 + 100 + 10) and rising["late"] == pytest.approx(100 + 300 + 10)
    assert rising["end"] == pytest.approx(100 + 400 + 10) and rising["late_se"] == pytest.approx(10)
    assert rising["start"] == pytest.approx(110) and rising["n"] == 2 and rising["seeds"] == "1 2"
    assert rising["learns"] and table.loc[("sac", "state mlp2")]["learns"]
    falling = table.loc[("ddpg", "pixels mlp2")]
    assert falling["above_random"] and not falling["rising"] and not falling["learns"]
    flat = table.loc[("ddpg", "pixels mlp2, pnorm actor")]
    assert not flat["above_random"] and not flat["learns"]
    text = learning_evidence.markdown_table(table.reset_index())
    assert "| yes |" in text and "above random, not rising" in text and "| no |" in text


def test_plot_has_labelled_axes_and_the_floor(evidence):
    runs = learning_evidence.load_runs(evidence)
    fig = learning_evidence.plot_evidence(runs, learning_evidence.random_floor(evidence), agent="sac")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "environment frames" and "return" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["pixels mlp2 (n=2)", "state mlp2 (n=2)", "random policy (100)"]
    plt.close(fig)


def test_unfinished_runs_are_not_counted(evidence):
    make_run(evidence / "runs", task="cartpole_balance", seed=3, obs="pixels", frames=40_000, status="running",
             evals=[(0, 100.0), (10_000, 900.0)], pnorm="none")
    table = learning_evidence.evidence_table(learning_evidence.load_runs(evidence), learning_evidence.random_floor(evidence))
    row = table.set_index(["agent", "variant"]).loc[("sac", "pixels mlp2")]
    assert row["n"] == 2 and row["n_incomplete"] == 1 and not row["learns"]
    assert "incomplete" in learning_evidence.markdown_table(table)


def test_bad_input(evidence, tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        learning_evidence.load_runs(tmp_path / "nowhere")
    (evidence / "random.csv").unlink()
    with pytest.raises(ValueError, match="course_lib.baselines"):
        learning_evidence.random_floor(evidence)
    runs = learning_evidence.load_runs(evidence)
    with pytest.raises(ValueError, match="no runs of agent"):
        learning_evidence.plot_evidence(runs, pd.DataFrame(columns=["task", "mean_return", "se"]), agent="td3")


def test_stored_evidence_is_complete_and_documented():
    """Every stored run finished its budget, and commands.sh (named in README) trains each group."""
    runs = learning_evidence.load_runs(STORED)
    assert (runs["status"] == "complete").all(), runs.loc[runs["status"] != "complete", "run_dir"].tolist()
    assert (runs["frames_done"] >= runs["frames"]).all()
    for run in runs.itertuples():
        last = pd.read_csv(Path(run.run_dir) / "eval.csv")["frame"].max()
        assert last == run.frames, run.run_dir
        cfg = json.loads((Path(run.run_dir) / "config.json").read_text())
        assert cfg["obs"] == "state" or cfg["profile"] == "cpu", run.run_dir
    floor = learning_evidence.random_floor(STORED)
    assert set(runs["task"]) <= set(floor["task"])
    commands = (STORED / "commands.sh").read_text()
    assert "commands.sh" in (STORED / "README.md").read_text()
    for agent, obs, task in runs[["agent", "obs", "task"]].drop_duplicates().itertuples(index=False):
        assert f"--agent {agent} --obs {obs}" in commands and task in commands


def test_head_comparison_reads_each_run_up_to_the_budget(evidence):
    for layout, rows in (("ddpg/fall/seed_1", "10000,1.0,7.5\n20000,0.5,2.0\n40000,1.0,9.0\n"),
                         ("ddpg/flat/seed_1", "10000,0.0,0.5\n20000,0.0,0.7\n40000,0.0,0.9\n")):
        (evidence / "runs" / layout / "train.csv").write_text("frame,saturated_frac,pre_tanh_max\n" + rows)
    runs = learning_evidence.load_runs(evidence)
    heads = learning_evidence.head_comparison(runs[runs["seed"] == 1], "cartpole_balance", 40_000).set_index("variant")
    assert list(heads.index) == ["pixels mlp2", "pixels mlp2, pnorm actor"]
    plain = heads.loc["pixels mlp2"]
    assert plain["saturated_rows"] == pytest.approx(2 / 3) and plain["max_pre_tanh"] == pytest.approx(9.0)
    assert plain["at_budget"] == pytest.approx(600 - 400) and plain["early"] == pytest.approx(600 - 100)
    assert heads.loc["pixels mlp2, pnorm actor"]["saturated_rows"] == 0
    # read up to a smaller budget: the rows after it do not count
    first_half = learning_evidence.head_comparison(runs[runs["seed"] == 1], "cartpole_balance", 20_000).set_index("variant")
    assert first_half.loc["pixels mlp2"]["saturated_rows"] == pytest.approx(0.5)
    assert first_half.loc["pixels mlp2"]["max_pre_tanh"] == pytest.approx(7.5)
    with pytest.raises(ValueError, match="no DDPG pixel runs"):
        learning_evidence.head_comparison(runs, "walker_walk", 20_000)
