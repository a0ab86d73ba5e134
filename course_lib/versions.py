"""What the course needs, the versions it supports, and dm_control without labmaze.

**Supported versions.** Each range in :data:`SUPPORTED` runs from the lower to the higher of two
tested ends: this project's pins (``requirements.txt``, what ``make install`` puts in ``.venv``) and
Colab's preinstalled versions (the Colab tests run every notebook under them). Notebook 00 shows
:func:`version_table` for the kernel it runs in.

**labmaze.** dm_control's package metadata requires labmaze, which has no wheel past Python 3.12.
The course installs dm_control with ``--no-deps`` (``requirements-sim.txt`` says why): the suite
never imports labmaze, only ``dm_control.locomotion`` does. :func:`explain_missing_labmaze` makes
that one import fail with a line that says how to get labmaze, instead of a bare
``No module named 'labmaze'``. ``import course_lib`` installs it.

Nothing heavy is imported here, so that ``import course_lib`` stays cheap.
"""
from __future__ import annotations

import importlib.abc
import sys
from importlib import metadata

# package -> (supported range, what the course uses it for). The two ends of each range are this
# project's pin and Colab's version (tests/test_versions.py checks both against their sources).
SUPPORTED = {
    "python": (">=3.11,<3.15", "the language; 3.13 is Colab's"),
    "torch": (">=2.11,<2.14", "networks, autograd, the agents"),
    "numpy": (">=2.1.3,<2.5", "arrays everywhere"),
    "dm_control": ("==1.0.50", "the DeepMind Control Suite tasks"),
    "mujoco": (">=3.17.0,<4", "the physics under dm_control"),
    "matplotlib": (">=3.10.0,<3.12", "figures"),
    "pandas": (">=2.2.3,<3.2", "tables of runs"),
    "ipywidgets": (">=7.7.1,<8.2", "the interactive panels"),
    "ipython": (">=7.34.0,<9.20", "the notebook kernel's shell"),
    "tqdm": (">=4.67.3,<4.71", "progress bars"),
    "imageio": (">=2.37.4,<2.39", "videos of trained policies"),
}

LABMAZE_MESSAGE = (
    "labmaze is not installed: only dm_control.locomotion needs it, and the course installs dm_control "
    "without it because labmaze has no wheel past Python 3.12; on Python 3.11 or 3.12, "
    "`pip install labmaze` adds it (the suite tasks of this course never need it)."
)


def installed_version(package: str) -> str | None:
    """The installed version of ``package`` (``"python"``: the interpreter's), or None if absent."""
    if package == "python":
        return ".".join(map(str, sys.version_info[:3]))
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def version_table():
    """A DataFrame: package, what it is for, supported range, installed version, and whether it fits."""
    import pandas as pd
    from packaging.specifiers import SpecifierSet

    rows = []
    for package, (spec, purpose) in SUPPORTED.items():
        have = installed_version(package)
        ok = have is not None and SpecifierSet(spec).contains(have.split("+")[0], prereleases=True)
        rows.append({"package": package, "used for": purpose, "supported": spec,
                     "installed": have or "missing", "ok": ok})
    return pd.DataFrame(rows)


def unsupported(table=None) -> list[str]:
    """One line for each package outside its supported range (empty when all fit)."""
    table = version_table() if table is None else table
    return [f"{row.package} {row.installed} (supported: {row.supported})"
            for row in table.itertuples() if not row.ok]


class _LabmazeHint(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: asked only when no installed labmaze was found."""

    def find_spec(self, name, path=None, target=None):
        if name == "labmaze" or name.startswith("labmaze."):
            raise ModuleNotFoundError(LABMAZE_MESSAGE, name=name)
        return None


def explain_missing_labmaze() -> None:
    """Make ``import labmaze`` (as ``dm_control.locomotion`` does) fail with :data:`LABMAZE_MESSAGE`."""
    if not any(isinstance(finder, _LabmazeHint) for finder in sys.meta_path):
        sys.meta_path.append(_LabmazeHint())
