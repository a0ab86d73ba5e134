"""The learning outcome of a capstone (course_lib/checks/learning.py): the judge, not the student's process, scores the policy.

The student's process sends back the trained actor's weights; the judge rebuilds the course's actor,
loads them and evaluates the policy on episodes of its own. These tests forge what a student's
process could send.
"""
import math

import pytest
import torch

from course_lib.checks import CheckFailed, exercise, rng_for
from course_lib.checks.learning import LEARNING, evaluate_actor, judged_return

NAME = "ex06_drq.sac_update_learns"


@pytest.fixture(scope="module")
def want():
    return exercise(NAME).reference(rng_for(3))  # smoke mode (conftest.py): a tiny config


@pytest.fixture(scope="module")
def untrained(want):
    """The weights of an untrained actor of the graded run's shape."""
    from course_lib.agents import make_agent
    from course_lib.envs import make_env
    from course_lib.train import prepare

    cfg, _, _ = prepare(LEARNING[NAME][0](want["seed"], True))
    env = make_env(cfg.task, "state", 0, cfg.action_repeat)
    agent = make_agent(cfg, env.obs_shape, env.action_dim, torch.device("cpu"))
    return {k: v.clone() for k, v in agent.actor.state_dict().items()}


def _judge(got, want, threshold=None):
    want = dict(want) if threshold is None else {**want, "threshold": threshold}
    exercise(NAME).compare(got, want)


def test_the_reference_is_not_trained_to_grade(want):
    assert set(want) == {"seed", "smoke", "frames", "threshold"}
    assert want["smoke"] and want["threshold"] == -math.inf


def test_the_judge_evaluates_the_weights_it_is_sent(want, untrained):
    got = {"seed": want["seed"], "crashed": False, "actor": untrained}
    _judge(got, want)  # any finite return passes in smoke mode
    score = judged_return(NAME, got, want)
    assert math.isfinite(score) and 0 <= score < 300  # cartpole_swingup: an untrained policy earns little
    assert judged_return(NAME, got, want) == score  # the judge's episodes are seeded
    with pytest.raises(CheckFailed, match="below the 600 the reference reaches") as failure:
        _judge(got, want, threshold=600.0)
    assert f"{score:.0f}" in str(failure.value)


def test_a_score_written_down_is_ignored(want, untrained):
    forged = {"seed": want["seed"], "crashed": False, "final evaluation return": 999.0, "actor": untrained}
    with pytest.raises(CheckFailed, match="below"):
        _judge(forged, want, threshold=600.0)
    with pytest.raises(CheckFailed, match="do not fit"):
        _judge({"seed": want["seed"], "crashed": False, "final evaluation return": 999.0}, want)


@pytest.mark.parametrize("forge, message", [
    (lambda w: {k: v[..., :1] for k, v in w.items()}, "has shape"),
    (lambda w: {**w, "extra.weight": torch.zeros(1)}, "do not fit"),
    (lambda w: {k: torch.full_like(v, float("nan")) for k, v in w.items()}, "NaN or infinite"),
    (lambda w: "weights", "do not fit"),
])
def test_weights_that_do_not_fit_the_actor_fail(want, untrained, forge, message):
    with pytest.raises(CheckFailed, match=message):
        _judge({"seed": want["seed"], "crashed": False, "actor": forge(untrained)}, want)


def test_another_seed_or_a_crash_fails(want, untrained):
    with pytest.raises(CheckFailed, match="graded seed"):
        _judge({"seed": want["seed"] + 1, "crashed": False, "actor": untrained}, want)
    with pytest.raises(CheckFailed, match="crashed"):
        _judge({"seed": want["seed"], "crashed": True, "actor": {}}, want)


def test_evaluate_actor_refuses_pixel_agents(untrained):
    from course_lib.config import TrainConfig

    with pytest.raises(ValueError, match="state agents only"):
        evaluate_actor(TrainConfig(agent="sac", obs="pixels", task="cartpole_swingup"), untrained, 1, 0)
