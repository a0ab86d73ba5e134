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
# # 07 · DrQ-v2: deterministic policy gradients from pixels
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/07_drqv2_ddpg.ipynb)
#
# To show that spectral normalization is "not specific to the SAC-based agent" (Sec. 5.3), the
# paper repeats its experiment with a second agent, **DrQ-v2** (Yarats et al. 2021), a DDPG agent
# from pixels, "and adopt[s] hyperparameters therein". Its result is the paper's **Table 1**: with a
# deep modern head DrQ-v2 collapses on all five tasks, and with spectral normalization the same head
# matches or beats the small MLP.
#
# DrQ-v2 shares DrQ's encoder, augmentation and replay (notebook 06) and DDPG's actor loss
# (notebook 02). This notebook covers what is new:
#
# 1. what changes from DrQ to DrQ-v2, setting by setting;
# 2. **n-step returns**, worked through on a real replay buffer;
# 3. the **exploration schedule**: noise with a standard deviation that decays over training;
# 4. the **Table 1 setting**: the paper's numbers and the command that trains one cell of it on a GPU;
# 5. a quick run on the CPU.

# %%
import os
import shutil
import sys

if "google.colab" in sys.modules:  # on Colab: fetch the course, install only what Colab lacks
    REPO_URL = os.environ.get("DEEPER_RL_REPO_URL", "https://github.com/deeper-rl/deeper-rl")
    COURSE_DIR = os.environ.get("DEEPER_RL_DIR", "/content/deeper-rl")
    if not os.path.isdir(COURSE_DIR):
        # !git clone -q --depth 1 {REPO_URL} {COURSE_DIR}
    # %pip install -q "dm_control==1.0.50" "mujoco>=3.2,<4" imageio-ffmpeg
    # %pip install -q --no-deps -e {COURSE_DIR}
    sys.path.insert(0, COURSE_DIR)  # the editable install is seen only after a restart
    os.chdir(os.path.join(COURSE_DIR, "notebooks"))
    icd = "/usr/share/glvnd/egl_vendor.d/10_nvidia.json"  # GPU runtime: point EGL at NVIDIA's driver
    if shutil.which("nvidia-smi") and not os.path.exists(icd):
        os.makedirs(os.path.dirname(icd), exist_ok=True)
        with open(icd, "w") as f:
            f.write('{"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_nvidia.so.0"}}')
os.environ.setdefault("MUJOCO_GL", "egl")  # before dm_control is imported; your own value wins

from course_lib.runtime import describe_hardware

print(describe_hardware())

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import paper, widgets
from course_lib.agents.ddpg import exploration_std, noisy_action
from course_lib.config import DRQV2_MEDIUM_TASKS, TrainConfig
from course_lib.envs import TABLE1_TASKS
from course_lib.replay import ReplayBuffer

# %% [markdown]
# ## 1. From DrQ to DrQ-v2
#
# Both agents' pixel settings, as `course_lib.config` resolves them (the paper's appendix with its
# hyperparameters is not public; it says it uses each agent's own, so these come from the DrQ and
# DrQ-v2 papers and configs). The rows where they differ:

# %%
drq = TrainConfig(agent="sac", obs="pixels", task="ball_in_cup_catch").resolved().to_dict()
drqv2 = TrainConfig(agent="ddpg", obs="pixels", task="ball_in_cup_catch").resolved().to_dict()
differ = [k for k in drq if drq[k] != drqv2[k] and k not in ("agent",)]
print(pd.DataFrame({"DrQ (SAC)": [str(drq[k]) for k in differ], "DrQ-v2 (DDPG)": [str(drqv2[k]) for k in differ]},
                   index=differ).to_string())

# %% [markdown]
# Reading the table:
#
# - **`n_step` 3**: the critic's target sums three rewards before it bootstraps (section 2).
# - **`target_augs`, `critic_augs` 1**: one random shift per observation, no averaging ($K = M = 1$).
# - **`lr` 1e-4, `batch_size` 256, `update_every` 2, `replay_capacity` 1M, `seed_frames` 4000**:
#   a smaller learning rate, one update every second agent step, a larger memory.
# - **`target_update_every` 1, `actor_update_every` 1**: actor and target move at every update.
#
# Not in the table, because the two configurations carry the same fields and each agent reads only
# its own: the actor. DrQ-v2's is deterministic, $\mathbf a = \tanh(\mu_\theta(\mathbf s))$, with no
# entropy term and no temperature $\alpha$; it explores with Gaussian noise added *outside* the tanh
# (the paper's note under eq. 1), whose standard deviation follows a schedule (`std_start`,
# `std_end`, `std_decay_steps`: section 3).
#
# ## 2. n-step returns
#
# Eq. (2) bootstraps after one step: $r_t + \gamma \hat Q(\mathbf s_{t+1}, \cdot)$. The paper notes
# that "one can also use multi-step targets for the rewards [62]", and DrQ-v2 does, with $n = 3$:
#
# $$y_t = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \gamma^3 \hat Q(\mathbf s_{t+3}, \mathbf a').$$
#
# Real rewards propagate three steps per update instead of one, at the price of some bias (the
# rewards were collected by an older, noisier policy). Near the end of an episode fewer than $n$
# steps remain: our replay buffer then uses the $k < n$ steps there are, with $\gamma^k$.
#
# A worked example on a real `ReplayBuffer`: one episode of 6 steps whose *state* is simply the step
# number, so that each sampled transition tells us where it starts and where it bootstraps. The
# rewards are 1, 0, 2, 0, 0, 3 and the episode ends at step 6 by its time limit (discount 1: we still
# bootstrap from the last state, as dm_control's tasks require).

# %%
gamma, n = 0.99, 3
rewards = [1.0, 0.0, 2.0, 0.0, 0.0, 3.0]
memory = ReplayBuffer(capacity=100, obs_shape=(1,), action_dim=1, obs_type="state", n_step=n,
                      discount=gamma, seed=0)
memory.add_first(np.array([0.0], dtype=np.float32))
for t, r in enumerate(rewards, start=1):
    memory.add(np.zeros(1), r, 1.0, np.array([float(t)], dtype=np.float32), last=t == len(rewards))

batch = memory.sample(64)
rows = {}
for obs, next_obs, reward, discount in zip(batch["obs"], batch["next_obs"], batch["reward"], batch["discount"]):
    t, t_next = int(obs[0]), int(next_obs[0])
    k = t_next - t
    by_hand = sum(gamma**j * rewards[t + j] for j in range(k))  # r_t, ..., r_{t+k-1} (rewards[t] is r_t)
    rows[t] = {"start t": t, "bootstrap from s_t+k, k": k, "reward (buffer)": round(float(reward[0]), 4),
               "sum_j gamma^j r_t+j (by hand)": round(by_hand, 4),
               "discount (buffer)": round(float(discount[0]), 4), "gamma^k": round(gamma**k, 4)}
print(pd.DataFrame([rows[t] for t in sorted(rows)]).to_string(index=False))

# %% [markdown]
# The transitions starting at steps 4 and 5 have only 2 and 1 steps left before the episode's end,
# so they bootstrap earlier. (Here `rewards[t]` is the reward *received after* acting in state
# $t$, which the buffer stores with the next observation.)
#
# **Question.** At a *terminal* state (dm_control's discount 0, e.g. a robot that fell over in some
# other suites) what should `discount` become, and why must the window stop there?
#
# ## 3. The exploration schedule
#
# DDPG explores by adding noise to its deterministic action. DrQ-v2 starts with a large standard
# deviation and decays it linearly: $\sigma(t)$ goes from 1.0 to 0.1 over the first 100k agent steps
# on "easy" tasks and over 500k on "medium" ones (`DRQV2_MEDIUM_TASKS`), then stays at 0.1. Actions
# are clipped to $[-1, 1]$. In the critic's target and the actor's loss the noise is additionally
# clipped to $\pm 0.3$ (*target policy smoothing*): the critic learns values for a small
# neighbourhood of the actor's action rather than one sharp point. Note that on the medium tasks of
# Table 1 (cartpole sparse, reacher easy) the agent is still exploring with $\sigma = 0.55$ when the
# paper evaluates it at 500k frames.

# %%
agent_steps = np.arange(0, 600_001, 1000)
for duration, label in ((100_000, "easy tasks: 100k agent steps"), (500_000, "medium tasks: 500k agent steps")):
    plt.plot(2 * agent_steps, [exploration_std(int(s), 1.0, 0.1, duration) for s in agent_steps], label=label)
plt.axvline(500_000, color="gray", linestyle=":", label="the paper's budget, 500k frames")
plt.xlabel("environment frames (2 per agent step)")
plt.ylabel("exploration std sigma(t)")
plt.title("DrQ-v2's linear(1.0, 0.1, duration) schedule")
plt.legend(fontsize="small")
plt.show()
for task in TABLE1_TASKS:
    config = TrainConfig(agent="ddpg", obs="pixels", task=task).resolved()
    at = [exploration_std(s, 1.0, 0.1, config.std_decay_steps) for s in (0, 50_000, 250_000)]
    print(f"{task:<24} {'medium' if task in DRQV2_MEDIUM_TASKS else 'easy':<7} decay over "
          f"{config.std_decay_steps:>7,} agent steps; sigma at 0, 100k, 500k frames: "
          + ", ".join(f"{s:.2f}" for s in at))

# %% [markdown]
# What the noise does to one action, $\tanh(\mu) = 0.9$: early in training it is spread over the whole
# range (and clipped at the bound); with smoothing noise the target action stays within ±0.3.

# %%
torch.manual_seed(0)
mu = torch.full((20_000, 1), 0.9)
fig, axes = plt.subplots(1, 3, figsize=(12, 2.6), sharey=True)
for ax, (std, clip, title) in zip(axes, [(1.0, None, "exploring at step 0 (sigma 1.0)"),
                                         (0.1, None, "exploring after the decay (sigma 0.1)"),
                                         (1.0, 0.3, "target smoothing (sigma 1.0, clip 0.3)")]):
    ax.hist(noisy_action(mu, std, clip).squeeze().numpy(), bins=80, range=(-1, 1), density=True)
    ax.axvline(0.9, color="black", linestyle=":")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("action")
plt.show()

# %% [markdown]
# ## 4. The Table 1 setting
#
# The paper's Table 1: DrQ-v2 after 500k frames, 10 seeds, with its default MLP head, a modern head
# (4 residual blocks in the critic, 2 in the actor, Sec. 3.2) and the same modern head with spectral
# normalization on every Linear but the first and the last.

# %%
table1 = paper.table1()
table1["mean ± pm"] = [f"{m:.2f} ± {p:.2f}" for m, p in zip(table1["mean"], table1["pm"])]  # as printed
print(table1.pivot(index="task", columns="method", values="mean ± pm")[["MLP", "modern", "modern + SN"]]
      .to_string())

# %% [markdown]
# One cell of this table is one run per seed of the training CLI. The defaults for `--obs pixels`
# are DrQ-v2's (batch 256, or 512 with 1-step returns on the walker tasks; the std schedule per
# task), so the command names only what the paper varies. On a machine with a GPU:
#
# ```
# python -m course_lib.train --agent ddpg --obs pixels --task walker_walk --arch modern --depth 4 --sn \
#     --frames 500000 --seed 1 --out runs/table1/walker_walk/modern4+sn/seed_1 --device cuda
# ```
#
# and the whole table (5 tasks × 3 heads × 10 seeds = 150 runs; see `course_lib.sweep --help`):
#
# ```
# python -m course_lib.sweep --agent ddpg --obs pixels --frames 500000 \
#     --tasks ball_in_cup_catch walker_walk cartpole_swingup_sparse hopper_stand reacher_easy \
#     --configs mlp2 modern4 modern4+sn --seeds 0 1 2 3 4 5 6 7 8 9 --root runs/table1 -- --device cuda
# ```
#
# Notebook 09 reads such runs and puts our numbers next to the paper's, with standard errors.
#
# ## 5. A quick run on the CPU
#
# The same function as notebook 06's panel, with `agent="ddpg"`, DrQ-v2's own head (`mlp`, depth 2)
# and the quick budget (800 frames, batch 8): the pipeline end to end, not learning. Try
# `arch="modern", depth=4` with and without `sn=True` and compare the actor's gradient norms.

# %% tags=["nbval-ignore-output"]
result = widgets.run_pixel_agent(agent="ddpg", task="cartpole_swingup", arch="mlp", depth=2, sn=False,
                                 seed=1, quick=True)
widgets.show_run(result)

# %% [markdown]
# (Training numbers are not compared by the course's tests, see notebook 02. What must hold:)

# %%
print(widgets.describe_run_config(result.config))
print(f"n-step {result.config.n_step}, exploration std {result.config.std_start} -> {result.config.std_end} "
      f"over {result.config.std_decay_steps:,} agent steps")
print(f"status {result.status}, {result.frames_done} frames, {len(result.eval)} evaluations, "
      f"{len(result.train)} diagnostics rows, alpha logged: {result.train['alpha'].notna().any()}")

# %% [markdown]
# **Questions.**
#
# 1. DDPG has no entropy term. Which part of DrQ-v2 plays the role that SAC's $\alpha$ plays in
#    keeping the agent exploring?
# 2. Table 1's modern heads without SN score close to a *random* policy on every task (e.g. 11 on
#    cartpole sparse). Using notebook 03's bound (eq. 5), explain why the actor's updates (eq. 3)
#    might be the first thing to break in a deep critic.
# 3. Why might n-step returns make a deep critic's instability worse, or better?
