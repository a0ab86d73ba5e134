"""Where the course lives online: the one GitHub repository every Colab link and clone points to.

Every notebook's first markdown cell carries an "Open in Colab" badge built by :func:`badge`, and
the setup cell clones :data:`REPO_URL` on Colab (``DEEPER_RL_REPO_URL`` overrides it, which is how
the Colab test points it at a local clone). ``tests/test_colab.py`` checks that all of them agree
with the constants here.
"""
from __future__ import annotations

REPO = "deeper-rl/deeper-rl"  # GitHub owner/name of the course
BRANCH = "main"
REPO_URL = f"https://github.com/{REPO}"
COLAB_BASE = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
REPO_URL_ENV = "DEEPER_RL_REPO_URL"  # the setup cell clones from here when it is set
COURSE_DIR_ENV = "DEEPER_RL_DIR"  # ... into this folder (Colab default: /content/deeper-rl)


def colab_url(notebook: str) -> str:
    """The Colab address of ``notebooks/<notebook>`` (a file name such as ``01_mdps.ipynb``)."""
    if "/" in notebook or not notebook.endswith(".ipynb"):
        raise ValueError(f"pass a notebook file name such as '01_mdps.ipynb', got {notebook!r}")
    return COLAB_BASE + notebook


def badge(notebook: str) -> str:
    """The Markdown of the "Open in Colab" badge of ``notebook``."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook)})"
