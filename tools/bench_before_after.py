"""Time the code of an earlier commit beside the working tree's, alternating, on the same machine.

    python tools/bench_before_after.py --rev 4856108 --rounds 3 -- \\
        --agent sac --obs state --arch modern --depth 8 --sn --hidden-dim 128 --batch 128 --repeats 100

Checks the commit out (``git worktree``, into a temporary folder that is removed afterwards) and
runs ``python -m course_lib.bench_update ARGS`` once with that code and once with this tree's,
``--rounds`` times in turn, one torch thread each (``OMP_NUM_THREADS=1``). Alternating is what
makes the comparison fair on a machine whose speed drifts (shared cores, a VM): both sides see
the same drift. Prints each run's line and, at the end, the median CPU time per update of each
side and their ratio, and the same for the fastest single update (the least disturbed one: on a
noisy machine the two can differ by 2x). Benchmarks only; nothing is stored.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_MS = re.compile(r"CPU time ([0-9.]+) ms")
MIN_MS = re.compile(r"min ([0-9.]+),")


def run_bench(code_root: Path, args: list[str]) -> tuple[str, float, float]:
    """One ``course_lib.bench_update`` run with the package found in ``code_root``.

    Returns its line, the median CPU ms per update and the fastest update's wall ms.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(code_root)}
    out = subprocess.run([sys.executable, "-m", "course_lib.bench_update", "--device", "cpu", *args],
                         cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench_update failed with the code in {code_root}: {out.stderr.strip()}")
    line = out.stdout.strip().splitlines()[-1]
    return line, float(CPU_MS.search(line).group(1)), float(MIN_MS.search(line).group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the earlier commit (any git revision)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations (default: 3)")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="after --: course_lib.bench_update's arguments")
    args = parser.parse_args(argv)
    bench_args = args.bench_args[1:] if args.bench_args[:1] == ["--"] else args.bench_args
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.rev],
                              capture_output=True, text=True)
        if made.returncode != 0:
            parser.error(f"cannot check out {args.rev!r}: {made.stderr.strip()}")
        try:
            times, fastest = {"before": [], "after": []}, {"before": [], "after": []}
            for round_ in range(1, args.rounds + 1):
                for side, code in (("before", before), ("after", ROOT)):
                    line, cpu_ms, min_ms = run_bench(code, bench_args)
                    times[side].append(cpu_ms)
                    fastest[side].append(min_ms)
                    print(f"round {round_} {side:6s} {line}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                           capture_output=True)
    b, a = statistics.median(times["before"]), statistics.median(times["after"])
    print(f"median CPU time per update: before ({args.rev}) {b:.1f} ms, after {a:.1f} ms; after/before {a / b:.2f}")
    fb, fa = min(fastest["before"]), min(fastest["after"])
    print(f"fastest single update: before {fb:.1f} ms, after {fa:.1f} ms; after/before {fa / fb:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
