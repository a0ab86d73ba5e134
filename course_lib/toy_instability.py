"""A toy of Sec. 4's argument: an actor learning through a deep bootstrapped critic, in seconds.

No simulator: a few-dimensional *linear-dynamics* control problem whose transitions are drawn
fresh at every update. States ``s`` are uniform in ``[-1, 1]^state_dim``, the next state is
``s' = clip(A s + B a, -1, 1)`` (``A`` a scaled random rotation, ``B`` random) and the reward is
``r = -||s'||^2 - 0.1 ||a||^2``: a good policy steers the state towards 0. The agent is DDPG-like
and as small as it can be, but keeps every piece of the paper's argument:

* a critic head from :func:`course_lib.nets.make_head` (an ``mlp`` of ``depth`` hidden layers by
  default, or ``modern`` residual blocks) trained on the bootstrapped target of eq. (2),
  ``y = r + gamma * Q_target(s', pi(s'))``, with a Polyak-averaged target network;
* a tanh actor trained *through* the critic, eq. (3):
  ``grad_theta = dQ/da |_{a = pi(s)} * da/dtheta``, so ``||grad_theta|| <= ||dQ/da|| ||da/dtheta||``;
* optional spectral normalization (:func:`course_lib.spectral.spectral_norm`, through
  ``make_head``) on every critic Linear but the first and the last (Sec. 5.1).

Eq. (5) for an MLP critic: ``||dQ/da|| <= Lip(Q) <= prod_i sigma_max(W_i)`` (ReLU is 1-Lipschitz).
:func:`run_toy` logs that product (``sigma_product``) next to what the actor actually receives.

Deterministic on a CPU: seeded generators, one thread; the same arguments give the same table.
"""
from __future__ import annotations

import io
import math
import threading

import numpy as np
import pandas as pd
import torch
from torch import nn

from course_lib.nets import make_head
from course_lib.panel import Panel
from course_lib.spectral import layer_spectral_norms

__all__ = ["TOY_DEFAULTS", "run_toy", "run_toy_pair", "toy_summary", "plot_toy", "ToyPanel"]

#: The setting of notebook 08: a run of depth 8 takes a few seconds on one CPU core.
TOY_DEFAULTS = dict(depth=8, sn=False, arch="mlp", hidden=64, lr=8e-3, steps=400, batch=128,
                    gamma=0.99, tau=0.01, state_dim=3, action_dim=2, seed=0)


def _dynamics(state_dim: int, action_dim: int, generator: torch.Generator):
    rotation = torch.linalg.qr(torch.randn(state_dim, state_dim, generator=generator))[0]
    B = torch.randn(state_dim, action_dim, generator=generator) / math.sqrt(action_dim)
    return 1.1 * rotation, B  # 1.1: left alone, the state drifts outwards


def _grad_norm(parameters) -> float:
    """The global L2 norm of the gradients (what Fig. 3 and train.csv call a gradient norm)."""
    return math.sqrt(sum(float(p.grad.double().square().sum()) for p in parameters if p.grad is not None))


def _check(depth, hidden, steps, batch, log_every, lr, gamma, tau, arch) -> None:
    for name, value in (("depth", depth), ("hidden", hidden), ("steps", steps), ("batch", batch),
                        ("log_every", log_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not (lr > 0 and 0 <= gamma < 1 and 0 < tau <= 1):
        raise ValueError(f"need lr > 0, 0 <= gamma < 1 and 0 < tau <= 1; got lr={lr}, gamma={gamma}, tau={tau}")
    if arch not in ("mlp", "modern"):
        raise ValueError(f"arch must be 'mlp' or 'modern', got {arch!r}")


def run_toy(depth: int = 8, sn: bool = False, arch: str = "mlp", hidden: int = 64, lr: float = 8e-3,
            steps: int = 400, batch: int = 128, gamma: float = 0.99, tau: float = 0.01, state_dim: int = 3,
            action_dim: int = 2, seed: int = 0, log_every: int = 10) -> pd.DataFrame:
    """Train the toy actor-critic; return its diagnostics, one row every ``log_every`` updates.

    The first row (``step`` 0) measures the initial networks: with orthogonal initialization every
    layer's spectral norm is 1, so the bound starts at 1 whatever the depth. Columns: ``step``; ``actor_grad_norm`` (``||grad_theta||`` of the actor loss
    ``-mean Q(s, pi(s))``, eq. 3); ``dq_da`` and ``dq_da_max`` (mean and largest over the batch of
    ``||dQ/da||`` at ``a = pi(s)``: the critic's factor of eq. 3); ``sigma_product`` (product over
    the critic's Linear layers of their measured spectral norms: eq. 5's bound on ``||dQ/da||``
    for an MLP critic); ``critic_loss`` (eq. 2, mean squared TD error) and ``q_mean``.
    """
    _check(depth, hidden, steps, batch, log_every, lr, gamma, tau, arch)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(depth, bool(sn), arch, hidden, lr, steps, batch, gamma, tau, state_dim, action_dim,
                      seed, log_every)
    finally:
        torch.set_num_threads(threads)


def _train(depth, sn, arch, hidden, lr, steps, batch, gamma, tau, state_dim, action_dim, seed, log_every):
    gen = torch.Generator().manual_seed(seed)
    A, B = _dynamics(state_dim, action_dim, gen)
    torch.manual_seed(seed)  # the networks' initialization
    critic = make_head(arch, state_dim + action_dim, 1, hidden, depth, spectral_norm=sn)
    target = make_head(arch, state_dim + action_dim, 1, hidden, depth, spectral_norm=sn)
    target.load_state_dict(critic.state_dict())
    actor = nn.Sequential(make_head("mlp", state_dim, action_dim, hidden, 2), nn.Tanh())
    critic_opt = torch.optim.Adam(critic.parameters(), lr=lr)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=lr)
    rows = []
    for step in range(steps + 1):  # step 0 measures the initial networks without updating them
        s = torch.rand(batch, state_dim, generator=gen) * 2 - 1
        with torch.no_grad():  # act with exploration noise, step the dynamics, build the eq. (2) target
            a = (actor(s) + 0.3 * torch.randn(batch, action_dim, generator=gen)).clamp(-1, 1)
            s2 = (s @ A.T + a @ B.T).clamp(-1, 1)
            r = -s2.square().sum(1, keepdim=True) - 0.1 * a.square().sum(1, keepdim=True)
            y = r + gamma * target(torch.cat([s2, actor(s2)], 1))
        critic_loss = (critic(torch.cat([s, a], 1)) - y).square().mean()
        if step > 0:
            critic_opt.zero_grad()
            critic_loss.backward()
            critic_opt.step()

        # Eq. (3): the actor's gradient is the critic's slope in the action times da/dtheta.
        a_pi = actor(s)
        q = critic(torch.cat([s, a_pi], 1))
        actor_opt.zero_grad()
        dq_da, = torch.autograd.grad(q.sum(), a_pi, retain_graph=True)
        (-q.mean()).backward(inputs=list(actor.parameters()))
        actor_grad = _grad_norm(actor.parameters())
        if step > 0:
            actor_opt.step()
            with torch.no_grad():
                for p_target, p in zip(target.parameters(), critic.parameters()):
                    p_target.lerp_(p, tau)
                for b_target, b in zip(target.buffers(), critic.buffers()):  # SN's power-iteration state
                    b_target.copy_(b)
        if step % log_every == 0 or step == steps:
            slopes = dq_da.norm(dim=1)
            rows.append({"step": step, "actor_grad_norm": actor_grad, "dq_da": float(slopes.mean()),
                         "dq_da_max": float(slopes.max()),
                         "sigma_product": float(np.prod(list(layer_spectral_norms(critic).values()))),
                         "critic_loss": float(critic_loss.detach()), "q_mean": float(q.detach().mean())})
    return pd.DataFrame(rows)


def run_toy_pair(depth: int = 8, **settings) -> dict[str, pd.DataFrame]:
    """The same toy (same seed, so the same data stream and initial weights) without and with SN."""
    return {f"{settings.get('arch', 'mlp')}{depth}{sn_tag}": run_toy(depth=depth, sn=sn, **settings)
            for sn, sn_tag in ((False, ""), (True, "+sn"))}


def toy_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per run: the actor's gradient norm, the critic's slope and eq. (5)'s bound, first and last row.

    ``*_growth`` is last / first: how many times larger the quantity became during the run.
    """
    rows = []
    for name, t in tables.items():
        first, last = t.iloc[0], t.iloc[-1]
        rows.append({"run": name, "updates": int(last.step),
                     "actor grad first": first.actor_grad_norm, "actor grad last": last.actor_grad_norm,
                     "|dQ/da| last": last.dq_da, "max |dQ/da| (any row)": t.dq_da_max.max(),
                     "bound first": first.sigma_product, "bound last": last.sigma_product,
                     "bound growth": last.sigma_product / first.sigma_product})
    return pd.DataFrame(rows).set_index("run")


def plot_toy(tables: dict[str, pd.DataFrame], axes=None):
    """Three panels per update: the actor's gradient norm, ``|dQ/da|`` against eq. (5)'s bound, the critic loss.

    Draws into three ``axes`` or a new pyplot figure; returns the figure.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    grad_ax, slope_ax, loss_ax = axes
    for i, (name, t) in enumerate(tables.items()):
        color = f"C{i}"
        grad_ax.plot(t.step, t.actor_grad_norm, color=color, label=name)
        slope_ax.plot(t.step, t.dq_da, color=color, label=name)
        slope_ax.plot(t.step, t.sigma_product, color=color, linestyle="--")
        loss_ax.plot(t.step, t.critic_loss, color=color, label=name)
    # One legend entry per run, and one per line style (not one per run and style).
    slope_ax.plot([], [], color="gray", label="solid: mean |dQ/da|")
    slope_ax.plot([], [], color="gray", linestyle="--", label="dashed: bound, eq. (5)")
    for ax, title, ylabel in (
            (grad_ax, "actor gradient norm, eq. (3)", r"$\|\nabla_\theta\|$ (log)"),
            (slope_ax, "critic slope vs the product of layer norms", r"$|dQ/da|$ and $\prod_i \sigma_i$ (log)"),
            (loss_ax, "critic loss, eq. (2)", "mean squared TD error (log)")):
        ax.set_yscale("log")
        ax.set_xlabel("updates")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize="x-small")
    fig = axes[0].figure
    fig.tight_layout()
    return fig


class ToyPanel(Panel):
    """Critic depth and SN -> :func:`run_toy_pair`-style runs of the toy, redrawn (a few seconds each).

    ``display(panel)`` shows it; moving a control trains the toy with and without SN (or only the
    chosen one) and redraws; ``panel.update()`` does the same from code. ``panel.tables`` holds the
    last runs' tables.
    """

    def __init__(self, depth: int = 8, sn: str = "both", **settings):
        import ipywidgets as W

        style = {"description_width": "initial"}
        self.settings = {**{k: v for k, v in TOY_DEFAULTS.items() if k not in ("depth", "sn")}, **settings}
        self.depth = W.IntSlider(value=depth, min=1, max=12, description="critic depth (hidden layers)",
                                 style=style, continuous_update=False)
        self.sn = W.ToggleButtons(options=[("without SN", "off"), ("with SN", "on"), ("both", "both")], value=sn,
                                  description="spectral norm", style=style)
        self.status = W.HTML()
        self.output = W.Output()
        self.widget = W.VBox([W.HBox([self.depth, self.sn]), self.status, self.output])
        self.depth.observe(lambda change: self.update(), names="value")
        self.sn.observe(lambda change: self.update(), names="value")
        self._lock = threading.Lock()
        self.tables: dict[str, pd.DataFrame] = {}
        self.update()

    def summary(self) -> str:
        return f"ToyPanel(depth={self.depth.value}, sn={self.sn.value!r}): run the notebook to use it"

    def update(self) -> dict[str, pd.DataFrame]:
        """Train the toy for the current controls and redraw."""
        from IPython.display import Image
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        with self._lock:
            arch, depth = self.settings["arch"], self.depth.value
            choices = {"off": [False], "on": [True], "both": [False, True]}[self.sn.value]
            self.status.value = "<i>training...</i>"
            self.tables = {f"{arch}{depth}{'+sn' if sn else ''}": run_toy(depth=depth, sn=sn, **self.settings)
                           for sn in choices}
            fig = Figure(figsize=(13, 3.6))
            FigureCanvasAgg(fig)
            plot_toy(self.tables, fig.subplots(1, 3))
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=72)
            self.output.outputs = ()
            self.output.append_display_data(Image(data=buffer.getvalue(), format="png"))
            summary = toy_summary(self.tables)
            self.status.value = " · ".join(
                f"{name}: actor grad {row['actor grad first']:.2g} → {row['actor grad last']:.2g}, "
                f"bound {row['bound first']:.2g} → {row['bound last']:.2g}" for name, row in summary.iterrows())
        return self.tables
