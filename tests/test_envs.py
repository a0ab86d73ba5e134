"""dm_control wrappers: seeding, action repeat, action scaling, time limits, pixels, GL errors.

Rendering costs 17-37 ms per 84x84 frame on the CI CPUs, so pixel tests take a handful of steps;
state tests use physics only.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from course_lib import envs
from course_lib.replay import ReplayBuffer


def rollout(env, actions):
    ts = env.reset()
    out = [ts]
    for action in actions:
        ts = env.step(action)
        out.append(ts)
    return out


def test_mujoco_gl_defaults_to_egl_but_a_user_value_wins():
    code = "import os; import course_lib.envs; print(os.environ['MUJOCO_GL'])"
    clean = {k: v for k, v in os.environ.items() if k != "MUJOCO_GL"}
    out = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True)
    assert out.stdout.strip() == "egl", out.stderr
    out = subprocess.run([sys.executable, "-c", code], env={**clean, "MUJOCO_GL": "osmesa"},
                         capture_output=True, text=True)
    assert out.stdout.strip() == "osmesa", out.stderr


@pytest.mark.parametrize("backend,obs_type", [
    ("no_such_backend", "state"),  # dm_control refuses the name when it is imported
    ("disabled", "pixels"),        # imports fine, then no GL context can be made to render
])
def test_missing_gl_backend_says_how_to_fix_it(backend, obs_type):
    code = (
        "from course_lib import envs\n"
        "try:\n"
        f"    envs.make_env('cartpole_swingup', {obs_type!r}).reset()\n"
        "except RuntimeError as err:\n"
        "    print('RuntimeError:', err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "MUJOCO_GL": backend}, timeout=120)
    message = out.stdout
    assert message.startswith("RuntimeError:"), (out.stdout, out.stderr)
    assert f"MUJOCO_GL='{backend}'" in message
    for fix in ("libegl1", "libgl1", "osmesa", "glfw"):
        assert fix in message


def test_paper_tasks_parse_including_underscored_domains():
    assert len(envs.TABLE2_TASKS) == 15 and set(envs.TABLE1_TASKS) <= set(envs.TASKS)
    for name in envs.TASKS:
        domain, task = envs.parse_task(name)
        assert f"{domain}_{task}" == name
    assert envs.parse_task("ball_in_cup_catch") == ("ball_in_cup", "catch")
    assert envs.parse_task("cartpole_swingup_sparse") == ("cartpole", "swingup_sparse")
    assert envs.parse_task("point_mass_easy") == ("point_mass", "easy")
    assert len(envs.all_task_names()) > 40  # every suite task, not only the paper's


def test_unknown_task_lists_close_matches():
    with pytest.raises(ValueError) as info:
        envs.make_env("cartpole_swingupp")
    message = str(info.value)
    assert "cartpole_swingup" in message and "all_task_names" in message
    with pytest.raises(ValueError, match="ball_in_cup_catch"):
        envs.make_env("cup_catch")  # the paper's short name
    with pytest.raises(ValueError, match="obs_type"):
        envs.make_env("cartpole_swingup", obs_type="rgb")
    with pytest.raises(ValueError, match="action_repeat"):
        envs.make_env("cartpole_swingup", action_repeat=0)


def test_seeded_reset_and_rollout_are_reproducible():
    actions = np.random.default_rng(0).uniform(-1, 1, (20, 6))
    a = rollout(envs.make_env("walker_walk", seed=3), actions)
    b = rollout(envs.make_env("walker_walk", seed=3), actions)
    c = envs.make_env("walker_walk", seed=4).reset()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.observation, y.observation)
        assert x.reward == y.reward
    assert not np.array_equal(a[0].observation, c.observation)
    obs = a[0].observation
    assert obs.dtype == np.float32 and obs.shape == (24,) == envs.make_env("walker_walk").obs_shape


def test_action_repeat_sums_rewards():
    actions = np.random.default_rng(1).uniform(-1, 1, (10, 1))
    repeated = rollout(envs.make_env("cartpole_balance", seed=0, action_repeat=3), actions)
    single = rollout(envs.make_env("cartpole_balance", seed=0, action_repeat=1), np.repeat(actions, 3, 0))
    for i in range(1, 11):
        assert repeated[i].reward == pytest.approx(sum(ts.reward for ts in single[3 * i - 2:3 * i + 1]))
        np.testing.assert_array_equal(repeated[i].observation, single[3 * i].observation)
    # Balance pays about 1 per control step, so three of them summed exceed any single reward.
    assert all(1.5 < ts.reward <= 3.0 for ts in repeated[1:])


@pytest.mark.parametrize("task,action_repeat", [("cartpole_swingup", 8), ("walker_walk", 3)])
def test_skipping_the_unused_observations_changes_nothing(task, action_repeat):
    # Action repeat computes only the last control step's observation (envs._control_step_unobserved);
    # against dm_control's own env.step every time, a whole episode must agree bit for bit, also
    # when the time limit falls inside a repeat (1000 control steps are not a multiple of 3).
    fast, plain = envs.make_env(task, seed=5, action_repeat=action_repeat), envs.make_env(task, seed=5,
                                                                                        action_repeat=action_repeat)
    assert fast._split_steps
    plain._split_steps = False
    actions = np.random.default_rng(2).uniform(-1, 1, (fast.max_episode_agent_steps, fast.action_dim))
    a, b = rollout(fast, actions), rollout(plain, actions)
    assert a[-1].last and b[-1].last and len(a) == len(b) == fast.max_episode_agent_steps + 1
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.observation, y.observation)
        assert (x.reward, x.discount, x.last) == (y.reward, y.discount, y.last)


def test_time_limit_ends_episode_with_bootstrap_discount():
    env = envs.make_env("cartpole_swingup", action_repeat=8)
    assert env.max_episode_agent_steps == 125  # 1000 control steps / 8
    ts, steps = env.reset(), 0
    assert ts.first and not ts.last and ts.discount == 1.0
    while not ts.last:
        ts = env.step(np.zeros(1))
        steps += 1
        assert not ts.first
    assert steps == 125 and ts.discount == 1.0  # a time limit: the critic still bootstraps
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(1))


def test_actions_are_checked_and_scaled_to_the_task_bounds():
    env = envs.make_env("quadruped_walk")  # bounds differ per joint: [-1, -1, -0.8] .. [1, 1.1, 0.8]
    low, high = env._low, env._high
    assert not np.allclose(low, -1) and env.action_dim == 12
    env.reset()
    ctrl = env._env.physics.data.ctrl
    for agent_action, expected in ((-np.ones(12), low), (np.ones(12), high),
                                   (np.zeros(12), (low + high) / 2)):
        env.step(agent_action)
        np.testing.assert_allclose(ctrl, expected, atol=1e-12)
    for bad in (np.full(12, 1.01), np.full(12, -2.0), np.full(12, np.nan), np.zeros(11)):
        with pytest.raises(ValueError, match=r"\[-1, 1\]|finite|shape"):
            env.step(bad)
    assert env.camera_id == 2  # the quadruped is filmed from camera 2, every other task from 0
    assert envs.make_env("cheetah_run").camera_id == 0


def test_pixel_observations_stack_frames():
    env = envs.make_env("cartpole_swingup", "pixels", seed=0)
    assert env.obs_shape == (9, 84, 84)
    ts = env.reset()
    obs = ts.observation
    assert obs.shape == (9, 84, 84) and obs.dtype == np.uint8
    np.testing.assert_array_equal(obs[0:3], obs[6:9])  # the first frame repeats at a start
    np.testing.assert_array_equal(obs[3:6], obs[6:9])
    np.testing.assert_array_equal(env.last_frame, obs[6:9])
    assert obs.std() > 5  # a real picture, not a blank frame
    frames = [obs[6:9]] * 3
    for _ in range(3):
        ts = env.step(np.ones(1))
        frames.append(env.last_frame)
        np.testing.assert_array_equal(ts.observation, np.concatenate(frames[-3:]))
    assert not np.array_equal(frames[0], frames[-1])  # the cart moved
    video = env.render(size=64)
    assert video.shape == (64, 64, 3) and video.dtype == np.uint8


def test_pixel_episode_survives_the_replay_buffer():
    """What the agent saw is what the buffer gives back, across an episode boundary."""
    env = envs.make_env("reacher_easy", "pixels", seed=2, action_repeat=125, image_size=32)
    assert env.max_episode_agent_steps == 8
    buffer = ReplayBuffer(100, env.obs_shape, env.action_dim, "pixels", n_step=1)
    seen = {}
    for _ in range(2):
        ts = env.reset()
        buffer.add_first(ts.observation)
        while not ts.last:
            previous = ts.observation
            action = np.full(env.action_dim, 0.5)
            ts = env.step(action)
            buffer.add(action, ts.reward, ts.discount, ts.observation, ts.last)
            seen[previous.tobytes()] = (ts.observation, ts.reward)
    assert len(buffer) == 16
    batch = buffer.sample(64)
    for obs, next_obs, reward in zip(batch["obs"], batch["next_obs"], batch["reward"]):
        want_next, want_reward = seen[obs.tobytes()]
        np.testing.assert_array_equal(next_obs, want_next)
        assert reward[0] == pytest.approx(want_reward)


@pytest.mark.parametrize("task,obs_type,steps", [
    ("walker_walk", "state", 37),
    ("reacher_easy", "pixels", 5),     # reacher moves its target inside the model each episode
    ("cartpole_swingup", "pixels", 1),  # fewer steps than the stack is deep
])
def test_state_dict_continues_an_episode_exactly(task, obs_type, steps):
    rng = np.random.default_rng(0)
    kwargs = dict(obs_type=obs_type, action_repeat=4, image_size=32)
    env = envs.make_env(task, seed=1, **kwargs)
    env.reset()
    for _ in range(steps):
        ts = env.step(rng.uniform(-1, 1, env.action_dim))
    state = env.state_dict()
    restored = envs.make_env(task, seed=123, **kwargs)  # another seed: the state must carry it
    resumed = restored.load_state_dict(state)
    np.testing.assert_array_equal(resumed.observation, ts.observation)
    assert resumed.reward == ts.reward and resumed.last == ts.last
    for _ in range(4):
        action = rng.uniform(-1, 1, env.action_dim)
        a, b = env.step(action), restored.step(action)
        np.testing.assert_array_equal(a.observation, b.observation)
        assert a.reward == b.reward


def test_state_dict_between_episodes_gives_the_same_next_episode():
    env = envs.make_env("cartpole_swingup", seed=5, action_repeat=50)
    fresh = envs.make_env("cartpole_swingup", seed=9, action_repeat=50)
    fresh.load_state_dict(env.state_dict())  # before any reset
    np.testing.assert_array_equal(env.reset().observation, fresh.reset().observation)
    ts = env.reset()
    while not ts.last:
        ts = env.step(np.ones(1))
    fresh.load_state_dict(env.state_dict())  # episode over: the next reset draws the same start
    with pytest.raises(RuntimeError, match="reset"):
        fresh.step(np.ones(1))
    np.testing.assert_array_equal(env.reset().observation, fresh.reset().observation)
    with pytest.raises(ValueError, match="task"):
        envs.make_env("cartpole_balance").load_state_dict(env.state_dict())
