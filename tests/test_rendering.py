"""The rendering backend follows the platform (egl on Linux, glfw on macOS and Windows), a user's
MUJOCO_GL always wins, in the library and in the Makefile, and a failure is one line that says how
to choose another. Other platforms are faked: ``platform.system`` for the library, ``UNAME_S``
for make."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from course_lib import rendering

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = {"Linux": "egl", "Darwin": "glfw", "Windows": "glfw"}


@pytest.mark.parametrize("system,backend", SYSTEMS.items())
def test_default_follows_the_platform(monkeypatch, system, backend):
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    assert rendering.default_backend() == backend
    assert rendering.choose_backend() == backend
    assert rendering.choose_backend() == backend  # idempotent


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_users_value_always_wins(monkeypatch, system):
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    assert rendering.choose_backend() == "osmesa"


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_failure_is_one_line_naming_the_variable_and_the_choices(monkeypatch, system):
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setenv("MUJOCO_GL", "egl")
    message = rendering.backend_error(RuntimeError("Cannot initialize a EGL device display"))
    assert "\n" not in message
    assert "MUJOCO_GL='egl'" in message and "Cannot initialize a EGL device display" in message
    assert "set MUJOCO_GL to one of egl, glfw, osmesa" in message
    if system == "Linux":
        assert "libegl1" in message and "libosmesa6" in message
    else:
        assert f"on {system} only glfw works" in message


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("uname,env,expected", [
    ("Linux", None, "egl"),
    ("Darwin", None, "glfw"),
    ("MINGW64_NT-10.0", None, "glfw"),  # Git Bash on Windows
    ("Darwin", "osmesa", "osmesa"),
    ("Linux", "glfw", "glfw"),
])
def test_the_makefile_follows_the_platform_and_the_user(uname, env, expected):
    environ = {key: value for key, value in os.environ.items() if key not in ("MUJOCO_GL", "MAKEFLAGS", "MAKELEVEL")}
    if env:
        environ["MUJOCO_GL"] = env
    out = subprocess.run(["make", "-s", "-C", str(ROOT), "mujoco-gl", f"UNAME_S={uname}"], env=environ,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
