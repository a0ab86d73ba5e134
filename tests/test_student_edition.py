"""The student edition (``make student-edition``): nothing of the instructors' in it, and its checks work.

One edition is built per test process (into a temporary folder, a few seconds) and then inspected:
no ``solutions/``, grader or Gradescope files; no solution body in any file; only the notebooks'
seed's reference outputs; Colab links to the student repository; and, run inside the edition (its
own ``course_lib`` on ``PYTHONPATH``), a check says "not written yet" for a stub and "correct" for
the solution written into it, and the edition's own Colab, pairing and exercise tests pass. The
test marked ``platforms`` (``make test-platforms``) runs every notebook of the edition under strict
nbval, as ``make test`` runs this repository's (minutes; ``PYTEST_XDIST_AUTO_NUM_WORKERS`` sets
how many kernels at once, default one per core).
"""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import colab
from course_lib.checks import DEFAULT_SEED, NOT_WRITTEN, REGISTRY, encode, reference_outputs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_student_edition  # noqa: E402

STUDENT_REPO = "course-staff/rl-course-students"
OTHER_SEEDS = (1, 7)  # grading seeds whose reference outputs must not be in the edition
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB_RAISE = re.compile(r'^[ \t]*raise NotImplementedError\("Exercise: write \w+\(\), see its docstring"\)\n',
                        re.MULTILINE)

# Solution bodies the course library itself holds, word for word: the notebooks run the library's
# own copy of these functions after the exercise (tabular TD and Q-learning, the SAC and DDPG agents,
# the power-method panel), so the edition cannot drop them without dropping the library. The grader
# stops a submission *calling* them (course_lib/checks/answers.py); reading and copying them is a
# matter for the course's rules, as its docstring says. Listed exactly, so that any other body found
# anywhere fails, and an entry that stops matching fails too (then delete it here).
KNOWN_IN_LIBRARY = {
    ("ex01_mdp.td0_update", "course_lib/tabular.py"),
    ("ex01_mdp.epsilon_greedy", "course_lib/tabular.py"),
    ("ex01_mdp.q_learning_update", "course_lib/tabular.py"),
    ("ex02_actor_critic.soft_bellman_target", "course_lib/agents/sac.py"),
    ("ex02_actor_critic.temperature_loss", "course_lib/agents/sac.py"),
    ("ex04_power_iteration.power_steps_needed", "course_lib/power_gap.py"),
    ("ex07_drqv2.exploration_std", "course_lib/agents/ddpg.py"),
}


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    return make_student_edition.build(tmp_path_factory.mktemp("edition") / "student", STUDENT_REPO)


def _edition_env(edition: Path) -> dict:
    """This Python, with the edition's course_lib and exercises first on the path (not this repository's)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID", "PYTEST_CURRENT_TEST"))}
    env.update(PYTHONPATH=str(edition), OMP_NUM_THREADS="1")
    return env


def _files(edition: Path) -> dict[str, bytes]:
    return {path.relative_to(edition).as_posix(): path.read_bytes() for path in sorted(edition.rglob("*"))
            if path.is_file() and not {".git", "__pycache__"} & set(path.relative_to(edition).parts)}


def _solution_blocks(path: Path) -> list[tuple[str, str]]:
    """``(exercise name, block text)`` of every BEGIN/END SOLUTION block of a solutions/ file, in order."""
    text = path.read_text()
    functions = [node for node in ast.walk(ast.parse(text))
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    blocks = []
    for match in re.finditer(rf"^[ \t]*{BEGIN}\n(.*?\n)[ \t]*{END}\n", text, re.MULTILINE | re.DOTALL):
        line = text.count("\n", 0, match.start()) + 1
        function = max((f for f in functions if f.lineno < line <= f.end_lineno), key=lambda f: f.lineno)
        blocks.append((f"{path.stem}.{function.name}", match.group(1)))
    return blocks


def _normalized(name: str, data: bytes) -> str:
    """A file's text with all whitespace runs as one space; for a notebook, its cells' sources and outputs."""
    text = data.decode("utf-8", errors="ignore")
    if name.endswith(".ipynb"):
        cells = json.loads(text)["cells"]
        text += "\n".join("".join(cell["source"]) + "".join("".join(out.get("text", ""))
                                                             for out in cell.get("outputs", []))
                          for cell in cells)
    return " ".join(text.split())


def _fingerprints(wire) -> set[str]:
    """Strings by which an encoded probe output would show in a file: its arrays' base64, its floats,
    its strings (the keys that name a probe's cases hold the drawn parameters)."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            if "__array__" in value:
                found.add(value["__array__"])
            else:
                walk(list(value.values()))
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, float):
            found.add(repr(value))
        elif isinstance(value, str):
            found.add(value)

    walk(wire)
    # Only strings that cannot turn up by chance: 1.0, a small int or an array of zeros in base64
    # could, in a notebook's PNG; eight distinct characters in ten (64 bits of one float) cannot.
    # Outputs made only of such short values (step counts, 853.8) cannot be searched for.
    return {fingerprint for fingerprint in found if len(fingerprint) >= 10 and len(set(fingerprint)) >= 8}


def _appears(fingerprint: str, blob: bytes) -> bool:
    """``fingerprint`` is in ``blob`` as it is, or as JSON writes it (escaped, as in a notebook)."""
    return fingerprint.encode() in blob or json.dumps(fingerprint)[1:-1].encode() in blob


# --- what the edition holds -------------------------------------------------------------------------

def test_the_edition_holds_none_of_the_instructors_files(edition):
    for name in ("solutions", "course_lib/grade", "course_lib/gradebook.py", "course_lib/checks/answers.py",
                 "tools/gradescope",
                 "tools/make_exercises.py", "tools/make_student_edition.py", "tests/test_grade.py",
                 "tests/test_student_edition.py"):
        assert not (edition / name).exists(), f"the student edition holds {name}"
    student_tests = (edition / "tests" / "test_exercises.py").read_text()
    assert "solutions" not in student_tests and "make_exercises" not in student_tests
    # Everything else that git tracks is there, byte for byte (README, Makefile and the few files the
    # tool edits aside), and it is one commit with nothing left out of it.
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    edited = {"README.md", "Makefile", "pyproject.toml", "conftest.py", "course_lib/colab.py",
              "tests/durations.json", "tests/test_exercises.py"}
    for name in tracked:
        if (ROOT / name).is_file() and not make_student_edition.is_instructors_only(name) \
                and name not in edited and not name.startswith("notebooks/"):
            assert (edition / name).read_bytes() == (ROOT / name).read_bytes(), name
    log = subprocess.run(["git", "log", "--format=%s"], cwd=edition, capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=edition, capture_output=True,
                            text=True, check=True)
    assert status.stdout == ""
    # What a student reads says nothing of what is missing.
    readme, makefile = (edition / "README.md").read_text(), (edition / "Makefile").read_text()
    for word in ("solutions/", "course_lib.grade", "gradescope", "make exercises", "student-edition"):
        assert word not in readme and word not in makefile, word
    assert "pytest tests/test_exercises.py" in readme and "\nexercises:" not in makefile


def test_no_solution_body_is_in_any_file_of_the_edition(edition):
    texts = {name: _normalized(name, data) for name, data in _files(edition).items()}
    blocks = [block for path in sorted((ROOT / "solutions").glob("ex*.py")) for block in _solution_blocks(path)]
    # One block (at least) per exercise; several exercises may grade one function (the capstone).
    functions = {name for name, _ in blocks}
    assert {name for name, ex in REGISTRY.items() if f"{ex.module}.{ex.function}" in functions} == set(REGISTRY)
    found = {(exercise, name) for exercise, body in blocks for name, text in texts.items()
             if " ".join(body.split()) in text}
    assert found - KNOWN_IN_LIBRARY == set(), f"solution bodies in the edition: {sorted(found - KNOWN_IN_LIBRARY)}"
    assert KNOWN_IN_LIBRARY - found == set(), \
        f"no longer in the library, delete from KNOWN_IN_LIBRARY: {sorted(KNOWN_IN_LIBRARY - found)}"


def test_only_the_notebooks_seed_is_stored(edition):
    stored = json.loads((edition / make_student_edition.REFERENCE_FILE).read_text())
    assert stored["seed"] == DEFAULT_SEED and list(stored) == ["seed", "references"]
    assert list(stored["references"]) == list(REGISTRY)
    for name, wire in stored["references"].items():
        assert wire == json.loads(encode(reference_outputs(name, DEFAULT_SEED))), name

    blob = b"\0".join(_files(edition).values())
    public = set().union(*(_fingerprints(wire) for wire in stored["references"].values()))
    assert public and all(_appears(fingerprint, blob) for fingerprint in public)  # the search finds them
    for seed in OTHER_SEEDS:
        for name in REGISTRY:
            secret = _fingerprints(json.loads(encode(reference_outputs(name, seed)))) - public
            leaked = [fingerprint[:40] for fingerprint in secret if _appears(fingerprint, blob)]
            assert not leaked, f"{name}: seed {seed}'s outputs are in the edition: {leaked}"


def test_colab_links_point_at_the_student_repository(edition):
    assert f'REPO = "{STUDENT_REPO}"' in (edition / "course_lib" / "colab.py").read_text()
    notebooks = sorted((edition / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        url = f"https://colab.research.google.com/github/{STUDENT_REPO}/blob/main/notebooks/{notebook.name}"
        cells = "\n".join("".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"])
        for name, text in ((notebook.name, cells), (f"{notebook.stem}.py", notebook.with_suffix(".py").read_text())):
            assert url in text, f"{name} has no badge for {STUDENT_REPO}"
            assert f'"DEEPER_RL_REPO_URL", "https://github.com/{STUDENT_REPO}")' in text, f"{name}'s setup cell"
    instructors = re.compile(rf"github\.com/(?:github/)?{re.escape(colab.REPO)}(?![\w.-])".encode())
    assert not [name for name, data in _files(edition).items() if instructors.search(data)]


# --- the edition at work ----------------------------------------------------------------------------

CHECKS = r'''
import json, sys
import course_lib, exercises
from course_lib import checks

solved = sys.argv[1]
checks.check("ex01_mdp.bellman_backup")            # what a notebook's check cell prints, stub ...
checks.check("ex01_mdp.bellman_backup", solved)    # ... and solved
try:
    checks.reference_outputs("ex01_mdp.bellman_backup", seed=7)
    other_seed = None
except ValueError as error:
    other_seed = str(error)
print(json.dumps({"course_lib": course_lib.__file__, "exercises": list(exercises.__path__),
                  "stub": {name: checks.run_check(name) for name in checks.REGISTRY},
                  "solved": {name: checks.run_check(name, solved) for name in checks.REGISTRY},
                  "other_seed": other_seed}))
'''


def _solve(stub: str, blocks: list[tuple[str, str]]) -> str:
    """The stub with each ``raise NotImplementedError`` replaced by its solution block, in order."""
    bodies = iter(body for _, body in blocks)
    solved, count = STUB_RAISE.subn(lambda match: next(bodies), stub)
    assert count == len(blocks), f"{count} stubbed bodies for {len(blocks)} solution blocks"
    return solved


def test_checks_in_the_edition_judge_stubs_and_solutions(edition, tmp_path):
    solved = tmp_path / "solved"
    solved.mkdir()
    for stub in sorted((edition / "exercises").glob("ex*.py")):
        (solved / stub.name).write_text(_solve(stub.read_text(), _solution_blocks(ROOT / "solutions" / stub.name)))
    script = tmp_path / "checks.py"
    script.write_text(CHECKS)
    run = subprocess.run([sys.executable, str(script), str(solved)], cwd=edition, env=_edition_env(edition),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    *printed, last = run.stdout.splitlines()
    result = json.loads(last)
    assert Path(result["course_lib"]).parent == edition / "course_lib"  # the edition's, not this repository's
    assert result["exercises"] == [str(edition / "exercises")]
    assert printed == [f"ex01_mdp.bellman_backup: … {NOT_WRITTEN}", "ex01_mdp.bellman_backup: ✓ correct"]
    assert result["stub"] == {name: [False, NOT_WRITTEN] for name in REGISTRY}
    assert result["solved"] == {name: [True, "correct"] for name in REGISTRY}
    assert result["other_seed"].startswith(f"this student edition holds the references of the notebooks' seed "
                                           f"({DEFAULT_SEED}) only, not of seed 7")


def test_the_editions_own_tests_of_colab_notebooks_and_exercises_pass(edition):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_colab.py",
                          "tests/test_notebooks_paired.py", "tests/test_exercises.py"],
                         cwd=edition, env=_edition_env(edition), capture_output=True, text=True, timeout=300)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, f"{summary}\n{run.stdout[-4000:]}"
    assert f"{len(REGISTRY)} skipped" in summary  # the stubs, not written yet


# --- bad input: one line that says how to fix it ------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ([], "pass --out FOLDER"),
    (["--out", str(ROOT / "build" / "student")], "lies inside this repository"),
    (["--out", "{full}"], "exists and is not empty"),
    (["--out", "{new}", "--repo", "not-a-repo"], "is not a GitHub owner/name"),
    (["--out", "{new}", "--repo", colab.REPO], "is the instructors' repository"),
    (["--out", "{new}", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_input_is_one_line(args, message, tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    args = [arg.format(full=tmp_path / "full", new=tmp_path / "new") for arg in args]
    assert make_student_edition.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("make_student_edition: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "new").exists() and not (ROOT / "build" / "student").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["full"]  # no partial edition left behind


def test_outside_a_git_checkout_is_one_line(tmp_path):
    with pytest.raises(make_student_edition.EditionError, match="is not a git checkout of the course"):
        make_student_edition.tracked_files(tmp_path)


# --- make test-platforms: every notebook of the edition, strict ---------------------------------------

@pytest.mark.platforms
def test_the_editions_notebooks_pass_strict_nbval(edition):
    """Strict nbval (the edition's pyproject.toml: its sanitizers, cell timeout, current env) on every
    notebook, in the edition: the stored outputs hold without solutions/ and the grader."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "notebooks/", "-p", "no:cacheprovider",
                          "-n", "auto", "--dist", "loadfile", "-q"],
                         cwd=edition, env=_edition_env(edition), capture_output=True, text=True, timeout=3600)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, f"the edition's notebooks under strict nbval: {summary}\n{run.stdout[-6000:]}"
    print(f"the student edition's notebooks: {summary}")
