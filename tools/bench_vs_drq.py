"""Our pixel SAC update beside the original DrQ agent's (Kostrikov, Yarats, Fergus 2020), in one process.

    git clone https://github.com/denisyarats/drq /tmp/drq        # its code is read, never copied here
    OMP_NUM_THREADS=2 python tools/bench_vs_drq.py --drq /tmp/drq --threads 2 --batch 128 --rounds 3

Both agents get the same setting: 84x84 frames, 3 stacked, hidden width 1024, 2 hidden layers,
feature_dim 50, K = M = 2 augmented views, random shifts of 4 pixels, lr 1e-3, actor and target
updated every 2nd step (DrQ's ``config.yaml``), one action dimension (cartpole). One *update* is
one critic step plus, every 2nd step, the actor, alpha and target steps; each timed unit is two
consecutive updates (one of each kind), reported per update. Both sides include the random-shift
augmentation of their four batches (for DrQ with our :class:`course_lib.augment.RandomShift` in place of
its kornia crop, which the original applies while sampling) and neither includes replay sampling.
The two agents alternate in rounds so that both see the same machine load; CPU time (all threads)
is the steadier number on a shared machine.

DrQ's ``drq.py`` imports hydra, gym and scikit-image for parts that are not timed here; the script
puts small stand-ins for them in ``sys.modules`` when they are not installed. A script that prints
numbers, not a test.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import types
from pathlib import Path

import numpy as np
import torch

from course_lib.agents import make_agent
from course_lib.augment import RandomShift
from course_lib.bench_update import random_batch, time_alternating
from course_lib.config import TrainConfig
from course_lib.runtime import set_seed


def _stand_ins() -> None:
    """hydra.utils.instantiate, gym.Wrapper and skimage's view_as_windows, as far as drq.py needs them."""
    if "hydra" not in sys.modules:
        hydra = types.ModuleType("hydra")
        hydra.utils = types.SimpleNamespace(instantiate=lambda cfg: cfg["class"](**cfg["params"]))
        sys.modules["hydra"] = hydra
    try:
        import gym  # noqa: F401
    except ImportError:
        gym = types.ModuleType("gym")
        gym.Wrapper, gym.spaces = object, types.SimpleNamespace(Box=None)
        sys.modules["gym"] = gym
    try:
        import skimage.util.shape  # noqa: F401
    except ImportError:
        for name in ("skimage", "skimage.util", "skimage.util.shape"):
            sys.modules[name] = types.ModuleType(name)
        sys.modules["skimage.util.shape"].view_as_windows = None


class _NoLogger:
    def log(self, *args, **kwargs):
        pass

    log_histogram = log_param = log_image = log


def drq_agent(drq_dir: Path, batch: int, action_dim: int = 1, image_size: int = 84):
    """The original DRQAgent with its config.yaml values, built without hydra."""
    if not (drq_dir / "drq.py").exists():
        raise SystemExit(f"--drq {drq_dir}: no drq.py there; clone https://github.com/denisyarats/drq first")
    _stand_ins()
    sys.path.insert(0, str(drq_dir))
    import drq  # noqa: E402  (the original's module)

    encoder = {"class": drq.Encoder, "params": {"obs_shape": (9, image_size, image_size), "feature_dim": 50}}
    critic = {"class": drq.Critic, "params": {"encoder_cfg": encoder, "action_shape": (action_dim,),
                                              "hidden_dim": 1024, "hidden_depth": 2}}
    actor = {"class": drq.Actor, "params": {"encoder_cfg": encoder, "action_shape": (action_dim,),
                                            "hidden_depth": 2, "hidden_dim": 1024, "log_std_bounds": [-10, 2]}}
    return drq.DRQAgent(obs_shape=(9, image_size, image_size), action_shape=(action_dim,), action_range=[-1.0, 1.0],
                        device=torch.device("cpu"), encoder_cfg=encoder, critic_cfg=critic, actor_cfg=actor,
                        discount=0.99, init_temperature=0.1, lr=1e-3, actor_update_frequency=2, critic_tau=0.01,
                        critic_target_update_frequency=2, batch_size=batch)


def drq_two_updates(agent, batch: dict, shift: RandomShift, logger, step: int) -> None:
    """Steps ``step`` (critic only) and ``step + 1`` (critic, actor and alpha, target) of the original."""
    obs, next_obs = batch["obs"].float(), batch["next_obs"].float()
    not_done = torch.ones_like(batch["reward"])
    for s in (step, step + 1):
        views = [shift(x) for x in (obs, obs, next_obs, next_obs)]
        agent.update_critic(views[0], views[1], batch["action"], batch["reward"], views[2], views[3], not_done,
                            logger, s)
        if s % agent.actor_update_frequency == 0:
            agent.update_actor_and_alpha(views[0], logger, s)
        if s % agent.critic_target_update_frequency == 0:
            for p_target, p in zip(agent.critic_target.parameters(), agent.critic.parameters()):
                p_target.data.lerp_(p.data, agent.critic_tau)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drq", required=True, type=Path, help="a clone of github.com/denisyarats/drq")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two agents")
    parser.add_argument("--pairs", type=int, default=1, help="timed pairs of updates per agent and round")
    args = parser.parse_args(argv)
    if min(args.threads, args.batch, args.rounds, args.pairs) < 1:
        parser.error("--threads, --batch, --rounds and --pairs must be >= 1")
    torch.set_num_threads(args.threads)
    cfg = TrainConfig(agent="sac", obs="pixels", task="cartpole_swingup", arch="mlp", depth=2,
                      batch_size=args.batch, device="cpu").resolved()
    assert (cfg.hidden_dim, cfg.image_size, cfg.target_augs, cfg.critic_augs) == (1024, 84, 2, 2)
    set_seed(1)
    ours = make_agent(cfg, (9, 84, 84), 1, torch.device("cpu"))
    theirs = drq_agent(args.drq, args.batch)
    batch = random_batch((9, 84, 84), 1, args.batch, "pixels", "cpu")
    shift, logger = RandomShift(4), _NoLogger()
    step = 1001  # odd: each pair is a critic-only step, then a full one
    runs = {"ours (course_lib SAC)": lambda: (ours.update(batch, step), ours.update(batch, step + 1)),
            "original DrQ": lambda: drq_two_updates(theirs, batch, shift, logger, step)}
    pair_cpu, pair_wall = time_alternating(runs, args.rounds, args.pairs)
    cpu = {name: [t / 2 for t in times] for name, times in pair_cpu.items()}  # per update
    wall = {name: [t / 2 for t in times] for name, times in pair_wall.items()}
    print(f"pixel SAC mlp2, hidden 1024, 84x84, batch {args.batch}, K = M = 2, {args.threads} thread(s), "
          f"{args.rounds} rounds x {args.pairs} pair(s) of updates per agent (torch {torch.__version__}):")
    for name in runs:
        print(f"  {name:<24} CPU {statistics.median(cpu[name]):6.2f} s/update (min {min(cpu[name]):.2f}), "
              f"wall {statistics.median(wall[name]):6.2f} s (min {min(wall[name]):.2f})")
    ours_cpu, theirs_cpu = (statistics.median(cpu[n]) for n in runs)
    ours_wall, theirs_wall = (statistics.median(wall[n]) for n in runs)
    print(f"  ours / original: {ours_cpu / theirs_cpu:.2f}x CPU time, {ours_wall / theirs_wall:.2f}x wall time "
          "(the issue's target: <= 0.8x)")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
