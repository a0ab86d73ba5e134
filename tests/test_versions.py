"""The versions the course supports, checked at both ends, and dm_control without labmaze.

Each range of ``course_lib.versions.SUPPORTED`` must hold this project's version (the pin of
``requirements.txt``, or what ``.venv`` has where the pin is a range) and Colab's published version
(``tests/colab_versions.txt``), and must start at the lower of the two: a range claims no support
below what is tested. The Colab end is exercised by ``make test-platforms`` (``tests/test_colab.py``).
"""
from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from course_lib import versions

ROOT = Path(__file__).resolve().parents[1]


def _pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements-style file, names lower-cased."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


COLAB = _pins(ROOT / "tests" / "colab_versions.txt")
PROJECT = {**_pins(ROOT / "requirements-nodeps.txt"), **_pins(ROOT / "requirements.txt")}


def _ends(package: str) -> dict[str, Version]:
    key = package.lower().replace("_", "-")
    project = PROJECT.get(key) or (".".join(map(str, sys.version_info[:3])) if package == "python"
                                   else metadata.version(package))
    ends = {"project": Version(project)}
    if key in COLAB:  # dm_control and mujoco: Colab has none, its setup cell installs the project's
        ends["colab"] = Version(Version(COLAB[key]).base_version)
    return ends


@pytest.mark.parametrize("package", versions.SUPPORTED)
def test_each_range_holds_both_tested_ends_and_starts_at_the_lower(package):
    spec = SpecifierSet(versions.SUPPORTED[package][0])
    ends = _ends(package)
    for where, version in ends.items():
        assert spec.contains(version), f"{package}: the {where} version {version} is outside {spec}"
    lowest = min(ends.values())
    floors = [Version(s.version) for s in spec if s.operator in (">=", "==")]
    assert floors, f"{package}: {spec} has no lower bound"
    assert floors[0].release[:2] == lowest.release[:2] and floors[0] <= lowest, \
        f"{package}: {spec} should start at the lowest tested version, {lowest}"


def test_colab_end_is_the_published_one():
    assert COLAB["python"].startswith("3.13.") and COLAB["ipywidgets"] == "7.7.1"
    header = (ROOT / "tests" / "colab_versions.txt").read_text().splitlines()[:8]
    assert any(line.startswith("# Checked: ") for line in header), "colab_versions.txt must say when it was checked"


def test_this_environment_is_inside_every_range():
    table = versions.version_table()
    assert list(table.columns) == ["package", "used for", "supported", "installed", "ok"]
    assert versions.unsupported(table) == [], table.to_string()


def test_a_version_outside_its_range_is_named(monkeypatch):
    monkeypatch.setitem(versions.SUPPORTED, "pandas", (">=9", "tables of runs"))
    monkeypatch.setitem(versions.SUPPORTED, "no-such-package", (">=1", "nothing"))
    outside = versions.unsupported()
    assert outside == [f"pandas {metadata.version('pandas')} (supported: >=9)",
                       "no-such-package missing (supported: >=1)"]


LOCOMOTION = """
import importlib.machinery as machinery
find_spec = machinery.PathFinder.find_spec.__func__
def hide_labmaze(cls, name, path=None, target=None):  # as if labmaze were not installed
    return None if name.split(".")[0] == "labmaze" else find_spec(cls, name, path, target)
machinery.PathFinder.find_spec = classmethod(hide_labmaze)
import course_lib
try:
    from dm_control import locomotion
    from dm_control.locomotion import arenas  # noqa: F401
except ModuleNotFoundError as err:
    print("ModuleNotFoundError:", err)
"""


def test_dm_control_locomotion_says_how_to_get_labmaze():
    out = subprocess.run([sys.executable, "-c", LOCOMOTION], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0] == f"ModuleNotFoundError: {versions.LABMAZE_MESSAGE}", (out.stdout, out.stderr)
    assert "pip install labmaze" in lines[0] and "3.12" in lines[0]


def test_the_hint_leaves_other_imports_alone():
    versions.explain_missing_labmaze()
    versions.explain_missing_labmaze()
    assert sum(type(f).__name__ == "_LabmazeHint" for f in sys.meta_path) == 1
    with pytest.raises(ModuleNotFoundError, match="No module named 'no_such_module_here'"):
        __import__("no_such_module_here")
