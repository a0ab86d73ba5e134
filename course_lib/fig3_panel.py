"""Notebook 08's live Fig. 3: train the CPU-scale setting and redraw the paper's four panels.

The paper's Fig. 3 (Sec. 3.4) follows four quantities over training: the critic loss (eq. 2), the
return, and the gradient norms of the actor and of the critic (log scale). At CPU scale the same
failure shows with SAC from *states* on ``cartpole_swingup`` and a deep modern critic at a raised
learning rate (the setting of ``results/cpu_fig3/``: action repeat 4, hidden width 128, batch 128,
learning rate 8e-3, modern heads: critic ``depth`` blocks, actor ``max(1, depth // 2)``).

* :func:`fig3_config` / :func:`run_fig3` -- the plain functions: one run of that setting (a notebook
  cell calls :func:`run_fig3` directly, so the notebook tests run the same code as the panel);
* :func:`plot_fig3` / :func:`show_fig3` -- the four panels for one or more runs (finished, or the
  row lists a :func:`course_lib.train.train` callback receives while a run goes on);
* :class:`Fig3Panel` -- critic depth, SN, learning rate, seed and frame budget -> a run in a
  background thread, redrawn as it goes; earlier runs stay in the plot (up to
  :data:`MAX_RUNS`) so that SN on and off can be compared.

Evaluation and logging do not touch the training random streams, so a panel run repeats the stored
run of the same seed (on the same machine and code) however often it evaluates and logs.
"""
from __future__ import annotations

import io
import time

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_lib import plots
from course_lib.config import TrainConfig
from course_lib.results import config_name
from course_lib.run_panel import BackgroundRunPanel

__all__ = ["FIG3_FRAMES", "FIG3_SETTING", "MAX_RUNS", "LR_CHOICES", "REDRAW_SECONDS", "fig3_config", "run_fig3", "fig3_label",
           "fig3_tables", "plot_fig3", "show_fig3", "format_fig3_run", "Fig3Panel"]

#: The panel's default frame budget. 16k frames = 1,000 seed steps + 3,000 updates at action
#: repeat 4: 60 s of CPU at 20 ms per modern8+SN update, plus about 35 s for the environment,
#: evaluations and logging (24 s measured with ``tools/bench_fig3_panel.py``) and about 20 redraws
#: (0.6 s each), so about 1.5 minutes on one core of the machine that measured it. On a slower
#: 2-core AMD EPYC VM (2026-12-02) the whole run took 210 s: 52.6 ms per update, 31 redraws of
#: 0.84 s, 25 s for the rest. It ends past 12k frames, where the crashed runs of
#: the stored experiment crashed. Change it here.
FIG3_FRAMES = 16_000
#: The stored CPU Fig. 3 experiment's settings (results/cpu_fig3/README.md), except that the live
#: run evaluates and logs more often (which does not change the training itself).
FIG3_SETTING = dict(agent="sac", obs="state", task="cartpole_swingup", arch="modern", action_repeat=4,
                    hidden_dim=128, batch_size=128, eval_every_frames=4000, log_every_frames=250,
                    video=False, out=None, device="cpu")
#: Runs kept in the panel's plot (the legends stay readable).
MAX_RUNS = 4
#: The panel's learning rates: DrQ's 1e-3, the stress setting 8e-3, and between.
LR_CHOICES = (1e-3, 3e-3, 8e-3)
#: Seconds between two live redraws of the panel (a redraw takes about a second of CPU, in the
#: training thread); evaluations and the end of a run are always drawn.
REDRAW_SECONDS = 5.0


def fig3_config(depth: int = 8, sn: bool = False, lr: float = 8e-3, seed: int = 4, frames: int = FIG3_FRAMES,
                **overrides) -> TrainConfig:
    """The CPU-scale Fig. 3 run as a resolved :class:`TrainConfig` (``overrides`` set other fields).

    Raises ``ValueError`` (one line) for a bad depth, learning rate or budget.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 16:
        raise ValueError(f"depth must be a whole number of residual blocks from 1 to 16, got {depth!r}")
    if not (isinstance(lr, (int, float)) and 0 < lr < 1):
        raise ValueError(f"lr must be a learning rate in (0, 1), e.g. 8e-3, got {lr!r}")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ValueError(f"frames must be a whole number of environment frames >= 1, got {frames!r}")
    settings = {**FIG3_SETTING, "depth": depth, "sn": bool(sn), "lr": float(lr), "seed": int(seed),
                "frames": frames, **overrides}
    return TrainConfig(**settings).resolved()


def run_fig3(depth: int = 8, sn: bool = False, lr: float = 8e-3, seed: int = 4, frames: int = FIG3_FRAMES,
             callback=None, stop=None, **overrides):
    """Train one CPU-scale Fig. 3 run (:func:`fig3_config`) and return its ``RunResult``.

    ``callback(event)`` is called after every evaluation and diagnostics row
    (:func:`course_lib.train.train`); ``stop`` (a ``threading.Event``) ends the run early.
    """
    from course_lib.train import train

    return train(fig3_config(depth, sn, lr, seed, frames, **overrides), progress=False, callback=callback,
                 stop=stop)


def fig3_label(config: TrainConfig) -> str:
    """``"modern8+sn, lr 8e-3, seed 4"``: what the legends call a run."""
    return f"{config_name(config.arch, config.depth, config.sn)}, lr {config.lr:g}, seed {config.seed}"


def _rows(table) -> pd.DataFrame:
    frame = pd.DataFrame(table).replace("", np.nan)
    return frame.apply(pd.to_numeric, errors="coerce") if len(frame) else frame


def fig3_tables(runs: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``{label: (eval rows, train rows)}`` -> the ``(train, curves)`` tables of
    :func:`course_lib.plots.plot_training_dynamics`, grouped by ``config`` = the label (one run
    each: its return is the curve, with no error band; a crash row carries the last return)."""
    trains, curves = [], []
    for label, (eval_rows, train_rows) in runs.items():
        train, evals = _rows(train_rows), _rows(eval_rows)
        if len(train):
            trains.append(train.assign(config=label, run_dir=label))
        if len(evals):
            curves.append(evals.assign(config=label, mean=evals["eval_return"], se=np.nan, n=1))
    train = pd.concat(trains, ignore_index=True) if trains else pd.DataFrame()
    curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return train, curve


def plot_fig3(runs: dict, axes=None, frame_budget: int | None = None):
    """Fig. 3's four panels for ``{label: (eval rows, train rows)}`` (DataFrames or row lists).

    Draws into four ``axes`` (critic loss, return, actor and critic gradient norms) or a new pyplot
    figure; returns the figure. ``frame_budget`` fixes the x axes to the whole run, so that a live
    plot fills in from the left. Before the first diagnostics row the panels say "no data yet".
    """
    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(10, 6.5))
        axes = axes.ravel()
    train, curves = fig3_tables(runs)
    if len(train):
        groups = [label for label in runs if label in set(train["config"])]  # a new run may have no row yet
        plots.plot_training_dynamics(train, curves if len(curves) else None, groups=groups, show_runs=False,
                                     axes=axes)
        for ax in axes:  # one run per label: "(n=1)" says nothing
            for text in (ax.get_legend().get_texts() if ax.get_legend() else []):
                text.set_text(text.get_text().removesuffix(" (n=1)"))
    else:
        for ax, title in zip(axes, ("critic loss, eq. (2)", "eval return", "actor gradient norm",
                                    "critic gradient norm")):
            ax.set_title(title)
            ax.set_xlabel("environment frames")
            ax.text(0.5, 0.5, "no data yet (the seed phase runs first)", ha="center", va="center",
                    transform=ax.transAxes, color="gray")
    if frame_budget:
        for ax in axes:
            ax.set_xlim(-0.02 * frame_budget, 1.02 * frame_budget)
    fig = axes[0].figure
    fig.suptitle("Fig. 3 at CPU scale, live: does the critic loss, or the gradient norm, run away?", fontsize=11)
    fig.tight_layout()
    return fig


def format_fig3_run(result) -> str:
    """A run's outcome in a few deterministic lines: status, returns, the last diagnostics."""
    train, evals = _rows(result.train), _rows(result.eval)
    lines = [f"{fig3_label(result.config)}: {result.status} after {result.frames_done:,} frames "
             f"({len(train)} diagnostics rows, {len(evals)} evaluations)"]
    if len(evals):
        lines.append("  eval returns: " + ", ".join(
            f"{int(r.frame):,}: {r.eval_return:.0f}{' (crash)' if r.crashed else ''}" for r in evals.itertuples()))
    finite = train[train.get("nonfinite", 0) == 0] if len(train) else train
    if len(finite):
        last = finite.iloc[-1]
        lines.append(f"  last finite row (frame {int(last.frame):,}): critic loss {last.critic_loss:.3g}, "
                     f"actor grad norm {last.actor_grad_norm:.3g}, critic grad norm {last.critic_grad_norm:.3g}")
    return "\n".join(lines)


def show_fig3(results) -> None:
    """Notebook cell version of the panel: print :func:`format_fig3_run` per run, show the figure.

    ``results``: one ``RunResult`` or a list of them.
    """
    results = results if isinstance(results, (list, tuple)) else [results]
    for result in results:
        print(format_fig3_run(result))
    plot_fig3({fig3_label(r.config): (r.eval, r.train) for r in results},
              frame_budget=max(r.config.frames for r in results))
    plt.show()


def _fig3_png(runs: dict, frame_budget: int) -> bytes:
    fig = Figure(figsize=(10, 6.5))  # not pyplot: safe in a background thread, never auto-displayed
    FigureCanvasAgg(fig)
    plot_fig3(runs, fig.subplots(2, 2).ravel(), frame_budget)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    return buffer.getvalue()


class Fig3Panel(BackgroundRunPanel):
    """Critic depth, SN, learning rate, seed and frame budget -> a live CPU-scale Fig. 3 run.

    ``display(panel)`` shows it. **Run** trains :func:`run_fig3` in a background thread and
    redraws the four panels after every evaluation and, at most every :data:`REDRAW_SECONDS`,
    after a diagnostics row; **Stop** ends the run
    early; **Clear** forgets the earlier runs (the last :data:`MAX_RUNS` stay in the plot, so a run
    with SN can be drawn over one without). ``panel.run(wait=True)`` does the same from code;
    ``panel.results`` holds the finished runs' ``RunResult`` s, newest last.
    """

    busy_buttons = ("clear_button",)

    def __init__(self, depth: int = 8, sn: bool = False, lr: float = 8e-3, seed: int = 4,
                 frames: int = FIG3_FRAMES):
        style = {"description_width": "initial"}
        self.depth = W.IntSlider(value=depth, min=1, max=12, description="critic depth (blocks)", style=style)
        self.sn = W.Checkbox(value=sn, description="spectral norm (all but first and last Linear)", style=style)
        self.lr = W.Dropdown(options=[(f"{v:g}", v) for v in LR_CHOICES], value=lr, description="learning rate",
                             style=style)
        self.seed = W.BoundedIntText(value=seed, min=0, max=10_000, description="seed", style=style,
                                     layout=W.Layout(width="120px"))
        self.frames = W.BoundedIntText(value=frames, min=4_500, max=200_000, step=1_000, description="frames",
                                       style=style, layout=W.Layout(width="180px"))
        self.run_button = W.Button(description="Run", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="warning", icon="stop", disabled=True)
        self.clear_button = W.Button(description="Clear", icon="trash")
        self.status = W.HTML(value="<i>SAC from states, cartpole_swingup, hidden 128, batch 128, action repeat 4; "
                                   "the first 4,000 frames are random actions (no updates). Press Run.</i>")
        self.output = W.Output()
        self.widget = W.VBox([W.HBox([self.depth, self.sn]),
                              W.HBox([self.lr, self.seed, self.frames, self.run_button, self.stop_button,
                                      self.clear_button]),
                              self.status, self.output])
        self.clear_button.on_click(lambda _: self.clear())
        self._init_run_state()
        self._finished: dict = {}  # label -> (eval, train) of the runs kept in the plot
        self.results: list = []

    def summary(self) -> str:
        return (f"Fig3Panel(modern{self.depth.value}{'+sn' if self.sn.value else ''}, "
                f"lr {self.lr.value:g}, seed {self.seed.value}, {self.frames.value:,} frames): "
                "run the notebook to use it")

    def arguments(self) -> dict:
        """The controls as the arguments of :func:`run_fig3`."""
        return dict(depth=self.depth.value, sn=self.sn.value, lr=self.lr.value, seed=self.seed.value,
                    frames=self.frames.value)

    def clear(self) -> None:
        """Forget the earlier runs (not while one is running)."""
        if not self.running:
            self._finished = {}
            self.output.outputs = ()

    def _check(self, arguments: dict) -> TrainConfig:
        return fig3_config(**arguments)

    def _begin(self, config: TrainConfig) -> None:
        self._label, self._budget = fig3_label(config), config.frames
        self._finished.pop(self._label, None)  # a rerun replaces its old curve
        while len(self._finished) >= MAX_RUNS:
            self._finished.pop(next(iter(self._finished)))
        self._draw([], [])
        self.status.value = f"running {self._label}: the seed phase of random actions first"

    def _execute(self, arguments: dict, callback, stop):
        return run_fig3(**arguments, callback=callback, stop=stop)

    def _finish(self, result, seconds: float) -> None:
        self.results.append(result)
        self._finished[self._label] = (result.eval, result.train)
        self._draw(None, None)
        last = result.last_return
        crash = f" (crashed at {result.crash_frame:,} frames)" if result.status == "crashed" else ""
        self.status.value = (f"{self._label}: {result.status}{crash} after {result.frames_done:,} frames"
                             f"{'' if last is None else f'; last eval return {last:.0f}'} ({seconds:.0f} s)")

    def _on_event(self, event) -> None:
        now = time.perf_counter()
        if event.kind == "eval" or now - self._last_draw >= REDRAW_SECONDS:
            self._draw(event.eval_rows, event.train_rows)
            self._last_draw = time.perf_counter()
        self.status.value = f"{self._label}: frame {event.frame:,} / {event.config.frames:,}{self._speed(event.frame)}"

    def _draw(self, eval_rows, train_rows) -> None:
        runs = dict(self._finished)
        if eval_rows is not None:
            runs[self._label] = (list(eval_rows), list(train_rows))
        budget = max([self._budget] + [int(_rows(e)["frame"].max()) for e, _ in self._finished.values()
                                       if len(e)])
        png = _fig3_png(runs, budget)
        self.output.outputs = ()
        self.output.append_display_data(Image(data=png, format="png"))
