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
# # 00 · Setup: where the course runs
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/00_setup.ipynb)
#
# *Deeper RL* teaches deep reinforcement learning through one paper: **Towards Deeper Deep
# Reinforcement Learning with Spectral Normalization** (Bjorck, Gomes & Weinberger, NeurIPS 2021).
# Every notebook runs top to bottom on a laptop CPU in a few minutes; the full-scale experiments of
# the paper need a GPU, and the notebooks say so where it matters.
#
# This notebook checks your installation:
#
# 1. the **setup cell** that opens every notebook (Colab detection, rendering backend, GPU check);
# 2. the versions of the libraries the course needs, against the ranges it supports;
# 3. one rendered frame of a DeepMind Control Suite task, the benchmark of the paper.
#
# **Running it locally.** From the repository root, `make lab` installs everything into `.venv` and
# opens JupyterLab on `notebooks/`. **Running it on Colab.** Click the *Open in Colab* badge at
# the top of any notebook, choose *Runtime → Change runtime type → GPU* if you want
# one, and run the cells in order. The setup cell below fetches the course and installs what Colab
# lacks.

# %% [markdown]
# ## The standard setup cell
#
# Every notebook starts with exactly this cell. It does three things, in this order:
#
# - **On Colab** (`google.colab` is imported there), it clones the course (`REPO_URL`) and installs
#   only what Colab lacks: the simulator's packages listed in `requirements-sim.txt` (MuJoCo below 4
#   and the few that `dm_control` needs and Colab does not have), then `dm_control` and the course
#   itself with `--no-deps`. Colab's own PyTorch, NumPy and notebook packages are never replaced.
#   Why `--no-deps` for `dm_control`: its package asks for `labmaze`, a maze generator that only
#   `dm_control.locomotion` uses and that has no build for Python 3.13, Colab's Python. The tasks of
#   this course never import it. On a GPU runtime the cell also registers NVIDIA's EGL driver, which
#   Colab does not (the fix MuJoCo's own Colab tutorial uses). Locally, `make lab` already did all
#   of this, so nothing is installed.
# - It sets `MUJOCO_GL`, the OpenGL backend MuJoCo renders with. It must be set **before**
#   `dm_control` is imported. `choose_backend()` picks `egl` on Linux (headless: Mesa on a CPU,
#   NVIDIA's driver on a GPU) and `glfw` on macOS and Windows, and keeps a value you exported
#   yourself (say `osmesa`).
# - It says in one line whether PyTorch sees a GPU (`course_lib.runtime.describe_hardware`).

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

# %% [markdown]
# ## Library versions
#
# For each library it needs, the course supports a range of versions. One end of each range is what
# `make install` puts in `.venv` (the exact versions of `requirements.txt`), the other is what Colab
# ships. The table shows what this kernel imports and whether it fits; the line after it names any
# library outside its range.

# %% tags=["nbval-ignore-output"]
from course_lib import versions

table = versions.version_table()
table

# %%
outside = versions.unsupported(table)
print(f"{len(table)} libraries checked, {len(outside)} outside the supported range", *outside, sep="\n  ")

# %% [markdown]
# If a library is outside its range, run `make install` again (locally), or on Colab start from
# Colab's own versions again with *Runtime → Disconnect and delete runtime*.
#
# ## One frame of the DeepMind Control Suite
#
# The paper evaluates its agents on tasks of the DeepMind Control Suite (`dm_control`), simulated by
# the MuJoCo physics engine. Here is `cartpole`/`swingup`: a cart on a rail must swing a pole up and
# balance it. The agents of the paper see exactly such images (downsized to 84×84) and nothing else.

# %%
import matplotlib.pyplot as plt
from dm_control import suite

env = suite.load("cartpole", "swingup", task_kwargs={"random": 0})
env.reset()
frame = env.physics.render(height=240, width=320, camera_id=0)
print(f"MUJOCO_GL={os.environ['MUJOCO_GL']}: rendered a {frame.shape} {frame.dtype} frame")

plt.figure(figsize=(4, 3))
plt.imshow(frame)
plt.axis("off")
plt.title("cartpole / swingup, first frame")
plt.show()

# %% [markdown]
# If this cell failed with an OpenGL error, the error names the backend it tried. On Linux, install
# Mesa's EGL (`libegl1`) or OSMesa (`libosmesa6`) and restart the kernel, or `export MUJOCO_GL=osmesa`
# before starting Jupyter. On macOS and Windows the course renders with `glfw`, which needs a desktop
# session with a screen.
#
# ## What comes next
#
# | notebook | topic |
# |---|---|
# | 01 | MDPs, Bellman equations, value iteration; TD(0) and Q-learning from samples; a dm_control task as an MDP |
# | 01b | DQN: Q-learning with a network, a replay memory and a target network; the deadly triad |
# | 02 | actor-critic: from Q-learning to DDPG and SAC (eqs. 1-3), line by line |
# | 02b | actor-critic in practice: SAC and DDPG from states on a CPU, overestimation, target networks |
# | 03 | Lipschitz constants of critics: the bound of eq. (5) against measurements |
# | 04 | the power method and spectral normalization from scratch |
# | 05 | modern architectures: residual heads with LayerNorm; where SN comes from (GANs) |
# | 06 | DrQ: SAC from pixels (augmentation, encoder, replay, one update), the paper's main agent |
# | 07 | DrQ-v2: DDPG from pixels (n-step returns, exploration schedule), the agent of Table 1 |
# | 08 | diagnosing instability: Fig. 3's gradient norms, and what SN changes |
# | 09 | reproducing the paper: sweeps, Tables 1-3, Figs. 1, 2 and 4, and what they cost |
#
# Exercises live in `exercises/` (one file per notebook, e.g. `exercises/ex01_mdp.py`); each notebook
# has check cells that tell you instantly whether your function is correct. A check runs your
# function on inputs drawn at random and compares what it returns with the reference solution's
# answer on the same inputs. Before you have written anything, a check cell says so:

# %%
from course_lib import checks

checks.check("ex01_mdp.bellman_backup")

# %% [markdown]
# Once you have written the function (and saved the file), the same cell prints `✓ correct`, or
# what is wrong: which output is off, and by how much. The check re-reads your file each time, so you
# do not need to restart the kernel. On Colab the files are
# in `/content/deeper-rl/exercises/` (the folder icon on the left opens an editor); download them
# before the runtime is recycled, Colab does not keep them.
