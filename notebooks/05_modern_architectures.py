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
# # 05 · Modern architectures: residual heads, LayerNorm and spectral normalization
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/05_modern_architectures.ipynb)
#
# Sec. 3.2 of the paper swaps DrQ's small MLP heads for "modern" ones, residual feed-forward blocks
# with LayerNorm, as in a Transformer; Sec. 5 adds spectral normalization to make them train. This
# notebook builds the heads, counts what they cost (Table 3), measures their Lipschitz bounds and
# gradients, and ends with a panel to explore depth and SN. Exercises: `exercises/ex05_modern.py`.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.patches import FancyBboxPatch

from course_lib import checks, lipschitz as L, nets, paper, spectral, widgets

# %% [markdown]
# ## 1. The three heads
#
# All agents in the paper share one convolutional encoder and vary only the **heads**, the
# feed-forward networks of actor and critic (Sec. 3.1). The course builds them with
# `course_lib.nets.make_head(arch, in_dim, out_dim, hidden_dim, depth, spectral_norm)`:
#
# | name | what it is | paper |
# |---|---|---|
# | `mlp`, depth 2 | Linear+ReLU, Linear+ReLU, Linear | DrQ's base head (Sec. 3.1) |
# | `mlp`, depth 4 | four hidden layers of the same width | "deeper" MLP (Sec. 3.3) |
# | `modern`, depth $n$ | Linear, then $n$ blocks $x + w_2\,\mathrm{ReLU}(w_1\,\mathrm{LN}(x))$, then Linear | Sec. 3.2: 4 blocks for the critic, 2 for the actor |
#
# The modern block is the Transformer's feed-forward block with the LayerNorm moved to the start of
# the residual branch ("pre-LN", Sec. 3.2). $w_1$ widens to $2h$ and $w_2$ narrows back to $h$: the
# paper's main text does not give the inner width; $2h$ is the course's choice (that of the
# Transformer's feed-forward block is $4h$), see section 2.
# With `spectral_norm=True`, every Linear except the first and the last is normalized (Sec. 5.1).
# A small MLP and one block of a small modern head, with SN, look like this (hidden width 8):

# %%
torch.manual_seed(0)
print(nets.make_head("mlp", 56, 1, hidden_dim=8, depth=2, spectral_norm=True))
modern_small = nets.make_head("modern", 56, 1, hidden_dim=8, depth=2, spectral_norm=True)
print(modern_small.blocks[0])
print(f"modern head: input {modern_small.input}, {len(modern_small.blocks)} blocks, output {modern_small.output}")

# %% [markdown]
# ## 2. Side by side at the paper's width
#
# With hidden width $h = 1024$, 50-d encoder features and, say, 6 action dimensions (walker, cheetah),
# the critic maps 56 numbers to one Q value and the actor maps 50 features to a mean and a log-std per
# action (12 outputs). Counted on PyTorch's `meta` device, so nothing is allocated:

# %%
heads = L.heads_table(hidden_dim=1024, feature_dim=50, action_dim=6)
print(heads.to_string(index=False, float_format=lambda v: f"{v:.2f}"))

# %% [markdown]
# A modern block holds two $h \times 2h$ matrices, four times a $h\times h$ hidden MLP layer: the
# 4-block critic has about 15 times the parameters of DrQ's 2-layer one. SN adds none (its $u, v$
# are buffers).
#
# **Table 3's acting memory.** The paper measures the memory of the whole SAC agent on a GPU. Its
# weights, in DrQ's layout: the critic's encoder and its target copy (4 convs and a
# $39200\to50$ Linear each), the actor's own $39200\to50$ Linear, one actor head and four critic
# heads (Q1, Q2 and their targets). `L.agent_weight_table` counts them, for modern blocks with inner
# width $2h$ (ours) and $h$:

# %%
ours = L.agent_weight_table(inner_multipliers=(2, 1), hidden_dim=1024, action_dim=6)
act_mem = paper.table3().query("metric == 'act_mem'").set_index("config")["mean"]
ours["paper act mem (MB)"] = ours.config.map(act_mem)
ours["paper - ours (MB)"] = ours["paper act mem (MB)"] - ours.weights_MB
print(ours.to_string(index=False, float_format=lambda v: f"{v:.1f}"))

# %% [markdown]
# The MLP columns match up to a constant 4-5 MB (what a PyTorch memory measurement adds: CUDA
# allocator blocks, inputs, buffers), so Table 3 really holds five heads and the encoders. The modern
# columns are a puzzle. With our $2h$ blocks, the *increase* from modern2 to modern4 (two more blocks
# in each of the four critic heads) is 134.3 MB, the paper's 134.4 MB, yet both absolute values sit
# 80 MB above the paper's, as if the paper's modern heads had one block fewer each than "four blocks
# for the critic and two for the actor" says. With width $h$, modern2 fits but modern4 falls 70 MB
# short. The main text cannot settle it. Sec. 3.1 refers to the paper's Appendix C for the networks'
# details; the appendices come with the arXiv version of the paper (arXiv:2106.01151), the place to
# check whether they give the blocks' inner width. The course keeps $2h$ and treats Table 3 as a
# cross-check. Its point stands either way: heads are cheap next to the encoder in *training* memory
# (4.05 vs 4.73 GB), while *acting* memory, mostly weights, grows several-fold but stays in the
# hundreds of MB.
#
# In `exercises/ex05_modern.py`: **Exercise 1** (★, 1 point): `layer_norm` from scratch;
# **Exercise 2** (★, 2 points): `residual_block_forward`, the modern block built on it;
# **Exercise 3** (★★, 1 point): `head_parameter_count`, the formula behind the table (work it out
# from the architecture).

# %%
checks.check("ex05_modern.layer_norm")

# %%
checks.check("ex05_modern.residual_block_forward")

# %%
checks.check("ex05_modern.head_parameter_count")

# %% [markdown]
# ## 3. Gradients in the heads
#
# Why would deeper heads be unstable in RL but not in supervised learning? Sec. 4 points at
# $\partial Q/\partial a$, the gradient the actor receives through the critic (eq. 3). A fresh
# orthogonal head has every $\sigma_{\max} = 1$, which hides the difference between the heads, so here
# the heads' weights are scaled by a **gain of 1.5**: a stand-in for weights that grew during training
# (in notebook 03, training grew the MLP layers' $\sigma_{\max}$ to about 2; notebook 08 shows real agents).
# `L.head_report` then measures, on 1024 random critic inputs:
#
# * the eq. (5) bound (global; for modern heads also on the sampled region, see notebook 03);
# * the measured Lipschitz estimate, $\max\|\partial Q/\partial a\|$, and its mean;
# * per Linear layer: $\sigma_{\max}$ of the weight actually used, and the norm of that weight's
#   gradient for a regression loss (a stand-in for the critic loss of eq. 2).
#
# Hidden width 256 instead of 1024, to keep it fast on a CPU.
#
# The modern head's bound is notebook 03's rules put together: the first and last Linear layers,
# and per block $1 + \mathrm{Lip}(\mathrm{LN})\,\sigma(w_1)\,\sigma(w_2)$ (ReLU is 1-Lipschitz, the
# skip adds 1).
#
# **Exercise 4** (★, 1 point): `modern_head_lipschitz_bound`, that product, from the parts'
# constants (notebook 08 uses it again). The
# check compares it with `course_lib.spectral.lipschitz_upper_bound` on random modern heads.

# %%
checks.check("ex05_modern.modern_head_lipschitz_bound")

# %%
configs = [("mlp", 2), ("mlp", 4), ("modern", 2), ("modern", 4)]
reports = {(arch, depth, sn): L.head_report(arch, depth, sn, hidden_dim=256, gain=1.5, seed=0)
           for arch, depth in configs for sn in (False, True)}
summary = pd.concat([r.summary for r in reports.values()], ignore_index=True)
summary["max layer grad"] = [r.layers.grad_norm.max() for r in reports.values()]
print(summary.drop(columns=["hidden", "gain"]).to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
for ax, sn in zip(axes, (False, True)):
    for arch, depth in configs:
        layers = reports[(arch, depth, sn)].layers
        ax.semilogy(range(len(layers)), layers.grad_norm, "o-", ms=3, label=f"{arch}{depth}")
    ax.set_xlabel("Linear layer (input first)")
    ax.set_title(f"SN {'on: every layer gets smaller gradients' if sn else 'off: modern heads get the largest'}")
    ax.legend(fontsize=8)
axes[0].set_ylabel("||dL/dW|| per layer (gain 1.5, log scale)")
plt.tight_layout()
plt.show()

# %% [markdown]
# What to read from it:
#
# * **Without SN** the MLP bound gains a factor 1.5 per layer ($1.5^3$ for mlp2, $1.5^5$ for mlp4),
#   but the measured slope does not follow: as in notebook 03, ReLUs and misaligned singular
#   directions keep random layers from compounding their worst cases. The modern heads are steeper
#   (every block adds its branch to the skip path, and LayerNorm rescales what comes in), and their
#   global bound is astronomically loose because of LayerNorm's worst case.
# * **With SN**, the hidden factors are back at 1: the MLP bound is $1.5^2$ (first and last layer)
#   at any depth, and every measured slope drops, the deep heads' most. For the modern heads SN
#   bounds $w_1, w_2$, but LayerNorm's slope and the $1 + \dots$ of each skip connection remain: SN
#   makes the branches tamer, it does not make a residual network 1-Lipschitz.
# * The gradients *into the weights* are what the optimizer sees. SN shrinks them too (right plot),
#   since backprop goes through $W/\sigma(W)$, and in the modern heads they are several times
#   larger than in the MLPs, from the first block on.

# %% [markdown]
# ## 4. Try it: the head panel
#
# The panel below calls the same `L.head_report` for the head you pick and draws the
# $\|\partial Q/\partial a\|$ histogram with both bounds, and per-layer $\sigma_{\max}$ and gradient norms.
# Move the depth slider with SN off and on; try a weight gain below 1 (weights that shrank) and above.
# The panel needs a live kernel (it shows its plain-text name in a static view).

# %%
panel = widgets.HeadPanel(arch="modern", depth=4, sn=False, hidden_dim=256, gain=1.0, seed=0)
panel

# %% [markdown]
# The panel's first view, computed by the plain function it wraps (the same numbers, in a form that
# shows without a live kernel):

# %%
report = L.head_report("modern", 4, False, hidden_dim=256, gain=1.0, seed=0)
assert report.summary.equals(panel.report.summary)
widgets.show_head_report(report)

# %% [markdown]
# ## 5. Where spectral normalization comes from: GANs
#
# SN was invented for **generative adversarial networks** (Miyato et al. 2018, the paper's ref. [47]).
# A GAN trains two networks against each other: a discriminator $D_\phi(x)$ learns to tell real
# samples from generated ones, and a generator $G_\theta(z)$ turns noise $z$ into samples and learns
# to fool it, by minimizing $-\log D_\phi(G_\theta(z))$. The generator never sees the data: its only
# learning signal is the discriminator's gradient, taken **through** the discriminator,
#
# $$\nabla_\theta = \frac{\partial D_\phi}{\partial x}\Big|_{x = G_\theta(z)}\;\frac{\partial G_\theta(z)}{\partial \theta},
#   \qquad\text{as in eq. (3):}\qquad \nabla_\theta = \frac{\partial Q_\psi}{\partial \mathbf a}\Big|_{\mathbf a = \pi_\theta(\mathbf s)}\;\frac{\partial \pi_\theta(\mathbf s)}{\partial \theta}.$$
#
# The paper's Sec. 6 makes exactly this comparison: "one updates the weight of a generator network by
# taking the gradient *through* the discriminator network, similar to how the actor is updated in
# SAC by taking gradients *through* the output of the critic network." A discriminator that is too
# steep in $x$ hands the generator exploding or erratic gradients; Miyato et al. bounded its
# Lipschitz constant by normalizing every layer, and the paper does the same to the critic, for the
# same reason (eq. 5). The analogy has limits: the discriminator is trained as a classifier on real
# and generated data, while the critic regresses on bootstrapped targets that move with the actor.

# %%
fig, ax = plt.subplots(figsize=(10, 3.6))
ax.set_xlim(-0.2, 9.8)
ax.set_ylim(-0.5, 4.6)
rows = [(3.2, ["noise z", "generator G_θ", "sample x = G_θ(z)", "discriminator D_φ", "D(x): real?"],
         "∇θ = ∂D/∂x · ∂x/∂θ", "GAN (SN on D: Miyato et al. 2018)"),
        (1.0, ["state s", "actor π_θ", "action a = π_θ(s)", "critic Q_ψ(a, s)", "Q(a, s)"],
         "∇θ = ∂Q/∂a · ∂a/∂θ   (eq. 3)", "actor-critic (SN on Q: the paper)")]
for y, labels, gradient, name in rows:
    xs = [0.7, 2.6, 4.7, 6.8, 8.9]
    for x, label in zip(xs, labels):
        network = "G_θ" in label or "π_θ" in label or "D_φ" in label or "Q_ψ" in label
        ax.add_patch(FancyBboxPatch((x - 0.8, y - 0.3), 1.6, 0.6, boxstyle="round,pad=0.05",
                                    facecolor="#dbe9f6" if network else "white", edgecolor="black"))
        ax.text(x, y, label, ha="center", va="center", fontsize=8)
    for x0, x1 in zip(xs[:-1], xs[1:]):
        ax.annotate("", xy=(x1 - 0.85, y), xytext=(x0 + 0.85, y), arrowprops=dict(arrowstyle="->"))
    ax.annotate("", xy=(xs[1], y - 0.4), xytext=(xs[4], y - 0.4),
                arrowprops=dict(arrowstyle="->", color="tab:red", linestyle="--", connectionstyle="arc3,rad=-0.12"))
    if "state" in labels[0]:  # the critic also reads the state: Q(a, s)
        ax.annotate("", xy=(xs[3], y + 0.35), xytext=(xs[0], y + 0.35),
                    arrowprops=dict(arrowstyle="->", color="gray", connectionstyle="arc3,rad=-0.04"))
    ax.text(5.75, y - 0.92, gradient, color="tab:red", ha="center", va="top", fontsize=9)
    ax.text(-0.1, y + 0.75, name, fontsize=9, fontweight="bold")
ax.axis("off")
ax.set_title("the same computation: the generator learns through D as the actor learns through Q "
             "(red: the learning signal)", fontsize=10)
plt.show()

# %% [markdown]
# **Exercise 5** (★★, 1 point): `generator_loss`, the generator's non-saturating loss
# $-\log D(G(z))$, written stably in terms of the discriminator's logit; its gradient is the red
# arrow of the top row. Then the bottom row's lesson on the top row: a random ReLU discriminator of growing
# depth whose weights grew by a gain of 1.5 (as in section 3), with and without SN on its hidden
# layers, and the norm of the gradient it hands a small generator.

# %%
checks.check("ex05_modern.generator_loss")

# %%
torch.manual_seed(0)
generator = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
z = torch.randn(256, 4)
rows = []
for depth in (2, 4, 8):
    for sn in (False, True):
        discriminator = L.random_critic("mlp", depth, hidden_dim=64, spectral_norm=sn, gain=1.5, feature_dim=2,
                                        action_dim=0, seed=1)
        loss = F.softplus(-discriminator(generator(z))).mean()  # -log D(G(z)), D = sigmoid(logit)
        grads = torch.autograd.grad(loss, list(generator.parameters()))
        rows.append({"discriminator depth": depth, "SN": sn,
                     "generator grad norm": torch.sqrt(sum(g.square().sum() for g in grads)).item(),
                     "eq. (5) bound of D": spectral.lipschitz_upper_bound(discriminator)})
gan = pd.DataFrame(rows)
print(gan.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
assert (gan[gan.SN]["eq. (5) bound of D"] < 1.5**2 + 1e-3).all()

# %% [markdown]
# Without SN the discriminator's bound grows like $1.5^{\text{depth}+1}$ and the generator's gradient
# grows with depth (0.175, 0.213, 0.323); with SN the bound stays at $1.5^2$ (first and last layer)
# at every depth, and the generator's gradient no longer grows with depth. Replace "discriminator"
# by "critic" and "generator" by "actor": that is the paper's argument for deep critics.
#
# Look at depth 8 with SN, though: the generator's gradient is 0.0042, 77 times smaller than without
# SN (0.323) and 17 times smaller than with SN at depth 2 (0.0705). SN caps the slope from above;
# nothing keeps it from shrinking. Each normalized layer ($\sigma_{\max} \le 1$) and each ReLU can
# keep a vector's length or shrink it, never grow it, so through many of them the gradient handed
# back to the generator (or, through a critic, to an actor) can become too small to learn from. An
# upper bound removes one failure, exploding gradients, not the opposite one, vanishing gradients.
#
# ## Questions
#
# 1. A modern block with inner width $2h$ has how many times the parameters of one $h\times h$ MLP
#    layer? Why does the 4-block critic have about 15 times the parameters of the 2-layer MLP,
#    not 8 times?
# 2. In the table of section 3, SN leaves the MLP bound at exactly $1.5^2 = 2.25$ for every depth.
#    Where does the 2.25 come from?
# 3. With SN, why is the modern head's measured slope still larger than the MLP's?
# 4. Pre-LN puts the LayerNorm *inside* the residual branch. What would a post-LN block,
#    $\mathrm{LN}(x + w_2\,\mathrm{ReLU}(w_1 x))$, do to the skip path, and to the Lipschitz bound?
# 5. Table 3: acting memory grows from 50 MB (mlp2) to 247 MB (modern4). Why does training memory
#    grow only from 4.05 to 4.73 GB?
# 6. In the GAN table, why does the generator's gradient not grow as fast as the discriminator's
#    bound without SN?
#
# <details><summary>Answers</summary>
#
# 1. $w_1$ and $w_2$ have $2h^2$ weights each: $4h^2$, four times $h^2$. The mlp2 critic has one
#    $h\times h$ layer (plus small first and last layers), the modern4 critic four blocks, i.e.
#    $16h^2$: the small layers make the ratio about 15.
# 2. SN normalizes every Linear but the first and the last; those keep $\sigma_{\max} = 1.5$
#    (orthogonal weights times the gain), and $1.5 \times 1.5 = 2.25$.
# 3. Each block computes $x + \text{branch}(x)$: even with $\sigma(w_1) = \sigma(w_2) = 1$ the
#    branch's slope includes LayerNorm's $1/\text{std}$, and the block's slope can reach
#    $1 + \text{branch}$; four of them compound.
# 4. The skip path would pass through a LayerNorm in every block, so there is no clean identity path
#    from input to output, and every block multiplies the bound by LayerNorm's constant. Pre-LN keeps
#    an untouched identity path, which is why it trains more easily (Sec. 3.2 cites this).
# 5. Training memory is dominated by the encoder's convolutional activations for a batch of 512
#    images of $84\times84$ (spread over 35×35 spatial positions); the heads act on 50-d features, so
#    their activations are tiny. Acting memory is mostly weights, where the heads dominate.
# 6. The bound is a worst case over all inputs and directions (notebook 03): ReLUs switch units off
#    and the layers' top singular directions do not line up, so the discriminator's actual slope at
#    the generated samples is far below its bound. The bound still matters because it is what SN can
#    guarantee: with SN, no input and no direction can produce a larger slope than $1.5^2$.
#
# </details>
#
# **Next:** notebook 06 puts these heads into DrQ, SAC from pixels, with the same panel to toggle
# architecture, depth and SN.
