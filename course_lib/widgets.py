"""Interactive panels for the notebooks: thin ipywidgets shells around plain functions.

Every panel calls a plain function (that a notebook cell also calls directly, so nbval tests the
same code) and renders the result. Panels write their results into an ``Output`` widget's *state*
(``Output.outputs``), never through ``with output:``: captured prints would reach the notebook
file through nbclient but the cell output through nbval, and the strict comparison would differ.

Sections: notebook 05 (head panel). Notebook 06 adds its own section below.
"""
from __future__ import annotations

import io

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_lib import lipschitz, nets
from course_lib.panel import Panel

__all__ = ["format_head_report", "plot_head_report", "show_head_report", "HeadPanel"]

HIDDEN_CHOICES = [64, 128, 256]


# --------------------------------------------------------------------------------------------
# Notebook 05: one critic head, its Lipschitz bounds and measured gradients
# --------------------------------------------------------------------------------------------

def format_head_report(report: lipschitz.HeadReport) -> str:
    """The report as short text with rounded numbers (deterministic, for nbval and the panel)."""
    s = report.summary.iloc[0]
    lines = [
        f"{s.arch} head, depth {s.depth}, hidden {s.hidden}, SN {'on' if s.sn else 'off'}, weight gain {s.gain:.2f}: "
        f"{s.params:,} parameters",
        f"  Lipschitz upper bound, eq. (5) (global):           {s.bound:.3g}",
        f"  upper bound on the sampled region (LayerNorm std): {s.region_bound:.3g}",
        f"  measured Lipschitz estimate, max ||dQ/da||:        {s.measured_lipschitz:.3g}  "
        f"(mean {s.mean_dq_da:.3g})",
        "  per layer: sigma_max of the effective weight | norm of the weight's gradient",
    ]
    for row in report.layers.itertuples():
        tag = " (SN)" if row.sn else ""
        lines.append(f"    {row.layer + tag:<24} {row.sigma_max:8.3f} | {row.grad_norm:.3g}")
    return "\n".join(lines)


def plot_head_report(report: lipschitz.HeadReport, axes) -> None:
    """Draw the ``||dQ/da||`` histogram (with the bounds) and the per-layer bars into two axes."""
    s = report.summary.iloc[0]
    ax = axes[0]
    ax.hist(report.dq_da, bins=40, color="tab:blue", alpha=0.8)
    ax.axvline(s.measured_lipschitz, color="k", ls="--", label=f"measured max {s.measured_lipschitz:.3g}")
    for value, name, color in [(s.region_bound, "region bound", "tab:orange"), (s.bound, "eq. (5) bound", "tab:red")]:
        if value <= 20 * s.measured_lipschitz:  # far-away bounds would squash the histogram
            ax.axvline(value, color=color, label=f"{name} {value:.3g}")
        else:
            ax.plot([], [], color=color, label=f"{name} {value:.3g} (off the axis)")
    ax.set_xlabel("||dQ/da|| per sample")
    ax.set_ylabel("samples")
    ax.legend(fontsize=7)
    ax.set_title(f"{s.arch}{s.depth}{' + SN' if s.sn else ''}: gradient into the actor", fontsize=9)

    ax = axes[1]
    layers = report.layers
    x = list(range(len(layers)))
    ax.semilogy(x, layers.sigma_max, "s-", ms=4, label="sigma_max of the weight used")
    ax.semilogy(x, layers.grad_norm, "o-", ms=4, label="||dL/dW|| (regression loss)")
    ax.set_xticks(x)
    ax.set_xticklabels([name.replace("blocks.", "b").replace(".branch", "") for name in layers.layer],
                       rotation=60, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("sigma_max / gradient norm (log scale)")
    ax.legend(fontsize=7)
    ax.set_title("per Linear layer (input first)", fontsize=9)


def show_head_report(report: lipschitz.HeadReport) -> None:
    """Notebook cell version of the panel: print the text, show the figure."""
    print(format_head_report(report))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    plot_head_report(report, axes)
    fig.tight_layout()
    plt.show()


def _figure_png(report: lipschitz.HeadReport) -> bytes:
    fig = Figure(figsize=(10, 3.2))  # not pyplot: no global figure, no automatic display
    FigureCanvasAgg(fig)
    plot_head_report(report, fig.subplots(1, 2))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


class HeadPanel(Panel):
    """Architecture, depth, SN, width and weight gain of a random critic head -> :func:`lipschitz.head_report`.

    ``display(panel)`` shows it; moving a control recomputes the report (``panel.report``)
    and redraws. ``panel.update()`` does the same from code (tests use it).
    """

    def __init__(self, arch: str = "modern", depth: int = 4, sn: bool = False, hidden_dim: int = 256,
                 gain: float = 1.0, seed: int = 0):
        if hidden_dim not in HIDDEN_CHOICES:
            raise ValueError(f"hidden_dim must be one of {HIDDEN_CHOICES}, got {hidden_dim!r}")
        style = {"description_width": "initial"}
        self.arch = W.Dropdown(options=list(nets.ARCHS), value=arch, description="architecture", style=style)
        self.depth = W.IntSlider(value=depth, min=1, max=8, description="depth (layers / blocks)", style=style)
        self.sn = W.Checkbox(value=sn, description="spectral norm (all but first and last Linear)", style=style)
        # The paper's width is 1024; up to 256 here so that a CPU redraws within about a second
        # (exact spectral norms of 1024 x 2048 matrices take ~0.4 s each).
        self.hidden = W.Dropdown(options=HIDDEN_CHOICES, value=hidden_dim, description="hidden width",
                                 style=style)
        self.gain = W.FloatSlider(value=gain, min=0.5, max=2.0, step=0.1, description="weight gain",
                                  style=style)
        self.seed = seed
        self.output = W.Output()
        self.widget = W.VBox([W.HBox([self.arch, self.hidden, self.gain]), W.HBox([self.depth, self.sn]),
                              self.output])
        for control in (self.arch, self.depth, self.sn, self.hidden, self.gain):
            control.observe(lambda change: self.update(), names="value")
        self.report: lipschitz.HeadReport | None = None
        self.update()

    def summary(self) -> str:
        return (f"HeadPanel(arch={self.arch.value!r}, depth={self.depth.value}, sn={self.sn.value}, "
                f"hidden={self.hidden.value}, gain={self.gain.value:.1f}): run the notebook to use it")

    def update(self) -> lipschitz.HeadReport:
        """Recompute the report for the current controls and redraw the output."""
        self.report = lipschitz.head_report(self.arch.value, self.depth.value, self.sn.value,
                                            hidden_dim=self.hidden.value, gain=self.gain.value, seed=self.seed)
        self.output.outputs = ()
        self.output.append_stdout(format_head_report(self.report) + "\n")
        self.output.append_display_data(Image(data=_figure_png(self.report), format="png"))
        return self.report


# --------------------------------------------------------------------------------------------
# Notebook 06 (and 07): train a pixel agent with a live plot
# --------------------------------------------------------------------------------------------
# The plain function is run_pixel_agent(); a notebook cell calls it directly (nbval runs that
# cell), and TrainingPanel calls it when Run is pressed, in a background thread, drawing every
# evaluation and every diagnostics row as it arrives (so a Stop button keeps working).

import os  # noqa: E402  (kept inside this section)

import torch  # noqa: E402

from course_lib import envs, plots  # noqa: E402
from course_lib.config import TrainConfig  # noqa: E402
from course_lib.run_panel import BackgroundRunPanel  # noqa: E402

#: Frames of the quick CPU budget. The environment variable overrides it (the browser test sets a
#: smaller one); it is the panel's starting frame budget on a CPU.
QUICK_FRAMES_ENV = "DEEPER_RL_QUICK_FRAMES"
QUICK_FRAMES = 800
#: A CPU cannot train from pixels at the paper's scale (one DrQ update at batch 512 takes ~13 s on
#: 2 cores): the quick budget only shows the machinery working. Everything else keeps the paper's
#: settings (84x84 frames, stack 3, action repeat 2, hidden width 1024, K = M = 2 for SAC).
QUICK_BATCH = 8


def quick_frames() -> int:
    """The quick CPU frame budget: ``$DEEPER_RL_QUICK_FRAMES`` if set, else :data:`QUICK_FRAMES`."""
    value = os.environ.get(QUICK_FRAMES_ENV, "")
    try:
        return int(value) if value else QUICK_FRAMES
    except ValueError:
        raise ValueError(f"{QUICK_FRAMES_ENV} must be a whole number of frames, got {value!r}") from None


def pixel_run_config(agent: str = "sac", task: str = "cartpole_swingup", arch: str = "mlp", depth: int = 2,
                     sn: bool = False, frames: int | None = None, seed: int = 1, quick: bool | None = None,
                     **overrides) -> TrainConfig:
    """The configuration of a pixel run: the paper's settings, or a quick CPU budget.

    ``quick=None`` means quick exactly when PyTorch sees no GPU. Quick: ``frames`` defaults to
    :func:`quick_frames`, batch :data:`QUICK_BATCH`, half of the frames in the seed phase of
    random actions, an update every 2nd agent step, one evaluation episode at the start and one at
    the end, a diagnostics row every 1/16 of the budget. Not quick: the paper's budget of 500k
    frames with DrQ's (SAC: batch 512) or DrQ-v2's (DDPG) settings, evaluation every 10k frames.
    ``overrides`` set any other :class:`TrainConfig` field. Returns the resolved configuration.
    """
    if quick is None:
        quick = not torch.cuda.is_available()
    settings: dict = dict(agent=agent, obs="pixels", task=task, arch=arch, depth=depth, sn=sn, seed=seed,
                          video=False, out=None)
    if quick:
        frames = quick_frames() if frames is None else frames
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 40:
            raise ValueError(f"frames must be a whole number >= 40 for a quick run, got {frames!r}")
        settings.update(frames=frames, batch_size=QUICK_BATCH, seed_frames=frames // 2, update_every=2,
                        eval_every_frames=frames, eval_episodes=1, log_every_frames=max(2, frames // 16))
    elif frames is not None:
        settings["frames"] = frames
    settings.update(overrides)
    return TrainConfig(**settings).resolved()


def run_pixel_agent(agent: str = "sac", task: str = "cartpole_swingup", arch: str = "mlp", depth: int = 2,
                    sn: bool = False, frames: int | None = None, seed: int = 1, quick: bool | None = None,
                    callback=None, stop=None, **overrides):
    """Train an agent from pixels (:func:`pixel_run_config`) and return the ``RunResult``.

    ``callback(event)`` is called after every evaluation and every diagnostics row (see
    :func:`course_lib.train.train`); ``stop`` is a ``threading.Event`` that ends the run early.
    """
    from course_lib.train import train

    config = pixel_run_config(agent, task, arch, depth, sn, frames, seed, quick, **overrides)
    return train(config, progress=False, callback=callback, stop=stop)


def heads_label(config: TrainConfig) -> str:
    """The critic head as the paper names it: ``mlp2``, ``modern4 + SN``."""
    return f"{config.arch}{config.depth}{' + SN' if config.sn else ''}"


def describe_run_config(config: TrainConfig) -> str:
    """One line naming the heads and the budget of a run (deterministic text)."""
    return (f"{config.agent} from {config.obs}, {config.task}, critic {heads_label(config)}, actor "
            f"{config.actor_arch}{config.actor_depth}{' + SN' if config.actor_sn else ''}, hidden "
            f"{config.hidden_dim}: {config.frames:,} frames, batch {config.batch_size}, seed {config.seed}")


def format_run(result) -> str:
    """A run's outcome as short text with rounded numbers: status, evaluations, last diagnostics."""
    evals, train = plots._numeric(result.eval), plots._numeric(result.train)
    lines = [describe_run_config(result.config),
             f"status {result.status} after {result.frames_done:,} frames; "
             f"{len(train)} diagnostics rows, {len(evals)} evaluations"]
    for row in evals.itertuples():
        lines.append(f"  frame {int(row.frame):>7,}: eval return {row.eval_return:7.1f}"
                     + ("  (crash: last return before it)" if getattr(row, "crashed", 0) == 1 else ""))
    if len(train):
        last = train.iloc[-1]
        lines.append(f"  last diagnostics (frame {int(last.frame):,}): critic loss {last.critic_loss:.3g}, "
                     f"actor grad norm {last.actor_grad_norm:.3g}, critic grad norm {last.critic_grad_norm:.3g}")
    return "\n".join(lines)


def show_run(result, panels=("return", "grad_norms")) -> None:
    """Notebook cell version of the panel's plot: print :func:`format_run`, show the figure."""
    print(format_run(result))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.2), squeeze=False)
    plots.plot_runs({heads_label(result.config): (result.eval, result.train)}, axes[0], panels)
    fig.tight_layout()
    plt.show()


def _runs_png(label: str, eval_rows, train_rows, frame_budget: int, panels=("return", "grad_norms")) -> bytes:
    fig = Figure(figsize=(10, 3.2))  # not pyplot: safe in a background thread, never auto-displayed
    FigureCanvasAgg(fig)
    plots.plot_runs({label: (eval_rows, train_rows)}, fig.subplots(1, len(panels)), panels, frame_budget)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


class TrainingPanel(BackgroundRunPanel):
    """Task, head architecture, depth, SN, frame budget and seed -> a pixel run with a live plot.

    ``display(panel)`` shows it. **Run** trains (:func:`run_pixel_agent`) in a background thread
    and redraws eval return and gradient norms after every evaluation and diagnostics row; **Stop**
    ends the run early. On a CPU the budget is the quick one (:func:`pixel_run_config`); with a GPU
    the paper's (500k frames, batch 512 for SAC). ``panel.run(wait=True)`` does the same from code.
    After a run, ``panel.result`` holds its ``RunResult``.
    """

    def __init__(self, agent: str = "sac", task: str = "cartpole_swingup", arch: str = "mlp", depth: int = 2,
                 sn: bool = False, frames: int | None = None, seed: int = 1, quick: bool | None = None):
        self.agent = agent
        self.quick = (not torch.cuda.is_available()) if quick is None else quick
        if frames is None:
            frames = quick_frames() if self.quick else 500_000
        style = {"description_width": "initial"}
        self.task = W.Dropdown(options=list(envs.TASKS), value=task, description="task", style=style)
        self.arch = W.Dropdown(options=list(nets.ARCHS), value=arch, description="head", style=style)
        self.depth = W.IntSlider(value=depth, min=1, max=8, description="critic depth", style=style)
        self.sn = W.Checkbox(value=sn, description="spectral norm", style=style)
        self.frames = W.BoundedIntText(value=frames, min=40, max=3_000_000, step=100, description="frames",
                                       style=style, layout=W.Layout(width="180px"))
        self.seed = W.BoundedIntText(value=seed, min=0, max=10_000, description="seed", style=style,
                                     layout=W.Layout(width="120px"))
        self.run_button = W.Button(description="Run", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="warning", icon="stop", disabled=True)
        budget = ("CPU: quick budget (batch 8), the machinery only; to see learning on a CPU, use the CPU pixel "
                  "setting (run_pixel_agent(..., profile=\"cpu\"), about 25 minutes for SAC)"
                  if self.quick else "GPU: the paper's settings")
        self.status = W.HTML(value=f"<i>{budget}. Press Run.</i>")
        self.output = W.Output()
        self.widget = W.VBox([
            W.HBox([self.task, self.arch, self.depth, self.sn]),
            W.HBox([self.frames, self.seed, self.run_button, self.stop_button]),
            self.status, self.output])
        self._init_run_state()
        self.result = None

    def summary(self) -> str:
        return (f"TrainingPanel({self.agent}, {self.task.value}, {self.arch.value}{self.depth.value}"
                f"{' + SN' if self.sn.value else ''}): run the notebook to use it")

    def arguments(self) -> dict:
        """The controls as the arguments of :func:`run_pixel_agent` (and :func:`pixel_run_config`)."""
        return dict(agent=self.agent, task=self.task.value, arch=self.arch.value, depth=self.depth.value,
                    sn=self.sn.value, frames=self.frames.value, seed=self.seed.value, quick=self.quick)

    def config(self) -> TrainConfig:
        """The configuration the controls describe (raises ``ValueError`` for a bad combination)."""
        return pixel_run_config(**self.arguments())

    def _check(self, arguments: dict) -> TrainConfig:
        return pixel_run_config(**arguments)

    def _begin(self, config: TrainConfig) -> None:
        self.result = None
        self._label, self._budget = heads_label(config), config.frames
        self._draw([], [])
        self.status.value = f"running: {describe_run_config(config)} (first evaluation under way)"

    def _execute(self, arguments: dict, callback, stop):
        return run_pixel_agent(**arguments, callback=callback, stop=stop)

    def _finish(self, result, seconds: float) -> None:
        self.result = result
        self._draw(result.eval, result.train)
        last = result.last_return
        self.status.value = (f"{result.status} after {result.frames_done:,} frames"
                             f"{'' if last is None else f'; last eval return {last:.1f}'} ({seconds:.0f} s)")

    def _on_event(self, event) -> None:
        self._draw(event.eval_rows, event.train_rows)
        last = event.eval_rows[-1]["eval_return"] if event.eval_rows else None
        self.status.value = (f"frame {event.frame:,} / {event.config.frames:,}"
                             f"{'' if last is None else f' · last eval return {last:.1f}'}{self._speed(event.frame)}")

    def _draw(self, eval_rows, train_rows) -> None:
        png = _runs_png(self._label, eval_rows, train_rows, self._budget)
        self.output.outputs = ()
        self.output.append_display_data(Image(data=png, format="png"))


__all__ += ["QUICK_FRAMES", "quick_frames", "pixel_run_config", "run_pixel_agent", "heads_label", "describe_run_config",
            "format_run", "show_run", "TrainingPanel"]


# --------------------------------------------------------------------------------------------
# Notebooks 01, 03, 04: panels over a plain function of a few sliders
# --------------------------------------------------------------------------------------------
# Each panel is a FunctionPanel: named controls, a plain function of their values (which a notebook
# cell also calls), a text summary and a figure. Moving a control recomputes and redraws.

import numpy as np  # noqa: E402

from course_lib import mdp as _mdp  # noqa: E402
from course_lib import tabular  # noqa: E402


class FunctionPanel(Panel):
    """Controls -> ``compute(**values)`` -> text and figure, redrawn on every change.

    ``panel.result`` holds the last result; ``panel.update()`` recomputes from code (tests use it).
    """

    def __init__(self, name: str, controls: dict, compute, describe, plot, figsize=(11, 3.3)):
        self.name, self.controls = name, controls
        self._compute, self._describe, self._plot, self._figsize = compute, describe, plot, figsize
        self.output = W.Output()
        self.widget = W.VBox([W.HBox(list(controls.values())), self.output])
        for control in controls.values():
            control.observe(lambda change: self.update(), names="value")
        self.result = None
        self.update()

    def values(self) -> dict:
        return {key: control.value for key, control in self.controls.items()}

    def summary(self) -> str:
        settings = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in self.values().items())
        return f"{self.name}({settings}): run the notebook to use it"

    def update(self):
        self.result = self._compute(**self.values())
        fig = Figure(figsize=self._figsize)  # not pyplot: no global figure, no automatic display
        FigureCanvasAgg(fig)
        self._plot(self.result, fig)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        self.output.outputs = ()
        self.output.append_stdout(self._describe(self.result) + "\n")
        self.output.append_display_data(Image(data=buffer.getvalue(), format="png"))
        return self.result


def _slider(kind, value, low, high, step, description):
    style = {"description_width": "initial"}
    cls = W.FloatSlider if kind == "float" else W.IntSlider
    return cls(value=value, min=low, max=high, step=step, description=description, style=style,
               continuous_update=False)


def _show(result, describe, plot, figsize):
    print(describe(result))
    fig = plt.figure(figsize=figsize)
    plot(result, fig)
    fig.tight_layout()
    plt.show()


# --- notebook 01: value iteration against Q-learning ----------------------------------------

def format_learning_report(report: tabular.LearningReport) -> str:
    """Deterministic short text of :func:`course_lib.tabular.learning_report`."""
    start = report.grid.start
    last = report.errors.iloc[-1]
    name = report.grid.action_names
    return (f"gamma={report.gamma:g}, slip={report.slip:g}, epsilon={report.epsilon:g}: "
            f"V*(S) = {report.V_star[start]:+.3f}, pi*(S) = {name[report.policy_star[start]]}\n"
            f"Q-learning after {int(last.samples):,} samples (episodes from S): greedy action at S = "
            f"{name[report.policy[start]]}, its true value V(S) = {report.value_of_learned:+.3f}; "
            f"greedy policy = pi* in {report.agreement:.0%} of the states; "
            f"max |Q - Q*| = {last.q_error:.3f}")


def plot_learning_report(report: tabular.LearningReport, fig) -> None:
    """V* and pi*, Q-learning's max_a Q and greedy policy, and the error curves, in three axes."""
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.1]})
    _mdp.draw_gridworld(report.grid, values=report.V_star, policy=report.policy_star, ax=axes[0],
                        title="value iteration: V* and pi*")
    axes[0].title.set_fontsize(9)
    _mdp.draw_gridworld(report.grid, values=report.Q.max(axis=1), policy=report.policy, ax=axes[1],
                        title="Q-learning: max_a Q and its greedy policy")
    axes[1].title.set_fontsize(9)
    ax = axes[2]
    ax.loglog(report.errors.samples, report.errors.q_error, "o-", ms=3, label="max |Q - Q*|")
    ax.loglog(report.errors.samples, report.errors.v_error_start.clip(lower=1e-4), "s-", ms=3,
              label="|max_a Q(S, a) - V*(S)|")
    ax.set_xlabel("samples (transitions)")
    ax.set_ylabel("error (value units)")
    ax.set_title("the error at S falls; the max over all (s, a) need not", fontsize=9)
    ax.legend(fontsize=7)


def show_learning_report(report: tabular.LearningReport) -> None:
    """Notebook cell version of :class:`TabularPanel`: print the text, show the figure."""
    _show(report, format_learning_report, plot_learning_report, (12, 3.3))


def TabularPanel(gamma: float = 0.9, slip: float = 0.2, epsilon: float = 0.2, n_steps: int = 30_000,
                 seed: int = 0) -> FunctionPanel:
    """Sliders for the discount, the slip probability and epsilon -> :func:`tabular.learning_report`."""
    controls = {"gamma": _slider("float", gamma, 0.5, 0.99, 0.01, "discount gamma"),
                "slip": _slider("float", slip, 0.0, 0.5, 0.05, "slip probability"),
                "epsilon": _slider("float", epsilon, 0.0, 1.0, 0.05, "epsilon")}
    compute = lambda gamma, slip, epsilon: tabular.learning_report(gamma, slip, epsilon, n_steps=n_steps, seed=seed)
    return FunctionPanel("TabularPanel", controls, compute, format_learning_report, plot_learning_report,
                         figsize=(12, 3.3))


__all__ += ["FunctionPanel", "format_learning_report", "plot_learning_report", "show_learning_report",
            "TabularPanel"]


# --- notebook 03: LayerNorm's input spread, the bound and the measured slope ----------------

from course_lib import layernorm_spread, power_gap  # noqa: E402


def format_spread_report(table) -> str:
    """Deterministic short text of :func:`course_lib.layernorm_spread.layernorm_spread_report`."""
    last = table.iloc[-1]
    return (f"modern critic, {int(last.depth)} blocks, inputs x{last.input_scale:g}: smallest LayerNorm input std "
            f"{last.min_ln_std:.3g} -> LayerNorm slope <= {last.ln_slope_bound:.3g} (global 1/sqrt(eps) = "
            f"{1 / np.sqrt(layernorm_spread.LN_EPS):.0f})\n"
            f"  eq. (5) bound: global {last.bound:.3g}, on these inputs {last.region_bound:.3g}; "
            f"measured max ||dQ/da|| {last.measured:.3g}")


def plot_spread_report(table, fig) -> None:
    """Bounds and measurement against depth, and LayerNorm's slope bound against depth."""
    axes = fig.subplots(1, 2)
    ax = axes[0]
    ax.semilogy(table.depth, table.bound, "o-", color="tab:red", label="eq. (5) bound, global")
    ax.semilogy(table.depth, table.region_bound, "s--", color="tab:orange", label="bound on these inputs")
    ax.semilogy(table.depth, table.measured, "^-", color="tab:blue", label="measured max ||dQ/da||")
    ax.set_xlabel("depth (residual blocks)")
    ax.set_ylabel("slope (Q units per action unit)")
    ax.set_title("the bound grows per block, far faster than the slope", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.semilogy(table.depth, table.ln_slope_bound, "o-", color="tab:purple", label="1/sqrt(min std^2 + eps)")
    ax.axhline(1 / np.sqrt(layernorm_spread.LN_EPS), color="gray", linestyle=":", label="global 1/sqrt(eps)")
    ax.set_xlabel("depth (residual blocks)")
    ax.set_ylabel("LayerNorm slope bound")
    ax.set_title("smaller input spread, steeper LayerNorm", fontsize=9)
    ax.legend(fontsize=7)
    for ax in axes:
        ax.set_xticks(list(table.depth))


def show_spread_report(table) -> None:
    """Notebook cell version of :class:`LayerNormPanel`."""
    _show(table, format_spread_report, plot_spread_report, (10, 3.3))


def LayerNormPanel(depth: int = 4, input_scale: float = 1.0, hidden_dim: int = 64, seed: int = 0) -> FunctionPanel:
    """Depth and input scale of a random modern critic -> :func:`layernorm_spread.layernorm_spread_report`."""
    style = {"description_width": "initial"}
    controls = {"depth": _slider("int", depth, 1, 8, 1, "depth (blocks)"),
                "input_scale": W.FloatLogSlider(value=input_scale, base=10, min=-3, max=1, step=0.25,
                                                description="input scale", style=style, continuous_update=False)}
    compute = lambda depth, input_scale: layernorm_spread.layernorm_spread_report(depth, input_scale, hidden_dim=hidden_dim,
                                                                          seed=seed)
    return FunctionPanel("LayerNormPanel", controls, compute, format_spread_report, plot_spread_report,
                         figsize=(10, 3.3))


# --- notebook 04: the spectral gap and the power method's convergence -----------------------

def format_power_gap_report(report: power_gap.PowerGapReport) -> str:
    """Deterministic short text of :func:`course_lib.power_gap.power_gap_report`."""
    measured = "not within the steps shown" if report.steps_measured is None else f"{report.steps_measured} steps"
    last = report.errors.iloc[-1]
    return (f"sigma_2/sigma_1 = {report.ratio:g}: the vector error falls by (sigma_2/sigma_1)^2 = "
            f"{report.ratio ** 2:.3g} per step at worst\n"
            f"  u error below {report.tol:g}: measured after {measured}; the rate guarantees it after "
            f"{report.steps_predicted} steps\n"
            f"  after {int(last.k)} steps: u error {_error_text(last.u_error)}, "
            f"sigma error {_error_text(last.sigma_rel_error)}")


def _error_text(error: float) -> str:
    """An error in ``.2e``, or "< 1e-12" at float64's rounding level, where the digits (0 or 1e-15)
    depend on the CPU's floating-point code path, not on the method."""
    return f"{error:.2e}" if error >= 1e-12 else "< 1e-12"


def plot_power_gap_report(report: power_gap.PowerGapReport, fig) -> None:
    ax = fig.subplots(1, 1)
    df = report.errors
    ax.semilogy(df.k, df.u_error.clip(lower=1e-16), "o-", ms=3, label="vector error sin angle(u_k, u_1)")
    ax.semilogy(df.k, df.theory.clip(lower=1e-16), "--", label="rate: tan angle_0 * (sigma_2/sigma_1)^(2k)")
    ax.semilogy(df.k, df.sigma_rel_error.clip(lower=1e-16), "s-", ms=3, label="value error of u^T W v")
    ax.axhline(report.tol, color="gray", linestyle=":", label=f"tolerance {report.tol:g}")
    ax.set_ylim(1e-16, 10)
    ax.set_xlabel("power steps k")
    ax.set_ylabel("relative error (log scale)")
    ax.set_title(f"gap sigma_2/sigma_1 = {report.ratio:g}: the smaller the ratio, the faster", fontsize=9)
    ax.legend(fontsize=7)


def show_power_gap_report(report: power_gap.PowerGapReport) -> None:
    """Notebook cell version of :class:`PowerGapPanel`."""
    _show(report, format_power_gap_report, plot_power_gap_report, (6.5, 3.5))


def PowerGapPanel(ratio: float = 0.9, n_iters: int = 60, seed: int = 0) -> FunctionPanel:
    """The ratio sigma_2/sigma_1 and the number of steps -> :func:`power_gap.power_gap_report`."""
    controls = {"ratio": _slider("float", ratio, 0.05, 0.99, 0.01, "sigma_2 / sigma_1"),
                "n_iters": _slider("int", n_iters, 5, 200, 5, "power steps")}
    compute = lambda ratio, n_iters: power_gap.power_gap_report(ratio, n_iters=n_iters, seed=seed)
    return FunctionPanel("PowerGapPanel", controls, compute, format_power_gap_report, plot_power_gap_report,
                         figsize=(6.5, 3.5))


__all__ += ["format_spread_report", "plot_spread_report", "show_spread_report", "LayerNormPanel",
            "format_power_gap_report", "plot_power_gap_report", "show_power_gap_report", "PowerGapPanel"]


# --- notebook 02: the temperature of the maximum-entropy objective --------------------------

def format_soft_report(report: tabular.SoftReport) -> str:
    """Deterministic short text of :func:`course_lib.tabular.soft_report`."""
    s = report.grid.start
    probs = ", ".join(f"{name} {p:.2f}" for name, p in zip(report.grid.action_names, report.pi[s]))
    return (f"alpha={report.alpha:.3g}, gamma={report.gamma:g}: soft V(S) = {report.V_soft[s]:+.3f} "
            f"(hard V*(S) = {report.V_hard[s]:+.3f}); pi(.|S): {probs}; entropy at S {report.entropy[s]:.2f} nats "
            f"(uniform: {np.log(report.grid.n_actions):.2f})")


def plot_soft_report(report: tabular.SoftReport, fig) -> None:
    """Soft values with the most likely actions, and the policy's entropy per state."""
    axes = fig.subplots(1, 2)
    _mdp.draw_gridworld(report.grid, values=report.V_soft, policy=report.pi.argmax(axis=1), ax=axes[0],
                        title="soft V (numbers) and the most likely action")
    entropy_grid = np.full((len(report.grid.layout), len(report.grid.layout[0])), np.nan)
    for (r, c), h, end in zip(report.grid.coords, report.entropy, report.grid.terminal):
        entropy_grid[r, c] = np.nan if end else h  # walls and terminal states: no policy (black)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("black")
    image = axes[1].imshow(entropy_grid, cmap=cmap, vmin=0, vmax=np.log(report.grid.n_actions))
    fig.colorbar(image, ax=axes[1], label="entropy of pi(.|s) (nats)")
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    axes[1].set_title("entropy per state: most certain next to G and P", fontsize=9)
    axes[0].title.set_fontsize(9)


def show_soft_report(report: tabular.SoftReport) -> None:
    """Notebook cell version of :class:`SoftValuePanel`."""
    _show(report, format_soft_report, plot_soft_report, (10, 3.2))


def SoftValuePanel(alpha: float = 0.05, gamma: float = 0.9, slip: float = 0.2) -> FunctionPanel:
    """Temperature and discount -> :func:`tabular.soft_report` (soft value iteration on the grid world)."""
    style = {"description_width": "initial"}
    controls = {"alpha": W.FloatLogSlider(value=alpha, base=10, min=-3, max=0, step=0.1, description="temperature alpha",
                                          style=style, continuous_update=False),
                "gamma": _slider("float", gamma, 0.5, 0.99, 0.01, "discount gamma")}
    compute = lambda alpha, gamma: tabular.soft_report(alpha, gamma, slip)
    return FunctionPanel("SoftValuePanel", controls, compute, format_soft_report, plot_soft_report, figsize=(10, 3.2))


__all__ += ["format_soft_report", "plot_soft_report", "show_soft_report", "SoftValuePanel"]
