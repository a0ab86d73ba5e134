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
# # 03 · Lipschitz constants: how steep can a critic be?
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/03_lipschitz.ipynb)
#
# Sec. 4 of *Towards Deeper Deep RL with Spectral Normalization* (Bjorck, Gomes & Weinberger, 2021)
# explains the instability of deep critics with one inequality, eq. (5): the critic's slope is at
# most the product of its layers' spectral norms. This notebook makes that inequality concrete and
# measures how tight it is. Exercises: `exercises/ex03_lipschitz.py` (check cells below).

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
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import checks, layernorm_spread, lipschitz as L, nets, spectral, widgets

pd.set_option("display.precision", 3)

# %% [markdown]
# ## Why the critic's steepness matters
#
# In SAC and DDPG the actor learns by following the critic: eq. (3) of the paper,
# $\nabla_\theta = \partial Q_\psi(a_\theta, s) / \partial \theta$, is computed *through* the critic,
# so by the chain rule the actor's gradient is $\frac{\partial Q}{\partial a}\cdot\frac{\partial a}{\partial \theta}$.
# If $\|\partial Q / \partial a\|$ can become huge, so can the actor's updates: Fig. 3 of the paper
# shows exactly that for deep modern critics (growing, spiking gradient norms), and Sec. 4 argues that
# bounding the critic's **Lipschitz constant** bounds this gradient.
#
# A function $f$ is $C$-Lipschitz if $\|f(x) - f(y)\| \le C\,\|x - y\|$ for all $x, y$; the smallest
# such $C$ is *the* Lipschitz constant. For a differentiable $f$ it equals the largest gradient
# (Jacobian) norm anywhere, so **every measured gradient norm is a lower bound** on it, and any
# constant we can prove is an **upper bound**. This notebook puts the two side by side.
#
# 1. A linear layer: its Lipschitz constant is its largest singular value.
# 2. Compositions: eq. (5), the product bound, and where LayerNorm and skip connections fit.
# 3. The bound against the measured $\max\|\partial Q/\partial a\|$ of random critics, as depth grows.
# 4. The same for critics that were trained (on a regression task, see below).

# %% [markdown]
# ## 1. A linear layer stretches by at most $\sigma_{\max}$
#
# For $x \mapsto Wx$, $\|Wx - Wy\| = \|W(x - y)\|$, so the Lipschitz constant is the largest
# stretch $\sup_x \|Wx\|/\|x\|$: the **operator norm**. With the SVD $W = U\Sigma V^\top$,
# $\|Wx\|^2 = \sum_i \sigma_i^2 (v_i^\top x)^2 \le \sigma_{\max}^2 \|x\|^2$, with equality for
# $x = v_1$, the top right singular vector. In two dimensions you can see it: $W$ maps the unit
# circle to an ellipse whose semi-axes are the singular values.

# %%
W2 = torch.tensor([[2.0, 1.0], [0.5, 1.0]])
U2, S2, Vh2 = torch.linalg.svd(W2)
angles = torch.linspace(0, 2 * math.pi, 200)
circle = torch.stack([angles.cos(), angles.sin()])
ellipse = W2 @ circle
print(f"singular values of W: {S2[0]:.3f}, {S2[1]:.3f}; largest stretch on the circle: {ellipse.norm(dim=0).max():.3f}")

fig, ax = plt.subplots(figsize=(4, 4))
ax.plot(*circle, label="unit circle ||x|| = 1")
ax.plot(*ellipse, label="its image W x")
top = S2[0] * U2[:, 0]
ax.annotate("", xy=top.tolist(), xytext=(0, 0), arrowprops=dict(arrowstyle="->", color="tab:red"))
ax.text(*(0.55 * top).tolist(), r"$\sigma_{\max} u_1$", color="tab:red")
ax.set_aspect("equal")
ax.set_xlabel("first coordinate")
ax.set_ylabel("second coordinate")
ax.legend(loc="lower right", fontsize=8)
ax.set_title("W maps the circle to an ellipse; longest semi-axis = sigma_max")
plt.show()

# %% [markdown]
# In higher dimension, random directions are a poor way to find the steepest one: most of them are
# nearly orthogonal to $v_1$. Below, $W$ is a random $20\times 10$ matrix; the largest ratio
# $\|Wx\|/\|x\|$ over $n$ random Gaussian $x$ creeps towards $\sigma_{\max}$ but **never exceeds it**.

# %%
W = torch.randn(20, 10, generator=torch.Generator().manual_seed(0))
gains = L.linear_gain_table(W, sample_sizes=(10, 100, 1_000, 10_000, 100_000), seed=0)
print(gains.round(4).to_string(index=False))

x = torch.randn(20_000, 10, generator=torch.Generator().manual_seed(1))
ratios = ((x @ W.T).norm(dim=1) / x.norm(dim=1)).numpy()
svals = torch.linalg.svdvals(W)
plt.figure(figsize=(6, 2.8))
plt.hist(ratios, bins=60, color="tab:blue", alpha=0.8)
plt.axvline(svals[0].item(), color="tab:red", label=r"$\sigma_{\max}$")
plt.axvline(svals[-1].item(), color="tab:green", label=r"$\sigma_{\min}$")
plt.xlabel("||W x|| / ||x|| for random x")
plt.ylabel("count (of 20,000 random x)")
plt.legend()
plt.title("every ratio lies between the smallest and the largest singular value")
plt.show()

# %% [markdown]
# **Exercise 1** (★, 1 point): `linear_lipschitz` in `exercises/ex03_lipschitz.py`: return the
# Lipschitz constant of a linear layer. Write it, then run the check (it prints ✓, what is wrong,
# or "not written yet").

# %%
checks.check("ex03_lipschitz.linear_lipschitz")

# %% [markdown]
# ## 2. Compositions: the bound of eq. (5)
#
# Lipschitz constants multiply under composition: $\|f(g(x)) - f(g(y))\| \le L_f\,\|g(x) - g(y)\|
# \le L_f L_g\,\|x - y\|$. A critic MLP is $Q = w_L \circ f \circ w_{L-1} \circ \dots \circ f \circ w_1$
# applied to $[\phi(s)\,\|\,a]$ (eq. 4); ReLU is 1-Lipschitz and biases shift without stretching, so
#
# $$\mathrm{Lip}(Q) \;\le\; \prod_i \|f\|\,\|w_i^c\| \;=\; \prod_i \sigma_{\max}(w_i^c).$$
#
# This product is the heart of eq. (5). The paper writes eq. 5 as a bound on the output,
# $\|Q(s)\| \le (\|A(s)\| + \|\phi(s)\|)\prod_i \|f\|\|w^c_i\|$. That form needs **zero biases**
# (and $f(0) = 0$, true for ReLU): it compares $Q(x)$ with $Q(0)$, and only then is $Q(0) = 0$. With
# biases the honest statement is $\|Q(x)\| \le \|Q(0)\| + \mathrm{Lip}(Q)\,\|x\|$, and
# $\|x\| = \|A(s) \,\|\, \phi(s)\| \le \|A(s)\| + \|\phi(s)\|$. Either way the product is the
# part that bounds the slope, and the slope is what reaches the actor. Because $a$ is one block of the critic's input,
# $\|\partial Q/\partial a\| \le \|\nabla_{[\phi, a]} Q\| \le \mathrm{Lip}(Q)$: bounding the product
# bounds the gradient that reaches the actor.
#
# `course_lib.spectral.lipschitz_upper_bound` computes the product for the course's heads. For an
# MLP it is exactly the product of the measured layer norms:

# %%
torch.manual_seed(0)
mlp = nets.make_head("mlp", 56, 1, hidden_dim=64, depth=3)
sigmas = spectral.layer_spectral_norms(mlp)
print({name: round(s, 4) for name, s in sigmas.items()})
print(f"product {math.prod(sigmas.values()):.4f} = lipschitz_upper_bound {spectral.lipschitz_upper_bound(mlp):.4f}")

# %% [markdown]
# All ones: the course initialises heads like DrQ, with **orthogonal** weights, whose singular
# values are all 1. A freshly initialised MLP critic therefore has bound exactly 1, whatever its
# depth. Training moves the weights away from that, as section 4 shows.
#
# **Exercise 2** (★, 1 point): `mlp_lipschitz_bound`, the product bound from a list of weight matrices.
# **Exercise 3** (★★, 2 points): `action_gradient_norms`, the per-sample $\|\partial Q/\partial a\|$ with
# `torch.autograd.grad`: the quantity we measure below (the course's version is
# `spectral.input_gradient_norms`).

# %%
checks.check("ex03_lipschitz.mlp_lipschitz_bound")

# %%
checks.check("ex03_lipschitz.action_gradient_norms")

# %% [markdown]
# ### Skip connections and LayerNorm, honestly
#
# The paper's *modern* head (Sec. 3.2) stacks blocks $x + w_2\,\mathrm{ReLU}(w_1\,\mathrm{LN}(x))$.
# Two more rules are needed:
#
# * a skip connection adds slopes: $\mathrm{Lip}(x + g(x)) \le 1 + \mathrm{Lip}(g)$, so a block
#   contributes $1 + \mathrm{Lip}(\mathrm{LN})\,\sigma(w_1)\,\sigma(w_2)$;
# * LayerNorm, $\mathrm{LN}(x) = \gamma \odot (x - \bar x)/\sqrt{\mathrm{var}(x) + \epsilon} + \beta$,
#   has at $x$ the Jacobian $\mathrm{diag}(\gamma)\,P_x / \sqrt{\mathrm{var}(x) + \epsilon}$, where $P_x$
#   removes the mean and shrinks the radial direction (its norm is 1 for $d \ge 3$). So
#   $\max|\gamma| / \sqrt{\mathrm{var}(x) + \epsilon}$ is an **upper bound** on the Jacobian's norm,
#   reached when all $\gamma_j$ are equal (as at initialization, $\gamma = 1$) and not in general.
#   LayerNorm is steep where its input has little spread: **globally** its constant is
#   $\max|\gamma|/\sqrt{\epsilon} \approx 316$ for $\gamma = 1$ (PyTorch's $\epsilon = 10^{-5}$),
#   approached near constant inputs.
#
# So the only honest *global* bound for a modern head contains a factor of about 317 per block. On
# the inputs we actually feed it, every LayerNorm sees some minimum spread $s_{\min}$, and there a
# **region-restricted** bound with $1/\sqrt{s_{\min}^2 + \epsilon}$ holds: it bounds the gradient at
# those inputs, not the global Lipschitz constant. Here is LayerNorm's slope measured against the
# formula, first with $\gamma = 1$ (equality), then with a random $\gamma$ (strictly below):

# %%
ln = torch.nn.LayerNorm(64)
g = torch.Generator().manual_seed(0)
for std in (1.0, 0.1, 0.01, 0.001):
    x0 = 0.3 + std * torch.randn(1, 64, generator=g)
    J = torch.autograd.functional.jacobian(ln, x0).reshape(64, 64)
    spread = x0.std(unbiased=False).item()
    print(f"input std {spread:.4f}: slope ||J|| = {torch.linalg.matrix_norm(J, ord=2).item():8.2f}, "
          f"formula 1/sqrt(var + eps) = {1 / math.sqrt(spread**2 + ln.eps):8.2f}")
print(f"global constant 1/sqrt(eps) = {spectral.layernorm_lipschitz(ln):.2f}")

with torch.no_grad():
    ln.weight.copy_(torch.randn(64, generator=g))  # a LayerNorm whose gamma is no longer constant
x0 = 0.3 + 0.1 * torch.randn(1, 64, generator=g)
J = torch.autograd.functional.jacobian(ln, x0).reshape(64, 64)
slope = torch.linalg.matrix_norm(J, ord=2).item()
formula = ln.weight.abs().max().item() / math.sqrt(x0.var(unbiased=False).item() + ln.eps)
print(f"random gamma: slope ||J|| = {slope:.2f} <= max|gamma| / sqrt(var + eps) = {formula:.2f}")
assert slope <= formula * (1 + 1e-6)

# %% [markdown]
# **Exercise 4** (★, 1 point): `layernorm_slope_bound`, that bound, per sample of a batch.

# %%
checks.check("ex03_lipschitz.layernorm_slope_bound")

# %% [markdown]
# ## 3. Random critics: the bound against the measurement, as depth grows
#
# `L.bound_vs_measured` builds critic heads of growing depth with the course's initialisation
# (`nets.make_head`, hidden width 128 here instead of the paper's 1024, to stay fast on a CPU), feeds
# them 1024 realistic inputs $[\phi(s)\,\|\,a]$ ($\phi = \tanh(\cdot)$ features as DrQ's encoder makes
# them, actions uniform in $[-1, 1]$), and reports
#
# * `bound`: eq. (5)'s product (for modern heads with LayerNorm's global constant),
# * `region_bound`: the same with LayerNorm's slope at the smallest input spread it saw,
# * `measured`: the largest $\|\partial Q/\partial a\|$ over the 1024 inputs (a lower bound on the
#   true constant), and `looseness` = bound / measured.

# %%
random_mlp = L.bound_vs_measured("mlp", range(1, 9), hidden_dim=128, n_inputs=1024, seed=0)
random_modern = L.bound_vs_measured("modern", range(1, 9), hidden_dim=128, n_inputs=1024, seed=0)
random_critics = pd.concat([random_mlp, random_modern], ignore_index=True)
assert (random_critics.measured <= random_critics.region_bound * (1 + 1e-6)).all()
assert (random_critics.region_bound <= random_critics.bound * (1 + 1e-6)).all()
columns = ["arch", "depth", "bound", "region_bound", "measured", "looseness", "region_looseness"]
print(random_critics[columns].to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %%
def plot_bounds(frames, title):
    fig, axes = plt.subplots(1, len(frames), figsize=(5 * len(frames), 3.4), squeeze=False)
    for ax, (label, df) in zip(axes[0], frames.items()):
        ax.semilogy(df.depth, df.bound, "o-", color="tab:red", label="eq. (5) bound (global)")
        if (df.region_bound < df.bound * 0.999).any():
            ax.semilogy(df.depth, df.region_bound, "s--", color="tab:orange", label="region-restricted bound")
        ax.semilogy(df.depth, df.measured, "^-", color="tab:blue", label="measured max ||dQ/da||")
        if df.true_max.notna().any():
            ax.semilogy(df.depth, df.true_max, ":", color="gray", label="target's true max ||dQ*/da||")
        ax.set_xlabel("depth (hidden layers / blocks)")
        ax.set_ylabel("slope (Q units per action unit)")
        ax.set_title(label)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


plot_bounds({"random MLP critics": random_mlp, "random modern critics": random_modern},
            "the bound always holds; how far above the measurement it sits grows with depth")

# %% [markdown]
# What the table says:
#
# * **MLPs at initialisation**: the bound is 1 at every depth (orthogonal layers), but the measured
#   slope *falls* with depth, so the bound is 4x too large at depth 1 and about 30x at depth 8. Each
#   ReLU zeroes about half of the coordinates, and the bound assumes every layer stretches the same
#   worst-case direction, which random layers never do together.
# * **Modern heads**: the global bound multiplies about 317 per block and is astronomically loose
#   (around $10^{20}$ at 8 blocks). The region-restricted bound is far smaller but still grows
#   geometrically, while the measured slope grows only slowly: the skip connections keep a path
#   of slope about 1 and the LayerNorms rescale what the branches add.
#
# Eq. (5) is a *worst case*. It is useful because it is cheap, holds for every input, and, once every
# factor is at most 1 (what spectral normalization enforces), caps the slope whatever the weights do.

# %% [markdown]
# ### Try it: depth and the spread of LayerNorm's input
#
# How loose the modern head's bound is depends on how much spread its LayerNorms see. The panel
# builds random modern critics of depth 1 to the depth you choose (hidden width 64) and feeds them
# the inputs above multiplied by an **input scale**: small scales mean LayerNorm inputs with little
# spread. It shows the global bound, the bound on those inputs, the measured $\max\|\partial Q/\partial a\|$,
# and LayerNorm's slope bound at the smallest spread seen. It calls `layernorm_spread.layernorm_spread_report`,
# as the cell after it does. Slide the scale down to $10^{-3}$, then up to 10.

# %%
panel = widgets.LayerNormPanel(depth=4, input_scale=1.0)
panel

# %%
spread = layernorm_spread.layernorm_spread_report(depth=4, input_scale=1.0)
assert spread.equals(panel.result)
assert (spread.measured <= spread.region_bound * (1 + 1e-6)).all() and (spread.region_bound <= spread.bound).all()
widgets.show_spread_report(spread)

# %% [markdown]
# **Question.** Shrink the input scale by 10. The bound on these inputs grows by about $10^{\text{depth}}$
# once the spread is small; by how much does the measured slope grow, and why so much less?
# What happens at scale $10^{-3}$, where the spread approaches $\sqrt{\epsilon} \approx 0.003$?
#
# <details><summary>Answer</summary>
#
# About 10 times, not $10^{\text{depth}}$. LayerNorm divides out the scale of its input, so the
# head computes nearly the same function of the *unscaled* input, and by the chain rule its slope
# in the scaled input is 1/scale times the old one: one factor of 10 for the whole head. The bound
# instead charges every block LayerNorm's worst slope, $1/\text{spread}$, as if each block could
# use it on its own: a factor of 10 per block. Near $\text{spread} \approx \sqrt{\epsilon}$ the
# $\epsilon$ takes over: LayerNorm's slope saturates at $1/\sqrt{\epsilon}$, the region bound meets
# the global one, and LayerNorm no longer removes the scale completely.
#
# </details>

# %% [markdown]
# ## 4. Trained critics
#
# Random weights are not what the actor sees. "Trained" here means: a critic head regressed for 200
# Adam steps (lr $10^{-3}$, fresh batches of 128) onto a made-up target
# $Q^*(\phi, a) = \sin(\phi \cdot c) - \|a - \tanh(\phi M)\|^2$ (`L.synthetic_q`), whose action
# gradient we know exactly. It takes seconds on a CPU. It is **not** an RL critic: there is no
# bootstrapped target and no actor chasing its gradient, which is where the paper's instability comes
# from (notebooks 06-08 train real agents). Hidden width 128 again, to keep it quick.

# %% tags=["nbval-ignore-output"]
settings = dict(hidden_dim=128, trained=True, train_steps=200, train_batch_size=128, n_inputs=1024, seed=0)
trained_mlp = L.bound_vs_measured("mlp", [1, 2, 4, 8], **settings)
trained_mlp_sn = L.bound_vs_measured("mlp", [1, 2, 4, 8], spectral_norm=True, **settings)
trained_modern = L.bound_vs_measured("modern", [1, 2, 4, 8], **settings)
trained = pd.concat([trained_mlp, trained_mlp_sn, trained_modern], ignore_index=True)
assert (trained.measured <= trained.region_bound * (1 + 1e-6)).all()
print(trained[["arch", "sn", "depth", "bound", "region_bound", "measured", "true_max", "looseness"]]
      .to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %% [markdown]
# These numbers come from 200 steps of training, so their last digits depend on how the CPU rounds
# (yours may differ); the facts the text below relies on are checked here:

# %%
by_depth = {"mlp": trained_mlp.set_index("depth"), "mlp+sn": trained_mlp_sn.set_index("depth")}
print("every measured slope is below its bound:", bool((trained.measured <= trained.region_bound * (1 + 1e-6)).all()))
print("MLP bound above 200 at depth 8, rising with every depth:",
      bool(by_depth["mlp"].bound[8] > 200 and by_depth["mlp"].bound.is_monotonic_increasing))
print("the MLPs' measured slope stays below the target's:", bool((trained_mlp.measured < trained_mlp.true_max).all()))
print("with SN the bound stays within 2x of its depth-1 value at every depth:",
      bool((by_depth["mlp+sn"].bound < 2 * by_depth["mlp+sn"].bound[1]).all()))
print("the SN critics are flatter than the MLPs from depth 2 on:",
      bool((by_depth["mlp+sn"].measured[[2, 4, 8]] < by_depth["mlp"].measured[[2, 4, 8]]).all()))

# %%
plot_bounds({"trained MLP critics": trained_mlp, "trained MLP critics with SN": trained_mlp_sn,
             "trained modern critics": trained_modern},
            "after training the bound grows geometrically with depth; SN keeps it flat")

# %% [markdown]
# Training makes the weights grow: the MLP bound, 1 at initialisation, now gains a factor of about
# two per layer and runs away with depth (above 200 at depth 8), while the measured slope stays
# below the target's own (gray, about 6 on these inputs); the deeper MLPs and all modern heads fit
# the target faster and get closer to it in 200 steps. The deeper the network, the looser the bound:
# eq. (5) can no longer tell a critic that *is* steep from one that merely *could* be.
#
# With spectral normalization on every layer but the first and the last (the paper's placement), the
# hidden layers have $\sigma_{\max} = 1$ and the bound is $\sigma(w_{\text{first}})\,\sigma(w_{\text{last}})$,
# flat in depth. Look at `measured` though: the SN critics stay much *flatter than the target*.
# Capping the slope also caps what the critic can express, at least within 200 steps; the first and
# last layers must grow to make up for it. That is the trade-off SN makes, and one reason it is
# applied to the hidden layers only.

# %% [markdown]
# ## Questions
#
# 1. The largest ratio $\|Wx\|/\|x\|$ over $10^5$ random $x$ stayed visibly below $\sigma_{\max}$
#    for a $20\times10$ matrix. How would you find the maximizing $x$ instead of sampling?
# 2. Why is $\max_i \|\partial Q/\partial a\|(x_i)$ over samples a *lower* bound on the Lipschitz
#    constant, and the product of spectral norms an *upper* bound?
# 3. A random MLP critic has bound exactly 1 at every depth, yet its measured slope shrinks with
#    depth. Give two reasons the product bound is not attained.
# 4. LayerNorm makes the global bound of a modern head enormous. Is the network really that steep
#    somewhere? What kind of input would it take?
# 5. Spectral normalization divides every hidden weight by its $\sigma_{\max}$. Which factor of
#    eq. (5) does it leave free in the paper's placement, and why not normalize those too?
#
# <details><summary>Answers</summary>
#
# 1. Maximize $\|Wx\|$ over unit $x$: that is the top right singular vector. Repeatedly applying
#    $W^\top W$ to any start and renormalizing converges to it: the **power method**, notebook 04.
# 2. For each sample, $\|\partial Q/\partial a\| \le \|\nabla Q\| \le \mathrm{Lip}(Q)$, so the sample
#    maximum cannot exceed the constant. The product bound follows from composing per-layer bounds, each
#    valid for all inputs, so it is at least the constant.
# 3. ReLUs zero out coordinates (the active Jacobian is a masked, smaller matrix), and consecutive
#    layers' top singular directions do not line up, so the worst-case stretches never compose.
#    Also, $\partial Q/\partial a$ only sees the 6 action columns of the first layer.
# 4. It would need inputs whose features are (nearly) constant across the hidden units at some block,
#    so that LayerNorm divides by $\sqrt{\epsilon}$. Such points exist, so the global constant really is
#    large, but realistic inputs never go there: that is why we also report the region-restricted bound.
# 5. The first and the last layer. The first maps the features into the hidden width and the last
#    sets the scale of Q (returns can be in the hundreds); normalizing them would force
#    $\mathrm{Lip}(Q) \le 1$, too flat to represent real value functions (section 4 already shows the
#    SN critic falling short of a target of slope about 6).
#
# </details>
#
# **Next:** notebook 04 computes $\sigma_{\max}$ cheaply with the power method and builds spectral
# normalization from scratch.
