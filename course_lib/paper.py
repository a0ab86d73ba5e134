"""The paper's own numbers as data: Tables 1, 2 and 3 of Bjorck, Gomes & Weinberger (NeurIPS 2021).

Transcribed from ``paper/bjorck2021_deeper_rl_spectral_norm.txt`` (``tests/test_paper.py`` parses
that text and compares every number, so a typo here fails a test). Each table is a long pandas
DataFrame, one row per (task, network) cell, keyed the way our training CLI is keyed:

- ``task``: our ``domain_task`` name (see :data:`TASK_NAMES` for each mapping from the paper's
  column headings); ``paper_task`` keeps the paper's heading.
- ``agent``: ``"sac"`` (DrQ, Table 2), ``"ddpg"`` (DrQ-v2, Table 1), ``"dreamer"`` (reference
  only; we do not train it); ``obs``: ``"pixels"`` (every number in the paper is from pixels).
- ``config``: our configuration string (``mlp2``, ``modern4+sn``; the grammar is
  :func:`course_lib.results.parse_config`) and its parts ``arch``, ``depth``, ``sn``, so that
  ``python -m course_lib.train --arch {arch} --depth {depth} --sn/--no-sn`` trains that cell.
  ``depth`` is the critic's: the paper's modern networks have 4 blocks in the critic and 2 in the
  actor (Sec. 3.2); its MLPs have 2 hidden layers in both (Sec. 3.1).
- ``method``: the paper's own row/column label.
- ``mean`` and ``pm``: the two numbers printed as ``mean ± pm``. The paper does not say what the
  ``±`` is in Tables 1 and 2 (its figures give "one standard error"); spreads such as
  297.8 ± 352.6 over 10 seeds in Table 2 look like standard deviations, so compare our standard
  errors with them with care. Table 3's ``±`` is over 5 runs of a timing benchmark.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PAPER = "Bjorck, Gomes, Weinberger. Towards Deeper Deep RL with Spectral Normalization. NeurIPS 2021"

# The paper's task headings -> our dm_control ``domain_task`` names. Table 2 groups the 15 tasks of
# Kostrikov et al. (DrQ) under short headings; the cartpole ones lose their domain name there.
TASK_NAMES = {
    "cup catch": "ball_in_cup_catch",  # Table 1; dm_control domain "ball_in_cup", task "catch"
    "ball in cup catch": "ball_in_cup_catch",  # Table 2
    "walker walk": "walker_walk",
    "walker run": "walker_run",
    "walker stand": "walker_stand",
    "cartpole sparse": "cartpole_swingup_sparse",  # Table 1; DrQ-v2's sparse cartpole task is swingup_sparse
    "swingup": "cartpole_swingup",  # Table 2; the only "swingup" among the 15 besides pendulum (named in full)
    "balance": "cartpole_balance",  # Table 2
    "balance sparse": "cartpole_balance_sparse",  # Table 2
    "swingup sparse": "cartpole_swingup_sparse",  # Table 2
    "pendulum swingup": "pendulum_swingup",
    "cheetah run": "cheetah_run",
    "finger spin": "finger_spin",
    "reacher easy": "reacher_easy",
    "reacher hard": "reacher_hard",
    "hopper hop": "hopper_hop",
    "hopper stand": "hopper_stand",
}

# Settings the paper states in its main text, each with where it says so. Everything else (learning
# rates, replay size, ...) comes from DrQ / DrQ-v2, whose hyperparameters the paper adopts (Sec. 3.1,
# 5.3); its Appendix B lists them in the arXiv version (arXiv:2106.01151), not checked here.
SETTINGS = {
    "frames": 500_000,  # Sec. 3.1 "evaluate after 500,000 samples"; Table 1 "after 0.5 million frames"
    "seeds": 10,  # Sec. 3.1 "We evaluation over ten seeds"; Tables 1, 2 "averaged over 10 seeds"
    "sac_tasks": 15,  # Sec. 3.1 "the 15 tasks considered in Kostrikov et al. [35]" (Table 2)
    "ddpg_tasks": 5,  # Sec. 5.3 / Table 1
    "observations": "pixels",  # Sec. 3.1 "continuous control from pixels"
    "mlp_hidden_layers": 2,  # Sec. 3.1 "MLPs with two hidden layers"
    "deeper_mlp_hidden_layers": 4,  # Sec. 3.3 "from two to four hidden layers"
    "modern_critic_blocks": 4,  # Sec. 3.2 "four transformer blocks for the critic"
    "modern_actor_blocks": 2,  # Sec. 3.2 "and two for the actor"
    "sn_layers": "every linear layer of actor and critic heads except the first and last",  # Sec. 5.1
    "crash_rule": "report the performance before the crash at later frames",  # Sec. 3.1, 5.1
    "error_bars": "one standard error",  # Figs. 1, 2 (Sec. 3.2, 3.3)
    "fig3_runs": 5,  # Sec. 3.4 "Results averaged over five runs" (cartpole swingup)
    "batch_size": 512,  # Sec. 5.4 "training with batch size 512" (DrQ's own paper setting too)
    "table3_runs": 5,  # Sec. 5.4 "The results averaged across 5 runs are given in Table 3"
    "table3_iterations": 500,  # Sec. 5.4 "average time across 500 iterations with warm-start"
    "table3_gpu": "Tesla V100",  # Sec. 5.4; time with CUDA events, memory with PyTorch tools
}

_DDPG_METHODS = {  # Table 1 column -> (config, arch, depth, sn); "the same modern and base networks" (Sec. 5.3)
    "MLP": ("mlp2", "mlp", 2, False),
    "modern": ("modern4", "modern", 4, False),
    "modern + SN": ("modern4+sn", "modern", 4, True),
}
_TABLE1 = [  # paper task: (mean, pm) per method, in the column order of _DDPG_METHODS
    ("cup catch", (966.67, 2.32), (107.46, 21.43), (975.32, 1.3)),
    ("walker walk", (477.40, 117.96), (6.10, 9.08), (739.94, 20.88)),
    ("cartpole sparse", (1000.00, 0.00), (11.27, 0.16), (1000.00, 0.00)),
    ("hopper stand", (403.82, 123.85), (2.95, 0.99), (796.60, 85.04)),
    ("reacher easy", (756.15, 70.48), (77.22, 19.95), (801.83, 66.31)),
]

_SAC_METHODS = {  # Table 2 row -> (agent, config, arch, depth, sn); Dreamer is another algorithm
    "MLP + DRQ": ("sac", "mlp2", "mlp", 2, False),
    "Modern+SN+DRQ": ("sac", "modern4+sn", "modern", 4, True),
    "Dreamer": ("dreamer", None, None, None, None),
}
_TABLE2 = [  # paper task: (mean, pm) for MLP + DRQ, Modern+SN+DRQ, Dreamer
    ("ball in cup catch", (884.6, 262.0), (968.9, 13.3), (767.1, 63.3)),
    ("swingup", (805.7, 64.9), (862.3, 15.2), (592.4, 31.3)),
    ("cheetah run", (502.8, 315.5), (708.9, 46.2), (630.7, 23.3)),
    ("walker run", (419.2, 170.5), (501.0, 57.0), (466.2, 21.1)),
    ("finger spin", (851.7, 156.8), (882.5, 149.0), (466.8, 42.1)),
    ("reacher hard", (674.7, 332.0), (875.1, 75.5), (65.7, 16.5)),
    ("pendulum swingup", (297.8, 352.6), (586.4, 381.3), (494.3, 98.9)),
    ("hopper hop", (196.1, 72.0), (254.2, 67.7), (136.0, 28.5)),
    ("hopper stand", (743.1, 280.5), (854.7, 63.5), (663.7, 70.3)),
    ("walker walk", (754.3, 356.7), (902.2, 67.4), (863.0, 27.2)),  # Dreamer printed as "863."
    ("balance", (981.5, 39.6), (984.8, 29.4), (938.2, 13.0)),
    ("balance sparse", (910.5, 268.6), (968.1, 72.3), (935.2, 22.5)),
    ("swingup sparse", (148.7, 299.3), (620.8, 311.0), (267.8, 25.4)),
    ("reacher easy", (753.9, 205.0), (814.0, 85.8), (830.4, 31.4)),
    ("walker stand", (696.9, 329.4), (953.0, 19.8), (955.3, 8.7)),
]

_TABLE3_ARCHS = {  # Table 3 column -> (config, arch, depth, sn); SAC agent from pixels, no SN
    "mlp2": ("mlp2", "mlp", 2, False),
    "mlp4": ("mlp4", "mlp", 4, False),
    "modern 2": ("modern2", "modern", 2, False),
    "modern4": ("modern4", "modern", 4, False),
}
_TABLE3_METRICS = {  # our metric name -> (paper's row label, unit)
    "train_mem": ("train mem (GB)", "GB"),
    "act_mem": ("act mem (MB)", "MB"),
    "train_time": ("train time (ms)", "ms"),
    "act_time": ("act time (ms)", "ms"),
}
_TABLE3 = {  # metric: (mean, pm) per architecture, in the column order of _TABLE3_ARCHS
    "train_mem": [(4.05, 0.0), (4.19, 0.0), (4.27, 0.0), (4.73, 0.0)],
    "act_mem": [(50.16, 0.0), (93.26, 0.0), (112.66, 0.0), (247.04, 0.0)],
    "train_time": [(98.14, 0.15), (104.1, 0.14), (105.76, 0.23), (125.21, 0.1)],
    "act_time": [(1.19, 0.09), (1.26, 0.02), (1.4, 0.1), (1.35, 0.02)],
}


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    # Nullable dtypes: Dreamer rows have no arch/depth/sn, and NaN must not turn depth into floats.
    # Their missing config/arch is NaN, as pandas 3's string columns hold it; pandas 2 would keep
    # None in an object column (and print "None" where pandas 3 prints "NaN").
    df = df.astype({"depth": "Int64", "sn": "boolean"})
    for column in ("config", "arch"):
        if column in df:
            df[column] = df[column].where(df[column].notna(), np.nan)
    return df


def table1() -> pd.DataFrame:
    """Table 1: DrQ-v2 (DDPG) from pixels, 5 tasks x {MLP, modern, modern + SN}, 500k frames, 10 seeds.

    Columns: task, paper_task, agent, obs, method, config, arch, depth, sn, mean, pm.
    """
    rows = []
    for paper_task, *cells in _TABLE1:
        for (method, (config, arch, depth, sn)), (mean, pm) in zip(_DDPG_METHODS.items(), cells):
            rows.append(dict(task=TASK_NAMES[paper_task], paper_task=paper_task, agent="ddpg",
                             obs="pixels", method=method, config=config, arch=arch, depth=depth,
                             sn=sn, mean=mean, pm=pm))
    return _typed(pd.DataFrame(rows))


def table2() -> pd.DataFrame:
    """Table 2: DrQ (SAC) with MLP vs modern+SN heads, and Dreamer; 15 tasks, 500k frames, 10 seeds.

    Columns as :func:`table1`. Dreamer rows have ``agent="dreamer"`` and no config.
    """
    rows = []
    for paper_task, *cells in _TABLE2:
        for (method, (agent, config, arch, depth, sn)), (mean, pm) in zip(_SAC_METHODS.items(), cells):
            rows.append(dict(task=TASK_NAMES[paper_task], paper_task=paper_task, agent=agent,
                             obs="pixels", method=method, config=config, arch=arch, depth=depth,
                             sn=sn, mean=mean, pm=pm))
    return _typed(pd.DataFrame(rows))


def table3() -> pd.DataFrame:
    """Table 3: cost of the SAC agent's heads on a Tesla V100 (batch 512 for training, 5 runs).

    One row per (architecture, metric). Columns: config, method (the paper's column label), arch,
    depth, sn, metric (``train_mem``, ``act_mem``, ``train_time``, ``act_time``), paper_metric (the
    paper's row label), unit (GB, MB, ms), mean, pm. Use ``.pivot(index="metric", columns="config",
    values="mean")`` for the paper's layout.
    """
    rows = []
    for metric, cells in _TABLE3.items():
        paper_metric, unit = _TABLE3_METRICS[metric]
        for (method, (config, arch, depth, sn)), (mean, pm) in zip(_TABLE3_ARCHS.items(), cells):
            rows.append(dict(config=config, method=method, arch=arch, depth=depth, sn=sn,
                             metric=metric, paper_metric=paper_metric, unit=unit, mean=mean, pm=pm))
    return _typed(pd.DataFrame(rows))


def settings() -> pd.DataFrame:
    """The settings the paper states (see :data:`SETTINGS` for where), as a two-column table."""
    return pd.DataFrame({"setting": list(SETTINGS), "value": [str(v) for v in SETTINGS.values()]})
