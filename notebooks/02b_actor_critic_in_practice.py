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
# # 02b · Actor-critic in practice: training from states, two critics, target networks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/02b_actor_critic_in_practice.ipynb)
#
# Notebook 02 built the paper's two agents piece by piece: SAC's actor (eq. 1), the critic's soft
# Bellman residual (eq. 2), the actor's loss through the critic (eq. 3) and the two algorithms line
# by line. This notebook runs them. From the 5 numbers of cartpole's state (no pixels yet) both
# agents learn `cartpole_swingup` in minutes on a CPU, and two runs more measure the two safeguards
# that notebook 02's pseudocode takes for granted:
#
# 1. training SAC and DDPG on `cartpole_swingup` from states, with learning curves and SAC's
#    temperature;
# 2. overestimation: one critic against the minimum of two, first on a toy, then measured on DDPG
#    against Monte Carlo returns;
# 3. target networks and the deadly triad: DDPG without a target network (notebook 01b met the
#    triad with DQN on a grid world).
#
# The symbols are notebook 02's (its table at the top). This notebook has no exercises of its own:
# the agents it trains are built from the library's versions of the functions you wrote in notebook
# 02 (the list at the end).

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

from course_lib import plots, value_estimates
from course_lib.agents import ddpg

# %% [markdown]
# Section 2 uses notebook 02's toy critic again: the return of each action of one state, a smooth
# bump with its maximum near $a = 0.55$ and a smaller one near $a = -0.6$.


# %%
def toy_critic(a):
    """Q(a) for one state: a smooth bump with its maximum near a = 0.55."""
    return torch.exp(-4 * (a - 0.55) ** 2) + 0.3 * torch.exp(-20 * (a + 0.6) ** 2)


# %% [markdown]
# ## 1. Training from states on a CPU
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
# longest). `train(config)` shows a progress bar by default; here `progress=False` turns it off, and
# the table of evaluations appears at the end:

# %% tags=["nbval-ignore-output"]
torch.set_num_threads(1)  # networks this small train as fast on one core, and leave the others free
sac_result = train(sac_config, progress=False)  # no progress bar: a saved notebook would keep a stale one
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
# (Your numbers may differ from these: a different CPU rounds floating point differently, and an RL
# run amplifies such differences. What any run should show is checked next.)

# %%
for name, result in (("SAC", sac_result), ("DDPG", ddpg_result)):
    returns = result.eval["eval_return"]
    print(f"{name}: {len(returns)} evaluations; untrained return below 100: {returns.iloc[0] < 100}; "
          f"final return above 700 (the pole swings up and stays up): {returns.iloc[-1] > 700}")
for name, result in (("SAC", sac_result), ("DDPG", ddpg_result)):
    finite = np.isfinite(result.train[["critic_loss", "actor_grad_norm", "critic_grad_norm"]].to_numpy(float)).all()
    print(f"{name}: status {result.status}, {result.frames_done} frames, {len(result.train)} diagnostics rows, "
          f"all finite: {bool(finite)}")

# %% [markdown]
# What does a return of about 770 look like? Below, the SAC agent trained above (the same run, made
# again with its video on): the first 6 s of the first episode of its final evaluation, in real
# time. It swings the pole up within about 2 s and keeps it upright for the rest of the clip, while
# the cart wanders along the rail to keep it balanced.

# %%
from course_lib import videos

videos.show_video("../results/videos/sac_state_cartpole_swingup.gif", width=240,
                  caption="SAC from states, seed 1, after 48,000 frames: evaluation return 774 "
                          "(mean of 5 episodes; the video: the first 6 s of the first, real time)")

# %% [markdown]
# The learning curves, the critic's loss (eq. 2) and the gradient norms of actor and critic: the
# three quantities of the paper's Fig. 3, here for small, stable networks. Notebook 08 draws them
# for deep heads with and without spectral normalization.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
plots.plot_runs({"SAC": (sac_result.eval, sac_result.train), "DDPG": (ddpg_result.eval, ddpg_result.train)}, axes,
                panels=("return", "critic_loss", "grad_norms"))
for ax, label in zip(axes, ("evaluation return (sum of rewards)", "critic loss (squared Q units)",
                            "gradient norm (L2, log scale)")):
    ax.set_ylabel(label)
fig.suptitle(f"both agents learn the swing-up; loss and gradients grow with the returns "
             f"(state-based, mlp2 heads, width {resolved.hidden_dim})", y=1.03)
plt.show()

# %% [markdown]
# SAC's temperature during the same run (logged with every actor step, averaged per row of the
# training table). The actor starts nearly uniform on $[-1, 1]$, an entropy far above the target
# $\bar H = -1$, so $\alpha$ first falls. As the agent finds the swing-up and balances the pole,
# its policy becomes more certain than the target allows (balancing rewards precise actions), the
# entropy estimate drops below $\bar H$, and the loss of notebook 02's exercise 6 raises $\alpha$
# again: the temperature is a feedback controller on the entropy, not a schedule.

# %%
alpha_rows = sac_result.train.dropna(subset=["alpha"])
assert (alpha_rows.alpha > 0).all() and alpha_rows.alpha.min() < resolved.init_temperature
plt.figure(figsize=(6, 3))
plt.semilogy(alpha_rows.frame, alpha_rows.alpha, color="C0", label="alpha (learned)")
plt.axhline(resolved.init_temperature, color="gray", linestyle=":", label="initial alpha = 0.1")
plt.xlabel("environment frames")
plt.ylabel("temperature alpha (log scale)")
plt.title("alpha falls while the entropy is above -|A|, rises once it is below")
plt.legend(fontsize="small")
plt.show()

# %% [markdown]
# ## 2. Overestimation: one critic, or the minimum of two
#
# An actor that maximizes a critic also maximizes the critic's *errors*. Suppose the critic is right
# on average, $Q_\psi(\mathbf a) = Q(\mathbf a) + \text{noise}$: at the action the actor picks, the
# noise is more likely positive than not, because that is partly *why* the action was picked. So
# $\mathbb E[\max_{\mathbf a} Q_\psi] \ge \max_{\mathbf a} Q$: the estimate at the chosen action is
# biased upwards, and eq. (2) then bootstraps that bias into the targets of earlier states.
# Clipped double Q-learning (Fujimoto et al. 2018, TD3) trains two critics and uses the smaller
# estimate in the target: two independent errors are rarely both large and positive at the same
# action. TD3's actor climbs $Q_{\psi_1}$ alone; DrQ and DrQ-v2, and so both agents of this course,
# also take the minimum of the two in the actor's loss (notebook 02, section 5, line 12).
#
# First the mechanism, on notebook 02's toy critic (its section 1, defined again above): 1000 pairs
# of noisy critics (true $Q$ plus a smooth random error of mean zero), each maximized by its actor.

# %%
toy_rng = np.random.default_rng(0)
a_values = np.linspace(-1, 1, 201)
true_q = toy_critic(torch.from_numpy(a_values)).numpy()


def noisy_critic():
    # the true Q plus a smooth random error with mean zero (four random sine waves)
    freq, phase, amp = toy_rng.uniform(1, 6, 4), toy_rng.uniform(0, 2 * np.pi, 4), toy_rng.normal(0, 0.05, 4)
    return true_q + (amp[:, None] * np.sin(np.pi * freq[:, None] * a_values + phase[:, None])).sum(axis=0)


bias_one, bias_twin = [], []
for trial in range(1000):
    q1, q2 = noisy_critic(), noisy_critic()
    best_one = q1.argmax()  # an actor that climbs one critic
    bias_one.append(q1[best_one] - true_q[best_one])
    q_min = np.minimum(q1, q2)
    best_twin = q_min.argmax()  # an actor that climbs min(Q1, Q2), as both agents do
    bias_twin.append(q_min[best_twin] - true_q[best_twin])
bias_one, bias_twin = np.array(bias_one), np.array(bias_twin)
print(f"estimate minus truth at the chosen action: one critic {bias_one.mean():+.3f} "
      f"(positive in {np.mean(bias_one > 0):.0%} of the trials), min of two {bias_twin.mean():+.3f}")
assert bias_one.mean() > 0 and bias_twin.mean() < bias_one.mean()

plt.figure(figsize=(6, 3))
plt.hist(bias_one, bins=50, alpha=0.6, label="one critic: Q1 at argmax Q1")
plt.hist(bias_twin, bins=50, alpha=0.6, label="twin: min(Q1, Q2) at its argmax")
plt.axvline(0, color="k", linewidth=1)
plt.xlabel("estimated minus true Q at the chosen action")
plt.ylabel("trials (of 1000)")
plt.title("maximizing a noisy critic overestimates; the minimum of two much less")
plt.legend(fontsize="small")
plt.show()

# %% [markdown]
# Now the real agents. We train DDPG once more with **one** critic: the same agent and settings,
# with the target of line 10 and the actor's loss of line 12 (notebook 02, section 5) using $Q_1$
# alone ($Q_2$ is still trained, never used). We swap the two functions of `course_lib/agents/ddpg.py` for the duration
# of the run with `unittest.mock.patch.object`, and count the calls to be sure the swap took.
# Then `value_estimates.critic_vs_monte_carlo` rolls each trained policy out from fresh episodes
# (with the target policy's small noise, the policy the critics were trained to value) for 600
# steps past dm_control's time limit, and compares the critics' values of the actions taken with the
# discounted returns that actually followed: the **Monte Carlo return of the same policy**.

# %% tags=["nbval-ignore-output"]
from unittest import mock

target_calls = []


def single_critic_target(reward, discount, next_q1, next_q2):
    target_calls.append(1)
    return reward + discount * next_q1  # Q1' alone: no minimum


def single_critic_actor_loss(q1, q2):
    return -q1.mean()  # the actor climbs Q1 alone


with mock.patch.object(ddpg, "ddpg_target", single_critic_target), \
        mock.patch.object(ddpg, "ddpg_actor_loss", single_critic_actor_loss):
    single_result = train(ddpg_config, progress=False)
print(single_result.eval.round(1).to_string(index=False))

# %%
assert len(target_calls) == single_result.agent.updates > 0  # every update used the single critic
estimates = {"one critic": (value_estimates.critic_vs_monte_carlo(single_result.agent), "q1"),
             "twin critics": (value_estimates.critic_vs_monte_carlo(ddpg_result.agent), "q_min")}
for name, (table, column) in estimates.items():
    assert np.isfinite(table[[column, "mc_return"]].to_numpy()).all() and (table.mc_return > 0).all()

# %% tags=["nbval-ignore-output"]
rows = []
for name, (table, column) in estimates.items():
    rows.append({"agent": name, "critic's estimate": table[column].mean(), "Monte Carlo return": table.mc_return.mean(),
                 "estimate - return": (table[column] - table.mc_return).mean()})
print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.1f}"))

fig, ax = plt.subplots(figsize=(7, 3.6))
for (name, (table, column)), color in zip(estimates.items(), ("C3", "C0")):
    per_step = table.groupby("step")[[column, "mc_return"]].mean()
    ax.plot(per_step.index, per_step[column], color=color, label=f"{name}: critic's Q")
    ax.plot(per_step.index, per_step.mc_return, color=color, linestyle="--", label=f"{name}: Monte Carlo return")
ax.set_xlabel("agent step of the episode")
ax.set_ylabel("discounted return (reward units)")
ax.set_title("Q estimates against the returns that followed (mean of 3 episodes)")
ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# Read the picture with the budget in mind. After 48k frames both critics still sit far *below* the
# Monte Carlo returns: the policies became good only in the last evaluations, and with
# $\gamma = 0.99$ the value of a state sums about 100 future rewards, which eq. (2) propagates back
# one step per update through a target that lags by $1/\tau = 100$ updates.
#
# Between the two agents, the Monte Carlo returns are about the same (772 and 774 in the table),
# and the one critic's estimate is higher than the twin critics' minimum (268 against 230): the
# direction the toy above predicts. But each agent is one training run, and the two runs took
# different paths (compare their evaluation tables), so their critics differ for more reasons than
# the minimum. One run per agent cannot tell the maximization bias of the toy from the spread
# between runs: that takes many seeds per agent, or both critics valued on the same policy. Fujimoto et al. measured the bias on MuJoCo tasks with longer
# training and several seeds (TD3, Fig. 1): one critic's estimates rose *above* the true returns,
# and clipped double Q-learning removed that overestimation. (Your numbers may differ from these:
# a different CPU gives a different run.)
#
# ## 3. Target networks and the deadly triad
#
# Bootstrapping (eq. 2 regresses on its own estimates), function approximation (updating one state
# moves the estimates of similar states, including the next state's) and off-policy data (a replay
# buffer filled by older, noisier policies) are each essential to these agents. Together they are
# Sutton and Barto's **deadly triad**: nothing guarantees that the regression converges, and it can
# diverge (notebook 01b showed it in two states, and DQN's answer on a grid world). A target network breaks the quickest feedback loop: the target $\hat Q$ moves only
# slowly, so each regression has (nearly) fixed labels. With $\tau = 1$ (DDPG copies the critic into
# the target after every update) the target *is* the critic of one update ago.
#
# What is possible is known: rewards lie in $[0, 1]$ per frame, 8 frames per agent step, so every
# true value lies in $[0,\ 8/(1 - \gamma)] = [0, 800]$. Estimates outside that range are
# *soft divergence*: the critic is chasing its own errors.

# %% tags=["nbval-ignore-output"]
no_target_config = TrainConfig(agent="ddpg", obs="state", task="cartpole_swingup", seed=1, video=False, tau=1.0,
                               frames=24_000)  # half the budget: the trouble shows early
no_target_result = train(no_target_config, progress=False)
print(no_target_result.eval.round(1).to_string(index=False))

# %%
q_bound = 1.0 * ddpg_resolved.action_repeat / (1 - ddpg_resolved.discount)
runs = {"tau = 0.01 (target network)": ddpg_result, "tau = 1 (no target network)": no_target_result}
for name, result in runs.items():
    assert np.isfinite(result.train.q_mean).all() and result.status == "complete"
print(f"every true Q-value lies in [0, {q_bound:.0f}]")

# %% tags=["nbval-ignore-output"]
for name, result in runs.items():
    q = result.train.q_mean
    print(f"{name}: mean Q over the run from {q.min():.1f} to {q.max():.1f}; largest critic loss "
          f"{result.train.critic_loss.max():.1f}; final return {result.eval.eval_return.iloc[-1]:.1f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 3.4))
for (name, result), color in zip(runs.items(), ("C0", "C3")):
    axes[0].plot(result.train.frame, result.train.q_mean, color=color, label=name)
    axes[1].plot(result.eval.frame, result.eval.eval_return, "o-", color=color, label=name)
axes[0].axhspan(0, q_bound, color="gray", alpha=0.12, label=f"possible values [0, {q_bound:.0f}]")
axes[0].set_xlabel("environment frames")
axes[0].set_ylabel("mean Q over the batch")
axes[0].set_title("without a target network the estimates swing and leave the possible range")
axes[1].set_xlabel("environment frames")
axes[1].set_ylabel("evaluation return")
axes[1].set_title("and the agent does not learn")
for ax in axes:
    ax.legend(fontsize="small")
plt.tight_layout()
plt.show()

# %% [markdown]
# With the target network the mean Q rises smoothly, although the evaluation returns jump (one
# evaluation of 5 episodes every 8k frames). Without it (run for half the budget, 24k
# frames), the estimates swing by hundreds within a few thousand frames and leave the range of
# possible values (negative values, with non-negative rewards, cannot be right); the critic loss
# spikes and the actor, which climbs this critic (eq. 3), learns nothing useful. Bigger networks
# generalize more across states, which strengthens exactly this feedback loop: one more reason deep
# critics are delicate, and why the paper keeps the target network and the minimum of two critics
# and changes only the heads.

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
# <details><summary>Answers</summary>
#
# 1. The loss is a squared error in units of Q. While returns grow from 0 to 800 the Q-values grow
#    from 0 to a few hundred, and so do the errors of a target that keeps moving up (the policy
#    improves, the target network follows): a constant *relative* error gives a growing loss. The
#    loss is comparable across runs only at similar value scales (the paper's Fig. 3 compares two
#    heads on the same task for that reason).
# 2. It acts uniformly at random and does not update: the buffer first fills with diverse data, so
#    the first updates do not fit a handful of transitions of an untrained actor (which would
#    make the critic, and through eq. 3 the actor, overconfident about a tiny part of the space).
# 3. Yes, on this budget: the state defaults were chosen so that both the base MLP head and a
#    4-block modern head with SN learn cartpole_swingup in 48k frames. From states the task is
#    easy; the paper's differences appear from pixels, at 500k frames, and in harder tasks.
# 4. $\partial \mathbf a/\partial \theta = (1 - \tanh^2 \mu)\, \partial \mu/\partial \theta$, and
#    $1 - \tanh^2 \mu \to 0$ as $|\mu|$ grows: a saturated actor receives almost no gradient from
#    the critic, whatever $\partial Q/\partial \mathbf a$ says, and can stay stuck at the bounds. SAC's
#    log-probability contains the term $-\log(1 - \tanh^2 u)$, which grows without bound as $|u|$
#    grows; the entropy bonus therefore penalizes saturated actions and keeps the mean away from
#    that region.
# 5. $n$-step returns propagate rewards $n$ times faster per update (good when values lag, as in
#    section 2) but sum $n$ stored rewards that were earned by the *behaviour* policy, with its
#    exploration noise, not by the current actor: without an off-policy correction the target
#    values a noisier, older policy. From states the noise starts at std 1.0, so early windows of
#    $n$ rewards mostly follow random-looking actions; compare your run's curve with the one above
#    (one seed each, so a single pair of runs shows a direction at most). From pixels DrQ-v2 uses
#    $n = 3$ with a noise schedule that decays over far more agent steps (notebook 07).
#
# </details>
#
# ## Your exercises at a glance
#
# This notebook adds none: its agents run the library's versions of notebook 02's seven exercises
# (`exercises/ex02_actor_critic.py`, 8 points, checked in notebook 02): `squashed_gaussian_log_prob`
# (★★★, 2 points), `soft_value` (★★, 1 point), `soft_bellman_target` (★, 1 point), `soft_update` (★★,
# 1 point), `ddpg_actor_loss` (★, 1 point), `temperature_loss` (★, 1 point) and
# `smoothed_target_action` (★, 1 point). SAC's update (lines 9-13 of notebook 02's pseudocode) is
# the capstone exercise of notebook 06.
#
# **Next:** notebook 03 asks how steep a critic can be: the Lipschitz bound of eq. (5), measured on
# critics of growing depth.
