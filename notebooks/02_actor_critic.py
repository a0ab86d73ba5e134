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
# # 02 · Actor-critic: from Q-learning to DDPG and SAC
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/02_actor_critic.ipynb)
#
# Both agents of the paper are *actor-critic* methods (Sec. 2.2): a **critic** $Q_\psi(\mathbf a,
# \mathbf s)$ estimates the return of taking action $\mathbf a$ in state $\mathbf s$, and an
# **actor** $\pi_\theta(\mathbf s)$ picks actions that the critic rates highly. The paper studies
# what happens when these two networks get deeper, and finds that the trouble sits exactly where the
# two meet: the actor learns *through* the critic, eq. (3). This notebook builds that machinery
# piece by piece, from notebook 01b's DQN to the two agents' pseudocode:
#
# 1. from Q-learning to continuous actions: why we need an actor, and the gradient of eq. (3);
# 2. the actor's distribution, eq. (1): a tanh-squashed Gaussian and its log-probability;
# 3. the critic: the maximum-entropy objective, soft values, the soft Bellman residual of eq. (2);
# 4. the actor's loss: SAC's and DDPG's, both differentiated through the critic, and the temperature;
# 5. the two algorithms line by line (pseudocode).
#
# Notebook 02b then trains both agents on `cartpole_swingup` from states on a CPU and measures the
# two safeguards of the pseudocode: the minimum of two critics and the target network.
#
# **Symbols.** The course writes the paper's symbols (Sec. 2.2, eqs. 1-3, 5) in every notebook:
#
# | symbol | meaning |
# |---|---|
# | $\mathbf s$, $\mathbf s_t$, $\mathbf s'$ | state (at step $t$; the next state); from pixels the actor and critic read the encoder's features $\phi(\mathbf s)$ |
# | $\mathbf a$, $\mathcal A = [-1, 1]^n$ | action, and the action space ($\lvert\mathcal A\rvert = n$ action dimensions) |
# | $r_t$ | reward received after acting at step $t$ |
# | $\gamma$ | discount factor ($0.99$); $d$ is dm_control's discount of a step (0 at a terminal state) |
# | $\pi_\theta$, $\theta$ | the actor (policy) and its weights; $\boldsymbol\mu_\theta(\mathbf s)$, $\boldsymbol\sigma_\theta(\mathbf s)$ the mean and standard deviation of eq. (1); $\mathbf a_\theta$ an action sampled from it |
# | $Q_{\psi_1}$, $Q_{\psi_2}$; $\psi_1, \psi_2$ | the two critics and their weights ($Q_\psi$ when one critic is meant) |
# | $\hat Q$, $\hat\psi_i$ | the target critic (the paper's hat) and its weights, an exponential average of $\psi_i$ |
# | $\tau$ | the rate of that average ($0.01$) |
# | $\alpha$ | SAC's temperature, the weight of the entropy $H(\pi)$; $\bar H = -\lvert\mathcal A\rvert$ is the target entropy |
# | $\mathrm{Lip}(f)$ | the Lipschitz constant of a function $f$ (the paper writes $\Vert f\Vert$ in eq. 5): the most $f$ can stretch a distance |
# | $\sigma_{\max}(W)$ | the spectral norm of a weight matrix $W$, its largest singular value; $\mathbf u, \mathbf v$ the power-iteration vectors that estimate it (notebook 04) |
#
# Beware: $\sigma$ also names the actor's standard deviation $\boldsymbol\sigma_\theta$ and, in
# notebook 07, DDPG's exploration noise $\sigma(t)$; the subscript or the argument tells them apart.
#
# **Exercises** (`exercises/ex02_actor_critic.py`, 8 points, in the order the notebook uses them):
# `squashed_gaussian_log_prob` (2), `soft_value` (1), `soft_bellman_target` (1), `soft_update` (1),
# `ddpg_actor_loss` (1), `temperature_loss` (1), `smoothed_target_action` (1). Each section has a
# check cell that tells you at once whether your function is right; the reference implementations
# are in `course_lib/agents/sac.py`, `ddpg.py` and `common.py` (peek only after trying!).

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
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import checks, mdp as M, tabular as T, widgets
from course_lib.agents import common, ddpg, sac
from course_lib.nets import make_head

# %% [markdown]
# ## 1. From Q-learning to continuous actions
#
# Q-learning (notebook 01's Bellman optimality equation, learned from samples; notebook 01b's DQN
# with a network) regresses
# $Q(\mathbf a_t, \mathbf s_t)$ on the target $r_t + \gamma \max_{\mathbf a'} Q(\mathbf a',
# \mathbf s_{t+1})$ and acts greedily, $\mathbf a = \arg\max_{\mathbf a} Q(\mathbf a, \mathbf s)$.
# With a handful of discrete actions the max is a lookup. The paper's tasks have **continuous**
# actions, $\mathcal A = [-1, 1]^n$ (the torques of a cart, a walker's joints): the max becomes an
# optimization problem in its own right, to be solved at every step.
#
# Actor-critic methods *learn* the maximizer instead: an actor network outputs an action, and it is
# trained to climb the critic's surface by gradient ascent on $Q_\psi(\mathbf a_\theta, \mathbf s)$
# **with respect to the actor's weights $\theta$, through the critic** (eq. 3):
#
# $$\nabla_\theta = \frac{\partial Q_\psi(\mathbf a_\theta, \mathbf s)}{\partial \theta}
#   = \frac{\partial Q_\psi}{\partial \mathbf a}\,\frac{\partial \mathbf a_\theta}{\partial \theta}.$$
#
# The first factor, $\partial Q / \partial \mathbf a$, comes from the critic. If the critic is very
# steep or very bumpy in $\mathbf a$, the actor's updates are huge or erratic: that is the
# instability the paper finds in deep critics (notebook 03 bounds this factor, eq. 5).
#
# Here is eq. (3) in one dimension. A fixed "critic" rates the actions of one state; the actor is a
# single number $\theta$ with action $a = \tanh(\theta)$. Gradient ascent through the critic moves
# the action uphill:

# %%
def toy_critic(a):
    """Q(a) for one state: a smooth bump with its maximum near a = 0.55."""
    return torch.exp(-4 * (a - 0.55) ** 2) + 0.3 * torch.exp(-20 * (a + 0.6) ** 2)


theta = torch.tensor(-0.2, requires_grad=True)  # the actor's only weight; a = tanh(theta)
optimizer = torch.optim.SGD([theta], lr=0.5)
path = []
for step in range(25):
    action = torch.tanh(theta)
    q = toy_critic(action)
    path.append((action.item(), q.item()))
    optimizer.zero_grad()
    (-q).backward()  # ascend Q: the gradient flows through the critic into theta (eq. 3)
    optimizer.step()
print(f"action {path[0][0]:+.3f} (Q = {path[0][1]:.3f}) -> {path[-1][0]:+.3f} (Q = {path[-1][1]:.3f}) in 25 steps")

grid = torch.linspace(-1, 1, 201)
plt.figure(figsize=(5, 3))
plt.plot(grid, toy_critic(grid), color="gray", label="critic Q(a)")
plt.plot(*zip(*path), "o-", color="C1", markersize=3, label="actor's action, step by step")
plt.xlabel("action a")
plt.ylabel("Q(a)")
plt.legend(fontsize="small")
plt.title("eq. (3): gradient ascent through the critic")
plt.show()

# %% [markdown]
# **Question.** Start at `theta = -1.5` instead. Where does the actor end up, and why? What does this
# say about an actor that learns only from the *local* slope $\partial Q / \partial a$?
#
# <details><summary>Answer</summary>
#
# At $a = \tanh(-1.5) \approx -0.91$ the slope points towards the small bump at $a = -0.6$, so
# the actor climbs that bump and stays there: a *local* maximum with $Q \approx 0.3$, far below the
# global one near $a = 0.55$. Gradient ascent through the critic only ever sees the local slope;
# it finds the best action only if the critic's landscape leads there. Exploration (SAC's entropy,
# DDPG's noise) and the critic's own changes during training are what get an actor out of such
# traps, and a critic that is *too* steep or bumpy in $a$ makes the trap worse: that is the
# smoothness the paper asks of the critic.
#
# </details>
#
# ## 2. The actor's distribution: eq. (1)
#
# The actor outputs, per action dimension, a mean $\mu_\theta(\mathbf s)$ and (SAC) a standard
# deviation $\sigma_\theta(\mathbf s)$; the action is
#
# $$\pi_\theta(\mathbf s) = \tanh\big(\boldsymbol\mu_\theta(\mathbf s) + \boldsymbol\epsilon \odot
#   \boldsymbol\sigma_\theta(\mathbf s)\big), \qquad \boldsymbol\epsilon \sim \mathcal N(0, \mathbf 1). \tag{1}$$
#
# Writing the sample as a deterministic function of $\mu$, $\sigma$ and independent noise
# $\epsilon$ (the *reparametrization trick*) is what lets eq. (3) differentiate through the sampled
# action. The tanh bounds every action to $[-1, 1]$. DDPG is the special case without $\sigma$: a
# deterministic $\tanh(\mu_\theta(\mathbf s))$, with exploration noise added *outside* the tanh
# (notebook 07). Let us look at the squashed distribution for a few $(\mu, \sigma)$:

# %%
generator = torch.Generator().manual_seed(0)
settings = [(0.0, 0.3), (0.0, 1.0), (1.0, 0.5), (0.0, 3.0)]
fig, axes = plt.subplots(1, len(settings), figsize=(12, 2.6), sharey=True)
for ax, (mu, std) in zip(axes, settings):
    u = mu + std * torch.randn(50_000, generator=generator)  # pre-tanh sample
    ax.hist(torch.tanh(u).numpy(), bins=80, range=(-1, 1), density=True, color="C0", alpha=0.7)
    ax.set_title(f"mu={mu}, sigma={std}", fontsize=10)
    ax.set_xlabel("action a = tanh(u)")
axes[0].set_ylabel("density")
fig.suptitle("eq. (1): a wide Gaussian piles its mass at the bounds after the tanh", y=1.04)
plt.show()

# %% [markdown]
# With a large $\sigma$ (right) the mass piles up at the bounds $\pm 1$: a wide Gaussian does *not*
# give a uniform action distribution after the tanh.
#
# **The log-probability.** SAC needs $\log \pi(\mathbf a \mid \mathbf s)$ for its entropy bonus. The
# Gaussian density of $u$ is not the density of $a = \tanh(u)$: the tanh stretches and squeezes the
# line, and the change of variables formula corrects for it with the derivative
# $\frac{d}{du}\tanh(u) = 1 - \tanh(u)^2$:
#
# $$\log \pi(\mathbf a \mid \mathbf s) = \sum_j \Big[\log \mathcal N(u_j; \mu_j, \sigma_j) -
#   \log\big(1 - \tanh(u_j)^2\big)\Big].$$
#
# **Exercise 1** (★★★, 2 points): write `squashed_gaussian_log_prob(pre_tanh, mu, log_std)` in
# `exercises/ex02_actor_critic.py`. Mind large $|u|$, where $1 - \tanh(u)^2$ rounds to zero in
# floating point: find a form of the correction that is exact and stays finite there.

# %%
checks.check("ex02_actor_critic.squashed_gaussian_log_prob")

# %% [markdown]
# The correction is what makes the density right. Below, the histogram of actions from
# $\mu = 0.5, \sigma = 0.8$, and two candidate densities evaluated at $u = \operatorname{atanh}(a)$:
# the Gaussian alone, and the Gaussian with the correction (the course's reference,
# `course_lib.agents.sac.squashed_gaussian_log_prob`). Only the corrected one integrates to 1 over
# $[-1, 1]$:

# %%
mu, log_std = torch.tensor([[0.5]]), torch.log(torch.tensor([[0.8]]))
actions = torch.linspace(-0.999, 0.999, 2001).unsqueeze(1)
u = torch.atanh(actions)
corrected = sac.squashed_gaussian_log_prob(u, mu, log_std).exp().squeeze()
gaussian_only = torch.distributions.Normal(mu, log_std.exp()).log_prob(u).exp().squeeze()
da = float(actions[1] - actions[0])
print(f"integral over [-1, 1]: with the correction {corrected.sum().item() * da:.3f}, "
      f"Gaussian density of u alone {gaussian_only.sum().item() * da:.3f}")

samples = torch.tanh(mu + log_std.exp() * torch.randn(100_000, 1, generator=generator))
plt.figure(figsize=(5, 3))
plt.hist(samples.squeeze().numpy(), bins=100, range=(-1, 1), density=True, alpha=0.5, label="samples of eq. (1)")
plt.plot(actions.squeeze(), corrected, color="C1", label="N(u) / (1 - tanh(u)^2)")
plt.plot(actions.squeeze(), gaussian_only, color="C2", linestyle="--", label="N(u) alone")
plt.xlabel("action a")
plt.ylabel("density pi(a | s)")
plt.title("only the corrected density matches the samples")
plt.legend(fontsize="small")
plt.show()

# %% [markdown]
# ## 3. The critic: soft values, then the soft Bellman residual of eq. (2)
#
# ### The maximum-entropy objective
#
# SAC does not maximize the return alone. It maximizes the return plus the entropy of its policy
# in every state it visits, weighted by a temperature $\alpha > 0$:
#
# $$J(\pi) = \mathbb E_\pi\Big[\sum_{t} \gamma^t \big(r_t + \alpha\, H(\pi(\cdot \mid \mathbf s_t))\big)\Big],
#   \qquad H(\pi(\cdot \mid \mathbf s)) = \mathbb E_{\mathbf a \sim \pi}\big[-\log \pi(\mathbf a \mid \mathbf s)\big].$$
#
# An agent is paid for keeping its options open: it explores by design, and among equally good
# actions it prefers to keep all of them. The values of this objective obey a **soft Bellman
# equation**. For a fixed policy, the soft Bellman operator is
#
# $$(\mathcal T^\pi Q)(\mathbf s, \mathbf a) = r(\mathbf s, \mathbf a) + \gamma\, \mathbb E_{\mathbf s'}\big[V(\mathbf s')\big],
#   \qquad V(\mathbf s') = \mathbb E_{\mathbf a' \sim \pi}\big[Q(\mathbf s', \mathbf a') - \alpha \log \pi(\mathbf a' \mid \mathbf s')\big],$$
#
# a $\gamma$-contraction like the one of notebook 01, whose fixed point is the soft $Q^\pi$.
# Eq. (2) is its squared residual on sampled transitions. The best policy for a given $Q$ is the
# Boltzmann policy $\pi(\mathbf a \mid \mathbf s) \propto \exp(Q(\mathbf s, \mathbf a)/\alpha)$,
# and with it the soft value becomes a *soft maximum*:
#
# $$V(\mathbf s) = \alpha \log \sum_{\mathbf a} \exp\big(Q(\mathbf s, \mathbf a)/\alpha\big)
#   \;\xrightarrow{\ \alpha \to 0\ }\; \max_{\mathbf a} Q(\mathbf s, \mathbf a).$$
#
# SAC's actor approximates that Boltzmann policy within its family (eq. 1), by minimizing
# $\mathbb E[\alpha \log \pi - Q]$ (section 4). On notebook 01's grid world, where the actions
# are discrete, we can iterate the soft Bellman optimality operator exactly (`T.soft_value_iteration`)
# and watch the temperature trade return for entropy.
#
# **Exercise 2** (★★, 1 point): write `soft_value(Q, alpha)`, the soft maximum of each row of a table,
# in a form that does not overflow.

# %%
checks.check("ex02_actor_critic.soft_value")

# %%
grid_world = M.gridworld(slip=0.2)
V_hard, _ = M.value_iteration(grid_world, 0.9, tol=1e-10)
rows = []
for temperature in (0.3, 0.1, 0.03, 0.01, 0.001):
    V_soft, pi_soft = T.soft_value_iteration(grid_world, 0.9, temperature)
    p = pi_soft[grid_world.start]
    rows.append({"alpha": temperature, "soft V(S)": V_soft[grid_world.start], "hard V*(S)": V_hard[grid_world.start],
                 "pi(right | S)": p[grid_world.action_names.index("right")],
                 "entropy of pi(. | S), nats": float(-(p * np.log(p)).sum())})
soft_table = pd.DataFrame(rows)
print(soft_table.round(4).to_string(index=False))
assert abs(soft_table["soft V(S)"].iloc[-1] - V_hard[grid_world.start]) < 1e-2  # alpha -> 0: the hard max
assert soft_table["entropy of pi(. | S), nats"].is_monotonic_decreasing

# %% [markdown]
# At $\alpha = 0.3$ the policy at S is nearly uniform (the entropy of four equally likely actions is
# $\log 4 \approx 1.39$ nats), and the soft value counts that entropy as reward; as $\alpha \to 0$
# the policy concentrates on the best action and the soft value tends to notebook 01's $V^*$.
# SAC *learns* its $\alpha$ (section 4) so that the entropy stays near a target.
#
# **Try it.** The panel runs soft value iteration on the whole grid for the temperature and
# discount you choose, and shows the soft values with the most likely action, and the entropy of
# the policy in every state. It calls `T.soft_report`, as the cell after it does.

# %%
soft_panel = widgets.SoftValuePanel(alpha=0.05, gamma=0.9)
soft_panel

# %%
soft = T.soft_report(alpha=0.05, gamma=0.9)
assert np.array_equal(soft.V_soft, soft_panel.result.V_soft)
widgets.show_soft_report(soft)

# %% [markdown]
# **Question.** At a moderate temperature, where on the map is the policy most certain, and where
# nearly uniform? Why there?
#
# <details><summary>Answer</summary>
#
# The Boltzmann policy $\pi \propto \exp(Q/\alpha)$ is certain where the actions' values differ by
# much more than $\alpha$, and nearly uniform where they differ by much less. Next to the pit and the
# goal one action is far better than the others (a slip into P costs 1, stepping into G pays 1), so
# the policy concentrates there. Far from both, every action leads to similar values a step later,
# so the entropy bonus wins and the policy stays random, which is also where a random step costs
# little.
#
# </details>
#
# ### Eq. (2): the soft Bellman residual on sampled transitions

# %% [markdown]
# The critic is trained on transitions $(\mathbf s_t, \mathbf a_t, r_t, \mathbf s_{t+1})$ sampled
# from a replay buffer, to minimize
#
# $$\min_\psi \mathbb E\Big(Q_\psi(\mathbf a, \mathbf s_t) - \big[r_t + \gamma\,\mathbb E[\hat Q(\mathbf a_{t+1},
#   \mathbf s_{t+1}) + \alpha H(\pi)]\big]\Big)^2 \tag{2}$$
#
# Four details of the bracket (the *target*), all as in the agents the paper builds on (SAC, DrQ):
#
# - $\mathbf a_{t+1}$ is sampled from the **current** policy at $\mathbf s_{t+1}$ (not the action
#   stored in the buffer), and the entropy $H(\pi)$ is estimated with that one sample as
#   $-\log \pi(\mathbf a_{t+1} \mid \mathbf s_{t+1})$;
# - $\hat Q$ is a **target critic**, a slowly moving average of the critic (below);
# - there are **two** critics, and the target takes the smaller of their two target values
#   (*clipped double Q-learning*), which counters the overestimation a max-seeking actor causes;
# - $\gamma$ is multiplied by the environment's discount: 0 at a true terminal state, 1 at
#   dm_control's time limit (an episode cut at 1000 steps is not a terminal state, so we bootstrap).
#   The replay buffer hands out this product as `discount`.
#
# A worked example on four transitions (the last one ends in a terminal state):

# %%
batch = {  # float64, so that the printed numbers are exact
    "reward": torch.tensor([[1.0], [0.0], [0.5], [1.0]], dtype=torch.float64),
    "discount": torch.tensor([[0.99], [0.99], [0.99], [0.0]], dtype=torch.float64),
    "next_q1": torch.tensor([[50.0], [20.0], [35.0], [60.0]], dtype=torch.float64),
    "next_q2": torch.tensor([[48.0], [22.0], [36.0], [61.0]], dtype=torch.float64),
    "next_log_prob": torch.tensor([[-1.0], [0.5], [-0.2], [-3.0]], dtype=torch.float64),
}
alpha = 0.1
target = sac.soft_bellman_target(**batch, alpha=alpha)
table = pd.DataFrame({k: v.squeeze(1).numpy() for k, v in batch.items()})
table["target"] = target.squeeze(1).numpy()
print(table.round(3).to_string(index=False))

# %% [markdown]
# **Question.** Row 1: $1 + 0.99\,(\min(50, 48) - 0.1 \cdot (-1)) = 48.619$. Why does a *negative*
# log-probability raise the target? Why does the last row's target ignore its (large) next Q-values?
#
# <details><summary>Answer</summary>
#
# $-\log \pi(\mathbf a' \mid \mathbf s')$ is the one-sample estimate of the entropy at
# $\mathbf s'$: a negative log-probability means an unlikely action, i.e. a spread-out policy, and
# the maximum-entropy objective pays $\alpha$ times that entropy as a bonus. The last transition
# ends in a terminal state, so its `discount` is 0: nothing comes after it, and the target is the
# reward alone, whatever the critics say about a state that does not exist.
#
# </details>
#
# **Exercise 3** (★, 1 point): write `soft_bellman_target` in `exercises/ex02_actor_critic.py`.

# %%
checks.check("ex02_actor_critic.soft_bellman_target")

# %% [markdown]
# ### Target networks
#
# If the target in eq. (2) were computed with the critic being trained, every update would move its
# own regression target: a dog chasing its tail. The target critic $\hat Q$ is instead "a network
# whose weights are the exponentially averaged weights of the critic" (Sec. 2.2): after each update
# (DrQ: every second one), $\hat\psi \leftarrow (1 - \tau)\,\hat\psi + \tau\,\psi$ with
# $\tau = 0.01$. With spectral normalization (notebook 04) the average is over the *un-normalized*
# weights, and the target keeps its own power-iteration vectors. Notebook 01b showed why DQN holds
# its target fixed; notebook 02b (section 3) measures what happens to DDPG without this slow copy.
#
# **Exercise 4** (★★, 1 point): write `soft_update(target, online, tau)`, in place and on the
# parameters only.

# %%
checks.check("ex02_actor_critic.soft_update")

# %% [markdown]
# How fast does the target follow? Freeze an online critic, start a target somewhere else, and
# average: the distance shrinks by $(1 - \tau)$ per update, to $e^{-1} \approx 37\%$ after
# $1/\tau = 100$ updates. The target lags the critic by about 100 updates (200 agent steps for DrQ).

# %%
torch.manual_seed(0)
online = make_head("mlp", 8, 1, hidden_dim=64, depth=2)
target_net = make_head("mlp", 8, 1, hidden_dim=64, depth=2)  # other random weights


def distance(a, b):
    return torch.sqrt(sum(((p - q) ** 2).sum() for p, q in zip(a.parameters(), b.parameters()))).item()


start = distance(target_net, online)
for updates in range(1, 301):
    common.soft_update(target_net, online, tau=0.01)
    if updates in (100, 200, 300):
        print(f"after {updates} updates: distance {distance(target_net, online) / start:.3f} of the start "
              f"(0.99^{updates} = {0.99 ** updates:.3f})")

# %% [markdown]
# ## 4. The actor's loss: through the critic, eq. (3)
#
# **SAC** samples $\mathbf a = \tanh(\mu + \epsilon\sigma)$ with the reparametrization trick and
# minimizes $\mathbb E[\alpha \log \pi(\mathbf a \mid \mathbf s) - \min_i Q_i(\mathbf a, \mathbf s)]$:
# climb the critic, but keep some entropy. The temperature $\alpha$ is itself learned so that the
# entropy stays near a target ($-|\mathcal A|$). **DDPG** has a deterministic actor and minimizes
# $-\mathbb E[\min_i Q_i(\mu_\theta(\mathbf s), \mathbf s)]$. In both, the loss is differentiated
# with respect to the *actor's* weights only; the critic is just the path the gradient takes.
#
# **Exercise 5** (★, 1 point): write `ddpg_actor_loss(actor, critic, features)`.

# %%
checks.check("ex02_actor_critic.ddpg_actor_loss")

# %% [markdown]
# Let us look at the two factors of eq. (3) for a random actor and a random twin critic (the course's
# `mlp` heads, width 256). `loss.backward(inputs=actor parameters)`
# leaves the critic's weights untouched, as the agents do. By the chain rule, the actor's gradient
# is the critic's action gradient $\partial Q / \partial \mathbf a$ pulled back through the actor;
# scale the critic's weights up and the actor's gradient grows with them:

# %%
torch.manual_seed(1)
state_dim, action_dim = 5, 1  # cartpole's state vector has 5 numbers, its action 1


class TwinCritic(torch.nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.q1 = make_head("mlp", state_dim + action_dim, 1, hidden_dim=256, depth=depth)
        self.q2 = make_head("mlp", state_dim + action_dim, 1, hidden_dim=256, depth=depth)

    def forward(self, features, action):
        x = torch.cat([features, action], dim=-1)
        return self.q1(x), self.q2(x)


actor = torch.nn.Sequential(make_head("mlp", state_dim, action_dim, hidden_dim=256, depth=2), torch.nn.Tanh())
states = torch.randn(256, state_dim)
base_critic = TwinCritic(depth=2)
rows = []
for scale in (1.0, 2.0, 4.0):
    critic = copy.deepcopy(base_critic)
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(scale)  # every layer steeper: eq. (5)'s product of norms grows like scale^3
    action = actor(states)
    action.retain_grad()
    loss = ddpg.ddpg_actor_loss(*critic(states, action))
    actor.zero_grad()
    loss.backward(inputs=list(actor.parameters()) + [action])
    rows.append({"critic weights x": scale,
                 "mean |dQ/da|": action.grad.abs().mean().item() * len(states),
                 "actor grad norm": common.grad_norm(actor.parameters()).item(),
                 "critic weights got grads": any(p.grad is not None for p in critic.parameters())})
print(pd.DataFrame(rows).round(3).to_string(index=False))

# %% [markdown]
# (`action.grad` is the gradient of the *batch mean*, hence the factor 256 to show the per-sample
# slope.) Multiplying every weight by 2 multiplies $\partial Q/\partial \mathbf a$ of a three-layer
# critic by about $2^3 = 8$, and the actor's gradient with it. A deeper critic multiplies more such
# factors: that is the story of the paper, told in notebooks 03-05.
#
# ### Where the two actor losses come from
#
# **DDPG: the deterministic policy gradient** (Silver et al., ICML 2014). A deterministic actor
# $\mu_\theta$ has value $V(\mathbf s) = Q(\mathbf s, \mu_\theta(\mathbf s))$, and
# $Q(\mathbf s, \mathbf a) = r(\mathbf s, \mathbf a) + \gamma\, \mathbb E_{\mathbf s'}[V(\mathbf s')]$. Differentiate
# $V$ with respect to $\theta$: $\theta$ enters once through the action taken now, and once through
# the values of the states that follow,
# $$\nabla_\theta V(\mathbf s) = \nabla_\theta \mu_\theta(\mathbf s)\, \nabla_{\mathbf a} Q(\mathbf s, \mathbf a)\big|_{\mathbf a = \mu_\theta(\mathbf s)}
#   + \gamma\, \mathbb E_{\mathbf s' \sim p(\cdot \mid \mathbf s, \mu_\theta(\mathbf s))}\big[\nabla_\theta V(\mathbf s')\big].$$
# Unrolling the second term step after step gives
# $\nabla_\theta V(\mathbf s_0) = \sum_t \gamma^t\, \mathbb E_{\mathbf s_t}\big[\nabla_\theta \mu_\theta(\mathbf s_t)\, \nabla_{\mathbf a} Q(\mathbf s_t, \mathbf a)\big|_{\mathbf a = \mu_\theta(\mathbf s_t)}\big]$:
# the gradient is the critic's action gradient pulled back through the actor, averaged over the
# states the actor visits. Off-policy, DDPG averages over the replay's states instead, and with a
# learned critic in place of $Q$ this is exactly the gradient of $-\mathbb E[Q(\mathbf s, \mu_\theta(\mathbf s))]$,
# the loss above. Unlike the stochastic policy gradient, no $\nabla \log \pi$ appears: the
# gradient goes *through* $Q$, which is why the critic's slope matters so much (eq. 3).
#
# **SAC: policy improvement as a projection** (Haarnoja et al., ICML 2018). For a fixed critic, the
# best policy of maximum-entropy RL at temperature $\alpha$ is the Boltzmann policy
# $\pi^*(\mathbf a \mid \mathbf s) = \exp(Q(\mathbf s, \mathbf a) / \alpha) / Z(\mathbf s)$. A squashed Gaussian
# cannot represent it, so SAC takes the closest one in KL divergence:
# $$\mathrm{KL}\big(\pi_\theta(\cdot \mid \mathbf s)\,\|\,\pi^*(\cdot \mid \mathbf s)\big)
#   = \mathbb E_{\mathbf a \sim \pi_\theta}\big[\log \pi_\theta(\mathbf a \mid \mathbf s) - Q(\mathbf s, \mathbf a)/\alpha\big] + \log Z(\mathbf s).$$
# $Z(\mathbf s)$ does not depend on $\theta$, so minimizing the KL over $\theta$ is minimizing
# $\mathbb E[\alpha \log \pi_\theta(\mathbf a \mid \mathbf s) - Q(\mathbf s, \mathbf a)]$: SAC's actor loss (with
# the minimum of the two critics for $Q$). The reparametrization $\mathbf a = \tanh(\mu + \epsilon\sigma)$
# makes the expectation differentiable in $\theta$. The projection also improves the policy:
# since the old policy is one of the candidates, the new one scores at least as well on
# $\mathbb E[Q - \alpha \log \pi]$, and unrolling the soft Bellman equation turns that into a soft value
# at least as high in every state (SAC's "soft policy improvement" lemma).
#
# ### The temperature
#
# Which $\alpha$? Too large and the agent dithers; too small and it stops exploring. SAC (in the
# version DrQ uses) turns the choice into a constraint, "keep the policy's entropy near
# $\bar H = -|\mathcal A|$", and learns $\alpha$ as its Lagrange multiplier by gradient descent on
#
# $$J(\alpha) = \mathbb E_{\mathbf a \sim \pi}\big[\alpha\,\big(-\log \pi(\mathbf a \mid \mathbf s) - \bar H\big)\big].$$
#
# When the entropy estimate $-\log \pi$ is below the target, $\partial J/\partial \alpha < 0$ and
# $\alpha$ grows, which makes entropy worth more to the actor; above the target, $\alpha$ shrinks.
# Where this loss comes from: maximize the return subject to
# $\mathbb E[-\log \pi(\mathbf a \mid \mathbf s)] \ge \bar H$. Its Lagrangian, with a multiplier $\alpha \ge 0$, is
# $\mathbb E[\textstyle\sum_t r_t] + \alpha\,\big(\mathbb E[-\log \pi] - \bar H\big)$. For a fixed $\alpha$,
# maximizing it over $\pi$ is maximum-entropy RL at temperature $\alpha$: the actor's and critic's
# losses above. The dual problem minimizes over $\alpha \ge 0$, and the Lagrangian's derivative in
# $\alpha$ is $\mathbb E[-\log \pi] - \bar H$, the gradient of $J(\alpha)$. So $\alpha$ is the dual variable of the
# entropy constraint, and SAC takes one gradient step on the dual per actor step instead of solving it
# exactly (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications", Sec. 5).
# SAC learns $\log \alpha$ (so $\alpha$ stays positive), starts from $\alpha = 0.1$ here, and takes
# one step after every actor step. (The target is negative because the entropy of a density on
# $[-1, 1]^n$ can be: $-|\mathcal A|$ asks for about the spread of a uniform distribution on
# intervals of width $e^{-1} \approx 0.37$ per action dimension.) Notebook 02b plots $\alpha$ over a
# training run.
#
# **Exercise 6** (★, 1 point): write `temperature_loss(log_alpha, log_prob, target_entropy)`.

# %%
checks.check("ex02_actor_critic.temperature_loss")

# %% [markdown]
# ## 5. The two algorithms, line by line
#
# Everything above, assembled as `course_lib/agents/sac.py` and `course_lib/agents/ddpg.py` run it
# from states (from pixels, notebooks 06 and 07 add an encoder and image augmentation). `D` is the
# replay buffer; `d` is dm_control's discount of a step (0 at a true terminal state, 1 at the time
# limit), so `γ d` is the `discount` the buffer returns. One *update* happens per agent step once
# the seed phase is over.
#
# **SAC** (DrQ's recipe, `SACAgent`)
#
# ```
#  1  initialize actor θ, critics ψ1, ψ2, target critics ψ̂1 ← ψ1, ψ̂2 ← ψ2, log α ← log 0.1, D ← ∅
#  2  for every agent step (in state s):
#  3      if still in the seed phase:  a ← uniform in [-1, 1]^|A|
#  4      else:                        a ← tanh(μθ(s) + σθ(s) ε),  ε ~ N(0, I)                 eq. (1)
#  5      if past the seed phase:      UPDATE()
#  6      take a in the environment (action repeat: same a, rewards summed); store (s, a, r, d, s') in D
#  7      every eval_every_frames: evaluate with the mean action tanh(μθ(s)), no updates
#
#  UPDATE():
#  8  sample a batch of (s, a, r, d, s') from D
#  9  a' ~ πθ(s');  y ← r + γ d (min_i Q̂i(s', a') − α log πθ(a'|s'))     no gradient     eq. (2)
# 10  one Adam step on ψ1, ψ2 for  Σ_i mean (Qψi(s, a) − y)²                                 eq. (2)
# 11  every 2nd update:
# 12      ã ← tanh(μθ(s) + σθ(s) ε) (reparametrized);  one Adam step on θ for
#             mean(α log πθ(ã|s) − min_i Qψi(s, ã))          gradient through the critic: eq. (3)
# 13      one Adam step on log α for  mean(α (−log πθ(ã|s) − H̄)),  H̄ = −|A|   (log π detached)
# 14  every 2nd update:  ψ̂i ← (1 − τ) ψ̂i + τ ψi,  τ = 0.01
# ```
#
# **DDPG** (DrQ-v2's recipe, `DDPGAgent`)
#
# ```
#  1  initialize actor θ (μθ = tanh of a head), critics ψ1, ψ2, targets ψ̂i ← ψi, n-step replay D ← ∅
#  2  for every agent step t (in state s):
#  3      σ ← std_start → std_end linearly over std_decay_steps agent steps (1.0 → 0.1)
#  4      if still in the seed phase:  a ← uniform in [-1, 1]^|A|
#  5      else:                        a ← clip(μθ(s) + ε, −1, 1),  ε ~ N(0, σ² I)
#  6      every update_every steps past the seed phase:  UPDATE(σ)
#  7      take a in the environment; store the transition in D
#
#  UPDATE(σ):
#  8  sample n-step transitions (s_t, a_t, R = Σ_{j<n} γ^j r_{t+j}, γ^n d, s_{t+n}) from D  (n = 1 from states)
#  9  a' ← clip(μθ(s') + clip(ε, −c, c), −1, 1),  ε ~ N(0, σ² I),  c = 0.3         target smoothing
# 10  y ← R + γ^n d min_i Q̂i(s', a')                                  no gradient     eq. (2), no entropy
# 11  one Adam step on ψ1, ψ2 for  Σ_i mean (Qψi(s, a) − y)²
# 12  ã ← clip(μθ(s) + clip(ε, −c, c), −1, 1);  one Adam step on θ for  −mean min_i Qψi(s, ã)      eq. (3)
# 13  ψ̂i ← (1 − τ) ψ̂i + τ ψi,  τ = 0.01
# ```
#
# (Both clips pass the gradient of line 12 straight through, as DrQ-v2 does, so the actor's
# gradient is never cut off at the bounds.) The differences are few: SAC's stochastic actor and
# entropy terms (lines 4, 9, 12, 13) against DDPG's scheduled noise (lines 3, 5, 9); SAC updates
# its actor and target every second update, DDPG every update. Both take the **minimum of two
# critics** in the target (line 9 / 10) and both regress on a **target network** (line 14 / 13):
# notebook 02b measures why.
#
# **Exercise 7** (★, 1 point): write `smoothed_target_action(mu, noise, clip)`, DDPG's line 9.

# %%
checks.check("ex02_actor_critic.smoothed_target_action")

# %% [markdown]
# ## Your exercises at a glance
#
# All seven exercises of `exercises/ex02_actor_critic.py` (8 points) belong to this notebook:
# `squashed_gaussian_log_prob` (★★★, 2 points), `soft_value` (★★, 1 point), `soft_bellman_target`
# (★, 1 point), `soft_update` (★★, 1 point), `ddpg_actor_loss` (★, 1 point), `temperature_loss` (★,
# 1 point) and `smoothed_target_action` (★, 1 point). Run this cell after editing
# `exercises/ex02_actor_critic.py` (no kernel restart needed: each check reloads the file).
# Notebook 02b trains the agents these functions make up.

# %%
for name in ("squashed_gaussian_log_prob", "soft_value", "soft_bellman_target", "soft_update", "ddpg_actor_loss",
             "temperature_loss", "smoothed_target_action"):
    checks.check(f"ex02_actor_critic.{name}")
