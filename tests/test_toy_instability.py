"""The toy of notebook 08 (course_lib.toy_instability): eq. (5)'s bound with and without SN, for fixed seeds."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from course_lib import toy_instability as toy  # noqa: E402
from tests.displayed import displayed  # noqa: E402

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def runs():
    """Depth 8 and depth 2, without and with SN, for three seeds (a few seconds each)."""
    return {(depth, sn, seed): toy.run_toy(depth=depth, sn=sn, seed=seed, log_every=20)
            for seed in SEEDS for depth in (8, 2) for sn in (False, True)}  # about 2 s of CPU each


@pytest.mark.parametrize("seed", SEEDS)
def test_without_sn_the_deep_bound_grows_with_every_stretch_of_updates(runs, seed):
    bound = runs[(8, False, seed)]["sigma_product"].to_numpy()
    assert bound[0] == pytest.approx(1, abs=1e-4)  # orthogonal initialization: every sigma is 1
    quarters = [np.median(part) for part in np.array_split(bound[1:], 4)]
    assert all(later > earlier for earlier, later in zip(quarters, quarters[1:])), quarters
    assert quarters[-1] > 1.4 * quarters[0] and bound[-1] > 300


@pytest.mark.parametrize("seed", SEEDS)
def test_with_sn_the_bound_stays_small_whatever_the_depth(runs, seed):
    deep_sn, shallow = runs[(8, True, seed)]["sigma_product"], runs[(2, False, seed)]["sigma_product"]
    deep = runs[(8, False, seed)]["sigma_product"]
    assert deep_sn.max() < 40 and deep_sn.iloc[-1] < shallow.iloc[-1]  # 7 SN layers: only fc1 and out grow
    assert deep.iloc[-1] > 20 * deep_sn.iloc[-1]
    # Depth barely matters with SN; without it, the bound of 8 layers dwarfs that of 2.
    assert deep_sn.iloc[-1] < 3 * runs[(2, True, seed)]["sigma_product"].iloc[-1]
    assert deep.iloc[-1] > 20 * shallow.iloc[-1]


def test_the_bound_holds_and_the_slope_is_the_actors_gradient_factor(runs):
    for table in runs.values():
        assert (table["dq_da_max"] <= table["sigma_product"]).all()  # eq. (5) for an MLP critic
        assert (table["dq_da"] <= table["dq_da_max"]).all()
        assert np.isfinite(table.to_numpy()).all() and (table["actor_grad_norm"] > 0).all()


def test_runs_are_deterministic_and_seeds_differ():
    a = toy.run_toy(depth=3, steps=30, seed=5, log_every=5)
    b = toy.run_toy(depth=3, steps=30, seed=5, log_every=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(toy.run_toy(depth=3, steps=30, seed=6, log_every=5))
    assert list(a["step"]) == [0, 5, 10, 15, 20, 25, 30]


def test_summary_plot_and_bad_input():
    tables = toy.run_toy_pair(depth=2, steps=20, log_every=10)
    assert list(tables) == ["mlp2", "mlp2+sn"]
    summary = toy.toy_summary(tables)
    assert summary.loc["mlp2", "updates"] == 20 and summary.loc["mlp2", "bound first"] == pytest.approx(1, abs=1e-4)
    assert summary.loc["mlp2", "bound growth"] == pytest.approx(
        tables["mlp2"]["sigma_product"].iloc[-1] / tables["mlp2"]["sigma_product"].iloc[0])
    axes = Figure().subplots(1, 3)
    toy.plot_toy(tables, axes)
    assert all(ax.get_yscale() == "log" and ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == [
        "mlp2", "mlp2+sn", "solid: mean |dQ/da|", "dashed: bound, eq. (5)"]
    for bad in (dict(depth=0), dict(steps=1.5), dict(lr=0), dict(gamma=1.0), dict(arch="cnn")):
        with pytest.raises(ValueError):
            toy.run_toy(**bad)


def test_panel_redraws_for_its_controls():
    panel = toy.ToyPanel(depth=2, sn="on", steps=20, log_every=10)
    assert list(panel.tables) == ["mlp2+sn"]
    assert "image/png" in panel.output.outputs[0]["data"]
    panel.sn.value = "both"
    assert list(panel.tables) == ["mlp2", "mlp2+sn"]
    panel.depth.value = 3
    assert list(panel.tables) == ["mlp3", "mlp3+sn"] and "mlp3:" in panel.status.value
    assert displayed(panel)["text/plain"] == "ToyPanel(depth=3, sn='both'): run the notebook to use it"
