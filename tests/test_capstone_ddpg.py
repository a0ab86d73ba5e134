"""Notebook 07's capstone: ``ddpg_update``, DrQ-v2's (DDPG's) whole update from states, graded twice.

- ``ex07_drqv2.ddpg_update_critic`` and ``ex07_drqv2.ddpg_update_actor`` probe one and two updates
  on a fixed batch of 3-step windows (``course_lib/checks/nb07_drqv2.py``), every normal draw fixed
  (large enough for the clip and the scheduled std to matter); typical mistakes fail the part they
  break and pass the other.
- ``ex07_drqv2.ddpg_update_learns`` trains state DDPG on cartpole_balance through
  ``train(..., update_fn=ddpg_update)`` and the judge evaluates the trained actor
  (``course_lib/checks/learning.py``). Its full run is calibrated with tools/calibrate_learning.py
  (threshold in ``nb07_drqv2.LEARN_THRESHOLD``); here it runs in smoke mode (``COURSE_CHECK_SMOKE``,
  set by conftest.py): a tiny budget, any finite return.
- ``train(update_fn=...)`` with the reference gives the built-in update's run bit for bit.
"""
from pathlib import Path

import pytest

from course_lib.checks import NOT_WRITTEN, load_module, run_check, solutions_dir

ROOT = Path(__file__).resolve().parents[1]
CRITIC, ACTOR = PARTS = ("ex07_drqv2.ddpg_update_critic", "ex07_drqv2.ddpg_update_actor")
LEARNS = "ex07_drqv2.ddpg_update_learns"
SOLUTION = (ROOT / "solutions" / "ex07_drqv2.py").read_text()

TARGET_NOISE = "next_mu + (torch.randn_like(next_mu) * std).clamp(-c.std_clip, c.std_clip)"
ACTOR_NOISE = "mu + (torch.randn_like(mu) * std).clamp(-c.std_clip, c.std_clip)"


def _variant(tmp_path, *replacements: tuple[str, str]) -> Path:
    source = SOLUTION
    for old, new in replacements:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    (tmp_path / "ex07_drqv2.py").write_text(source)
    return tmp_path


#: A typical mistake -> (its replacements in the reference, the parts it must fail).
BUGS = {
    "no noise clip in the target": (
        [(TARGET_NOISE, "next_mu + torch.randn_like(next_mu) * std")], {CRITIC}),
    "no noise clip in the actor's loss": ([(ACTOR_NOISE, "mu + torch.randn_like(mu) * std")], {ACTOR}),
    "a fixed std instead of the schedule": (
        [("std = exploration_std(step, c.std_start, c.std_end, c.std_decay_steps)", "std = c.std_end")],
        {CRITIC, ACTOR}),
    "gamma instead of the batch's n-step discount": (
        [("reward + discount * torch.min", "reward + c.discount * torch.min")], {CRITIC}),
    "no twin minimum in the target": (
        [("torch.min(next_q1, next_q2)", "next_q1")], {CRITIC}),
    "the target computed with gradients": (
        [("    with torch.no_grad():\n        next_mu", "    if True:\n        next_mu")], {CRITIC}),
    "the actor's loss through one critic": (
        [("actor_loss = -torch.min(q1, q2).mean()", "actor_loss = -q1.mean()")], {ACTOR}),
    "no Polyak average": ([("                target_p.lerp_(online_p, c.tau)", "                pass")], {ACTOR}),
}


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("name", PARTS)
def test_the_reference_passes_the_probes(name, seed):
    assert run_check(name, ROOT / "solutions", seed=seed) == (True, "correct")


@pytest.mark.parametrize("name", PARTS + (LEARNS,))
def test_the_stub_is_not_written_yet(name):
    assert run_check(name, ROOT / "exercises") == (False, NOT_WRITTEN)


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_typical_mistake_costs_only_its_part(bug, tmp_path):
    replacements, breaks = BUGS[bug]
    folder = _variant(tmp_path, *replacements)
    for name in PARTS:
        passed, reason = run_check(name, folder)
        if name in breaks:
            assert not passed, f"{bug}: {name} passed"
        else:
            assert passed, f"{bug}: {name} failed: {reason}"


def test_the_target_with_gradients_is_named(tmp_path):
    passed, reason = run_check(CRITIC, _variant(tmp_path, *BUGS["the target computed with gradients"][0]))
    assert not passed and "torch.no_grad()" in reason, reason


def test_the_order_and_the_kind_of_normal_draws_do_not_matter(tmp_path):
    """Every normal draw is fixed: extra draws first, torch.normal or torch.distributions still pass."""
    folder = _variant(tmp_path, ("    c = agent.config\n", "    c = agent.config\n    torch.randn(7)\n"),
                      (TARGET_NOISE, "next_mu + torch.normal(0.0, std, size=next_mu.shape).clamp(-c.std_clip, c.std_clip)"),
                      (ACTOR_NOISE, "mu + torch.distributions.Normal(torch.zeros_like(mu), std).sample()"
                                    ".clamp(-c.std_clip, c.std_clip)"))
    for name in PARTS:
        assert run_check(name, folder) == (True, "correct")


def test_the_learning_check_runs_the_students_update_in_smoke_mode(tmp_path):
    assert run_check(LEARNS, ROOT / "solutions") == (True, "correct")
    crashing = _variant(tmp_path, ("    c = agent.config\n", "    c = agent.config\n    raise KeyError('oops')\n"))
    assert run_check(LEARNS, crashing) == (False, "raised KeyError: 'oops'")


def test_train_with_the_reference_update_repeats_the_built_in_run():
    """3-step returns and a schedule that ends inside the run: both on the training path."""
    import torch

    from course_lib.config import TrainConfig
    from course_lib.train import train

    torch.set_num_threads(1)
    ddpg_update = load_module("ex07_drqv2", solutions_dir()).ddpg_update
    cfg = TrainConfig(agent="ddpg", obs="state", task="cartpole_swingup", frames=2400, seed_frames=800,
                      eval_every_frames=1200, eval_episodes=1, hidden_dim=32, batch_size=32, n_step=3,
                      std_decay_steps=200, video=False)
    built_in = train(cfg, progress=False)
    student = train(cfg, progress=False, update_fn=ddpg_update)
    assert built_in.eval.equals(student.eval)
    columns = ["critic_loss", "actor_loss"]
    assert built_in.train[columns].notna().all().all()
    assert built_in.train[columns].equals(student.train[columns])


def test_the_capstone_grades_one_function_and_learns_with_a_time_limit():
    from course_lib.checks import exercise

    assert {exercise(name).function for name in PARTS + (LEARNS,)} == {"ddpg_update"}
    assert exercise(LEARNS).timeout == 600 and exercise(CRITIC).timeout is None
