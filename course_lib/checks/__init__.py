"""Instant checks for the exercises: one registry serves notebooks, tests and the grader.

A student writes the bodies in ``exercises/exNN_topic.py``. Every exercise has a *probe* that
calls a function on inputs drawn from a seeded generator and returns plain data, and a *compare*
that judges the student's data against the data of the reference in ``solutions/``
(``framework.py`` explains the design). The same
registry is used by

- notebooks: ``checks.check("ex01_mdp.value_iteration")`` prints ``✓ correct``, ``✗ <reason>``
  or ``… not written yet``; it never raises because of the student's code;
- tests: ``tests/test_exercises.py`` runs every check against ``solutions/`` (or, with
  ``pytest --exercises PATH``, against a student's copy) and checks that untouched stubs fail;
- the grader: ``python -m course_lib.grade PATH`` runs each probe of the student's code in its own
  child process, and compares in its own process, which never runs student code.

How to add an exercise (three steps):

1. In ``solutions/exNN_topic.py`` write the function with its full docstring and put its body
   between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines; run ``make exercises`` (or
   ``python tools/make_exercises.py``) to regenerate the stub in ``exercises/``.
2. In the module of its notebook here (``nbNN_topic.py``), write::

       @register("exNN_topic.function_name", points=1, difficulty=2)  # ★★: see register()
       def _probe_function_name(fn, rng):
           x = rng.normal(size=5)                     # inputs from rng: --seed changes them
           return {"f(x) on a random 5-vector": fn(x)}  # plain data; keys name the parts

   A probe must raise the stub's ``NotImplementedError`` and give the same data for the solution
   on every seed; keep it under a second on a CPU.
3. In the notebook, introduce it as ``**Exercise** (★★, 1 point): `function_name` ...`` (stars and
   points as registered; ``tests/test_exercise_design.py`` checks them) and add a check cell
   ``checks.check("exNN_topic.function_name")``.
The tests pick the new exercise up from the registry automatically. Several exercises may grade parts
of one function, each with its own points (``register(..., function="sac_update")``), and a probe
that trains an agent gets a longer time limit in the grader (``register(..., timeout=600)``).
"""
from .framework import (DEFAULT_SEED, MAX_PAYLOAD, MAX_REASON, NOT_WRITTEN, REGISTRY, CheckFailed,  # noqa: F401
                        Exercise, as_float, check, decode, default_exercises_dir, encode, exercise,
                        expect_close, expect_same, expect_shape, judge, load_module, reference_outputs,
                        register, rng_for, run_check, solutions_dir, student_result, torch_generator,
                        unpack)

# One module per notebook; importing them fills REGISTRY (in notebook order).
from . import nb01_mdp, nb01b_dqn, nb02_actor_critic, nb03_lipschitz, nb04_power_iteration  # noqa: F401,E402
from . import nb05_modern, nb06_drq, nb07_drqv2, nb08_diagnostics, nb09_results  # noqa: F401,E402
