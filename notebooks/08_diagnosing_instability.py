# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Diagnosing instability: what Fig. 3 measures, and what SN changes
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/08_diagnosing_instability.ipynb)
#
# Sec. 3.4 of the paper asks whether deep modern heads fail because they **overfit**. Its Fig. 3
# answers with four curves for cartpole swingup from pixels, a 2-layer MLP against a deep modern
# network (five runs each):
#
# * **critic loss** (eq. 2, the "training loss" of the critic): *not* lower for the big network,
#   later much higher. Overfitting would make it lower.
# * **return**: the deep network does not learn.
# * **actor and critic gradient norms** (log scale): larger for the deep network, growing during
#   training, with spikes, "especially for the actor".
#
# So the paper blames **training instability**, and Sec. 4 names its source: the actor's gradient is
# taken *through* the critic (eq. 3), and a deep critic can be very steep (eq. 5). Spectral
# normalization (SN) caps that steepness.
#
# This notebook
#
# 1. trains Fig. 3's setting at CPU scale live, with a panel to toggle critic depth and SN and watch
#    the four curves, and looks at what every run logs (`train.csv`);
# 2. explains why the gradient through the critic can explode, linking back to notebooks
#    [03](03_lipschitz.ipynb) (eq. 5) and [04](04_power_iteration.ipynb) (SN), with a toy that runs in
#    seconds;
# 3. reads our stored **CPU-scale Fig. 3 experiment** (`results/cpu_fig3/`), a stress test: a deep
#    modern critic with and without SN, and two MLPs, five seeds each, and what it does and does not
#    show;
# 4. measures what SN changes: spectral norms per layer, gradient norms, the critic's slope;
# 5. asks which mechanism is at work (the critic's SN? the temperature α? smaller steps?) of a
#    pre-registered experiment built to tell them apart.

# %%
import os
import shutil
import sys

if "google.colab" in sys.modules:  # on Colab: fetch the course, install only what Colab lacks
    REPO_URL = os.environ.get("DEEPER_RL_REPO_URL", "https://github.com/deeper-rl/deeper-rl")
    COURSE_DIR = os.environ.get("DEEPER_RL_DIR", "/content/deeper-rl")
    if not os.path.isdir(COURSE_DIR):
        # !git clone -q --depth 1 {REPO_URL} {COURSE_DIR}
    # %pip install -q -r {COURSE_DIR}/requirements-sim.txt
    # %pip install -q --no-deps -r {COURSE_DIR}/requirements-nodeps.txt -e {COURSE_DIR}
    sys.path.insert(0, COURSE_DIR)  # the editable install is seen only after a restart
    os.chdir(os.path.join(COURSE_DIR, "notebooks"))
    icd = "/usr/share/glvnd/egl_vendor.d/10_nvidia.json"  # GPU runtime: point EGL at NVIDIA's driver
    if shutil.which("nvidia-smi") and not os.path.exists(icd):
        os.makedirs(os.path.dirname(icd), exist_ok=True)
        with open(icd, "w") as f:
            f.write('{"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_nvidia.so.0"}}')
from course_lib.rendering import choose_backend

choose_backend()  # MUJOCO_GL, before dm_control is imported: egl on Linux, glfw elsewhere; yours wins
from course_lib.runtime import describe_hardware

print(describe_hardware())

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display

from course_lib import fig3_panel, plots, results, videos
from course_lib import lipschitz as L
from course_lib import toy_instability as toy
from course_lib.diagnostics import orders_of_magnitude_per_1000_frames
from course_lib.envs import make_env

pd.set_option("display.precision", 3)
pd.set_option("display.width", 120)
# Small heads on a CPU: one thread is faster than several, and makes the numbers independent of
# the machine's core count.
torch.set_num_threads(1)
RESULTS = Path("../results/cpu_fig3")

# %% [markdown]
# ## 1. Fig. 3 at CPU scale, trained live
#
# The setting of this notebook's experiment (section 3): SAC from **states** on `cartpole_swingup`,
# a **modern** critic (Sec. 3.2: an input Linear, `depth` pre-LayerNorm residual blocks
# $x + w_2\,\mathrm{ReLU}(w_1\,\mathrm{LN}(x))$, an output Linear; the actor gets half as many blocks),
# hidden width 128, batch 128, action repeat 4, and a learning rate of 8e-3, eight times DrQ's
# (section 3 says why). The first 4,000 frames are random actions that fill the replay memory;
# the updates start after them.
#
# The panel trains that setting and redraws Fig. 3's four panels while it trains: critic loss
# (eq. 2), return, and the gradient norms of actor and critic (log scale). Earlier runs stay in the
# plot, so you can run a critic without SN, tick the box, and run it again. The default budget
# (`fig3_panel.FIG3_FRAMES`, printed below the panel; two to four minutes on one CPU core) ends past 12,000
# frames, where the stored runs of section 3 that crashed did so; the default seed, 4, is one of them (on another machine or
# software version the floating point differs, and so may the outcome). A crash ends the run with
# an x. Try other seeds, a shallower critic, and DrQ's learning rate 1e-3.

# %%
panel = fig3_panel.Fig3Panel()
panel

# %% [markdown]
# The panel calls `fig3_panel.run_fig3`, a plain function; here it is at a small budget, for an
# 8-block critic without and with SN (the panel's default budget makes 3,000 updates after the
# seed phase; these runs make 250). `run_fig3` returns what `course_lib.train.train` returns: the tables a run
# directory holds, `eval` (`eval.csv`) and `train` (`train.csv`). Every row of `train.csv` holds
# the *means over the updates of the interval* of the critic loss (eq. 2), the actor loss, the
# gradient norms (taken after `backward()`, before the optimizer step; nothing is clipped), SAC's
# temperature, a non-finite flag, and the spectral norm of **every Linear of every head**, measured
# with `torch.linalg` on the effective weight (with SN: $W/\hat\sigma$).

# %%
LIVE_FRAMES = 5_000  # 4,000 seed frames + 250 updates
live = {name: fig3_panel.run_fig3(depth=8, sn=sn, seed=4, frames=LIVE_FRAMES)
        for name, sn in (("modern8", False), ("modern8+sn", True))}
for name, r in live.items():
    print(f"{name:11s}: {r.status}, {r.frames_done} frames, {len(r.train)} train.csv rows, "
          f"{len(r.eval)} evaluations")
columns = live["modern8"].train.columns
print("train.csv columns:", ", ".join(columns[:8]), "+", sum(c.startswith("sigma/") for c in columns),
      "sigma/... columns")

# %% [markdown]
# The numbers of a live run depend (slightly, then chaotically) on the machine's floating point, so
# yours may differ from those below. The last rows, then Fig. 3's panels for the two short runs:

# %% tags=["nbval-ignore-output"]
cols = ["frame", "critic_loss", "actor_grad_norm", "critic_grad_norm", "alpha",
        "sigma/critic/q1.blocks.7.branch.w2", "sigma/actor/blocks.3.branch.w2"]
pd.concat({name: r.train[cols].tail(3).set_index("frame") for name, r in live.items()})

# %% tags=["nbval-ignore-output"]
fig3_panel.show_fig3(list(live.values()))

# %% [markdown]
# ## 2. Why the gradient through the critic can explode
#
# The actor's update, eq. (3), differentiates the critic's output with respect to the action and then
# the action with respect to the actor's weights:
#
# $$\nabla_\theta = \frac{\partial Q_\psi(a_\theta, s)}{\partial \theta}
#   = \frac{\partial Q_\psi}{\partial a}\bigg|_{a = a_\theta}\;\frac{\partial a_\theta}{\partial \theta},
# \qquad \|\nabla_\theta\| \le \Big\|\frac{\partial Q_\psi}{\partial a}\Big\|\,\Big\|\frac{\partial a_\theta}{\partial \theta}\Big\|.$$
#
# The first factor is the critic's **slope** in the action. Notebook [03](03_lipschitz.ipynb) bounded
# it with eq. (5): a composition is at most as steep as the product of its parts, so for an MLP critic
#
# $$\Big\|\frac{\partial Q}{\partial a}\Big\| \le \mathrm{Lip}(Q) \le \prod_i \sigma_{\max}(w^c_i),$$
#
# and for the modern head each residual block contributes $1 + \mathrm{Lip}(\mathrm{LN})\,
# \sigma(w_1)\,\sigma(w_2)$ (03, "Skip connections and LayerNorm, honestly"). The point is the
# **product**: if training lets every layer's $\sigma_{\max}$ grow by a factor $c$, the bound grows like
# $c^{\text{depth}}$. A deep critic can become steep in the action much faster than a shallow one,
# and the actor's gradient inherits that steepness (and its spikes). Nothing in eq. (2) prevents it:
# the critic loss only asks $Q$ to match its targets at the replayed actions, not to be smooth
# between them.
#
# Spectral normalization (notebook [04](04_power_iteration.ipynb)) divides each normalized layer's
# weight by a power-iteration estimate of its $\sigma_{\max}$, so those factors are 1 and the product
# is left with the layers SN does not touch: the first and the last (Sec. 5.1) and the LayerNorms.
#
# ### A toy: the product of layer norms, step by step
#
# `course_lib.toy_instability` strips the agent down to what eq. (3) and eq. (5) talk about, with no
# simulator: a 3-dimensional state, a 2-dimensional action, linear dynamics
# $s' = \mathrm{clip}(A s + B a)$, reward $-\|s'\|^2 - 0.1\|a\|^2$, fresh transitions every update.
# A tanh actor learns through an MLP critic of `depth` hidden layers (width 64, `make_head("mlp", ...)`),
# which learns from the bootstrapped target $r + \gamma Q_{\text{target}}(s', \pi(s'))$ with a target
# network, Adam at the learning rate of section 1. For an MLP eq. (5) is exact as a bound, so each
# update logs three things: the actor's gradient norm, the critic's slope $\|\partial Q/\partial a\|$
# at $a = \pi(s)$, and the product of the critic's layer spectral norms that bounds it. A run takes
# a few seconds; move the depth slider and the SN toggle.

# %%
toy_panel = toy.ToyPanel(depth=8, sn="both")
toy_panel

# %% [markdown]
# The panel calls `toy.run_toy`. The same code, for a deep and a shallow critic, each without and
# with SN (same seed: same transitions and same initial weights):

# %%
toy_runs = {**toy.run_toy_pair(depth=8), **toy.run_toy_pair(depth=2)}
toy_table = toy.toy_summary(toy_runs)

# %% [markdown]
# Its numbers, like a live agent's, depend on the machine's floating point in their last digits, so
# yours may differ from the table and the figure below; the cell after them checks the facts the
# text relies on.

# %% tags=["nbval-ignore-output"]
with pd.option_context("display.float_format", "{:.3g}".format):
    print(toy_table.to_string())
fig = toy.plot_toy(toy_runs)
fig.suptitle("Toy: without SN the eq. (5) bound grows with every update, and faster when deeper; "
             "the measured slope does not follow", y=1.04, fontsize=10)
plt.show()

# %%
bound = toy_table["bound last"]
print("the bound holds in every logged row (max |dQ/da| <= product of norms):",
      all(bool((t["dq_da_max"] <= t["sigma_product"]).all()) for t in toy_runs.values()))
print("every bound starts at 1 (orthogonal initialization):", bool(np.allclose(toy_table["bound first"], 1, atol=1e-4)))
print("without SN the deep bound grew more than 100x; with SN it ends below the shallow critic's without SN:",
      bool(toy_table.loc["mlp8", "bound growth"] > 100 and bound["mlp8+sn"] < bound["mlp2"]))
print("without SN the bound of 8 layers ends more than 20x that of 2:", bool(bound["mlp8"] > 20 * bound["mlp2"]))

# %% [markdown]
# What the toy shows is eq. (5)'s *room*. At initialization every layer is orthogonal, so the bound
# is 1 at any depth. Without SN every layer's $\sigma_{\max}$ grows under Adam, so the product grows
# update by update, and with 8 hidden layers it ends orders of magnitude above the 2-layer critic's:
# the $c^{\text{depth}}$ of the argument above. With SN the middle layers sit at 1 and only the
# first and the last contribute, so the bound of the deep SN critic ends below that of the shallow
# critic without SN.
#
# What the toy does *not* show is the actor's gradient following the bound: here the measured slope
# and the actor's gradient stay about the same with and without SN (try other depths and seeds in
# the panel). This problem is easy: its true $Q$ is smooth, and fresh, well-spread transitions pin
# the critic down around the actor's actions at every update. The bound says what the critic *can*
# become, not what it is. The full agent is where the room gets used: its replayed data are narrow,
# its targets move as the policy and SAC's temperature change, and there, already in section 1's
# short runs, the actor's gradient without SN is several times the SN one's (1.79 against 0.34 in
# the last row; those runs normalize the actor too, so not all of that gap need be the critic's,
# see the end of this section), and in section 3 some runs become steep enough to crash.
#
# **Question.** The bound of `mlp8+sn` is the product of just two spectral norms. Which two, and
# why can SN not normalize them too without changing what the critic can represent?
#
# <details><summary>Answer</summary>
#
# The first Linear (from the state-action input to the hidden width) and the output Linear (from the
# hidden width to the scalar $Q$). Sec. 5.1 leaves them free: with every layer normalized, the whole
# critic would be 1-Lipschitz, so $|Q(s,a) - Q(s',a')| \le \|(s,a) - (s',a')\|$, while the returns
# the critic must represent span hundreds (cartpole: 0 to about 1000 over an episode, and
# $Q \approx r/(1-\gamma)$). The free output layer sets the scale; the free input layer sets how
# far apart inputs are mapped. SN removes the *multiplicative growth with depth*, not all growth.
# </details>
#
# Here is the same measurement for the two live agents of section 1. For each critic head `q1` we
# measure, on 512 states from the task with random actions: the logged spectral norms, the measured
# slope $\max\|\partial Q/\partial a\|$ and its mean, and the eq. (5)-style bound in its two versions
# from notebook 03 (`bound`: with LayerNorm's global constant $1/\sqrt{\epsilon}$; `region_bound`:
# with LayerNorm's slope at the smallest spread its inputs actually have).

# %%
def visited_inputs(task, n=512, seed=0):
    """n states of ``task`` reached with random actions, each paired with a fresh random action."""
    env = make_env(task, "state", seed=seed, action_repeat=4)
    rng = np.random.default_rng(seed)
    states, ts = [], env.reset()
    while len(states) < n:
        action = rng.uniform(-1, 1, env.action_dim).astype(np.float32)
        ts = env.reset() if ts.last else env.step(action)
        states.append(ts.observation)
    actions = rng.uniform(-1, 1, (n, env.action_dim))
    return torch.as_tensor(np.hstack([np.array(states), actions]), dtype=torch.float32), env.action_dim


inputs, action_dim = visited_inputs("cartpole_swingup")
rows = []
for name, r in live.items():
    q1 = r.agent.critic.q1
    sigmas = r.train.filter(like="sigma/critic/q1.").iloc[-1]
    row = L.critic_lipschitz_row(q1, inputs, action_dim)
    rows.append({"config": name, "max sigma (hidden)": sigmas.filter(like="blocks").max(),
                 "sigma input": sigmas["sigma/critic/q1.input"], "sigma output": sigmas["sigma/critic/q1.output"],
                 "max |dQ/da|": row["measured"], "mean |dQ/da|": row["mean_measured"],
                 "region_bound": row["region_bound"], "bound": row["bound"]})
slopes = pd.DataFrame(rows).set_index("config")
print("the measured max |dQ/da| is below both bounds for both critics:",
      bool((slopes["max |dQ/da|"] < slopes["region_bound"]).all() and (slopes["region_bound"] <= slopes["bound"]).all()))
print(f"SN holds every normalized layer at sigma <= 1.01: "
      f"{bool(slopes.loc['modern8+sn', 'max sigma (hidden)'] <= 1.01)}; without SN the largest has grown "
      f"above 1.2: {bool(slopes.loc['modern8', 'max sigma (hidden)'] > 1.2)}")

# %% tags=["nbval-ignore-output"]
slopes

# %% [markdown]
# After only 250 updates at this learning rate the hidden layers without SN have grown well above 1
# and each enters the product; with SN they sit at 1 and only the (unnormalized) input and output
# layers and the LayerNorms move. The *measured* slopes are another matter: they differ far less
# than the bounds, and they stay many orders of magnitude below them (notebook 03 explained why:
# ReLUs mask, singular directions do not line up, and LayerNorm's worst case is rare). SN does not
# guarantee a flatter critic at a given moment; it removes the room for the multiplicative growth
# that section 3 shows over a whole run.
#
# Does the critic's slope account for the actor's gradient gap of section 1? These two runs cannot
# say. The measured slope differs by a factor 1.8 at its largest (0.64 against 0.355) and about 4 on
# average (0.138 against 0.033), the actor's gradient by about 5 (1.79 against 0.34), and the slopes
# were measured at random actions, not at the actor's. More important, these runs normalize **both**
# networks: with SN the actor's hidden layers are held at 1 too (section 1's table shows one of
# them, `sigma/actor/blocks.3.branch.w2`: 1.000 with SN, 4.66 without), so SN also changes the
# second factor of eq. (3), $\partial a_\theta/\partial\theta$. The gap cannot be credited to the
# critic alone. To separate the factors, normalize one network at a time:
# `fig3_panel.run_fig3(depth=8, sn=True, actor_sn=False, ...)` puts SN in the critic only (and the
# exercise `actor_gradient_by_chain_rule` below computes the two factors of one gradient).

# %% [markdown]
# ## 3. Fig. 3 at CPU scale: the stored experiment
#
# The panel's setting, run to the full budget for several seeds of each head, stored in
# `results/cpu_fig3/` (each run directory holds its `config.json`, `eval.csv` and `train.csv`; the
# sweep's `sweep_log.jsonl` holds every run's exact command, printed for one run below). The
# configurations: mlp2 and mlp4 (Figs. 1 and 2, in notebook 09), and the 8-block modern critic
# without and with SN (Figs. 3 and 4).
#
# **A stress test, not a reproduction.** At DrQ's learning rate (1e-3) a deep modern critic without
# SN learned this task at CPU scale in every stored run. The failure showed once the learning rate
# was raised to 8e-3 and the critic made 8 blocks deep, and this setting was then chosen *because*
# it showed the failure. Selecting a setting because it fails is a stress test: it shows that the
# mechanism of Sec. 4 exists at small scale and lets us ask whether SN removes it (on seeds that
# played no part in choosing the setting). It is not evidence for the paper's claim that deep
# critics fail at the paper's settings; for that, the settings must be fixed before the results are
# seen, as in the pre-registered experiment of section 5 (and notebook
# [09](09_reproducing_the_paper.ipynb)). (Every setting tried on the way, with its command and its
# runs, is recorded in `results/cpu_fig3/`.)

# %%
RUNS = RESULTS / "runs"  # the stored experiment (any number of seeds per configuration)
runs = results.load_runs(RUNS)
unfinished = runs[~runs["status"].isin(["complete", "crashed"])]
runs = runs[runs["status"].isin(["complete", "crashed"])].reset_index(drop=True)  # finished runs only
if len(unfinished):
    print(f"left out {len(unfinished)} unfinished run(s):", ", ".join(f"{r.config} seed {r.seed}"
                                                                 for r in unfinished.itertuples()))
sweep_log = pd.read_json(RUNS / "sweep_log.jsonl", lines=True)
print("one run's command:", sweep_log["command"].iloc[0].replace(" --", "\n    --"), sep="\n")
train_logs = plots.read_train_logs(runs)
curves = results.curve_summary(runs)
budget = int(runs["frames"].max())
seeds = sorted(runs["seed"].unique())
print(f"{len(runs)} runs in results/cpu_fig3/{RUNS.name}, {budget:,} frames each, seeds {', '.join(map(str, seeds))}:",
      ", ".join(f"{c} x{n}" for c, n in runs.groupby("config").size().items()))
print(runs[["config", "seed", "status", "crash_frame", "last_return"]].to_string(index=False))
fig = plots.plot_training_dynamics(train_logs, curves, groups=["mlp2", "modern8", "modern8+sn"])
fig.suptitle("CPU-scale Fig. 3: without SN the deep critic's loss and gradients run away (x: crash); "
             "with SN they stay near the MLP's", y=1.02, fontsize=10)
plt.show()

# %% [markdown]
# The return at the end of the budget and at half of it, mean ± one standard error over the seeds,
# crashed runs carried forward from their last evaluation (the paper's rule). A run read at half
# its budget is exactly a run of half the budget (same seed, same samples, same updates):

# %%
at_end = results.summary(runs, frame_budget=budget)[["config", "mean", "se", "n", "n_crashed"]]
at_half = results.summary(runs, frame_budget=budget // 2)[["config", "mean", "se", "n", "n_crashed"]]
pd.concat({f"return at {budget:,} frames": at_end.set_index("config"),
           f"return at {budget // 2:,} frames": at_half.set_index("config")}, axis=1)

# %% [markdown]
# And Fig. 3 in numbers (`plots.diagnostics_summary`: per configuration, the critic loss and the
# gradient norms over the last quarter of each run's rows, averaged over runs; `_max` is the largest
# value any run logged; a crashed run counts with its rows *before* the crash):

# %%
with pd.option_context("display.float_format", "{:.3g}".format):
    display(plots.diagnostics_summary(train_logs).set_index("config"))

# %% [markdown]
# How fast did the gradients grow? On Fig. 3's log scale exponential growth is a straight line, and
# `diagnostics.orders_of_magnitude_per_1000_frames` fits its slope (1.0 = ten times larger every
# 1,000 frames; you write it yourself in the exercises below). Per run, for the gradient norms
# between 5,000 frames and the first crash (the end of the budget if none crashed):

# %%
crash_frames = runs["crash_frame"].dropna()
window_end = int(crash_frames.min()) if len(crash_frames) else budget
window = train_logs[train_logs["frame"].between(5000, window_end)]
growth = pd.DataFrame([
    {"config": config, "seed": seed,
     "actor grad: decades / 1k frames": orders_of_magnitude_per_1000_frames(run["frame"], run["actor_grad_norm"]),
     "critic grad: decades / 1k frames": orders_of_magnitude_per_1000_frames(run["frame"], run["critic_grad_norm"])}
    for (config, seed), run in window.groupby(["config", "seed"])])
print(f"window: 5,000 to {window_end:,} frames")
with pd.option_context("display.float_format", "{:.2f}".format):
    display(growth.set_index(["config", "seed"]).unstack("seed"))

# %% [markdown]
# Against each of the paper's observations, with the numbers computed from the runs:

# %%
crashed = runs[runs["status"] == "crashed"]
by_config = runs.groupby("config")
print("crashed runs per configuration:",
      ", ".join(f"{c} {int((g['status'] == 'crashed').sum())}/{len(g)}" for c, g in by_config))
if len(crashed):
    print("crash frames:", ", ".join(f"{r.config} seed {r.seed}: {int(r.crash_frame):,}" for r in crashed.itertuples()))
fast = growth.set_index(["config", "seed"])["actor grad: decades / 1k frames"]
crashed_keys = set(zip(crashed["config"], crashed["seed"]))
others = fast[[k not in crashed_keys for k in fast.index]]
if crashed_keys:
    print(f"actor gradient growth before a crash: {fast[list(crashed_keys)].min():.2f} to "
          f"{fast[list(crashed_keys)].max():.2f} decades / 1k frames; in every other run at most "
          f"{others.abs().max():.2f} in size")
alpha_max = train_logs.groupby(["config", "seed"])["alpha"].max()
alpha_crashed = alpha_max[[k in crashed_keys for k in alpha_max.index]]
alpha_others = alpha_max[[k not in crashed_keys for k in alpha_max.index]]
if crashed_keys:
    print(f"SAC's temperature alpha (starts at 0.1): largest logged value {alpha_crashed.min():.2g} to "
          f"{alpha_crashed.max():.2g} in the crashed runs, at most {alpha_others.max():.2g} in every other run")
ends = plots.diagnostics_summary(train_logs).set_index("config")
print(f"actor gradient over the last quarter of the runs: SN {ends.loc['modern8+sn', 'actor_grad_end']:.2f}, "
      f"mlp2 {ends.loc['mlp2', 'actor_grad_end']:.2f}; critic loss: SN {ends.loc['modern8+sn', 'critic_loss_end']:.3g}, "
      f"mlp2 {ends.loc['mlp2', 'critic_loss_end']:.3g}")

# %% [markdown]
# * **The deep network fails to learn** (top right): some of the 8-block critics without SN crash
#   (their return is carried forward from before the crash), the MLPs and the SN critics do not.
# * **The gradients grow, especially the actor's** (bottom panels, log scale): before a crash the
#   actor's gradient norm grows by more than an order of magnitude every 1,000 frames, while in every
#   other run its slope stays close to zero. With SN the gradient norms stay close to the MLP's.
# * **The critic loss is not lower for the big network** (top left): in the crashed runs it runs
#   away, but it is higher than the MLP's for the SN critic too, which learns as well as the MLP: at
#   this scale a higher critic loss goes with the deep head, not only with failure.
# * The crashed runs' logs show one more thing the paper does not plot: SAC's entropy temperature
#   $\alpha$ (learned with the same learning rate) runs away with $Q$ in the runs that crash, by
#   many orders of magnitude, while in every run that learns it stays within a small factor of its
#   start (the `alpha` column of `train.csv`); with one row per 1,000 frames the logs cannot tell
#   which moved first.

# %% [markdown]
# ### Watching the agents
#
# What do these numbers look like on the cart? Below, one run of each head in this setting, seed 4,
# trained with the video on (`results/videos/` holds the GIFs, each run's command and its
# `eval.csv`): the first episode of the run's final evaluation (the mean action), its first 6 s
# in real time. Runs repeat bit for bit only on the same machine and libraries, and these were
# trained on another machine than the runs above, so their returns are their own (in the
# captions). Seed 4 without SN crashed here too, at 12,000 frames. A crashed run has no final
# evaluation, so it is filmed before the crash: a run is the first part of any longer run with the
# same settings, and the same command stopped at 8,000 frames shows its last evaluation before the
# crash (the paper's rule: report the performance before the crash).

# %%
VIDEOS = Path("../results/videos")
made = json.loads((VIDEOS / "videos.json").read_text())  # per video: the command, the outcome, the caption
print(made["fig3_modern8"]["caption"])
before_crash = pd.read_csv(VIDEOS / "runs/fig3_modern8/eval.csv").query("crashed == 0").iloc[-1]
stopped = pd.read_csv(VIDEOS / "runs/fig3_modern8_last_eval/eval.csv").iloc[-1]
print(f"its last evaluation before the crash: {float(before_crash.eval_return)!r} at {before_crash.frame:,.0f} "
      f"frames; the same command stopped at {stopped.frame:,.0f} frames: {float(stopped.eval_return)!r}")
at_8k = {name: pd.read_csv(VIDEOS / f"runs/{name}/eval.csv").set_index("frame").loc[8000, "eval_return"]
         for name in ("fig3_mlp2", "fig3_modern8_sn")}
print("the other two runs at 8,000 frames:", ", ".join(f"{name} {value:.0f}" for name, value in at_8k.items()))
videos.show_videos({VIDEOS / made[name]["gif"]: made[name]["caption"]
                    for name in ("fig3_mlp2", "fig3_modern8_last_eval", "fig3_modern8_sn")}, width=240)

# %% [markdown]
# What to watch for. The mlp2 agent swings the pole up within about 2 s and balances it, the cart
# moving little. The deep critic *with* SN does the same job, a little less neatly: its first swing
# falls back, the second brings the pole up after about 3 s, and it balances it while the cart
# travels further along the rail. The deep critic *without* SN, at its last evaluation before the
# crash, does not swing the pole up: it drives the cart to the left until the cart leaves the
# picture (after about 2.5 s) and keeps it there, and the pole never rises above the rail. That
# video is from 8,000 frames, the others from 48,000; at 8,000 frames the other two runs also
# scored low (printed above), but they went on learning, while this run's next 4,000 frames of
# updates ended in the crash.

# %% [markdown]
# ## 4. What SN changes, measured
#
# The spectral norm of every Linear of the critic's first head `q1` over training, as a heatmap:
# one row per layer (input layer on top), one column per logged frame, the colour the logarithm of
# $\sigma_{\max}$ (mean over the runs of each configuration; blank where every run has crashed).
# White is $\sigma = 1$, where SN holds the normalized layers.

# %%
fig = plots.plot_spectral_heatmap(train_logs, network="critic", head="q1", groups=["mlp2", "modern8", "modern8+sn"])
fig.suptitle("Spectral norm of each critic layer: without SN every hidden layer grows (red); with SN only the "
             "first and last can", y=1.02, fontsize=10)
plt.show()

# %% [markdown]
# Per run, the last logged (finite) spectral norms of the modern critics' `q1` layers and their
# product. The product is the eq. (5) factor for a plain MLP; for these residual heads it is not the
# bound (notebook 03: each block contributes $1 + \mathrm{Lip}(\mathrm{LN})\,\sigma(w_1)\sigma(w_2)$;
# you compute that bound in the exercises), but it shows how much steeper the unnormalized layers
# have let the network become:

# %%
finite = train_logs[(train_logs["nonfinite"] == 0) & train_logs["config"].str.startswith("modern")]
last = finite.sort_values("frame").groupby("run_dir").tail(1).sort_values(["config", "seed"])
layers = [c for c in plots.sigma_columns(last, "critic", "q1") if last[c].notna().all()]
table = last.set_index(["config", "seed", "frame"])[layers].T
table.index = [c.removeprefix("sigma/critic/q1.").replace(".branch", "") for c in table.index]
table.loc["product"] = table.prod()
with pd.option_context("display.float_format", "{:.3g}".format):
    display(table)
sn_rows = train_logs[(train_logs["config"] == "modern8+sn") & (train_logs["nonfinite"] == 0)]
normalized = sn_rows[[c for c in plots.sigma_columns(sn_rows, "critic", "q1") if ".blocks." in c]]
print(f"with SN, every normalized layer's measured sigma_max in every logged row of every run: "
      f"{normalized.min().min():.3f} to {normalized.max().max():.3f}")
products = table.loc["product"]
print(f"product of the {len(layers)} spectral norms at the end: without SN {products['modern8'].min():.2g} to "
      f"{products['modern8'].max():.2g}, with SN {products['modern8+sn'].min():.3g} to {products['modern8+sn'].max():.3g}")

# %% [markdown]
# SN does what Sec. 4 says: every normalized layer's measured $\sigma_{\max}$ stays within a few
# percent of 1 at every logged step (one power iteration per update lags a little when the weights
# move fast; notebook 04, section 4), so the product of the hidden layers cannot grow, whatever the
# depth. The unnormalized input and output layers still grow, which is why SN bounds the *growth
# with depth*, not the slope itself. Without SN the product of the spectral norms reaches many
# orders of magnitude more, and the actor's gradient norms (section 3) grew with it; in these runs
# SN is in the actor as well, so the figures do not say how much of that is the critic's doing.
# Section 5 asks that question of an experiment built for it.


# %% [markdown]
# ## 5. Which mechanism? The pre-registered experiment's answer
#
# The stress test leaves two questions open. SN was on the actor as well as the critic, so it
# cannot say whether the critic's SN alone, eq. (5)'s argument, is what helps. And in the runs that
# crashed, SAC's temperature α ran away too, so the failure may be α's rather than the critic's
# slope. A third explanation was never tested: Gogianu et al. (2021) argue that SN helps mostly by
# shrinking the optimizer's steps.
#
# The pre-registered experiment (notebook [09](09_reproducing_the_paper.ipynb), section 2, shows
# all of it) has a head for each question, at settings fixed before any run: the paper's modern head
# (4 blocks in the critic, 2 in the actor), a learning rate derived in advance rather than searched
# for, three tasks and five new seeds per head.
#
# - `modern4+critic_sn`: SN on the critic only (**H3**: the critic's SN is enough);
# - `mlp2+fixed_alpha` and `modern4+fixed_alpha`: α held at 0.1 (**H4**: the gap remains without a
#   learned α);
# - `modern4+sigma_steps`: no SN, but each Adam step divided by the layer's spectral norm (**H5**: SN
#   is more than smaller steps).
#
# Each bar below is a probability of improvement with its 95% interval: P(X > Y) is the chance that a
# run of X scores above a run of Y on the same task. An interval that crosses 0.5 cannot tell X and Y
# apart.

# %%
import importlib.util

PREREG = Path("../results/prereg")
spec = importlib.util.spec_from_file_location("prereg_analysis", PREREG / "analyze.py")
prereg = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = prereg  # its dataclasses look their module up there
spec.loader.exec_module(prereg)

_, grid = prereg.report()
mechanism = prereg.comparison_table(grid["matrices"])
mechanism = mechanism[mechanism["hypothesis"].isin(["H1", "H3", "H4", "H5"])]
fig, ax = plt.subplots(figsize=(7.5, 3.6))
plots.plot_intervals([f"{r.hypothesis}: {r.X} > {r.Y}" for r in mechanism.itertuples()], mechanism["P(X > Y)"],
                     mechanism["low"], mechanism["high"], "P(X > Y), 95% interval", ax=ax, references=[0.5])
ax.set_title("Which mechanism? (3 tasks × 5 seeds per head)")
plt.show()
for hypothesis in ["H1", "H3", "H4", "H5"]:
    verdict, evidence = grid["verdicts"][hypothesis]
    print(f"{hypothesis}: {verdict.upper()}\n    " + "\n    ".join(evidence))

# %% [markdown]
# And the symptoms of section 3, per head: the largest α its runs logged (it starts at 0.1), the
# largest actor gradient norm, how many of the 15 runs let α pass 1, and how many crashed:

# %%
grid_logs = plots.read_train_logs(prereg.state_runs(finished=True))
per_run = grid_logs.groupby(["config", "task", "seed"]).agg(alpha=("alpha", "max"),
                                                            actor_grad=("actor_grad_norm", "max"))
by_head = per_run.groupby("config")
pd.DataFrame({"largest α, median over runs": by_head["alpha"].median(), "largest α, any run": by_head["alpha"].max(),
              "largest actor gradient norm, any run": by_head["actor_grad"].max(),
              "runs with α > 1": by_head["alpha"].apply(lambda a: int((a > 1).sum())),
              "crashed runs": pd.Series(grid["crashes"])}).loc[prereg.HEADS].round(2)

# %% [markdown]
# The runs where α passed 1, with each one's largest actor gradient norm and its score (the mean
# return of its last two evaluations):

# %%
score = grid["scores"].set_index(["config", "task", "seed"])["score"]
runaway = per_run[per_run["alpha"] > 1].join(1000 * score.rename("score (return)"))
print(f"runs whose actor gradient norm passed 100: {int((per_run['actor_grad'] > 100).sum())}")
runaway.rename(columns={"alpha": "largest α", "actor_grad": "largest actor gradient norm"}).round(1)

# %% [markdown]
# What the experiment says about the mechanism, at this scale (states, heads 128 wide, 64,000
# frames, three tasks, five seeds per head):
#
# - **The failure is real, but it is not a crash.** H1 holds: a run of `mlp2` beats a run of
#   `modern4` with probability 0.75 [0.60, 0.91]. No run of any head produced a non-finite loss; the
#   deep head's failure here is low returns, not the blow-ups of the stress test.
# - **It goes with α running away.** In 3 of the 15 `modern4` runs α climbed from 0.1 to between 25
#   and 60, all three on `cartpole_swingup`. These are exactly the runs whose actor gradient norm
#   passed 100 (it reached 16,270; no run of `mlp2`, `modern4+sn` or `modern4+sigma_steps` went past
#   19), and each of them ended with a return between 100 and 155 out of 1000.
# - **SN on the critic alone is not shown to be enough (H3 inconclusive).** It helps on average,
#   P(`modern4+critic_sn` > `modern4`) = 0.69 [0.51, 0.87], but SN on both networks does better still,
#   0.77 [0.60, 0.93], and two of the five `cartpole_swingup` runs with SN on the critic only had α
#   and the actor's gradient run away just as without SN. Eq. (5) bounds how fast the critic changes
#   with the action; the actor's gradient also flows through the actor's own layers and carries α
#   times the entropy's gradient, and SN on the critic bounds neither.
# - **Without a learned α, no gap is shown (H4 rejected).** With α held at 0.1 the comparison of the
#   two heads gives P(`mlp2+fixed_alpha` > `modern4+fixed_alpha`) = 0.61 [0.43, 0.80], an interval
#   that contains 0.5, and no actor gradient norm in `modern4+fixed_alpha` passed 28. "Not shown" is
#   not "absent": the estimate still leans towards the MLP, and five seeds per task cannot see a
#   small gap.
# - **Smaller steps do what SN does (H5 rejected).** Dividing each layer's Adam step by its spectral
#   norm, with no SN in the forward pass, beats `modern4` (0.88 [0.72, 1.00]), keeps α under 0.5 in
#   every run, and cannot be told apart from SN: P(`modern4+sn` > `modern4+sigma_steps`) = 0.65
#   [0.47, 0.83]. Within this experiment's power, SN's gain is accounted for by what it does to the
#   size of the optimizer's steps, the explanation of Gogianu et al. (2021).
#
# Put together, the runs fit this account better than eq. (5)'s: in the deep head, steps that are too
# large for the learned temperature let α run away on one task, and the actor's gradient grows with
# it; what prevents it is shrinking the steps of every normalized layer, in the actor as well as the
# critic, whether through SN or directly. The experiment shows which interventions help, not the
# causal chain between α and the actor, and it says nothing yet about the paper's scale: widths of
# 1024, pixels and 500,000 frames.

# %% [markdown]
# ## Exercises
#
# In `exercises/ex08_diagnostics.py`:
#
# - **Exercise 1** (★, 1 point): `global_grad_norm`, the number in every `*_grad_norm` column of
#   `train.csv`: the L2 norm of all of a network's gradients taken together, before clipping.
# - **Exercise 2** (★★, 1 point): `orders_of_magnitude_per_1000_frames`, the growth rate used above:
#   the slope of the straight line that an exponential growth draws on Fig. 3's log scale, in
#   decades per 1,000 frames, robust to the NaN and inf a crash logs.
# - **Exercise 3** (★★★, 1 point): `actor_gradient_by_chain_rule`, the actor's gradient of eq. (3)
#   computed in its two factors, the critic's slope $\partial Q/\partial a$ and the product with
#   $\partial a/\partial\theta$, as the toy of section 2 logs them.
#
# The eq. (5)-style bound of a modern head, from the spectral norms a `train.csv` row logs (input
# layer, the blocks' $w_1, w_2$, output layer) and a bound on LayerNorm's slope, is your
# `modern_head_lipschitz_bound` of notebook 05 (`exercises/ex05_modern.py`); on a live network,
# `course_lib.spectral.lipschitz_upper_bound(head)` computes it from the layers themselves.
# Write the three, then run:

# %%
from course_lib import checks

checks.check("ex08_diagnostics.global_grad_norm")
checks.check("ex08_diagnostics.orders_of_magnitude_per_1000_frames")
checks.check("ex08_diagnostics.actor_gradient_by_chain_rule")

# %% [markdown]
# ## Questions
#
# 1. Fig. 3's argument against overfitting rests on the critic loss. Why would an overfitting critic
#    have a *lower* loss on the replay buffer, and why is a higher loss a sign of unstable training?
# 2. The actor's gradient norm is bounded by $\|\partial Q/\partial a\|\,\|\partial a/\partial\theta\|$.
#    Which of the two factors does SN in the *critic* control, and which does SN in the *actor*
#    control?
# 3. With SN, the hidden layers of the critic all have $\sigma_{\max} = 1$, but the input and output
#    layers grow. Can the SN critic still become arbitrarily steep? Where would it have to do it?
# 4. Our CPU-scale runs differ from the paper's in observations (states vs. pixels), width, budget and
#    number of updates. For each difference, say whether you expect it to make the instability weaker
#    or stronger, and why.
# 5. In the toy of section 2 the bound grew by orders of magnitude while the actor's gradient did
#    not. Does that contradict the paper's explanation of Fig. 3?
#
# <details><summary>Answers</summary>
#
# 1. An overfitting critic fits its training data (the replayed transitions) *too well*: its loss on
#    them is low while it generalizes badly. A bigger network has more capacity, so it should reach a
#    loss at least as low; that it ends higher means the optimization itself is going wrong.
# 2. Critic SN bounds $\|\partial Q/\partial a\|$ (eq. 5 with hidden factors 1); actor SN bounds the
#    actor's own Jacobian, and so $\|\partial a/\partial\theta\|$ through the layers after each weight.
# 3. Yes: the bound is $\sigma(w_{\text{in}})\,\sigma(w_{\text{out}})$ times the blocks' factors
#    $1 + \mathrm{Lip}(\mathrm{LN})$, and the first and last layers are free to grow, as are LayerNorm's
#    slopes when its inputs have little spread. SN removes the *multiplicative growth with depth*, not
#    all growth.
# 4. States vs. pixels: no encoder trained through the critic's loss, fewer input dimensions, so
#    probably weaker. Width 128 vs. 1024: Adam moves every weight by about the learning rate, so a
#    wider matrix's spectral norm can grow faster per step; narrower is probably weaker. About 11k vs.
#    250k updates: the growth in Fig. 3 builds up over the whole run, so a short budget is weaker. A
#    higher learning rate speeds the growth up, which is why the stress test raised it.
# 5. No. Eq. (5) is an upper bound: the paper's argument is that a deep critic without SN *can*
#    become steep enough to blow up the actor's gradient, and that SN takes that possibility away.
#    Whether a run uses the room depends on the data and the targets: the toy's critic is pinned
#    down by fresh, well-spread transitions of a smooth problem, while the agent's replayed data and
#    moving targets let some runs use it (section 3). With SN the room is not there in either case.
# </details>
