"""Run directories -> tables: returns at a frame budget, mean ± standard error over seeds.

A run directory is what ``python -m course_lib.train --out DIR`` writes (see the run-directory
contract): ``config.json`` (the run's config plus ``status``, ``frames_done``, ``crash_frame``,
``crash_reason``) and ``eval.csv`` (``frame, eval_return, crashed``). This module reads any tree of
them and aggregates the way the paper does:

- **Crashes** (non-finite losses or weights): "If learning crashes before 500,000 steps [...] we
  report the performance before the crash" (Sec. 3.1) and "use the performance recorded before
  crashes for future time steps" (Sec. 5.1). A crashed run's last return is carried forward to
  every later frame; crashed runs are counted (``n_crashed``), never dropped.
- **Incomplete runs** (still running, interrupted, or with a smaller budget) have no return at a
  frame they have not reached; at that budget they are counted in ``n_incomplete`` and left out of
  the mean, never silently averaged in.
- **Standard error** over seeds: ``std(ddof=1) / sqrt(n)`` ("one standard error", Figs. 1, 2, 4).

Configuration strings name a head: ``ARCH DEPTH [+sn]`` with ARCH ``mlp`` (DEPTH hidden layers) or
``modern`` (DEPTH residual blocks), e.g. ``mlp2``, ``mlp4``, ``modern4``, ``modern4+sn``
(:func:`parse_config`, :func:`config_name`); the sweep CLI and :mod:`course_lib.paper` use them too.

Typical use (notebook 09)::

    runs = results.load_runs("runs/")                 # one row per run directory, any layout
    table = results.summary(runs, frame_budget=500_000)   # mean, se, n, n_crashed, n_incomplete
    curves = results.curve_summary(runs)              # per frame: mean, se (for learning curves)
    side_by_side = results.compare_with_paper(table, paper.table1())
"""
from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

ARCHS = ("mlp", "modern")
_CONFIG_RE = re.compile(r"^(?P<arch>[a-z]+)(?P<depth>\d+)(?P<mods>(\+[a-z_]+)*)$")
#: Modifiers after ``ARCH DEPTH``: the training options each one sets (the pre-registered
#: experiment's heads, results/prereg). At most one of the three SN modifiers.
CONFIG_MODIFIERS = {
    "sn": {"sn": True},                                # SN in critic and actor (Sec. 5.1)
    "critic_sn": {"sn": True, "actor_sn": False},      # SN in the critic only
    "actor_sn": {"sn": False, "actor_sn": True},       # SN in the actor only
    "fixed_alpha": {"fixed_alpha": True},              # SAC's temperature held at its initial value
    "sigma_steps": {"sigma_scaled_steps": True},       # Adam steps divided by sigma, no SN (Gogianu et al.)
}
_SN_MODIFIERS = ("sn", "critic_sn", "actor_sn")
CONFIG_HELP = (
    "a configuration is ARCH DEPTH [+MODIFIER ...] with ARCH mlp or modern, DEPTH a positive integer "
    "(hidden layers for mlp, residual blocks for modern) and modifiers sn, critic_sn, actor_sn, "
    "fixed_alpha, sigma_steps, e.g. mlp2, mlp4, modern4, modern4+sn, modern4+critic_sn"
)

# One row per run: these first, then every other scalar field of config.json.
RUN_COLUMNS = ["task", "agent", "obs", "config", "arch", "depth", "sn", "seed", "frames", "status",
               "frames_done", "crash_frame", "crash_reason", "n_evals", "last_eval_frame",
               "last_return", "run_dir"]
GROUP_KEYS = ["task", "agent", "obs", "config", "arch", "depth", "sn"]
STATUSES = ("running", "complete", "crashed")
# Config fields that may differ between runs of one group without making them different experiments.
BOOKKEEPING_FIELDS = {"out", "device", "device_used", "resume", "compile", "video", "frames",
                      "eval_every_frames", "log_every_frames", "checkpoint_every_frames"}


# --------------------------------------------------------------------------- configuration names
def parse_config(name: str) -> dict:
    """``"modern4+sn"`` -> ``{"arch": "modern", "depth": 4, "sn": True}``; bad names raise ValueError.

    Modifiers beyond ``+sn`` add the training options they set (:data:`CONFIG_MODIFIERS`), e.g.
    ``"modern4+critic_sn"`` -> ``{"arch": "modern", "depth": 4, "sn": True, "actor_sn": False}``.
    """
    match = _CONFIG_RE.match(str(name).strip().lower())
    if not match or match["arch"] not in ARCHS or int(match["depth"]) < 1:
        raise ValueError(f"unknown configuration {name!r}: {CONFIG_HELP}")
    mods = [m for m in match["mods"].split("+") if m]
    unknown = [m for m in mods if m not in CONFIG_MODIFIERS]
    if unknown or len(set(mods)) != len(mods) or sum(m in _SN_MODIFIERS for m in mods) > 1:
        raise ValueError(f"unknown configuration {name!r}: {CONFIG_HELP} (each modifier once, one SN modifier)")
    head = {"arch": match["arch"], "depth": int(match["depth"]), "sn": False}
    for mod in mods:
        head.update(CONFIG_MODIFIERS[mod])
    return head


def config_name(arch: str, depth: int, sn: bool, actor_sn: bool | None = None, fixed_alpha: bool = False,
                sigma_scaled_steps: bool = False) -> str:
    """The inverse of :func:`parse_config`: ``("modern", 4, True)`` -> ``"modern4+sn"``.

    ``actor_sn`` None means "the same as ``sn``" (the training CLI's default).
    """
    sn = bool(sn)
    actor_sn = sn if actor_sn is None or (isinstance(actor_sn, float) and math.isnan(actor_sn)) else bool(actor_sn)
    mods = {(True, True): ["sn"], (True, False): ["critic_sn"], (False, True): ["actor_sn"],
            (False, False): []}[(sn, actor_sn)]
    mods += ["fixed_alpha"] * bool(fixed_alpha) + ["sigma_steps"] * bool(sigma_scaled_steps)
    name = f"{arch}{int(depth)}" + "".join("+" + m for m in mods)
    parse_config(name)  # validates arch and depth
    return name


# --------------------------------------------------------------------------- loading
def _field(cfg: dict, path: Path, *names, default=KeyError):
    for name in names:
        if name in cfg:
            return cfg[name]
    if default is KeyError:
        raise ValueError(f"{path}: config.json has no {names[0]!r} field; is this a run directory "
                         "written by python -m course_lib.train?")
    return default


def _optional_int(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def read_curve(run_dir: str | Path) -> pd.DataFrame:
    """``run_dir/eval.csv`` as a DataFrame (frame, eval_return, crashed), sorted by frame.

    A run that has not evaluated yet gives an empty frame with those columns.
    """
    path = Path(run_dir) / "eval.csv"
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame({"frame": pd.Series(dtype="int64"),
                             "eval_return": pd.Series(dtype="float64"),
                             "crashed": pd.Series(dtype="int64")})
    curve = pd.read_csv(path)
    missing = {"frame", "eval_return"} - set(curve.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}; expected frame,eval_return,crashed")
    if "crashed" not in curve.columns:
        curve["crashed"] = 0
    curve = curve[["frame", "eval_return", "crashed"]].astype(
        {"frame": "int64", "eval_return": "float64", "crashed": "int64"})
    return curve.sort_values(["frame", "crashed"], kind="stable").reset_index(drop=True)


def read_run(run_dir: str | Path) -> dict:
    """One run directory -> one row (a dict with :data:`RUN_COLUMNS` and every scalar config field)."""
    run_dir = Path(run_dir)
    path = run_dir / "config.json"
    cfg = json.loads(path.read_text())
    curve = read_curve(run_dir)
    normal = curve[curve["crashed"] == 0]
    status = _field(cfg, path, "status")
    if status not in STATUSES:
        raise ValueError(f"{path}: status {status!r} is not one of {STATUSES}")
    crash_frame = _optional_int(cfg.get("crash_frame"))
    if status == "crashed" and crash_frame is None:  # fall back to eval.csv's crash row
        crash_rows = curve[curve["crashed"] == 1]
        crash_frame = int(crash_rows["frame"].iloc[-1]) if len(crash_rows) else \
            _optional_int(cfg.get("frames_done"))
    arch, depth = _field(cfg, path, "arch"), int(_field(cfg, path, "depth"))
    sn = bool(_field(cfg, path, "sn", "spectral_norm"))
    variant = dict(actor_sn=cfg.get("actor_sn"), fixed_alpha=bool(cfg.get("fixed_alpha") or False),
                   sigma_scaled_steps=bool(cfg.get("sigma_scaled_steps") or False))
    row = {k: v for k, v in cfg.items() if not isinstance(v, (dict, list))}
    row.update(
        task=_field(cfg, path, "task"), agent=_field(cfg, path, "agent"),
        obs=_field(cfg, path, "obs"), config=config_name(arch, depth, sn, **variant), arch=arch, depth=depth,
        sn=sn, seed=int(_field(cfg, path, "seed")),
        frames=_optional_int(_field(cfg, path, "frames", "num_frames", default=None)),
        status=status, frames_done=_optional_int(cfg.get("frames_done")) or 0,
        crash_frame=crash_frame if status == "crashed" else None,
        crash_reason=cfg.get("crash_reason") if status == "crashed" else None,
        n_evals=len(normal), last_eval_frame=int(normal["frame"].iloc[-1]) if len(normal) else None,
        last_return=float(curve["eval_return"].iloc[-1]) if len(curve) else math.nan,
        run_dir=str(run_dir),
    )
    return row


def load_runs(root: str | Path) -> pd.DataFrame:
    """Every run directory under ``root`` (recursively; any layout) -> one row per run.

    A run directory is any folder whose ``config.json`` has a ``status`` field. Columns: see
    :data:`RUN_COLUMNS`, followed by every other scalar field of the runs' ``config.json`` (so you
    can filter on e.g. ``hidden_dim``). Rows are sorted by task, agent, obs, config, seed.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"run root {str(root)!r} is not a directory")
    rows = []
    for path in sorted(root.rglob("config.json")):
        try:
            is_run = "status" in json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from err
        if is_run:
            rows.append(read_run(path.parent))
    if not rows:
        return pd.DataFrame(columns=RUN_COLUMNS)
    runs = pd.DataFrame(rows)
    runs = runs[RUN_COLUMNS + [c for c in runs.columns if c not in RUN_COLUMNS]]
    runs = runs.astype({"depth": "int64", "seed": "int64", "frames_done": "int64", "sn": "bool",
                        "frames": "Int64", "crash_frame": "Int64", "last_eval_frame": "Int64"})
    return runs.sort_values(["task", "agent", "obs", "config", "seed", "run_dir"]).reset_index(drop=True)


def load_curves(runs: pd.DataFrame) -> pd.DataFrame:
    """Learning curves of ``runs`` (from :func:`load_runs`), long format.

    Columns: the run's :data:`GROUP_KEYS`, ``seed``, ``run_dir``, then ``frame``, ``eval_return``,
    ``crashed`` (1 on the crash row that ``train`` appends: frame of the crash, return before it).
    """
    keys = GROUP_KEYS + ["seed", "run_dir"]
    parts = []
    for run in runs[keys].itertuples(index=False):
        curve = read_curve(run.run_dir)
        for key, value in zip(keys, run):
            curve[key] = value
        parts.append(curve)
    columns = keys + ["frame", "eval_return", "crashed"]
    if not parts or all(len(p) == 0 for p in parts):
        return pd.DataFrame(columns=columns)
    return pd.concat([p for p in parts if len(p)], ignore_index=True)[columns]


# --------------------------------------------------------------------------- returns at a budget
def _run_values(run, curve: pd.DataFrame, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One run's return at each of ``frames`` and its outcome there (ok / crashed / incomplete).

    The return at frame f is that of the last evaluation at or before f (no interpolation). After a
    crash the last return is carried forward (paper, Sec. 3.1 and 5.1). Before the run has reached
    f (and without a crash), or before its first evaluation, there is no value: "incomplete".
    """
    normal = curve[curve["crashed"] == 0]
    eval_frames = normal["frame"].to_numpy()
    eval_returns = normal["eval_return"].to_numpy(dtype=float)
    index = np.searchsorted(eval_frames, frames, side="right") - 1  # last eval at or before f
    values = np.where(index >= 0, eval_returns[np.clip(index, 0, None)] if len(eval_frames) else np.nan,
                      np.nan)
    reached = max(int(run.frames_done), int(eval_frames[-1]) if len(eval_frames) else 0)
    outcome = np.where(frames <= reached, "ok", "incomplete").astype(object)
    if run.status == "crashed" and run.crash_frame is not None and not pd.isna(run.crash_frame):
        crash_frame = int(run.crash_frame)
        crash_rows = curve[curve["crashed"] == 1]
        before = eval_returns[eval_frames <= crash_frame]
        carried = float(crash_rows["eval_return"].iloc[-1]) if len(crash_rows) else math.nan
        if math.isnan(carried) and len(before):  # crash row without a value: use the last eval
            carried = float(before[-1])
        after = frames >= crash_frame
        values = np.where(after, carried, values)
        outcome = np.where(after, "crashed", np.where(frames < crash_frame, "ok", outcome))
    # Reached, but no evaluation yet at that frame (budget before the first eval): nothing to report.
    outcome = np.where((outcome == "ok") & np.isnan(values), "incomplete", outcome)
    values = np.where(outcome == "incomplete", np.nan, values)
    return values, outcome


def returns_at(runs: pd.DataFrame, frame_budget: int, curves: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each run's return at ``frame_budget``: ``runs`` plus columns ``frame_budget``,
    ``eval_return`` and ``outcome``: ``"ok"``; ``"crashed"`` (crashed at or before the budget, its
    pre-crash return carried forward); or ``"incomplete"`` (has not reached the budget or has no
    evaluation at or before it; ``eval_return`` is NaN)."""
    frame_budget = _check_budget(frame_budget)
    curves = load_curves(runs) if curves is None else curves
    by_run = dict(tuple(curves.groupby("run_dir", sort=False))) if len(curves) else {}
    empty = read_curve(Path("/nonexistent"))
    out = runs.copy()
    values, outcomes = [], []
    for run in runs.itertuples(index=False):
        value, outcome = _run_values(run, by_run.get(run.run_dir, empty), np.array([frame_budget]))
        values.append(float(value[0]))
        outcomes.append(outcome[0])
    out["frame_budget"] = frame_budget
    out["eval_return"] = pd.Series(values, index=out.index, dtype="float64")
    out["outcome"] = pd.Series(outcomes, index=out.index, dtype="object")
    return out


def _warn_if_mixed(group: pd.DataFrame, key: dict) -> None:
    """Runs averaged together should differ only in seed: say so when other settings differ."""
    fields = [c for c in group.columns if c not in RUN_COLUMNS and c not in BOOKKEEPING_FIELDS
              and c not in ("frame_budget", "eval_return", "outcome")]
    # A missing value is a run that predates the setting (it ran with the default): not a difference.
    # (dropna first: pandas 2 turns NaN into the string 'nan', pandas 3 keeps it missing.)
    values = {c: group[c].dropna().astype(str) for c in fields}
    mixed = {c: sorted(v.unique()) for c, v in values.items() if v.nunique() > 1}
    if mixed:
        warnings.warn(f"{key}: the runs averaged here also differ in {mixed}; pass "
                      f"by={sorted(mixed)} to keep them apart", stacklevel=3)


def _check_budget(frame_budget) -> int:
    if isinstance(frame_budget, bool) or not isinstance(frame_budget, (int, np.integer)) or frame_budget <= 0:
        raise ValueError(f"frame_budget must be a positive integer number of environment frames, "
                         f"got {frame_budget!r} (the paper reports at 500_000)")
    return int(frame_budget)


def _mean_se(values: pd.Series) -> tuple[float, float, int]:
    values = values.dropna().to_numpy(dtype=float)
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return mean, se, n


def summary(runs: pd.DataFrame, frame_budget: int, curves: pd.DataFrame | None = None,
            by: Sequence[str] = ()) -> pd.DataFrame:
    """Per task and configuration: mean and standard error of the return at ``frame_budget``.

    Columns: :data:`GROUP_KEYS` (+ ``by``), ``frame_budget``, ``mean``, ``se`` (= std(ddof=1) /
    sqrt(n); NaN for n < 2), ``n`` (runs averaged: reached the budget or crashed before it),
    ``n_crashed`` (crashed at or before the budget; their pre-crash return is in the mean),
    ``n_incomplete`` (not at the budget yet; *not* in the mean), ``n_runs`` (all runs found), and
    ``seeds`` (the seeds averaged, as a string). ``by`` adds grouping columns, e.g. ``["hidden_dim"]``.
    """
    keys = GROUP_KEYS + list(by)
    missing = set(keys) - set(runs.columns)
    if missing:
        raise ValueError(f"runs has no columns {sorted(missing)}; pass a DataFrame from load_runs")
    at = returns_at(runs, frame_budget, curves)
    rows = []
    for key, group in at.groupby(keys, sort=True, dropna=False):
        _warn_if_mixed(group, dict(zip(keys, key)))
        used = group[group["outcome"] != "incomplete"]
        if used["seed"].duplicated().any():
            warnings.warn(f"{dict(zip(keys, key))}: several runs share a seed "
                          f"({sorted(used['seed'][used['seed'].duplicated()].tolist())}); "
                          "each counts as one sample", stacklevel=2)
        no_value = used["eval_return"].isna().sum()
        if no_value:
            warnings.warn(f"{dict(zip(keys, key))}: {no_value} run(s) crashed before their first "
                          "evaluation, so there is no return to carry forward; n excludes them",
                          stacklevel=2)
        mean, se, n = _mean_se(used["eval_return"])
        rows.append(dict(zip(keys, key), frame_budget=frame_budget, mean=mean, se=se, n=n,
                         n_crashed=int((group["outcome"] == "crashed").sum()),
                         n_incomplete=int((group["outcome"] == "incomplete").sum()),
                         n_runs=len(group),
                         seeds=" ".join(str(s) for s in sorted(used["seed"][used["eval_return"].notna()]))))
    columns = keys + ["frame_budget", "mean", "se", "n", "n_crashed", "n_incomplete", "n_runs", "seeds"]
    return pd.DataFrame(rows, columns=columns)


def curve_summary(runs: pd.DataFrame, curves: pd.DataFrame | None = None,
                  frames: Sequence[int] | None = None, by: Sequence[str] = ()) -> pd.DataFrame:
    """Learning curves averaged over seeds: per group and frame, mean ± standard error.

    ``frames`` defaults to every frame at which some run evaluated. At each frame a run contributes
    its last evaluation at or before it, a crashed run its pre-crash return (carried forward, as in
    the paper's Fig. 4), and a run that has not got there yet nothing. Columns: :data:`GROUP_KEYS`
    (+ ``by``), ``frame``, ``mean``, ``se``, ``n`` (runs with a value), ``n_crashed`` (of those,
    carried forward after a crash).
    """
    keys = GROUP_KEYS + list(by)
    curves = load_curves(runs) if curves is None else curves
    if frames is None:
        frames = np.unique(curves.loc[curves["crashed"] == 0, "frame"]) if len(curves) else []
    frames = np.asarray(sorted(set(int(f) for f in frames)), dtype=np.int64)
    by_run = dict(tuple(curves.groupby("run_dir", sort=False))) if len(curves) else {}
    empty = read_curve(Path("/nonexistent"))
    rows = []
    for key, group in runs.groupby(keys, sort=True, dropna=False):
        per_run = [_run_values(run, by_run.get(run.run_dir, empty), frames)
                   for run in group.itertuples(index=False)]
        if not per_run or not len(frames):
            continue
        values = np.vstack([v for v, _ in per_run])  # runs x frames
        crashed = np.vstack([o == "crashed" for _, o in per_run]) & ~np.isnan(values)
        for j, frame in enumerate(frames):
            mean, se, n = _mean_se(pd.Series(values[:, j]))
            if n:
                rows.append(dict(zip(keys, key), frame=int(frame), mean=mean, se=se, n=n,
                                 n_crashed=int(crashed[:, j].sum())))
    return pd.DataFrame(rows, columns=keys + ["frame", "mean", "se", "n", "n_crashed"])


# --------------------------------------------------------------------------- against the paper
def compare_with_paper(summary: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Our :func:`summary` beside a paper table (:func:`course_lib.paper.table1` or ``table2``).

    One row per row of the paper's table (Dreamer included, with no numbers of ours), matched on
    agent, task and config. Columns: task, method, config, paper_mean, paper_pm, ours_mean,
    ours_se, ours_n, ours_crashed, ours_incomplete, diff (ours_mean - paper_mean), obs,
    frame_budget (ours; the paper's are pixels at 500k frames, so a CPU-scale state run is a
    different experiment: say so beside the table).
    """
    needed = {"task", "agent", "config", "mean", "pm", "method"}
    if "metric" in table.columns or not needed <= set(table.columns):
        raise ValueError("table must be paper.table1() or paper.table2() (task x method returns); "
                         "Table 3 is a cost table: compare it with python -m course_lib.bench")
    ours_needed = {"task", "agent", "config", "mean", "se", "n", "n_crashed", "n_incomplete",
                   "obs", "frame_budget"}
    if not ours_needed <= set(summary.columns):
        raise ValueError(f"summary must come from results.summary(); missing columns "
                         f"{sorted(ours_needed - set(summary.columns))}")
    keys = ["agent", "task", "config"]
    ours = summary[summary["agent"].isin(set(table["agent"]))]
    if ours.empty:
        raise ValueError(f"summary has no runs of agent(s) {sorted(set(table['agent']))} that this "
                         f"table reports; it has {sorted(set(summary['agent']))}")
    dupes = ours[ours.duplicated(keys, keep=False)]
    if len(dupes):
        raise ValueError("summary has several rows for the same agent, task and config "
                         f"(differing in obs, frame_budget or extra keys): {dupes[keys].drop_duplicates().values.tolist()}; "
                         "filter it first, e.g. summary[summary.obs == 'pixels']")
    ours = ours.rename(columns={"mean": "ours_mean", "se": "ours_se", "n": "ours_n",
                                "n_crashed": "ours_crashed", "n_incomplete": "ours_incomplete"})
    paper = table.rename(columns={"mean": "paper_mean", "pm": "paper_pm"})
    merged = paper[keys + ["method", "paper_mean", "paper_pm"]].merge(
        ours[keys + ["ours_mean", "ours_se", "ours_n", "ours_crashed", "ours_incomplete", "obs",
                     "frame_budget"]], on=keys, how="left")
    if merged["ours_mean"].notna().sum() == 0 and merged["ours_n"].isna().all():
        raise ValueError(f"none of the summary's (task, config) pairs are in this table: ours "
                         f"{sorted(set(zip(ours['task'], ours['config'])))}; the table has tasks "
                         f"{sorted(set(table['task']))} and configs {sorted(set(table['config'].dropna()))}")
    merged["diff"] = merged["ours_mean"] - merged["paper_mean"]
    columns = ["task", "method", "config", "paper_mean", "paper_pm", "ours_mean", "ours_se", "ours_n",
               "ours_crashed", "ours_incomplete", "diff", "obs", "frame_budget"]
    return merged[columns]
