"""Does the pixel DDPG actor's tanh saturate in its first updates? Measured on real frames.

    python tools/probe_actor_saturation.py                                  # paper's agent, 84x84 frames
    python tools/probe_actor_saturation.py --profile cpu                    # the CPU pixel setting (48x48)
    python tools/probe_actor_saturation.py --configs modern4+sn --variants plain pnorm=actor penalty=0.1

Collects ``--frames`` frames of ``--task`` from pixels with uniformly random actions, through
:func:`course_lib.envs.make_env` and :class:`course_lib.replay.ReplayBuffer` exactly as training
does (frame stack 3, DrQ-v2's n-step returns), then builds the pixel DDPG agent (DrQ-v2 defaults:
hidden 1024, lr 1e-4; or ``--profile cpu``) with each head and each variant and runs ``--updates``
updates on batches of ``--batch`` transitions sampled from that replay. After every update it
prints the largest pre-tanh actor output ``max |mu|`` over the batch (measured in that update's
actor forward, before the step), the fraction of action entries with ``|tanh(mu)| > 0.99`` and the
actor's gradient norm. tanh(9) rounds to 1.0 in float32, so once every ``|mu|`` is above ~9 the
actor's gradient is exactly 0 and it can never move again.

Variants: ``plain`` (the paper's agent), ``pnorm=actor|critic|both`` (penultimate normalization,
:class:`course_lib.nets.PenultimateNorm`) and ``penalty=C`` (``C * mean(mu^2)`` added to the actor
loss), from Bjorck, Gomes, Weinberger (ICLR 2022). Every variant starts from the same seed, the
same replay and the same sequence of batches.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from course_lib.agents import make_agent
from course_lib.config import PROFILES, OneLineErrorParser, TrainConfig
from course_lib.envs import make_env
from course_lib.replay import ReplayBuffer, to_torch
from course_lib.results import parse_config
from course_lib.runtime import pick_device


def parse_variant(text: str) -> dict:
    """``plain`` -> {}; ``pnorm=both`` -> {"pnorm": "both"}; ``penalty=0.1`` -> {"pre_tanh_penalty": 0.1}."""
    name, _, value = text.partition("=")
    if name == "plain" and not value:
        return {}
    if name == "pnorm" and value in ("actor", "critic", "both"):
        return {"pnorm": value}
    if name == "penalty":
        try:
            coef = float(value)
        except ValueError:
            coef = -1.0
        if coef > 0:
            return {"pre_tanh_penalty": coef}
    raise ValueError(f"unknown variant {text!r}; write plain, pnorm=actor|critic|both or penalty=C with C > 0")


def collect(cfg: TrainConfig, frames: int, seed: int) -> ReplayBuffer:
    """A replay of ``frames`` frames of uniformly random actions (the seed phase of a run)."""
    env = make_env(cfg.task, "pixels", seed, cfg.action_repeat, cfg.frame_stack, cfg.image_size)
    steps = max(1, frames // cfg.action_repeat)
    replay = ReplayBuffer(steps + steps // 10 + 10, env.obs_shape, env.action_dim, "pixels",
                          cfg.frame_stack, cfg.n_step, cfg.discount, seed=seed)
    rng = np.random.default_rng(seed)
    ts = None
    for _ in range(steps):
        if ts is None or ts.last:
            ts = env.reset()
            replay.add_first(ts.observation)
        action = rng.uniform(-1.0, 1.0, env.action_dim).astype(np.float32)
        ts = env.step(action)
        replay.add(action, ts.reward, ts.discount, ts.observation, ts.last)
    return replay


def probe(cfg: TrainConfig, replay: ReplayBuffer, updates: int, seed: int) -> list[dict]:
    """One row per update: pre_tanh_max, saturated_frac, actor_grad_norm (from the agent's metrics)."""
    torch.manual_seed(seed)
    device = pick_device(cfg.device)
    agent = make_agent(cfg, replay.obs_shape, replay.action_dim, device)
    replay._rng = np.random.default_rng(seed)  # the same sequence of batches for every variant
    rows = []
    step = cfg.seed_frames // cfg.action_repeat
    for _ in range(updates):
        batch = to_torch(replay.sample(cfg.batch_size), device)
        metrics = agent.update(batch, step)
        rows.append({k: float(metrics[k]) for k in ("pre_tanh_max", "saturated_frac", "actor_grad_norm")})
        step += cfg.update_every
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = OneLineErrorParser(prog="python tools/probe_actor_saturation.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["mlp2", "modern4", "modern4+sn"],
                        help="critic heads (the actor: mlp the same depth, modern half of it)")
    parser.add_argument("--variants", nargs="+", default=["plain", "pnorm=both", "penalty=0.1"])
    parser.add_argument("--profile", choices=PROFILES, default="paper")
    parser.add_argument("--task", default="cartpole_swingup")
    parser.add_argument("--frames", type=int, default=16000, help="frames of random actions in the replay")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    try:
        heads = [(c, parse_config(c)) for c in args.configs]
        variants = [(v, parse_variant(v)) for v in args.variants]
        if args.frames < 1 or args.batch < 1 or args.updates < 1:
            raise ValueError("--frames, --batch and --updates must be >= 1")
        base = TrainConfig(agent="ddpg", obs="pixels", task=args.task, profile=args.profile,
                           batch_size=args.batch, seed=args.seed, device=args.device).resolved()
        pick_device(args.device)  # auto, cpu, cuda[:N]: a one-line error for what this machine lacks
    except ValueError as err:
        print(f"{parser.prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    replay = collect(base, args.frames, args.seed)
    print(f"replay: {len(replay)} transitions of {args.task} ({args.frames} frames, random actions, "
          f"{base.image_size}x{base.image_size}, action repeat {base.action_repeat}) in "
          f"{time.perf_counter() - started:.0f} s; DDPG hidden {base.hidden_dim}, lr {base.lr:g}, "
          f"batch {args.batch}, torch threads {torch.get_num_threads()}", flush=True)
    for name, head in heads:
        for vname, extra in variants:
            # the actor follows the head unless the head names it (e.g. modern4+critic_sn)
            cfg = TrainConfig(**{**base.to_dict(), "actor_arch": None, "actor_depth": None, "actor_sn": None,
                                 **head, **extra}).resolved()
            t0 = time.process_time()
            rows = probe(cfg, replay, args.updates, args.seed)
            cells = [f"{r['pre_tanh_max']:.2f}/{r['saturated_frac']:.2f} (g {r['actor_grad_norm']:.1e})"
                     for r in rows]
            print(f"{name:11s} {vname:12s} max|mu|/saturated (actor grad norm) per update: " + ", ".join(cells)
                  + f"  [{time.process_time() - t0:.0f} CPU-s]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
