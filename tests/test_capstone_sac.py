"""Notebook 06's capstone: ``sac_update``, SAC's whole update from states, graded twice.

- ``ex06_drq.sac_update_critic`` and ``ex06_drq.sac_update_actor`` probe one and two updates on a
  fixed batch (``course_lib/checks/nb06_drq.py``); typical mistakes fail the part they break and
  pass the other.
- ``ex06_drq.sac_update_learns`` trains state SAC on cartpole_swingup through
  ``train(..., update_fn=sac_update)`` and the judge evaluates the trained actor
  (``course_lib/checks/learning.py``, tested in tests/test_learning_outcome.py). Its full run (48k
  frames, about a minute on one core) is calibrated with tools/calibrate_learning.py (threshold in
  ``nb06_drq.LEARN_THRESHOLD``); here it runs in smoke mode (``COURSE_CHECK_SMOKE``, set by
  conftest.py): a tiny budget, any finite return.
- ``train(update_fn=...)`` with the reference gives the built-in update's run bit for bit.
"""
from pathlib import Path

import pytest

from course_lib.checks import NOT_WRITTEN, load_module, run_check, solutions_dir

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("ex06_drq.sac_update_critic", "ex06_drq.sac_update_actor")
SOLUTION = (ROOT / "solutions" / "ex06_drq.py").read_text()


def _variant(tmp_path, old: str, new: str) -> Path:
    assert old in SOLUTION, old
    (tmp_path / "ex06_drq.py").write_text(SOLUTION.replace(old, new))
    return tmp_path


BUGS = {
    "no twin minimum in the target": (
        "torch.min(next_q1, next_q2) - agent.alpha * next_log_prob", "next_q1 - agent.alpha * next_log_prob"),
    "no entropy term in the target": (
        "torch.min(next_q1, next_q2) - agent.alpha * next_log_prob", "torch.min(next_q1, next_q2)"),
    "the target computed with gradients": (
        "    with torch.no_grad():\n        next_action, next_log_prob",
        "    if True:\n        next_action, next_log_prob"),
    "alpha not detached (one backward for both losses)": (
        "        actor_loss = (agent.alpha.detach() * log_prob - torch.min(q1, q2)).mean()\n"
        "        agent.actor_opt.zero_grad(set_to_none=True)\n"
        "        actor_loss.backward(inputs=list(agent.actor.parameters()))\n"
        "        agent.actor_opt.step()\n"
        "        # Temperature: alpha grows when the policy's entropy is below the target.\n"
        "        alpha_loss = (agent.log_alpha.exp() * (-log_prob - agent.target_entropy).detach()).mean()\n"
        "        agent.alpha_opt.zero_grad(set_to_none=True)\n"
        "        alpha_loss.backward()\n"
        "        agent.alpha_opt.step()\n",
        "        actor_loss = (agent.alpha * log_prob - torch.min(q1, q2)).mean()\n"
        "        alpha_loss = (agent.log_alpha.exp() * (-log_prob - agent.target_entropy).detach()).mean()\n"
        "        agent.actor_opt.zero_grad(set_to_none=True)\n"
        "        agent.alpha_opt.zero_grad(set_to_none=True)\n"
        "        (actor_loss + alpha_loss).backward()\n"
        "        agent.actor_opt.step()\n"
        "        agent.alpha_opt.step()\n"),
    "no Polyak average": ("                target_p.lerp_(online_p, c.tau)", "                pass"),
}
#: Which part each mistake breaks (it must pass the other).
BREAKS = {"no twin minimum in the target": PARTS[0], "no entropy term in the target": PARTS[0],
          "the target computed with gradients": PARTS[0],
          "alpha not detached (one backward for both losses)": PARTS[1], "no Polyak average": PARTS[1]}


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("name", PARTS)
def test_the_reference_passes_the_probes(name, seed):
    assert run_check(name, ROOT / "solutions", seed=seed) == (True, "correct")


@pytest.mark.parametrize("name", PARTS + ("ex06_drq.sac_update_learns",))
def test_the_stub_is_not_written_yet(name):
    assert run_check(name, ROOT / "exercises") == (False, NOT_WRITTEN)


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_typical_mistake_costs_only_its_part(bug, tmp_path):
    folder = _variant(tmp_path, *BUGS[bug])
    for name in PARTS:
        passed, reason = run_check(name, folder)
        if name == BREAKS[bug]:
            assert not passed, f"{bug}: {name} passed"
        else:
            assert passed, f"{bug}: {name} failed: {reason}"


def test_the_target_with_gradients_is_named(tmp_path):
    passed, reason = run_check(PARTS[0], _variant(tmp_path, *BUGS["the target computed with gradients"]))
    assert not passed and "torch.no_grad()" in reason, reason


def test_the_order_of_random_draws_does_not_matter(tmp_path):
    """The probes zero every normal draw: an update drawing extra noise first still passes."""
    folder = _variant(tmp_path, "    c = agent.config\n", "    c = agent.config\n    torch.randn(7)\n")
    for name in PARTS:
        assert run_check(name, folder) == (True, "correct")


def test_the_learning_check_runs_the_students_update_in_smoke_mode(tmp_path):
    assert run_check("ex06_drq.sac_update_learns", ROOT / "solutions") == (True, "correct")
    crashing = _variant(tmp_path, "    c = agent.config\n", "    c = agent.config\n    raise KeyError('oops')\n")
    assert run_check("ex06_drq.sac_update_learns", crashing) == (False, "raised KeyError: 'oops'")


def test_train_with_the_reference_update_repeats_the_built_in_run():
    import torch

    from course_lib.config import TrainConfig
    from course_lib.train import train

    torch.set_num_threads(1)
    sac_update = load_module("ex06_drq", solutions_dir()).sac_update
    cfg = TrainConfig(agent="sac", obs="state", task="cartpole_swingup", frames=3200, seed_frames=800,
                      eval_every_frames=1600, eval_episodes=1, hidden_dim=32, batch_size=32, video=False)
    built_in = train(cfg, progress=False)
    student = train(cfg, progress=False, update_fn=sac_update)
    assert built_in.eval.equals(student.eval)
    columns = ["critic_loss", "actor_loss", "alpha"]
    assert built_in.train[columns].equals(student.train[columns])


def test_register_takes_a_function_and_a_time_limit():
    from course_lib.checks import exercise
    from course_lib.checks.framework import register

    assert {exercise(name).function for name in PARTS + ("ex06_drq.sac_update_learns",)} == {"sac_update"}
    assert exercise("ex06_drq.sac_update_learns").timeout == 600 and exercise(PARTS[0]).timeout is None
    for bad in ({"function": "not a name"}, {"timeout": 0}):
        with pytest.raises(ValueError):
            register("ex99_demo.never_registered", **bad)


def test_the_grader_allows_the_learning_check_its_own_time_limit():
    from course_lib.grade import grade_one

    files = {"ex06_drq": SOLUTION}
    grade = grade_one("ex06_drq.sac_update_learns", files, timeout=0.01, seed=3)
    assert grade.passed, grade.reason  # smoke mode: a few seconds, more than 0.01 s
