"""The floor every learning curve is read against: the return of a uniformly random policy.

    python -m course_lib.baselines --tasks cartpole_balance cartpole_swingup --episodes 10 --csv random.csv

"Learns" means clearly above this. A random policy's return does not depend on what the agent
observes (states or pixels), so it is computed from states, without rendering. Actions are drawn
uniformly from ``[-1, 1]^d`` at every agent step and held for ``action_repeat`` control steps, as
the agents' own seed phase does; the return is the episode's summed reward (dm_control: 1,000
control steps, rewards in [0, 1], so returns lie in [0, 1000] whatever the action repeat).
"""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np

__all__ = ["random_policy_returns", "main"]


def random_policy_returns(task: str, episodes: int = 10, seed: int = 0, action_repeat: int = 1) -> np.ndarray:
    """Returns of ``episodes`` episodes of the uniform random policy on ``task`` (seeded)."""
    from course_lib.envs import make_env

    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes!r}")
    env = make_env(task, "state", seed, action_repeat)
    rng = np.random.default_rng(seed)
    returns = []
    for _ in range(episodes):
        ts, total = env.reset(), 0.0
        while not ts.last:
            ts = env.step(rng.uniform(-1.0, 1.0, env.action_dim).astype(np.float32))
            total += float(ts.reward)
        returns.append(total)
    return np.array(returns)


def main(argv=None) -> int:
    from course_lib.config import OneLineErrorParser

    parser = OneLineErrorParser(prog="python -m course_lib.baselines", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", required=True, help="dm_control tasks, e.g. cartpole_balance")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per task (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the environment and the actions (default 0)")
    parser.add_argument("--action-repeat", type=int, default=1, help="control steps per random action (default 1)")
    parser.add_argument("--csv", help="also write task, episodes, mean, standard error to this CSV file")
    args = parser.parse_args(argv)
    from course_lib.envs import parse_task

    try:
        for task in args.tasks:
            parse_task(task)
        if args.episodes < 1 or args.action_repeat < 1 or args.seed < 0:
            raise ValueError("--episodes and --action-repeat must be >= 1 and --seed >= 0")
    except ValueError as err:
        parser.exit(2, f"{parser.prog}: error: {' '.join(str(err).split())}\n")
    rows = []
    for task in args.tasks:
        r = random_policy_returns(task, args.episodes, args.seed, args.action_repeat)
        se = float(r.std(ddof=1) / math.sqrt(len(r))) if len(r) > 1 else float("nan")
        rows.append({"task": task, "episodes": len(r), "action_repeat": args.action_repeat,
                     "seed": args.seed, "mean_return": float(r.mean()), "se": se})
        print(f"{task:<28} random policy: {r.mean():7.1f} ± {se:5.1f} (mean ± s.e. over {len(r)} episodes)")
    if args.csv:
        import pandas as pd

        pd.DataFrame(rows).to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
