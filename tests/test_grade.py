"""The grader: full marks for the solutions, zero for the stubs, and a bad student costs only points."""
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from course_lib.checks import NOT_WRITTEN, REGISTRY
from course_lib.grade import OUTPUT_CAP, grade, grade_one

ROOT = Path(__file__).resolve().parents[1]

# One student file with every way to misbehave (and one honest, correct function).
BAD_STUDENT = '''
import os
from course_lib import mdp as reference

def bellman_backup(mdp, V, gamma):
    while True:  # never returns
        pass

def value_iteration(mdp, gamma, tol):
    for _ in range(1000):  # 10 MB through print, 10 MB straight to the file descriptor
        print("x" * 10_000)
    os.write(1, b"y" * 10_000_000)
    return reference.value_iteration(mdp, gamma, tol)

def greedy_policy(mdp, V, gamma):
    raise ZeroDivisionError("student bug " + "!" * 100_000)

def policy_evaluation(mdp, policy, gamma):
    return reference.policy_evaluation(mdp, policy, gamma)
'''


def test_a_misbehaving_student_costs_only_those_exercises(tmp_path):
    (tmp_path / "ex01_mdp.py").write_text(BAD_STUDENT)
    start = time.monotonic()
    grades = {g.exercise: g for g in grade(tmp_path, timeout=5, only="ex01_mdp")}
    assert time.monotonic() - start < 25  # the endless loop costs its 5 s limit, not more
    assert list(grades) == [name for name in REGISTRY if name.startswith("ex01_mdp")]

    looping = grades["ex01_mdp.bellman_backup"]
    assert (looping.passed, looping.reason) == (False, "timed out after 5 s (an endless loop?)")
    printing = grades["ex01_mdp.value_iteration"]
    assert printing.passed and printing.earned == printing.points == 2
    assert f"kept the first {OUTPUT_CAP:,}" in printing.reason
    assert printing.output == ("x" * 10_000 + "\n")[:OUTPUT_CAP]
    raising = grades["ex01_mdp.greedy_policy"]
    assert not raising.passed and raising.reason.startswith("raised ZeroDivisionError: student bug !!!")
    assert len(raising.reason) <= 300  # a huge exception message does not flood the table
    honest = grades["ex01_mdp.policy_evaluation"]
    assert (honest.passed, honest.reason, honest.earned) == (True, "correct", 1)


def test_a_student_that_kills_its_process_is_reported_as_a_crash(tmp_path):
    (tmp_path / "ex01_mdp.py").write_text("import os\n\ndef bellman_backup(mdp, V, gamma):\n    os._exit(3)\n")
    result = grade_one("ex01_mdp.bellman_backup", tmp_path, timeout=10)
    assert (result.passed, result.reason) == (False, "crashed (exit code 3) without a result")


def test_solutions_score_full_marks_through_the_command_line(tmp_path):
    csv = tmp_path / "grades.csv"
    result = subprocess.run([sys.executable, "-m", "course_lib.grade", str(ROOT / "solutions"),
                             "--csv", str(csv), "--timeout", "60"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(csv)
    assert table.exercise.tolist() == list(REGISTRY)
    assert (table.result == "passed").all() and (table.earned == table.points).all()
    total = sum(exercise.points for exercise in REGISTRY.values())
    assert f"total: {total}/{total} points" in result.stdout


def test_untouched_stubs_score_zero():
    grades = grade(ROOT / "exercises", timeout=60)
    assert len(grades) == len(REGISTRY)
    assert [(g.earned, g.reason) for g in grades] == [(0, NOT_WRITTEN)] * len(REGISTRY)


def test_a_wrong_path_is_a_one_line_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "course_lib.grade", str(tmp_path / "nowhere")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("is not a folder; pass the folder holding the student's exNN_*.py files")
    assert len(result.stderr.strip().splitlines()) == 1
