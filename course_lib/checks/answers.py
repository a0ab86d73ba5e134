"""Which ``course_lib`` functions answer an exercise, and how the grader stops a submission calling them.

The course's library is written for the notebooks, so several of its functions compute what an
exercise asks a student to write (``course_lib.mdp.value_iteration`` is ``ex01_mdp.value_iteration``),
or make it a one- or two-line wrapper (``q_values(...).max(axis=1)`` is a Bellman backup).
:data:`ANSWERS` lists them for every registered exercise (an empty tuple: nothing in the library
does that exercise's work, and the comment says what comes close and why it is not listed).

:func:`stub_answers` replaces each of them, in its module and wherever an imported ``course_lib``
module holds the same object under another name (``from course_lib.mdp import value_iteration``),
by a stub that raises ``CheckFailed("calls course_lib.mdp.value_iteration, the course's own answer
to an exercise; write it yourself")``. The grader's child process calls it just before it loads
the student's code and runs the probe, so that a submission calling the library fails with that
message; notebook check cells (``checks.check``, ``run_check``) never call it: in a notebook the
library is there to be used, and a check that fails only looks at the returned data.

Probes run in that child too, so no probe calls a listed function there: whatever a probe needs
from an answer (the optimal values V*, the Q-values of a greedy policy) the compare computes in the
grader's process, from the inputs the reference's probe returned (``nb01_mdp``);
``tests/test_grade_answers.py`` runs every reference solution in a stubbed process to prove it.

What this does not do. Stubbing stops *calling* the library, not *reading* it: as in any course,
a student can read ``course_lib``'s source (or its notebooks) and copy the code, re-execute a
module's source (``importlib.reload``, ``exec`` of its file), or reach an original object some other
way (the garbage collector, a closure, a default argument). Those submissions are the student's own
copy of published code, a matter for the course's rules on copying rather than for the grader. The
stubs cover module attributes and the dicts and lists a module holds at its top level; a function
listed here is imported (so that a later import cannot bring back the original), which for
``course_lib.value_estimates`` also imports ``course_lib.envs`` (cheap: dm_control loads lazily).
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable

from .framework import REGISTRY, CheckFailed

# The listed objects are functions unless the comment says class (a class answers when one call of
# it does the exercise's work: ``PenultimateNorm(eps)(x)``).
ANSWERS: dict[str, tuple[str, ...]] = {
    # --- notebook 01 -------------------------------------------------------------------------------
    "ex01_mdp.bellman_backup": ("course_lib.mdp.bellman_backup",
                                "course_lib.mdp.q_values"),  # q_values(...).max(axis=1)
    "ex01_mdp.value_iteration": ("course_lib.mdp.value_iteration",),
    "ex01_mdp.greedy_policy": ("course_lib.mdp.greedy_policy",
                               "course_lib.mdp.q_values"),  # q_values(...).argmax(axis=1)
    "ex01_mdp.policy_evaluation": ("course_lib.mdp.policy_evaluation",),
    "ex01_mdp.returns_to_go": ("course_lib.tabular.returns_to_go",
                               "course_lib.value_estimates.discounted_returns"),  # the same loop
    "ex01_mdp.td0_update": ("course_lib.tabular.td0_update",),
    "ex01_mdp.epsilon_greedy": ("course_lib.tabular.epsilon_greedy",),
    "ex01_mdp.q_learning_update": ("course_lib.tabular.q_learning_update",),
    # tabular.semi_gradient_td0 runs whole episodes with its own decaying step size: no single step
    # to call (and tabular.td0_update equals the step only for one-hot features).
    "ex01_mdp.semi_gradient_td0_update": (),
    # --- notebook 01b ------------------------------------------------------------------------------
    "ex01b_dqn.dqn_loss": (
        "course_lib.dqn.dqn_target",  # the label; the rest is a gather and a mean
        "course_lib.dqn.td_loss"),  # the loss itself, on states given as rows of a features table
    # --- notebook 02 -------------------------------------------------------------------------------
    "ex02_actor_critic.soft_bellman_target": (
        "course_lib.agents.sac.soft_bellman_target",
        "course_lib.agents.ddpg.ddpg_target"),  # ddpg_target(r, d, q1 - alpha logp, q2 - alpha logp)
    "ex02_actor_critic.squashed_gaussian_log_prob": ("course_lib.agents.sac.squashed_gaussian_log_prob",),
    "ex02_actor_critic.ddpg_actor_loss": (
        "course_lib.agents.ddpg.ddpg_actor_loss",  # ddpg_actor_loss(*critic(s, actor(s)))
        "course_lib.agents.sac.sac_actor_loss"),  # the same with log pi = 0, alpha = 0
    "ex02_actor_critic.soft_update": ("course_lib.agents.common.soft_update",),
    "ex02_actor_critic.soft_value": ("course_lib.tabular.soft_value",),
    "ex02_actor_critic.temperature_loss": ("course_lib.agents.sac.temperature_loss",),
    # ddpg.noisy_action and value_estimates.ddpg_policy_action draw their own noise: they cannot
    # compute a' for the noise the exercise passes in.
    "ex02_actor_critic.smoothed_target_action": (),
    # --- notebook 03 -------------------------------------------------------------------------------
    # linear_gain_table(W).sigma_max is sigma_max(W). Not listed: spectral.lipschitz_upper_bound and
    # layer_spectral_norms, which need an nn.Linear built around W (more lines than the torch.linalg
    # one-liner, which no grader can forbid); probes use them to make inputs.
    "ex03_lipschitz.linear_lipschitz": ("course_lib.lipschitz.linear_gain_table",),
    "ex03_lipschitz.mlp_lipschitz_bound": ("course_lib.lipschitz.linear_gain_table",),  # prod of it
    "ex03_lipschitz.action_gradient_norms": ("course_lib.spectral.input_gradient_norms",),
    # layernorm_lipschitz(ln, min_std) is max|gamma| / sqrt(min_std^2 + eps): this exercise's
    # formula, per sample with min_std = the sample's (biased) standard deviation.
    "ex03_lipschitz.layernorm_slope_bound": ("course_lib.spectral.layernorm_lipschitz",),
    # --- notebook 04 -------------------------------------------------------------------------------
    "ex04_power_iteration.power_iteration": ("course_lib.spectral.power_iteration",),
    "ex04_power_iteration.spectral_normalize": ("course_lib.spectral.power_iteration",),  # W / sigma
    # spectral.spectral_norm (a parametrization with u, v buffers) could be driven to give the same
    # forward, but so can torch's own spectral_norm (public PyTorch, which the probe itself uses),
    # and make_head(spectral_norm=True), which other probes need, is built on the course's.
    "ex04_power_iteration.sn_linear_forward": (),
    "ex04_power_iteration.power_steps_needed": ("course_lib.power_gap.power_steps_needed",),
    # The capstone, an SN module with buffers u and v: the library's SN (spectral.spectral_norm,
    # _SpectralNorm, SpectralLinear) is a parametrization, which the probes refuse as they refuse
    # PyTorch's; what a module of one's own can call is spectral.power_step_, listed in WHILE_GRADING
    # (the library's SN, which other probes build heads with, runs on it).
    "ex04_power_iteration.spectral_norm_normalizes": (),
    "ex04_power_iteration.spectral_norm_power_step": (),
    "ex04_power_iteration.spectral_norm_gradient": (),
    "ex04_power_iteration.spectral_norm_learns": (),
    # --- notebook 05 -------------------------------------------------------------------------------
    # Only torch's F.layer_norm / F.linear do these two (the exercise says not to use torch.nn);
    # nets.ResidualBlock would need its six parameters copied in, and the probe builds its inputs
    # from one.
    "ex05_modern.layer_norm": (),
    "ex05_modern.residual_block_forward": (),
    # nets.count_parameters(nets.make_head(...)) is a one-line answer too: make_head and the head
    # classes are stubbed while this exercise is graded (WHILE_GRADING, below); count_parameters
    # itself (sum of p.numel()) is a general helper, and counting a module one built is one's own work.
    "ex05_modern.head_parameter_count": ("course_lib.lipschitz.head_parameter_count",),
    # Nothing in the library takes the parts' constants as numbers (lipschitz_upper_bound needs the
    # module, which the exercise does not get).
    "ex05_modern.modern_head_lipschitz_bound": (),
    "ex05_modern.generator_loss": (),  # no GAN in the library
    # --- notebook 06 -------------------------------------------------------------------------------
    "ex06_drq.random_shift": ("course_lib.augment.random_shift",
                              "course_lib.augment.shift_images",  # with torch.randint shifts
                              "course_lib.augment.RandomShift"),  # class: RandomShift(pad)(images)
    "ex06_drq.drq_target": ("course_lib.agents.sac.soft_bellman_target",  # on repeated r, d; mean
                            "course_lib.agents.ddpg.ddpg_target"),
    "ex06_drq.drq_critic_loss": ("course_lib.agents.common.twin_critic_loss",),
    # replay.ReplayBuffer rebuilds stacks from its own ring storage (a private method of a filled
    # buffer), not from the frames and episode starts the exercise gets.
    "ex06_drq.stack_frames": (),
    # The capstone: the agent it gets is a SACAgent, whose methods do the whole update (paths of
    # the form module.Class.method: the stub replaces the class's attribute). Listed where a wrapper
    # calling the method first passes that part. Every listing is stubbed whatever is graded, and the
    # functions the update is made of (soft_bellman_target, sac_actor_loss, temperature_loss,
    # soft_update, twin_critic_loss, squashed_gaussian_log_prob) are listed above already.
    "ex06_drq.sac_update_critic": ("course_lib.agents.sac.SACAgent.update",
                                   "course_lib.agents.sac.SACAgent.update_critic"),
    "ex06_drq.sac_update_actor": ("course_lib.agents.sac.SACAgent.update_actor",),
    "ex06_drq.sac_update_learns": ("course_lib.agents.sac.SACAgent.update_target",),
    # --- notebook 07 -------------------------------------------------------------------------------
    # replay.ReplayBuffer.sample sums n-step rewards of its own storage: not callable on given arrays.
    "ex07_drqv2.n_step_target": (),
    # ddpg.exploration_std answers it, but DDPGAgent.act draws its noise with it (and noisy_action):
    # the capstone's learning outcome acts, so both are stubbed only while graded (WHILE_GRADING).
    "ex07_drqv2.exploration_std": (),
    "ex07_drqv2.penultimate_normalize": ("course_lib.nets.PenultimateNorm",),  # class
    # The capstone: the agent is a DDPGAgent, whose methods do the whole update (as ex06's);
    # ddpg_target, ddpg_actor_loss and soft_update are listed above already.
    "ex07_drqv2.ddpg_update_critic": ("course_lib.agents.ddpg.DDPGAgent.update",
                                      "course_lib.agents.ddpg.DDPGAgent.update_critic"),
    "ex07_drqv2.ddpg_update_actor": ("course_lib.agents.ddpg.DDPGAgent.update_actor",),
    "ex07_drqv2.ddpg_update_learns": ("course_lib.agents.ddpg.DDPGAgent.update_target",),
    # --- notebook 08 -------------------------------------------------------------------------------
    "ex08_diagnostics.global_grad_norm": ("course_lib.agents.common.grad_norm",
                                          "course_lib.toy_instability._grad_norm"),
    "ex08_diagnostics.orders_of_magnitude_per_1000_frames": (
        "course_lib.diagnostics.orders_of_magnitude_per_1000_frames",),
    # Each half of the answer: the slopes (input_gradient_norms on [s || actor(s)]) and the norm
    # of the actor's gradient (after a backward() whose .grad the student clears again).
    "ex08_diagnostics.actor_gradient_by_chain_rule": ("course_lib.spectral.input_gradient_norms",
                                                      "course_lib.agents.common.grad_norm",
                                                      "course_lib.toy_instability._grad_norm"),
    # --- notebook 09 -------------------------------------------------------------------------------
    "ex09_results.return_at_budget": ("course_lib.results._run_values",  # on a one-run curve
                                      "course_lib.results.returns_at"),
    "ex09_results.mean_and_standard_error": ("course_lib.results._mean_se",),
    # config.TrainConfig.agent_steps gives ceil(frames / action_repeat), a fraction of the count.
    "ex09_results.updates_and_hours": (),
    "ex09_results.bootstrap_interval": ("course_lib.stats.interval",  # one task: the same draws
                                        "course_lib.stats.stratified_bootstrap"),
    "ex09_results.probability_of_improvement": ("course_lib.stats.probability_of_improvement",
                                                "course_lib.stats.poi_interval"),  # its point estimate
}

# General helpers that also answer one exercise, stubbed only while that exercise is graded (the
# grader runs each exercise in its own child): other probes build their inputs with them.
WHILE_GRADING: dict[str, tuple[str, ...]] = {
    # "By formula": building the course's head and counting its parameters is the library's answer.
    "ex05_modern.head_parameter_count": ("course_lib.nets.make_head", "course_lib.nets.MLPHead",
                                         "course_lib.nets.ModernHead", "course_lib.nets.ResidualBlock"),
    # The power step of the library's SN, which a hand-written SN module can call (notebook 04's capstone).
    **{f"ex04_power_iteration.spectral_norm_{part}": ("course_lib.spectral.power_step_",)
       for part in ("normalizes", "power_step", "gradient", "learns")},
    # DDPG's schedule and its noisy action (DDPGAgent.act needs them in the capstone's training run).
    "ex07_drqv2.exploration_std": ("course_lib.agents.ddpg.exploration_std",),
    "ex07_drqv2.ddpg_update_critic": ("course_lib.agents.ddpg.exploration_std", "course_lib.agents.ddpg.noisy_action"),
    "ex07_drqv2.ddpg_update_actor": ("course_lib.agents.ddpg.exploration_std", "course_lib.agents.ddpg.noisy_action"),
}


def message(path: str) -> str:
    """The reason a submission gets for calling the listed function ``path``."""
    return f"calls {path}, the course's own answer to an exercise; write it yourself"


def _stub(path: str) -> Callable:
    reason = message(path)

    def stub(*args, **kwargs):
        raise CheckFailed(reason)

    stub.__name__ = stub.__qualname__ = path.rsplit(".", 1)[1]
    stub.__module__ = path.rsplit(".", 1)[0]
    stub.__doc__ = reason
    return stub


#: Exercises whose probe trains with the library's own update: notebook 04's capstone trains SAC with
#: the student's SN module in the critic, and ``SACAgent.update`` runs on the library's answers to
#: notebooks 02's and 06's exercises. While one of these is graded only its own listings are stubbed.
OWN_ANSWERS_ONLY = frozenset({"ex04_power_iteration.spectral_norm_learns"})


def answer_paths(exercise: str | None = None) -> list[str]:
    """The dotted paths :func:`stub_answers` replaces (for ``exercise``: also its ``WHILE_GRADING``;
    for one of :data:`OWN_ANSWERS_ONLY`: its own listings only)."""
    paths = [path for paths in ANSWERS.values() for path in paths]
    if exercise is not None:
        if exercise not in REGISTRY:
            raise ValueError(f"unknown exercise {exercise!r}")
        if exercise in OWN_ANSWERS_ONLY:
            paths = list(ANSWERS.get(exercise, ()))
        paths += WHILE_GRADING.get(exercise, ())
    return list(dict.fromkeys(paths))


def _split(path: str) -> tuple[str, list[str]]:
    """``("course_lib.module", ["name"])``, or ``(..., ["Class", "method"])`` for a method; imports the module."""
    module, _, name = path.rpartition(".")
    attributes = [name]
    while True:
        try:
            importlib.import_module(module)
            return module, attributes
        except ModuleNotFoundError as error:
            if error.name != module or "." not in module:  # a module that really is missing
                raise
            module, _, owner = module.rpartition(".")
            attributes.insert(0, owner)


def answer_modules() -> list[str]:
    """The modules of every listed function: the grader imports them before it forks children."""
    paths = answer_paths() + [path for paths in WHILE_GRADING.values() for path in paths]
    return list(dict.fromkeys(_split(path)[0] for path in paths))


def resolve(path: str):
    """The object at dotted ``path`` (``course_lib.module.name`` or ``course_lib.module.Class.method``)."""
    module, attributes = _split(path)
    value = importlib.import_module(module)
    for attribute in attributes:
        value = getattr(value, attribute)
    return value


def stub_answers(exercise: str | None = None) -> list[str]:
    """Replace every function of :data:`ANSWERS` (and of ``WHILE_GRADING[exercise]``) by a stub.

    The grader's child calls ``stub_answers(name)`` after it has started and before it loads the
    student's code for exercise ``name``. Every ``course_lib`` module already imported, and the
    modules of the listed functions (imported now), stop holding the originals: a module attribute,
    or a value of a dict or list at a module's top level, that *is* one of them becomes its stub.
    Irreversible within the process (the child exits after one exercise). Returns the paths stubbed.
    """
    paths = []
    stubs = {}  # id(original) -> (original, stub); the original is kept alive while we replace
    for path in answer_paths(exercise):
        try:
            original = resolve(path)
        except ImportError:  # a module this machine cannot import: no submission can call it either
            continue
        paths.append(path)
        if id(original) not in stubs:
            stubs[id(original)] = (original, _stub(path))
        owner, attributes = _split(path)
        if len(attributes) > 1:  # a method: replace it on its class (instances look it up there)
            setattr(resolve(path.rpartition(".")[0]), attributes[-1], stubs[id(original)][1])
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "course_lib" or name.startswith("course_lib.")):
            continue
        namespace = vars(module)
        for attribute, value in list(namespace.items()):
            if id(value) in stubs and stubs[id(value)][0] is value:
                namespace[attribute] = stubs[id(value)][1]
            elif isinstance(value, dict) and not attribute.startswith("__"):
                for key, item in list(value.items()):
                    if id(item) in stubs and stubs[id(item)][0] is item:
                        value[key] = stubs[id(item)][1]
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if id(item) in stubs and stubs[id(item)][0] is item:
                        value[i] = stubs[id(item)][1]
    return paths
