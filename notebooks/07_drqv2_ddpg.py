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
# 5. **the saturated actor**: why a deep DDPG actor's tanh gets stuck, why SAC resists it, and the
#    fix of the follow-up paper (penultimate normalization), with measured runs;
# 6. a quick run on the CPU;
# 7. the CPU pixel setting run to its budget;
# 8. the capstone: DrQ-v2's whole update, written by you and trained by the course's loop.
#
# Exercises (`exercises/ex07_drqv2.py`, each with a check cell where its concept is taught):
#
# - `n_step_target` (★★, 1 point, section 2);
# - `exploration_std` (★, 1 point, section 3);
# - `penultimate_normalize` (★, 1 point, section 5);
# - the capstone `ddpg_update` (★★★, section 8, three checks of 2 points each): DrQ-v2's whole
#   update from states, which puts the n-step target and the exploration schedule to work in an
#   agent that trains.

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

from pathlib import Path

from course_lib import checks, paper, results, widgets
from course_lib.agents.ddpg import exploration_std, noisy_action
from course_lib.config import DRQV2_MEDIUM_TASKS, TrainConfig
from course_lib.envs import TABLE1_TASKS
from course_lib.nets import make_head
from course_lib.replay import ReplayBuffer

# %% [markdown]
# ## 1. From DrQ to DrQ-v2
#
# Both agents' pixel settings, as `course_lib.config` resolves them. The paper adopts each agent's
# own hyperparameters (Sec. 3.1 and 5.3) and lists DrQ's in its Appendix B (the appendices come with
# the arXiv version, arXiv:2106.01151); the values here are taken from the DrQ and DrQ-v2 papers and
# configs. The rows where they differ:

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
# <details><summary>Answer</summary>
#
# `discount` must become 0: after a terminal state there is no future reward, so the target is just
# the rewards collected up to it, $y = \sum_{j<k} \gamma^j r_{t+j}$, with no $\hat Q$ term. The
# window must not add rewards beyond it either: the steps stored after a terminal state belong to
# the *next* episode, which the action $\mathbf a_t$ did not cause; adding them (or bootstrapping
# from the next episode's first state) would teach the critic values that do not exist. Our buffer
# multiplies the running discount by dm_control's $d = 0$, which zeroes both the later rewards and
# the bootstrap, and it ends every window at an episode's last step.
#
# </details>
#
# **Exercise** (★★, 1 point): write `n_step_target(rewards, discounts, steps, bootstrap_value, gamma)`,
# the target $y = \sum_{j<k} \gamma^j (\prod_{i<j} d_i)\, r_{t+j} + \gamma^k (\prod_{j<k} d_j)\,
# \hat Q$ for a batch of windows of $k \le n$ steps, ignoring whatever the arrays hold past step
# $k$. It is what the buffer's `reward` and `discount` give followed by `ddpg_target`.

# %%
checks.check("ex07_drqv2.n_step_target")

# %% [markdown]
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
    ax.set_xlabel("action (clipped to [-1, 1])")
axes[0].set_ylabel("probability density")
fig.suptitle("Noise around tanh(mu) = 0.9 (dotted): wide early, narrow later, at most ±0.3 in the target",
             fontsize=11, y=1.04)
plt.show()

# %% [markdown]
# **Exercise** (★, 1 point): write `exploration_std(step, start, end, duration)`, DrQ-v2's
# `linear(start, end, duration)` schedule plotted above (agent steps; constant at `end` after
# `duration`, and at `start` before step 0).

# %%
checks.check("ex07_drqv2.exploration_std")

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
# ## 5. The saturated actor
#
# Table 1's striking column is *modern without SN*: close to a random policy on every task. One
# mechanism behind it is specific to DDPG's actor, $\mathbf a = \tanh(\mu_\theta(\mathbf s))$. The
# actor's gradient (eq. 3) passes through the tanh:
#
# $$\nabla_\theta\, Q(\mathbf s, \tanh \mu_\theta(\mathbf s)) = \frac{\partial Q}{\partial \mathbf a}
#   \cdot \big(1 - \tanh^2 \mu_\theta(\mathbf s)\big) \cdot \nabla_\theta \mu_\theta(\mathbf s).$$
#
# Once $|\mu|$ is large, $1 - \tanh^2\mu \approx 4 e^{-2|\mu|}$ is tiny ($2.5 \cdot 10^{-5}$ at
# $|\mu| = 6$): the action is pinned at $\pm 1$, and whatever the critic says, the actor can no
# longer move. We call such an actor *saturated*. Three ingredients push a deep modern actor there:
#
# - **Adam moves every weight by about the learning rate.** Adam divides the gradient by a running
#   estimate of its own size; on the first step the update of every weight is exactly
#   $\mathrm{lr} \cdot \mathrm{sign}(g)$, however small $g$ is. A weight whose gradient is $10^{-6}$
#   moves as far as one whose gradient is 1.
# - **The residual stream is large.** In a modern head (Sec. 3.2) each block adds a branch that
#   starts with a LayerNorm, so each branch's output has entries of order 1 whatever the input's
#   scale; summed over the blocks, the stream entering the last Linear has entries $\sim 1$ and a
#   norm $\sim \sqrt{\text{width}}$, several times an MLP's. One Adam step on the last Linear alone
#   moves $\mu$ by up to $\mathrm{lr} \cdot \|\mathbf h\|_1$ ($\mathbf h$ the features it reads), and
#   every other layer moves the stream itself.
# - **Nothing pulls a saturated tanh back.** DDPG's loss is $-Q$ only. If the critic, early in
#   training, prefers large actions in some direction, the actor goes there in a few steps, and
#   from then on its gradient is too small to come back when the critic changes its mind.
#
# A small measurement: a fresh actor head (5 state inputs, width 64, the course's initialisation)
# and a critic that always prefers a larger action ($\partial Q / \partial a = 1$), 10 Adam steps
# at lr $10^{-3}$ on one batch of 256 states. The last column is what the last Linear alone can add
# to $|\mu|$ in one step.

# %%
def max_pre_tanh_under_adam(arch, depth, pnorm, steps=10, lr=1e-3, seed=0):
    """max |mu| over a batch before each of ``steps`` Adam steps on ``-mean(tanh(mu))`` (and after the last)."""
    torch.manual_seed(seed)
    head = make_head(arch, 5, 1, hidden_dim=64, depth=depth, penultimate_norm=pnorm)
    last = [m for m in head.modules() if isinstance(m, torch.nn.Linear)][-1]
    states = torch.randn(256, 5)
    features = []  # what the last Linear reads at init: its inputs, recorded by a hook
    hook = last.register_forward_hook(lambda module, inputs, output: features.append(inputs[0].detach()))
    head(states)
    hook.remove()
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    trace = []
    for _ in range(steps):
        mu = head(states)
        trace.append(mu.abs().max().item())
        loss = -torch.tanh(mu).mean()  # the critic's gradient dQ/da = 1 everywhere
        opt.zero_grad()
        loss.backward()
        opt.step()
    trace.append(head(states).abs().max().item())
    return trace, lr * features[0].abs().sum(dim=1).mean().item()


rows = {}
for name, arch, depth, pnorm in (("mlp2", "mlp", 2, False), ("modern2", "modern", 2, False),
                                 ("modern2 + penultimate norm", "modern", 2, True)):
    trace, output_step = max_pre_tanh_under_adam(arch, depth, pnorm)
    rows[name] = {"max|mu| at init": round(trace[0], 2), "after 1 step": round(trace[1], 2),
                  "after 10 steps": round(trace[-1], 2), "lr * ||h||_1 (last Linear)": round(output_step, 4)}
demo = pd.DataFrame(rows).T
print(demo.to_string())
assert demo.loc["modern2", "after 10 steps"] > 3 * demo.loc["mlp2", "after 10 steps"]
assert demo.loc["modern2 + penultimate norm", "after 10 steps"] < demo.loc["modern2", "after 10 steps"] / 3

# %% [markdown]
# The modern actor starts with a larger $|\mu|$ and grows it by ~0.5 per step; after 10 steps
# $\tanh(\mu)$ is within $10^{-5}$ of $\pm 1$ for its largest entries. The MLP moves by a few
# hundredths per step. The repository keeps a measurement of the same on real training batches,
# with its command and its table, in `results/ddpg_saturation/README.md` (section `probe/`): pixel
# DDPG in the course's CPU pixel setting (48×48 frames, width 256), its first 10 updates. There, with
# a modern actor, 99% of the action entries are past $|\tanh| = 0.99$ at update 3 without SN (all of
# them at update 8 with SN), and the actor's gradient norm falls by about four orders of magnitude
# within 10 updates; the MLP actor does not saturate.
#
# **Why SAC resists it.** SAC's actor is a squashed Gaussian, $\mathbf a = \tanh(\mathbf u)$ with
# $\mathbf u \sim \mathcal N(\mu, \sigma^2)$, and its loss contains $\alpha \log \pi(\mathbf a \mid
# \mathbf s)$ with the change-of-variables term
#
# $$\log \pi(\mathbf a \mid \mathbf s) = \log \mathcal N(\mathbf u; \mu, \sigma^2) - \sum_i
#   \log\big(1 - \tanh^2 u_i\big).$$
#
# A saturated sample makes the last term large (the density of $\mathbf a$ piles up at $\pm 1$), so
# the entropy bonus penalizes it, and its gradient $\partial/\partial u \,[-\log(1 - \tanh^2 u)] =
# 2 \tanh u$ does *not* vanish as $|u|$ grows: it tends to $\pm 2$. The critic's pull through
# $1 - \tanh^2 u$ dies out; the entropy term's pull back does not.

# %%
u = np.linspace(0, 8, 400)
plt.semilogy(u, 1 - np.tanh(u) ** 2, label="DDPG: 1 - tanh(u)^2, the factor in the actor's gradient")
plt.semilogy(u, 2 * np.tanh(u), label="SAC: d/du of -log(1 - tanh(u)^2), the entropy term's pull")
plt.xlabel("pre-tanh action u (unitless)")
plt.ylabel("gradient factor (log scale)")
plt.title("Past |u| ~ 3 DDPG's actor gradient vanishes; SAC's entropy term keeps pulling back")
plt.legend(fontsize="small")
plt.show()

# %% [markdown]
# **What the follow-up changed.** The same first author's follow-up (Bjorck, Gomes & Weinberger,
# "Is High Variance Unavoidable in RL? A Case Study in Continuous Control", ICLR 2022) traces
# DrQ-v2's outlier runs (seeds that never learn) to exactly this: saturating actors. It adds two
# fixes: (a) **penultimate normalization**, scaling the features entering a head's last Linear to
# unit L2 norm, $\mathbf h \mapsto \mathbf h / \|\mathbf h\|$, so every output of that layer is
# bounded by its weight row's norm, $|\mu_i| \le \|\mathbf w_i\| + |b_i|$, whatever the stream
# below does; and (b) a **penalty on the mean squared pre-tanh action**, $C \cdot
# \mathrm{mean}(\mu^2)$ added to the actor's loss, a restoring force that, like SAC's entropy
# term, does not vanish. `course_lib.nets.PenultimateNorm` is (a); the training CLI has
# `--pnorm actor|critic|both` and `--pre-tanh-penalty C`.
#
# **Exercise** (★, 1 point): write `penultimate_normalize(x, eps)`, $\mathbf x / \max(\|\mathbf x\|_2,
# \varepsilon)$ over the last dimension, differentiable.

# %%
checks.check("ex07_drqv2.penultimate_normalize")

# %% [markdown]
# **Measured: state DDPG with a modern actor, with and without penultimate normalization.** The
# course's stored runs: DDPG from states (hidden width 64, batch 256, lr $10^{-3}$, 1-step returns,
# exploration std 1.0 to 0.1 over 5000 agent steps), a modern critic of 4 blocks and a modern actor
# of 2, 3 seeds, on cartpole_swingup (48k frames) and ball_in_cup_catch (24k frames), each with and
# without penultimate normalization in the actor. Every run logs, per 1000 frames, the largest
# $|\mu|$ over the training batch (`pre_tanh_max`) and the fraction of action entries past
# $|\tanh| = 0.99$ (`saturated_frac`, `course_lib.diagnostics.saturation_metrics`).

# %%
SATURATION_RUNS = Path("../results/ddpg_saturation/runs")
sat_runs = results.load_runs(SATURATION_RUNS)
train_logs = {run.run_dir: pd.read_csv(Path(run.run_dir) / "train.csv") for run in sat_runs.itertuples()}
modern = sat_runs[sat_runs["config"] == "modern4"]
curves = results.load_curves(modern)

fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex="col")
colors = {"none": "tab:red", "actor": "tab:blue"}
styles = ["-", "--", ":"]
for col, task in enumerate(["cartpole_swingup", "ball_in_cup_catch"]):
    for pnorm in ("none", "actor"):
        group = modern[(modern["task"] == task) & (modern["pnorm"] == pnorm)]
        for i, run in enumerate(group.itertuples()):
            curve, log = curves[curves["run_dir"] == run.run_dir], train_logs[run.run_dir]
            style = dict(color=colors[pnorm], linestyle=styles[i], lw=1.3)
            axes[0, col].plot(curve["frame"], curve["eval_return"], marker="o", ms=3, **style)
            axes[1, col].plot(log["frame"], 100 * log["saturated_frac"], **style)
    axes[0, col].set_title(task, fontsize=10)
    axes[1, col].set_xlabel("environment frames")
axes[0, 0].set_ylabel("evaluation return")
axes[1, 0].set_ylabel("action entries with |tanh| > 0.99 (%)")
handles = [plt.Line2D([], [], color=colors["none"], label="no penultimate norm"),
           plt.Line2D([], [], color=colors["actor"], label="actor penultimate norm")] + \
          [plt.Line2D([], [], color="gray", linestyle=s, label=f"seed {i + 1}") for i, s in enumerate(styles)]
axes[0, 1].legend(handles=handles, fontsize="small", loc="upper left")
fig.suptitle("DDPG, modern4 critic / modern2 actor: the runs stuck at 100% saturation are the low ones; "
             "with actor penultimate norm none is stuck", fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown]
# And the whole set, including SN and penultimate normalization in the critic too: the return at
# the budget (mean ± one standard error over seeds, as in notebook 09), the share of a run's logged
# intervals in which the actor was saturated (> 99% of its action entries past 0.99) and *stuck*
# (also an actor gradient norm below $10^{-4}$), and the largest $|\mu|$ logged.

# %%
def saturation_of(run_dir):
    log = train_logs[run_dir]
    saturated = log["saturated_frac"] > 0.99
    return {"saturated logs": saturated.mean(), "stuck logs": (saturated & (log["actor_grad_norm"] < 1e-4)).mean(),
            "max |mu|": log["pre_tanh_max"].max()}


table = pd.concat([results.summary(group, budget, by=["pnorm"])
                   for (task, budget), group in sat_runs.groupby(["task", "frames"])])
per_run = pd.DataFrame([{**saturation_of(run.run_dir), "task": run.task, "config": run.config, "pnorm": run.pnorm}
                        for run in sat_runs.itertuples()])
table = table.merge(per_run.groupby(["task", "config", "pnorm"], as_index=False).mean(numeric_only=True),
                    on=["task", "config", "pnorm"])
table["return (mean ± s.e.)"] = [f"{m:.1f} ± {s:.1f}" if n > 1 else f"{m:.1f} (1 seed)"
                                  for m, s, n in zip(table["mean"], table["se"], table["n"])]
for column in ("saturated logs", "stuck logs"):
    table[column] = [f"{v:.0%}" for v in table[column]]
table["max |mu|"] = table["max |mu|"].round(1)
print(table[["task", "config", "pnorm", "frame_budget", "return (mean ± s.e.)", "n", "saturated logs",
             "stuck logs", "max |mu|"]].to_string(index=False))
stuck = per_run.groupby(["task", "config", "pnorm"])["stuck logs"].mean()
assert stuck[("ball_in_cup_catch", "modern4", "none")] > 0.5 and stuck[("cartpole_swingup", "modern4", "none")] > 0
assert (stuck.xs("actor", level="pnorm") == 0).all()

# %% [markdown]
# What this evidence shows, and what it does not:
#
# - **Stuck actors are the outlier runs.** On cartpole_swingup one of three modern seeds (seed 2)
#   is saturated and stuck from ~9k to ~37k frames, its return flat at ~75 while the other two reach
#   ~870; on ball_in_cup_catch all three modern seeds are stuck from ~8k frames to the end.
# - **Penultimate normalization of the actor fixes it here**: no logged interval of any run is
#   stuck, and the returns rise (cartpole 862 ± 5 against 664 ± 205; ball_in_cup 681 ± 243 against
#   266 ± 67, one seed of three still low without being saturated). Many action entries still sit
#   past 0.99 (a swing-up likes full force), but never all of them, and the gradient stays alive.
# - **SN alone also avoided it on cartpole** (860 ± 6, no stuck interval), and adding actor
#   normalization to SN changes little.
# - **Normalization in the critic hurt** (one run, 186 against ~870): with unit-norm features,
#   $|Q| \le \|\mathbf w\| + |b|$, and Adam grows that norm by at most ~lr·$\sqrt{64}$ per update,
#   too slowly to reach returns of several hundred within the run. Whether the follow-up's critic
#   variant adds a scale we have not checked.
# - These are **state-based CPU runs** with 3 seeds and 24k-48k frames, not the paper's pixel
#   setting (84×84 frames, width 1024, 500k frames, 10 seeds). They show the mechanism and the fix
#   on a small scale; they do not measure Table 1.
#
# **Question.** SN (notebooks 04-05) bounds every layer's Lipschitz constant, yet at initialisation
# every orthogonally initialised layer already has $\sigma_{\max} = 1$, so SN changes nothing at the
# start. Why can SN still help against saturation later, and why can it not guarantee it?
#
# <details><summary>Answer</summary>
#
# SN acts on how the weights *grow*: each normalized layer stays at $\sigma_{\max} \le 1$ however
# far Adam moves its entries, so the residual branches cannot amplify the stream as training goes
# on, and $|\mu|$ grows more slowly (in the pixel probe of `results/ddpg_saturation/README.md`,
# saturation came at update 8 instead of 3). But SN leaves the first and last Linear unnormalized
# (Sec. 5.1) and does not touch the stream's size set by the LayerNorm-ed branches, so the last
# Linear can still scale $\mu$ up until the tanh saturates: SN delays it, it does not forbid it.
# Penultimate normalization bounds $|\mu|$ directly by the last layer's weights, which Adam can grow
# only by ~lr per step.
#
# </details>
#
# **Saturation and the Lipschitz story.** Notebooks 03, 04 and 08 explain the paper's fix through
# the critic: eq. (3) hands the actor $\partial Q / \partial \mathbf a$, eq. (5) bounds it by the
# product of the critic's spectral norms, and SN keeps that product small, so the actor's gradient
# cannot explode. Saturation is another failure, on the actor's side: its gradient *vanishes* at the
# tanh, however tame $\partial Q / \partial \mathbf a$ is. Each explains a different picture:
#
# - the Lipschitz story explains gradients that grow by orders of magnitude until the losses
#   diverge (notebook 08: the SAC stress test's crashes);
# - saturation explains an actor that stops moving while its gradient falls towards zero (this
#   section: DDPG with a modern actor, and SAC is protected by its entropy term).
#
# They meet in one quantity: how far a single update moves the network's output. SN bounds every
# hidden layer's slope, which tames what reaches the actor, but it leaves the last Linear and the
# size of the residual stream alone, so it only delays saturation. Bounding the actor's *output*
# takes something at the output itself: SAC's entropy term, penultimate normalization, or a penalty
# on the pre-tanh action.
#
# ## 6. A short run on the CPU
#
# The same function as notebook 06's panel, with `agent="ddpg"`, DrQ-v2's own head (`mlp`, depth 2)
# and the course's CPU pixel setting (`profile="cpu"`: 48×48 frames, hidden width 256, batch 64,
# action repeat 8), shrunk further so that the cell takes well under a minute: 2,400 frames (300
# agent steps, the first 100 of them random), batch 32, one evaluation episode every 600 frames.
# That is 100 updates: the pipeline end to end and the first evaluations of a curve, not a trained
# agent (section 7 shows the same setting run to its budget). Try `arch="modern", depth=4` with
# and without `sn=True`, and `pnorm="actor"`, and compare the actors' gradient norms.

# %% tags=["nbval-ignore-output"]
result = widgets.run_pixel_agent(agent="ddpg", task="cartpole_balance", arch="mlp", depth=2, sn=False,
                                 seed=1, quick=False, profile="cpu", frames=2400, seed_frames=800,
                                 batch_size=32, eval_every_frames=600, eval_episodes=1,
                                 log_every_frames=200, device="cpu")
widgets.show_run(result)

# %% [markdown]
# (Your training numbers may differ from these: floating-point rounding differs between CPUs and RL
# amplifies it. What must hold on every machine:)

# %%
print(widgets.describe_run_config(result.config))
print(f"n-step {result.config.n_step}, exploration std {result.config.std_start} -> {result.config.std_end} "
      f"over {result.config.std_decay_steps:,} agent steps")
print(f"status {result.status}, {result.frames_done} frames, {len(result.eval)} evaluations, "
      f"{len(result.train)} diagnostics rows, alpha logged: {result.train['alpha'].notna().any()}")
assert result.status == "complete" and len(result.eval) == 5

# %% [markdown]
# ## 7. The CPU pixel setting run to its budget: does DrQ-v2 learn?
#
# The course keeps runs of this setting trained to 100,000 frames (6,250 updates, an update every
# second agent step as in DrQ-v2; about 12 minutes of one CPU core each) in `results/cpu_pixels/`,
# next to the same agent trained from states for the same frames and to a uniformly random policy.
# Because section 5 found the MLP actor saturating in this setting too, the main runs use
# penultimate normalization of the actor (`--pnorm actor`); one run of the paper's plain agent is
# kept beside them.

# %%
from course_lib import learning_evidence

EVIDENCE = "../results/cpu_pixels"
evidence_runs, floor = learning_evidence.load_runs(EVIDENCE), learning_evidence.random_floor(EVIDENCE)
mlp_runs = evidence_runs[evidence_runs["config"] == "mlp2"]
learning_evidence.plot_evidence(mlp_runs, floor, agent="ddpg")
plt.show()
ddpg_table = learning_evidence.evidence_table(mlp_runs[mlp_runs["agent"] == "ddpg"], floor)
print(ddpg_table[["task", "variant", "frames", "seeds", "start", "early", "late", "late_se", "end", "random", "learns"]]
      .round(1).to_string(index=False))

# %% [markdown]
# ("early": the evaluations of the first quarter of the budget after frame 0; "late": the last three;
# **learns**: late above random by more than two standard errors of each, and above early.)
#
# - **With penultimate normalization, DrQ-v2 from pixels learns cartpole_balance, slowly**: from about
#   196 early to about 405 late (random: 271), with both seeds in the 360-575 range over their second
#   half. **On cartpole_swingup it barely leaves the random policy's level** (180 late against 120): by
#   the statistical rule it "learns", but nobody would call that swing-up solved.
# - **The paper's plain agent** (the `pixels mlp2` curve, 30,000 frames) sits below the random policy
#   from the first updates on: its actor saturates (next table).
# - **From states the same agent solves balance** (about 990) in the same frames.
# - Why DDPG is the slower of the two here: it updates every second agent step with DrQ-v2's learning
#   rate of 1e-4 (SAC: every step, 1e-3), its exploration noise is kept on DrQ-v2's schedule in frames
#   (at 100,000 frames the std is still 0.55, and each noisy action is held for 8 control steps), and
#   its 3-step targets are built from those noisy actions.

# %% [markdown]
# ### Table 1's heads in the CPU pixel setting: saturation, SN and penultimate normalization
#
# The same setting on cartpole_balance (seed 1, the first 30,000 frames of each run) with the paper's
# MLP heads and with Table 1's modern heads (critic 4 residual blocks, actor 2), each without and
# with SN and without and with penultimate normalization of the actor. The saturation columns come
# from `train.csv` (section 5's quantities): the share of logged rows in which more than 99% of the
# batch's actions had $|\tanh| > 0.99$, and the largest $|\mu|$ logged.

# %%
heads = learning_evidence.head_comparison(evidence_runs, "cartpole_balance", 30_000)
print(heads.round(2).to_string(index=False))

# %% [markdown]
# Read by rows: without SN or penultimate normalization, the MLP actor and Table 1's modern actor
# saturate (most logged rows have more than 99% of the actions at $|\tanh| > 0.99$, and $|\mu|$
# reaches 6 and 13) and their runs stay below the random policy's return, as the paper's Table 1
# reports for its modern heads without SN. With SN on the modern heads (critic and actor) the actor
# saturated only briefly and the run learned, as in the paper's modern + SN column. With penultimate
# normalization of the actor no run saturated ($|\mu| \le 1.5$). One seed per configuration and
# 30,000 frames: a direction, not a measurement of Table 1.

# %% [markdown]
# **Questions.**
#
# 1. DDPG has no entropy term. Which part of DrQ-v2 plays the role that SAC's $\alpha$ plays in
#    keeping the agent exploring?
# 2. Table 1's modern heads without SN score close to a *random* policy on every task (e.g. 11 on
#    cartpole sparse). Using notebook 03's bound (eq. 5), explain why the actor's updates (eq. 3)
#    might be the first thing to break in a deep critic.
# 3. Why might n-step returns make a deep critic's instability worse, or better?
#
# <details><summary>Answer</summary>
#
# 1. The **exploration noise** with its schedule $\sigma(t)$ (1.0 decaying to 0.1): it is set by
#    hand rather than learned as SAC's $\alpha$ is. It enters the actions taken in the environment
#    and, clipped to $\pm 0.3$, the actions at which the critic is evaluated in the target and in
#    the actor's loss (section 3; `update_actor` in `course_lib/agents/ddpg.py`). But it is added
#    *after* the tanh: it moves the point where $\partial Q/\partial \mathbf a$ is read, while the
#    actor's gradient still passes through $1 - \tanh^2 \mu_\theta(\mathbf s)$, and it adds no
#    term that grows as $|\mu|$ grows. So, unlike $\alpha$'s entropy term, it does nothing to keep
#    the actor's own output away from a saturated tanh (section 5).
# 2. The actor learns only through the critic: eq. (3) is $\partial Q / \partial \mathbf a$ times
#    the actor's Jacobian. Eq. (5) bounds the critic's Lipschitz constant, and with it
#    $\|\partial Q / \partial \mathbf a\|$, by the product of its layers' spectral norms; in a deep
#    critic without SN that product can grow large as training moves the weights, so the actor's
#    gradients become large and erratic long before the critic's own loss shows a problem, and a
#    few large steps are enough to push a deterministic tanh actor into saturation, from which it
#    does not return (section 5). SAC's critic has the same problem, but its entropy term pulls the
#    actor back.
# 3. Worse: a target of $n$ real rewards has a larger scale and variance (more random rewards,
#    collected by an older policy), and larger, noisier targets mean larger critic gradients, which
#    a deep unnormalized critic amplifies. Better: only one bootstrap every $n$ steps, discounted by
#    $\gamma^n$, so errors of $\hat Q$ feed back into the target less (the deadly triad's
#    bootstrapping is weaker), and real reward reaches the critic $n$ times faster, so it depends less
#    on its own, possibly diverging, estimates. Which effect wins is an empirical question.
#
# </details>

# %% [markdown]
# ## Your exercises at a glance
#
# `exercises/ex07_drqv2.py` holds three exercises (3 points): `n_step_target` (★★, 1 point),
# `exploration_std` (★, 1 point) and `penultimate_normalize` (★, 1 point), and the capstone of
# section 8, `ddpg_update` (★★★, three checks of 2 points each: `ddpg_update_critic`,
# `ddpg_update_actor`, `ddpg_update_learns`). Run this cell after editing the file (no kernel
# restart needed: each check reloads it); the capstone's checks are in section 8.

# %%
for name in ("n_step_target", "exploration_std", "penultimate_normalize"):
    checks.check(f"ex07_drqv2.{name}")

# %% [markdown]
# ## 8. Capstone: DrQ-v2's whole update, from states
#
# **Capstone** (★★★, 2 points): write `ddpg_update(agent, batch, step)` in `exercises/ex07_drqv2.py`:
# everything `DDPGAgent.update` does from states (no encoder, no augmentation): the critic's step
# on eq. (2) against the batch's n-step target, with the twin minimum and target policy smoothing;
# the actor's step on eq. (3) through the minimum of the two critics at a noisy action; and the
# Polyak average of the target critic. It puts together your exercises of notebook 02 (the
# smoothed target action, DDPG's actor loss, the Polyak average), of notebook 06 (the twin critic's
# loss) and of this notebook: the noise has the standard deviation of your `exploration_std` at
# agent step `step` (section 3), and the batch's `reward` and `discount` are those of section 2's
# windows. Its docstring says what `agent` offers and what to return. A helper `_in_bounds(action)`
# (the clamp to $[-1, 1]$ that lets the actor's gradient through) is given. The capstone is graded
# three times, 2 points each, so one mistake costs only its part:
#
# - `ddpg_update_critic`: the first update on a fixed batch of 3-step windows, with the actor and
#   the target set to move every second update, so that only the critic steps (the actor must not
#   even get a gradient);
# - `ddpg_update_actor`: two updates with DrQ-v2's rhythm (actor and target at every update),
#   checked with the critic's learning rate at 0, so a critic mistake is not counted twice;
# - `ddpg_update_learns`: the course's training loop runs your update
#   (`train(config, update_fn=ddpg_update)`) on cartpole_balance from states, 48,000 frames (6,000
#   agent steps; the std decays from 1.0 to 0.1 over the first 5,000), and the trained actor,
#   evaluated on 5 episodes of the checker's own, must reach 800. It trains for about a minute on
#   one core.
#
# In the first two checks every normal draw of torch returns the same fixed values while your update
# runs, some small and some large, so the clip and the schedule both show, and the order in which
# you draw (or the function you draw with) does not matter.

# %%
checks.check("ex07_drqv2.ddpg_update_critic")

# %%
checks.check("ex07_drqv2.ddpg_update_actor")

# %%
print("trains state DDPG with your ddpg_update (48,000 frames on one core) ...")
checks.check("ex07_drqv2.ddpg_update_learns")
