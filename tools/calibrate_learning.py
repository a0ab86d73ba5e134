"""Calibrate a capstone's learning threshold: the reference trained on the grading seeds 0..N-1.

    OMP_NUM_THREADS=1 python tools/calibrate_learning.py ex06_drq.sac_update_learns --seeds 10

For each grading seed it trains the reference (``solutions/``) exactly as the grader trains a
student's code, evaluates the actor as the judge does, and prints the training seed, the judged
return and the time. The threshold goes where the reference passes on at least 9 seeds of 10; write
the returns beside it (``register_learning``'s comment). Needs ``solutions/`` and a real budget:
``COURSE_CHECK_SMOKE`` must be unset.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    from course_lib.checks import exercise, load_module, rng_for, solutions_dir
    from course_lib.checks.learning import LEARNING, judged_return, smoke

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="a learning outcome, e.g. ex06_drq.sac_update_learns")
    parser.add_argument("--seeds", type=int, default=10, help="grading seeds 0..N-1 (default 10)")
    parser.add_argument("--first", type=int, default=0, help="the first grading seed (default 0)")
    args = parser.parse_args(argv)
    if args.name not in LEARNING:
        parser.error(f"{args.name} is not a learning outcome; choose one of {sorted(LEARNING)}")
    if smoke():
        parser.error("COURSE_CHECK_SMOKE is set: unset it to calibrate on the real budget")
    ex = exercise(args.name)
    fn = getattr(load_module(ex.module, solutions_dir()), ex.function)
    threshold = LEARNING[args.name][1]
    returns = []
    for grading_seed in range(args.first, args.first + args.seeds):
        start = time.perf_counter()
        got = ex.probe(fn, rng_for(grading_seed))
        want = ex.reference(rng_for(grading_seed))
        value = judged_return(args.name, got, want)
        returns.append(value)
        print(f"grading seed {grading_seed}: training seed {want['seed']}, judged return {value:.0f}, "
              f"{time.perf_counter() - start:.0f} s, {'pass' if value >= threshold else 'FAIL'} "
              f"at {threshold:g}", flush=True)
    passed = sum(value >= threshold for value in returns)
    print(f"{args.name}: {passed} of {len(returns)} pass at {threshold:g}; returns "
          + ", ".join(f"{value:.0f}" for value in returns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
