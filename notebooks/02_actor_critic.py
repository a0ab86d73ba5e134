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
# Both agents of the paper are *actor-critic* methods (Sec. 2.2): a **critic** $Q_\psi(\mathbf a,
# \mathbf s)$ estimates the return of taking action $\mathbf a$ in state $\mathbf s$, and an
# **actor** $\pi_\theta(\mathbf s)$ picks actions that the critic rates highly. The paper studies
# what happens when these two networks get deeper, and finds that the trouble sits exactly where the
# two meet: the actor learns *through* the critic, eq. (3). This notebook builds that machinery
# piece by piece, then trains the two agents on a CPU from states:
#
# 1. from Q-learning to continuous actions: why we need an actor, and the gradient of eq. (3);
# 2. the actor's distribution, eq. (1): a tanh-squashed Gaussian and its log-probability;
# 3. the critic's loss, eq. (2): the soft Bellman residual, twin critics, target networks;
# 4. the actor's loss: SAC's and DDPG's, both differentiated through the critic;
# 5. training SAC and DDPG on `cartpole_swingup` from states, with learning curves.
#
# **Exercises** (`exercises/ex02_actor_critic.py`, 5 points): `soft_bellman_target` (1),
# `squashed_gaussian_log_prob` (2), `ddpg_actor_loss` (1), `soft_update` (1). Each section has a
# check cell that tells you at once whether your function is right; the reference implementations
# are in `course_lib/agents/sac.py`, `ddpg.py` and `common.py` (peek only after trying!).

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
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from course_lib import checks, plots
from course_lib.agents import common, ddpg, sac
from course_lib.nets import make_head

# %% [markdown]
# ## 1. From Q-learning to continuous actions
#
# Q-learning (notebook 01's Bellman optimality equation, learned from samples) regresses
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
fig.suptitle("eq. (1): tanh-squashed Gaussians", y=1.04)
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
# **Exercise 2** (2 points): write `squashed_gaussian_log_prob(pre_tanh, mu, log_std)` in
# `exercises/ex02_actor_critic.py`. Mind large $|u|$, where $1 - \tanh(u)^2$ rounds to zero in
# floating point; the docstring gives a stable form.

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
plt.legend(fontsize="small")
plt.show()

# %% [markdown]
# ## 3. The critic: the soft Bellman residual, eq. (2)
#
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
# **Exercise 1** (1 point): write `soft_bellman_target` in `exercises/ex02_actor_critic.py`.

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
# weights, and the target keeps its own power-iteration vectors.
#
# **Exercise 4** (1 point): write `soft_update(target, online, tau)`.

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
# **Exercise 3** (1 point): write `ddpg_actor_loss(actor, critic, features)`.

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
# ## 5. Training from states on a CPU
#
# The paper trains from pixels, which needs a GPU (notebooks 06, 07). From the 5 numbers of
# cartpole's state (cart position, pole angle as cos/sin, and two velocities) the same agents learn
# in minutes on a CPU. `course_lib.train` runs the loop: a seed phase of random actions, then one
# agent update per agent step, an evaluation with the mean action at regular intervals. A run is
# described by one `TrainConfig`; the fields left at `None` are filled in per agent and observation
# type. The `--obs state` defaults are small settings chosen so that a run learns this task on a CPU
# in a minute or two:

# %%
from course_lib.config import TrainConfig
from course_lib.train import train

sac_config = TrainConfig(agent="sac", obs="state", task="cartpole_swingup", seed=1, video=False)
resolved = sac_config.resolved()
shown = ["frames", "arch", "depth", "sn", "hidden_dim", "batch_size", "lr", "action_repeat", "seed_frames",
         "n_step", "tau", "target_update_every", "actor_update_every", "init_temperature", "eval_every_frames"]
print(pd.Series({name: getattr(resolved, name) for name in shown}).to_string())

# %% [markdown]
# The same run from a terminal (it also writes `config.json`, `eval.csv`, `train.csv`, a checkpoint
# and a video into `--out`):
#
# ```
# python -m course_lib.train --agent sac --obs state --task cartpole_swingup --seed 1 --out runs/sac_state
# ```
#
# Training takes about a minute on a laptop CPU (this cell and the DDPG one below are the notebook's
# longest). `train(config)` shows a progress bar by default; here `progress=False` keeps the stored
# notebook free of stale bars, and the table of evaluations appears at the end:

# %% tags=["nbval-ignore-output"]
torch.set_num_threads(1)  # networks this small train as fast on one core, and leave the others free
sac_result = train(sac_config, progress=False)
print(sac_result.eval.round(1).to_string(index=False))

# %% [markdown]
# **DDPG** from states, on the same budget: a deterministic actor that explores with Gaussian noise
# whose standard deviation decays linearly (DrQ-v2's schedule, notebook 07). Its settings are SAC's
# except for those printed here, and the exploration schedule (agent steps) that only DDPG reads
# (`python -m course_lib.train --agent ddpg --obs state --task cartpole_swingup --seed 1 --out runs/ddpg_state`):

# %%
ddpg_config = TrainConfig(agent="ddpg", obs="state", task="cartpole_swingup", seed=1, video=False)
ddpg_resolved = ddpg_config.resolved()
differ = [name for name in shown if name != "init_temperature" and getattr(ddpg_resolved, name) != getattr(resolved, name)]
exploration = ["std_start", "std_end", "std_decay_steps", "std_clip"]  # read by DDPG only
print(pd.Series({name: getattr(ddpg_resolved, name) for name in differ + exploration}, dtype=object).to_string())

# %% tags=["nbval-ignore-output"]
ddpg_result = train(ddpg_config, progress=False)
print(ddpg_result.eval.round(1).to_string(index=False))

# %% [markdown]
# (The numbers above are not compared by the course's tests: a different CPU rounds floating point
# differently, and an RL run amplifies such differences. What must hold is checked next.)

# %%
sac_returns = sac_result.eval["eval_return"]
print(f"SAC: {len(sac_returns)} evaluations; untrained return below 100: {sac_returns.iloc[0] < 100}; "
      f"final return above 700 (the pole swings up and stays up): {sac_returns.iloc[-1] > 700}")
for name, result in (("SAC", sac_result), ("DDPG", ddpg_result)):
    finite = np.isfinite(result.train[["critic_loss", "actor_grad_norm", "critic_grad_norm"]].to_numpy(float)).all()
    print(f"{name}: status {result.status}, {result.frames_done} frames, {len(result.train)} diagnostics rows, "
          f"all finite: {bool(finite)}")

# %% [markdown]
# The learning curves, the critic's loss (eq. 2) and the gradient norms of actor and critic: the
# three quantities of the paper's Fig. 3, here for small, stable networks. Notebook 08 draws them
# for deep heads with and without spectral normalization.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
plots.plot_runs({"SAC": (sac_result.eval, sac_result.train), "DDPG": (ddpg_result.eval, ddpg_result.train)}, axes,
                panels=("return", "critic_loss", "grad_norms"))
fig.suptitle(f"state-based SAC and DDPG on cartpole_swingup (mlp2 heads, width {resolved.hidden_dim})", y=1.03)
plt.show()

# %% [markdown]
# **Questions.**
#
# 1. The critic loss *grows* while the agent improves. Why is that not a sign of trouble? (Hint:
#    what happens to the scale of the Q-values when the returns grow from 0 to 800?)
# 2. SAC's first evaluation comes after 0 frames, its first update after the seed phase of 4000
#    frames. What does the agent do during the seed phase, and why do both agents have one?
# 3. Try `TrainConfig(agent="sac", obs="state", arch="modern", depth=4, sn=True)`: the paper's deep
#    head with spectral normalization (notebooks 04-05). Does it learn as well from states?
# 4. DDPG acts with $\tanh(\mu_\theta(\mathbf s))$. What is $\partial \mathbf a / \partial \theta$ when
#    $|\mu_\theta(\mathbf s)|$ grows large, and what keeps SAC's actor away from that region? (Hint:
#    `ddpg_result.agent.actor.head` gives you $\mu_\theta$ before the tanh; try it on a few states.)
# 5. Train DDPG with `n_step=3` (DrQ-v2's setting from pixels, notebook 07) or 1, whichever the
#    defaults above do not use. What changes? Why can an n-step target be biased when the stored
#    rewards were collected with plenty of exploration noise?
#
# ## Your exercises at a glance
#
# Run this cell after editing `exercises/ex02_actor_critic.py` (no kernel restart needed: each check
# reloads the file).

# %%
for name in ("soft_bellman_target", "squashed_gaussian_log_prob", "ddpg_actor_loss", "soft_update"):
    checks.check(f"ex02_actor_critic.{name}")
