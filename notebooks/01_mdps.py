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

REPO_URL = "https://github.com/deeper-rl/deeper-rl"  # where Colab fetches the course from
if "google.colab" in sys.modules:  # on Colab: fetch the course, install only what Colab lacks
    if not os.path.isdir("/content/deeper-rl"):
        # !git clone -q --depth 1 {REPO_URL} /content/deeper-rl
    # %pip install -q "dm_control==1.0.50" "mujoco>=3.2,<4" imageio-ffmpeg
    # %pip install -q --no-deps -e /content/deeper-rl
    sys.path.insert(0, "/content/deeper-rl")  # the editable install is seen only after a restart
    os.chdir("/content/deeper-rl/notebooks")
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

from course_lib import checks, mdp as M

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
# **Exercise 1** (`exercises/ex01_mdp.py`, `policy_evaluation`): solve the linear system for a
# deterministic policy. Write it, then run the check (it prints ✓, what is wrong, or "not written
# yet"; edits to the file are picked up each time you run the cell).

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
# **Exercises 2 and 3** (`bellman_backup`, then `value_iteration` built on it):

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
# `gridworld(slip=0.0)`, or `slip=0.4`? Try it.
#
# **Exercise 4** (`greedy_policy`):

# %%
checks.check("ex01_mdp.greedy_policy")

# %% [markdown]
# ## 5. A dm_control task seen as an MDP
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
# **Next:** notebook 02 replaces the tables of this notebook with networks: a critic $Q_\psi(s, a)$
# trained on the Bellman equation, and an actor that follows its gradient.
