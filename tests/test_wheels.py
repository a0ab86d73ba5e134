"""The wheel matrix: everything the course installs comes as binary wheels, for every Python and OS.

For Python 3.11, 3.12, 3.13 and 3.14 on Linux x86_64 (manylinux, glibc 2.35 as on Colab's Ubuntu
22.04), macOS arm64 (Apple silicon, macOS 14) and Windows amd64, pip's resolver is asked what it
would install, from PyPI, with ``--only-binary=:all:``; nothing is built, installed or downloaded
beyond package metadata (``pip install --dry-run --report``):

- ``requirements.txt`` with its dependencies (``make install``; it includes ``requirements-sim.txt``)
  and ``requirements-nodeps.txt`` with ``--no-deps``, for each (Python, platform);
- ``requirements-sim.txt`` alone with its dependencies, for each Python on Linux: Colab's setup cell
  installs it without ``requirements.txt``'s exact pins, then ``requirements-nodeps.txt``.

Why: dm_control's metadata requires labmaze, which has no wheel past Python 3.12 (its source builds
only with Bazel), so ``pip install dm_control`` fails on Python 3.13+, Colab included. The course
installs dm_control with ``--no-deps`` and lists its other requirements in ``requirements-sim.txt``.
The tests check that every resolve succeeds with wheels only, that torch 2.13.0 and dm_control
1.0.50 are what gets resolved, that labmaze never is, and that the resolved sets meet every
requirement of dm_control except labmaze. A failure names the combination, the package with no
wheel and the requirement-file line that pulled it in. A negative control resolves dm_control
*with* its dependencies on Python 3.13 and must fail on labmaze: the bug this file guards against.

Run: ``make test-platforms``, or ``.venv/bin/python -m pytest -m platforms tests/test_wheels.py``
(about a minute or two: the resolves run in parallel, once for the whole file).

It needs PyPI. pip runs with no configuration file and no ``PIP_*`` variable but the certificate
and timeout ones, so local wheel folders, mirrors or constraints on a machine cannot hide a missing
wheel. pip evaluates environment markers for the interpreter that runs it, whatever ``--platform``
and ``--python-version`` say (pypa/pip#11664), so it runs with the target's markers patched in
(:data:`PIP_FOR_TARGET`). Where PyPI cannot be reached the tests skip, unless
``REQUIRE_PLATFORMS=1`` (CI): then they fail.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
INDEX = "https://pypi.org/simple/"
REQUIREMENTS = "requirements.txt"
NODEPS = "requirements-nodeps.txt"
SIM = "requirements-sim.txt"
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
WORKERS = 6  # pip processes at a time: mostly waiting on the network
RESOLVE_TIMEOUT = 600  # seconds per pip run
# pip environment variables kept; every other PIP_* (find-links, extra index, constraint) is dropped.
PIP_ENV_KEPT = {"PIP_CERT", "PIP_CLIENT_CERT", "PIP_DEFAULT_TIMEOUT"}


def _manylinux_tags(glibc_minor: int, arch: str = "x86_64") -> tuple[str, ...]:
    """Every manylinux tag a glibc ``2.<glibc_minor>`` system accepts, best first.

    pip's ``--platform`` expands only the legacy aliases (manylinux2014 to manylinux2010 and
    manylinux1), not ``manylinux_2_X``, so each glibc version is listed, with the legacy alias
    next to the glibc version it stands for, in the order the ``packaging`` library uses.
    """
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags = []
    for minor in range(glibc_minor, 4, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in legacy:
            tags.append(f"{legacy[minor]}_{arch}")
    return tuple(tags)


@dataclass
class Platform:
    """A platform students use: pip's ``--platform`` tags and the platform's environment markers."""

    name: str
    tags: tuple[str, ...]
    markers: dict[str, str]


LINUX = Platform("linux-x86_64", _manylinux_tags(35),  # glibc 2.35: Ubuntu 22.04, Colab's
                 {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                  "os_name": "posix"})
# pip expands macosx_14_0_arm64 itself: macOS 13, 12, 11 arm64 and universal2 wheels are accepted too.
# torch 2.13's own wheel needs macOS 14.
MACOS = Platform("macos-arm64", ("macosx_14_0_arm64",),
                 {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
                  "os_name": "posix"})
WINDOWS = Platform("windows-amd64", ("win_amd64",),
                   {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
                    "os_name": "nt"})
PLATFORMS = (LINUX, MACOS, WINDOWS)
COMBINATIONS = [(python, platform) for python in PYTHONS for platform in PLATFORMS]

# pip's log lines: "Collecting SPEC (from VIA)", VIA being "-r FILE (line N)" or "PARENT->...->-r FILE (line N)";
# "No matching distribution found for SPEC (from VIA)", VIA being a requirement-file line or a parent's name.
_COLLECTING = re.compile(r"^Collecting (?P<spec>\S+)(?: \(from (?P<via>.*)\))?\s*$", re.MULTILINE)
_NO_MATCH = re.compile(r"No matching distribution found for (?P<spec>\S+)(?: \(from (?P<via>.*)\))?\s*$",
                       re.MULTILINE)
_REQUIREMENT_LINE = re.compile(r"-r (?P<file>\S+) \(line (?P<line>\d+)\)")


@dataclass
class Resolve:
    """What one ``pip install --dry-run`` said: its exit status, its log and its ``--report``."""

    what: str
    requirements: Path  # the requirements file resolved
    environment: dict[str, str]  # the target's environment markers
    returncode: int
    log: str
    report: dict | None


def _pip_env() -> dict[str, str]:
    """The environment without pip's settings but the certificate and timeout, and with no config file."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PIP_") or key in PIP_ENV_KEPT}
    # os.devnull: pip reads no configuration file at all. (--isolated would still read the global and
    # site ones, /etc/xdg/pip/pip.conf included, and would drop PIP_CERT.)
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _marker_environment(python: str, platform: Platform) -> dict[str, str]:
    """The environment markers of CPython ``python`` (``X.Y.0``) on ``platform``.

    ``platform_release`` and ``platform_version`` are not set: nothing the course installs uses them.
    """
    return {**platform.markers, "python_version": python, "python_full_version": f"{python}.0",
            "implementation_name": "cpython", "implementation_version": f"{python}.0",
            "platform_python_implementation": "CPython"}


# pip evaluates environment markers (``sys_platform == "linux"``, ``python_version >= "3.12"``) for the
# interpreter running it, whatever --platform and --python-version say (pypa/pip#11664): on this Linux
# Python 3.11, torch would ask for its CUDA libraries on Windows too. So pip runs with the marker
# environment of its vendored ``packaging`` replaced by the target's (given as JSON, the first argument),
# before pip's own modules import it; the report's "environment" shows the environment used.
PIP_FOR_TARGET = """
import json, sys
from pip._vendor.packaging import markers
target = {**markers.default_environment(), **json.loads(sys.argv.pop(1))}
markers.default_environment = lambda: dict(target)
from pip._internal.cli.main import main
sys.exit(main())
"""


def _resolve(python: str, platform: Platform, requirements: Path, report: Path, no_deps: bool = False) -> Resolve:
    """Ask pip what it would install from PyPI for ``python`` on ``platform``, wheels only.

    ``--use-feature=fast-deps``: where an index does not advertise a wheel's metadata file (PEP 658;
    PyPI does), pip reads the metadata out of the remote wheel with HTTP range requests instead of
    downloading the whole wheel (torch's Linux wheels and their CUDA libraries: several GB).
    A dry run stops after resolving, so no wheel is downloaded afterwards either.
    """
    args = ["--no-deps", "-r", str(requirements)] if no_deps else ["-r", str(requirements)]
    environment = _marker_environment(python, platform)
    command = [sys.executable, "-c", PIP_FOR_TARGET, json.dumps(environment),
               "install", "--dry-run", "--ignore-installed", "--only-binary=:all:",
               "--use-feature=fast-deps", "--progress-bar", "off", "--index-url", INDEX,
               "--python-version", python, "--implementation", "cp",
               *[option for tag in platform.tags for option in ("--platform", tag)],
               "--report", str(report), *args]
    run = subprocess.run(command, cwd=ROOT, env=_pip_env(), capture_output=True, text=True,
                         timeout=RESOLVE_TIMEOUT)
    loaded = json.loads(report.read_text()) if run.returncode == 0 and report.exists() else None
    what = f"{' '.join(args[:-1])} {requirements.name} on Python {python}, {platform.name}"
    return Resolve(what, requirements, environment, run.returncode, run.stdout + run.stderr, loaded)


def _name(spec: str) -> str:
    """The canonical project name at the start of a requirement spec (``etils[epath]`` -> ``etils``)."""
    return canonicalize_name(re.split(r"[^A-Za-z0-9._-]", spec, maxsplit=1)[0])


def _requirement_line(file: str | Path, line: int) -> str:
    """``FILE line N: TEXT`` for a requirement-file line, FILE relative to the repository when inside it."""
    path = (ROOT / file).resolve()
    text = path.read_text().splitlines()[line - 1].split("#")[0].strip()
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown} line {line}: {text}"


def _requirement_lines(file: Path) -> list[tuple[Path, int, str]]:
    """Every requirement of a requirements file and of those it includes (``-r``): (file, line, text)."""
    lines = []
    for number, raw in enumerate(file.read_text().splitlines(), start=1):
        text = raw.split("#")[0].strip()
        if text.startswith("-r "):
            lines += _requirement_lines(file.parent / text[3:].strip())
        elif text:
            lines.append((file, number, text))
    return lines


def _lines_naming(name: str, requirements: Path) -> str:
    """Where ``requirements`` asks for project ``name``: pip names no line when a requirement of the
    file itself has no wheel."""
    found = [_requirement_line(file, number) for file, number, text in _requirement_lines(requirements)
             if _name(text) == name]
    return f"pulled in by {'; '.join(found) or requirements.name}"


def _origin(via: str, collected: dict[str, str]) -> str:
    """The requirement-file line a package came from: follow pip's "from" links up to ``-r FILE (line N)``."""
    seen = set()
    while (match := _REQUIREMENT_LINE.search(via)) is None:
        parent = _name(via.split("->")[-1])
        if parent in seen or parent not in collected:
            return f"pulled in by {via}"
        seen.add(parent)
        via = collected[parent]
    return f"pulled in by {_requirement_line(match['file'], int(match['line']))}"


def _missing_wheels(resolve: Resolve) -> list[str]:
    """One line per requirement pip found no wheel for: the requirement, who wants it, which line pulled it in."""
    collected = {_name(match["spec"]): match["via"] for match in _COLLECTING.finditer(resolve.log) if match["via"]}
    missing = []
    for match in _NO_MATCH.finditer(resolve.log):
        spec, via = match["spec"], match["via"]
        if via is None:  # a requirement of the file itself
            missing.append(f"{spec}, {_lines_naming(_name(spec), resolve.requirements)}")
        elif _REQUIREMENT_LINE.search(via):
            missing.append(f"{spec}, {_origin(via, collected)}")
        else:
            missing.append(f"{spec} (wanted by {via}), {_origin(via, collected)}")
    return missing


def _explain(resolve: Resolve) -> str:
    """Why a resolve failed: the packages with no wheel, or else the end of pip's log."""
    missing = _missing_wheels(resolve)
    if missing:
        return f"{resolve.what}: no binary wheel for\n  " + "\n  ".join(missing)
    tail = "\n".join(resolve.log.strip().splitlines()[-25:])
    return f"{resolve.what}: pip could not resolve it (exit {resolve.returncode}):\n{tail}"


def _resolved(resolve: Resolve) -> dict[str, dict]:
    """The report's items by canonical name; fails with pip's explanation if the resolve failed."""
    assert resolve.returncode == 0 and resolve.report is not None, _explain(resolve)
    used = {key: resolve.report["environment"].get(key) for key in resolve.environment}
    assert used == resolve.environment, f"{resolve.what}: pip evaluated markers for {used}"
    return {canonicalize_name(item["metadata"]["name"]): item for item in resolve.report["install"]}


def _not_wheels(items: dict[str, dict]) -> list[str]:
    """The resolved items that would be installed from something other than a wheel."""
    return [f"{name}: {item['download_info']['url']}" for name, item in items.items()
            if not item["download_info"]["url"].endswith(".whl")]


def _unmet(requirements: list[str], items: dict[str, dict], environment: dict[str, str]) -> list[str]:
    """The requirements (markers evaluated for ``environment``, no extra) that the resolved ``items`` do not meet."""
    unmet = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({**environment, "extra": ""}):
            continue
        item = items.get(canonicalize_name(requirement.name))
        version = item["metadata"]["version"] if item else None
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            unmet.append(f"{line} (resolved: {version})")
    return unmet


def _dm_control_requirements(nodeps: dict[str, dict]) -> list[str]:
    """dm_control's own requirements, from its metadata in the report, less labmaze (see requirements-sim.txt)."""
    return [line for line in nodeps["dm-control"]["metadata"].get("requires_dist", [])
            if canonicalize_name(Requirement(line).name) != "labmaze"]


def _missing(reason: str) -> None:
    """Skip for ``reason``; fail instead when ``REQUIRE_PLATFORMS=1`` says these tests must run."""
    if os.environ.get("REQUIRE_PLATFORMS") == "1":
        pytest.fail(f"{reason}, and REQUIRE_PLATFORMS=1 says this test must run")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def index() -> None:
    """PyPI answers (one quick ``pip index versions pip``), or the tests skip (or fail, see ``_missing``)."""
    command = [sys.executable, "-m", "pip", "index", "versions", "pip", "--index-url", INDEX,
               "--timeout", "15", "--retries", "1"]
    try:
        run = subprocess.run(command, env=_pip_env(), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        _missing(f"the package index {INDEX} was not reachable (no answer in 60 s)")
    else:
        if run.returncode != 0:
            first = (run.stderr.strip().splitlines() or ["no message"])[0]  # the connection error, if any
            _missing(f"the package index {INDEX} was not reachable ({first})")


@pytest.fixture(scope="module")
def resolves(index, tmp_path_factory) -> dict[tuple[str, str, str], Resolve]:
    """Every resolve of the matrix, run once, ``WORKERS`` at a time: ``{(python, platform, file): Resolve}``.

    ``requirements.txt`` with dependencies and ``requirements-nodeps.txt`` with ``--no-deps`` for each
    combination; ``requirements-sim.txt`` alone, with dependencies, on Linux (Colab) for each Python.
    """
    jobs = [(python, platform, file) for python, platform in COMBINATIONS for file in (REQUIREMENTS, NODEPS)]
    jobs += [(python, LINUX, SIM) for python in PYTHONS]
    reports = tmp_path_factory.mktemp("wheel-reports")

    def resolve(python: str, platform: Platform, file: str) -> Resolve:
        report = reports / f"{python}-{platform.name}-{file}.json"
        return _resolve(python, platform, ROOT / file, report, no_deps=file == NODEPS)

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {(python, platform.name, file): pool.submit(resolve, python, platform, file)
                   for python, platform, file in jobs}
    return {key: future.result() for key, future in futures.items()}


@pytest.mark.platforms
@pytest.mark.parametrize(("python", "platform"), COMBINATIONS,
                         ids=[f"py{python}-{platform.name}" for python, platform in COMBINATIONS])
def test_course_installs_from_wheels(resolves, python, platform):
    """``make install`` on this Python and platform: requirements.txt, then dm_control with --no-deps."""
    full = resolves[python, platform.name, REQUIREMENTS]
    installed, dm_control = _resolved(full), _resolved(resolves[python, platform.name, NODEPS])
    assert installed["torch"]["metadata"]["version"] == "2.13.0", installed["torch"]["metadata"]["version"]
    assert {name: item["metadata"]["version"] for name, item in dm_control.items()} == {"dm-control": "1.0.50"}
    assert "labmaze" not in installed and "labmaze" not in dm_control
    assert _not_wheels(installed) + _not_wheels(dm_control) == []
    unmet = _unmet(_dm_control_requirements(dm_control), installed, full.environment)
    assert unmet == [], f"requirements.txt leaves dm_control's requirements unmet: {unmet}"


@pytest.mark.platforms
@pytest.mark.parametrize("python", PYTHONS, ids=[f"py{python}-colab" for python in PYTHONS])
def test_colab_setup_installs_from_wheels(resolves, python):
    """Notebook 00's Colab cell: requirements-sim.txt alone (Colab's own pins, not ours), then dm_control."""
    sim = resolves[python, LINUX.name, SIM]
    installed, dm_control = _resolved(sim), _resolved(resolves[python, LINUX.name, NODEPS])
    assert "labmaze" not in installed
    assert _not_wheels(installed) == []
    unmet = _unmet(_dm_control_requirements(dm_control), installed, sim.environment)
    assert unmet == [], f"requirements-sim.txt leaves dm_control's requirements unmet: {unmet}"


@pytest.mark.platforms
def test_dm_control_with_its_dependencies_has_no_wheel(index, tmp_path):
    """Negative control: dm_control installed *with* its dependencies on Python 3.13 fails on labmaze,
    and the failure message says so and names the line that asked for dm_control."""
    requirements = tmp_path / "dm_control-with-dependencies.txt"
    requirements.write_text("dm_control==1.0.50\n")
    resolve = _resolve("3.13", LINUX, requirements, tmp_path / "report.json")
    assert resolve.returncode != 0, "dm_control with its dependencies resolved on Python 3.13: is labmaze back?"
    assert _missing_wheels(resolve) == [
        f"labmaze (wanted by dm-control), pulled in by {requirements.resolve()} line 1: dm_control==1.0.50"
    ], _explain(resolve)
