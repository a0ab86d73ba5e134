"""Generate the student stubs in exercises/ from the reference solutions in solutions/.

    python tools/make_exercises.py            # (re)write exercises/exNN_*.py   (= make exercises)
    python tools/make_exercises.py --check    # exit 1 if exercises/ is not what would be written

``solutions/exNN_topic.py`` is the single source. Everything is copied verbatim (imports, signatures,
docstrings, helpers) except the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (markers
included), which become one ``raise NotImplementedError(...)`` at the same indentation. Markers must
sit inside a function and cannot nest. Above each exercise's ``def`` the stub gets one comment line
with its difficulty and points, read from the check registry (``course_lib.checks``, the single
source of both): ``# Exercise (★★, 2 points): checks.check("ex01_mdp.value_iteration")``, one line
per exercise when several grade parts of one function (``register(..., function=...)``).
Maintainers only: regenerating overwrites student edits.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
HEADER = ("# Generated from solutions/{name} by tools/make_exercises.py: replace each\n"
          "# `raise NotImplementedError(...)` with your code (keep the signatures).\n"
          "# ★ applies what the notebook gives, ★★ needs a step of your own, ★★★ asks you to derive it.\n")
EXERCISE_LINE = '# Exercise ({stars}, {points} point{s}): checks.check("{name}")\n'


def registry() -> Mapping:
    """The registered exercises by name (``course_lib.checks.REGISTRY``)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from course_lib.checks import REGISTRY

    return REGISTRY


def _innermost_function(tree: ast.AST, lineno: int) -> ast.FunctionDef | None:
    found = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.lineno < lineno <= node.end_lineno:
            if found is None or node.lineno > found.lineno:
                found = node
    return found


def _exercise_lines(tree: ast.AST, lines: list[str], module: str, exercises: Mapping) -> dict[int, str]:
    """``{line of a def (or its first decorator): comment}`` for each registered exercise."""
    found = {}
    for lineno, line in enumerate(lines, start=1):
        function = _innermost_function(tree, lineno) if line.strip() == BEGIN else None
        if function is None:
            continue
        # Every exercise that probes this function (several may grade parts of one), in registry order.
        graded = [ex for ex in exercises.values()
                  if ex.module == module and getattr(ex, "function", ex.name.split(".")[1]) == function.name]
        if graded:
            start = min([function.lineno, *(d.lineno for d in function.decorator_list)])
            indent = lines[start - 1][: len(lines[start - 1]) - len(lines[start - 1].lstrip())]
            found[start] = "".join(indent + EXERCISE_LINE.format(
                stars="★" * ex.difficulty, points=ex.points, s="" if ex.points == 1 else "s", name=ex.name)
                for ex in graded)
    return found


def make_stub(solution: str, name: str, exercises: Mapping | None = None) -> str:
    """The exercise text for the solution module ``solution`` (file name ``name``, for messages).

    ``exercises``: the registry giving each exercise's difficulty and points (default: the course's).
    """
    tree = ast.parse(solution, filename=name)
    lines = solution.splitlines(keepends=True)
    headers = _exercise_lines(tree, lines, Path(name).stem, registry() if exercises is None else exercises)
    out, open_at, n_blocks = [HEADER.format(name=name)], None, 0
    for lineno, line in enumerate(lines, start=1):
        if lineno in headers:
            out.append(headers[lineno])
        marker = line.strip()
        if marker == BEGIN:
            if open_at is not None:
                raise ValueError(f"{name}:{lineno}: {BEGIN} inside the block opened on line {open_at}")
            function = _innermost_function(tree, lineno)
            if function is None:
                raise ValueError(f"{name}:{lineno}: {BEGIN} must be inside a function body")
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("Exercise: write {function.name}(), '
                       'see its docstring")\n')
            open_at, n_blocks = lineno, n_blocks + 1
        elif marker == END:
            if open_at is None:
                raise ValueError(f"{name}:{lineno}: {END} without a {BEGIN} before it")
            open_at = None
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise ValueError(f"{name}:{open_at}: {BEGIN} is never closed by {END}")
    if n_blocks == 0:
        raise ValueError(f"{name}: no {BEGIN} ... {END} block, so there is nothing to exercise")
    stub = "".join(out)
    ast.parse(stub, filename=name)  # a stub must at least import cleanly
    return stub


def generate(solutions_dir: Path = ROOT / "solutions") -> dict[str, str]:
    """``{file name: stub text}`` for every ``solutions/ex*.py``."""
    return {path.name: make_stub(path.read_text(), path.name)
            for path in sorted(Path(solutions_dir).glob("ex*.py"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if exercises/ differs from what would be written")
    args = parser.parse_args(argv)
    exercises_dir = ROOT / "exercises"
    try:
        stubs = generate()
    except ValueError as error:
        print(f"make_exercises: {error}", file=sys.stderr)
        return 2
    problems = []
    for name, text in stubs.items():
        target = exercises_dir / name
        if target.exists() and target.read_text() == text:
            continue
        if args.check:
            problems.append(f"exercises/{name} is {'stale' if target.exists() else 'missing'}")
        else:
            target.write_text(text)
            print(f"wrote exercises/{name}")
    orphans = sorted(p.name for p in exercises_dir.glob("ex*.py") if p.name not in stubs)
    problems += [f"exercises/{name} has no solutions/{name}" for name in orphans]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.check:
        print("run `python tools/make_exercises.py` (make exercises) to regenerate", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
