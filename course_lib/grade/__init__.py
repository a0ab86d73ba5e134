"""Grade exercises so that no submission can raise its own grade by what its code does.

    python -P -m course_lib.grade PATH [--seed N|fresh] [--timeout S] [--only PREFIX] [--csv F] [--json F]
    python -P -m course_lib.grade CLASS_FOLDER --batch [--csv F] [--json DIR] [--jobs N] ...

(the command line is ``course_lib/grade/__main__.py``; batches are :mod:`course_lib.gradebook`)

PATH is a folder holding one student's ``exNN_topic.py`` files (a copy of ``exercises/``; the
files may sit in one sub-folder, as in an unpacked zip). The grader prints a table (exercise,
points, result, reason) and the total; ``--csv`` writes the table, ``--json`` writes Gradescope's
autograder ``results.json``. With ``--batch``, PATH holds one folder per student: the grader writes
one row per student (``course_lib.gradebook``) and never stops on a bad submission.

How a grade is made (``course_lib.checks`` explains probes):

1. The grader reads the submission's files into memory and, before any student code runs,
   computes every reference output ``probe(solutions_fn, rng(seed))`` in its own process.
2. Each exercise runs in a fresh child process (forked from a "forkserver" that has imported
   NumPy, PyTorch and the course once): the child executes the student's text, runs the probe on
   the student's function and writes back only plain data as JSON (arrays as base64 numbers),
   within a time limit, a size cap and a memory cap (``MEMORY_LIMIT``). Its prints are kept up to ``OUTPUT_CAP`` characters.
3. The grader decodes that data (no pickle: nothing in it can run) and compares it with the
   reference in its own process. Whatever the child does to itself (patch the checks, NumPy or
   PyTorch, write to the pipe, exit early, print "correct") changes only the data it sends, and
   data that does not match the reference earns nothing.

``--seed N`` changes every probe's inputs (the notebooks' check cells use seed 0), so hard-coded
answers fail. The children share the grader's file system and user; on a shared grading machine
pass ``--child-user nobody`` (as root) so that student code cannot read ``solutions/`` or touch
the grader (see README, "Exercises and grading").
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import select
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

OUTPUT_CAP = 2_000  # characters of the student's printed output kept per exercise
MEMORY_LIMIT = 4 * 2**30  # bytes of address space a child may add to what the forkserver holds
MAX_FILE = 1_000_000  # bytes of one submitted file
MAX_SUBMISSION = 4_000_000  # bytes of all of a submission's files together
MAX_MESSAGE = 20_000_000  # bytes a child may send back (the probe data is capped at 16 MB)
# Imported once in the forkserver, so children start warm and never import course code from a
# disk that an earlier submission could have written to.
PRELOAD = ["course_lib.grade.reaper", "numpy", "torch", "pandas", "course_lib.checks",
           "course_lib.checks.answers", "course_lib.mdp", "course_lib.nets", "course_lib.spectral",
           "course_lib.lipschitz", "course_lib.augment", "course_lib.results", "course_lib.diagnostics",
           "course_lib.agents.common", "course_lib.agents.sac", "course_lib.agents.ddpg",
           "course_lib.tabular", "course_lib.power_gap", "course_lib.layernorm_spread", "course_lib.stats",
           "course_lib.toy_instability", "course_lib.value_estimates"]  # all that answers.py stubs


class GradingError(ValueError):
    """Bad input to the grader (not a folder, no files, unknown exercise, bad option)."""


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

    def write(self, text) -> int:
        text = str(text)
        if self.total < self.cap:
            self.kept.append(text[: self.cap - self.total])
        self.total += len(text)
        return len(text)


# ---------------------------------------------------------------------------------------------------
# The child: runs student code, sends data
# ---------------------------------------------------------------------------------------------------

def _drop_privileges(user: str) -> None:
    import pwd

    entry = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)


def _limit_memory(extra: int) -> None:
    """Cap the child's address space at its current size plus ``extra`` (a MemoryError beyond)."""
    import resource

    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (current + extra, current + extra))
    except (OSError, ValueError):
        pass  # no /proc (macOS): no cap


def _run_in_child(name: str, files: dict, seed: int, conn, user: str | None) -> None:
    """Child process: run one probe on the student's code, write one JSON message, exit."""
    fd = conn.fileno()
    # The child inherits the forkserver's and resource tracker's pipes: close everything but the
    # result pipe, so that student code cannot reach (or break) what other exercises rely on.
    os.closerange(3, fd)
    os.closerange(fd + 1, max(fd + 2, os.sysconf("SC_OPEN_MAX")))
    os.setpgid(0, 0)  # its own process group: the grader kills whatever the student started too
    # Output written straight to the file descriptors (C code, os.write, subprocesses) goes nowhere;
    # Python-level prints land in the capped buffer.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    captured = _CappedText(OUTPUT_CAP)
    sys.stdout = sys.stderr = captured
    try:
        _limit_memory(MEMORY_LIMIT)
        if user:
            _drop_privileges(user)
        os.chdir(tempfile.mkdtemp(prefix="grade-"))
        from course_lib.checks import student_result
        from course_lib.checks.answers import stub_answers

        stub_answers(name)  # the library's own answers now raise "write it yourself" when called

        result = student_result(name, files, seed)
        message = json.dumps({"result": result, "output": captured.text(), "printed": captured.total})
    except BaseException as error:  # noqa: BLE001  (the message must still go out)
        message = json.dumps({"result": {"status": "failed", "reason": f"grader child: {error!r:.200}"},
                              "output": "", "printed": 0})
    data = message.encode()
    if len(data) > MAX_MESSAGE:
        data = json.dumps({"result": {"status": "failed", "reason": "the output is too large to send"},
                           "output": "", "printed": 0}).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os._exit(0)  # no atexit handlers, no threads of the student's: nothing more reaches the pipe


# ---------------------------------------------------------------------------------------------------
# Nothing a submission starts outlives its exercise (Linux)
# ---------------------------------------------------------------------------------------------------
# A child can start processes that leave its process group (fork, setsid, fork again). The
# forkserver, which every child is forked from, is a *subreaper* (course_lib.grade.reaper, in
# PRELOAD): every such orphan is re-parented to it rather than to init. So after each exercise the
# grader finds them among the forkserver's children (any child that is not a running exercise) and
# kills them with everything below them. Elsewhere (macOS) only the child's process group is killed.

_running: set[int] = set()  # pids of the exercise children running now (several with --jobs)
_running_lock = threading.Lock()


def _process_table() -> dict[int, tuple[int, str]]:
    """``{pid: (parent pid, state letter)}`` of every process, from ``/proc`` (empty without it)."""
    table: dict[int, tuple[int, str]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        table[int(entry)] = (int(fields[1]), fields[0].decode())
    return table


def _forkserver_pid() -> int | None:
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)


def kill_strays() -> int:
    """SIGKILL every child of the forkserver that is not a running exercise, with all its
    descendants. Returns how many were found. Repeats until only dead ones are left: killing a
    process re-parents its children to the forkserver, which reaps the dead."""
    server, found = _forkserver_pid(), 0
    if server is None:
        return 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # Under the lock: no exercise can be forked between reading the table and the running set.
        with _running_lock:
            table = _process_table()
            children: dict[int, list[int]] = {}
            for pid, (parent, _) in table.items():
                children.setdefault(parent, []).append(pid)
            strays = [pid for pid in children.get(server, []) if pid not in _running and table[pid][1] != "Z"]
            found += len(strays)
            todo = list(strays)
            while todo:  # the whole subtree, parents first (a killed parent cannot fork again)
                pid = todo.pop()
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                todo.extend(children.get(pid, []))
        if not strays:
            break
        time.sleep(0.01)
    return found


# ---------------------------------------------------------------------------------------------------
# The grader's side
# ---------------------------------------------------------------------------------------------------

def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        from multiprocessing import forkserver

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        forkserver.ensure_running()  # starts importing now, while the grader computes references
        return context
    return multiprocessing.get_context("spawn")  # Windows: slower start, same isolation


def _read_until_eof(fd: int, child, deadline: float) -> tuple[bytes, str | None]:
    """Everything the child writes until EOF; ``(data, problem)`` with problem on timeout/overflow."""
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), "timeout"
        ready, _, _ = select.select([fd], [], [], min(left, 0.25))
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks), None
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_MESSAGE:
                return b"", "too large"
        elif not child.is_alive():
            # Dead, yet the pipe is open: a process the student started holds it. Take what is there.
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                return b"".join(chunks), None


def grade_one(name: str, files: dict, timeout: float, seed: int = 0, want=None, context=None,
              child_user: str | None = None) -> Grade:
    """Grade exercise ``name`` on a submission ``files`` (``{module: text}``, or a folder)."""
    from course_lib.checks import exercise, judge

    ex = exercise(name)
    timeout = max(timeout, ex.timeout or 0)  # an exercise that trains an agent needs longer
    if not isinstance(files, dict):
        files = read_submission(files)
    context = context or _context()
    for attempt in range(5):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_run_in_child, args=(name, files, seed, send, child_user), daemon=True)
        try:
            with _running_lock:  # a running exercise, never taken for a stray (kill_strays)
                child.start()
                _running.add(child.pid)
            break
        except OSError:  # the forkserver died (a student can kill it): it restarts on the next start
            receive.close()
            send.close()
            if attempt == 4:
                return Grade(name, ex.points, False, "the grader could not start a process for it")
            time.sleep(0.5)
    send.close()  # the child holds the only sending end: EOF on our side means it is done
    try:
        data, problem = _read_until_eof(receive.fileno(), child, time.monotonic() + timeout)
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        child.join()
        receive.close()
        with _running_lock:
            _running.discard(child.pid)
        kill_strays()  # whatever the submission started, gone before the next exercise
    if problem == "timeout":
        return Grade(name, ex.points, False, f"timed out after {timeout:g} s (an endless loop?)")
    if problem == "too large":
        return Grade(name, ex.points, False, f"sent back more than {MAX_MESSAGE:,} bytes")
    if not data:
        return Grade(name, ex.points, False, f"crashed (exit code {child.exitcode}) without a result")
    try:
        message = json.loads(data)
        result, output, printed = message["result"], str(message["output"]), int(message["printed"])
    except (ValueError, TypeError, KeyError, RecursionError):
        return Grade(name, ex.points, False, "sent back a malformed result (something else wrote to "
                     "the grader's pipe)")
    passed, reason = judge(name, result, seed, want=want)
    if printed > OUTPUT_CAP:
        reason += f" (printed {printed:,} characters; kept the first {OUTPUT_CAP:,})"
    return Grade(name, ex.points, passed, reason, output[:OUTPUT_CAP])


def find_submission(path: str | Path) -> Path | None:
    """The folder of ``path`` that holds ``ex*.py`` files (itself, or one nested a few levels down).

    Symbolic links are not followed: a submission cannot point the grader at other files.
    """
    path = Path(path)
    for depth in range(4):
        for folder in sorted([path] if depth == 0 else path.glob("/".join(["*"] * depth))):
            below = folder.relative_to(path).parts
            if any((path.joinpath(*below[: i + 1])).is_symlink() for i in range(len(below))):
                continue
            if folder.is_dir() and not folder.name.startswith((".", "__")) and any(folder.glob("ex*.py")):
                return folder
    return None


def _source_of(file: Path) -> str:
    """A submitted file's text; for a link, a special or an oversized file, code saying so."""
    if file.is_symlink() or not file.is_file():
        problem = "is a link or not a regular file"
    elif file.stat().st_size > MAX_FILE:
        problem = f"is {file.stat().st_size:,} bytes (more than {MAX_FILE:,})"
    else:
        return file.read_text(errors="replace")
    return f"raise ImportError({f'{file.name} {problem}; submit the plain file'!r})\n"


def exercise_modules() -> list[str]:
    """The module names a submission may hold (``ex01_mdp`` ...): those of registered exercises."""
    from course_lib.checks import REGISTRY

    return sorted({ex.module for ex in REGISTRY.values()})


def read_submission(path: str | Path) -> dict[str, str]:
    """``{module: text}`` of the submission in ``path``; ``GradingError`` if there is none.

    Only the registered exercise modules are read (other files are ignored, whatever their size),
    at most ``MAX_FILE`` bytes each and ``MAX_SUBMISSION`` in all.
    """
    path = Path(path)
    if not path.is_dir():
        raise GradingError(f"{path} is not a folder; pass the folder holding the student's exNN_*.py files")
    folder = find_submission(path)
    if folder is None:
        raise GradingError(f"{path} holds no exNN_topic.py files; pass the folder of a student's exercises")
    files = {name: _source_of(folder / f"{name}.py") for name in exercise_modules()
             if (folder / f"{name}.py").exists() or (folder / f"{name}.py").is_symlink()}
    if not files:
        raise GradingError(f"{folder} holds none of the exercise files ({', '.join(exercise_modules())})")
    size = sum(len(text.encode()) for text in files.values())
    if size > MAX_SUBMISSION:
        raise GradingError(f"the submission's exercise files hold {size:,} bytes, more than {MAX_SUBMISSION:,}")
    return files


def select_exercises(only: str | None = None) -> list[str]:
    from course_lib.checks import REGISTRY

    names = [name for name in REGISTRY if only is None or name.startswith(only)]
    if not names:
        raise GradingError(f"no exercise name starts with {only!r}; registered: {', '.join(REGISTRY)}")
    return names


def fresh_seed() -> int:
    """A new private seed for one grading run (never 0, the notebooks' public seed; never printed)."""
    import secrets

    return secrets.randbelow(2**31 - 2) + 1


def write_private(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file only its owner can read, moved into place
    with ``os.replace``: no one can write into it half-way, or swap it between writing and moving."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_options(timeout: float, seed: int, jobs: int = 1) -> None:
    if not timeout > 0:
        raise GradingError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if seed < 0:
        raise GradingError(f"--seed must be a non-negative integer, got {seed}")
    if jobs < 1:
        raise GradingError(f"--jobs must be at least 1, got {jobs}")


def reference_data(names: list[str], seed: int) -> dict:
    """The reference outputs of ``names`` for ``seed``, computed here before any student code runs.

    Each compare also runs once on the reference itself, which imports whatever it needs now.
    """
    from course_lib.checks import exercise, reference_outputs

    wants = {}
    for name in names:
        wants[name] = reference_outputs(name, seed)
        exercise(name).compare(wants[name], wants[name])
    return wants


def grade(source: str | Path | dict, timeout: float = 60.0, only: str | None = None, seed: int = 0,
          jobs: int = 1, child_user: str | None = None, wants: dict | None = None) -> list[Grade]:
    """Grade every registered exercise (or those whose name starts with ``only``) of one submission."""
    check_options(timeout, seed, jobs)
    names = select_exercises(only)
    files = source if isinstance(source, dict) else read_submission(source)
    context = _context()
    wants = wants if wants is not None else reference_data(names, seed)

    def one(name):
        return grade_one(name, files, timeout, seed, wants[name], context, child_user)

    try:
        if jobs == 1:
            return [one(name) for name in names]
        with ThreadPoolExecutor(jobs) as pool:
            return list(pool.map(one, names))
    finally:
        kill_strays()


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
