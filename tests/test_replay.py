"""ReplayBuffer: frames stored once, stacks rebuilt, n-step returns, ring wrap-around, checkpoints.

The reference in these tests is deliberately naive: it keeps every step in Python lists and
remembers the stacked observation a dm_control-style frame stacker (a deque that repeats the first
frame) handed to the agent at every step. The buffer must reproduce exactly those stacks.
"""

import collections

import numpy as np
import pytest
import torch

from course_lib.replay import ReplayBuffer, to_torch

FRAME = (3, 2, 2)  # tiny frames keep the tests fast; the buffer does not care about H, W


def encode(index: int) -> np.ndarray:
    """A frame that names its absolute step index (so a sample tells which steps it used)."""
    frame = np.empty(FRAME, dtype=np.uint8)
    frame[0], frame[1], frame[2] = index % 256, (index // 256) % 256, (index // 65536) % 256
    return frame


def decode(frame: np.ndarray) -> int:
    return int(frame[0, 0, 0]) + 256 * int(frame[1, 0, 0]) + 65536 * int(frame[2, 0, 0])


class NaiveLog:
    """Every step ever added, with the stacked observation a naive frame stacker produced."""

    def __init__(self, frame_stack):
        self.frame_stack = frame_stack
        self.stacks, self.actions, self.rewards, self.discounts = [], [], [], []
        self.first, self.last = [], []
        self._deque = collections.deque(maxlen=frame_stack)

    def add(self, frame, first, last, action=None, reward=0.0, discount=1.0):
        if first:
            self._deque.extend([frame] * self.frame_stack)
        else:
            self._deque.append(frame)
        self.stacks.append(np.concatenate(self._deque, axis=0))
        self.actions.append(action)
        self.rewards.append(reward)
        self.discounts.append(discount)
        self.first.append(first)
        self.last.append(last)


def fill(buffer, log, rng, num_steps, action_dim=2, pass_stack=True, abandon_prob=0.0,
         last_prob=0.15, discount_zero_prob=0.0):
    """Random episodes (some ending with last=True, some abandoned) into buffer and log."""
    index = len(log.first)
    written = 0
    while written < num_steps:
        frame = encode(index)
        log.add(frame, first=True, last=False)
        buffer.add_first(log.stacks[-1] if pass_stack else frame)
        index += 1
        written += 1
        while written < num_steps:
            action = rng.uniform(-1, 1, action_dim).astype(np.float32)
            reward = float(np.float32(rng.normal()))
            last = bool(rng.random() < last_prob)
            discount = 0.0 if (last and rng.random() < discount_zero_prob) else 1.0
            frame = encode(index)
            log.add(frame, first=False, last=last, action=action, reward=reward, discount=discount)
            buffer.add(action, reward, discount, log.stacks[-1] if pass_stack else frame, last)
            index += 1
            written += 1
            if last or rng.random() < abandon_prob:
                break


def naive_valid_starts(log, capacity, frame_stack):
    total = len(log.first)
    oldest = max(0, total - capacity)
    valid = []
    for t in range(oldest, total - 1):
        if log.last[t] or log.first[t + 1]:
            continue
        episode_start = max(i for i in range(t + 1) if log.first[i])
        if max(episode_start, t - frame_stack + 1) < oldest:
            continue  # part of its frame stack has been overwritten
        valid.append(t)
    return valid


def naive_transition(log, t, n_step, gamma):
    """n-step reward/discount by hand, cut at the episode end or the newest step."""
    total = len(log.first)
    reward, discount, k = 0.0, 1.0, 0
    for j in range(1, n_step + 1):
        i = t + j
        if i >= total or log.first[i]:
            break
        reward += discount * log.rewards[i]
        discount *= gamma * log.discounts[i]
        k = j
        if log.last[i]:
            break
    return dict(obs=log.stacks[t], action=log.actions[t + 1], reward=reward,
                discount=discount, next_obs=log.stacks[t + k])


def check_batch(buffer, log, batch, gamma):
    stack = buffer.frame_stack
    starts = []
    for b in range(len(batch["obs"])):
        t = decode(batch["obs"][b, -3:])  # the newest frame of obs names its step
        starts.append(t)
        want = naive_transition(log, t, buffer.n_step, gamma)
        np.testing.assert_array_equal(batch["obs"][b], want["obs"])
        np.testing.assert_array_equal(batch["next_obs"][b], want["next_obs"])
        np.testing.assert_array_equal(batch["action"][b], want["action"])
        assert batch["reward"][b, 0] == pytest.approx(want["reward"], rel=1e-5, abs=1e-5)
        assert batch["discount"][b, 0] == pytest.approx(want["discount"], rel=1e-6)
    assert batch["obs"].shape[1] == 3 * stack
    return starts


@pytest.mark.parametrize("frame_stack,n_step,capacity,pass_stack,abandon", [
    (3, 1, 10_000, True, 0.0),    # no wrap-around, DrQ's setting
    (3, 3, 37, True, 0.05),       # wraps many times, DrQ-v2's n-step, abandoned episodes
    (1, 3, 23, False, 0.0),       # no stacking
    (4, 5, 16, False, 0.1),       # stack deeper than some episodes, n-step across short episodes
])
def test_pixel_samples_match_naive_stacker(frame_stack, n_step, capacity, pass_stack, abandon):
    rng = np.random.default_rng(0)
    gamma = 0.9
    buffer = ReplayBuffer(capacity, (3 * frame_stack, *FRAME[1:]), 2, "pixels",
                          frame_stack=frame_stack, n_step=n_step, discount=gamma, seed=1)
    log = NaiveLog(frame_stack)
    seen = set()
    for _ in range(12):  # sample at many fill levels, before and after wrap-around
        fill(buffer, log, rng, int(rng.integers(1, 30)), pass_stack=pass_stack,
             abandon_prob=abandon, discount_zero_prob=0.3)
        valid = naive_valid_starts(log, capacity, frame_stack)
        assert len(buffer) == len(valid)
        if not valid:
            with pytest.raises(ValueError, match="no transition"):
                buffer.sample(4)
            continue
        batch = buffer.sample(256)
        starts = check_batch(buffer, log, batch, gamma)
        assert set(starts) <= set(valid), "sampled a start whose window is invalid"
        seen |= set(starts)
    assert len(seen) > 30  # the draw is spread over the buffer


def test_sampling_works_from_the_first_transition():
    buffer = ReplayBuffer(100, (9, 2, 2), 1, "pixels", n_step=3, discount=0.5)
    assert len(buffer) == 0
    buffer.add_first(np.zeros((9, 2, 2), np.uint8))
    assert len(buffer) == 0
    with pytest.raises(ValueError, match="add_first"):
        buffer.sample(1)
    buffer.add([0.5], 2.0, 1.0, np.full((9, 2, 2), 7, np.uint8), False)
    assert len(buffer) == 1
    batch = buffer.sample(8)
    # One step available: a 1-step target, discount gamma^1, obs the repeated first frame.
    np.testing.assert_array_equal(batch["reward"], np.full((8, 1), 2.0, np.float32))
    np.testing.assert_array_equal(batch["discount"], np.full((8, 1), 0.5, np.float32))
    assert (batch["obs"] == 0).all() and (batch["next_obs"][:, :6] == 0).all()
    assert (batch["next_obs"][:, 6:] == 7).all()


def test_n_step_by_hand():
    """r = 1, 2, 4, 8 on an episode of 4 steps, gamma 0.5, n = 3, last step a time limit."""
    buffer = ReplayBuffer(50, (2,), 1, "state", n_step=3, discount=0.5)
    buffer.add_first(np.array([0.0, 0.0]))
    for i, r in enumerate([1.0, 2.0, 4.0, 8.0], start=1):
        buffer.add([0.1 * i], r, 1.0, np.array([float(i), 0.0]), last=(i == 4))
    buffer.add_first(np.array([100.0, 0.0]))  # a new episode must not leak into the window
    buffer.add([0.9], 1000.0, 1.0, np.array([101.0, 0.0]), last=False)
    assert len(buffer) == 5
    batch = buffer.sample(400)
    want = {  # start -> (reward, discount, next_obs, action)
        0: (1 + 0.5 * 2 + 0.25 * 4, 0.125, 3.0, 0.1),
        1: (2 + 0.5 * 4 + 0.25 * 8, 0.125, 4.0, 0.2),
        2: (4 + 0.5 * 8, 0.25, 4.0, 0.3),   # cut at the episode end: 2 steps, time limit bootstraps
        3: (8.0, 0.5, 4.0, 0.4),
        100: (1000.0, 0.5, 101.0, 0.9),     # cut at the newest step written so far
    }
    for obs, action, reward, discount, next_obs in zip(*(batch[k] for k in
            ("obs", "action", "reward", "discount", "next_obs"))):
        r, d, nxt, a = want[int(obs[0])]
        assert reward[0] == pytest.approx(r) and discount[0] == pytest.approx(d)
        assert next_obs[0] == nxt and action[0] == pytest.approx(a)
    assert {int(o) for o in batch["obs"][:, 0]} == set(want)


def test_terminal_discount_zero_stops_bootstrap():
    buffer = ReplayBuffer(10, (1,), 1, "state", n_step=3, discount=0.9)
    buffer.add_first([0.0])
    buffer.add([0.0], 1.0, 1.0, [1.0], False)
    buffer.add([0.0], 1.0, 0.0, [2.0], True)  # a true terminal state
    batch = buffer.sample(64)
    for obs, reward, discount in zip(batch["obs"], batch["reward"], batch["discount"]):
        assert discount[0] == 0.0
        assert reward[0] == pytest.approx(1.9 if obs[0] == 0.0 else 1.0)


def test_batch_dtypes_and_shapes():
    buffer = ReplayBuffer(100, (9, 84, 84), 6, "pixels", frame_stack=3)
    frame = np.random.default_rng(0).integers(0, 256, (9, 84, 84), dtype=np.uint8)
    buffer.add_first(frame)
    for i in range(5):
        buffer.add(np.zeros(6), 1.0, 1.0, frame, last=False)
    batch = buffer.sample(7)
    assert batch["obs"].shape == batch["next_obs"].shape == (7, 9, 84, 84)
    assert batch["obs"].dtype == np.uint8
    assert batch["action"].shape == (7, 6) and batch["action"].dtype == np.float32
    assert batch["reward"].shape == batch["discount"].shape == (7, 1)
    assert batch["reward"].dtype == batch["discount"].dtype == np.float32
    tensors = to_torch(batch, "cpu")
    assert tensors["obs"].dtype == torch.uint8 and tensors["reward"].shape == (7, 1)
    np.testing.assert_array_equal(tensors["obs"].numpy(), batch["obs"])


def test_memory_at_100k_is_a_fifth_of_drq():
    drq_bytes = 100_000 * 2 * (9 * 84 * 84)  # DrQ: obs and next_obs stacks per transition
    assert drq_bytes / 1e9 == pytest.approx(12.7, abs=0.05)
    buffer = ReplayBuffer(100_000, (9, 84, 84), 6, "pixels")  # np.empty: not paged in
    assert buffer.nbytes <= drq_bytes / 5
    assert buffer.nbytes >= 100_000 * 3 * 84 * 84  # each frame is really kept once
    # Bytes grow linearly with capacity: no per-transition stacks hidden anywhere.
    small = ReplayBuffer(1_000, (9, 84, 84), 6, "pixels")
    assert buffer.nbytes == pytest.approx(100 * small.nbytes, rel=1e-9)


def test_state_dict_round_trip_gives_identical_future_samples(tmp_path):
    rng = np.random.default_rng(3)
    buffer = ReplayBuffer(40, (9, 2, 2), 2, "pixels", n_step=3, seed=5)
    fill(buffer, NaiveLog(3), rng, 95, pass_stack=True)  # wrapped around twice
    buffer.add_first(encode(500))  # an episode in progress at checkpoint time
    buffer.add(np.ones(2), 1.0, 1.0, encode(501), False)
    buffer.sample(16)  # advance the RNG: the checkpoint must carry its state
    state = buffer.state_dict()
    # Through a real checkpoint file, numpy arrays as CPU tensors (torch.load's safe mode).
    torch.save({k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                for k, v in state.items()}, tmp_path / "replay.pt")
    restored = ReplayBuffer(40, (9, 2, 2), 2, "pixels", n_step=3, seed=999)
    restored.load_state_dict(torch.load(tmp_path / "replay.pt", weights_only=True))
    assert len(restored) == len(buffer)
    for round_ in range(3):
        a, b = buffer.sample(32), restored.sample(32)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
        for target in (buffer, restored):  # continue the open episode, then start another
            for i in range(7):
                target.add(np.full(2, 0.1 * i), float(i), 1.0, encode(1000 + 10 * round_ + i), i == 6)
            target.add_first(encode(2000 + round_))


def _fill(buffer: ReplayBuffer, steps: int, start: int = 0) -> None:
    """Episodes of 5 steps with distinct states, rewards and actions."""
    for i in range(start, start + steps):
        if i % 5 == 0:
            buffer.add_first(np.full(3, -i, dtype=np.float32))
        buffer.add(np.full(1, 0.01 * i), float(i), 1.0, np.full(3, i, dtype=np.float32), i % 5 == 4)


def test_state_dict_refuses_a_smaller_or_wrapped_buffer():
    wrapped = ReplayBuffer(10, (3,), 1, "state")
    _fill(wrapped, 20)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(20, (3,), 1, "state").load_state_dict(wrapped.state_dict())
    assert ReplayBuffer.capacity_to_resume(wrapped.state_dict(), 20) == 10
    partial = ReplayBuffer(30, (3,), 1, "state")
    _fill(partial, 20)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(10, (3,), 1, "state").load_state_dict(partial.state_dict())


def test_a_buffer_that_never_wrapped_continues_in_a_larger_ring_as_if_it_had_been_larger():
    """What --resume with a larger --frames needs: a longer run has a larger ring from the start."""
    small, large = ReplayBuffer(26, (3,), 1, "state", n_step=3, seed=4), ReplayBuffer(60, (3,), 1, "state", n_step=3, seed=4)
    for buffer in (small, large):
        _fill(buffer, 20)
        buffer.sample(8)
    assert ReplayBuffer.capacity_to_resume(small.state_dict(), 60) == 60
    grown = ReplayBuffer(60, (3,), 1, "state", n_step=3, seed=0)
    grown.load_state_dict(small.state_dict())
    for buffer in (grown, large):
        _fill(buffer, 30, start=20)  # past the small ring's capacity: no wrap in the larger one
    for _ in range(3):
        a, b = grown.sample(16), large.sample(16)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_bad_input_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="obs_type"):
        ReplayBuffer(10, (3,), 1, "rgb")
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (3,), 1, "state")
    with pytest.raises(ValueError, match="frame_stack"):
        ReplayBuffer(10, (8, 84, 84), 1, "pixels", frame_stack=3)
    with pytest.raises(ValueError, match="uint8"):
        ReplayBuffer(10, (9, 84, 84), 1, "pixels").add_first(np.zeros((9, 84, 84), np.float32))
    buffer = ReplayBuffer(10, (3,), 2, "state")
    with pytest.raises(ValueError, match="add_first"):
        buffer.add(np.zeros(2), 0.0, 1.0, np.zeros(3), False)
    buffer.add_first(np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        buffer.add(np.zeros(2), 0.0, 1.0, np.zeros(4), False)
    with pytest.raises(ValueError, match="2 entries"):
        buffer.add(np.zeros(3), 0.0, 1.0, np.zeros(3), False)
    buffer.add(np.zeros(2), 0.0, 1.0, np.zeros(3), True)
    with pytest.raises(ValueError, match="add_first"):  # the episode ended
        buffer.add(np.zeros(2), 0.0, 1.0, np.zeros(3), False)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0)
