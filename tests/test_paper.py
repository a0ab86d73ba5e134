"""The paper's tables as data: every number checked against the paper's text, plus hand spot-checks."""
import os
import re
from pathlib import Path

import pytest

from course_lib import paper
from course_lib.results import parse_config

PAPER_FILE = "bjorck2021_deeper_rl_spectral_norm.txt"
REPO = Path(__file__).resolve().parents[1]
CANDIDATES = [Path(os.environ.get("DEEPER_RL_PAPER", "/nonexistent")), REPO / "paper" / PAPER_FILE,
              REPO.parent / "shared" / "paper" / PAPER_FILE]
NUMBER_PM = re.compile(r"(-?\d+\.?\d*)\s*(?:\\pm|±)\s*(-?\d+\.?\d*)")

# The 15 tasks of Table 2 and 5 of Table 1 in our naming (COURSE.md).
TABLE2_TASKS = {"ball_in_cup_catch", "cartpole_swingup", "cartpole_balance", "cartpole_balance_sparse",
                "cartpole_swingup_sparse", "cheetah_run", "walker_run", "walker_walk", "walker_stand",
                "finger_spin", "reacher_hard", "reacher_easy", "pendulum_swingup", "hopper_hop",
                "hopper_stand"}
TABLE1_TASKS = {"ball_in_cup_catch", "walker_walk", "cartpole_swingup_sparse", "hopper_stand",
                "reacher_easy"}


@pytest.fixture(scope="module")
def paper_text():
    for path in CANDIDATES:
        if path.is_file():
            return path.read_text()
    pytest.skip(f"paper text {PAPER_FILE} not found (looked in {', '.join(map(str, CANDIDATES[1:]))}; "
                "set DEEPER_RL_PAPER); the hand spot-checks in this file still run")


def _cells(line: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in NUMBER_PM.findall(line)]


def parse_table1(text: str) -> dict:
    lines = text.splitlines()
    start = lines.index("task\tMLP\tmodern\tmodern + SN")
    out = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        name, *cells = line.split("\t")
        out[name.strip()] = [_cells(c)[0] for c in cells]
    return out


def parse_table2(text: str) -> dict:
    block = text[text.index("Table 2:"):text.index("The results averaged across 5 runs")]
    out, header = {}, None
    for line in block.splitlines()[1:]:
        if line.startswith("\t"):
            header = [h.strip() for h in line.split("\t") if h.strip()]
        elif header and line.strip():
            method, *cells = [c for c in line.split("\t") if c.strip()]
            for task, cell in zip(header, cells):
                out[(task, method.strip())] = _cells(cell)[0]
    return out


def parse_table3(text: str) -> dict:
    block = text[text.index("Table 3:"):]
    lines = block.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("\tmlp2"))
    archs = [h.strip() for h in lines[head].split("\t") if h.strip()]
    out = {}
    for line in lines[head + 1:head + 5]:
        label, *cells = line.split("\t")
        for arch, cell in zip(archs, cells):
            out[(label.strip(), arch)] = _cells(cell)[0]
    return out


def test_table1_matches_paper_text(paper_text):
    parsed = parse_table1(paper_text)
    table = paper.table1()
    assert len(parsed) == 5 and len(table) == 15
    for row in table.itertuples():
        col = list(paper._DDPG_METHODS).index(row.method)
        assert (row.mean, row.pm) == parsed[row.paper_task][col], row


def test_table2_matches_paper_text(paper_text):
    parsed = parse_table2(paper_text)
    table = paper.table2()
    assert len(parsed) == 45 and len(table) == 45
    for row in table.itertuples():
        assert (row.mean, row.pm) == parsed[(row.paper_task, row.method)], row


def test_table3_matches_paper_text(paper_text):
    parsed = parse_table3(paper_text)
    table = paper.table3()
    assert len(parsed) == 16 and len(table) == 16
    for row in table.itertuples():
        assert (row.mean, row.pm) == parsed[(row.paper_metric, row.method)], row


@pytest.mark.parametrize("table, query, mean, pm", [
    # Hand-read from the paper (independent of the parser above).
    ("table1", dict(task="ball_in_cup_catch", config="mlp2"), 966.67, 2.32),
    ("table1", dict(task="walker_walk", config="modern4+sn"), 739.94, 20.88),
    ("table1", dict(task="cartpole_swingup_sparse", config="modern4"), 11.27, 0.16),
    ("table1", dict(task="hopper_stand", config="modern4"), 2.95, 0.99),
    ("table1", dict(task="reacher_easy", config="modern4+sn"), 801.83, 66.31),
    ("table2", dict(task="cartpole_swingup", config="modern4+sn"), 862.3, 15.2),
    ("table2", dict(task="pendulum_swingup", config="mlp2"), 297.8, 352.6),
    ("table2", dict(task="cartpole_swingup_sparse", config="modern4+sn"), 620.8, 311.0),
    ("table2", dict(task="walker_walk", method="Dreamer"), 863.0, 27.2),
    ("table2", dict(task="cartpole_balance_sparse", config="mlp2"), 910.5, 268.6),
    ("table2", dict(task="walker_stand", method="Dreamer"), 955.3, 8.7),
    ("table3", dict(config="modern4", metric="act_mem"), 247.04, 0.0),
    ("table3", dict(config="mlp2", metric="train_time"), 98.14, 0.15),
    ("table3", dict(config="modern2", metric="act_time"), 1.4, 0.1),
    ("table3", dict(config="mlp4", metric="train_mem"), 4.19, 0.0),
])
def test_spot_checks(table, query, mean, pm):
    df = getattr(paper, table)()
    for key, value in query.items():
        df = df[df[key] == value]
    assert len(df) == 1
    assert (df["mean"].iloc[0], df["pm"].iloc[0]) == (mean, pm)


def test_tasks_and_configs_use_our_names():
    t1, t2, t3 = paper.table1(), paper.table2(), paper.table3()
    assert set(t1["task"]) == TABLE1_TASKS
    assert set(t2["task"]) == TABLE2_TASKS
    assert set(paper.TASK_NAMES.values()) == TABLE2_TASKS | TABLE1_TASKS
    # Each (task, method) cell appears once.
    assert not t1.duplicated(["task", "method"]).any() and not t2.duplicated(["task", "method"]).any()
    for df in (t1, t2, t3):
        for row in df.dropna(subset=["config"]).itertuples():
            assert parse_config(row.config) == {"arch": row.arch, "depth": row.depth, "sn": row.sn}
    assert set(t1["config"]) == {"mlp2", "modern4", "modern4+sn"}
    assert set(t2["config"].dropna()) == {"mlp2", "modern4+sn"}
    assert t2.loc[t2["method"] == "Dreamer", "agent"].eq("dreamer").all()
    assert set(t3["config"]) == {"mlp2", "mlp4", "modern2", "modern4"}
    assert str(t2["depth"].dtype) == "Int64"  # Dreamer rows keep depth integer-typed


def test_settings_from_the_paper():
    s = paper.SETTINGS
    assert (s["frames"], s["seeds"], s["batch_size"]) == (500_000, 10, 512)
    assert (s["modern_critic_blocks"], s["modern_actor_blocks"]) == (4, 2)
    assert (s["sac_tasks"], s["ddpg_tasks"]) == (len(TABLE2_TASKS), len(TABLE1_TASKS))
    assert list(paper.settings()["setting"]) == list(s)


def test_settings_quoted_in_paper(paper_text):
    # The settings whose source is a sentence of the paper: that sentence is really there.
    for phrase in ["evaluate after 500,000 samples", "four transformer blocks for the critic and two for the actor",
                   "training with batch size 512", "average time across 500 iterations",
                   "each linear layer except the first and last", "we report the performance before the crash"]:
        assert phrase in paper_text, phrase
