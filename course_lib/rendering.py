"""Which OpenGL backend MuJoCo renders with: the ``MUJOCO_GL`` environment variable.

The pixel agents of the paper see rendered frames, so every notebook that renders needs a working
OpenGL backend, chosen *before* ``dm_control`` is imported (dm_control reads ``MUJOCO_GL`` once,
at import). The backends dm_control knows:

- ``egl``: headless; Mesa on a CPU, NVIDIA's driver on a GPU. Linux only (WSL2 included).
- ``glfw``: a window-system context; the one that works on macOS and on native Windows, where
  there is a screen.
- ``osmesa``: software rendering on Linux, slow but needs no GPU and no display.

The course's default follows the platform (``egl`` on Linux, ``glfw`` elsewhere), and a value you
set yourself always wins. This module imports nothing heavy (no torch, no dm_control), so the setup
cell can call :func:`choose_backend` first thing.
"""
from __future__ import annotations

import os
import platform

VARIABLE = "MUJOCO_GL"
BACKENDS = ("egl", "glfw", "osmesa")


def default_backend(system: str | None = None) -> str:
    """The course's default for ``platform.system()`` (or the ``system`` given): egl on Linux, else glfw."""
    system = platform.system() if system is None else system
    return "egl" if system == "Linux" else "glfw"


def choose_backend(system: str | None = None) -> str:
    """Set ``MUJOCO_GL`` to the platform's default unless it is set already; return the value in force."""
    return os.environ.setdefault(VARIABLE, default_backend(system))


def backend_error(err: BaseException, system: str | None = None) -> str:
    """One line that says which backend failed, why, and how to choose another."""
    backend = os.environ.get(VARIABLE, "")
    system = platform.system() if system is None else system
    if system == "Linux":
        fix = ("install its libraries (Debian/Ubuntu: `apt-get install libegl1 libgl1` for egl, "
               "`libosmesa6` for osmesa) or")
    else:
        fix = f"on {system} only glfw works, from a session with a screen; or"
    return (f"dm_control could not render with {VARIABLE}={backend!r} ({type(err).__name__}: {err}); "
            f"{fix} set {VARIABLE} to one of {', '.join(BACKENDS)} before Python starts "
            f"(egl: headless, Linux; glfw: needs a display, macOS and Windows; osmesa: software, slow).")
