"""DeepMind Control Suite tasks as the agents see them (DrQ / DrQ-v2 style, no gym).

The paper (Sec. 3.1) evaluates on the 15 dm_control tasks of DrQ (Kostrikov et al. 2020), from
pixels, and on 5 of them with DrQ-v2's DDPG agent (Table 1). This module turns a task name such as
``"cartpole_swingup"`` into an environment with the conventions those agents use:

- **Actions** live in ``[-1, 1]^d`` (what a tanh-squashed policy, eq. 1, outputs) and are scaled
  linearly to the task's own bounds.
- **Action repeat**: one agent step repeats the action for ``action_repeat`` physics control steps
  and returns the *summed* reward. Budgets are counted in environment frames = agent steps x repeat.
- **Time limits are bootstrapped**: dm_control ends every episode after 1000 control steps with
  ``discount == 1.0``; that is a time limit, not a terminal state, so the critic's target
  (eq. 2) keeps the bootstrap term ``gamma * Q(s', a')``. We pass dm_control's discount through.
- **Observations**: ``"state"`` gives the proprioceptive observation dict flattened to one float32
  vector; ``"pixels"`` gives the last ``frame_stack`` rendered RGB frames, uint8, channel-first,
  stacked along channels: shape ``(3 * frame_stack, image_size, image_size)``. At an episode start
  the first frame is repeated, as dm_control's and DrQ-v2's frame stackers do.
- **Seeding**: ``suite.load(domain, task, task_kwargs={"random": seed})`` seeds the task's initial
  states; physics and rendering are deterministic, so the same seed replays the same episode.

Rendering needs an OpenGL backend chosen by the environment variable ``MUJOCO_GL`` *before*
dm_control is imported. :mod:`course_lib.rendering` defaults it by platform (``egl`` on Linux,
``glfw`` on macOS and Windows) and never overwrites a value the user set.
"""

from __future__ import annotations

from course_lib import rendering

rendering.choose_backend()  # must precede any dm_control import; a user's value wins

import collections
import difflib
import functools
import math
from typing import NamedTuple

import numpy as np

# The 15 tasks of Table 2 (DrQ's "Dreamer benchmark" set), named domain_task.
TABLE2_TASKS = (
    "ball_in_cup_catch",
    "cartpole_swingup",
    "cheetah_run",
    "walker_run",
    "finger_spin",
    "reacher_hard",
    "pendulum_swingup",
    "hopper_hop",
    "hopper_stand",
    "walker_walk",
    "cartpole_balance",
    "cartpole_balance_sparse",
    "cartpole_swingup_sparse",
    "reacher_easy",
    "walker_stand",
)
# The 5 tasks of Table 1 (DrQ-v2's DDPG agent); the paper's "cup catch" is ball_in_cup_catch.
TABLE1_TASKS = (
    "ball_in_cup_catch",
    "walker_walk",
    "cartpole_swingup_sparse",
    "hopper_stand",
    "reacher_easy",
)
TASKS = TABLE2_TASKS + tuple(t for t in TABLE1_TASKS if t not in TABLE2_TASKS)

OBS_TYPES = ("state", "pixels")


def _gl_help(err: BaseException) -> str:
    return rendering.backend_error(err)


@functools.cache
def _suite():
    """Import ``dm_control.suite`` on first use.

    dm_control chooses its GL backend when it is imported, and an unusable ``MUJOCO_GL`` fails
    right there; importing lazily keeps ``import course_lib.envs`` (and ``--help`` of the CLIs)
    working, and lets us turn that failure into an error that says how to fix it.
    """
    try:
        from dm_control import suite
    except (RuntimeError, ImportError, AttributeError, OSError) as err:
        raise RuntimeError(_gl_help(err)) from err
    return suite


@functools.cache
def _task_table() -> dict[str, tuple[str, str]]:
    """Every dm_control suite task as ``{"domain_task": (domain, task)}``.

    Joining with ``_`` is unambiguous here even though domains (``ball_in_cup``) and tasks
    (``swingup_sparse``) contain underscores: we look the whole name up instead of splitting it.
    """
    table: dict[str, tuple[str, str]] = {}
    for domain, task in _suite().ALL_TASKS:
        name = f"{domain}_{task}"
        if name in table:  # would only happen if dm_control added a clashing pair
            raise RuntimeError(f"ambiguous dm_control task name {name!r}")
        table[name] = (domain, task)
    return table


def all_task_names() -> list[str]:
    """All dm_control suite task names in this module's ``domain_task`` spelling."""
    return sorted(_task_table())


def parse_task(name: str) -> tuple[str, str]:
    """``"ball_in_cup_catch"`` -> ``("ball_in_cup", "catch")``; unknown names raise ValueError."""
    table = _task_table()
    if not isinstance(name, str) or name not in table:
        close = difflib.get_close_matches(str(name), list(table), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown task {name!r}.{hint} Task names are dm_control suite tasks written "
            "domain_task (e.g. cartpole_swingup, ball_in_cup_catch); the paper's 15 are "
            "course_lib.envs.TASKS and all of them are listed by course_lib.envs.all_task_names()."
        )
    return table[name]


class TimeStep(NamedTuple):
    """What one agent step returns.

    observation: state: float32 (D,); pixels: uint8 (3 * frame_stack, H, W), newest frame last.
    reward:      sum of the rewards of the repeated control steps (0.0 at reset).
    discount:    product of dm_control's discounts over the repeat: 1.0 everywhere in the suite,
                 including at the time limit, so the agent bootstraps there (0.0 only at a true
                 terminal state).
    first, last: the episode's first observation (after reset) / its final step.
    """

    observation: np.ndarray
    reward: float
    discount: float
    first: bool
    last: bool


def _splittable(env) -> bool:
    """Is ``env`` a plain dm_control ``control.Environment``, whose step :func:`_control_step_unobserved` mirrors?"""
    from dm_control.rl import control

    return type(env).step is control.Environment.step and all(
        hasattr(env, name) for name in ("_task", "_physics", "_n_sub_steps", "_step_count", "_step_limit",
                                        "_reset_next_step", "_flat_observation"))


def _control_step_unobserved(env, action):
    """``control.Environment.step`` of dm_control 1.0.50, line for line, but the observation is only
    computed when the episode ends. Returns ``(reward, discount, timestep)``: ``timestep`` is the
    ``LAST`` step (with its observation) when the episode ended, else ``None`` (discount 1).

    Action repeat throws the intermediate observations away, and computing them is a sizeable
    part of a state run's cost (the task's ``get_observation`` reads the physics by name).
    ``tests/test_envs.py`` checks that rewards, discounts and observations equal ``env.step``'s.
    """
    import dm_env
    from dm_control.rl import control

    task, physics = env._task, env._physics
    task.before_step(action, physics)
    physics.step(env._n_sub_steps)
    task.after_step(physics)
    reward = task.get_reward(physics)
    env._step_count += 1
    discount = 1.0 if env._step_count >= env._step_limit else task.get_termination(physics)
    if discount is None:
        return reward, 1.0, None
    env._reset_next_step = True
    observation = task.get_observation(physics)
    if env._flat_observation:
        observation = control.flatten_observation(observation)
    return reward, discount, dm_env.TimeStep(dm_env.StepType.LAST, reward, discount, observation)


class DMCEnv:
    """One dm_control task with action repeat, [-1, 1] actions and state or pixel observations.

    Build it with :func:`make_env`. Attributes: ``obs_shape``, ``action_dim``,
    ``max_episode_agent_steps`` (agent steps per episode, the time limit divided by the repeat),
    ``last_frame`` (pixels: the newest frame, uint8 (3, H, W); what the replay buffer stores).
    """

    def __init__(self, task, obs_type, seed, action_repeat, frame_stack, image_size, camera_id):
        domain, task_name = parse_task(task)
        self.task = task
        self.obs_type = obs_type
        self.seed = seed
        self.action_repeat = action_repeat
        self.frame_stack = frame_stack
        self.image_size = image_size
        # DrQ / DrQ-v2 / Dreamer: camera 2 shows the quadruped from behind, camera 0 elsewhere.
        self.camera_id = (2 if domain == "quadruped" else 0) if camera_id is None else camera_id

        self._env = _suite().load(domain, task_name, task_kwargs={"random": seed})
        spec = self._env.action_spec()
        self.action_dim = int(np.prod(spec.shape))
        self._action_shape = spec.shape
        self._low = np.broadcast_to(np.asarray(spec.minimum, np.float64), spec.shape)
        self._high = np.broadcast_to(np.asarray(spec.maximum, np.float64), spec.shape)

        if obs_type == "state":
            sizes = [int(np.prod(s.shape)) for s in self._env.observation_spec().values()]
            self.obs_shape = (sum(sizes),)
        else:
            self.obs_shape = (3 * frame_stack, image_size, image_size)
        step_limit = getattr(self._env, "_step_limit", float("inf"))  # control steps per episode
        self.max_episode_agent_steps = (
            math.ceil(step_limit / action_repeat) if math.isfinite(step_limit) else None
        )
        self._frames: collections.deque = collections.deque(maxlen=frame_stack)
        self.last_frame: np.ndarray | None = None
        self._split_steps = _splittable(self._env)  # skip unused observations (see _repeat)
        self._needs_reset = True
        self._episode_rng_state = None  # the task RNG's state when the current episode began
        self._episode_actions: list[np.ndarray] = []

    # -- observations ---------------------------------------------------------------------------
    def render(self, size: int = 256, camera_id: int | None = None) -> np.ndarray:
        """An RGB image, uint8 (size, size, 3), of the current state (for videos)."""
        camera = self.camera_id if camera_id is None else camera_id
        try:
            return self._env.physics.render(height=size, width=size, camera_id=camera)
        except Exception as err:  # mujoco.FatalError, GLFW/EGL errors: all mean "no GL context"
            if isinstance(err, (ValueError, TypeError)):  # bad camera id or size: the caller's bug
                raise
            raise RuntimeError(_gl_help(err)) from err

    def _observe(self, dm_observation, reset: bool) -> np.ndarray:
        if self.obs_type == "state":
            return np.concatenate(
                [np.asarray(v, dtype=np.float32).ravel() for v in dm_observation.values()]
            )
        frame = np.ascontiguousarray(self.render(self.image_size).transpose(2, 0, 1))
        self.last_frame = frame
        if reset:  # repeat the first frame, like dm_control's FrameStack
            self._frames.extend([frame] * self.frame_stack)
        else:
            self._frames.append(frame)
        return np.concatenate(self._frames, axis=0)

    # -- the MDP --------------------------------------------------------------------------------
    def reset(self) -> TimeStep:
        # Remember how this episode began (the task's RNG draws its initial state) and what the
        # agent did since: that is all state_dict() needs to rebuild the episode exactly.
        self._episode_rng_state = self._env.task.random.get_state()
        self._episode_actions = []
        ts = self._env.reset()
        self._needs_reset = False
        return TimeStep(self._observe(ts.observation, reset=True), 0.0, 1.0, True, False)

    def _check_action(self, action) -> np.ndarray:
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (self.action_dim,):
            raise ValueError(
                f"{self.task} expects an action of shape ({self.action_dim},), got {action.shape}"
            )
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action must be finite, got {action}")
        if np.any(np.abs(action) > 1.0 + 1e-6):
            raise ValueError(
                f"actions must lie in [-1, 1] (they are scaled to the task's bounds); got {action}"
            )
        return np.clip(action, -1.0, 1.0)

    def _repeat(self, action: np.ndarray):
        """Physics only: ``action_repeat`` control steps; the summed reward, discount, last step.

        Only the last control step's observation is used, so the steps before it skip the task's
        ``get_observation`` (:func:`_control_step_unobserved`); rewards, discounts and the physics
        are exactly those of ``env.step``.
        """
        scaled = self._low + (action.reshape(self._action_shape) + 1.0) * 0.5 * (self._high - self._low)
        reward, discount = 0.0, 1.0
        for i in range(self.action_repeat):
            if i < self.action_repeat - 1 and self._split_steps and not self._env._reset_next_step:
                r, d, ts = _control_step_unobserved(self._env, scaled)
                reward += float(r or 0.0)
                discount *= float(d)
                if ts is not None:  # the episode ended early: its observation is the one returned
                    return ts, reward, discount, True
                continue
            ts = self._env.step(scaled)
            reward += float(ts.reward or 0.0)
            discount *= float(ts.discount)
            if ts.last():
                break
        return ts, reward, discount, bool(ts.last())

    def step(self, action) -> TimeStep:
        """Repeat ``action`` (in [-1, 1]^d) for ``action_repeat`` control steps; sum the rewards."""
        if self._needs_reset:
            raise RuntimeError("the episode is over (or never started): call reset() first")
        action = self._check_action(action)
        self._episode_actions.append(action)
        ts, reward, discount, last = self._repeat(action)
        self._needs_reset = last
        return TimeStep(self._observe(ts.observation, reset=False), reward, discount, False, last)

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """What is needed to continue this environment exactly (for resuming a run).

        Not the physics memory itself: the task RNG's state at the start of the current episode and
        the actions taken since. Physics is deterministic, so replaying them rebuilds the state bit
        for bit (cheap: no rendering except the frames of the current stack). Contents are numpy
        arrays and Python scalars only.
        """
        started = self._episode_rng_state is not None
        rng = self._episode_rng_state if started else self._env.task.random.get_state()
        _, keys, pos, has_gauss, cached_gaussian = rng
        actions = np.asarray(self._episode_actions, dtype=np.float64).reshape(-1, self.action_dim)
        return {
            "task": self.task, "obs_type": self.obs_type, "action_repeat": self.action_repeat,
            "frame_stack": self.frame_stack, "image_size": self.image_size,
            "camera_id": self.camera_id, "episode_started": started,
            "rng_keys": np.array(keys, dtype=np.uint32), "rng_pos": int(pos),
            "rng_has_gauss": int(has_gauss), "rng_cached_gaussian": float(cached_gaussian),
            "episode_actions": actions,
        }

    def load_state_dict(self, state: dict) -> TimeStep | None:
        """Continue from :meth:`state_dict`; returns the current time step (None before a reset)."""
        for key in ("task", "obs_type", "action_repeat", "frame_stack", "image_size", "camera_id"):
            if state[key] != getattr(self, key):
                raise ValueError(f"state is for {key}={state[key]!r}, this env has {getattr(self, key)!r}")
        rng = ("MT19937", np.asarray(state["rng_keys"], dtype=np.uint32), int(state["rng_pos"]),
               int(state["rng_has_gauss"]), float(state["rng_cached_gaussian"]))
        self._env.task.random.set_state(rng)
        if not state["episode_started"]:
            self._episode_rng_state, self._episode_actions, self._needs_reset = None, [], True
            return None
        actions = [np.asarray(a, dtype=np.float64) for a in np.asarray(state["episode_actions"])]
        self._episode_rng_state = rng
        self._episode_actions = list(actions)
        ts = self._env.reset()
        # Render only the frames the current stack holds: steps m - stack + 1 .. m.
        m, stacked = len(actions), range(max(0, len(actions) - self.frame_stack + 1), len(actions) + 1)
        observation = self._observe(ts.observation, reset=True) if 0 in stacked else None
        reward, discount, last = 0.0, 1.0, False
        for i, action in enumerate(actions, start=1):
            if last:
                raise ValueError("episode_actions continue past the end of the episode")
            ts, reward, discount, last = self._repeat(action)
            if i in stacked:
                observation = self._observe(ts.observation, reset=False)  # fills the stack
        self._needs_reset = last
        return TimeStep(observation, reward if m else 0.0, discount, m == 0, last)

    # -- checkpoints ----------------------------------------------------------------------------
    def get_rng_state(self):
        """The task's random state. Between episodes it is all a resumed run needs: ``reset()``
        draws the next initial state from it, and physics and rendering are deterministic."""
        return self._env.task.random.get_state()

    def set_rng_state(self, state) -> None:
        """Restore :meth:`get_rng_state` (call it between episodes, then ``reset()``)."""
        self._env.task.random.set_state(state)

    def close(self) -> None:
        self._env.close()

    def __repr__(self) -> str:
        return (
            f"DMCEnv({self.task!r}, obs_type={self.obs_type!r}, obs_shape={self.obs_shape}, "
            f"action_dim={self.action_dim}, action_repeat={self.action_repeat}, seed={self.seed})"
        )


def make_env(
    task: str,
    obs_type: str = "state",
    seed: int = 0,
    action_repeat: int = 2,
    frame_stack: int = 3,
    image_size: int = 84,
    camera_id: int | None = None,
) -> DMCEnv:
    """Build a dm_control task by name, e.g. ``make_env("cartpole_swingup", "pixels", seed=1)``.

    ``action_repeat=2`` is the paper's pixel setting (DrQ, DrQ-v2); state runs on a CPU learn
    faster with 4. ``frame_stack`` and ``image_size`` only matter for ``obs_type="pixels"``;
    ``camera_id=None`` picks camera 2 for quadruped and 0 otherwise.
    """
    if obs_type not in OBS_TYPES:
        raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
    for name, value in (("action_repeat", action_repeat), ("frame_stack", frame_stack),
                        ("image_size", image_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return DMCEnv(task, obs_type, int(seed), int(action_repeat), int(frame_stack),
                  int(image_size), camera_id)
