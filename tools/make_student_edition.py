"""Build the student edition of the course: this repository without what belongs to instructors.

    python tools/make_student_edition.py --out ../deeper-rl-student [--repo OWNER/NAME]
    make student-edition OUT=../deeper-rl-student [REPO=OWNER/NAME]          # the same

``--out`` must be a new or empty folder outside this repository. It receives:

1. every git-tracked file of this repository (``git ls-files``, as in the working tree) except
   :data:`INSTRUCTORS_ONLY`: ``solutions/``, the grader, the Gradescope scripts, the generators of
   the exercises and of this edition, and the tests that need them;
2. ``course_lib/checks/reference_public.json``: every reference's probe output for the notebooks'
   seed (``checks.DEFAULT_SEED``) and no other, so that check cells still say "correct" without
   ``solutions/`` (``checks.reference_outputs`` reads it there);
3. Colab: ``course_lib/colab.py``'s ``REPO`` and every GitHub/Colab link to the course in any file
   (the notebooks' badges and setup cells, README's badges and clone commands) point at ``--repo``,
   the student repository (default :data:`DEFAULT_REPO`);
4. README.md, Makefile, pyproject.toml and conftest.py without the instructors' parts, and a
   ``tests/test_exercises.py`` for students (their own exercises, stubs skipped);
5. a git repository with one commit on ``main``, ready to push.

The edition is built in a temporary folder beside ``--out`` and moved there only when complete.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REPO = "deeper-rl/deeper-rl-student"
REPO_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
REFERENCE_FILE = "course_lib/checks/reference_public.json"

# What students never get: path prefixes relative to the repository root.
INSTRUCTORS_ONLY = (
    "solutions/",
    "course_lib/grade/",                # the grader and its command line
    "course_lib/gradebook.py",
    "course_lib/checks/answers.py",     # the grader's list of library functions that answer exercises
    "tools/gradescope/",
    "tools/make_exercises.py",
    "tools/make_student_edition.py",
    "tools/calibrate_learning.py",      # trains the references of the learning outcomes
    "tests/test_exercises.py",          # runs solutions/ and make_exercises (replaced, see STUDENT_TESTS)
    "tests/test_grade",                 # the grader's tests (test_grade.py, test_grade_*.py)
    "tests/test_capstone_sac.py",       # the capstone's checks against solutions/
    "tests/test_capstone_ddpg.py",      # notebook 07's capstone, the same
    "tests/test_capstone_sn.py",        # notebook 04's capstone, the same
    "tests/test_student_edition.py",    # builds this edition from solutions/
)

# A file of the edition that still needs something of INSTRUCTORS_ONLY (checked after the build).
NEEDS_INSTRUCTORS = re.compile(
    r"^\s*(?:from|import)\s+(?:solutions|course_lib\.grade|course_lib\.gradebook|course_lib\.checks\.answers|"
    r"\.answers|make_exercises|make_student_edition)\b|^\s*from\s+(?:course_lib|\.)\s+import\s+.*"
    r"\b(?:grade|gradebook|answers)\b|[\"']solutions[\"']",
    re.MULTILINE)
NEEDS_INSTRUCTORS_EXEMPT = {"course_lib/checks/framework.py"}  # looks for solutions/, falls back

# Words that must not appear in the files that tell a student how to use the repository.
ADVERTISING = ("README.md", "Makefile", "pyproject.toml", "conftest.py")
INSTRUCTOR_WORDS = re.compile(r"solutions/|\"solutions\"|course_lib\.grade|grade\.py|gradebook|gradescope|"
                              r"make_exercises|make exercises|student-edition|student_edition|test_grade")

STUDENT_README_SECTION = """\
## Exercises

Fill in the functions of `exercises/exNN_*.py`; each notebook has check cells that say `✓ correct`
or what is wrong (which output is off, and by how much), and re-read your file every time, so no
kernel restart is needed. `pytest tests/test_exercises.py` runs every check on your `exercises/`
(`--exercises PATH` on another folder) and skips the functions you have not written yet.

A check runs your function on inputs drawn with the notebooks' seed and compares what it returns
with the reference answers stored in `course_lib/checks/reference_public.json`. Your work is graded
on other inputs: write the functions, not their outputs.

"""

STUDENT_TESTS = '''\
"""Your exercises against the course's checks: what you wrote must pass; what you have not is skipped.

    pytest tests/test_exercises.py                          # your exercises/
    pytest tests/test_exercises.py --exercises PATH         # the exNN_topic.py files in PATH

Each check compares your function's outputs with the reference answers stored for the notebooks'
seed (``course_lib/checks/reference_public.json``), as the notebooks' check cells do.
"""
import pytest

from course_lib.checks import NOT_WRITTEN, REGISTRY, exercise, reference_outputs, run_check

EXERCISES = sorted(REGISTRY)


@pytest.mark.parametrize("name", EXERCISES)
def test_exercise_passes_its_check(name, exercises_dir):
    passed, reason = run_check(name, exercises_dir)
    if reason == NOT_WRITTEN:
        pytest.skip(f"{name}: {reason}")
    assert passed, f"{name} in {exercises_dir}: {reason}"


@pytest.mark.parametrize("name", EXERCISES)
def test_every_check_has_its_stored_reference(name):
    want = reference_outputs(name)  # raises if reference_public.json lacks it
    exercise(name).compare(want, want)
'''


class EditionError(Exception):
    """A one-line reason the edition cannot be built, saying how to fix it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise EditionError(f"{message} (see --help)")


# ---------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------

def _git(*args: str, cwd: Path) -> str:
    try:
        run = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise EditionError("git is not installed; install git and run again")
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        raise EditionError(f"git {' '.join(args[:2])} failed in {cwd}: {last}")
    return run.stdout


def tracked_files(root: Path = ROOT) -> list[str]:
    """The paths ``git ls-files`` lists, relative to ``root`` (``EditionError`` outside a checkout)."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    except FileNotFoundError:
        raise EditionError("git is not installed; install git and run again")
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
        raise EditionError(f"{root} is not a git checkout of the course; run this from a clone")
    return [name for name in _git("ls-files", "-z", cwd=root).split("\0") if name]


def is_instructors_only(path: str) -> bool:
    return path.startswith(INSTRUCTORS_ONLY)


def check_out_folder(out: Path, root: Path = ROOT) -> Path:
    """``out`` resolved, if it is a new or empty folder outside ``root``; ``EditionError`` otherwise."""
    out = out.expanduser().resolve()
    if out == root or root in out.parents:
        raise EditionError(f"--out {out} lies inside this repository; choose a folder outside {root}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EditionError(f"--out {out} exists and is not empty; pass a new or empty folder")
    return out


def check_repo(repo: str, source_repo: str) -> str:
    if not REPO_PATTERN.fullmatch(repo):
        raise EditionError(f"--repo {repo!r} is not a GitHub owner/name such as {DEFAULT_REPO}")
    if repo.lower() == source_repo.lower():
        raise EditionError(f"--repo {repo} is the instructors' repository (course_lib/colab.py); "
                           "pass the student repository's owner/name")
    return repo


def source_repo(root: Path = ROOT) -> str:
    """``REPO`` of this repository's ``course_lib/colab.py``."""
    match = re.search(r'^REPO = "([^"]+)"', _read(root / "course_lib" / "colab.py"), re.MULTILINE)
    if not match:
        raise EditionError('course_lib/colab.py has no line REPO = "owner/name"; restore it')
    return match.group(1)


# ---------------------------------------------------------------------------------------------------
# Edits of the copied files
# ---------------------------------------------------------------------------------------------------

def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:  # line endings exactly as they are
        return f.read()


def _edit(path: Path, edit) -> None:
    """Rewrite ``path`` as ``edit(text)``."""
    text = edit(_read(path))
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def _sub_required(pattern: str, replacement: str, text: str, where: str, flags: int = 0) -> str:
    new, count = re.subn(pattern, replacement, text, flags=flags)
    if count == 0:
        raise EditionError(f"{where} no longer matches {pattern!r}; update tools/make_student_edition.py")
    return new


def point_at_repo(text: str, old: str, new: str) -> str:
    """Every ``github.com/<old>`` link (and the folder a README clone ``cd``s into) now names ``new``."""
    old_name, new_name = old.split("/")[1], new.split("/")[1]
    text = re.sub(rf"(git clone https://github\.com/){re.escape(old)}(\s*(?:&&|;)\s*cd\s+){re.escape(old_name)}\b",
                  rf"\g<1>{new}\g<2>{new_name}", text)
    return re.sub(rf"(github\.com/|colab\.research\.google\.com/github/){re.escape(old)}(?![\w.-])",
                  rf"\g<1>{new}", text)


def student_readme(text: str) -> str:
    """README.md without the instructors' parts: the grading section, the grader and solutions/."""
    text = _sub_required(r"^## Exercises and grading\n.*?(?=^## )", STUDENT_README_SECTION, text,
                         "README.md's section '## Exercises and grading'", re.MULTILINE | re.DOTALL)
    # The layout block: what it lists that the edition lacks (each line is checked afterwards).
    for pattern, replacement in [
        (r"probes judged against solutions/", "probes judged against stored reference answers"),
        (r"^(  grade/ gradebook\.py colab\.py +)the grader \(python -P -m course_lib\.grade\), class tables; Colab links",
         lambda match: "  colab.py".ljust(len(match.group(1))) + "Colab links"),
        (r"student stubs \(generated from solutions/ by `make exercises`\)", "your exercises: stubs to fill in"),
        (r"^solutions/ .*\n", ""),
        (r"make_exercises\.py, ", ""),
        (r";\n +gradescope/ \(setup\.sh, run_autograder\)", ""),
    ]:
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def student_makefile(text: str) -> str:
    """The Makefile without the targets that need solutions/ (``exercises``, ``student-edition``)."""
    for target in ("exercises", "student-edition"):
        # The target with its recipe and the comment lines right above it.
        text = _sub_required(rf"(?:^#[^\n]*\n)*^{re.escape(target)}:[^\n]*\n(?:\t[^\n]*\n)*\n?", "", text,
                             f"Makefile target {target}", re.MULTILINE)
        text = re.sub(rf"^(\.PHONY:.*) {re.escape(target)}(?=\s)", r"\1", text, flags=re.MULTILINE)
    for path in INSTRUCTORS_ONLY:  # test files named in a comment or on a recipe line (test-platforms)
        if path.startswith("tests/"):
            text = re.sub(rf"^#[^\n]*{re.escape(path)}[^\n]*\n", "", text, flags=re.MULTILINE)
            text = text.replace(f" {path}", "")
    return text


def student_pyproject(text: str) -> str:
    return _sub_required(r'(^packages = \[.*?), "solutions"', r"\1", text,
                         "pyproject.toml's packages list", re.MULTILINE)


def student_conftest(text: str) -> str:
    """``--exercises`` defaults to the student's own ``exercises/``."""
    text = _sub_required(r'default=str\(ROOT / "solutions"\)', 'default=str(ROOT / "exercises")', text,
                         "conftest.py's --exercises option")
    for old, new in [("(default: the reference solutions/)", "(default: exercises/)"),
                     ("(a student's copy of ``exercises/``) instead of the reference ``solutions/``",
                      "(default: your ``exercises/``)"),
                     ("default ``solutions/``", "default ``exercises/``")]:
        text = text.replace(old, new)
    return text


def student_durations(text: str, kept: set[str]) -> str:
    table = {name: sec for name, sec in json.loads(text).items() if name in kept}
    return json.dumps(table, indent=1) + "\n"


# ---------------------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------------------

def write_references(dest: Path, root: Path = ROOT) -> None:
    """``reference_public.json``: the references' probe outputs for the notebooks' seed only."""
    if str(root) not in sys.path:  # this repository's course_lib and solutions/, not an installed copy
        sys.path.insert(0, str(root))
    from course_lib.checks import framework

    if framework.solutions_dir() != root / "solutions" or not framework.solutions_dir().is_dir():
        raise EditionError(f"course_lib was imported from {framework.__file__}, not from {root}; "
                           "run the script with this repository's Python (make student-edition)")
    dest.write_text(json.dumps(framework.public_references(), separators=(",", ":")) + "\n", encoding="utf-8")


def check_nothing_needs_instructors(edition: Path) -> None:
    """``EditionError`` if a copied file still imports what the edition lacks, or talks about it."""
    for path in sorted(edition.rglob("*.py")):
        name = path.relative_to(edition).as_posix()
        match = NEEDS_INSTRUCTORS.search(_read(path))
        if match and name not in NEEDS_INSTRUCTORS_EXEMPT:
            raise EditionError(f"{name} needs {match.group(0).strip()!r}, which the student edition lacks; "
                               "exclude it too, or ship what it needs (INSTRUCTORS_ONLY in "
                               "tools/make_student_edition.py)")
    for name in ADVERTISING:
        for number, line in enumerate(_read(edition / name).splitlines(), start=1):
            if INSTRUCTOR_WORDS.search(line):
                raise EditionError(f"the edition's {name}:{number} still mentions instructors' files "
                                   f"({line.strip()[:80]!r}); update tools/make_student_edition.py")


def commit(edition: Path, message: str, root: Path = ROOT) -> None:
    """One commit on ``main`` holding the whole edition, by this repository's git identity if it has one."""
    identity = []
    for key, fallback in (("user.name", "Course staff"), ("user.email", "course-staff@users.noreply.github.com")):
        value = subprocess.run(["git", "config", key], cwd=root, capture_output=True, text=True).stdout.strip()
        identity += ["-c", f"{key}={value or fallback}"]
    for args in (["-c", "init.defaultBranch=main", "init", "-q"], ["add", "-A"],
                 [*identity, "commit", "-q", "-m", message]):
        _git(*args, cwd=edition)


def build(out: Path, repo: str = DEFAULT_REPO, root: Path = ROOT) -> Path:
    """Write the student edition to ``out`` (see the module docstring); return ``out`` resolved."""
    files = tracked_files(root)
    out = check_out_folder(out, root)
    old_repo = source_repo(root)
    repo = check_repo(repo, old_repo)
    out.parent.mkdir(parents=True, exist_ok=True)
    edition = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        kept = [name for name in files if not is_instructors_only(name) and (root / name).is_file()]
        for name in kept:
            (edition / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, edition / name, follow_symlinks=False)
        write_references(edition / REFERENCE_FILE, root)

        for name in kept:  # badges and setup cells of the notebooks (.py and .ipynb), README, ...
            if f"/{old_repo}".encode() in (edition / name).read_bytes():
                _edit(edition / name, lambda text: point_at_repo(text, old_repo, repo))
        _edit(edition / "course_lib/colab.py",
              lambda text: _sub_required(r'^REPO = "[^"]+"', f'REPO = "{repo}"', text,
                                         "course_lib/colab.py's REPO line", re.MULTILINE))
        _edit(edition / "README.md", student_readme)
        _edit(edition / "Makefile", student_makefile)
        _edit(edition / "pyproject.toml", student_pyproject)
        _edit(edition / "conftest.py", student_conftest)
        (edition / "tests" / "test_exercises.py").write_text(STUDENT_TESTS, encoding="utf-8")
        if (edition / "tests" / "durations.json").is_file():
            _edit(edition / "tests" / "durations.json",
                  lambda text: student_durations(text, {*kept, "tests/test_exercises.py"}))
        check_nothing_needs_instructors(edition)

        source = _git("rev-parse", "--short", "HEAD", cwd=root).strip()
        commit(edition, f"Student edition of the course (from {source})", root)
        if out.exists():
            out.rmdir()  # empty, checked above
        edition.rename(out)
    except BaseException:
        shutil.rmtree(edition, ignore_errors=True)
        raise
    return out


def main(argv=None) -> int:
    parser = _Parser(prog="make_student_edition", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="a new or empty folder outside this repository")
    parser.add_argument("--repo", default=DEFAULT_REPO,
                        help=f"GitHub owner/name of the student repository (default {DEFAULT_REPO})")
    try:
        args = parser.parse_args(argv)
        if args.out is None:
            raise EditionError("pass --out FOLDER (make student-edition OUT=FOLDER), a new or empty folder")
        out = build(args.out, args.repo)
    except EditionError as error:
        print(f"make_student_edition: {error}", file=sys.stderr)
        return 2
    dirty = _git("status", "--porcelain", "--untracked-files=no", cwd=ROOT).splitlines()
    note = f" (from uncommitted changes in {len(dirty)} tracked files)" if dirty else ""
    print(f"wrote the student edition to {out}{note}; its Colab links point at {args.repo}")
    print(f"publish it: cd {out} && git remote add origin https://github.com/{args.repo} && git push -u origin main")
    return 0


if __name__ == "__main__":
    sys.exit(main())
