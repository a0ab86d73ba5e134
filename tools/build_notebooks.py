"""Build the course notebooks: pair each notebooks/NN_topic.py with its .ipynb and execute it.

    python tools/build_notebooks.py                          # every notebooks/NN_*.py (= make notebooks)
    python tools/build_notebooks.py notebooks/01_mdps.py     # just these

The py:percent file is the source of truth. For each one this script

1. reads it with jupytext (the repository's jupytext.toml applies) and keeps its pairing metadata;
2. executes it top to bottom in a fresh kernel of *this* Python (the venv), with the working
   directory ``notebooks/`` and the environment the notebook tests use (``conftest.py``:
   ``TQDM_DISABLE=1``, ``MUJOCO_GL`` (the platform's default, ``egl`` on Linux) unless set, ``PYTHONHASHSEED=0``);
3. writes the ``.ipynb`` with its outputs, then writes the ``.py`` back from the same notebook, so
   the pair is in sync (the ``.py`` only changes if jupytext normalizes it; the script says so).

Cell ids are derived from the cell contents, so rebuilding an unchanged notebook changes only what
its outputs change. A cell that raises stops the build of that notebook with the error.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import ipykernel.kernelspec
import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupytext.config import load_jupytext_config
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))
from conftest import prepare_notebook_environment  # noqa: E402  (one environment for build and test)

PAIRING = "ipynb,py:percent"
CELL_TIMEOUT = 900  # seconds, as --nbval-cell-timeout in pyproject.toml


class _ThisPythonKernels(KernelSpecManager):
    """Always start the kernel with this interpreter, whatever kernels the user has installed."""

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


def _stable_cell_ids(notebook) -> None:
    seen = set()
    for cell in notebook.cells:
        base = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        cell_id, n = base, 1
        while cell_id in seen:  # identical cells: keep ids unique
            cell_id, n = f"{base}-{n}", n + 1
        seen.add(cell_id)
        cell.id = cell_id


def build(py_path: Path) -> float:
    """Execute ``py_path`` and write its paired .ipynb; return the execution time in seconds."""
    config = load_jupytext_config(str(py_path.parent))
    source_text = py_path.read_text()
    notebook = jupytext.read(py_path, config=config)
    notebook.metadata.setdefault("jupytext", {})["formats"] = PAIRING
    _stable_cell_ids(notebook)

    kernel = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPythonKernels())
    client = NotebookClient(notebook, km=kernel, timeout=CELL_TIMEOUT, record_timing=False,
                            resources={"metadata": {"path": str(py_path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start

    ipynb_path = py_path.with_suffix(".ipynb")
    jupytext.write(notebook, ipynb_path, fmt="ipynb", config=config)
    text = jupytext.writes(notebook, fmt="py:percent", config=config)
    if text != source_text:
        py_path.write_text(text)
        print(f"  note: jupytext normalized {py_path.relative_to(ROOT)} (review the diff)")
    else:
        py_path.touch()  # the text file stays the newer one, as jupytext's own --sync leaves it
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Pair, execute and save the course notebooks.")
    parser.add_argument("paths", nargs="*", type=Path,
                        help="notebooks/NN_topic.py files (default: all of notebooks/NN_*.py)")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.py"))
    for path in paths:
        if path.suffix != ".py" or not path.is_file():
            parser.exit(2, f"build_notebooks: {path} is not a notebooks/NN_topic.py file "
                           "(pass the py:percent twin, not the .ipynb)\n")
    prepare_notebook_environment()
    total = 0.0
    for path in paths:
        try:
            seconds = build(path)
        except CellExecutionError as error:
            print(f"{path.name}: FAILED\n{error}", file=sys.stderr)
            return 1
        total += seconds
        print(f"{path.name}: executed in {seconds:.1f} s")
    print(f"{len(paths)} notebook(s) in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
