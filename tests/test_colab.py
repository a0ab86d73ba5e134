"""The Colab path, tested without Colab; and every notebook's "Open in Colab" badge.

``test_setup_cell_on_a_stand_in_colab`` does what a Colab user's first cell does, in a fresh virtual
environment that holds only what Colab provides for this course (torch, numpy, matplotlib, pandas,
ipywidgets, tqdm, at the versions of ``requirements.txt`` / ``.venv``), with a stand-in
``google.colab`` module imported first (as Colab's kernel does) and ``DEEPER_RL_REPO_URL`` pointing
at a local git repository made from this working tree. Notebook 00's setup cell (its ``.ipynb``
source, magics and all) runs in IPython there: it must clone the course, install ``dm_control``,
``mujoco<4``, ``imageio-ffmpeg`` and the course without dependencies, leave torch and numpy as they
were, and end with ``course_lib`` importable and one frame rendered.

It installs packages (a minute or two; pip's cache and the local wheel folders help). Where pip
cannot install them (no network, no index) it skips, unless ``REQUIRE_COLAB=1`` (CI): then it fails.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import jupytext
import nbformat
import pytest

from course_lib import colab

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# What Colab has and the course relies on: same versions as requirements.txt (numpy: as installed).
COLAB_PACKAGES = ["torch", "numpy", "matplotlib", "pandas", "ipywidgets", "tqdm"]
INSTALL_TIMEOUT = 420  # seconds per pip step


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


# --- the setup cell, run ------------------------------------------------------------------------

RUNNER = r'''
import json, os, sys
from importlib import metadata
import google.colab  # noqa: F401  (Colab's kernel has imported it before the first cell runs)

def installed(name):
    dist = metadata.distribution(name)
    init = dist.locate_file(f"{name}/__init__.py")
    return {"version": dist.version, "mtime": os.stat(init).st_mtime_ns}

before = {name: installed(name) for name in ("torch", "numpy")}
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
result = shell.run_cell(open(sys.argv[1]).read())
if not result.success:
    sys.exit(f"the setup cell failed: {result.error_in_exec or result.error_before_exec!r}")
after = {name: installed(name) for name in ("torch", "numpy")}

import course_lib
from dm_control import suite
env = suite.load("cartpole", "swingup", task_kwargs={"random": 0})
env.reset()
frame = env.physics.render(height=48, width=64, camera_id=0)
print("RESULT " + json.dumps({
    "before": before, "after": after, "cwd": os.getcwd(), "course_lib": course_lib.__file__,
    "frame": [list(frame.shape), str(frame.dtype), float(frame.std())],
    "mujoco": metadata.version("mujoco"), "dm_control": metadata.version("dm_control"),
    "imageio_ffmpeg": metadata.version("imageio-ffmpeg")}))
'''


def _missing(reason: str):
    if os.environ.get("REQUIRE_COLAB") == "1":
        pytest.fail(f"{reason}, and REQUIRE_COLAB=1 says this test must run")
    pytest.skip(reason)


def _requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


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


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT)


def test_setup_cell_on_a_stand_in_colab(tmp_path):
    start = time.monotonic()
    if shutil.which("git") is None:
        _missing("git is not installed")
    pins = _requirement_pins()
    versions = {name: pins.get(name) or metadata.version(name) for name in COLAB_PACKAGES}
    venv = tmp_path / "colab-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    # torch==2.13.0, never a bare "torch" (that would pull a CUDA build). --no-compile: byte-compiling
    # torch is most of an install's time, and nothing here needs it.
    installed = _pip(python, "--no-compile", *[f"{name}=={version}" for name, version in versions.items()])
    if installed.returncode != 0:
        _missing(f"pip could not install Colab's packages ({installed.stderr.strip()[-300:]})")
    base_install = time.monotonic() - start

    standin = tmp_path / "standin" / "google" / "colab"
    standin.mkdir(parents=True)
    (standin.parent / "__init__.py").write_text("")
    (standin / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab module."""\n')
    repo = tmp_path / "published"
    repo.mkdir()
    cell = tmp_path / "setup_cell.py"
    cell.write_text(_setup_cell(ROOT / "notebooks" / "00_setup.ipynb"))
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    course = tmp_path / "content" / "deeper-rl"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update({"PYTHONPATH": str(tmp_path / "standin"), colab.REPO_URL_ENV: _snapshot_repository(repo),
                colab.COURSE_DIR_ENV: str(course), "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"),
                "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"})
    run = subprocess.run([str(python), str(runner), str(cell)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=2 * INSTALL_TIMEOUT)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    if run.returncode != 0 or not lines:
        if "Could not find a version" in run.stdout + run.stderr or "No matching distribution" in run.stdout:
            _missing(f"pip could not install dm_control/mujoco: {run.stdout[-300:]}")
        pytest.fail(f"the setup cell failed (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])

    assert result["before"] == result["after"], "the setup cell reinstalled torch or numpy"
    assert result["after"]["torch"]["version"].split("+")[0] == versions["torch"]
    assert (course / ".git").is_dir(), "the setup cell did not clone the course"
    assert Path(result["course_lib"]).resolve() == (course / "course_lib" / "__init__.py").resolve()
    assert Path(result["cwd"]).resolve() == (course / "notebooks").resolve()
    assert result["mujoco"].split(".")[0] == "3" and result["dm_control"] == pins["dm_control"]
    shape, dtype, spread = result["frame"]
    assert (shape, dtype) == ([48, 64, 3], "uint8") and spread > 1, result["frame"]
    print(f"Colab setup test: base install {base_install:.0f} s, total {time.monotonic() - start:.0f} s")
