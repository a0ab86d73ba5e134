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
# # 01 · MDPs: the problem every agent in the paper solves
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/01_mdps.ipynb)
#
# Section 2.1 of the paper states the problem in one paragraph: an agent in state $s_t$ takes action
# $a_t$, the environment moves to $s_{t+1}$ with probability $P(s_{t+1} \mid s_t, a_t)$ and pays a
# reward $r_t$; the agent wants a policy $\pi$ that maximizes the expected discounted return
# $\mathbb{E}\left[\sum_t \gamma^t r_t\right]$ with $0 < \gamma < 1$.
#
# In this notebook we solve that problem **exactly** on a grid world small enough to hold in a few
# arrays, with the Bellman equations and value iteration. Then we look at the continuous-control task
# the paper's agents learn, `cartpole_swingup`, through the same lens: what are its states, actions,
# rewards, time limit, and what does *action repeat* change? Every deep RL agent of the later
# notebooks approximates what we compute here exactly.

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

from course_lib import checks, mdp as M, tabular as T, widgets

# %% [markdown]
# ## 1. States, actions, rewards and the discount
#
# A *tabular* MDP has finitely many states and actions, so everything fits in two arrays:
# `P[s, a, s']`, the probability of landing in $s'$ after action $a$ in state $s$, and `R[s, a]`,
# the expected reward of that step.
#
# Our grid world (`course_lib.mdp.gridworld`): the agent starts in **S** and walks to the goal
# **G** (+1, the episode ends). Walls (black) block, the pit **P** ends the episode with −1, and every
# step costs 0.04. The floor is slippery: an action moves as intended with probability 0.8 and slips
# sideways (perpendicular) with probability 0.1 each way. There are two ways to the goal: a short one
# that passes along the pit, and a long safe detour over the top.

# %%
grid = M.gridworld(slip=0.2)
print(f"{grid.n_states} states, {grid.n_actions} actions {grid.action_names}; P: {grid.P.shape}, R: {grid.R.shape}")
print("\n".join(grid.layout))

plt.figure(figsize=(4, 2.8))
M.draw_gridworld(grid, title="the grid world")
plt.show()

# %% [markdown]
# One row of `P`: what can happen when the agent, standing right above the pit, steps to the right?

# %%
state = grid.state_names.index("(2,3)")
right = grid.action_names.index("right")
outcomes = pd.DataFrame({"next state": grid.state_names, "probability": grid.P[state, right]})
print(outcomes[outcomes.probability > 0].to_string(index=False))
print(f"expected reward R[(2,3), right] = {grid.R[state, right]:.3f}")

# %% [markdown]
# **Question.** Where does the expected reward −0.14 come from? (Hint: one slip direction leads into
# the pit.) And why do we make G and P *absorbing* states with zero reward, rather than ending the
# arrays there?
#
# <details><summary>Answer</summary>
#
# Stepping right from (2,3) moves right with probability 0.8 and slips up or down with 0.1 each;
# down is the pit. Every step costs 0.04, and the pit adds −1 with probability 0.1:
# $R = -0.04 + 0.1 \cdot (-1) = -0.14$. An absorbing, zero-reward state keeps `P[s, a]` a
# probability distribution for *every* state, so the same array formulas (the Bellman equations,
# the linear solve) handle the end of an episode without special cases: the infinite discounted
# sum after entering G or P adds only zeros, so it equals the episode's return, and $V = 0$ there.
#
# </details>
#
# **The discount.** A reward $k$ steps ahead counts $\gamma^k$ times. With $\gamma = 0.9$ a reward
# 10 steps ahead is worth $0.9^{10} \approx 0.35$; the "effective horizon" is about $1/(1-\gamma)$
# steps. The paper's agents use $\gamma = 0.99$ (a horizon of about 100 agent steps).

# %%
for gamma in (0.5, 0.9, 0.99):
    print(f"gamma={gamma}: weight of a reward 10 steps ahead {gamma**10:.3f}, horizon 1/(1-gamma) = {1 / (1 - gamma):.0f} steps")

# %% [markdown]
# ## 2. The Bellman equations
#
# The value of a policy, $V^\pi(s) = \mathbb{E}_\pi\left[\sum_t \gamma^t r_t \mid s_0 = s\right]$,
# satisfies a one-step consistency condition, the **Bellman expectation equation**:
#
# $$V^\pi(s) = \sum_a \pi(a \mid s)\Big[R(s,a) + \gamma \sum_{s'} P(s' \mid s,a)\, V^\pi(s')\Big].$$
#
# The bracket is the action value $Q^\pi(s, a)$. The best achievable values satisfy the
# **Bellman optimality equation**:
#
# $$V^*(s) = \max_a \Big[R(s,a) + \gamma \sum_{s'} P(s' \mid s,a)\, V^*(s')\Big].$$
#
# The critics of the paper are networks $Q_\psi$ trained so that this kind of equation holds on
# sampled transitions: eq. (2) minimizes the squared difference between $Q_\psi(a_t, s_t)$ and
# $r_t + \gamma\, \mathbb{E}[\hat Q(a_{t+1}, s_{t+1})]$ (plus SAC's entropy bonus).
#
# For a fixed policy the expectation equation is *linear*: $V = R_\pi + \gamma P_\pi V$, so
# $V^\pi = (I - \gamma P_\pi)^{-1} R_\pi$ (`course_lib.mdp.policy_evaluation`). Here is the value
# of the policy that picks one of the four actions uniformly at random:

# %%
gamma = 0.9
uniform = np.full((grid.n_states, grid.n_actions), 1 / grid.n_actions)
V_uniform = M.policy_evaluation(grid, uniform, gamma)
print(f"V of the uniform random policy at S: {V_uniform[grid.start]:.3f}")

plt.figure(figsize=(5, 3.4))
M.draw_gridworld(grid, values=V_uniform, title="V of the uniform random policy, gamma=0.9")
plt.show()

# %% [markdown]
# **Exercise 1** (★★, 1 point): `policy_evaluation` in `exercises/ex01_mdp.py`: solve the linear
# system for a deterministic policy. Write it, then run the check (it prints ✓, what is wrong, or
# "not written yet"; edits to the file are picked up each time you run the cell).

# %%
checks.check("ex01_mdp.policy_evaluation")

# %% [markdown]
# ### A decision you can solve by hand
#
# `two_state_mdp()`: at *home* you can *stay* (reward 1) or *switch* to *work* (reward 0 now), where
# staying pays 2 per step. Is giving up a reward now worth it? $V^*(\text{work}) = 2/(1-\gamma)$ and
# $V^*(\text{home}) = \max\big(1/(1-\gamma),\ 2\gamma/(1-\gamma)\big)$.

# %%
toy = M.two_state_mdp()
rows = []
for gamma_toy in (0.3, 0.5, 0.8):
    V_toy, _ = M.value_iteration(toy, gamma_toy, tol=1e-10)
    choice = toy.action_names[M.greedy_policy(toy, V_toy, gamma_toy)[0]]
    rows.append({"gamma": gamma_toy, "V*(home)": f"{V_toy[0]:.3f}", "V*(work)": f"{V_toy[1]:.3f}", "best at home": choice})
print(pd.DataFrame(rows).to_string(index=False))

# %% [markdown]
# **Question.** At $\gamma = 0.5$ both actions are equally good at home; the table shows `stay` only
# because ties go to the first action. Which $\gamma$ would a very patient agent have?
#
# <details><summary>Answer</summary>
#
# A $\gamma$ close to 1: patience means future rewards count almost as much as present ones. Any
# $\gamma > 1/2$ makes *switch* optimal, because $2\gamma/(1-\gamma) > 1/(1-\gamma)$ exactly when
# $\gamma > 1/2$: giving up one reward of 1 now buys 2 per step forever after.
#
# </details>

# %% [markdown]
# ## 3. Value iteration
#
# Read the optimality equation as an operator on value vectors,
# $(TV)(s) = \max_a [R(s,a) + \gamma \sum_{s'} P(s' \mid s,a) V(s')]$, called the **Bellman
# backup**. $V^*$ is its fixed point, $TV^* = V^*$, and $T$ is a $\gamma$-contraction in the max norm:
#
# $$\lVert TV - TU \rVert_\infty \le \gamma\, \lVert V - U \rVert_\infty .$$
#
# So iterating $V_{k+1} = T V_k$ from any start converges, and the error shrinks at least as fast as
# $\gamma^k$: $\lVert V_k - V^* \rVert_\infty \le \gamma^k \lVert V_0 - V^* \rVert_\infty$.

# %%
V_star, history = M.value_iteration(grid, gamma, tol=1e-10)
errors = np.abs(history - V_star).max(axis=1)
bound = errors[0] * gamma ** np.arange(len(errors))
print(f"value iteration: {len(history) - 1} backups to reach tol 1e-10; V*(S) = {V_star[grid.start]:.4f}")
print(f"error after 10 backups: {errors[10]:.2e} (bound gamma^10 * error_0 = {bound[10]:.2e})")
print("error within the gamma^k bound at every step:", bool(np.all(errors <= bound + 1e-12)))

plt.figure(figsize=(5, 3.2))
plt.semilogy(errors[:-1], "o-", ms=3, label=r"$\|V_k - V^*\|_\infty$")
plt.semilogy(bound[:-1], "--", label=r"$\gamma^k \|V_0 - V^*\|_\infty$")
plt.xlabel("backup k")
plt.ylabel("error (log scale)")
plt.title(f"value iteration on the grid world, gamma={gamma}")
plt.legend()
plt.show()

# %% [markdown]
# **Question.** The measured error falls *faster* than $\gamma^k$ after a while. Why can the bound be
# loose here? (Hint: what happens to the values of states near the goal once the goal's value is
# known?) How many backups would $\gamma = 0.99$ need for the same accuracy?
#
# <details><summary>Answer</summary>
#
# The bound is a worst case: it assumes the error can circulate forever among states that never
# end. Here every good policy reaches G or P, whose values are known exactly (0) from the start.
# The error of $V_k$ is carried along the transitions of the greedy policy, and some probability
# mass leaves for the terminal states at every step, so the error shrinks by $\gamma$ times the
# probability of *not yet* having ended, a factor below $\gamma$. The bound alone would ask for
# $k \ge \ln(\epsilon/e_0)/\ln\gamma$ backups, about $\ln 0.9/\ln 0.99 \approx 10.5$ times as
# many for $\gamma = 0.99$ as for $0.9$ (some 2,300 instead of 220). On this grid world value
# iteration actually stops after 39 backups at $\gamma = 0.9$ and after 53 at $\gamma = 0.99$: the
# episodes end long before the discount matters.
#
# </details>
#
# **Exercise 2** (★, 1 point): `bellman_backup`, the operator $T$ for all states at once.
# **Exercise 3** (★★★, 2 points): `value_iteration` built on it. When may it stop? Derive from the
# contraction inequality how small $\lVert V_{k+1} - V_k \rVert_\infty$ must be for $V_{k+1}$ to be
# within `tol` of $V^*$, which you do not know.

# %%
checks.check("ex01_mdp.bellman_backup")

# %%
checks.check("ex01_mdp.value_iteration")

# %% [markdown]
# ## 4. The greedy policy
#
# Knowing $V^*$, acting optimally is a one-step look-ahead: $\pi^*(s) = \arg\max_a Q^*(s, a)$.
# Let us draw it for a short-sighted ($\gamma = 0.9$) and a far-sighted ($\gamma = 0.99$) agent.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for ax, g in zip(axes, (0.9, 0.99)):
    V_g, _ = M.value_iteration(grid, g, tol=1e-10)
    policy = M.greedy_policy(grid, V_g, g)
    # The greedy policy of V* is optimal: its own value (solved exactly) is V* again.
    V_policy = M.policy_evaluation(grid, policy, g)
    print(f"gamma={g}: V*(S) = {V_g[grid.start]:.3f}, max |V^pi - V*| < 1e-8: {bool(np.abs(V_policy - V_g).max() < 1e-8)}")
    print(M.policy_as_text(grid, policy))
    M.draw_gridworld(grid, values=V_g, policy=policy, ax=ax, title=f"V* and greedy policy, gamma={g}")
plt.show()

# %% [markdown]
# **Question.** The two agents leave S in different directions. Why does the far-sighted one take the
# long way, and why is that not worth it for the short-sighted one? What would happen with
# `gridworld(slip=0.0)`, or `slip=0.4`? Try it (the panel of section 6 does it with a slider).
#
# <details><summary>Answer</summary>
#
# Along the pit every step risks a slip into it (−1, and the episode is over). The detour over the
# top is safe but about four steps longer. For $\gamma = 0.99$ the goal's +1 is worth almost as
# much after the detour as before ($0.99^4 \approx 0.96$), so avoiding the pit pays; for
# $\gamma = 0.9$ four more steps shrink it to $0.9^4 \approx 0.66$ (plus the step costs), and
# the risk is worth taking. With `slip=0.0` there is no risk: both agents go right, along the pit.
# With `slip=0.4` the short route is so dangerous that both take the detour.
#
# </details>
#
# **Exercise 4** (★, 1 point): `greedy_policy`.

# %%
checks.check("ex01_mdp.greedy_policy")

# %% [markdown]
# ## 5. From planning to learning: samples instead of the model
#
# Value iteration needs the arrays `P` and `R`: it *plans* with a model. An agent does not have
# them. It is in a state $s$, takes an action $a$, and the world answers with **one** next state
# $s' \sim P(\cdot \mid s, a)$ and a reward $r$. The paper's agents learn from exactly such
# transitions $(s_t, a_t, r_t, s_{t+1})$, stored in a replay buffer. Three ways to learn values from
# them, in the order the field found them:
#
# 1. **Monte Carlo**: run episodes and average the returns that followed each state: unbiased, but
#    one return is the sum of many random rewards, so it is noisy, and one must wait until the end.
# 2. **TD(0)**: replace the expectation over $s'$ in the Bellman *expectation* equation by the
#    one sample, and move $V(s)$ a step $\alpha$ towards it:
#    $$V(s) \leftarrow V(s) + \alpha\,\big[\underbrace{r + \gamma V(s')}_{\text{TD target}} - V(s)\big].$$
#    It *bootstraps*: the target uses the current estimate $V(s')$, so it learns from every single
#    step, at the price of a target that is wrong while $V$ is.
# 3. **Q-learning**: the same with the Bellman *optimality* equation for $Q$,
#    $$Q(s, a) \leftarrow Q(s, a) + \alpha\,\big[r + \gamma \max_{a'} Q(s', a') - Q(s, a)\big],$$
#    learns $Q^*$ whatever policy collects the data (it is *off-policy*), so the agent can explore.
#
# At a terminal $s'$ the target is just $r$ (the value of G and P is 0). Our simulator,
# `course_lib.tabular.GridSimulator`, samples $s'$ from `P[s, a]` and pays the expected reward
# `R[s, a]`: values depend on rewards only through that expectation, so $V^*$ and $Q^*$ are exactly
# those value iteration computed, and the noise the learner must average out is the slip.
#
# **Monte Carlo first.** The return that followed step $t$ of an episode is
# $G_t = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \dots$, computed backwards in one pass with
# $G_t = r_t + \gamma G_{t+1}$.
#
# **Exercise 5** (★, 1 point): `returns_to_go`.

# %%
checks.check("ex01_mdp.returns_to_go")

# %% [markdown]
# Episodes of the optimal policy from S, and the return that followed their first step, against
# $V^*(S)$. A single return is a poor estimate: it depends on every slip along the way (and since
# our simulator pays the expected reward of each step, a run that slips back and forth collects
# it several times). The average of $n$ returns converges to $V^*(S)$, with an error that shrinks
# like $1/\sqrt{n}$:

# %%
pi_star = M.greedy_policy(grid, V_star, gamma)
simulator = T.GridSimulator(grid, seed=0)
first_returns, lengths = [], []
for episode in range(2000):
    state, rewards, done = grid.start, [], False
    while not done and len(rewards) < 100:
        state, reward, done = simulator.step(state, int(pi_star[state]))
        rewards.append(reward)
    first_returns.append(T.returns_to_go(rewards, gamma)[0])
    lengths.append(len(rewards))
first_returns = np.array(first_returns)
print(f"first episode: {lengths[0]} steps, return from S {first_returns[0]:+.3f}; "
      f"returns seen: {first_returns.min():+.3f} to {first_returns.max():+.3f}")
for n in (10, 100, 2000):
    print(f"mean of {n:>4} returns from S: {first_returns[:n].mean():+.4f}   (V*(S) = {V_star[grid.start]:+.4f})")

# %% [markdown]
# The two updates above, and the behaviour policy of Q-learning: with probability $\epsilon$ a
# uniformly random action, otherwise the greedy one. Each update returns a new array and leaves its
# input alone. **Exercise 6** (★, 1 point): `td0_update`. **Exercise 7** (★, 1 point):
# `epsilon_greedy`. **Exercise 8** (★, 1 point): `q_learning_update`.

# %%
checks.check("ex01_mdp.td0_update")

# %%
checks.check("ex01_mdp.epsilon_greedy")

# %%
checks.check("ex01_mdp.q_learning_update")

# %% [markdown]
# ### Convergence towards value iteration's answer
#
# `T.td0_evaluation` runs TD(0) on the optimal policy $\pi^*$ (so it converges to
# $V^{\pi^*} = V^*$), and `T.q_learning` runs Q-learning with $\epsilon = 0.2$; both use the
# library versions of the functions you just wrote. Two details make them converge:
#
# * **step sizes**: the $n$-th update of an entry uses $\alpha_n = (n + 1)^{-0.7}$. A constant
#   $\alpha$ would leave the estimate jittering around the answer forever; the Robbins-Monro
#   conditions $\sum_n \alpha_n = \infty$ (enough total movement) and $\sum_n \alpha_n^2 < \infty$
#   (the noise averages out) guarantee convergence;
# * **exploring starts**: every episode starts in a random non-terminal state, so every entry keeps
#   being updated. (Q-learning also needs every action tried: that is what $\epsilon$ is for.)
#
# We measure the error in the max norm over all non-terminal states (and all actions, for Q),
# after every few samples:

# %%
n_samples = 60_000
V_td, td_snapshots = T.td0_evaluation(grid, pi_star, gamma, n_samples, seed=0)
Q_star = M.q_values(grid, V_star, gamma)
Q_learned, q_snapshots = T.q_learning(grid, gamma, n_samples, epsilon=0.2, seed=0)
live = ~grid.terminal
td_error = {n: np.abs(V - V_star)[live].max() for n, V in td_snapshots.items()}
q_error = {n: np.abs(Q - Q_star)[live].max() for n, Q in q_snapshots.items()}
greedy_error = {n: np.abs(Q.max(axis=1) - V_star)[live].max() for n, Q in q_snapshots.items()}
agree = (Q_learned.argmax(axis=1) == pi_star)[live].mean()
print(f"after {n_samples:,} samples: max |V_TD - V*| = {td_error[n_samples]:.3f}, "
      f"max |Q - Q*| = {q_error[n_samples]:.3f}, greedy policy of Q = pi* in {agree:.0%} of the states")
assert td_error[n_samples] < 0.1 * td_error[min(td_error)] and q_error[n_samples] < q_error[min(q_error)]

plt.figure(figsize=(6, 3.6))
plt.loglog(list(td_error), list(td_error.values()), "o-", ms=3, label="TD(0): max |V - V*|, policy pi*")
plt.loglog(list(q_error), list(q_error.values()), "s-", ms=3, label="Q-learning: max |Q - Q*|")
plt.loglog(list(greedy_error), list(greedy_error.values()), "--", label="Q-learning: max |max_a Q - V*|")
ns = np.array(list(td_error))
plt.loglog(ns, 3 / np.sqrt(ns), ":", color="gray", label=r"$\propto 1/\sqrt{n}$ (for the slope)")
plt.xlabel("samples n (transitions)")
plt.ylabel("max-norm error (value units)")
plt.title("learning from samples converges to value iteration's V*, Q*")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Question.** Q-learning is clearly slower than TD(0) here. Give two reasons.
#
# <details><summary>Answer</summary>
#
# (1) It has four times as many entries to learn (72 state-action pairs against 18 states), from
# the same number of samples, and the actions the greedy policy rarely takes are tried only with
# probability $\epsilon/4$ each. (2) Its target moves twice: through the bootstrapped $Q(s', \cdot)$,
# like TD(0), and through the $\max$, whose argmax changes while $Q$ is wrong; while it is noisy,
# $\max_{a'} Q(s', a')$ is also *biased upwards* (the maximum of noisy estimates overestimates the
# maximum of their means), a bias notebook 02b measures in the deep agents. TD(0) evaluates one fixed
# policy, and its target is unbiased given $V$.
#
# </details>

# %% [markdown]
# ## 6. Try it: discount, slip and exploration
#
# The panel below runs value iteration and Q-learning (30,000 samples, every episode from S, as an
# agent really starts) for the discount, slip probability and exploration rate you choose, and shows
# $V^*$ with its greedy policy, what Q-learning learned, and the error curves. It calls the plain
# function `T.learning_report`, which the cell after it calls too. Try $\epsilon = 0$: a purely
# greedy agent that never tries anything new. Then a large slip, or $\gamma = 0.99$.
# (The panel needs a live kernel; a static view shows its one-line name.)

# %%
panel = widgets.TabularPanel(gamma=0.9, slip=0.2, epsilon=0.2)
panel

# %%
report = T.learning_report(gamma=0.9, slip=0.2, epsilon=0.2)
assert np.array_equal(report.Q, panel.result.Q)  # the panel shows exactly this
widgets.show_learning_report(report)

# %% [markdown]
# **Question.** With every episode starting at S, why can Q-learning find the optimal action at S
# while its max-norm error stays large? What does $\epsilon = 0$ do, and why does $\epsilon = 1$
# (a uniformly random behaviour policy) still learn the *greedy* policy?
#
# <details><summary>Answer</summary>
#
# The max-norm error is dominated by state-action pairs the agent rarely or never tries (walking
# into walls far from its route); they do not matter for acting well, as long as their estimates
# do not look better than the good actions. With $\epsilon = 0$ the agent only ever takes the action
# that currently looks best; all values start at 0 and the step costs make every tried action look
# worse than the untried ones, so it explores somewhat by accident, but it can settle on a route
# and never learn that another one is better. With $\epsilon = 1$ the data come from a random walk,
# but the target's $\max_{a'}$ evaluates the greedy policy regardless of how the data were
# collected: Q-learning is off-policy. Its problem is coverage: a random walk from S rarely reaches
# the far side of the map, so learning is slow there.
#
# </details>

# %% [markdown]
# ## 7. From tables to function approximation
#
# A table has one free number per state (or state-action pair). The paper's tasks have continuous
# states: the table becomes a function with weights $w$, and TD(0) becomes a gradient step on the
# squared TD error with the target held fixed (a *semi-gradient*: we do not differentiate through
# $V_w(s')$):
#
# $$w \leftarrow w + \alpha\,\big[r + \gamma V_w(s') - V_w(s)\big]\,\nabla_w V_w(s).$$
#
# For a linear $V_w(s) = \phi(s)^\top w$ the gradient is the feature vector $\phi(s)$. One-hot
# features give back the table exactly. Coarse features, here four numbers per state (a constant,
# the row, the column and their product), cannot represent $V^*$; TD then converges to the best it
# can do in its own sense (the fixed point of the Bellman operator followed by a projection onto
# the features), and an error remains however many samples it sees.
#
# **Exercise 9** (★, 1 point): `semi_gradient_td0_update`, that update for one transition. With one-hot
# features it must reduce to your `td0_update`.

# %%
checks.check("ex01_mdp.semi_gradient_td0_update")

# %%
rows_cols = np.array(grid.coords, dtype=float) / [3.0, 5.0]
features = {
    "one-hot (a table)": np.eye(grid.n_states),
    "4 coarse features": np.column_stack([np.ones(grid.n_states), rows_cols, rows_cols.prod(axis=1)]),
}
plt.figure(figsize=(6, 3.4))
for (name, phi), marker in zip(features.items(), "os"):
    w, snapshots = T.semi_gradient_td0(grid, pi_star, phi, gamma, n_samples, seed=0, lr=0.3)
    errors = [np.abs(V - V_star)[live].max() for V in snapshots.values()]
    plt.loglog(list(snapshots), errors, marker + "-", ms=3, label=f"{name}: {phi.shape[1]} weights")
    print(f"{name:>18}: {phi.shape[1]:>2} weights, final max |V_w - V*| = {errors[-1]:.3f}")
plt.xlabel("samples n (transitions)")
plt.ylabel("max |V_w - V*| (value units)")
plt.title("linear TD(0): coarse features leave an error floor")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# The paper's critics are this recipe with three changes: the features and the value are one deep
# network $Q_\psi(\mathbf a, \mathbf s)$ that learns its own features; the update is eq. (2),
# the mean squared TD error over a minibatch from the replay buffer; and the max over actions,
# impossible over a continuous action space, is replaced by an actor. Bootstrapping, function
# approximation and off-policy data together are known as the **deadly triad**: each is useful,
# and together they can make the estimates diverge. Notebook 01b shows that in two states, and the
# replay memory and target network that DQN uses to keep it in check.

# %% [markdown]
# ## 8. A dm_control task seen as an MDP
#
# The paper's agents learn on the DeepMind Control Suite. Take `cartpole_swingup`: the state is the
# cart position and the pole angle plus their velocities, the action is one force on the cart, and
# the reward (between 0 and 1 per step) is high when the pole is up and the cart centred. Nothing
# here is tabular any more: states and actions are continuous, so $V$ and $Q$ become networks, and
# the sum over $s'$ becomes a sample from the simulator. Here are its specs, straight from
# `dm_control`:

# %%
from dm_control import suite

raw = suite.load("cartpole", "swingup", task_kwargs={"random": 0})
for name, spec in raw.observation_spec().items():
    print(f"observation {name!r}: shape {spec.shape}, {spec.dtype}")
action_spec = raw.action_spec()
print(f"action: shape {action_spec.shape}, bounds [{action_spec.minimum[0]}, {action_spec.maximum[0]}]")

time_step, n_steps = raw.reset(), 0
while not time_step.last():
    time_step = raw.step(np.zeros(action_spec.shape))
    n_steps += 1
print(f"an episode ends after {n_steps} control steps of {raw.control_timestep()} s "
      f"({n_steps * raw.control_timestep():.0f} s simulated); discount at the end: {time_step.discount}")

# %% [markdown]
# **The time limit is not a terminal state.** Every dm_control episode stops after 1000 steps, but the
# discount stays 1.0 there: the pole would keep swinging. So the critic's target at the last step
# still bootstraps, $r + \gamma \hat Q(s', a')$ (eq. 2), unlike at G or P in our grid world.
#
# **Action repeat.** The agents of the paper (DrQ, DrQ-v2) choose a new action only every 2 control
# steps and repeat it in between, summing the rewards: an episode has 500 *agent steps* but 1000
# *frames*, and budgets like "500k" count frames. `course_lib.envs.make_env` builds the task as the
# agents see it: actions in $[-1, 1]$, action repeat, state or pixel observations.

# %%
from course_lib.envs import make_env

env = make_env("cartpole_swingup", obs_type="state", seed=0, action_repeat=2)
print(env)
print(f"agent steps per episode: {env.max_episode_agent_steps} (= 1000 frames / action repeat {env.action_repeat})")

# %% [markdown]
# A random policy for one episode, with a frame every 50 agent steps (camera 0, the view the pixel
# agents get). Watch the cart: random forces soon push it to the end of the rail, out of the picture.

# %%
rng = np.random.default_rng(0)
time_step, rewards, frames = env.reset(), [], []
while not time_step.last:
    if len(rewards) % 50 == 0:
        frames.append(env.render(size=96))
    time_step = env.step(rng.uniform(-1, 1, size=env.action_dim))
    rewards.append(time_step.reward)
rewards = np.array(rewards)
discounted = np.sum(0.99 ** np.arange(len(rewards)) * rewards)
print(f"random policy: {len(rewards)} agent steps, return {rewards.sum():.1f}, "
      f"discounted return (gamma=0.99) {discounted:.1f}")

fig, axes = plt.subplots(1, len(frames), figsize=(1.5 * len(frames), 1.7))
for k, (ax, frame) in enumerate(zip(axes, frames)):
    ax.imshow(frame)
    ax.set_title(f"step {50 * k}", fontsize=8)
    ax.axis("off")
plt.show()

plt.figure(figsize=(6, 2.2))
plt.plot(rewards)
plt.xlabel("agent step")
plt.ylabel("reward (2 frames)")
plt.title("cartpole_swingup, random actions")
plt.show()

# %% [markdown]
# **Questions.**
#
# 1. With action repeat 2, each agent reward is the sum of two control-step rewards. What is the
#    largest possible return of an episode, counted in agent steps?
# 2. The paper *reports* the undiscounted return (the sum of rewards) but its agents *maximize* the
#    discounted one with $\gamma = 0.99$. About how far ahead does such an agent look, in agent steps
#    and in seconds of simulated time?
# 3. The pixel agents see only images. Is one image a Markov state for cartpole? (What can't you read
#    off a single frame?) The agents stack the last 3 frames; why does that help? And what does a
#    pixel agent know while the cart is out of the picture?
#
# <details><summary>Answers</summary>
#
# 1. A control step pays at most 1, so an agent step (2 control steps) at most 2, and an episode
#    has 500 agent steps: at most 1000, the same as counted in frames. Action repeat changes how
#    often the agent decides, not how much reward there is.
# 2. About $1/(1-\gamma) = 100$ agent steps, i.e. 200 control steps of 0.01 s: some 2 seconds of
#    simulated time, a fifth of the episode. Rewards further ahead still count, with weights that
#    fade like $0.99^k$.
# 3. No: one frame shows positions (cart, pole angle) but not velocities, and a pole passing
#    upright while falling looks the same as one rising. Three frames let the network take finite
#    differences, so velocities (and even accelerations) become visible: the stack is
#    (approximately) Markov. While the cart is out of the picture the agent sees nothing of it;
#    it knows only what the last frames of the stack still show, and the task becomes partially
#    observable.
#
# </details>
#
# **Next:** notebook 01b replaces the table of Q-learning with a network (DQN), with a replay memory
# and a target network; notebook 02 then carries it to continuous actions: a critic $Q_\psi(s, a)$
# trained on the Bellman equation, and an actor that follows its gradient.
