"""Does the pixel DDPG actor's tanh saturate in its first updates? (An open question for Table 1.)

    python tools/probe_actor_saturation.py                       # mlp2, modern4, modern4+sn
    python tools/probe_actor_saturation.py --configs modern4+sn --batch 256 --device cuda

Builds the pixel DDPG agent (DrQ-v2 defaults: hidden 1024, lr 1e-4) with each head, feeds it one
fixed batch of random 84x84 frames with random actions and rewards, and prints after every update
the largest pre-tanh actor output |mu| and the actor's gradient norm. tanh(9) rounds to 1.0 in
float32, so once every |mu| is above ~9 the actor's gradient is exactly 0 and it can never move
again. On a CPU at batch 32 the mlp2 actor stays below 1 while both modern actors pass 7 after
one Adam step and have a zero gradient by update 3 (with or without SN; a final LayerNorm, an
inner width of h instead of 2h, or a 10x smaller actor learning rate did not prevent it): Adam's first step moves every weight by the
learning rate, and the LayerNorm-ed residual stream (entries of size ~1, against ~0.1 in the MLP)
turns that into a large coherent change of the output. Random frames are not real observations:
check it on a real run's first updates (train.csv's actor_grad_norm) before trusting Table 1's
modern columns.
"""
from __future__ import annotations

import argparse

import torch

from course_lib.agents import make_agent
from course_lib.config import TrainConfig
from course_lib.results import parse_config


def probe(config: str, batch: int, updates: int, device: str, seed: int = 0) -> list[tuple[float, float]]:
    """[(max |pre-tanh mu|, actor grad norm)] before (grad NaN) and after each of ``updates`` updates."""
    head = parse_config(config)
    cfg = TrainConfig(agent="ddpg", obs="pixels", task="cartpole_swingup", arch=head["arch"],
                      depth=head["depth"], sn=head["sn"], batch_size=batch, seed=seed, device=device).resolved()
    torch.manual_seed(seed)
    dev = torch.device(device)
    agent = make_agent(cfg, (9, 84, 84), 1, dev)
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randint(0, 256, (batch, 9, 84, 84), generator=gen, dtype=torch.uint8).to(dev)

    def largest_mu() -> float:
        with torch.no_grad():
            return agent.actor.head(agent.actor.trunk(agent.encoder(obs.float()))).abs().max().item()

    rows = [(largest_mu(), float("nan"))]
    for step in range(1, updates + 1):
        batch_ = {"obs": obs, "next_obs": obs, "action": torch.rand(batch, 1, generator=gen).to(dev) * 2 - 1,
                  "reward": torch.rand(batch, 1, generator=gen).to(dev),
                  "discount": torch.full((batch, 1), 0.99, device=dev)}
        metrics = agent.update(batch_, step=step)
        rows.append((largest_mu(), float(metrics.get("actor_grad_norm", torch.tensor(float("nan"))))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["mlp2", "modern4", "modern4+sn"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--updates", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    for config in args.configs:
        rows = probe(config, args.batch, args.updates, args.device)
        cells = [f"{mu:.2f}" + ("" if grad != grad else f" (g {grad:.0e})") for mu, grad in rows]
        print(f"{config:11s} max|mu| per update: " + ", ".join(cells), flush=True)


if __name__ == "__main__":
    main()
