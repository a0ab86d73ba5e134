"""Notebook 08's live Fig. 3 (course_lib.fig3_panel): the setting, the plot, the panel's logic.

The panel's own logic (background thread, redraws, earlier runs kept, Stop, errors) is tested
against a stand-in for ``run_fig3``; one short real run checks that the plain function trains the
stored experiment's setting and that its tables feed the four panels.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from course_lib import fig3_panel as F  # noqa: E402
from course_lib.train import Event, RunResult, _frame_table  # noqa: E402
from tests.displayed import displayed  # noqa: E402

STORED = Path(__file__).resolve().parents[1] / "results" / "cpu_fig3" / "runs"


def test_config_is_the_stored_experiments_setting():
    config = F.fig3_config(depth=8, sn=True, seed=3)
    stored = next(json.loads(p.read_text()) for p in sorted(STORED.rglob("config.json"))
                  if json.loads(p.read_text())["depth"] == 8 and json.loads(p.read_text())["sn"])
    training = ["agent", "obs", "task", "arch", "depth", "sn", "actor_arch", "actor_depth", "actor_sn",
                "hidden_dim", "action_repeat", "batch_size", "lr", "discount", "tau", "n_step", "seed_frames",
                "target_update_every", "actor_update_every", "update_every", "init_temperature", "eval_episodes"]
    assert {k: getattr(config, k) for k in training} == {k: stored[k] for k in training}
    assert config.frames == F.FIG3_FRAMES and config.out is None and config.video is False
    assert F.fig3_config(depth=4).actor_depth == 2  # the paper's critic / actor ratio of modern blocks
    for bad in (dict(depth=0), dict(depth=True), dict(lr=0.0), dict(frames=0), dict(frames=3.5)):
        with pytest.raises(ValueError):
            F.fig3_config(**bad)


def test_the_default_budget_fits_two_minutes_at_20_ms_per_update():
    config = F.fig3_config()
    updates = (config.frames - config.seed_frames) // config.action_repeat
    assert updates * 0.020 <= 90  # seconds of updates, leaving 30 s for the environment, evaluations, plots
    assert config.frames > 12_000  # past the frame where the stored no-SN runs crashed


def test_plot_draws_four_labelled_panels_and_an_empty_state():
    evals = [{"frame": 0, "eval_return": 30.0, "crashed": 0}, {"frame": 4000, "eval_return": 60.0, "crashed": 0},
             {"frame": 5000, "eval_return": 60.0, "crashed": 1}]
    train = [{"frame": f, "critic_loss": 0.1 * f, "actor_grad_norm": 10.0 ** (f / 1000), "critic_grad_norm": 2.0,
              "nonfinite": int(f == 5000)} for f in (4250, 4500, 4750, 5000)]
    train[-1]["critic_loss"] = float("inf")
    axes = Figure().subplots(2, 2).ravel()
    F.plot_fig3({"modern8, lr 0.008, seed 4": (evals, train), "modern8+sn, lr 0.008, seed 4": (evals[:2], train[:3])},
                axes, frame_budget=16_000)
    loss, returns, actor, critic = axes
    assert [ax.get_yscale() for ax in (loss, actor, critic)] == ["log"] * 3
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert [t.get_text() for t in actor.get_legend().get_texts()] == ["modern8, lr 0.008, seed 4",
                                                                       "modern8+sn, lr 0.008, seed 4"]
    assert actor.get_xlim()[1] == pytest.approx(16_320)
    marks = [offset.tolist() for c in actor.collections for offset in c.get_offsets()]
    assert [5000.0, 1e5] in marks  # the crash: an x at the run's last finite value
    empty = Figure().subplots(2, 2).ravel()
    F.plot_fig3({"modern8, lr 0.008, seed 4": ([], [])}, empty)
    assert "no data yet" in empty[0].texts[0].get_text()


def _fake_run(events: int, fail: bool = False):
    """A stand-in for run_fig3: diagnostics rows and evaluations until stopped."""
    calls = []

    def run(callback=None, stop=None, **arguments):
        calls.append(arguments)
        config = F.fig3_config(**arguments)
        eval_rows, train_rows = [{"frame": 0, "eval_return": 10.0, "crashed": 0}], []
        for i in range(1, events + 1):
            if stop.is_set():
                break
            if fail and i == 2:
                raise RuntimeError("the physics engine went away")
            train_rows.append({"frame": 4000 + 250 * i, "critic_loss": 0.5, "actor_grad_norm": 0.1 * i,
                               "critic_grad_norm": 0.2, "nonfinite": 0})
            callback(Event("log", train_rows[-1]["frame"], train_rows[-1], eval_rows, train_rows, config))
            time.sleep(0.01)
        status = "stopped" if stop.is_set() else "complete"
        return RunResult(config, status, 4000 + 250 * len(train_rows),
                         _frame_table(eval_rows, ["frame", "eval_return", "crashed"]),
                         _frame_table(train_rows, ["frame", "critic_loss", "actor_grad_norm", "critic_grad_norm",
                                                   "nonfinite"]))

    return run, calls


def test_panel_runs_in_the_background_and_keeps_earlier_runs(monkeypatch):
    run, calls = _fake_run(events=3)
    monkeypatch.setattr(F, "run_fig3", run)
    panel = F.Fig3Panel(frames=8000)
    assert displayed(panel)["text/plain"].startswith("Fig3Panel(modern8, lr 0.008, seed 4, 8,000 frames)")
    panel.run(wait=True)
    panel.sn.value = True
    panel.run(wait=True)
    assert calls == [dict(depth=8, sn=False, lr=8e-3, seed=4, frames=8000), dict(depth=8, sn=True, lr=8e-3, seed=4,
                                                                                frames=8000)]
    assert list(panel._finished) == ["modern8, lr 0.008, seed 4", "modern8+sn, lr 0.008, seed 4"]
    assert [r.status for r in panel.results] == ["complete", "complete"] and panel.error is None
    assert panel.status.value.startswith("modern8+sn, lr 0.008, seed 4: complete after 4,750 frames")
    assert "image/png" in panel.output.outputs[0]["data"]
    monkeypatch.setattr(F, "_fig3_png", lambda runs, budget: b"")  # the plot was checked above; be quick
    for depth in range(1, F.MAX_RUNS + 2):  # only the last MAX_RUNS stay in the plot
        panel.depth.value = depth
        panel.run(wait=True)
    assert len(panel._finished) == F.MAX_RUNS
    panel.clear()
    assert panel._finished == {} and panel.output.outputs == ()


def test_panel_redraws_at_most_every_few_seconds(monkeypatch):
    run, _ = _fake_run(events=6)
    monkeypatch.setattr(F, "run_fig3", run)
    draws = []
    monkeypatch.setattr(F, "_fig3_png", lambda runs, budget: draws.append(dict(runs)) or b"")
    F.Fig3Panel(frames=8000).run(wait=True)
    assert len(draws) == 2  # at the start and at the end: six quick rows in between are skipped
    monkeypatch.setattr(F, "REDRAW_SECONDS", 0.0)
    draws.clear()
    F.Fig3Panel(frames=8000).run(wait=True)
    assert len(draws) == 8 and [len(d["modern8, lr 0.008, seed 4"][1]) for d in draws[1:-1]] == [1, 2, 3, 4, 5, 6]


def test_panel_stop_errors_and_bad_settings(monkeypatch):
    monkeypatch.setattr(F, "_fig3_png", lambda runs, budget: b"")
    run, _ = _fake_run(events=10_000)
    monkeypatch.setattr(F, "run_fig3", run)
    panel = F.Fig3Panel(frames=8000)
    panel.run()
    deadline = time.monotonic() + 10
    while "frame 4," not in panel.status.value and time.monotonic() < deadline:
        time.sleep(0.02)
    assert panel.running and panel.run_button.disabled and panel.clear_button.disabled
    panel.stop_button.click()
    panel._thread.join(timeout=10)
    assert panel.results[-1].status == "stopped" and not panel.running

    run, _ = _fake_run(events=5, fail=True)
    monkeypatch.setattr(F, "run_fig3", run)
    panel.run(wait=True)
    assert isinstance(panel.error, RuntimeError) and "the physics engine went away" in panel.status.value
    monkeypatch.setattr(F, "fig3_config", lambda **kw: (_ for _ in ()).throw(ValueError("depth must be ...")))
    panel.run()
    assert panel.status.value == "<b>Cannot run:</b> depth must be ..."


def test_a_short_real_run_feeds_the_four_panels():
    seen = []
    result = F.run_fig3(depth=1, sn=True, seed=0, frames=1200, seed_frames=800, eval_every_frames=600,
                        eval_episodes=1, callback=lambda event: seen.append(event.kind))
    assert result.status == "complete" and result.frames_done == 1200
    assert seen.count("log") == len(result.train) >= 1 and seen.count("eval") == len(result.eval) == 3
    text = F.format_fig3_run(result)
    assert text.startswith("modern1+sn, lr 0.008, seed 0: complete after 1,200 frames")
    fig = Figure()
    F.plot_fig3({F.fig3_label(result.config): (result.eval, result.train)}, fig.subplots(2, 2).ravel())
    assert all(ax.get_lines() for ax in fig.axes[:4])
