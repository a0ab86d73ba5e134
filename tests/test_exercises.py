"""Every registered exercise check passes on the reference (or on a student's copy) and fails on the stub.

    pytest tests/test_exercises.py                          # checks solutions/
    pytest tests/test_exercises.py --exercises exercises    # checks your own exercises/
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import checks
from course_lib.checks import NOT_WRITTEN, REGISTRY, check, run_check

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402

EXERCISES = sorted(REGISTRY)


@pytest.mark.parametrize("name", EXERCISES)
def test_exercise_passes_its_check(name, exercises_dir):
    passed, reason = run_check(name, exercises_dir)
    assert passed, f"{name} in {exercises_dir}: {reason}"


@pytest.mark.parametrize("name", EXERCISES)
def test_solutions_pass_for_any_seed(name):
    for seed in (1, 2, 12345):
        passed, reason = run_check(name, ROOT / "solutions", seed=seed)
        assert passed, f"{name} with seed {seed}: {reason}"


@pytest.mark.parametrize("name", EXERCISES)
def test_the_seed_changes_what_is_graded(name):
    """The grader's --seed N gives other inputs, so answers copied from the notebook's run fail."""
    compare = checks.exercise(name).compare
    seed0 = checks.reference_outputs(name, seed=0)
    compare(seed0, seed0)  # the reference accepts itself ...
    with pytest.raises(Exception):  # ... but not its own answers for another seed
        compare(seed0, checks.reference_outputs(name, seed=1))


@pytest.mark.parametrize("name", EXERCISES)
def test_probe_data_survives_the_wire_unchanged(name):
    if checks.exercise(name).reference is not None:  # a learning outcome: the student's data crosses the wire
        result = checks.student_result(name, ROOT / "solutions", seed=4)
        assert checks.judge(name, json.loads(json.dumps(result)), seed=4) == (True, "correct")
        return
    data = checks.reference_outputs(name, seed=4)
    again = checks.decode(checks.encode(data))
    checks.exercise(name).compare(again, data)


@pytest.mark.parametrize("name", EXERCISES)
def test_untouched_stub_fails_its_check(name):
    assert run_check(name, ROOT / "exercises") == (False, NOT_WRITTEN)


def test_every_exercise_file_has_checks():
    solved = {path.stem for path in (ROOT / "solutions").glob("ex*.py")}
    checked = {exercise.module for exercise in REGISTRY.values()}
    assert not solved - checked, f"no checks registered in course_lib/checks/ for {sorted(solved - checked)}"
    assert not checked - solved, f"checks registered for missing solutions/ files: {sorted(checked - solved)}"


def test_exercises_folder_is_what_make_exercises_generates():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_make_stub_replaces_only_the_marked_body():
    solution = ('"""Doc."""\nimport numpy as np\n\n\ndef f(x):\n    """Twice x."""\n'
                '    # BEGIN SOLUTION\n    y = 2 * x\n    return y\n    # END SOLUTION\n\n\nHELPER = 1\n')
    stub = make_exercises.make_stub(solution, "ex99_demo.py")
    body = stub.split(make_exercises.HEADER.format(name="ex99_demo.py"))[1]
    assert body == ('"""Doc."""\nimport numpy as np\n\n\ndef f(x):\n    """Twice x."""\n'
                    '    raise NotImplementedError("Exercise: write f(), see its docstring")\n\n\nHELPER = 1\n')


@pytest.mark.parametrize("text, problem", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "inside a function"),
    ("def f():\n    return 1\n", "nothing to exercise"),
])
def test_make_stub_rejects_misplaced_markers(text, problem):
    with pytest.raises(ValueError, match=problem):
        make_exercises.make_stub(text, "ex99_demo.py")


def test_notebook_check_prints_one_line_and_never_raises(tmp_path, capsys):
    (tmp_path / "ex01_mdp.py").write_text(
        "def bellman_backup(mdp, V, gamma):\n    return V\n"           # wrong answer
        "def greedy_policy(mdp, V, gamma):\n    raise KeyError('oops')\n"  # crashes
    )
    check("ex01_mdp.bellman_backup", tmp_path)
    check("ex01_mdp.greedy_policy", tmp_path)
    check("ex01_mdp.value_iteration", tmp_path)
    check("ex01_mdp.policy_evaluation", ROOT / "solutions")
    check("ex01_mdp.value_iteration", ROOT / "exercises")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ex01_mdp.bellman_backup: ✗ bellman_backup(V) on ") and "off by" in lines[0]
    assert lines[1] == "ex01_mdp.greedy_policy: ✗ raised KeyError: 'oops'"
    assert lines[2] == "ex01_mdp.value_iteration: ✗ ex01_mdp.py has no function value_iteration()"
    assert lines[3] == "ex01_mdp.policy_evaluation: ✓ correct"
    assert lines[4] == f"ex01_mdp.value_iteration: … {NOT_WRITTEN}"


def test_check_picks_up_edits_without_a_kernel_restart(tmp_path):
    student = tmp_path / "ex01_mdp.py"
    student.write_text("def greedy_policy(mdp, V, gamma):\n    raise NotImplementedError\n")
    assert run_check("ex01_mdp.greedy_policy", tmp_path) == (False, NOT_WRITTEN)
    student.write_text("import numpy as np\n\ndef greedy_policy(mdp, V, gamma):\n"
                       "    return np.argmax(mdp.R + gamma * mdp.P @ V, axis=1)\n")
    assert run_check("ex01_mdp.greedy_policy", tmp_path) == (True, "correct")


def test_unknown_exercise_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown exercise 'ex01_mdp.nope'; registered: "):
        run_check("ex01_mdp.nope")


def test_decoding_refuses_anything_but_numbers(tmp_path):
    import numpy as np

    assert checks.decode(checks.encode({"a": [1, 2.5, None, "x", np.arange(3.0)]}))["a"][4].tolist() == [0, 1, 2]
    pickled = b'{"__array__": "gASV", "dtype": "|O", "shape": [1]}'
    with pytest.raises(ValueError, match="not numeric"):
        checks.decode(pickled)
    with pytest.raises(checks.CheckFailed, match="returned a object"):
        checks.encode(object())


def test_a_wrong_answer_names_the_part_that_is_off(tmp_path):
    (tmp_path / "ex04_power_iteration.py").write_text(
        "import torch\n\ndef power_iteration(W, n_iters, u):\n"
        "    sigma, u, v = torch.linalg.norm(W, 2), u / u.norm(), W.T @ u\n"
        "    return sigma, u, v / v.norm()\n")
    passed, reason = run_check("ex04_power_iteration.power_iteration", tmp_path)
    assert not passed and reason.startswith("sigma after 0 steps on a 5x3 matrix is off by up to"), reason
