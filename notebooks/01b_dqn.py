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
# # 01b · DQN: Q-learning with a network, a replay memory and a target network
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/01b_dqn.ipynb)
#
# Notebook 01 learned $Q^*$ with a table and ended with a warning: replace the table by a function
# with shared weights, keep bootstrapping and learn off-policy, and the estimates can diverge (the
# **deadly triad**). DQN (Mnih et al., "Human-level control through deep reinforcement learning",
# Nature 2015) learned to play Atari games from pixels with a deep network anyway, thanks to two
# pieces that both agents of the paper still use: a **replay memory** and a **target network**. This
# notebook takes the step between notebook 01's tables and notebook 02's actor-critic agents:
#
# 1. from the table to a network $Q_w(s, \cdot)$: one update moves the values of other states;
# 2. the deadly triad in two states: divergence you can compute by hand;
# 3. DQN's loss, its replay memory and its target network (`course_lib/dqn.py`);
# 4. DQN on notebook 01's grid world, with and without each piece, measured against the exact $Q^*$.
#
# Everything here runs in under a minute on one CPU core.

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

from course_lib import checks, dqn, mdp as M

torch.set_num_threads(1)  # networks this small train as fast on one core

# %% [markdown]
# ## 1. From the table to a network
#
# Tabular Q-learning (notebook 01, section 5) keeps one number per state-action pair and moves only
# $Q(s, a)$ towards its target $r + \gamma \max_{a'} Q(s', a')$. DQN replaces the table by a
# network $Q_w$ that reads a description of the state and outputs one value per action, and turns
# the update into a gradient step on the squared TD error, with the target treated as a fixed label
# (the semi-gradient of notebook 01, section 7):
#
# $$L(w) = \big(Q_w(s, a) - [\,r + \gamma \max_{a'} Q_w(s', a')\,]\big)^2 .$$
#
# Our network reads only the (row, column) of a grid cell, scaled to $[0, 1]$: two numbers, where a
# table has one entry per cell. It must *generalize*: what it learns in one cell shapes its values in
# the cells nearby. That is what lets a network handle the continuous states of the paper's tasks,
# and it has a price. Take a fresh network, and one gradient step that raises $Q_w(\text{S},
# \text{right})$ only:

# %%
grid = M.gridworld(slip=0.2)
features = torch.from_numpy(dqn.grid_coordinates(grid))
right = grid.action_names.index("right")
torch.manual_seed(0)
q_net = dqn.QNetwork(in_dim=2, n_actions=grid.n_actions)
before = dqn.q_table(q_net, features)
optimizer = torch.optim.SGD(q_net.parameters(), lr=0.1)
loss = (q_net(features[grid.start])[right] - (before[grid.start, right] + 1.0)) ** 2  # raise Q(S, right) by 1
optimizer.zero_grad()
loss.backward()
optimizer.step()
change = dqn.q_table(q_net, features)[:, right] - before[:, right]
for name in ("(3,0)", "(3,1)", "(2,0)", "(0,5)"):
    print(f"Q(s, right) at {name}: changed by {change[grid.state_names.index(name)]:+.3f}")

plt.figure(figsize=(5, 3.4))
M.draw_gridworld(grid, values=change, title="one update at S = (3,0): change of Q(s, right)")
plt.show()

# %% [markdown]
# The update aimed at S moved $Q(\cdot, \text{right})$ in every cell: at S's neighbours (3,1) and
# (2,0) by about as much as at S itself, and even in the far corner (0,5) by more than half a unit.
# With a table, only S would have changed. Now put this next to the
# target: the label for $Q(\text{S}, \text{right})$ contains $\max_{a'} Q_w(s', a')$ at the *next*
# state, a neighbour of S, so the step that moves the estimate towards its label also moves the
# label. Regression on a target that moves with every step can chase itself.
#
# ## 2. The deadly triad in two states
#
# Sutton and Barto (*Reinforcement Learning: An Introduction*, 2nd ed., sec. 11.2) give the smallest
# example. Two states share one weight $w$: the first has value $w$, the second $2w$ (features 1 and
# 2). The first leads to the second with reward 0; the second ends the episode with reward 0, so every
# true value is 0. The learner updates only on the first transition (off-policy: the data never show
# the second state's own step). Semi-gradient TD then multiplies $w$ by
# $1 + \alpha(2\gamma - 1)$ at every step, more than 1 whenever $\gamma > 1/2$:
#
# $$w \leftarrow w + \alpha\,\big(0 + \gamma \cdot 2w - w\big) \cdot 1 .$$
#
# Remove any one of the three and the problem goes away. Below, the same 300 updates
# ($\gamma = 0.9$, $\alpha = 0.1$, $w_0 = 1$) five ways: all three legs of the triad; a table (one
# weight per state: no shared function); a Monte Carlo label (the return that followed, 0: no
# bootstrapping); the on-policy distribution (the second state's step is updated as often as the
# first's); and all three legs again, with a target network $\hat w$ copied from $w$ every 50 steps.

# %%
def two_state_td(steps=300, gamma=0.9, lr=0.1, variant="triad", sync_every=50):
    """|weights| after each semi-gradient TD step on the two-state example (true values: all 0)."""
    w = np.array([1.0, 1.0]) if variant == "table" else 1.0  # table: one weight per state
    w_target = w
    sizes = []
    for step in range(steps):
        if variant == "table":
            w = w + lr * (gamma * w[1] - w[0]) * np.array([1.0, 0.0])  # only the first state's entry moves
        elif variant == "monte carlo":
            w = w + lr * (0.0 - w)  # label: the return that followed (0), no estimate in it
        elif variant == "on-policy":
            w = w + lr * (gamma * 2 * w - w) * 1 + lr * (0.0 - 2 * w) * 2  # both states' steps
        elif variant == "target network":
            w = w + lr * (gamma * 2 * w_target - w) * 1  # the label uses the frozen copy
            if (step + 1) % sync_every == 0:
                w_target = w
        else:
            w = w + lr * (gamma * 2 * w - w) * 1
        sizes.append(np.abs(w).max())
    return np.array(sizes)


variants = ["triad", "table", "monte carlo", "on-policy", "target network"]
labels = {"triad": "all three: shared w, bootstrapping, off-policy", "table": "a table (no shared w)",
          "monte carlo": "no bootstrapping (Monte Carlo label)", "on-policy": "on-policy updates",
          "target network": "all three, target copied every 50 steps"}
sizes = {v: two_state_td(variant=v) for v in variants}
for v in variants:
    print(f"{labels[v]:>42}: |w| after 300 steps = {sizes[v][-1]:.3g}")

plt.figure(figsize=(7, 3.6))
for v in variants:
    plt.semilogy(np.arange(1, 301), sizes[v], label=labels[v])
plt.ylim(1e-8, 1e12)  # the converging variants leave the plot downwards, towards 0
plt.xlabel("TD update")
plt.ylabel("largest |weight| (log scale; true value 0)")
plt.title("the deadly triad: only all three together diverge")
plt.legend(fontsize="small")
plt.show()

# %% [markdown]
# With all three legs the weight grows by a factor $1.08$ per step: $10^{10}$ after 300 steps,
# while every true value is 0. Remove one leg and it does not: without bootstrapping and on-policy,
# $w$ goes to 0; with a table the first entry settles at $\gamma$ times the second, which no update
# touches (so the largest weight stays at its start, 1). The target network does *not* remove the
# divergence: between two copies, $w$ regresses towards the frozen label $2\gamma\hat w$ and gets
# close to it, so each copy multiplies $w$ by about $2\gamma = 1.8$ (six copies: $1.8^6 \approx 34$).
# It slows the divergence (from $1.08^{50} \approx 47$ per 50 steps to about 1.8) without removing
# its cause. That is the honest job description of DQN's two pieces: they weaken the feedback loop
# of the triad; nothing guarantees convergence.
#
# **Question.** The on-policy variant updates the same shared weight, with the same bootstrapped
# label for the first state. Why does it converge?
#
# <details><summary>Answer</summary>
#
# Its data also contain the second state's own step, whose label is the reward 0 (the episode ends
# there), and the second state's feature is 2, so that update pulls $w$ down by $4\alpha w$, five
# times as much as the first pushes it up ($0.8\alpha w$): $w \leftarrow w\,(1 + \alpha(2\gamma - 1)
# - 4\alpha)$, a factor below 1.
# On-policy, semi-gradient TD with linear features converges (Tsitsiklis and Van Roy, 1997): the
# states whose estimates serve as labels are also the states that get corrected, in proportion.
# Off-policy data break that balance; a replay memory full of old transitions is off-policy data.
#
# </details>
#
# ## 3. DQN: the loss, the replay memory, the target network
#
# `course_lib/dqn.py` holds the whole agent, top to bottom. Its TD loss, for a batch of
# transitions $(s, a, r, s', \text{done})$ from the replay memory, is
#
# $$L(w) = \frac{1}{B}\sum_{\text{batch}} \Big(Q_w(s, a) - \big[r + \gamma\,(1 - \text{done})
#   \max_{a'} \hat Q(s', a')\big]\Big)^2 ,$$
#
# where $\hat Q$ is the **target network**, a copy of $Q_w$ that is held fixed and overwritten by
# $Q_w$ every `target_sync_every` updates, and `done` is 1 when $s'$ ends the episode (G or P), where
# nothing follows. (An episode cut by a time limit is not done: there we bootstrap.) The
# **replay memory** keeps the last `buffer_size` transitions, and each update draws its batch
# uniformly from all of them. Here are the labels of four transitions, computed by `dqn.dqn_target`:

# %%
batch = {  # float64, so that the printed numbers are exact
    "reward": torch.tensor([-0.04, -0.04, 0.96, -1.04], dtype=torch.float64),
    "done": torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64),
    "next_q": torch.tensor([[0.2, 0.5, 0.1, 0.0], [-0.3, -0.1, -0.2, -0.6], [0.7, 0.9, 0.8, 0.6],
                            [0.1, 0.2, 0.3, 0.4]], dtype=torch.float64),
}
target = dqn.dqn_target(batch["reward"], batch["done"], batch["next_q"], gamma=0.9)
table = pd.DataFrame({"reward": batch["reward"].numpy(), "done": batch["done"].numpy(),
                      "max_a' Q_hat(s', a')": batch["next_q"].max(dim=1).values.numpy(), "label": target.numpy()})
print(table.round(3).to_string(index=False))

# %% [markdown]
# Row 1: $-0.04 + 0.9 \cdot 0.5 = 0.41$. Rows 3 and 4 end the episode (the goal, the pit), so
# their labels are their rewards, whatever $\hat Q$ says about the state after.
#
# **Exercise 1** (★★, 1 point): `dqn_loss(q_net, target_net, batch, gamma)` in
# `exercises/ex01b_dqn.py`: the loss above for a batch of tensors, with labels from `target_net`
# that no gradient reaches (`dqn.td_loss` is the library's version, on batches of state indices).
# The step of your own: picking $Q_w(s, a)$, the value of the action taken, out of the network's
# $B \times A$ output.

# %%
checks.check("ex01b_dqn.dqn_loss")

# %% [markdown]
# Why each piece is there:
#
# - **The target network** holds the label still. Between two copies, the loss above is ordinary
#   regression onto fixed numbers; the step that raises $Q_w(s, a)$ also raises $Q_w(s', \cdot)$
#   (section 1), but not $\hat Q(s', \cdot)$. Without it, $\hat Q = Q_w$: the label moves with every
#   step.
# - **The replay memory** decorrelates the batch and reuses the data. Consecutive transitions of one
#   episode come from a few neighbouring cells; fitted one after the other, the network follows the
#   region it is in and forgets the others (section 1 showed how far one update reaches). A batch
#   drawn from thousands of transitions of many episodes is closer to the independent samples that
#   regression assumes, and each transition is used many times. The price: the memory holds what
#   older, more random policies did, so DQN learns off-policy, the third leg of the triad. (Q-learning
#   can: its max evaluates the greedy policy whatever collected the data.)
#
# ## 4. DQN on the grid world
#
# The task is notebook 01's grid world (slip 0.2, $\gamma = 0.9$), from the (row, column) of each
# cell. Because the MDP is known, `dqn.train_dqn` can measure, every 100 environment steps and
# without sampling noise, the exact value at S of the greedy policy of $Q_w$
# (`M.policy_evaluation`, notebook 01) and the largest error $\max |Q_w - Q^*|$. The settings
# (one update every second environment step, a copy into the target network every 50 updates):

# %%
config = dqn.DQNConfig()
print(pd.Series(vars(config)).to_string())

# %% [markdown]
# We train DQN, DQN without a target network (the label uses $Q_w$ itself) and DQN without replay
# (each batch is the 32 latest transitions, as an agent that learns from its stream would see
# them), three seeds each, on the same number of updates:

# %%
from dataclasses import replace

settings = {"DQN (replay + target network)": config,
            "no target network": replace(config, target_sync_every=None),
            "no replay (latest 32 transitions)": replace(config, replay=False)}
seeds = (0, 1, 2)
runs = {}
for name, setting in settings.items():
    for seed in seeds:
        runs[name, seed] = dqn.train_dqn(grid, replace(setting, seed=seed))
    print(f"{name}: {len(seeds)} runs of {setting.total_steps} steps done")  # the cell's progress, live

V_star, _ = M.value_iteration(grid, config.gamma, tol=1e-10)
V_random = M.policy_evaluation(grid, np.full((grid.n_states, grid.n_actions), 1 / grid.n_actions), config.gamma)
print(f"V*(S) = {V_star[grid.start]:.3f}; the uniformly random policy's V(S) = {V_random[grid.start]:.3f}")

# %% tags=["nbval-ignore-output"]
rows = []
for name in settings:
    curves = [runs[name, seed].curve for seed in seeds]
    last = np.array([c.greedy_value.iloc[-10:].mean() for c in curves])  # mean of the last 10 measurements
    rows.append({"agent": name, "greedy V(S), last 1000 steps, per seed": " ".join(f"{v:+.2f}" for v in last),
                 "mean": last.mean(), "mean |max_a Q - V*|, last 1000 steps": np.mean([c.v_error.iloc[-10:].mean()
                                                                                      for c in curves])})
summary = pd.DataFrame(rows)
print(summary.to_string(index=False, float_format=lambda v: f"{v:+.3f}"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
for (name, color) in zip(settings, ("C0", "C3", "C2")):
    curves = [runs[name, seed].curve for seed in seeds]
    steps = curves[0].step
    for key, ax in zip(("greedy_value", "v_error"), axes):
        values = np.stack([c[key].to_numpy() for c in curves])
        ax.plot(steps, values.mean(axis=0), color=color, label=f"{name} (mean of {len(seeds)} seeds)")
        for v in values:
            ax.plot(steps, v, color=color, alpha=0.2, linewidth=0.8)
axes[0].axhline(V_star[grid.start], color="k", linestyle="--", label="V*(S), the optimum")
axes[0].axhline(V_random[grid.start], color="gray", linestyle=":", label="uniformly random policy")
axes[0].set_ylabel("exact value at S of the greedy policy")
axes[0].set_title("how good is the greedy policy of Q_w?")
axes[1].set_ylabel("mean over states of |max_a Q_w - V*|")
axes[1].set_title("how far are the values that the labels use from V*?")
for ax in axes:
    ax.set_xlabel("environment steps")
axes[0].legend(fontsize="x-small")
plt.tight_layout()
plt.show()

# %%
mean_final = dict(zip(summary.agent, summary["mean"]))
assert mean_final["DQN (replay + target network)"] > V_random[grid.start] + 0.2  # DQN learns

# %% [markdown]
# In the three seeds stored here, DQN's greedy policy ends closest to the optimum: a mean of -0.05
# over its last 1,000 steps, against $V^*(S) = 0.04$ and -0.48 for a random policy. Without the
# target network it ends lower (-0.11), and without replay lower still (-0.24), with the widest
# spread between seeds. The error of the values that the labels bootstrap from (right) tells the
# same about replay (0.39 without it, 0.23 with it, averaged over the last 1,000 steps), but not
# about the target network: without it the error is about DQN's (0.21). Three seeds are few, and
# the first gap is small: the best seed without a target network (-0.07) is close to DQN's worst
# (-0.06). Read the order of DQN and "no target network" as a tendency on this task, not a law. On
# 18 cells with $\gamma = 0.9$ (a horizon of about 10 steps) and a small network, the triad's
# feedback loop is weak; notebook 02b shows a case where it is not: DDPG without its target network.
# (Your numbers may differ from these: a different CPU rounds floating point differently, and an RL
# run amplifies such differences.)
#
# ## 5. From DQN to the paper's agents
#
# DQN needs $\max_{a'} \hat Q(s', a')$ for its label and $\arg\max_a Q_w(s, a)$ to act: with four
# actions, one forward pass gives all four values. The paper's tasks have continuous actions, where
# that max is an optimization problem of its own at every step (notebook 02, section 1). DDPG
# (Lillicrap et al. 2016, "Continuous control with deep reinforcement learning") kept DQN's replay
# memory and target network and replaced the max by an *actor* trained through the critic (eq. 3).
# It also replaced the periodic copy by a slow average, $\hat\psi \leftarrow (1 - \tau)\,\hat\psi +
# \tau\,\psi$ (notebook 02, exercise 4): a target that moves a little at every update instead of
# jumping every few dozen. Both agents of the paper (SAC in DrQ, DDPG in DrQ-v2) keep the replay
# buffer and that averaged target, and add a second critic against the upward bias of a max
# (notebook 01's last question). Notebook 02b trains them from states, and measures DDPG without
# its target network.
#
# **Questions.**
#
# 1. Train with `target_sync_every=1` (a copy after every update). How does it differ from
#    `target_sync_every=None`?
# 2. The agent without replay makes as many updates as DQN, on batches of the same size, from the
#    same stream of transitions. Why does it learn worse here?
# 3. Print `runs["DQN (replay + target network)", 0].curve`: its greedy policy is close to optimal
#    at the end, yet the largest error `q_error` $= \max |Q_w - Q^*|$ stays above 1. Where is that
#    error, and why does it not hurt the policy?
#
# <details><summary>Answers</summary>
#
# 1. It does not differ at all: the label is computed before the update, so with a copy after every
#    update it uses the weights of the previous update, exactly what the online network holds at
#    that moment. What a target network adds is *lag*: a label from weights up to
#    `target_sync_every` updates old.
# 2. Its batches are the 32 latest transitions: one stretch of one episode, a few neighbouring cells,
#    and consecutive batches share all but a couple of transitions. It fits the region it is in,
#    over and over, and each of those updates also moves the values everywhere else (section 1):
#    what it learned about the other cells is overwritten by what it sees now. A batch drawn from
#    the whole memory holds transitions from all over the map and from many episodes.
# 3. In state-action pairs the agent rarely tries: walking into walls, or cells far from its route.
#    Their transitions are rare in the memory, so their estimates stay poor (as in notebook 01,
#    section 6). The greedy policy needs only the best action of each state it visits to come out on
#    top, not every value to be right.
#
# </details>
#
# ## Your exercises at a glance
#
# One exercise belongs to this notebook (`exercises/ex01b_dqn.py`, 1 point): `dqn_loss` (★★, 1
# point). Run this cell after editing the file (no kernel restart needed: the check reloads it). The
# averaged target that replaced DQN's copy is notebook 02's exercise 4 (`soft_update`, ★★), and the
# label with two critics and an entropy bonus its exercise 3 (`soft_bellman_target`, ★).

# %%
for name in ("dqn_loss",):
    checks.check(f"ex01b_dqn.{name}")

# %% [markdown]
# **Next:** notebook 02 carries these ideas to continuous actions: an actor that climbs the critic,
# SAC's maximum-entropy objective, and the two agents of the paper line by line.
