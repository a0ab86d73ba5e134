"""pytest set-up for the whole repository (unit tests and ``--nbval`` notebook checks).

Why at the root: pytest loads this file before collecting ``tests/`` and ``notebooks/`` and before
nbval starts any kernel, in the main process and in every pytest-xdist worker. The notebook build
(``tools/build_notebooks.py``) imports ``prepare_notebook_environment`` from here, so the stored
outputs and the re-executed ones come from the same environment.

Notebook kernels are child processes: they inherit ``os.environ`` as it is when nbval starts them.
We set, at import time:

- ``TQDM_DISABLE=1``: tqdm writes its bars to stderr with timings in them; disabled bars print
  nothing, so nbval never sees them. (Forced, not defaulted: a bar can never be deterministic.)
- ``MUJOCO_GL``: the platform's default (``course_lib.rendering``: ``egl`` on Linux) unless the
  caller chose another backend (``osmesa`` where EGL is missing).
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

Balancing the two workers. ``make test`` hands whole files to the two xdist workers
(``--dist loadfile``: a notebook's cells share one kernel) in the order of the collection
(``--no-loadscope-reorder``). Files are collected longest first, by the seconds each took in a
recorded run (``tests/durations.json``): the longest-processing-time-first rule, so that neither
worker is left with a long file at the end while the other idles. Re-record the table after adding
long tests or notebooks with ``make durations`` (``pytest ... --record-durations tests/durations.json``).
"""
import json
import os
from pathlib import Path

import pytest

from course_lib.rendering import default_backend

ROOT = Path(__file__).resolve().parent

# OMP_NUM_THREADS=1: `make test` runs two xdist workers on two cores; a kernel or training subprocess
# with two intra-op threads each oversubscribes the machine (notebook 03 took 481 s instead of 24 s).
# One thread also makes float reductions, and so printed training results, the same in the build and
# the test run whatever the core count of the machine.
NOTEBOOK_ENV = {"TQDM_DISABLE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
NOTEBOOK_ENV_DEFAULTS = {"MUJOCO_GL": default_backend()}


def prepare_notebook_environment(warm_caches: bool = True) -> None:
    """Set the environment notebook kernels inherit and warm caches that would print to stderr."""
    os.environ.update(NOTEBOOK_ENV)
    for name, value in NOTEBOOK_ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if warm_caches:
        import matplotlib.font_manager  # noqa: F401  (builds the font cache if missing)


prepare_notebook_environment(warm_caches=False)  # environment now; caches only if notebooks run

# ex06_drq.sac_update_learns trains an agent for about a minute; the tests (and the graders and
# forked processes they start, which inherit this) run it on a few hundred frames and accept any
# finite return: the plumbing is tested everywhere, the learning itself in tests/test_capstone_sac.py.
os.environ.setdefault("COURSE_CHECK_SMOKE", "1")

try:  # this process too (OMP_NUM_THREADS above only reaches processes started from now on)
    import torch
    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is in requirements.txt
    pass


def pytest_addoption(parser):
    parser.addoption("--exercises", default=str(ROOT / "solutions"), metavar="PATH",
                     help="folder with exNN_topic.py files to check (default: the reference solutions/)")
    parser.addoption("--record-durations", default=None, metavar="PATH",
                     help="write the seconds each test file took (setup + call + teardown) to this JSON file")


DURATIONS = ROOT / "tests" / "durations.json"
UNKNOWN_FILE_SECONDS = {"notebooks": 60.0, "tests": 5.0}  # a file not in the table yet


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(session, config, items):
    """Longest files first (see the module docstring); within a file, the order stays as written."""
    try:
        seconds = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        seconds = {}

    def cost(item):
        name = _file_of(item.nodeid)
        return seconds.get(name, UNKNOWN_FILE_SECONDS["notebooks" if name.startswith("notebooks/") else "tests"])

    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (-cost(item), _file_of(item.nodeid), order[id(item)]))


_file_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Sum each file's test time (the controller sees every worker's reports)."""
    name = _file_of(report.nodeid)
    _file_seconds[name] = _file_seconds.get(name, 0.0) + float(report.duration)


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--record-durations")
    if path and not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        table = {name: round(sec, 1) for name, sec in sorted(_file_seconds.items(), key=lambda kv: -kv[1])}
        Path(path).write_text(json.dumps(table, indent=1) + "\n")


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
