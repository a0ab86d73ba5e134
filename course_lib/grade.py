"""Grade a student's exercises folder: every registered exercise, each in its own process.

    python -m course_lib.grade PATH_TO_STUDENT_EXERCISES [--csv grades.csv] [--timeout 60] [--only ex01_mdp]

PATH is a folder holding the student's ``exNN_topic.py`` files (a copy of ``exercises/``). The
grader prints a table (exercise, points, passed/failed, reason) and the total, and with ``--csv``
writes the same table. Each exercise runs the check of ``course_lib.checks`` in a fresh child
process with a time limit, so a student function that raises, loops forever or prints megabytes costs
only that exercise's points; the grader itself always finishes. What the student's code prints is
kept only up to ``OUTPUT_CAP`` characters per exercise (in the CSV's ``output`` column, for
instructors chasing a failure), so it cannot fill memory or the report.

The children are forked from a "forkserver" that has imported ``course_lib.checks``, NumPy and
PyTorch once, so each exercise costs its check's time rather than a fresh interpreter's start-up.
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import sys
from dataclasses import dataclass
from pathlib import Path

OUTPUT_CAP = 2_000  # characters of the student's printed output kept per exercise


@dataclass(frozen=True)
class Grade:
    exercise: str
    points: int
    passed: bool
    reason: str
    output: str = ""  # the first OUTPUT_CAP characters the student's code printed

    @property
    def earned(self) -> int:
        return self.points if self.passed else 0


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters written to it and counts the rest."""

    def __init__(self, cap: int):
        self.cap, self.kept, self.total = cap, [], 0

    def text(self) -> str:
        return "".join(self.kept)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.total < self.cap:
            self.kept.append(text[: self.cap - self.total])
        self.total += len(text)
        return len(text)


def _run_in_child(name: str, source: str, conn) -> None:
    """Child process: run one check with the student's output captured (capped), send the result."""
    from course_lib import checks

    # Output written straight to the file descriptors (C code, os.write, subprocesses) goes nowhere;
    # Python-level prints land in the capped buffer.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    captured = _CappedText(OUTPUT_CAP)
    sys.stdout = sys.stderr = captured
    passed, reason = checks.run_check(name, source)
    conn.send((passed, reason, captured.text(), captured.total))
    conn.close()


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["course_lib.checks", "numpy", "torch"])
        return context
    return multiprocessing.get_context("spawn")  # Windows: slower start, same isolation


def grade_one(name: str, source: Path, timeout: float, context=None) -> Grade:
    """Run the check of exercise ``name`` against folder ``source`` in a child with a time limit."""
    from course_lib.checks import exercise

    ex = exercise(name)
    context = context or _context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_run_in_child, args=(name, str(source), send), daemon=True)
    child.start()
    send.close()  # the child holds the only sending end: EOF on our side means it died
    passed, reason, output = False, None, ""
    try:
        if receive.poll(timeout):  # also true when the child died: then recv() raises EOFError
            passed, reason, output, printed = receive.recv()
            if printed > OUTPUT_CAP:
                reason += f" (printed {printed:,} characters; kept the first {OUTPUT_CAP:,})"
        else:
            reason = f"timed out after {timeout:g} s (an endless loop?)"
    except EOFError:
        pass
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if reason is None:
        reason = f"crashed (exit code {child.exitcode}) without a result"
    return Grade(name, ex.points, passed, reason, output)


def grade(source: str | Path, timeout: float = 60.0, only: str | None = None) -> list[Grade]:
    """Grade every registered exercise (or those whose name starts with ``only``) in ``source``."""
    source = Path(source)
    if not source.is_dir():
        raise ValueError(f"{source} is not a folder; pass the folder holding the student's exNN_*.py files")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive (seconds), got {timeout}")
    from course_lib.checks import REGISTRY

    names = [name for name in REGISTRY if only is None or name.startswith(only)]
    if not names:
        raise ValueError(f"no exercise name starts with {only!r}; registered: {', '.join(REGISTRY)}")
    context = _context()
    return [grade_one(name, source, timeout, context) for name in names]


def as_table(grades: list[Grade]):
    """The grades as a pandas DataFrame: exercise, points (possible), earned, result, reason, output."""
    import pandas as pd

    return pd.DataFrame({
        "exercise": [g.exercise for g in grades],
        "points": [g.points for g in grades],
        "earned": [g.earned for g in grades],
        "result": ["passed" if g.passed else "failed" for g in grades],
        "reason": [g.reason for g in grades],
        "output": [g.output for g in grades],
    })


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grade",
                                     description="Grade a student's exercises folder.")
    parser.add_argument("path", help="folder with the student's exNN_topic.py files")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per exercise (default 60)")
    parser.add_argument("--only", help="grade only exercises whose name starts with this, e.g. ex01_mdp")
    args = parser.parse_args(argv)
    import pandas as pd

    try:
        grades = grade(args.path, timeout=args.timeout, only=args.only)
    except ValueError as error:
        parser.exit(2, f"grade: error: {error}\n")
    table = as_table(grades)
    text_columns = ("exercise", "result", "reason")
    left = {name: f"{{:<{max(len(name), table[name].str.len().max())}}}".format for name in text_columns}
    print(table.drop(columns="output").to_string(index=False, justify="left", formatters=left))
    earned, total = sum(g.earned for g in grades), sum(g.points for g in grades)
    print(f"\ntotal: {earned}/{total} points ({sum(g.passed for g in grades)}/{len(grades)} exercises passed)")
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
