"""Every notebook is a jupytext pair in sync, and its .ipynb is stored executed, with outputs.

nbval (strict) only compares cells that have stored outputs and an execution count, so a notebook
saved without outputs would pass it silently; this file closes that gap. Fix any failure here with
``python tools/build_notebooks.py notebooks/NN_topic.py``.
"""
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.py"))
STORED = sorted(NOTEBOOKS.glob("*.ipynb"))
REBUILD = "rebuild it: python tools/build_notebooks.py notebooks/{}"


def _cells(notebook):
    return [(cell.cell_type, cell.source, tuple(cell.metadata.get("tags", ()))) for cell in notebook.cells]


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_course_has_notebooks():
    assert SOURCES, f"no notebooks/NN_topic.py found in {NOTEBOOKS}"


@pytest.mark.parametrize("ipynb", STORED, ids=lambda p: p.name)
def test_every_ipynb_has_its_py_twin(ipynb):
    assert ipynb.with_suffix(".py").is_file(), \
        f"{ipynb.name} has no py:percent twin; write notebooks/{ipynb.stem}.py (the source of truth)"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_pair_is_in_sync(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} is missing; " + REBUILD.format(source.name)
    expected, stored = _cells(jupytext.read(source)), _cells(nbformat.read(ipynb, as_version=4))
    for index, (want, have) in enumerate(zip(expected, stored)):
        assert want == have, f"cell {index} of {ipynb.name} differs from {source.name}; " + \
            REBUILD.format(source.name)
    assert len(expected) == len(stored), \
        f"{source.name} has {len(expected)} cells, {ipynb.name} {len(stored)}; " + REBUILD.format(source.name)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_ipynb_is_stored_executed_top_to_bottom_with_outputs(source):
    ipynb = source.with_suffix(".ipynb")
    if not ipynb.is_file():
        pytest.fail(f"{ipynb.name} is missing; " + REBUILD.format(source.name))
    code = _code_cells(nbformat.read(ipynb, as_version=4))
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), \
        f"{ipynb.name} was not stored from one fresh top-to-bottom run (execution counts {counts}); " + \
        REBUILD.format(source.name)
    assert sum(len(cell.outputs) for cell in code) > 0, f"{ipynb.name} has no outputs; " + \
        REBUILD.format(source.name)
    errors = [output.ename for cell in code for output in cell.outputs if output.output_type == "error"]
    assert not errors, f"{ipynb.name} stores errors {errors}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_first_code_cell_is_the_standard_setup_cell(source):
    setup = _code_cells(jupytext.read(NOTEBOOKS / "00_setup.py"))[0].source
    first = _code_cells(jupytext.read(source))[0].source
    assert first == setup, f"the first code cell of {source.name} must be the setup cell of 00_setup.py, verbatim"
