"""Learning outcomes: a capstone is graded by whether the agent the student's code trains performs.

A capstone (SAC's update in notebook 06, the SN module in notebook 04, DDPG's update in notebook 07)
is graded twice: probes on fixed batches (in the notebook's checks module), and a learning outcome
registered here with :func:`register_learning`. The learning outcome runs in two processes:

- the **student's process** (the grader's child, or the notebook) trains an agent with the course's
  loop, the student's function plugged in, on a seed drawn from the grading seed; it sends back the
  trained **actor's weights** and nothing it could simply write down (no return, no score);
- the **judging process** rebuilds the actor from the run's configuration (its own, never the
  student's), loads the weights, and evaluates the policy itself on episodes of its own: the mean
  return must reach the threshold. The reference is never trained while grading; its data is the
  seed, the budget and the threshold (``register(..., reference=...)``).

What this does not stop: weights trained elsewhere and loaded by the student's code. The probes grade
the code itself; the learning outcome grades that a working policy came out of the submission.

Calibrate a threshold with ``tools/calibrate_learning.py NAME`` (the reference trained and judged
exactly as a student's code is, on grading seeds 0..9).

``COURSE_CHECK_SMOKE=1`` (set by the test suite's conftest.py) runs a tiny budget and accepts any
finite return: it checks the plumbing, not the learning.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable

from .framework import CheckFailed, as_float, register

SMOKE_ENV = "COURSE_CHECK_SMOKE"
#: The policy is evaluated on episodes the training run never saw (the training loop's evaluation
#: environment starts at ``seed + EVAL_SEED_OFFSET``; this one at that plus this offset).
JUDGE_SEED_OFFSET = 777
#: name -> (config_fn, threshold) of every registered learning outcome.
LEARNING: dict[str, tuple[Callable[[int, bool], Any], float]] = {}


def smoke() -> bool:
    """True when ``COURSE_CHECK_SMOKE`` asks for the tiny plumbing-only budget."""
    return os.environ.get(SMOKE_ENV, "").strip() not in ("", "0")


def draw_seed(rng) -> int:
    """The training seed a learning outcome uses for grading seed ``rng`` (hidden with the seed)."""
    return int(rng.integers(1, 100_000))


def actor_weights(agent) -> dict:
    """The actor's parameters and buffers as CPU tensors: what the student's process sends back."""
    return {name: value.detach().cpu().clone() for name, value in agent.actor.state_dict().items()}


def evaluate_actor(config, weights: dict, episodes: int | None, seed: int) -> float:
    """Mean return of the mean action of an actor built from ``config`` and loaded with ``weights``.

    Runs in the judging process: the actor is the library's, built from the judge's ``config``
    (a ``TrainConfig`` of a state agent); ``weights`` is untrusted data. ``episodes=None``: the
    config's ``eval_episodes``. Raises ``CheckFailed`` if the
    weights do not fit that actor or are not finite.
    """
    import numpy as np
    import torch

    from course_lib.agents import make_agent
    from course_lib.envs import make_env
    from course_lib.train import EVAL_SEED_OFFSET, prepare

    cfg, _, _ = prepare(config)
    if cfg.obs != "state":
        raise ValueError("evaluate_actor evaluates state agents only (a pixel actor needs its encoder)")
    env = make_env(cfg.task, cfg.obs, seed + EVAL_SEED_OFFSET + JUDGE_SEED_OFFSET, cfg.action_repeat,
                   cfg.frame_stack, cfg.image_size)
    agent = make_agent(cfg, env.obs_shape, env.action_dim, torch.device("cpu"))
    expected = agent.actor.state_dict()
    if not isinstance(weights, dict) or set(weights) != set(expected):
        raise CheckFailed("the trained actor's weights do not fit the course's actor (other layer names): "
                          "train the agent the course's loop builds")
    loaded = {}
    for name, want in expected.items():
        got = torch.as_tensor(np.asarray(weights[name]))
        if tuple(got.shape) != tuple(want.shape):
            raise CheckFailed(f"the trained actor's {name} has shape {tuple(got.shape)}, the course's actor "
                              f"{tuple(want.shape)}: train the agent the course's loop builds")
        if not torch.isfinite(got.double()).all():
            raise CheckFailed(f"the trained actor's {name} holds NaN or infinite values: the run diverged")
        loaded[name] = got.to(want.dtype)
    agent.actor.load_state_dict(loaded)
    returns = []
    for _ in range(cfg.eval_episodes if episodes is None else episodes):
        ts, total = env.reset(), 0.0
        while not ts.last:
            ts = env.step(agent.act(ts.observation, cfg.frames, eval_mode=True))
            total += ts.reward
        returns.append(total)
    return float(np.mean(returns))


def register_learning(name: str, *, function: str, config_fn: Callable[[int, bool], Any],
                      train_fn: Callable[[Callable, Any], Any], threshold: float, points: int = 2,
                      difficulty: int = 3, timeout: float = 600, what: str = "the agent"):
    """Register the learning outcome ``name`` of the capstone function ``function``.

    Args:
        config_fn: ``config_fn(seed, smoke) -> TrainConfig`` of the graded run (``smoke``: the tiny
            budget of the tests). Called in both processes with the same seed.
        train_fn: ``train_fn(student_fn, config) -> RunResult``: the course's loop with the student's
            function plugged in (``train(config, progress=False, update_fn=...)`` or a hook of yours);
            its ``agent`` is the trained agent. Runs in the student's process.
        threshold: the mean evaluation return the policy must reach (calibrated on the reference:
            it passes on at least 9 seeds of 10; write the calibration beside it).
        what: how the message names the trained agent.
    """

    def probe(fn, rng):
        import torch

        seed = draw_seed(rng)
        config = config_fn(seed, smoke())
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the grader's jobs share the machine
        try:
            result = train_fn(fn, config)
        finally:
            torch.set_num_threads(threads)
        crashed = result.status == "crashed" or result.agent is None
        return {"seed": seed, "crashed": crashed, "actor": {} if crashed else actor_weights(result.agent)}

    def reference(rng):
        seed, small = draw_seed(rng), smoke()
        config = config_fn(seed, small)
        return {"seed": seed, "smoke": small, "frames": int(config.frames),
                "threshold": -math.inf if small else float(threshold)}

    def compare(got, want):
        if got is want:  # the judge's warm-up before grading: import what evaluating needs
            import course_lib.agents  # noqa: F401
            import course_lib.envs  # noqa: F401
            return
        if not isinstance(got, dict) or got.get("seed") != want["seed"]:
            raise CheckFailed("the run was not trained on the graded seed")
        if got.get("crashed"):
            raise CheckFailed("the run crashed (a loss, gradient or parameter became NaN or infinite)")
        mean = judged_return(name, got, want)
        if not math.isfinite(mean):
            raise CheckFailed("the trained policy's evaluation return is not a finite number")
        if not mean >= want["threshold"]:
            raise CheckFailed(f"after {want['frames']:,} frames {what}'s evaluation return is {mean:.0f}, "
                              f"below the {want['threshold']:.0f} the reference reaches on 9 seeds in 10: "
                              "it does not learn well enough yet")

    register(name, function=function, points=points, compare=compare, difficulty=difficulty,
             timeout=timeout, reference=reference)(probe)
    LEARNING[name] = (config_fn, float(threshold))
    return probe


def judged_return(name: str, got: dict, want: dict) -> float:
    """The judge's mean evaluation return of the actor in ``got`` (a learning outcome's probe data)."""
    config_fn, _ = LEARNING[name]
    config = config_fn(want["seed"], want["smoke"])
    return as_float(evaluate_actor(config, got.get("actor"), None, want["seed"]),
                    "the evaluation return")
