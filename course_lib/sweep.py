"""Sweeps: the training CLI over a grid of tasks x configurations x seeds, stoppable and resumable.

    python -m course_lib.sweep --tasks cartpole_swingup walker_walk \\
        --configs mlp2 modern4 modern4+sn --seeds 0 1 2 --agent sac --obs pixels \\
        --frames 500000 --root runs/ [--executor local|ray] [--ray-address ADDR] [--workers N] \\
        [--gpus-per-run G] [--resume] [--dry-run] [-- extra train args, e.g. --device cuda]

Each grid point is one run directory, ``ROOT/AGENT-OBS/TASK/CONFIG/seed_S``, written by
``python -m course_lib.train`` (the run-directory contract). Before starting, the sweep reads each
run directory's ``config.json`` and gives the run a state:

- ``new`` (no ``config.json``): trained from scratch.
- ``complete`` with at least ``--frames`` frames done: skipped; finished work is never repeated.
- ``crashed`` (non-finite losses; the paper reports the performance before the crash, Sec. 3.1):
  skipped. A crash is a result, not something to retry.
- ``interrupted`` (status ``running``: Ctrl-C, a killed job, a process that failed) and
  ``shorter`` (complete, but with a smaller budget than ``--frames``): continued with
  ``train --resume`` (from ``checkpoint.pt``; from scratch in the same directory if no checkpoint
  was written yet) when the sweep is given ``--resume``; otherwise left untouched and listed, so
  that nothing is thrown away without being asked.

So Ctrl-C, then the same command with ``--resume``, neither loses nor repeats work. Each run is
tried at most once per sweep: a process that fails is recorded (``ROOT/sweep_log.jsonl``; its
output is in ``RUN_DIR/sweep_output.log``) and the sweep goes on. Do not point two sweeps at one
root at the same time.

Executors (no scheduler of our own): ``local`` runs up to ``--workers`` training processes at once
(``concurrent.futures`` + ``subprocess``); ``ray`` makes each run a Ray task (``--gpus-per-run``,
``--cpus-per-run`` reserve resources), on the cluster at ``--ray-address`` or on a local Ray
instance. On a cluster the root must be a shared file system and ``course_lib`` installed on every
node. Configuration strings: see :func:`course_lib.results.parse_config` (``mlp2``, ``modern4+sn``).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from tqdm.auto import tqdm

from course_lib.results import CONFIG_HELP, parse_config

AGENTS = ("sac", "ddpg")
OBS = ("state", "pixels")
EXECUTORS = ("local", "ray")
TRAIN_MODULE = "course_lib.train"
LOG_NAME = "sweep_log.jsonl"
OUTPUT_NAME = "sweep_output.log"
POLL_SECONDS = 5.0  # how often the frames bar reads the run directories
_TASK_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")

# What a run directory's state means for the sweep (see module docstring).
DONE_STATES = ("complete", "crashed")  # never run again
RESUME_STATES = ("interrupted", "shorter")  # run again only with --resume


@dataclass
class Run:
    """One grid point: where it lives, how it is trained, and what happened to it."""

    task: str
    config: str
    seed: int
    out: Path
    args: list[str]  # everything after ``python``: -m MODULE --agent ... --out DIR [--resume] [extra]
    state: str = "new"  # before the sweep: new / complete / crashed / interrupted / shorter
    todo: bool = True  # will this sweep start it? (new; interrupted/shorter with --resume)
    returncode: int | None = None
    result: str | None = None  # after the sweep: complete / crashed / failed (None: not finished)
    detail: str = ""
    frames: int = 0  # the run's frame budget (for the frames progress bar)

    @property
    def command(self) -> list[str]:
        return [sys.executable, *self.args]

    def display(self) -> str:
        """The command as a user would type it (``python`` rather than this machine's path)."""
        return shlex.join(["python", *self.args])


def run_dir(root: str | Path, agent: str, obs: str, task: str, config: str, seed: int) -> Path:
    """``root/agent-obs/task/config/seed_S``: one directory per grid point."""
    return Path(root) / f"{agent}-{obs}" / task / config / f"seed_{seed}"


def run_state(out: str | Path, frames: int) -> str:
    """``new``, ``complete``, ``crashed``, ``interrupted`` or ``shorter`` (complete, fewer frames)."""
    path = Path(out) / "config.json"
    if not path.exists():
        return "new"
    try:
        cfg = json.loads(path.read_text())
    except json.JSONDecodeError:  # torn write of a killed run: train rewrites it
        return "interrupted"
    status = cfg.get("status")
    if status == "crashed":
        return "crashed"
    if status == "complete":  # a longer run also holds the curve up to this budget
        return "complete" if int(cfg.get("frames_done") or 0) >= int(frames) else "shorter"
    return "interrupted"


def _check_grid(tasks, configs, seeds, agent, obs, frames) -> None:
    if agent not in AGENTS:
        raise ValueError(f"agent {agent!r}: choose one of {', '.join(AGENTS)}")
    if obs not in OBS:
        raise ValueError(f"obs {obs!r}: choose one of {', '.join(OBS)}")
    if not tasks or not configs or not seeds:
        raise ValueError("a sweep needs at least one task, one configuration and one seed")
    for task in tasks:
        if not _TASK_RE.match(task):
            raise ValueError(f"task {task!r}: write dm_control tasks as domain_task with underscores, "
                             "e.g. cartpole_swingup, ball_in_cup_catch, walker_walk")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed {seed!r}: seeds are non-negative integers")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames <= 0:
        raise ValueError(f"frames {frames!r}: a positive number of environment frames, e.g. 500000")


def plan(tasks: Sequence[str], configs: Sequence[str], seeds: Sequence[int], *, agent: str = "sac",
         obs: str = "pixels", frames: int = 500_000, root: str | Path = "runs",
         resume: bool = False, train_module: str = TRAIN_MODULE,
         train_args: Sequence[str] = ()) -> list[Run]:
    """The grid (tasks x configs x seeds, duplicates removed), each run with its state and command.

    ``train_args`` are appended to every training command (e.g. ``["--device", "cuda"]``).
    ``resume``: continue interrupted and shorter runs (``train --resume``); without it they are
    left as they are (``todo=False``). Unknown configuration strings raise ValueError
    (:func:`course_lib.results.parse_config`).
    """
    tasks, configs, seeds = (list(dict.fromkeys(x)) for x in (tasks, configs, seeds))
    _check_grid(tasks, configs, seeds, agent, obs, frames)
    parsed = {c: parse_config(c) for c in configs}
    runs = []
    for task in tasks:
        for config, head in parsed.items():
            for seed in seeds:
                out = run_dir(root, agent, obs, task, config, seed)
                state = run_state(out, frames)
                args = ["-m", train_module, "--agent", agent, "--obs", obs, "--task", task,
                        "--arch", head["arch"], "--depth", str(head["depth"]),
                        "--sn" if head["sn"] else "--no-sn", *_modifier_args(head), "--frames", str(frames),
                        "--seed", str(seed), "--out", str(out)]
                todo = state == "new" or (resume and state in RESUME_STATES)
                if todo and state in RESUME_STATES:
                    args.append("--resume")  # train refuses to overwrite a run without it
                runs.append(Run(task, config, seed, out, args + list(train_args), state, todo,
                                frames=frames))
    return runs


def _modifier_args(head: dict) -> list[str]:
    """Training options for a configuration's modifiers beyond ``+sn`` (``results.CONFIG_MODIFIERS``)."""
    args = []
    if "actor_sn" in head:
        args.append("--actor-sn" if head["actor_sn"] else "--no-actor-sn")
    if head.get("fixed_alpha"):
        args.append("--fixed-alpha")
    if head.get("sigma_scaled_steps"):
        args.append("--sigma-scaled-steps")
    return args


def frames_reached(out: str | Path) -> int:
    """How far a run has got, from its files: the larger of ``config.json``'s ``frames_done`` (it
    follows checkpoints) and the last frame in ``eval.csv``; 0 for a run not started. Reads files
    only, so it works for runs on other machines too (Ray, with the root on a shared file system)."""
    out = Path(out)
    reached = 0
    try:
        reached = int(json.loads((out / "config.json").read_text()).get("frames_done") or 0)
    except (OSError, ValueError, TypeError):  # not written yet, or being rewritten
        pass
    try:
        with open(out / "eval.csv", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 256))
            lines = f.read().decode(errors="replace").splitlines()
        for line in reversed(lines[1:] if len(lines) > 1 else lines):
            first = line.split(",")[0]
            if first.isdigit():
                reached = max(reached, int(first))
                break
    except OSError:
        pass
    return reached


# --------------------------------------------------------------------------- running one run
def _execute(args: Sequence[str], out: str, procs: set | None = None,
             lock: threading.Lock | None = None, stop: threading.Event | None = None) -> int | None:
    """Run ``python ARGS`` (this interpreter), output appended to ``out/sweep_output.log``.

    Returns the exit code, or None when ``stop`` was set before it started. Used by both executors
    (a Ray task calls it on a worker node, with that node's Python).
    """
    if stop is not None and stop.is_set():
        return None
    Path(out).mkdir(parents=True, exist_ok=True)
    with open(Path(out) / OUTPUT_NAME, "ab") as log:
        log.write(f"\n=== {_now()} {shlex.join(['python', *args])}\n".encode())
        log.flush()
        # Under the lock: Ctrl-C (which sets ``stop`` under it too) either sees this process or stops it starting.
        with lock or contextlib.nullcontext():
            if stop is not None and stop.is_set():
                return None
            proc = subprocess.Popen([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT)
            if procs is not None:
                procs.add(proc)
        try:
            return proc.wait()
        except BaseException:  # Ray's cancel raises KeyboardInterrupt here: take the child down too
            _stop_process(proc)
            raise
        finally:
            if procs is not None:
                with lock:
                    procs.discard(proc)


def _stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def _record(run: Run, returncode: int | None, root: Path) -> None:
    """Classify a finished process by what its run directory says, and log it."""
    run.returncode = returncode
    path = run.out / "config.json"
    status = None
    if path.exists():
        try:
            status = json.loads(path.read_text()).get("status")
        except json.JSONDecodeError:
            status = None
    if status in ("complete", "crashed"):
        run.result = status  # a crash is the training's own verdict (non-finite loss): a result
        if returncode:
            run.detail = f"exit code {returncode}"
    else:
        run.result = "failed"
        run.detail = (f"exit code {returncode}, config.json status {status!r}; "
                      f"see {run.out / OUTPUT_NAME}")
    with open(root / LOG_NAME, "a") as log:
        log.write(json.dumps(dict(time=_now(), run_dir=str(run.out), task=run.task, config=run.config,
                                  seed=run.seed, command=run.display(), returncode=returncode,
                                  result=run.result)) + "\n")


# --------------------------------------------------------------------------- executors
def _local(todo: list[Run], workers: int, finished: Callable[[Run, int | None], None],
           tick: Callable[[], None] = lambda: None) -> None:
    stop, lock, procs = threading.Event(), threading.Lock(), set()
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = {pool.submit(_execute, run.args, str(run.out), procs, lock, stop): run for run in todo}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                finished(futures[fut], fut.result())
            tick()
    except BaseException:  # Ctrl-C: start nothing new, stop what runs (train checkpoints atomically)
        for fut in futures:
            fut.cancel()
        with lock:
            stop.set()
            running = list(procs)
        for proc in running:
            _stop_process(proc)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ray(todo: list[Run], address: str | None, workers: int, cpus_per_run: float,
         gpus_per_run: float, finished: Callable[[Run, int | None], None],
         tick: Callable[[], None] = lambda: None) -> None:
    try:
        import ray
    except ImportError:
        raise ValueError("--executor ray needs Ray, an optional dependency: "
                         "pip install 'ray[default]>=2.9'") from None
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # a local Ray instance sized like the local executor
            ray.init(num_cpus=max(workers, int(cpus_per_run) or 1), include_dashboard=False,
                     log_to_driver=False)
    task = ray.remote(_execute).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)
    # Absolute paths: a Ray worker's working directory is not ours.
    refs = {task.remote(_absolute_out(run), str(run.out.resolve())): run for run in todo}
    try:
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1, timeout=0.5)
            for ref in done:
                try:
                    returncode = ray.get(ref)
                except ray.exceptions.RayError as err:  # the task itself died (node lost, ...)
                    print(f"ray task for {refs[ref].out} failed: {err}", file=sys.stderr)
                    returncode = -1
                finished(refs[ref], returncode)
            tick()
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=False)  # raises KeyboardInterrupt in _execute: it stops its child
        raise
    finally:
        if started_here:
            ray.shutdown()


def _absolute_out(run: Run) -> list[str]:
    args = list(run.args)
    i = args.index("--out")
    args[i + 1] = str(Path(args[i + 1]).resolve())
    return args


def execute(runs: list[Run], *, root: str | Path, executor: str = "local", workers: int | None = None,
            ray_address: str | None = None, cpus_per_run: float = 1, gpus_per_run: float = 0,
            progress: bool = True) -> list[Run]:
    """Start every run with ``todo``; fill in ``result`` (complete / crashed / failed), ``returncode``.

    Ctrl-C stops the running processes and re-raises ``KeyboardInterrupt``; unfinished runs then
    have ``result = None``.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if cpus_per_run < 0 or gpus_per_run < 0:
        raise ValueError("--cpus-per-run and --gpus-per-run cannot be negative")
    if gpus_per_run and executor != "ray":
        raise ValueError("--gpus-per-run reserves GPUs for Ray tasks (--executor ray); the local "
                         "executor runs every process on this machine's default device "
                         "(bound GPU sharing with --workers)")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    todo = [run for run in runs if run.todo]
    # Only ever *disable* explicitly: an explicit disable=False would override TQDM_DISABLE=1.
    bar = tqdm(total=len(todo), desc="runs", unit="run", **({} if progress else {"disable": True}))
    # A second bar for the frames of all runs together (runs take hours at the paper's budgets):
    # polled from the run directories every few seconds, so it has an honest rate and ETA.
    def frames_so_far() -> int:
        return sum(run.frames if run.result in DONE_STATES else min(frames_reached(run.out), run.frames)
                   for run in todo)

    frames_bar = tqdm(total=sum(run.frames for run in todo), initial=frames_so_far() if progress else 0,
                      desc="frames", unit="frame", unit_scale=True, **({} if progress else {"disable": True}))
    last_poll = time.monotonic()
    counts = {"complete": 0, "crashed": 0, "failed": 0}

    def tick(force: bool = False) -> None:
        nonlocal last_poll
        if frames_bar.disable or (not force and time.monotonic() - last_poll < POLL_SECONDS):
            return
        last_poll = time.monotonic()
        frames_bar.update(frames_so_far() - frames_bar.n)

    def finished(run: Run, returncode: int | None) -> None:
        if returncode is None:  # never started (stopped before its turn)
            return
        _record(run, returncode, root)
        counts[run.result] = counts.get(run.result, 0) + 1
        bar.set_postfix(counts, refresh=False)
        bar.update(1)
        if run.result == "failed":
            bar.write(f"failed: {run.out} ({run.detail})")

    try:
        if todo and executor == "local":
            _local(todo, workers, finished, tick)
        elif todo:
            _ray(todo, ray_address, workers, cpus_per_run, gpus_per_run, finished, tick)
    finally:
        tick(force=True)
        frames_bar.close()
        bar.close()
    return runs


def report(runs: Iterable[Run]) -> str:
    """One line of counts, e.g. ``6 runs: 2 skipped (complete before), 3 complete, 1 crashed``."""
    runs = list(runs)
    ran = [r for r in runs if r.todo]
    parts = [f"{len(runs)} runs"]
    for state in DONE_STATES + RESUME_STATES:
        n = sum(r.state == state and not r.todo for r in runs)
        if n:
            parts.append(f"{n} skipped ({state} before)" if state in DONE_STATES
                         else f"{n} {state} left as they are (add --resume to continue them)")
    for result in ("complete", "crashed", "failed"):
        n = sum(r.result == result for r in ran)
        if n:
            parts.append(f"{n} {result}")
    n = sum(r.result is None for r in ran)
    if n:
        parts.append(f"{n} not finished")
    return parts[0] + ": " + ", ".join(parts[1:]) if len(parts) > 1 else parts[0]


# --------------------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m course_lib.sweep",
        description="Train a grid of tasks x configurations x seeds with python -m course_lib.train. "
                    "Finished runs are skipped, so after an interruption re-run the same command "
                    "with --resume.",
        epilog="Arguments after a bare -- go to every training command, e.g. -- --device cuda. "
               "Configurations: " + CONFIG_HELP + ".")
    p.add_argument("--tasks", nargs="+", required=True, help="dm_control tasks, e.g. cartpole_swingup walker_walk")
    p.add_argument("--configs", nargs="+", required=True, help="head configurations, e.g. mlp2 modern4 modern4+sn")
    p.add_argument("--seeds", nargs="+", type=int, required=True, help="seeds, e.g. 0 1 2 (or $(seq 0 9))")
    p.add_argument("--agent", choices=AGENTS, default="sac", help="sac (DrQ) or ddpg (DrQ-v2) (default: sac)")
    p.add_argument("--obs", choices=OBS, default="pixels", help="observations (default: pixels, as the paper)")
    p.add_argument("--frames", type=int, default=500_000, help="environment frames per run (paper: 500000)")
    p.add_argument("--root", default="runs", help="where run directories go (default: runs)")
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local processes (default) or Ray tasks (pip install 'ray[default]')")
    p.add_argument("--workers", type=int, default=None,
                   help="local: processes at once (default: number of cores); ray: CPUs of a local Ray instance")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: start a local instance)")
    p.add_argument("--cpus-per-run", type=float, default=1, help="ray: CPUs reserved per run (default 1)")
    p.add_argument("--gpus-per-run", type=float, default=0, help="ray: GPUs reserved per run (e.g. 1 or 0.5)")
    p.add_argument("--resume", action="store_true",
                   help="continue interrupted runs (and complete runs with fewer frames) with train "
                        "--resume; without it they are left as they are")
    p.add_argument("--dry-run", action="store_true", help="print what would run, run nothing")
    p.add_argument("--train-module", default=TRAIN_MODULE, help=argparse.SUPPRESS)  # tests use a fake
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    train_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = _parser()
    args = parser.parse_args(argv)
    runs: list[Run] = []
    try:
        runs = plan(args.tasks, args.configs, args.seeds, agent=args.agent, obs=args.obs,
                    frames=args.frames, root=args.root, resume=args.resume,
                    train_module=args.train_module, train_args=train_args)
        if args.dry_run:
            for run in runs:
                if run.todo:
                    print(run.display() + ("" if run.state == "new" else f"  # {run.state}"))
                else:
                    print(f"# skip ({run.state}): {run.out}")
            n_todo = sum(r.todo for r in runs)
            print(f"# {len(runs)} runs, {n_todo} to run, {len(runs) - n_todo} skipped")
            return 0
        execute(runs, root=args.root, executor=args.executor, workers=args.workers,
                ray_address=args.ray_address, cpus_per_run=args.cpus_per_run,
                gpus_per_run=args.gpus_per_run, progress=not args.no_progress)
    except ValueError as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except KeyboardInterrupt:
        print(f"\ninterrupted: {report(runs)}. Re-run the same command with --resume to continue; "
              "finished runs are skipped.", file=sys.stderr)
        return 130
    print(report(runs))
    print(f"tables and figures beside the paper's: python -m course_lib.report {args.root}")
    failed = [r for r in runs if r.result == "failed"]
    for run in failed:
        print(f"failed: {run.out}: {run.detail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
