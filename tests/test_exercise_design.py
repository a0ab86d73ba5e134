"""Exercises that make students think: every exercise has a difficulty, and students see it.

The registry (``course_lib.checks``) holds each exercise's difficulty, 1 to 3 (★ to ★★★); the stubs
get it through ``tools/make_exercises.py`` and the notebooks state it where they introduce the
exercise, as ``**Exercise N** (★★, 2 points): `function_name` ...``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from course_lib import checks
from course_lib.checks.framework import register

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = list(checks.REGISTRY.values())


def _notebook(ex) -> Path:
    number = ex.module[2:].split("_")[0]  # "01", "01b", ...
    (path,) = sorted((ROOT / "notebooks").glob(f"{number}_*.py"))
    return path


def _markdown(path: Path) -> str:
    """The text of a py:percent notebook's markdown cells, one space between words."""
    text, cells = path.read_text(), []
    for cell in re.split(r"^# %%", text, flags=re.M)[1:]:
        header, _, body = cell.partition("\n")
        if "[markdown]" in header:
            cells.append(" ".join(line[1:].strip() for line in body.splitlines() if line.startswith("#")))
    return " ".join(" ".join(cells).split())


def test_every_exercise_has_a_difficulty_from_1_to_3():
    assert EXERCISES
    for ex in EXERCISES:
        assert isinstance(ex.difficulty, int) and 1 <= ex.difficulty <= 3, ex.name
        assert ex.stars == "★" * ex.difficulty


def test_at_least_a_third_of_the_exercises_are_two_stars_or_harder():
    harder = [ex.name for ex in EXERCISES if ex.difficulty >= 2]
    assert 3 * len(harder) >= len(EXERCISES), f"only {len(harder)} of {len(EXERCISES)} are ★★ or harder"


@pytest.mark.parametrize("difficulty", [0, 4, -1, 2.0, True, "2", None])
def test_register_rejects_a_difficulty_outside_1_to_3(difficulty):
    with pytest.raises(ValueError, match=r"^difficulty must be 1, 2 or 3 \(★ to ★★★\), got ") as info:
        register("ex99_demo.never_registered", difficulty=difficulty)
    assert "\n" not in str(info.value)
    assert "ex99_demo.never_registered" not in checks.REGISTRY


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.name for ex in EXERCISES])
def test_the_notebook_shows_the_stars_and_points_where_it_introduces_the_exercise(ex):
    text = _markdown(_notebook(ex))
    pattern = rf"\((★{{1,3}}), (\d+) points?\):? (?:write )?`{re.escape(ex.function)}[`(]"
    found = re.findall(pattern, text)
    assert found, (f"{_notebook(ex).name} should introduce `{ex.function}` as "
                   f"'({ex.stars}, {ex.points} point{'s' * (ex.points > 1)}): `{ex.function}` ...'")
    assert all(stars == ex.stars and int(points) == ex.points for stars, points in found), (
        f"{_notebook(ex).name} shows {found} for `{ex.function}`; the registry says "
        f"({ex.stars}, {ex.points})")


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.name for ex in EXERCISES])
def test_the_stub_shows_the_stars_and_points(ex):
    stub = (ROOT / "exercises" / f"{ex.module}.py").read_text()
    line = f'# Exercise ({ex.stars}, {ex.points} point{"s" * (ex.points > 1)}): checks.check("{ex.name}")\n'
    # Directly above the def, among the lines of the other exercises that grade the same function.
    block = re.search(rf"((?:# Exercise \(.*\n)+)def {re.escape(ex.function)}\(", stub)
    assert block and line in block.group(1), f"no {line!r} above def {ex.function}("
