"""pytest set-up for the whole repository (unit tests and ``--nbval`` notebook checks).

Why at the root: pytest loads this file before collecting ``tests/`` and ``notebooks/`` and before
nbval starts any kernel, in the main process and in every pytest-xdist worker. The notebook build
(``tools/build_notebooks.py``) imports ``prepare_notebook_environment`` from here, so the stored
outputs and the re-executed ones come from the same environment.

Notebook kernels are child processes: they inherit ``os.environ`` as it is when nbval starts them.
We set, at import time:

- ``TQDM_DISABLE=1``: tqdm writes its bars to stderr with timings in them; disabled bars print
  nothing, so nbval never sees them. (Forced, not defaulted: a bar can never be deterministic.)
- ``MUJOCO_GL=egl`` unless the caller chose another backend (``osmesa`` where EGL is missing).
- ``PYTHONHASHSEED=0``: set iteration order stays the same between the build and the test run.
  It only affects interpreters started from now on (kernels, subprocesses), not this one.

Stderr: nbval compares a cell's stderr text like its stdout, which is what we want (a new warning is
a change worth seeing), so nothing is ignored wholesale. Known sources are handled one by one:

- matplotlib builds a font cache the first time it is imported on a machine (a fresh CI runner)
  and, if that takes more than 5 s (a busy runner), logs "Matplotlib is building the font cache;
  this may take a moment." to stderr: into whichever notebook came first, sometimes.
  ``prepare_notebook_environment`` builds the cache here, before any kernel starts.
- tqdm: disabled, see above. Warnings a notebook triggers on purpose are part of its output.

Exercises: ``pytest tests/test_exercises.py --exercises PATH`` checks the ``exNN_topic.py`` files in
PATH (a student's copy of ``exercises/``) instead of the reference ``solutions/``.
"""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

# OMP_NUM_THREADS=1: `make test` runs two xdist workers on two cores; a kernel or training subprocess
# with two intra-op threads each oversubscribes the machine (notebook 03 took 481 s instead of 24 s).
# One thread also makes float reductions, and so printed training results, the same in the build and
# the test run whatever the core count of the machine.
NOTEBOOK_ENV = {"TQDM_DISABLE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
NOTEBOOK_ENV_DEFAULTS = {"MUJOCO_GL": "egl"}


def prepare_notebook_environment(warm_caches: bool = True) -> None:
    """Set the environment notebook kernels inherit and warm caches that would print to stderr."""
    os.environ.update(NOTEBOOK_ENV)
    for name, value in NOTEBOOK_ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if warm_caches:
        import matplotlib.font_manager  # noqa: F401  (builds the font cache if missing)


prepare_notebook_environment(warm_caches=False)  # environment now; caches only if notebooks run

try:  # this process too (OMP_NUM_THREADS above only reaches processes started from now on)
    import torch
    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is in requirements.txt
    pass


def pytest_addoption(parser):
    parser.addoption("--exercises", default=str(ROOT / "solutions"), metavar="PATH",
                     help="folder with exNN_topic.py files to check (default: the reference solutions/)")


def pytest_configure(config):
    if getattr(config.option, "nbval", False):
        prepare_notebook_environment(warm_caches=True)
    folder = Path(config.getoption("--exercises"))
    if not folder.is_dir():
        raise pytest.UsageError(f"--exercises {folder}: not a folder; pass the folder holding the "
                                "exNN_topic.py files, e.g. --exercises exercises")


@pytest.fixture
def exercises_dir(request) -> Path:
    """The folder whose exercise files the tests check (``--exercises``, default ``solutions/``)."""
    return Path(request.config.getoption("--exercises")).resolve()
