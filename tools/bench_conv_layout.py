"""Before/after, in one process: the pixel encoder's CPU layout (issue: pixel updates on a CPU).

    OMP_NUM_THREADS=2 python tools/bench_conv_layout.py --threads 2 --batch 128 --rounds 3

Times pixel SAC updates (DrQ: K = M = 2 augmented copies, so the encoder sees 2 x batch images)
with :class:`course_lib.nets.ConvEncoder` as it ran before (NCHW tensors, the 2 x batch copies in
one call) and as it runs now on a CPU (channels-last tensors, at most ``ConvEncoder.CPU_CHUNK``
images per call), alternating the two in rounds so that both see the same machine load. Prints the
CPU time per update (all threads; steadier than wall time on a shared machine) and the wall time.
A script that prints numbers, not a test.
"""
from __future__ import annotations

import argparse
import statistics

import torch

from course_lib import nets
from course_lib.agents import make_agent
from course_lib.bench_update import random_batch, time_alternating
from course_lib.config import TrainConfig
from course_lib.runtime import set_seed

CURRENT_FORWARD = nets.ConvEncoder.forward


def nchw_forward(self, obs: torch.Tensor) -> torch.Tensor:
    """The encoder's forward before the CPU layout: NCHW, the whole batch in one call."""
    x = obs.float() / 255.0
    if self.scaling == "centered":
        x = x - 0.5
    return self.convs(x).flatten(1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--arch", default="mlp", choices=("mlp", "modern"))
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two layouts")
    parser.add_argument("--updates", type=int, default=2, help="timed updates per layout and round")
    args = parser.parse_args(argv)
    if min(args.threads, args.batch, args.rounds, args.updates, args.depth) < 1:
        parser.error("--threads, --batch, --rounds, --updates and --depth must be >= 1")
    torch.set_num_threads(args.threads)
    cfg = TrainConfig(agent="sac", obs="pixels", task="cartpole_swingup", arch=args.arch, depth=args.depth,
                      batch_size=args.batch, device="cpu").resolved()
    set_seed(1)
    agent = make_agent(cfg, (9, cfg.image_size, cfg.image_size), 1, torch.device("cpu"))
    batch = random_batch((9, cfg.image_size, cfg.image_size), 1, args.batch, "pixels", "cpu")
    layouts = {"before: NCHW, one call": nchw_forward, "now: channels-last, chunks": CURRENT_FORWARD}

    def update_with(forward):
        def update():
            nets.ConvEncoder.forward = forward  # an attribute write, next to a second-long update
            agent.update(batch, 1000)
        return update

    try:
        cpu, wall = time_alternating({name: update_with(f) for name, f in layouts.items()}, args.rounds, args.updates)
    finally:
        nets.ConvEncoder.forward = CURRENT_FORWARD
    print(f"pixel SAC {cfg.arch}{cfg.depth} hidden {cfg.hidden_dim} batch {args.batch} (K = M = 2), "
          f"{args.threads} thread(s), {args.rounds} x {args.updates} updates per layout:")
    for name in layouts:
        print(f"  {name:<28} CPU {statistics.median(cpu[name]):6.2f} s/update (min {min(cpu[name]):.2f}),"
              f" wall {statistics.median(wall[name]):6.2f} s")
    before, now = (statistics.median(cpu[n]) for n in layouts)
    print(f"  speed-up (CPU time, medians): {before / now:.2f}x")


if __name__ == "__main__":
    main()
