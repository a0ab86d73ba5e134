"""Fig. 3 diagnostics plots (course_lib.plots, diagnostics section) on synthetic run directories."""
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_lib import plots, results  # noqa: E402

LAYERS = ["q1.input", "q1.blocks.0.branch.w1", "q1.blocks.0.branch.w2", "q1.output"]


def write_run(root, config, seed, actor_grads, sigma_scale=1.0, crash=False):
    """A run directory as course_lib.train writes it, with chosen diagnostics."""
    arch, depth, sn = results.parse_config(config).values()
    out = root / config / f"seed_{seed}"
    out.mkdir(parents=True)
    frames = [1000 * (i + 1) for i in range(len(actor_grads))]
    status = "crashed" if crash else "complete"
    (out / "config.json").write_text(json.dumps(dict(
        task="cartpole_swingup", agent="sac", obs="state", arch=arch, depth=depth, sn=sn, seed=seed,
        frames=frames[-1], status=status, frames_done=frames[-1],
        crash_frame=frames[-1] if crash else None, crash_reason="nan" if crash else None)))
    evals = pd.DataFrame({"frame": [0, frames[-1]], "eval_return": [10.0 * seed, 100.0 + seed], "crashed": 0})
    if crash:
        evals.loc[len(evals)] = [frames[-1], 100.0 + seed, 1]
    evals.to_csv(out / "eval.csv", index=False)
    train = pd.DataFrame({
        "frame": frames, "critic_loss": np.linspace(1.0, 2.0, len(frames)), "actor_loss": -1.0,
        "q_mean": 1.0, "actor_grad_norm": actor_grads, "critic_grad_norm": np.full(len(frames), 3.0),
        "alpha": 0.1, "nonfinite": [0] * (len(frames) - 1) + [int(crash)]})
    for i, layer in enumerate(LAYERS):
        train[f"sigma/critic/{layer}"] = sigma_scale * (i + 1)
        train[f"sigma/critic/{layer.replace('q1', 'q2')}"] = 1.0
    train["sigma/actor/input"] = 1.5
    if crash:  # what a diverged run logs last: overflowing losses and gradients
        train.loc[len(train) - 1, ["critic_loss", "critic_grad_norm"]] = [np.inf, np.nan]
    train.to_csv(out / "train.csv", index=False)
    return out


@pytest.fixture
def runs(tmp_path):
    write_run(tmp_path, "modern4", 1, [1.0, 10.0, 100.0, 1000.0], sigma_scale=2.0)
    write_run(tmp_path, "modern4", 2, [1.0, 1.0, 1.0, 1.0], sigma_scale=2.0, crash=True)
    write_run(tmp_path, "modern4+sn", 1, [0.5, 0.5, 0.5, 0.5])
    write_run(tmp_path, "modern4+sn", 2, [0.5, 0.5, 0.5, 2.0])
    return results.load_runs(tmp_path)


def test_read_train_logs_stacks_every_run_with_its_labels(runs, tmp_path):
    (tmp_path / "empty").mkdir()
    train = plots.read_train_logs(runs)
    assert len(train) == 4 * 4
    assert set(train["config"]) == {"modern4", "modern4+sn"}
    assert train.groupby(["config", "seed"]).size().tolist() == [4, 4, 4, 4]
    assert "sigma/critic/q1.output" in train.columns
    with pytest.raises(ValueError, match="run_dir"):
        plots.read_train_logs(runs.drop(columns="run_dir"))


def test_log_panels_average_geometrically_with_a_standard_error_band():
    part = pd.DataFrame({"frame": [1, 1], "actor_grad_norm": [1.0, 100.0]})
    stats = plots._mean_se_by_frame(part, "actor_grad_norm", log=True)
    assert stats["mean"].iloc[0] == pytest.approx(10.0)  # geometric mean of 1 and 100
    se = np.std([0.0, 2.0], ddof=1) / np.sqrt(2)  # in log10 units
    assert stats["hi"].iloc[0] == pytest.approx(10 ** (1 + se))
    assert stats["lo"].iloc[0] == pytest.approx(10 ** (1 - se))
    linear = plots._mean_se_by_frame(part, "actor_grad_norm", log=False)
    assert linear["mean"].iloc[0] == pytest.approx(50.5)


def test_fig3_panels(runs):
    train = plots.read_train_logs(runs)
    curves = results.curve_summary(runs)
    fig = plots.plot_training_dynamics(train, curves)
    loss_ax, return_ax, actor_ax, critic_ax = fig.axes
    assert actor_ax.get_yscale() == "log" and critic_ax.get_yscale() == "log"
    assert return_ax.get_yscale() == "linear"
    # per group: 2 thin run lines + 1 mean line on each diagnostics panel
    assert len(actor_ax.lines) == 2 * (2 + 1)
    mean_line = [ln for ln in actor_ax.lines if ln.get_label().startswith("modern4 (n=2)")][0]
    np.testing.assert_allclose(mean_line.get_ydata(), [1.0, np.sqrt(10), 10.0, np.sqrt(1000)])
    labels = [t.get_text() for t in return_ax.get_legend().get_texts()]
    assert labels == ["modern4 (n=2)", "modern4+sn (n=2)"]
    # the crash row is marked on the panels
    from matplotlib.collections import PathCollection
    marks = [c.get_offsets() for c in actor_ax.collections if isinstance(c, PathCollection)]
    assert [len(m) for m in marks] == [1, 0]  # modern4 seed 2 crashed at its last row; SN runs did not
    assert tuple(marks[0][0]) == (4000, 1.0)  # at the crash frame, the last finite value
    critic_ax_means = [ln for ln in critic_ax.lines if ln.get_label().startswith("modern4 (n=2)")][0]
    assert np.isfinite(critic_ax_means.get_ydata()).all()  # the NaN of the crash row is left out
    plt.close(fig)


def test_fig3_rejects_empty_or_foreign_tables(runs):
    with pytest.raises(ValueError, match="no diagnostics"):
        plots.plot_training_dynamics(pd.DataFrame())
    with pytest.raises(ValueError, match="no columns"):
        plots.plot_training_dynamics(pd.DataFrame({"config": ["a"], "frame": [1]}))
    with pytest.raises(ValueError, match="not in the data"):
        plots.plot_training_dynamics(plots.read_train_logs(runs), groups=["mlp2"])


def test_spectral_norm_panels_one_line_per_layer(runs):
    train = plots.read_train_logs(runs)
    fig = plots.plot_spectral_norms(train)
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    layer_lines = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in layer_lines] == [name.replace(".branch", "") for name in LAYERS]
    np.testing.assert_allclose(layer_lines[-1].get_ydata(), 2.0 * 4)
    plt.close(fig)
    fig = plots.plot_spectral_norms(train, network="actor")
    assert [ln.get_label() for ln in fig.axes[0].lines if not ln.get_label().startswith("_")] == ["input"]
    plt.close(fig)
    # runs of another architecture log other layers: each panel shows only its own
    mlp = pd.DataFrame({"config": "mlp2", "run_dir": "m", "frame": [1, 2], "sigma/critic/q1.fc1": [2.0, 3.0]})
    fig = plots.plot_spectral_norms(pd.concat([train, mlp], ignore_index=True))
    assert [ln.get_label() for ln in fig.axes[2].lines if not ln.get_label().startswith("_")] == ["q1.fc1"]
    assert len([ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")]) == len(LAYERS)
    plt.close(fig)
    with pytest.raises(ValueError, match="sigma/encoder"):
        plots.plot_spectral_norms(train, network="encoder")


def test_diagnostics_summary_numbers(runs):
    summary = plots.diagnostics_summary(plots.read_train_logs(runs)).set_index("config")
    assert summary.loc["modern4", "runs"] == 2
    assert summary.loc["modern4", "actor_grad_max"] == 1000.0
    assert summary.loc["modern4", "actor_grad_start"] == 1.0
    assert summary.loc["modern4", "actor_grad_end"] == pytest.approx((1000.0 + 1.0) / 2)  # last rows
    assert summary.loc["modern4+sn", "actor_grad_max"] == 2.0
    # product of the q1 sigmas: (2*1)(2*2)(2*3)(2*4) for modern4, 1*2*3*4 with sigma_scale 1
    assert summary.loc["modern4", "critic_sigma_prod_end"] == pytest.approx(384.0)
    assert summary.loc["modern4+sn", "critic_sigma_prod_end"] == pytest.approx(24.0)
    assert summary.loc["modern4", "nonfinite_runs"] == 1
    assert summary.loc["modern4+sn", "nonfinite_runs"] == 0
    # the crashed run counts with its rows before the crash: critic loss 5/3 at its third row
    assert summary.loc["modern4", "critic_loss_end"] == pytest.approx((2.0 + 5 / 3) / 2)
    assert np.isfinite(summary.select_dtypes("number").to_numpy()).all()
    with pytest.raises(ValueError, match="last_fraction"):
        plots.diagnostics_summary(plots.read_train_logs(runs), last_fraction=0)


def test_growth_rate_in_orders_of_magnitude_per_1000_frames():
    from course_lib.diagnostics import orders_of_magnitude_per_1000_frames as rate

    frames = np.arange(0, 8000, 250)
    assert rate(frames, 3.0 * 10 ** (frames / 500)) == pytest.approx(2.0)  # x100 per 1,000 frames
    assert rate(frames, np.full(len(frames), 7.0)) == pytest.approx(0.0, abs=1e-12)
    crashed = 10.0 ** (frames / 1000)
    crashed[-2:] = [np.inf, np.nan]  # a crash's last rows are left out
    assert rate(frames, crashed) == pytest.approx(1.0)
    assert np.isnan(rate([0, 250], [1.0, np.nan]))
    with pytest.raises(ValueError, match="same length"):
        rate([0, 1, 2], [1.0, 2.0])


def test_spectral_heatmap_layers_by_frames_with_one_colour_scale(runs):
    train = plots.read_train_logs(runs)
    crashed = train["nonfinite"] == 1
    train.loc[crashed, "sigma/critic/q1.output"] = np.inf  # a diverged layer: left out, not averaged
    fig = plots.plot_spectral_heatmap(train)
    panels = [ax for ax in fig.axes if ax.get_xlabel() == "environment frames"]
    assert [ax.get_title() for ax in panels] == ["modern4 (n=2)", "modern4+sn (n=2)"]
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["input", "b0.w1", "b0.w2", "output"]
    grid = np.asarray(panels[0].collections[0].get_array()).reshape(4, 4)  # layers x frames
    np.testing.assert_allclose(grid[0], np.log10(2.0))  # input layer: sigma 2 in both runs, every frame
    np.testing.assert_allclose(grid[3, 3], np.log10(8.0))  # output at the crash frame: the finite run only
    sn_grid = np.asarray(panels[1].collections[0].get_array()).reshape(4, 4)
    np.testing.assert_allclose(sn_grid[:, 0], np.log10([1, 2, 3, 4]))
    limits = {ax.collections[0].get_clim() for ax in panels}
    assert len(limits) == 1 and limits.pop() == pytest.approx((-np.log10(8.0), np.log10(8.0)))  # centred on sigma = 1
    assert "log10" in fig.axes[-1].get_ylabel()  # the colorbar
    plt.close(fig)
    with pytest.raises(ValueError, match="sigma/encoder"):
        plots.plot_spectral_heatmap(train, network="encoder")
