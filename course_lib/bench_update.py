"""How long does one agent update take, and how much memory does it need? (paper Sec. 5.4, Table 3)

    python -m course_lib.bench_update --agent sac --obs pixels --batch 128 --arch mlp --depth 2 --device cpu
    python -m course_lib.bench_update --agent sac --obs pixels --batch 512 --arch modern --depth 4 --sn --device cuda

Builds the agent exactly as training does (same config defaults), feeds it a fixed random batch that
already sits on the device (replay sampling and the host-to-device copy are not included), runs
``--warmup`` updates, then times ``--repeats`` updates one by one and prints the median in ms.
Time: ``time.perf_counter`` on the CPU, CUDA events on a GPU (as the paper: "we measure time with
CUDA events"); on CUDA with cuDNN autotuning and TF32 matmuls, as training runs. Memory: on CUDA
the peak of ``torch.cuda.max_memory_allocated`` over the timed updates (weights, optimizer state,
activations); on the CPU the process's peak resident set size (``resource.getrusage``, which
includes Python, torch and dm_control themselves). On the CPU the process CPU time per update
(all threads) is printed too: on a machine shared with other jobs it is a steadier measure than
wall time (with one thread it is the wall time of an idle machine).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import numpy as np
import torch

from course_lib.config import AGENTS, ARCHS, OBS_TYPES, PROFILES, OneLineErrorParser, TrainConfig
from course_lib.runtime import apply_cuda_settings, cuda_event_ms, pick_device, set_seed


def random_batch(obs_shape, action_dim: int, batch: int, obs_type: str, device, seed: int = 0) -> dict:
    """A replay-like batch on ``device``: uint8 frames (pixels) or float states, actions in [-1, 1]."""
    rng = np.random.default_rng(seed)
    if obs_type == "pixels":
        obs = rng.integers(0, 256, (batch, *obs_shape), dtype=np.uint8)
        next_obs = rng.integers(0, 256, (batch, *obs_shape), dtype=np.uint8)
    else:
        obs = rng.standard_normal((batch, *obs_shape)).astype(np.float32)
        next_obs = rng.standard_normal((batch, *obs_shape)).astype(np.float32)
    arrays = {"obs": obs, "next_obs": next_obs,
              "action": rng.uniform(-1, 1, (batch, action_dim)).astype(np.float32),
              "reward": rng.uniform(0, 1, (batch, 1)).astype(np.float32),
              "discount": np.full((batch, 1), 0.99, np.float32)}
    return {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}


def benchmark(config: TrainConfig, device: torch.device, warmup: int = 3, repeats: int = 10) -> dict:
    """Median ms per ``agent.update`` and peak memory for a resolved ``config``; returns a dict."""
    from course_lib.agents import make_agent
    from course_lib.envs import make_env

    cfg = config.resolved()
    env = make_env(cfg.task, cfg.obs, 0, cfg.action_repeat, cfg.frame_stack, cfg.image_size)  # specs only
    set_seed(cfg.seed)
    cuda_settings = apply_cuda_settings(device)  # as in training: TF32 matmuls, cuDNN autotuning
    agent = make_agent(cfg, env.obs_shape, env.action_dim, device)
    batch = random_batch(env.obs_shape, env.action_dim, cfg.batch_size, cfg.obs, device)
    step = cfg.seed_frames // cfg.action_repeat
    for _ in range(warmup):
        agent.update(batch, step)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    times, cpu_times = [], []
    for _ in range(repeats):
        if cuda:
            times.append(cuda_event_ms(lambda: agent.update(batch, step), device))
        else:
            t0, c0 = time.perf_counter(), time.process_time()
            agent.update(batch, step)
            times.append((time.perf_counter() - t0) * 1e3)
            cpu_times.append((time.process_time() - c0) * 1e3)
    if cuda:
        memory = torch.cuda.max_memory_allocated(device)
        memory_kind = "peak CUDA memory allocated"
    else:
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        memory_kind = "peak RSS of the process"
    return {"ms_median": statistics.median(times), "ms_min": min(times), "ms_max": max(times),
            "cpu_ms_median": statistics.median(cpu_times) if cpu_times else None,
            "repeats": repeats, "memory_bytes": memory, "memory_kind": memory_kind,
            "threads": torch.get_num_threads(), "cuda_settings": cuda_settings, "config": cfg}


def time_alternating(runs: dict, rounds: int, repeats: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Time several ways of doing the same work side by side: ``runs`` maps a name to a no-argument callable.

    In each of ``rounds`` rounds every callable in turn is called once untimed (to warm its
    allocator) and then ``repeats`` times timed, so that all of them see the same drift of a shared
    machine. Returns ``(cpu, wall)``: per name, the process CPU seconds (all threads) and the wall
    seconds of each timed call.
    """
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, work in runs.items():
            work()
            for _ in range(repeats):
                c, w = time.process_time(), time.perf_counter()
                work()
                cpu[name].append(time.process_time() - c)
                wall[name].append(time.perf_counter() - w)
    return cpu, wall


def main(argv: list[str] | None = None) -> int:
    parser = OneLineErrorParser(prog="python -m course_lib.bench_update", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", choices=AGENTS, default="sac")
    parser.add_argument("--obs", choices=OBS_TYPES, default="pixels")
    parser.add_argument("--task", default="cartpole_swingup", help="sets the action size (default: cartpole_swingup)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: the agent's training default)")
    parser.add_argument("--arch", choices=ARCHS, default="mlp")
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--sn", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--hidden-dim", type=int, default=None, help="head width (default: 1024 pixels, 256 state)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--profile", choices=PROFILES, default="paper",
                        help="pixels: paper or cpu (the reduced-cost setting, course_lib.config.CPU_PROFILE)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed updates first (default: 3)")
    parser.add_argument("--repeats", type=int, default=10, help="timed updates (default: 10)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False,
                        help="torch.compile the networks (default: off)")
    args = parser.parse_args(argv)
    try:
        if args.warmup < 0 or args.repeats < 1:
            raise ValueError("--warmup must be >= 0 and --repeats >= 1")
        device = pick_device(args.device)
        config = TrainConfig(agent=args.agent, obs=args.obs, task=args.task, arch=args.arch, depth=args.depth,
                             sn=args.sn, batch_size=args.batch, hidden_dim=args.hidden_dim, device=args.device,
                             compile=args.compile, profile=args.profile)
        config.resolved()
        from course_lib.envs import parse_task
        parse_task(args.task)
    except ValueError as err:
        print(f"{parser.prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    r = benchmark(config, device, args.warmup, args.repeats)
    c = r["config"]
    head = f"{c.arch}{c.depth}" + ("+sn" if c.sn else "") + f" (actor {c.actor_arch}{c.actor_depth}" + \
        ("+sn" if c.actor_sn else "") + ")"
    where = f"{device}" + (f" ({torch.cuda.get_device_name(device)}; {r['cuda_settings']})"
                           if device.type == "cuda" else f" ({r['threads']} threads)")
    image = f" {c.image_size}x{c.image_size}" if c.obs == "pixels" else ""
    print(f"{c.agent} {c.obs}{image} {head} hidden {c.hidden_dim} batch {c.batch_size} on {where}: "
          f"{r['ms_median']:.1f} ms/update (median of {r['repeats']}, min {r['ms_min']:.1f}, "
          f"max {r['ms_max']:.1f}"
          + (f"; CPU time {r['cpu_ms_median']:.1f} ms, all threads" if r["cpu_ms_median"] is not None else "")
          + f"); {r['memory_kind']} {r['memory_bytes'] / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
