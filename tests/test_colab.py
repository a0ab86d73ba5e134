"""The course where its students are: Colab as it is, tested without Colab; every notebook's badge.

Colab's runtime is described by ``tests/colab_versions.txt``: the Python and ``pip freeze`` that
Google publishes for it, dated (``tools/refresh_colab_versions.py`` refreshes it). The tests marked
``platforms`` (``make test-platforms``; CI runs them after ``make test``) build stand-in Colabs from
that file, each a fresh virtual environment holding Colab's versions of everything the course
touches (:data:`COLAB_BASE`, their dependencies at Colab's versions too), with a stand-in
``google.colab`` module imported first, as Colab's kernel does, and ``DEEPER_RL_REPO_URL`` pointing
at a git repository made from this working tree. Notebook 00's setup cell (its ``.ipynb`` source,
magics and all) runs there in IPython, Colab's IPython 7.34:

- ``test_setup_cell_on_colabs_python``: Python 3.13, Colab's. The cell must install the course and
  render a frame, and leave every package Colab had at its version. **torch is not installed
  there**: Colab's torch (2.11.0+cpu) comes from PyTorch's own index, which these machines cannot
  reach, and the only torch for Python 3.13 on Linux that PyPI has is the CUDA build, several GB.
  So on 3.13 the test checks everything but torch: the install, the course's import, MUJOCO_GL,
  a rendered frame, the labmaze hint; the cell's last line imports torch and must fail with
  "No module named 'torch'" and nothing else.
- ``test_setup_cell_with_torch``: Python 3.11, the same versions plus torch 2.13.0 (the CPU wheel
  on these machines' disk): the whole cell, torch included. Colab's setuptools (75.2) is the one
  version not kept: torch 2.13 needs 77 or newer.
- ``test_every_notebook_runs_under_colabs_versions``: in that 3.11 stand-in, every notebook runs
  top to bottom with no cell error (``--nbval-lax``), panels included.

They install packages (minutes; pip's cache helps). Where pip cannot reach an index they skip,
unless ``REQUIRE_PLATFORMS=1`` (CI): then they fail.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from course_lib import colab
from course_lib.versions import LABMAZE_MESSAGE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
COLAB_VERSIONS = ROOT / "tests" / "colab_versions.txt"
# What Colab has and the course, its notebooks or its tests use. Installed at Colab's versions, with
# every dependency at Colab's version too (Colab's whole freeze is the constraints file).
COLAB_BASE = ["numpy", "scipy", "pandas", "matplotlib", "ipywidgets", "ipython", "ipykernel", "jupyter_client",
              "nbformat", "jupytext", "tqdm", "imageio", "imageio-ffmpeg", "pillow", "packaging", "requests",
              "protobuf", "lxml", "absl-py", "dm-tree", "PyOpenGL", "pyparsing", "setuptools", "pytest"]
TORCH = "torch==2.13.0"  # the CPU wheel on these machines' disk, for Python 3.11 only
COLAB_PYTHON = "3.13"
INSTALL_TIMEOUT = 600  # seconds per pip step


def _setup_cell(notebook: Path) -> str:
    return next(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")


def _first_markdown(notebook: Path) -> str:
    return next(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "markdown")


# --- badges and the one URL ---------------------------------------------------------------------

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_first_markdown_cell_has_the_colab_badge(notebook):
    for text in (_first_markdown(notebook),
                 next(c.source for c in jupytext.read(notebook.with_suffix(".py")).cells
                      if c.cell_type == "markdown")):
        assert colab.badge(notebook.name) in text, \
            f"the first markdown cell of {notebook.name} should carry {colab.badge(notebook.name)}"
        others = set(re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", text))
        assert others == {colab.colab_url(notebook.name)}, f"{notebook.name}: Colab links {others}"


def test_setup_cell_clones_the_course_repository():
    cell = _setup_cell(ROOT / "notebooks" / "00_setup.ipynb")
    assert f'os.environ.get("{colab.REPO_URL_ENV}", "{colab.REPO_URL}")' in cell
    assert f'os.environ.get("{colab.COURSE_DIR_ENV}", "/content/deeper-rl")' in cell


def test_readme_lists_every_notebooks_badge():
    readme = (ROOT / "README.md").read_text()
    missing = [nb.name for nb in NOTEBOOKS if colab.badge(nb.name) not in readme]
    assert not missing, f"README.md has no Colab badge for {missing}"


def test_colab_url_rejects_a_path():
    with pytest.raises(ValueError, match="notebook file name"):
        colab.colab_url("notebooks/01_mdps.ipynb")


def test_every_install_takes_the_simulator_from_the_same_two_files():
    """make, requirements.txt and the setup cell: requirements-sim.txt with its dependencies, then
    dm_control from requirements-nodeps.txt without (its metadata asks for labmaze)."""
    cell = _setup_cell(ROOT / "notebooks" / "00_setup.ipynb")
    pip_lines = [line.strip() for line in cell.splitlines() if line.strip().startswith("%pip")]
    assert pip_lines == ["%pip install -q -r {COURSE_DIR}/requirements-sim.txt",
                         "%pip install -q --no-deps -r {COURSE_DIR}/requirements-nodeps.txt -e {COURSE_DIR}"]
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -r requirements.txt\n" in makefile
    assert "pip install -q --no-deps -r requirements-nodeps.txt -e .\n" in makefile
    assert "-r requirements-sim.txt" in (ROOT / "requirements.txt").read_text().splitlines()
    for name in ("requirements.txt", "requirements-sim.txt"):
        text = (ROOT / name).read_text()
        assert not re.search(r"^\s*(dm[-_]control|labmaze)\b", text, re.MULTILINE | re.IGNORECASE), \
            f"{name} must not install dm_control with its dependencies, nor labmaze"
    nodeps = [line for line in (ROOT / "requirements-nodeps.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert nodeps == ["dm_control==1.0.50"]


# --- stand-in Colabs (make test-platforms) --------------------------------------------------------

RUNNER = r'''
import json, os, re, sys
from importlib import metadata
import google.colab  # noqa: F401  (Colab's kernel has imported it before the first cell runs)

def versions():  # distribution name (normalized as PEP 503 does) -> version
    return {re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower(): dist.version
            for dist in metadata.distributions()}

before = versions()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
result = shell.run_cell(open(sys.argv[1]).read())
error = result.error_in_exec or result.error_before_exec
after = versions()

import course_lib
from course_lib import versions as supported
from dm_control import suite
env = suite.load("cartpole", "swingup", task_kwargs={"random": 0})
env.reset()
frame = env.physics.render(height=48, width=64, camera_id=0)
try:
    from dm_control.locomotion import arenas  # noqa: F401  (its mazes import labmaze)
    labmaze = "imported"
except ModuleNotFoundError as err:
    labmaze = str(err)
print("RESULT " + json.dumps({
    "error": None if error is None else f"{type(error).__name__}: {error}",
    "python": sys.version.split()[0], "before": before, "after": after, "cwd": os.getcwd(),
    "course_lib": course_lib.__file__, "MUJOCO_GL": os.environ.get("MUJOCO_GL"),
    "frame": [list(frame.shape), str(frame.dtype), float(frame.std())], "labmaze": labmaze,
    "unsupported": supported.unsupported()}))
'''


def _missing(reason: str):
    if os.environ.get("REQUIRE_PLATFORMS") == "1":
        pytest.fail(f"{reason}, and REQUIRE_PLATFORMS=1 says this test must run")
    pytest.skip(reason)


def _colab_constraints(dest: Path, with_torch: bool) -> Path:
    """Colab's freeze as a pip constraints file (torch's family left out; with torch 2.13, setuptools too)."""
    left_out = re.compile(r"^(python|torch[a-z]*)==" + (r"|^setuptools==" if with_torch else ""), re.IGNORECASE)
    lines = [line for line in COLAB_VERSIONS.read_text().splitlines()
             if "==" in line and not line.startswith("#") and not left_out.match(line)]
    dest.write_text("\n".join(lines) + "\n")
    return dest


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT)


def _interpreter(version: str) -> str | None:
    """A working Python ``version`` (``"3.13"``) on this machine: pyenv's, or ``pythonX.Y`` on PATH."""
    candidates = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = Path(subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip())
        candidates += sorted((root / "versions").glob(f"{version}.*/bin/python"), reverse=True)
    if shutil.which(f"python{version}"):
        candidates.append(shutil.which(f"python{version}"))  # may be a pyenv shim that refuses: checked below
    for candidate in candidates:
        probe = subprocess.run([str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return str(candidate)
    return None


def _snapshot_repository(dest: Path) -> str:
    """A git repository holding this working tree as one commit (what a push would publish)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(git + args, cwd=dest, check=True, capture_output=True)
    return dest.as_uri()


def _stand_in_colab(root: Path, python_version: str, with_torch: bool) -> dict:
    """Build a stand-in Colab under ``root``, run notebook 00's setup cell there, return what it saw."""
    start = time.monotonic()
    if shutil.which("git") is None:
        _missing("git is not installed")
    interpreter = _interpreter(python_version)
    if interpreter is None:
        _missing(f"no Python {python_version} on this machine (pyenv install {python_version})")
    venv = root / "colab-venv"
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    constraints = _colab_constraints(root / "colab-constraints.txt", with_torch)
    # --no-compile: byte-compiling is most of an install's time, and nothing here needs it.
    installed = _pip(python, "--no-compile", "-c", str(constraints), *COLAB_BASE, *([TORCH] if with_torch else []))
    if installed.returncode != 0:
        _missing(f"pip could not install Colab's packages ({installed.stderr.strip()[-500:]})")
    base_install = time.monotonic() - start

    standin = root / "standin" / "google" / "colab"
    standin.mkdir(parents=True)
    (standin.parent / "__init__.py").write_text("")
    (standin / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab module."""\n')
    repo = root / "published"
    repo.mkdir()
    cell = root / "setup_cell.py"
    cell.write_text(_setup_cell(ROOT / "notebooks" / "00_setup.ipynb"))
    runner = root / "runner.py"
    runner.write_text(RUNNER)
    course = root / "content" / "deeper-rl"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("VIRTUAL_ENV", "PYTHON", "MUJOCO_GL"))}
    env.update({"PYTHONPATH": str(root / "standin"), colab.REPO_URL_ENV: _snapshot_repository(repo),
                colab.COURSE_DIR_ENV: str(course), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "OMP_NUM_THREADS": "1"})
    run = subprocess.run([str(python), str(runner), str(cell)], cwd=root, env=env, capture_output=True,
                         text=True, timeout=2 * INSTALL_TIMEOUT)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    if run.returncode != 0 or not lines:
        if "Could not find a version" in run.stdout + run.stderr or "No matching distribution" in run.stdout:
            _missing(f"pip could not install the course's packages: {run.stdout[-500:]}")
        pytest.fail(f"the setup cell failed (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result.update(python_exe=str(python), course=str(course), base_install=base_install,
                  seconds=time.monotonic() - start, log=run.stdout[-3000:])
    return result


def _check_setup_result(result: dict) -> None:
    """What every stand-in must show after the setup cell ran."""
    replaced = {name: (version, result["after"].get(name)) for name, version in result["before"].items()
                if result["after"].get(name) != version}
    assert not replaced, f"the setup cell replaced Colab's packages (before, after): {replaced}"
    added = set(result["after"]) - set(result["before"])
    assert {"dm-control", "mujoco", "deeper-rl"} <= added and "labmaze" not in added, sorted(added)
    course = Path(result["course"])
    assert (course / ".git").is_dir(), "the setup cell did not clone the course"
    assert Path(result["course_lib"]).resolve() == (course / "course_lib" / "__init__.py").resolve()
    assert Path(result["cwd"]).resolve() == (course / "notebooks").resolve()
    assert result["after"]["dm-control"] == "1.0.50" and result["after"]["mujoco"].split(".")[0] == "3"
    assert result["MUJOCO_GL"] == "egl"  # Linux: the platform's default
    assert result["labmaze"] == LABMAZE_MESSAGE  # dm_control.locomotion says how to get labmaze
    shape, dtype, spread = result["frame"]
    assert (shape, dtype) == ([48, 64, 3], "uint8") and spread > 1, result["frame"]


@pytest.fixture(scope="module")
def colab_with_torch(tmp_path_factory):
    return _stand_in_colab(tmp_path_factory.mktemp("colab311"), "3.11", with_torch=True)


@pytest.mark.platforms
def test_setup_cell_on_colabs_python(tmp_path):
    result = _stand_in_colab(tmp_path, COLAB_PYTHON, with_torch=False)
    assert result["python"].startswith(COLAB_PYTHON + ".")
    # torch cannot be installed here (see the module docstring): the cell's torch import is its last
    # line, and it must be the only thing that failed.
    assert result["error"] == "ModuleNotFoundError: No module named 'torch'", result["log"]
    _check_setup_result(result)
    assert [line.split()[0] for line in result["unsupported"]] == ["torch"], result["unsupported"]
    print(f"Colab setup on Python {result['python']} (no torch): base install {result['base_install']:.0f} s, "
          f"total {result['seconds']:.0f} s")


@pytest.mark.platforms
def test_setup_cell_with_torch(colab_with_torch):
    result = colab_with_torch
    assert result["error"] is None, result["log"]
    _check_setup_result(result)
    assert result["after"]["torch"].split("+")[0] == TORCH.split("==")[1]
    assert result["unsupported"] == [], result["unsupported"]  # notebook 00's version check passes
    print(f"Colab setup on Python {result['python']}: base install {result['base_install']:.0f} s, "
          f"total {result['seconds']:.0f} s")


@pytest.mark.platforms
def test_every_notebook_runs_under_colabs_versions(colab_with_torch):
    """Every cell of every notebook, in the kernel of the stand-in Colab (its IPython, ipykernel,
    ipywidgets, pandas, matplotlib, numpy), from this working tree; a cell that raises fails."""
    python = colab_with_torch["python_exe"]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PYTHONPATH"] = str(ROOT)
    tools = _pip(Path(python), "nbval==0.11.0", "pytest-xdist==3.8.0")
    assert tools.returncode == 0, tools.stderr[-2000:]
    run = subprocess.run([python, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "--nbval-lax",
                          "--nbval-current-env", "--nbval-cell-timeout=900", "-n", "2", "--dist", "loadfile",
                          "-q", *[str(nb.relative_to(ROOT)) for nb in NOTEBOOKS]],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-500:]
    assert run.returncode == 0, f"notebooks under Colab's versions: {summary}\n{run.stdout[-6000:]}"
    print(f"every notebook under Colab's versions: {summary}")
