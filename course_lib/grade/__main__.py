"""The grader's command line: ``python -P -m course_lib.grade PATH`` (one submission) or
``python -P -m course_lib.grade CLASS --batch`` (a class, :mod:`course_lib.gradebook`).

See :mod:`course_lib.grade` for how a grade is made. This module only reads the options, runs the
grader and prints or writes the results; it is the one place that imports both the single-submission
grader and the gradebook, so neither imports the other.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course_lib import grade, gradebook
from course_lib.grade import GradingError, as_table


def _seed_option(text: str) -> int:
    if text == "fresh":
        return grade.fresh_seed()
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed takes an integer or 'fresh', got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grade",
                                     description="Grade a student's exercises folder (or, with --batch, a class).")
    parser.add_argument("path", help="folder with the student's exNN_topic.py files "
                                     "(with --batch: a folder with one such folder per student)")
    parser.add_argument("--batch", action="store_true", help="PATH holds one submission folder per student")
    parser.add_argument("--seed", type=_seed_option, default=0,
                        help="seed of the graded inputs: an integer (default 0, the notebooks'), or 'fresh' for "
                             "a new private one drawn for this run and never printed (what Gradescope uses)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per exercise (default 60)")
    parser.add_argument("--only", help="grade only exercises whose name starts with this, e.g. ex01_mdp")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    parser.add_argument("--json", help="write Gradescope's results.json here (--batch: a folder, one "
                                       "STUDENT.json each)")
    parser.add_argument("--jobs", type=int, default=1, help="exercises graded at the same time (default 1)")
    parser.add_argument("--child-user", help="run student code as this user (the grader must run as root)")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if os.name == "posix" and os.geteuid() == 0 and not sys.flags.safe_path:
        parser.exit(2, "grade: error: as root, start the grader with python -P -m course_lib.grade (without -P, "
                       "Python imports modules from the current folder first, which may be a submission's)\n")
    for output in (args.csv, args.json):  # a stale file must never pass for this run's grades
        if output and Path(output).is_file():
            Path(output).unlink()
    try:
        if args.batch:
            return gradebook.main(args)
        grades = grade.grade(args.path, timeout=args.timeout, only=args.only, seed=args.seed, jobs=args.jobs,
                             child_user=args.child_user)
    except GradingError as error:
        parser.exit(2, f"grade: error: {error}\n")
    table = as_table(grades)
    text_columns = ("exercise", "result", "reason")
    left = {name: f"{{:<{max(len(name), table[name].str.len().max())}}}".format for name in text_columns}
    print(table.drop(columns="output").to_string(index=False, justify="left", formatters=left))
    earned, total = sum(g.earned for g in grades), sum(g.points for g in grades)
    print(f"\ntotal: {earned}/{total} points ({sum(g.passed for g in grades)}/{len(grades)} exercises passed)")
    if args.csv:
        grade.write_private(args.csv, table.to_csv(index=False))
        print(f"wrote {args.csv}")
    if args.json:
        gradebook.write_gradescope_json(grades, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
