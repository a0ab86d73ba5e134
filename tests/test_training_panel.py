"""Notebook 06/07's training panel and its plain functions (course_lib.widgets, course_lib.plots).

The real pixel run behind the panel is exercised by notebooks 06 and 07 (nbval) and, through the
browser, by tests/test_browser.py; here the panel's own logic is tested against a stand-in for the
plain function: background thread, live redraws, status line, Stop, errors.
"""
from __future__ import annotations

import threading
import time

import matplotlib
import pytest

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from course_lib import plots, widgets  # noqa: E402
from course_lib.train import Event, RunResult, _frame_table  # noqa: E402
from tests.displayed import displayed  # noqa: E402


def test_quick_config_changes_only_the_budget(monkeypatch):
    monkeypatch.delenv(widgets.QUICK_FRAMES_ENV, raising=False)
    sac = widgets.pixel_run_config("sac", quick=True)
    assert (sac.frames, sac.batch_size, sac.seed_frames, sac.eval_episodes, sac.eval_every_frames) == \
        (widgets.QUICK_FRAMES, widgets.QUICK_BATCH, widgets.QUICK_FRAMES // 2, 1, widgets.QUICK_FRAMES)
    # The paper's (DrQ's) settings otherwise: 84x84, stack 3, repeat 2, width 1024, K = M = 2.
    assert (sac.image_size, sac.frame_stack, sac.action_repeat, sac.hidden_dim) == (84, 3, 2, 1024)
    assert (sac.target_augs, sac.critic_augs, sac.lr, sac.out, sac.video) == (2, 2, 1e-3, None, False)
    ddpg = widgets.pixel_run_config("ddpg", arch="modern", depth=4, sn=True, quick=True)
    assert (ddpg.n_step, ddpg.lr, ddpg.actor_arch, ddpg.actor_depth, ddpg.actor_sn) == (3, 1e-4, "modern", 2, True)


def test_full_config_is_the_papers():
    sac = widgets.pixel_run_config("sac", quick=False)
    assert (sac.frames, sac.batch_size, sac.eval_episodes, sac.eval_every_frames) == (500_000, 512, 10, 10_000)


def test_quick_frames_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(widgets.QUICK_FRAMES_ENV, "200")
    assert widgets.quick_frames() == 200
    assert widgets.pixel_run_config(quick=True).frames == 200
    assert widgets.TrainingPanel(quick=True).frames.value == 200
    monkeypatch.setenv(widgets.QUICK_FRAMES_ENV, "lots")
    with pytest.raises(ValueError, match="DEEPER_RL_QUICK_FRAMES"):
        widgets.quick_frames()
    with pytest.raises(ValueError, match="frames must be"):
        widgets.pixel_run_config(frames=10, quick=True)


def test_plot_runs_draws_returns_crashes_and_gradient_norms():
    evals = [{"frame": 0, "eval_return": 30.0, "crashed": 0}, {"frame": 400, "eval_return": 60.0, "crashed": 0},
             {"frame": 500, "eval_return": 60.0, "crashed": 1}]
    train = [{"frame": f, "critic_loss": 1.0 / f, "actor_grad_norm": 0.1 * f, "critic_grad_norm": 2.0,
              "alpha": ""} for f in (100, 200, 300)]
    axes = Figure().subplots(1, 3)
    plots.plot_runs({"mlp2": (evals, train)}, axes, ("return", "critic_loss", "grad_norms"), frame_budget=800)
    returns, losses, norms = axes
    assert list(returns.get_lines()[0].get_xdata()) == [0, 400]  # the crash row is not a point of the curve
    assert returns.collections[0].get_offsets().tolist() == [[500.0, 60.0]]  # ... but a red x
    assert len(norms.get_lines()) == 2 and norms.get_yscale() == "log" and losses.get_yscale() == "log"
    assert returns.get_xlim()[1] == pytest.approx(816)
    empty = Figure().subplots(1, 2)
    plots.plot_runs({"mlp2": ([], [])}, empty)  # a live plot before the first evaluation
    assert empty[0].texts[0].get_text() == "no data yet"
    with pytest.raises(ValueError, match="panels"):
        plots.plot_runs({"x": ([], [])}, Figure().subplots(1, 2), ("return", "q_values"))


def _fake_run(events: int, fail: bool = False):
    """A stand-in for run_pixel_agent: one evaluation, then diagnostics rows until stopped."""
    calls = []

    def run(callback=None, stop=None, **arguments):
        calls.append(arguments)
        config = widgets.pixel_run_config(**arguments)
        eval_rows, train_rows = [], []
        for i in range(events):
            if stop.is_set():
                break
            if i == 0:
                eval_rows.append({"frame": 0, "eval_return": 12.5, "crashed": 0})
                row = eval_rows[-1]
            else:
                if fail and i == 2:
                    raise RuntimeError("the GL context went away")
                train_rows.append({"frame": 50 * i, "critic_loss": 0.5, "actor_grad_norm": 0.1 * i,
                                   "critic_grad_norm": 0.2, "alpha": 0.1, "nonfinite": 0})
                row = train_rows[-1]
            callback(Event("eval" if i == 0 else "log", row["frame"], row, eval_rows, train_rows, config))
            time.sleep(0.01)
        status = "stopped" if stop.is_set() else "complete"
        return RunResult(config, status, 50 * len(train_rows), _frame_table(eval_rows, ["frame", "eval_return", "crashed"]),
                         _frame_table(train_rows, ["frame", "critic_loss", "actor_grad_norm", "critic_grad_norm"]))

    return run, calls


def test_panel_trains_in_the_background_with_live_redraws(monkeypatch):
    run, calls = _fake_run(events=5)
    monkeypatch.setattr(widgets, "run_pixel_agent", run)
    panel = widgets.TrainingPanel(agent="ddpg", arch="modern", depth=4, sn=True, frames=400, seed=3, quick=True)
    assert "TrainingPanel(ddpg, cartpole_swingup, modern4 + SN)" in displayed(panel)["text/plain"]
    panel.run(wait=True)
    assert calls == [dict(agent="ddpg", task="cartpole_swingup", arch="modern", depth=4, sn=True, frames=400,
                          seed=3, quick=True)]
    assert panel.result.status == "complete" and panel.error is None
    assert panel.status.value.startswith("complete after 200 frames; last eval return 12.5")
    assert [o["output_type"] for o in panel.output.outputs] == ["display_data"]
    assert "image/png" in panel.output.outputs[0]["data"]
    assert not panel.run_button.disabled and panel.stop_button.disabled


def test_panel_stop_button_ends_the_run(monkeypatch):
    run, _ = _fake_run(events=10_000)
    monkeypatch.setattr(widgets, "run_pixel_agent", run)
    panel = widgets.TrainingPanel(quick=True, frames=400)
    panel.run()
    deadline = time.monotonic() + 10
    while "last eval return" not in panel.status.value and time.monotonic() < deadline:
        time.sleep(0.02)
    assert panel.running and panel.run_button.disabled
    assert panel.status.value.startswith("frame ")
    panel.run()  # a second press while running is ignored
    panel.stop_button.click()
    panel._thread.join(timeout=10)
    assert panel.result.status == "stopped" and not panel.running


def test_panel_shows_errors_and_bad_settings(monkeypatch):
    run, _ = _fake_run(events=5, fail=True)
    monkeypatch.setattr(widgets, "run_pixel_agent", run)
    panel = widgets.TrainingPanel(quick=True, frames=400)
    panel.run(wait=True)
    assert isinstance(panel.error, RuntimeError)
    assert "error:</b> RuntimeError: the GL context went away" in panel.status.value
    assert not panel.run_button.disabled
    panel.frames.value = 40
    panel.depth.value = 1
    panel.arch.value = "modern"
    panel.task.value = "walker_walk"
    assert widgets.pixel_run_config(**panel.arguments()).actor_depth == 1
    threads = threading.active_count()
    monkeypatch.setattr(widgets, "pixel_run_config", lambda **kw: (_ for _ in ()).throw(ValueError("no such task")))
    panel.run()
    assert panel.status.value == "<b>Cannot run:</b> no such task" and threading.active_count() == threads
