"""A class's grades: batch grading into one table, and Gradescope's autograder format.

    python -m course_lib.grade SUBMISSIONS --batch --csv grades.csv [--json results/] [--seed N]

``SUBMISSIONS`` holds one folder per student (named after the student, as an LMS export does);
each holds that student's ``exNN_topic.py`` files, possibly one folder down. The CSV has one row per
student, one column per exercise (points earned) and a ``total``; a progress bar runs on stderr.
A submission that is missing, does not parse, or misbehaves costs that student points and never
stops the batch. The reference outputs are computed once, and every submission is read, before
any student code runs.

Gradescope (https://gradescope-autograders.readthedocs.io, "Autograder specifications"): one
submission's grades as ``{"score": total, "tests": [{"name", "score", "max_score", "output"}]}``
in ``/autograder/results/results.json``; ``tools/gradescope/`` holds the two scripts to upload.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from course_lib.grade import (Grade, GradingError, _context, check_options, grade, read_submission, reference_data,
                              select_exercises, write_private)


def gradescope_results(grades: list[Grade]) -> dict:
    """Gradescope's results.json content for one student."""
    tests = []
    for g in grades:
        output = g.reason if not g.output else f"{g.reason}\n\nYour code printed:\n{g.output}"
        tests.append({"name": g.exercise, "score": g.earned, "max_score": g.points, "output": output})
    # The grader's own stdout (the table) is for instructors only.
    return {"score": sum(g.earned for g in grades), "tests": tests, "stdout_visibility": "hidden"}


def write_gradescope_json(grades: list[Grade], path: str | Path) -> None:
    write_private(path, json.dumps(gradescope_results(grades), indent=1))


def student_folders(root: str | Path) -> list[Path]:
    """The student folders of a class folder; ``GradingError`` if ``root`` is not one."""
    root = Path(root)
    if not root.is_dir():
        raise GradingError(f"{root} is not a folder; pass the folder that holds one folder per student")
    students = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__")))
    if not students:
        raise GradingError(f"{root} holds no student folders; with --batch pass a folder of submission folders")
    return students


def refuse_open_folder(root: str | Path, user: str) -> None:
    """``GradingError`` if ``user`` (the one student code runs as) could list or enter ``root``:
    a submission could then read, and run, a classmate's files (found through ``/proc``)."""
    import grp
    import pwd

    info, entry = os.stat(root), pwd.getpwnam(user)
    groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    if info.st_uid == entry.pw_uid:
        bits = (info.st_mode >> 6) & 7
    elif info.st_gid in groups:
        bits = (info.st_mode >> 3) & 7
    else:
        bits = info.st_mode & 7
    if bits & 0o5:
        raise GradingError(f"{user} can open {root} (mode {info.st_mode & 0o777:o}), so a submission could read a "
                           f"classmate's files: chmod 700 {root} (owned by the grading user) and grade again")


def grade_class(root: str | Path, timeout: float = 60.0, only: str | None = None, seed: int = 0,
                jobs: int = 1, child_user: str | None = None, progress: bool = True) -> dict[str, list[Grade]]:
    """``{student: grades}`` for every student folder of ``root``."""
    from tqdm.auto import tqdm

    check_options(timeout, seed, jobs)
    students = student_folders(root)
    if child_user:
        refuse_open_folder(root, child_user)
    names = select_exercises(only)
    _context()  # the forkserver starts while the references are computed
    wants = reference_data(names, seed)
    from course_lib.checks import exercise

    # Every submission is read before any student code runs: none can change another's files.
    submissions = {}
    for folder in students:
        try:
            if folder.is_symlink():  # would let a submission point the grader at any folder
                raise GradingError(f"{folder} is a link")
            submissions[folder.name] = read_submission(folder)
        except (GradingError, OSError) as error:
            submissions[folder.name] = "no exNN_topic.py files in the submission" \
                if isinstance(error, GradingError) else f"the submission could not be read ({error})"
    results = {}
    for student, files in tqdm(submissions.items(), desc="grading", unit="student", disable=not progress,
                               file=sys.stderr):
        if isinstance(files, str):  # the reason it could not be read
            results[student] = [Grade(n, exercise(n).points, False, files) for n in names]
            continue
        try:
            results[student] = grade(files, timeout, only, seed, jobs, child_user, wants)
        except Exception as error:  # noqa: BLE001  (a grader bug on one student must not stop the class)
            results[student] = [Grade(n, exercise(n).points, False, f"grading failed: {error!r:.200}")
                                for n in names]
    return results


def class_table(results: dict[str, list[Grade]]):
    """Student x exercise table of points earned, with a ``total`` column."""
    import pandas as pd

    table = pd.DataFrame({student: {g.exercise: g.earned for g in grades} for student, grades in results.items()}).T
    table.index.name = "student"
    table["total"] = table.sum(axis=1)
    return table


def main(args) -> int:
    results = grade_class(args.path, args.timeout, args.only, args.seed, args.jobs, args.child_user)
    table = class_table(results)
    some = next(iter(results.values()))
    possible = sum(g.points for g in some)
    print(table[["total"]].to_string())
    print(f"\n{len(table)} students graded; mean {table.total.mean():.1f}/{possible} points")
    if args.csv:
        write_private(args.csv, table.to_csv())
        print(f"wrote {args.csv}")
    if args.json:
        folder = Path(args.json)
        for student, grades in results.items():
            write_gradescope_json(grades, folder / f"{student}.json")
        print(f"wrote {len(results)} Gradescope results files to {folder}/")
    return 0
