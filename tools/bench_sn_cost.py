"""What does spectral normalization cost per SAC update, and how much of it is the power step alone?

    python tools/bench_sn_cost.py                          # modern8 from states, h128, batch 128
    python tools/bench_sn_cost.py --hidden-dim 1024 --batch 512 --rounds 2 --repeats 3

Builds three state SAC agents with the same modern head (course_lib's, exactly as training builds
them) and times their ``update`` side by side in one process, one torch thread, alternating
(``course_lib.bench_update.time_alternating``), so that all three see the same drift of a shared
machine:

- ``no SN``: the head without SN;
- ``SN``: the library's SN (one power step per training forward, then ``W / sigma`` with the
  gradient through sigma, as Miyato et al. and PyTorch);
- ``power step only``: the same SN layers, but the forward takes the power step and then uses the
  *unnormalized* weight. It is not an agent anyone should train: it is the cost that any SN with
  one power step per forward pays before it normalizes anything, so it is a lower bound on SN's cost.

Prints the median process CPU time per update of each, and each one's ratio to ``no SN``.
Benchmarks only; nothing is stored. On the course's 2-core machine (2026-12-07, modern8, h128,
batch 128, two processes): SN 1.55x and 1.65x, power step only 1.27x both times. So at this size the
power step alone costs more than 15 %, whatever the normalization after it costs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import types

import torch
import torch.nn.functional as F

from course_lib.agents import make_agent
from course_lib.bench_update import random_batch, time_alternating
from course_lib.config import TrainConfig
from course_lib.envs import make_env
from course_lib.spectral import SpectralLinear, power_step_


def power_step_only_forward(layer: SpectralLinear, x: torch.Tensor) -> torch.Tensor:
    """An SN layer's forward that takes SN's power step and then skips the normalization (a cost bound)."""
    weight = layer.parametrizations.weight
    sn = weight[0]
    if sn.training:
        with torch.no_grad():
            power_step_(weight.original, sn._u, sn._v, sn.eps)
    return F.linear(x, weight.original, layer.bias)


def make_agent_and_batch(args, sn: bool, power_step_only: bool = False):
    """A fresh state SAC agent with ``args``' modern head, a fixed random batch, and the step to pass."""
    config = TrainConfig(agent="sac", obs="state", task=args.task, arch="modern", depth=args.depth, sn=sn,
                         hidden_dim=args.hidden_dim, batch_size=args.batch, device="cpu").resolved()
    env = make_env(config.task, config.obs, 0, config.action_repeat, config.frame_stack, config.image_size)
    torch.manual_seed(0)
    agent = make_agent(config, env.obs_shape, env.action_dim, torch.device("cpu"))
    if power_step_only:
        swapped = 0
        for net in (agent.actor, agent.critic, agent.critic_target):
            for layer in net.modules():
                if isinstance(layer, SpectralLinear) and hasattr(layer, "parametrizations"):
                    layer.forward = types.MethodType(power_step_only_forward, layer)
                    swapped += 1
        assert swapped, "no SN layer found"
    batch = random_batch(env.obs_shape, env.action_dim, config.batch_size, "state", torch.device("cpu"))
    return agent, batch, config.seed_frames // config.action_repeat


def make_update(args, sn: bool, power_step_only: bool = False):
    """A no-argument callable that runs one update of a fresh agent on a fixed random batch."""
    agent, batch, step = make_agent_and_batch(args, sn, power_step_only)
    return lambda: agent.update(batch, step)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="cartpole_swingup", help="sets the state and action sizes")
    parser.add_argument("--depth", type=int, default=8, help="modern head depth (default: 8)")
    parser.add_argument("--hidden-dim", type=int, default=128, help="head width (default: 128)")
    parser.add_argument("--batch", type=int, default=128, help="batch size (default: 128)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default: 6)")
    parser.add_argument("--repeats", type=int, default=5, help="timed updates per round and agent (default: 5)")
    args = parser.parse_args(argv)
    for name in ("depth", "hidden_dim", "batch", "rounds", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    torch.set_num_threads(1)
    runs = {"no SN": make_update(args, sn=False), "SN": make_update(args, sn=True),
            "power step only": make_update(args, sn=True, power_step_only=True)}
    for update in runs.values():  # warm up: first updates allocate
        update()
    cpu, _ = time_alternating(runs, args.rounds, args.repeats)
    base = statistics.median(cpu["no SN"])
    print(f"SAC update from states, modern{args.depth}, h{args.hidden_dim}, batch {args.batch}, 1 thread, "
          f"median CPU time of {args.rounds * args.repeats} updates:")
    for name, times in cpu.items():
        print(f"  {name:16s} {statistics.median(times) * 1e3:9.1f} ms  {statistics.median(times) / base:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
