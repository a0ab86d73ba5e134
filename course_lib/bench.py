"""What do deeper heads cost? The paper's Table 3, measured on your machine (Sec. 5.4).

    python -m course_lib.bench                                   # GPU if there is one, else CPU
    python -m course_lib.bench --device cuda --iters 500         # the paper's protocol on a GPU
    python -m course_lib.bench --device cpu --csv bench_cpu.csv  # a few updates per head on a CPU
    python -m course_lib.bench --archs mlp2 modern4 modern4+sn   # any head, SN included

For each head (``mlp2``, ``mlp4``, ``modern2``, ``modern4``: the critic's architecture and depth; the
actor gets the same architecture, at half the depth for modern heads, as in the paper) it builds the
**pixel SAC agent** (DrQ, :class:`course_lib.agents.sac.SACAgent`) with the paper's settings
(hidden width 1024, 84x84 frames stacked 3, batch 512, K=M=2 augmentations) and measures:

* **acting**: milliseconds per ``agent.act`` on one observation (mean action, as when deployed) and
  the memory held while acting: every network of the agent (actor, critic, target critic,
  encoders) plus the activations of one forward pass. Weights dominate it, which is why Table 3's
  "act mem" grows with the heads (mlp2's 11.4M parameters are 46 MB in float32);
* **training**: milliseconds per ``agent.update`` on a batch of 512 random transitions that already
  sits on the device (replay sampling is not timed), and the peak memory of those updates (weights,
  gradients, Adam's moments, activations).

How, per device (the paper: "Tesla V100 GPUs [...] time with CUDA events and [...] memory with
PyTorch native tools [...] average time across 500 iterations with warm-start"):

* **CUDA**: CUDA events around each call (on the device's stream), ``torch.cuda.max_memory_allocated``
  over each phase's timed calls: its peak is reset after the warm-up, so neither the agent's
  construction nor cuDNN's autotuning of new shapes (trial workspaces) counts. TF32 matmuls and cuDNN
  autotuning as in training; the ``device`` column names the GPU and these settings. Default: 20
  warm-up and 500 timed iterations.
* **CPU**: wall time (``time.perf_counter``), and also the process's CPU time (``process_time``:
  on a machine shared with other jobs wall time measures the queue as much as the work), and the
  peak resident set size (RSS) of the process.
  Each head is measured in a **fresh subprocess** so that its peak is its own; the tables report the
  peak *above* what the process held before the agent was built (Python, torch, dm_control, and
  the library code that a warm-up on tiny networks has paged in). On
  Linux the peak is restarted before acting and before training (``/proc/self/clear_refs``, the
  analogue of resetting CUDA's peak statistics), so the temporaries of building the agent count in
  neither; elsewhere it is the peak since the process started. A batch-512 pixel update takes seconds on a CPU, so the CPU defaults are small:
  1 warm-up and 3 timed updates, 20 timed acting steps. Raise them with ``--iters``/``--act-iters``.

Times are medians (robust on a shared machine); the paper reports means over 5 runs.
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from course_lib.config import OneLineErrorParser, TrainConfig
from course_lib.results import CONFIG_HELP, parse_config
from course_lib.runtime import apply_cuda_settings, cuda_event_ms, describe_device, pick_device, set_seed

ARCHS = ("mlp2", "mlp4", "modern2", "modern4")  # Table 3's columns
#: Per device: (warm-up updates, timed updates, timed acting steps). The paper times 500 iterations.
DEFAULT_ITERS = {"cuda": (20, 500, 500), "cpu": (1, 3, 20)}
METRICS = {  # our column -> (Table 3's row label, unit, bytes or ms per unit)
    "train_mem": ("train mem (GB)", "GB", 1e9),
    "act_mem": ("act mem (MB)", "MB", 1e6),
    "train_time": ("train time (ms)", "ms", 1.0),
    "act_time": ("act time (ms)", "ms", 1.0),
}
_RESULT_TAG = "BENCH_RESULT "  # the line a worker subprocess prints its measurement on


# ============================================================================ one head, in-process
def bench_config(arch: str, batch: int = 512, hidden_dim: int = 1024, task: str = "cartpole_swingup",
                 seed: int = 0) -> TrainConfig:
    """The resolved pixel SAC configuration for head ``arch`` (e.g. ``"modern4"``, ``"mlp2+sn"``).

    Everything else is the paper's pixel setting (``TrainConfig`` auto defaults: DrQ's, batch 512).
    """
    head = parse_config(arch)
    return TrainConfig(agent="sac", obs="pixels", task=task, arch=head["arch"], depth=head["depth"],
                       sn=head["sn"], batch_size=batch, hidden_dim=hidden_dim, seed=seed,
                       video=False).resolved()


def _proc_status_kib(field: str) -> int | None:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process in KiB; None if unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_now() -> int:
    kib = _proc_status_kib("VmRSS")
    return kib * 1024 if kib is not None else _rss_peak()


def _rss_peak() -> int:
    kib = _proc_status_kib("VmHWM")
    if kib is None:  # not Linux: the peak since the process started
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1 if sys.platform != "darwin" else 1024)
    return kib * 1024


def _reset_rss_peak() -> bool:
    """Start a new peak-RSS measurement (Linux: ``/proc/self/clear_refs``), the CPU analogue of
    ``torch.cuda.reset_peak_memory_stats``. False where the system cannot, then peaks run from the start."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _timed(fn, n: int, device: torch.device) -> tuple[list[float], list[float] | None]:
    """Milliseconds of each of ``n`` calls of ``fn``: ``(times, cpu_times)``.

    ``times``: CUDA events on a GPU, wall time (``perf_counter``) on a CPU. ``cpu_times`` (CPU only,
    else None): the process's CPU time (``process_time``, user + system, all threads), which a busy
    shared machine inflates far less than wall time.
    """
    cuda = device.type == "cuda"
    times, cpu_times = [], []
    for _ in range(n):
        if cuda:
            times.append(cuda_event_ms(fn, device))
        else:
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
            cpu_times.append((time.process_time() - c0) * 1e3)
    return times, (None if cuda else cpu_times)


def _reset_cuda_peak(device: torch.device) -> None:
    """Start a new ``torch.cuda.max_memory_allocated`` peak, once the work queued so far is done."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)


def _warm_up_cpu() -> None:
    """Run every kind of operation the agent uses once, on tiny networks, before the RSS baseline.

    The first call of an operation pages in library code and sets up thread pools and kernels:
    resident memory that has nothing to do with the heads. Tiny networks (a state agent of width 8
    and a conv encoder on 16x16 frames) leave almost no freed memory behind for the real agent to
    reuse, so its weights show up in full above the baseline.
    """
    from course_lib.agents import make_agent
    from course_lib.augment import RandomShift
    from course_lib.bench_update import random_batch
    from course_lib.nets import ConvEncoder

    cfg = TrainConfig(agent="sac", obs="state", arch="modern", depth=2, sn=True, hidden_dim=8,
                      batch_size=4).resolved()
    agent = make_agent(cfg, (5,), 1, torch.device("cpu"))
    for eval_mode in (True, False):
        agent.act(np.zeros(5, np.float32), 0, eval_mode)
    for _ in range(2):
        agent.update(random_batch((5,), 1, 4, "state", "cpu"), 0)
    encoder = ConvEncoder((9, 16, 16))
    encoder(RandomShift(4)(torch.zeros(2, 9, 16, 16, dtype=torch.uint8))).sum().backward()
    del agent, encoder
    gc.collect()


def measure(arch: str, device: str | torch.device = "cpu", *, batch: int = 512, hidden_dim: int = 1024,
            warmup: int | None = None, iters: int | None = None, act_iters: int | None = None,
            task: str = "cartpole_swingup", seed: int = 0) -> dict:
    """Acting and training cost of the pixel SAC agent with head ``arch``, in this process.

    Returns a dict: ``arch``, ``train_time``/``act_time`` (median ms), ``train_mem``/``act_mem``
    (bytes: CUDA peak allocated; CPU peak RSS above the baseline, see the module docstring),
    ``baseline_rss`` (CPU), ``head_params`` (actor + both critic heads), ``agent_params`` (every
    network, targets included), ``weight_bytes``, the iteration counts and the device. On a CPU the
    peak RSS is the process's, so call this in a fresh process per head (:func:`run_bench` does).
    """
    from course_lib.agents import make_agent
    from course_lib.bench_update import random_batch
    from course_lib.envs import make_env
    from course_lib.nets import count_parameters

    device = pick_device(str(device)) if not isinstance(device, torch.device) else device
    cuda = device.type == "cuda"
    d_warmup, d_iters, d_act = DEFAULT_ITERS["cuda" if cuda else "cpu"]
    warmup, iters, act_iters = (d_warmup if warmup is None else warmup, d_iters if iters is None else iters,
                                d_act if act_iters is None else act_iters)
    _check_counts(batch=batch, iters=iters, act_iters=act_iters, warmup=warmup, hidden_dim=hidden_dim)
    cfg = bench_config(arch, batch, hidden_dim, task, seed)
    env = make_env(cfg.task, cfg.obs, seed, cfg.action_repeat, cfg.frame_stack, cfg.image_size)  # specs only
    set_seed(seed)
    apply_cuda_settings(device)  # as in training (course_lib.train): TF32 matmuls, cuDNN autotuning
    if not cuda:
        _warm_up_cpu()
    baseline = _rss_now()

    agent = make_agent(cfg, env.obs_shape, env.action_dim, device)
    nets = agent.networks()
    weight_bytes = sum(p.numel() * p.element_size() for net in nets.values() for p in net.parameters())
    head_params = sum(count_parameters(m) for m in agent.head_modules().values())
    agent_params = sum(p.numel() for net in nets.values() for p in net.parameters())

    # --- acting: one observation at a time, the mean action (deployment) ---------------------
    obs = np.random.default_rng(seed).integers(0, 256, env.obs_shape, dtype=np.uint8)
    step = cfg.seed_frames // cfg.action_repeat
    # Building the agent has its own transient peak (initialisation temporaries): not acting's.
    # CUDA restarts its peak after the warm-up instead, which also leaves out cuDNN's autotuning
    # of the new shapes (it tries algorithms with workspaces of their own).
    phase_peaks = cuda or _reset_rss_peak()
    act = lambda: agent.act(obs, step, eval_mode=True)  # noqa: E731
    _timed(act, min(5, act_iters), device)  # warm-up
    if cuda:
        _reset_cuda_peak(device)
    act_times, act_cpu = _timed(act, act_iters, device)
    if cuda:
        act_mem = torch.cuda.max_memory_allocated(device)
    else:
        act_mem = _rss_peak() - baseline
        _reset_rss_peak()

    # --- training: updates on a fixed batch already on the device ---------------------------
    data = random_batch(env.obs_shape, env.action_dim, cfg.batch_size, cfg.obs, device, seed)
    update = lambda: agent.update(data, step)  # noqa: E731
    _timed(update, warmup, device)
    if cuda:
        _reset_cuda_peak(device)
    train_times, train_cpu = _timed(update, iters, device)
    train_mem = torch.cuda.max_memory_allocated(device) if cuda else _rss_peak() - baseline

    return {
        "arch": arch, "train_mem": int(train_mem), "act_mem": int(act_mem),
        "train_time": statistics.median(train_times), "act_time": statistics.median(act_times),
        "train_time_min": min(train_times), "act_time_min": min(act_times),
        "train_cpu_time": None if cuda else statistics.median(train_cpu),
        "act_cpu_time": None if cuda else statistics.median(act_cpu),
        "baseline_rss": None if cuda else int(baseline),
        "memory": "cuda max_memory_allocated" if cuda else
                  ("peak RSS per phase" if phase_peaks else "peak RSS since start"),
        "head_params": int(head_params), "agent_params": int(agent_params), "weight_bytes": int(weight_bytes),
        "batch": cfg.batch_size, "hidden_dim": cfg.hidden_dim, "warmup": warmup, "iters": iters,
        "act_iters": act_iters, "device": _device_name(device),
        "threads": torch.get_num_threads(),
    }


def _device_name(device: torch.device) -> str:
    """``"cpu"``, or ``"cuda (<GPU name>; TF32 matmuls, ...)"``: the GPU and its math settings."""
    return describe_device(device)


def _check_counts(**values) -> None:
    minimum = {"warmup": 0}
    for name, value in values.items():
        low = minimum.get(name, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name.replace('_', '-')} must be an integer >= {low}, got {value!r}")


# ============================================================================ several heads
def _measure_in_subprocess(arch: str, options: dict, threads: int | None) -> dict:
    """:func:`measure` in a fresh Python process, so that peak RSS belongs to this head alone."""
    args = [sys.executable, "-m", "course_lib.bench", "--worker", "--device", "cpu", "--archs", arch]
    for name, value in options.items():
        if value is not None:
            args += ["--" + name.replace("_", "-"), str(value)]
    if threads is not None:
        args += ["--threads", str(threads)]
    proc = subprocess.run(args, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"benchmark of {arch} failed (exit {proc.returncode}): " + " | ".join(tail))
    return json.loads(lines[-1][len(_RESULT_TAG):])


def run_bench(archs=ARCHS, device: str = "auto", *, batch: int = 512, hidden_dim: int = 1024,
              warmup: int | None = None, iters: int | None = None, act_iters: int | None = None,
              task: str = "cartpole_swingup", seed: int = 0, threads: int | None = None,
              progress: bool = True) -> pd.DataFrame:
    """Measure every head in ``archs``; one row per head (columns as :func:`measure` returns).

    CPU: one fresh subprocess per head. CUDA: in this process, peak memory statistics reset and
    the previous agent freed between heads.
    """
    archs = list(dict.fromkeys(archs))
    if not archs:
        raise ValueError(f"give at least one head to measure, e.g. {' '.join(ARCHS)}")
    for arch in archs:
        parse_config(arch)
    dev = pick_device(device)
    options = dict(batch=batch, hidden_dim=hidden_dim, warmup=warmup, iters=iters, act_iters=act_iters,
                   task=task, seed=seed)
    _check_counts(batch=batch, hidden_dim=hidden_dim,
                  **{k: v for k, v in options.items() if k in ("warmup", "iters", "act_iters") and v is not None})
    from tqdm.auto import tqdm

    rows = []
    for arch in tqdm(archs, desc="heads", unit="head", **({} if progress else {"disable": True})):
        if dev.type == "cuda":
            rows.append(measure(arch, dev, **options))
            gc.collect()
            torch.cuda.empty_cache()
        else:
            rows.append(_measure_in_subprocess(arch, options, threads))
    return pd.DataFrame(rows)


# ============================================================================ beside the paper
def paper_comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Our measurements beside Table 3's V100 numbers, in the paper's units.

    One row per (metric, head): ``metric`` (the paper's row label), ``arch``, ``ours``, ``paper``
    (mean over the paper's 5 runs; NaN for heads the paper did not measure, e.g. ``modern4+sn``)
    and ``ratio`` (ours / paper).
    """
    from course_lib.paper import table3

    paper = table3().set_index(["metric", "config"])["mean"]
    rows = []
    for metric, (label, _unit, scale) in METRICS.items():
        for r in results.itertuples(index=False):
            ours = getattr(r, metric) / scale
            ref = paper.get((metric, r.arch), np.nan)
            rows.append({"metric": label, "arch": r.arch, "ours": ours, "paper": ref,
                         "ratio": ours / ref if ref == ref else np.nan})
    return pd.DataFrame(rows)


def format_table(results: pd.DataFrame) -> pd.DataFrame:
    """Table 3's layout: one row per metric, per head the columns ``ours`` and ``paper (V100)``.

    Extra rows the paper does not have: ``weights (MB)``, the float32 size of every network of the
    agent (targets included), which acting memory is mostly made of; on a CPU also ``train CPU time``
    and ``act CPU time`` (process time: robust where other programs share the cores, when wall time
    is not). Values are strings rounded for reading.
    """
    comparison = paper_comparison(results)
    archs = list(dict.fromkeys(results["arch"]))
    table = {}
    for arch in archs:
        part = comparison[comparison["arch"] == arch].set_index("metric")
        table[(arch, "ours")] = [_fmt(v) for v in part["ours"]]
        table[(arch, "paper (V100)")] = [_fmt(v) for v in part["paper"]]
    extra = {"weights (MB)": ("weight_bytes", 1e6)}  # what acting memory is mostly made of
    if "train_cpu_time" in results and results["train_cpu_time"].notna().all():  # CPU runs
        extra.update({"train CPU time (ms)": ("train_cpu_time", 1.0), "act CPU time (ms)": ("act_cpu_time", 1.0)})
    for arch in archs:  # rows the paper does not have
        row = results[results["arch"] == arch].iloc[0]
        for column, scale in extra.values():
            table[(arch, "ours")].append(_fmt(row[column] / scale))
            table[(arch, "paper (V100)")].append("-")
    index = [label for label, _, _ in METRICS.values()] + list(extra)
    out = pd.DataFrame(table, index=index)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def _fmt(value: float) -> str:
    if value != value:  # NaN: the paper did not measure it
        return "-"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def describe(results: pd.DataFrame) -> str:
    """One line saying what was measured, where and how (for under the table)."""
    r = results.iloc[0]
    if str(r["device"]).startswith("cuda"):
        memory = "peak CUDA memory allocated over the timed calls (torch.cuda.max_memory_allocated)"
        timing = "CUDA events"
    else:
        per_phase = " (restarted for acting and for training)" if r.get("memory") == "peak RSS per phase" else ""
        memory = (f"peak RSS{per_phase} above the process baseline ({r['baseline_rss'] / 2**20:.0f} MiB "
                  f"before the agent was built), one fresh process per head")
        timing = "time.perf_counter (wall) and time.process_time (CPU)"
    return (f"pixel SAC, hidden {r['hidden_dim']}, batch {r['batch']}, on {r['device']} "
            f"({r['threads']} threads): median of {r['iters']} updates (after {r['warmup']} warm-up) "
            f"and {r['act_iters']} acting steps, timed with {timing}; memory: {memory}.")


# ============================================================================ the command line
def main(argv: list[str] | None = None) -> int:
    parser = OneLineErrorParser(prog="python -m course_lib.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--archs", nargs="+", default=list(ARCHS),
                        help=f"heads to measure (default: {' '.join(ARCHS)}); {CONFIG_HELP}")
    parser.add_argument("--batch", type=int, default=512, help="training batch size (default: 512, the paper)")
    parser.add_argument("--iters", type=int, default=None,
                        help="timed updates per head (default: CUDA 500 as the paper, CPU 3: a batch-512 "
                             "pixel update takes seconds on a CPU)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed updates first (default: CUDA 20, CPU 1)")
    parser.add_argument("--act-iters", type=int, default=None, help="timed acting steps (default: CUDA 500, CPU 20)")
    parser.add_argument("--hidden-dim", type=int, default=1024, help="head width (default: 1024, the paper)")
    parser.add_argument("--task", default="cartpole_swingup", help="sets the action size (default: cartpole_swingup)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="CPU: torch threads (default: torch's choice)")
    parser.add_argument("--csv", default=None, help="also write the measurements to this CSV file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one head, prints JSON
    args = parser.parse_args(argv)
    try:
        if args.threads is not None:
            _check_counts(threads=args.threads)
            torch.set_num_threads(args.threads)
        for arch in args.archs:
            parse_config(arch)
        from course_lib.envs import parse_task
        parse_task(args.task)
        options = dict(batch=args.batch, hidden_dim=args.hidden_dim, warmup=args.warmup, iters=args.iters,
                       act_iters=args.act_iters, task=args.task, seed=args.seed)
        if args.worker:
            print(_RESULT_TAG + json.dumps(measure(args.archs[0], args.device, **options)))
            return 0
        _check_counts(batch=args.batch, hidden_dim=args.hidden_dim,
                      **{k: v for k, v in (("warmup", args.warmup), ("iters", args.iters),
                                           ("act_iters", args.act_iters)) if v is not None})
        device = pick_device(args.device)
        if device.type == "cpu":
            print(f"CPU: {DEFAULT_ITERS['cpu'][1] if args.iters is None else args.iters} timed updates "
                  f"per head at batch {args.batch} (seconds each on a CPU; --iters to change), "
                  "each head in a fresh process.", file=sys.stderr)
        results = run_bench(args.archs, args.device, threads=args.threads, progress=not args.no_progress,
                            **options)
    except ValueError as err:
        print(f"{parser.prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 1
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(format_table(results).to_string())
    print(describe(results))
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        results.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
