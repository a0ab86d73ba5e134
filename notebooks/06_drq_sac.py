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
# # 06 · DrQ: soft actor-critic from pixels
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/06_drq_sac.ipynb)
#
# The paper's main agent is **DrQ** (Kostrikov, Yarats & Fergus 2020): SAC (notebook 02) learning
# from 84×84 camera images, made to work by one simple idea, *random-shift augmentation*. The paper
# "adopt[s] their hyperparameters" and "only var[ies] the head architecture" (Sec. 3.1): every
# number of Table 2 and Figs. 1, 2 and 4 comes from this agent with its actor and critic heads
# swapped for deeper ones (notebook 05). Here we take the agent apart:
#
# 1. what the agent sees: stacks of rendered frames;
# 2. random-shift augmentation (**exercise**);
# 3. the convolutional encoder and the heads on top of it;
# 4. a replay memory that stores each frame once (**exercise**);
# 5. one DrQ update: eq. (2) averaged over augmented views (**exercises**);
# 6. training, with a panel that plots as it learns.
#
# **Pixel learning is a GPU job.** One DrQ update at the paper's batch of 512 takes more than ten
# seconds on a 2-core laptop CPU and about a tenth of a second on the paper's V100 GPU (Table 3), and
# the paper trains for 500,000 frames (about 250,000 updates). On a CPU this notebook trains with a reduced-cost setting (`profile="cpu"`: smaller frames, heads and batch) long enough to see the
# return start to move; with a GPU the panel below trains with the paper's settings.
#
# **Exercises** (`exercises/ex06_drq.py`, 5 points): `random_shift` (2), `stack_frames` (1),
# `drq_target` (1), `drq_critic_loss` (1).

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
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import checks, paper, widgets
from course_lib.agents import make_agent
from course_lib.augment import shift_images
from course_lib.envs import make_env
from course_lib.nets import ConvEncoder, Trunk, count_parameters, make_head
from course_lib.replay import ReplayBuffer, to_torch

# %% [markdown]
# ## 1. What the agent sees
#
# The environment renders the scene at 84×84 pixels after every agent step (action repeat 2: each
# action is applied for two physics control steps, and the two rewards are summed). One image shows
# where the pole is but not where it is going, so the observation is a **stack of the last 3 frames**,
# concatenated along the colour channels: 9 channels of `uint8`.

# %%
env = make_env("cartpole_swingup", "pixels", seed=0, action_repeat=2)
step = env.reset()
for _ in range(20):  # push the cart to the right for a while so that the frames differ
    step = env.step(np.array([1.0]))
obs = step.observation
print(env)
print(f"observation: {obs.shape} {obs.dtype}; action in [-1, 1]^{env.action_dim}; "
      f"{env.max_episode_agent_steps} agent steps per episode")

frames = [obs[3 * i:3 * i + 3].transpose(1, 2, 0) for i in range(3)]  # oldest first
fig, axes = plt.subplots(1, 4, figsize=(10, 2.6))
for ax, frame, title in zip(axes, frames, ["t - 2", "t - 1", "t (newest)"]):
    ax.imshow(frame)
    ax.set_title(title, fontsize=10)
axes[3].imshow(np.abs(frames[2].astype(int) - frames[0]).mean(axis=2), cmap="magma")
axes[3].set_title("|frame t - frame t-2|: the motion", fontsize=10)
for ax in axes:
    ax.axis("off")
fig.suptitle("one observation: three stacked 84x84 frames", y=1.02)
plt.show()

# %% [markdown]
# ## 2. Random-shift augmentation
#
# With 500k frames, a critic with millions of weights can memorize pixel positions instead of
# learning what matters. DrQ's fix: before the critic sees an observation, shift it by a random
# whole number of pixels, up to 4 in each direction. The image is padded by 4 pixels on every side
# (repeating the border pixels) and an 84×84 window is cut out at a random offset. All stacked frames
# of one observation move together; every observation in a batch gets its own shift. The label (the
# return) of a shifted image is the same, so the critic learns to ignore small translations.
#
# Here is our cartpole observation (the newest frame) under five random shifts, and what changed.
# An offset $(dx, dy)$ moves the 84×84 window by that many pixels, so the picture moves the other
# way; $(0, 0)$ would be the original.

# %%
generator = torch.Generator().manual_seed(0)
batch = torch.as_tensor(obs).unsqueeze(0).repeat(5, 1, 1, 1)  # the same observation five times
shifts = torch.randint(0, 9, (5, 2), generator=generator)  # (dx, dy) in 0..8; (4, 4) = no shift
views = shift_images(batch, shifts, pad=4)

fig, axes = plt.subplots(2, 6, figsize=(12, 4.4))
newest = obs[6:9].transpose(1, 2, 0)
axes[0, 0].imshow(newest)
axes[0, 0].set_title("original", fontsize=9)
axes[1, 0].axis("off")
for i in range(5):
    view = views[i, 6:9].permute(1, 2, 0).numpy()
    dx, dy = (shifts[i] - 4).tolist()
    axes[0, i + 1].imshow(view.astype(np.uint8))
    axes[0, i + 1].set_title(f"offset ({dx:+d}, {dy:+d})", fontsize=9)
    axes[1, i + 1].imshow(np.abs(view - newest).mean(axis=2), cmap="magma")
    axes[1, i + 1].set_title("|view - original|", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("random shifts of up to 4 pixels: the cart and pole move, the picture's content stays")
plt.show()
print("window offsets (dx, dy) in pixels:", (shifts - 4).tolist())

# %% [markdown]
# **Exercise 1** (★★, 2 points): write `random_shift(images, pad, generator)` in `exercises/ex06_drq.py`:
# pad with replicated borders, crop at a random offset per image. (The course's version,
# `course_lib.augment.random_shift`, does the same with one `grid_sample` call on the GPU, as
# DrQ-v2 does; your loop over the batch is just as correct.)

# %%
checks.check("ex06_drq.random_shift")

# %% [markdown]
# ## 3. The encoder, and the heads on top of it
#
# A convolutional **encoder** turns the 9×84×84 stack into features: four 3×3 convolutions with 32
# filters (strides 2, 1, 1, 1) and ReLUs give 32×35×35 = 39,200 numbers. A **trunk** (Linear →
# LayerNorm → tanh) compresses them to 50. The actor and the critic each put their **head** on top:
# the feed-forward networks the paper varies (Sec. 3.1). The encoder is trained by the critic's loss
# only; the actor reads its features detached (DrQ's choice: the critic's regression gives a cleaner
# learning signal for the image features than the actor's loss).
#
# Where do the parameters sit? The trunk's single Linear layer (39,200 → 50) is by far the largest
# piece of the base agent; the paper's deep modern critic head (4 residual blocks of width 1024)
# outgrows it:

# %%
encoder = ConvEncoder(env.obs_shape)
features = encoder(torch.as_tensor(obs).unsqueeze(0))
print(f"encoder: {tuple(obs.shape)} uint8 -> {tuple(features.shape)} features")
action_dim, hidden = env.action_dim, 1024
parts = {
    "conv encoder (shared)": encoder,
    "trunk, per network: 39200 -> 50": Trunk(encoder.out_dim, 50),
    "critic head mlp2 (one of two)": make_head("mlp", 50 + action_dim, 1, hidden, depth=2),
    "critic head mlp4 (one of two)": make_head("mlp", 50 + action_dim, 1, hidden, depth=4),
    "critic head modern4 (one of two)": make_head("modern", 50 + action_dim, 1, hidden, depth=4),
    "actor head mlp2 (mu and log sigma)": make_head("mlp", 50, 2 * action_dim, hidden, depth=2),
    "actor head modern2": make_head("modern", 50, 2 * action_dim, hidden, depth=2),
}
print(pd.Series({name: f"{count_parameters(m):,}" for name, m in parts.items()}).to_string())

# %% [markdown]
# **Question.** SAC has two critics (notebook 02) plus a target copy of each, with their own trunks
# and (in DrQ) a target encoder. Roughly how many parameters does the full agent with modern4 heads
# hold? Compare with the paper's Table 3, which reports the memory needed to act (50 MB for mlp2,
# 247 MB for modern4).
#
# <details><summary>Answer</summary>
#
# Count the online networks once and their targets again. With mlp2 heads: the encoder (30,368)
# and its target; the actor (trunk 1,960,150 + head, 3.06M); the critic (its own trunk plus two
# mlp2 heads, 4.17M) and its target: **11.5M parameters**, 46 MB in float32, close to Table 3's
# 50 MB (acting memory is essentially the weights). With the modern4 critic (and the paper's
# modern2 actor) the critic and its target grow to 35.7M each: **81.8M parameters, 327 MB**. That
# is more than Table 3's 247 MB: the paper's main text does not give the inner width of its residual
# blocks, and ours (twice the hidden width, notebook 05) makes our modern heads heavier than the
# paper's.
# </details>
#
# ## 4. Replay: every frame stored once
#
# DrQ's replay buffer stores each transition's observation *and* next observation as full 9-channel
# stacks: 2 × 9 × 84 × 84 bytes per transition, **12.7 GB** at its capacity of 100,000. But
# consecutive stacks share two of their three frames, and the next observation of step $t$ is the
# observation of step $t+1$. `course_lib.replay.ReplayBuffer` stores each rendered frame once and
# rebuilds the stacks when it samples:

# %%
capacity = 100_000
frame_once = ReplayBuffer(capacity, env.obs_shape, env.action_dim, "pixels")  # memory is paged in as it fills
drq_bytes = capacity * 2 * int(np.prod(env.obs_shape))
print(f"at capacity {capacity:,}: DrQ's stacked obs + next_obs {drq_bytes / 1e9:.1f} GB, "
      f"frames stored once {frame_once.nbytes / 1e9:.1f} GB")

# %% [markdown]
# Let us fill a small buffer with 60 steps of random actions and check that a sampled transition
# fits together: the next observation's two older frames must be the observation's two newer ones.

# %%
buffer = ReplayBuffer(1000, env.obs_shape, env.action_dim, "pixels", seed=0)
rng = np.random.default_rng(0)
step = env.reset()
buffer.add_first(step.observation)
for _ in range(60):
    action = rng.uniform(-1, 1, env.action_dim).astype(np.float32)
    step = env.step(action)
    buffer.add(action, step.reward, step.discount, step.observation, step.last)
sample = buffer.sample(8)
print(buffer)
print({k: (v.shape, str(v.dtype)) for k, v in sample.items()})
print("next_obs frames 1-2 == obs frames 2-3 for every sample:",
      bool((sample["next_obs"][:, :6] == sample["obs"][:, 3:]).all()))

# %% [markdown]
# **Exercise 2** (★★, 1 point): `stack_frames(frames, episode_start, t, stack)` rebuilds the observation
# of step $t$ from frames stored once: frames $t-2, t-1, t$ concatenated along the channels, where an
# index before the episode's first step is replaced by that first step. At an episode start the
# environment's frame stacker repeats the first frame, and a stack must never mix two episodes: the
# frames before the reset show another cart in another place, and the critic would learn a motion
# that never happened. (`ReplayBuffer` does this for a whole batch with one vectorized gather.)

# %%
checks.check("ex06_drq.stack_frames")

# %% [markdown]
# ## 5. One DrQ update: eq. (2), averaged over augmented views
#
# DrQ's critic loss is eq. (2) of the paper with the augmentation folded in twice:
#
# - the **target** is averaged over $K = 2$ random shifts of the next observation
#   $\mathbf s_{t+1}$ (each shift gives its own features, its own sampled $\mathbf a_{t+1}$ and its own
#   soft Bellman target): a less noisy regression target;
# - the **loss** is summed over $M = 2$ random shifts of the observation $\mathbf s_t$, each
#   regressing on that same averaged target.
#
# In code, the $K$ (or $M$) shifted copies of the batch are stacked one after another and pushed
# through the networks in one call; the rows of view 1 come first, then those of view 2.
#
# **Exercise 3** (★★, 1 point): `drq_target`, the $K$-averaged soft Bellman target.
# **Exercise 4** (★, 1 point): `drq_critic_loss`, the loss summed over $M$ views and both critics.

# %%
checks.check("ex06_drq.drq_target")
checks.check("ex06_drq.drq_critic_loss")

# %% [markdown]
# ### The whole update, as pseudocode
#
# The whole agent is `course_lib.agents.sac.SACAgent`. One call of `SACAgent.update` on a batch of
# $B$ transitions $(\mathbf s, \mathbf a, r, d, \mathbf s')$ from replay, where $d$ is $\gamma$ times
# the environment's discount, $\xi$ the encoder's weights, $\psi_1, \psi_2$ the two critics' (with
# their shared trunk), $\theta$ the actor's (the paper's symbols, as in notebook 02's table), and hats
# mark the target copies, as in the paper's target critic $\hat Q$ (`Qhat`, `psi_hat`, `xi_hat` below):
#
# ```text
# Algorithm: one DrQ update (SACAgent.update)                    K = M = 2, tau = 0.01
#  1  phi_m  = f_xi(shift_m(s))           for m = 1..M   # critic's views of s; gradient flows into xi
#  2  with no gradient, for k = 1..K:                     # K views of s'
#  3      v_k      = shift_k(s')
#  4      a'_k     ~ pi_theta( . | f_xi(v_k))              # the actor reads the ONLINE encoder
#  5      y_k      = r + d * ( min_i Qhat_i(f_xi_hat(v_k), a'_k) - alpha * log pi_theta(a'_k | f_xi(v_k)) )
#  6  y = (1/K) * sum_k y_k                                # the K-averaged target (exercise 3)
#  7  L_Q = sum_{m=1..M} sum_{i=1,2} mean_b (Q_psi_i(phi_m, a) - y)^2       # exercise 4
#  8  one Adam step on (psi_1, psi_2, xi) for L_Q          # the encoder learns from eq. (2) only
#  9  updates = updates + 1
# 10  if updates mod 2 == 0:                              # actor_update_every = 2
# 11      phi = stop_gradient(phi_1)                      # first view, computed in line 1, detached
# 12      a~ = tanh(mu_theta(phi) + eps * sigma_theta(phi)),  eps ~ N(0, I)  # eq. (1), reparametrized
# 13      L_pi = mean_b ( alpha * log pi_theta(a~|phi) - min_i Q_psi_i(phi, a~) )   # alpha held fixed
#             (+ c * mean(mu_theta(phi)^2) when the option pre_tanh_penalty c > 0; off by default)
# 14      one Adam step on theta only                     # the gradient passes through Q: eq. (3)
# 15      L_alpha = mean_b alpha * ( -log pi_theta(a~|phi) - Hbar ),  Hbar = -|A|   # log pi held fixed
# 16      one Adam step on log alpha
# 17  if updates mod 2 == 0:                              # target_update_every = 2
# 18      psi_hat = (1 - tau) psi_hat + tau psi ;  xi_hat = (1 - tau) xi_hat + tau xi
# ```
#
# Lines 1-3 and 9-11 and 17 are `update` itself, lines 4-8 `update_critic`, 12-16 `update_actor`,
# 18 `update_target`. Two details worth noticing: the actor (line 11) reuses the conv features computed
# *before* the critic's step in line 8 (DrQ recomputes them after it; the difference is one Adam
# step of the encoder), and the target critic has its own target encoder $\hat\xi$, while the
# sampled next action comes from the online encoder and actor.
#
# Here is one update on the batch we just sampled, with the quick settings the panel below uses on a
# CPU (batch 8 instead of 512):

# %%
config = widgets.pixel_run_config(agent="sac", quick=True, seed=0)
torch.manual_seed(0)
agent = make_agent(config, env.obs_shape, env.action_dim, "cpu")
print(f"K = {config.target_augs} target views, M = {config.critic_augs} critic views, batch {len(sample['obs'])}")
for update in (1, 2):  # the actor (and alpha) and the target critic move every second update
    metrics = agent.update(to_torch(sample, "cpu"), step=update)
    print(f"update {update} returns:", ", ".join(sorted(metrics)))

# %% [markdown]
# How long does one update take on this machine, at the quick batch and at the paper's batch of 512?
# (Timings vary from machine to machine; the paper's Table 3 reports 98 ms per update at batch 512
# on a V100 GPU for the mlp2 heads, 125 ms for modern4.)

# %% tags=["nbval-ignore-output"]
for batch_size in (8, 32):
    timing_batch = to_torch(buffer.sample(batch_size), "cpu")
    started = time.perf_counter()
    agent.update(timing_batch, step=0)
    seconds = time.perf_counter() - started
    print(f"batch {batch_size:>3}: {seconds:.2f} s per update -> batch 512 about {seconds * 512 / batch_size:.0f} s, "
          f"250,000 updates about {seconds * 512 / batch_size * 250_000 / 86_400:.0f} days")

# %% [markdown]
# ## 6. Training, with a live plot
#
# The panel trains DrQ with the head you choose and redraws the evaluation return and the gradient
# norms of actor and critic (the paper's Fig. 3 quantities) as the run goes. Press **Run**; **Stop**
# ends the run early.
#
# - **On a CPU** it uses the *quick* budget (800 frames, batch 8, one evaluation episode at the start
#   and one at the end): the agent will not learn in that time, but you see the pipeline work and the
#   gradient norms of different heads.
# - **On a GPU** it uses the paper's settings (500k frames, batch 512, 10 evaluation episodes every
#   10k frames): several hours per run; try `mlp` depth 2, `modern` depth 4 without SN, and with SN.

# %%
panel = widgets.TrainingPanel(agent="sac")
panel

# %% [markdown]
# ### A short run that starts to learn: the CPU pixel setting
#
# The panel calls one plain function, `widgets.run_pixel_agent`; this cell calls it directly. It
# uses the course's **CPU pixel setting** (`profile="cpu"`, the `--profile cpu` of
# `python -m course_lib.train`), which keeps the paper's agent (the same encoder design, random
# shifts, replay, K = M = 2, learning rates, tau, update rhythm) and changes only what a CPU cannot
# afford:
#
# | setting | the paper (DrQ) | `profile="cpu"` | this cell |
# |---|---|---|---|
# | rendered frames | 84×84 | 48×48 | 48×48 |
# | hidden width of the heads | 1024 | 256 | 256 |
# | batch | 512 | 64 | **32** |
# | action repeat (cartpole) | 2 | 8 (PlaNet's) | 8 |
# | frames | 500,000 | 50,000 | **2,400** (300 agent steps) |
# | seed frames of random actions | 2,000 | 2,000 | **800** |
# | evaluation | 10 episodes every 10k frames | 5 every 5,000 | **1 every 600** |
#
# The bold entries shrink the run further so that this notebook stays a few minutes long: 200
# updates, an evaluation of one episode every 75 agent steps. A swing-up episode scores up to 1000;
# the untrained agent scores near 0. Within 200 updates expect at most the first rise of the curve
# (the run below reached about 100 by its last evaluation): the start of learning, not
# a trained agent. How far it gets varies with the CPU, since rounding differs and RL amplifies it.

# %% tags=["nbval-ignore-output"]
started = time.perf_counter()
result = widgets.run_pixel_agent(agent="sac", task="cartpole_swingup", arch="mlp", depth=2, sn=False,
                                 seed=1, quick=False, profile="cpu", frames=2400, seed_frames=800,
                                 batch_size=32, eval_every_frames=600, eval_episodes=1,
                                 log_every_frames=200, device="cpu")
print(widgets.format_run(result))
print(f"({time.perf_counter() - started:.0f} s on this machine)")

evals, diagnostics = result.eval, result.train
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
axes[0].plot(evals["frame"], evals["eval_return"], "o-", label="evaluation (1 episode, mean action)")
axes[0].axvline(result.config.seed_frames, color="gray", linestyle=":", label="end of the random seed phase")
axes[0].set(xlabel="environment frames", ylabel="episode return (max 1000)",
            title="evaluation return; updates begin at the dotted line")
axes[0].legend(fontsize="small")
axes[1].plot(diagnostics["frame"], diagnostics["actor_grad_norm"], "o-", label="actor")
axes[1].plot(diagnostics["frame"], diagnostics["critic_grad_norm"], "s--", label="critic (with encoder)")
axes[1].set(xlabel="environment frames", ylabel="gradient norm (L2, unclipped)", yscale="log",
            title="gradient norms (Fig. 3's quantity), log scale")
axes[1].legend(fontsize="small")
axes[2].plot(diagnostics["frame"], diagnostics["alpha"], "o-", color="C2", label="temperature alpha")
axes[2].set(xlabel="environment frames", ylabel="alpha (dimensionless)",
            title="the temperature, tuned towards entropy -|A|")
axes[2].legend(fontsize="small")
for ax in axes:
    ax.set_xlim(-100, result.config.frames + 100)
fig.suptitle("DrQ (SAC from pixels), CPU pixel setting, cartpole_swingup, mlp2 heads, seed 1")
fig.tight_layout()
plt.show()

# %% [markdown]
# (Your returns and gradient norms may differ from these: floating-point rounding differs between
# CPUs and RL amplifies it. The facts that must hold on every machine:)

# %%
finite = np.isfinite(diagnostics[["critic_loss", "actor_grad_norm", "critic_grad_norm", "alpha"]].to_numpy(float))
print(f"status {result.status}, {result.frames_done} frames, {len(evals)} evaluations "
      f"at frames {evals['frame'].tolist()}")
print(f"{len(diagnostics)} diagnostics rows at frames {diagnostics['frame'].tolist()}, all finite: {bool(finite.all())}")
assert result.status == "complete" and len(evals) > 2 and finite.all()
assert evals["eval_return"].between(0, 1000).all()

# %% [markdown]
# ### The CPU pixel setting run to its budget: does DrQ learn?
#
# The cell above stops after 200 updates. The course keeps runs of the same setting trained to its
# full budget (50,000 frames, 6,250 updates, about 25 minutes of one CPU core each) in
# `results/cpu_pixels/`, next to the same agent trained **from states** for the same number of
# frames and to a **uniformly random policy**, the floor every curve is read against. Each of them
# is one command of `python -m course_lib.train`, listed with the results.

# %%
from course_lib import learning_evidence

EVIDENCE = "../results/cpu_pixels"
evidence_runs, floor = learning_evidence.load_runs(EVIDENCE), learning_evidence.random_floor(EVIDENCE)
learning_evidence.plot_evidence(evidence_runs, floor, agent="sac")
plt.show()
sac_table = learning_evidence.evidence_table(evidence_runs[evidence_runs["agent"] == "sac"], floor)
print(sac_table[["task", "variant", "frames", "seeds", "start", "early", "late", "late_se", "end", "random", "learns"]]
      .round(1).to_string(index=False))

# %% [markdown]
# How to read it: the dotted band is the random policy; "early" is the mean of the evaluations in the
# first quarter of the budget (after frame 0), "late" the mean of the last three, and **learns**
# means late is above random by more than two standard errors of each *and* above early.
#
# - **DrQ from pixels learns on both tasks, slowly.** On cartpole_balance the two seeds end their
#   last three evaluations at 575 and 439 (random: 271); on cartpole_swingup at 226 and 285
#   (random: 120), still rising when the budget ends. The frame-0 point of balance is high (430 on
#   average) for a reason unrelated to learning: an untrained actor outputs a nearly constant small
#   force, which keeps an upright pole up for a while; the first updates move it away from that.
# - **From states the same agent solves balance** (about 990 late) in the same 50,000 frames: a pixel
#   agent has to learn what the state hands over, the pole's angle and velocities, from 48×48 frames
#   with a convolutional encoder trained by the critic's loss alone.
# - **The cost of the budget**: 6,250 updates of batch 64, against DrQ's 250,000 of batch 512 in the
#   paper's 500,000 frames, about 300 times fewer samples through the networks. The paper's returns
#   (Table 2 below) need the paper's budget, which is a GPU job.

# %% [markdown]
# ## The paper's setting, on a GPU
#
# The same run at full scale, from a terminal on a machine with a GPU (the defaults for
# `--obs pixels` are the paper's: 500k frames, batch 512, DrQ's hyperparameters). The paper's
# Table 2 reports, for this task after 500k frames (10 seeds):

# %%
print(paper.table2().query("task == 'cartpole_swingup'")[["method", "config", "mean", "pm"]].to_string(index=False))

# %% [markdown]
# ```
# python -m course_lib.train --agent sac --obs pixels --task cartpole_swingup --arch mlp --depth 2 \
#     --seed 1 --out runs/drq_mlp2 --device cuda
# python -m course_lib.train --agent sac --obs pixels --task cartpole_swingup --arch modern --depth 4 --sn \
#     --seed 1 --out runs/drq_modern4_sn --device cuda
# ```
#
# Notebook 09 collects such runs into the paper's tables; notebook 08 reads their `train.csv` to
# diagnose instability.
#
# **Questions.**
#
# 1. DrQ trains the encoder with the critic's loss only. What could go wrong if the actor's loss,
#    which flows through the critic (eq. 3), also updated the encoder?
# 2. With $K = M = 1$ and no shift at all, which agent is left?
# 3. Our replay buffer stores 3×84×84 bytes per step. What would storing the 50-d features
#    instead save, and why does DrQ not do that? (Hint: the encoder keeps learning.)
#
# <details><summary>Answer</summary>
#
# 1. The actor's loss asks for features in which $\min_i Q_i(\mathbf s, \mathbf a)$ is large, not
#    features that predict the return. Through the shared encoder it could move the features so that
#    the critic's estimates grow (the critic's errors become the actor's reward) and pull the
#    representation away from what the Bellman regression needs; the two losses would also fight over
#    the same weights. SAC-AE (Yarats et al. 2019), DrQ's predecessor, found that letting the
#    actor's gradient into the encoder makes learning worse; DrQ trains the encoder with the critic's
#    loss alone, and the paper keeps that choice.
# 2. SAC from pixels with a convolutional encoder and no augmentation (the "pixel SAC" baseline of
#    the DrQ paper): one view of $\mathbf s$ and of $\mathbf s'$, a single-sample soft Bellman target.
#    With $K = M = 1$ but the random shift kept, it is DrQ's simpler variant, close to RAD.
# 3. 50 float32 numbers are 200 bytes against 3×84×84 = 21,168 bytes per frame, about 100× less
#    (and no conv encoder to run when sampling). But features computed when a frame was stored come
#    from an *old* encoder: as the encoder learns, the stored features go stale, and they cannot be
#    augmented (a shift acts on pixels, not on features). Gradients could not flow into the encoder
#    either, so it could not be trained by the critic at all.
# </details>
#
# ## Your exercises at a glance
#
# | exercise | difficulty | points |
# | --- | --- | --- |
# | `random_shift` | ★★ | 2 |
# | `stack_frames` | ★★ | 1 |
# | `drq_target` | ★★ | 1 |
# | `drq_critic_loss` | ★ | 1 |
# | capstone `sac_update`: `_critic`, `_actor`, `_learns` (below) | ★★★ | 2 each |
#
# Run this cell after editing `exercises/ex06_drq.py` (no kernel restart needed: each check reloads
# the file); the capstone's checks follow in the next section.

# %%
for name in ("random_shift", "stack_frames", "drq_target", "drq_critic_loss"):
    checks.check(f"ex06_drq.{name}")

# %% [markdown]
# ## Capstone: SAC's whole update, from states
#
# **Capstone** (★★★, 2 points): write `sac_update(agent, batch, step)` in `exercises/ex06_drq.py`:
# everything `SACAgent.update` does from states ($K = M = 1$, no encoder), lines 2-18 of the
# pseudocode above without the shifts. Its docstring says what `agent` offers (the networks, the
# three optimizers, `log_alpha`, the config) and what to return; the formulas are yours, from
# notebook 02 (sections 3-4) and section 5 here. A helper `_sample(actor, obs)` (eq. 1 and its
# log-probability) is given. The capstone is graded three times, 2 points each, so one mistake
# costs only its part:
#
# - `sac_update_critic`: the first update on a fixed batch, where only the critic steps (the actor
#   must not even get a gradient);
# - `sac_update_actor`: the second update, where the actor, the temperature and the target critic
#   move too (checked with the critic's learning rate at 0, so a critic mistake is not counted twice);
# - `sac_update_learns`: the course's training loop runs your update
#   (`train(config, update_fn=sac_update)`) on cartpole_swingup from states for 48,000 frames; then
#   the trained policy (its mean action) plays 5 fresh episodes, and their mean return must reach
#   400. It trains for about a minute on one core.
#
# The probes make every normal draw 0 while your update runs ($\mathbf a = \tanh\mu$), so the order
# in which you sample does not matter.

# %%
checks.check("ex06_drq.sac_update_critic")

# %%
checks.check("ex06_drq.sac_update_actor")

# %%
print("trains state SAC with your sac_update for about a minute (48,000 frames on one core) ...")
checks.check("ex06_drq.sac_update_learns")
