"""The grader: full marks for the solutions, zero for stubs and for every way of forging a grade.

Student code runs in a child process and sends back only data; the grader compares that data with
the reference in its own process. Each forgery below is a student file that, at import, attacks
the grader one way while its functions solve nothing; each must score zero. Few exercises per case
(``only=``) keep the file fast: the forkserver starts once per test process.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from course_lib.checks import NOT_WRITTEN, REGISTRY, reference_outputs
from course_lib.grade import OUTPUT_CAP, grade, grade_one

ROOT = Path(__file__).resolve().parents[1]
ONE = "ex01_mdp.bellman_backup"
WRONG = "\n\ndef bellman_backup(mdp, V, gamma):\n    return V  # wrong\n"


def _grade_cli(*args, cwd=None):
    # -P, as the grader must be started (as root it refuses otherwise): no imports from the cwd
    return subprocess.run([sys.executable, "-P", "-m", "course_lib.grade", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def _write(folder: Path, text: str, module: str = "ex01_mdp") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(text)
    return folder


# One student file with every way to misbehave (and one honest, correct function).
BAD_STUDENT = '''
import os
import numpy as np

def bellman_backup(mdp, V, gamma):
    while True:  # never returns
        pass

def value_iteration(mdp, gamma, tol):
    for _ in range(1000):  # 10 MB through print, 10 MB straight to the file descriptor
        print("x" * 10_000)
    os.write(1, b"y" * 10_000_000)
    threshold = tol * (1 - gamma) / gamma if gamma > 0 else np.inf
    history = [np.zeros(mdp.R.shape[0])]
    while True:
        history.append((mdp.R + gamma * mdp.P @ history[-1]).max(axis=1))
        if np.abs(history[-1] - history[-2]).max() <= threshold:
            return history[-1], np.stack(history)

def greedy_policy(mdp, V, gamma):
    raise ZeroDivisionError("student bug " + "!" * 100_000)

def policy_evaluation(mdp, policy, gamma):
    states = np.arange(len(policy))
    P_pi, R_pi = mdp.P[states, policy], mdp.R[states, policy]
    return np.linalg.solve(np.eye(len(policy)) - gamma * P_pi, R_pi)
'''


def test_a_misbehaving_student_costs_only_those_exercises(tmp_path):
    _write(tmp_path, BAD_STUDENT)
    names = ["ex01_mdp.bellman_backup", "ex01_mdp.value_iteration", "ex01_mdp.greedy_policy",
             "ex01_mdp.policy_evaluation"]
    start = time.monotonic()
    grades = {g.exercise: g for g in grade(tmp_path, timeout=4, only="ex01_mdp") if g.exercise in names}
    assert time.monotonic() - start < 25  # the endless loop costs its 4 s limit, not more

    looping = grades["ex01_mdp.bellman_backup"]
    assert (looping.passed, looping.reason) == (False, "timed out after 4 s (an endless loop?)")
    printing = grades["ex01_mdp.value_iteration"]
    assert printing.passed and printing.earned == printing.points == 2
    assert f"kept the first {OUTPUT_CAP:,}" in printing.reason
    assert printing.output == ("x" * 10_000 + "\n")[:OUTPUT_CAP]
    raising = grades["ex01_mdp.greedy_policy"]
    assert not raising.passed and raising.reason.startswith("raised ZeroDivisionError: student bug !!!")
    assert len(raising.reason) <= 300  # a huge exception message does not flood the table
    honest = grades["ex01_mdp.policy_evaluation"]
    assert (honest.passed, honest.reason, honest.earned) == (True, "correct", 1)


def test_a_student_that_allocates_too_much_memory_costs_only_its_points(tmp_path):
    _write(tmp_path, "import numpy as np\n\ndef bellman_backup(mdp, V, gamma):\n"
                     "    untouched = np.empty(6 * 2**30, dtype=np.uint8)  # 6 GiB of address space\n"
                     "    return V\n")
    result = grade_one(ONE, tmp_path, timeout=10)
    assert (result.passed, result.reason[:20]) == (False, "raised MemoryError: "), result.reason


def test_a_student_that_kills_its_process_is_reported_as_a_crash(tmp_path):
    _write(tmp_path, "import os\n\ndef bellman_backup(mdp, V, gamma):\n    os._exit(3)\n")
    result = grade_one(ONE, tmp_path, timeout=10)
    assert (result.passed, result.reason) == (False, "crashed (exit code 3) without a result")


def test_a_student_that_kills_the_forkserver_costs_only_its_own_points(tmp_path):
    _write(tmp_path, "import os, signal\n\ndef bellman_backup(mdp, V, gamma):\n"
                     "    os.kill(os.getppid(), signal.SIGKILL)  # the process the children are forked from\n")
    assert grade(tmp_path, timeout=10, only=ONE)[0].earned == 0
    assert grade(ROOT / "solutions", timeout=20, only="ex01_mdp.policy_evaluation")[0].passed


# --- forgeries: each file attacks the grader at import, and solves nothing --------------------------

FORGERIES = {
    "patches the registry and the checks": '''
from course_lib import checks
from course_lib.checks import framework
for ex in list(checks.REGISTRY.values()):
    object.__setattr__(ex, "compare", lambda got, want: None)
    object.__setattr__(ex, "probe", lambda fn, rng: {"forged": True})
for module in (checks, framework):
    module.judge = lambda *args, **kwargs: (True, "correct")
    module.run_check = lambda *args, **kwargs: (True, "correct")
    module.student_result = lambda *args, **kwargs: {"status": "passed", "passed": True}
''',
    "patches the numerical comparisons": '''
import numpy as np
import numpy.testing
import torch
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.abs = lambda x, *args, **kwargs: np.zeros_like(x)
np.isfinite = lambda x, *args, **kwargs: np.ones_like(x, dtype=bool)
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
''',
    "writes fake results to the result channel": '''
import gc
import json
import multiprocessing.connection
import os
fake = json.dumps({"result": {"status": "ok", "got": {"__dict__": []}, "passed": True},
                   "output": "", "printed": 0, "passed": True, "score": 100}).encode()
for fd in range(3, 256):
    try:
        os.write(fd, fake)
    except OSError:
        pass
for obj in gc.get_objects():
    if isinstance(obj, multiprocessing.connection.Connection):
        for send in (lambda: obj.send((True, "correct", "", 0)), lambda: obj.send_bytes(fake)):
            try:
                send()
            except Exception:
                pass
''',
    "sends one well-formed fake result and exits with success": '''
import json
import os
fake = json.dumps({"result": {"status": "ok", "got": {"__dict__": []}}, "output": "", "printed": 0})
for fd in range(3, 256):
    try:
        if os.fstat(fd).st_mode & 0o170000 == 0o010000:  # a pipe
            os.write(fd, fake.encode())
    except OSError:
        pass
os._exit(0)
''',
    "exits early with os._exit(0)": "import os\nos._exit(0)\n",
    "exits early with sys.exit(0)": "import sys\nsys.exit(0)\n",
    "prints a fake success": '''
import os
print("ex01_mdp.bellman_backup: ✓ correct\\ntotal: 100/100 points")
os.write(1, "ex01_mdp.bellman_backup: ✓ correct\\n".encode())
''',
}


@pytest.mark.parametrize("attack", FORGERIES, ids=lambda a: a.replace(" ", "-"))
def test_a_forged_grade_scores_zero(attack, tmp_path):
    _write(tmp_path, FORGERIES[attack] + WRONG)
    grades = grade(tmp_path, timeout=20, only=ONE)
    assert [(g.exercise, g.earned) for g in grades] == [(ONE, 0)], grades
    assert "correct" != grades[0].reason


def test_a_forged_success_message_does_not_reach_the_total(tmp_path):
    _write(tmp_path, FORGERIES["prints a fake success"] + WRONG)
    result = _grade_cli(tmp_path, "--only", ONE, "--json", tmp_path / "results.json")
    assert result.returncode == 0, result.stderr
    assert "total: 0/1 points (0/1 exercises passed)" in result.stdout
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 0


def test_hard_coded_notebook_answers_fail_under_another_seed(tmp_path):
    """A student who returns, call by call, what the reference returned for seed 0."""
    answers = [v.tolist() for v in reference_outputs(ONE, seed=0).values()]
    _write(tmp_path, f"import numpy as np\nANSWERS = {answers!r}\nCALLS = []\n\n"
                     "def bellman_backup(mdp, V, gamma):\n    CALLS.append(1)\n"
                     "    return np.array(ANSWERS[(len(CALLS) - 1) % len(ANSWERS)])\n")
    assert grade(tmp_path, timeout=20, only=ONE)[0].passed  # the notebook's own inputs: fooled
    cheated = grade(tmp_path, timeout=20, only=ONE, seed=3)[0]
    assert not cheated.passed and "off by" in cheated.reason
    solved = grade(ROOT / "solutions", timeout=20, only=ONE, seed=3)[0]
    assert solved.passed


@pytest.mark.skipif(os.geteuid() != 0, reason="--child-user needs a grader running as root")
def test_child_user_runs_student_code_without_the_graders_rights(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the private seed")
    secret.chmod(0o600)
    student = _write(tmp_path / "student", "import os\n\ndef bellman_backup(mdp, V, gamma):\n"
                     f"    raise RuntimeError(f'uid {{os.getuid()}}: ' + open({str(secret)!r}).read())\n")
    result = grade(student, timeout=20, only=ONE, child_user="nobody")[0]
    assert not result.passed and result.reason.startswith("raised PermissionError"), result.reason


def test_a_submission_cannot_point_the_grader_at_other_files(tmp_path):
    from course_lib.grade import GradingError, read_submission

    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "ex01_mdp.py").symlink_to(ROOT / "solutions" / "ex01_mdp.py")  # the reference itself
    (linked / "ex02_actor_critic.py").symlink_to("/dev/zero")  # reading it would never end
    files = read_submission(linked)
    assert sorted(files) == ["ex01_mdp", "ex02_actor_critic"]
    result = grade_one(ONE, files, timeout=20)
    assert not result.passed
    assert result.reason == "raised ImportError: ex01_mdp.py is a link or not a regular file; submit the plain file"
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "exercises").symlink_to(ROOT / "solutions", target_is_directory=True)
    with pytest.raises(GradingError, match="holds no exNN_topic.py files"):
        read_submission(tmp_path / "nested")


# --- whole submissions ----------------------------------------------------------------------------

def test_solutions_score_full_marks_through_the_command_line(tmp_path):
    csv, results = tmp_path / "grades.csv", tmp_path / "results.json"
    result = _grade_cli(ROOT / "solutions", "--csv", csv, "--json", results, "--seed", 7, "--jobs", 2)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(csv)
    assert table.exercise.tolist() == list(REGISTRY)
    assert (table.result == "passed").all() and (table.earned == table.points).all(), table
    total = sum(exercise.points for exercise in REGISTRY.values())
    assert f"total: {total}/{total} points" in result.stdout
    gradescope = json.loads(results.read_text())
    assert gradescope["score"] == total
    assert [t["name"] for t in gradescope["tests"]] == list(REGISTRY)
    assert all(t["score"] == t["max_score"] == REGISTRY[t["name"]].points and t["output"] == "correct"
               for t in gradescope["tests"])


def test_untouched_stubs_score_zero():
    grades = grade(ROOT / "exercises", timeout=60, jobs=2)
    assert len(grades) == len(REGISTRY)
    assert [(g.earned, g.reason) for g in grades] == [(0, NOT_WRITTEN)] * len(REGISTRY)


def test_batch_grades_a_class_whatever_its_submissions_do(tmp_path):
    only = "ex01_mdp"  # quick exercises only: what is tested here is the batch, not the checks
    names = [n for n in REGISTRY if n.startswith(only)]
    full = sum(REGISTRY[n].points for n in names)
    shutil.copytree(ROOT / "solutions", tmp_path / "class" / "ada" / "exercises")  # one folder down
    shutil.copytree(ROOT / "exercises", tmp_path / "class" / "bob")
    (tmp_path / "class" / "cy").mkdir()  # submitted nothing
    _write(tmp_path / "class" / "dee", "def power_iteration(:\n", module=only)  # syntax error
    _write(tmp_path / "class" / "eve", "import os\nos._exit(0)\n", module=only)  # hostile
    (tmp_path / "class" / "fay").symlink_to(ROOT / "solutions", target_is_directory=True)  # a link
    csv = tmp_path / "grades.csv"
    result = _grade_cli(tmp_path / "class", "--batch", "--only", only, "--csv", csv, "--seed", 2,
                        "--json", tmp_path / "gradescope")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(csv, index_col="student")
    assert table.columns.tolist() == names + ["total"]
    assert table.total.to_dict() == {"ada": full, "bob": 0, "cy": 0, "dee": 0, "eve": 0, "fay": 0}
    assert "grading: 100%" in result.stderr  # the progress bar
    assert json.loads((tmp_path / "gradescope" / "ada.json").read_text())["score"] == full
    syntax = json.loads((tmp_path / "gradescope" / "dee.json").read_text())["tests"][0]["output"]
    assert syntax.startswith("raised SyntaxError"), syntax


@pytest.mark.parametrize("args, message", [
    (["{tmp}/nowhere"], "is not a folder; pass the folder holding the student's exNN_*.py files"),
    (["{tmp}"], "holds no exNN_topic.py files; pass the folder of a student's exercises"),
    (["{solutions}", "--only", "ex99"], "no exercise name starts with 'ex99'; registered: "),
    (["{solutions}", "--timeout", "-1"], "--timeout must be a positive number of seconds, got -1"),
    (["{solutions}", "--timeout", "0"], "--timeout must be a positive number of seconds, got 0"),
    (["{tmp}", "--batch"], "holds no student folders; with --batch pass a folder of submission folders"),
], ids=["not-a-folder", "no-files", "unknown-exercise", "negative-timeout", "zero-timeout", "empty-class"])
def test_bad_input_is_a_one_line_error(args, message, tmp_path):
    args = [a.format(tmp=tmp_path, solutions=ROOT / "solutions") for a in args]
    result = _grade_cli(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("grade: error: ") and message in result.stderr, result.stderr



# --- nothing a submission starts outlives its exercise --------------------------------------------

def _escaping_student(pid_file: Path, then: str, delay: float = 2.0) -> str:
    """A bellman_backup that starts a process outside its process group (fork, setsid, fork), which
    writes its pid to ``pid_file``, waits ``delay`` seconds and then runs ``then``; the function
    itself returns a wrong answer at once."""
    return f"""
import os, time

def bellman_backup(mdp, V, gamma):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for fd in range(3, 256):
                try:
                    os.close(fd)
                except OSError:
                    pass
            with open({str(pid_file)!r}, "w") as f:
                f.write(str(os.getpid()))
            time.sleep({delay})
{textwrap.indent(then, " " * 12)}
        os._exit(0)
    time.sleep(0.5)
    return V
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the grader reaps escaped processes on Linux")
def test_a_process_that_leaves_its_group_is_gone_when_the_exercise_ends(tmp_path):
    pid_file, marker = tmp_path / "pid", tmp_path / "still-here"
    files = {"ex01_mdp": _escaping_student(pid_file, f"open({str(marker)!r}, 'w').write('alive')")}
    assert not grade(files, timeout=20, only=ONE)[0].passed
    pid = int(pid_file.read_text())
    assert not _alive(pid)
    time.sleep(2.5)
    assert not marker.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the grader reaps escaped processes on Linux")
def test_a_process_left_behind_cannot_rewrite_the_graders_output(tmp_path):
    results = tmp_path / "results.json"
    forged = json.dumps({"score": 52, "tests": []})
    student = _write(tmp_path / "student", _escaping_student(
        tmp_path / "pid", f"open({str(results)!r}, 'w').write({forged!r})", delay=1.5))
    assert _grade_cli(student, "--only", ONE, "--json", results).returncode == 0
    time.sleep(2.5)
    assert json.loads(results.read_text())["score"] == 0
    assert results.stat().st_mode & 0o077 == 0  # written through a file only its owner can read


def test_a_stale_output_file_never_passes_for_this_runs_grades(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"score": 52}))
    result = _grade_cli(tmp_path / "nowhere", "--json", results)
    assert result.returncode == 2 and not results.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="--child-user needs a grader running as root")
def test_a_saboteur_in_a_batch_leaves_every_classmate_full_marks(tmp_path, request):
    """A submission whose left-behind process kills every process of its user (the child user's)
    for several seconds: the next student's exercises run as that same user."""
    killer = ("import signal\nend = time.time() + 8\nwhile time.time() < end:\n"
              "    for entry in os.listdir('/proc'):\n"
              "        if entry.isdigit() and int(entry) != os.getpid():\n"
              "            try:\n"
              "                if os.stat('/proc/' + entry).st_uid == os.getuid():\n"
              "                    os.kill(int(entry), signal.SIGKILL)\n"
              "            except OSError:\n"
              "                pass\n"
              "    time.sleep(0.01)\n")
    only = "ex01_mdp"
    names = [n for n in REGISTRY if n.startswith(only)]
    full = sum(REGISTRY[n].points for n in names)
    root = tmp_path / "class"
    shared = Path(tempfile.mkdtemp(prefix="saboteur-"))  # where the child user can write its pid
    shared.chmod(0o777)
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    _write(root / "a_saboteur", _escaping_student(shared / "pid", killer, delay=0.0))
    shutil.copytree(ROOT / "solutions", root / "b_honest")
    root.chmod(0o700)
    from course_lib.gradebook import grade_class
    for run in range(2):
        results = grade_class(root, timeout=20, only=only, seed=5 + run, child_user="nobody", progress=False)
        assert (shared / "pid").exists()  # the saboteur did start
        assert sum(g.earned for g in results["b_honest"]) == full, [g.reason for g in results["b_honest"]]
        (shared / "pid").unlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="--child-user needs a grader running as root")
def test_batch_refuses_a_class_folder_the_child_user_could_read(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(ROOT / "exercises", root / "bob")
    root.chmod(0o755)
    result = _grade_cli(root, "--batch", "--only", ONE, "--child-user", "nobody")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "nobody can open" in result.stderr and "chmod 700" in result.stderr


def test_only_the_exercise_files_are_read_and_their_total_is_capped(tmp_path):
    from course_lib.grade import MAX_FILE, MAX_SUBMISSION, GradingError, exercise_modules, read_submission

    folder = _write(tmp_path / "student", WRONG)
    for i in range(20):  # junk beside the exercises: never read, whatever its size
        (folder / f"ex99_junk{i}.py").write_bytes(b"#" * MAX_FILE * 2)
    (folder / "notes.txt").write_text("hello")
    assert list(read_submission(folder)) == ["ex01_mdp"]
    big = tmp_path / "big"
    big.mkdir()
    per_file = MAX_FILE - 10
    for module in exercise_modules()[: MAX_SUBMISSION // per_file + 1]:
        (big / f"{module}.py").write_text("#" * per_file)
    with pytest.raises(GradingError, match="more than"):
        read_submission(big)


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader refuses to run as root without -P")
def test_a_root_grader_needs_python_minus_P(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "json.py").write_text(f"open({str(marker)!r}, 'w').write('shadowed')\nfrom json import *\n")
    without = subprocess.run([sys.executable, "-m", "course_lib.grade", str(tmp_path)], capture_output=True,
                             text=True, cwd=tmp_path)
    assert without.returncode == 2 and "python -P -m course_lib.grade" in without.stderr
    assert len(without.stderr.strip().splitlines()) == 1
    marker.unlink(missing_ok=True)
    with_p = _grade_cli(tmp_path, cwd=tmp_path)  # -P: the folder's json.py is never imported
    assert not marker.exists() and with_p.returncode == 2


def test_a_fresh_seed_is_new_at_every_run_and_never_shown(tmp_path, monkeypatch, capsys):
    from course_lib import grade as grader
    from course_lib.grade.__main__ import main

    seeds = {grader.fresh_seed() for _ in range(20)}
    assert len(seeds) == 20 and 0 not in seeds
    monkeypatch.setattr(grader, "fresh_seed", lambda: 987_654_321)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # in this process: as a user, no -P needed
    results = tmp_path / "results.json"
    student = _write(tmp_path / "student", WRONG + "\nprint('hello')\n")
    assert main([str(student), "--only", ONE, "--seed", "fresh", "--json", str(results)]) == 0
    shown = capsys.readouterr().out + results.read_text()
    assert "987654321" not in shown and "987_654_321" not in shown
    assert json.loads(results.read_text())["stdout_visibility"] == "hidden"


@pytest.mark.skipif(os.geteuid() != 0, reason="run_autograder grades as root with --child-user nobody")
def test_run_autograder_replaces_a_stale_result_and_fails_loudly(tmp_path):
    script = ROOT / "tools" / "gradescope" / "run_autograder"
    root = tmp_path / "autograder"
    (root / "results").mkdir(parents=True)
    (root / "source").symlink_to(ROOT, target_is_directory=True)
    stale = root / "results" / "results.json"
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}

    stale.write_text(json.dumps({"score": 52}))
    (root / "submission").mkdir()  # nothing submitted
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(stale.read_text())["score"] == 0
    assert "upload your exercises/ files" in stale.read_text()

    stale.write_text(json.dumps({"score": 52}))
    broken = subprocess.run(["bash", str(script)], env={**env, "PYTHON": "/bin/false"}, capture_output=True,
                            text=True)
    assert broken.returncode == 1 and "the grader failed" in broken.stderr
    assert json.loads(stale.read_text())["score"] == 0 and "autograder" in stale.read_text()


@pytest.mark.skipif(os.geteuid() != 0 or not sys.platform.startswith("linux"),
                    reason="Gradescope's setup: run_autograder as root, student code as nobody, on Linux")
def test_attacks_score_zero_through_gradescopes_run_autograder(tmp_path, request):
    """The whole Gradescope path: a submission whose left-behind process tries to rewrite
    results.json, and whose other function calls the library's own answer."""
    shared = Path(tempfile.mkdtemp(prefix="gradescope-"))  # where the child user may write its pid
    shared.chmod(0o777)
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    root = tmp_path / "autograder"
    (root / "results").mkdir(parents=True)
    (root / "source").symlink_to(ROOT, target_is_directory=True)
    results = root / "results" / "results.json"
    forged = json.dumps({"score": 52, "tests": []})
    attack = _escaping_student(shared / "pid", f"open({str(results)!r}, 'w').write({forged!r})", delay=2.0)
    attack += ("\nfrom course_lib import mdp as library\n\ndef value_iteration(mdp, gamma, tol):\n"
               "    return library.value_iteration(mdp, gamma, tol)\n")
    _write(root / "submission", attack)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "tools" / "gradescope" / "run_autograder")], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (shared / "pid").exists()  # the escape did start
    time.sleep(3)  # past the moment the left-behind process would have written
    report = json.loads(results.read_text())
    tests = {t["name"]: t for t in report["tests"]}
    assert report["score"] == 0 and tests[ONE]["score"] == 0
    assert "write it yourself" in tests["ex01_mdp.value_iteration"]["output"]
    assert (root / "results").stat().st_mode & 0o022 == 0
