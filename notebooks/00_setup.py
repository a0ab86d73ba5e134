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
# *Deeper RL* teaches deep reinforcement learning through one paper: **Towards Deeper Deep
# Reinforcement Learning with Spectral Normalization** (Bjorck, Gomes & Weinberger, NeurIPS 2021).
# Every notebook runs top to bottom on a laptop CPU in a few minutes; the full-scale experiments of
# the paper need a GPU, and the notebooks say so where it matters.
#
# This notebook checks your installation:
#
# 1. the **setup cell** that opens every notebook (Colab detection, rendering backend, GPU check);
# 2. the versions of the libraries the course was tested with;
# 3. one rendered frame of a DeepMind Control Suite task, the benchmark of the paper.
#
# **Running it locally.** From the repository root, `make lab` installs everything into `.venv` and
# opens JupyterLab on `notebooks/`. **Running it on Colab.** Open
# <https://colab.research.google.com/github/deeper-rl/deeper-rl/blob/main/notebooks/00_setup.ipynb>
# (any notebook: replace the file name), choose *Runtime → Change runtime type → GPU* if you want
# one, and run the cells in order. The setup cell below fetches the course and installs what Colab
# lacks.

# %% [markdown]
# ## The standard setup cell
#
# Every notebook starts with exactly this cell. It does three things, in this order:
#
# - **On Colab** (`google.colab` is imported there), it clones the course (`REPO_URL`), installs only
#   what Colab lacks (`dm_control`, `mujoco` below 4, `imageio-ffmpeg`) and the course itself with
#   `--no-deps`, so Colab's own PyTorch and NumPy are never replaced. On a GPU runtime it also
#   registers NVIDIA's EGL driver, which Colab does not (the fix MuJoCo's own Colab tutorial uses).
#   Locally, `make lab` already did all of this, so nothing is installed.
# - It sets `MUJOCO_GL`, the OpenGL backend MuJoCo renders with. It must be set **before**
#   `dm_control` is imported, and `setdefault` keeps a value you exported yourself (say `osmesa`).
#   `egl` renders headless, on a CPU through Mesa and on NVIDIA GPUs.
# - It says in one line whether PyTorch sees a GPU (`course_lib.runtime.describe_hardware`).

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

# %% [markdown]
# ## Library versions
#
# The course pins the versions it was tested with in `requirements.txt`. The table shows what this
# kernel actually imports (on Colab, its own PyTorch and NumPy); the line after it says whether every
# pin of `requirements.txt` is satisfied.

# %% tags=["nbval-ignore-output"]
from importlib.metadata import version

import pandas as pd

packages = ["torch", "numpy", "dm_control", "mujoco", "matplotlib", "pandas", "ipywidgets", "jupytext"]
print(f"Python {sys.version.split()[0]}")
pd.DataFrame({"package": packages, "version": [version(p) for p in packages]})

# %%
from pathlib import Path

from packaging.requirements import Requirement

pins = [Requirement(line.split("#")[0]) for line in Path("../requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()]
mismatched = [f"{pin.name} {version(pin.name)} (wanted {pin.specifier})" for pin in pins
              if not pin.specifier.contains(version(pin.name), prereleases=True)]
print(f"{len(pins)} pinned requirements, {len(mismatched)} not satisfied", *mismatched, sep="\n  ")

# %% [markdown]
# On Colab, `torch` and `numpy` (and a few notebook packages) will show up as "not satisfied": that
# is expected, the course runs with Colab's own versions. Locally, every pin should be satisfied;
# if not, run `make install` again.
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
# If this cell failed with an OpenGL error, your machine lacks the `egl` backend: install Mesa's
# EGL (`libegl1`) or OSMesa (`libosmesa6`) and restart the kernel, or `export MUJOCO_GL=osmesa`
# before starting Jupyter.
#
# ## What comes next
#
# | notebook | topic |
# |---|---|
# | 01 | MDPs, Bellman equations, value iteration; a dm_control task as an MDP |
# | 02 | actor-critic: from Q-learning to DDPG and SAC |
# | 03 | Lipschitz bounds of critics (eq. 5 of the paper) |
# | 04 | power iteration and spectral normalization |
# | 05 | modern architectures: residual heads with LayerNorm |
# | 06 | DrQ: SAC from pixels |
# | 07 | DrQ-v2: DDPG from pixels |
# | 08 | diagnosing instability |
# | 09 | reproducing the paper |
#
# Exercises live in `exercises/` (one file per notebook, e.g. `exercises/ex01_mdp.py`); each notebook
# has check cells that tell you instantly whether your function is correct. On Colab the files are
# in `/content/deeper-rl/exercises/` (the folder icon on the left opens an editor); download them
# before the runtime is recycled, Colab does not keep them.
