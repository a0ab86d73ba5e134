"""Replay memory that stores every rendered frame once, with n-step returns.

DrQ keeps ``obs`` and ``next_obs`` as full frame stacks for every transition: 2 x 9 x 84 x 84 bytes,
12.7 GB at its capacity of 100k. A frame stack is redundant: consecutive stacks share all but one
frame, and ``next_obs`` of step t is ``obs`` of step t+1. So we keep one ring of steps, each step
holding the newest frame (3 x 84 x 84 uint8, 2.1 GB at 100k), and rebuild stacks when sampling.

Layout. Step ``i`` of the ring holds the observation ``o_i`` and what produced it: the action taken in
``o_{i-1}``, the reward and the environment's discount of that step, and whether ``o_i`` starts or ends
an episode. A sampled transition starts at a step ``t`` whose observation has a successor in the same
episode and returns (``n`` = ``n_step``, ``k`` <= ``n`` the steps available, see below)::

    obs      = stack(o_{t-s+1}, ..., o_t)          s = frame_stack; the episode's first frame repeats
    action   = a_t                                  (stored with o_{t+1})
    reward   = sum_{j<k} gamma^j (prod_{i<j} d_{t+1+i}) r_{t+1+j}     the n-step return (DrQ-v2)
    discount = gamma^k prod_{j<k} d_{t+1+j}         d = dm_control's discount: 1.0 at time limits
    next_obs = stack(..., o_{t+k})

so the critic's target is ``reward + discount * Q_target(next_obs, a')`` (eq. 2 with n-step returns,
ref. [62] of the paper). The window is cut short (``k < n``) where the episode ends, so the final
steps of every episode are used too, and where the newest step written so far is, so sampling works
from the very first transition on; a k-step target is as valid a Bellman target as an n-step one.

Ring wrap-around. Steps are counted with an absolute index that only grows; step ``i`` lives in slot
``i % capacity``. A start ``t`` is sampleable only if its frame history (back to the stack's depth or
the episode start) has not been overwritten yet; windows look only forward in time, so they never
reach an overwritten slot, and they stop at the newest written step.
"""

from __future__ import annotations

import numpy as np
import torch

OBS_TYPES = ("state", "pixels")


class ReplayBuffer:
    """Uniform replay over ``capacity`` environment steps (frames stored once).

    Use it with the environment's time steps::

        buffer.add_first(ts.observation)                     # after env.reset()
        buffer.add(action, ts.reward, ts.discount, ts.observation, ts.last)   # after env.step()
        batch = buffer.sample(512)   # dict of numpy arrays: obs, action, reward, discount, next_obs

    ``obs_shape`` is the agent's observation shape: ``(D,)`` for states, ``(3 * frame_stack, H, W)``
    for pixels. ``add_first``/``add`` accept the whole stacked observation (only its newest frame,
    the last ``3`` channels, is stored) or just that newest frame. For ``obs_type="state"``
    ``frame_stack`` is ignored. Batches: ``obs``/``next_obs`` float32 ``(B, D)`` or uint8
    ``(B, 3 * frame_stack, H, W)``, ``action`` float32 ``(B, action_dim)``, ``reward`` and
    ``discount`` float32 ``(B, 1)``.
    """

    def __init__(self, capacity: int, obs_shape, action_dim: int, obs_type: str,
                 frame_stack: int = 3, n_step: int = 1, discount: float = 0.99, seed: int = 0):
        if obs_type not in OBS_TYPES:
            raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
        for name, value, low in (("capacity", capacity, 2), ("action_dim", action_dim, 1),
                                 ("frame_stack", frame_stack, 1), ("n_step", n_step, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not 0.0 <= float(discount) <= 1.0:
            raise ValueError(f"discount must lie in [0, 1], got {discount!r}")
        obs_shape = tuple(int(d) for d in obs_shape)
        if obs_type == "pixels":
            if len(obs_shape) != 3 or obs_shape[0] % frame_stack:
                raise ValueError(
                    f"pixel obs_shape must be (channels * frame_stack, H, W) with channels divisible "
                    f"by frame_stack={frame_stack}, got {obs_shape}"
                )
            frame_shape, dtype = (obs_shape[0] // frame_stack, *obs_shape[1:]), np.uint8
        else:
            if len(obs_shape) != 1:
                raise ValueError(f"state obs_shape must be (D,), got {obs_shape}")
            frame_stack, frame_shape, dtype = 1, obs_shape, np.float32

        self.capacity = int(capacity)
        self.obs_shape = obs_shape
        self.action_dim = int(action_dim)
        self.obs_type = obs_type
        self.frame_stack = int(frame_stack)
        self.n_step = int(n_step)
        self.discount = float(discount)
        self.seed = seed
        self._frame_shape = frame_shape

        # np.empty: the frame ring is only paged in as it fills; stale slots are never read.
        self._obs = np.empty((self.capacity, *frame_shape), dtype=dtype)
        self._action = np.zeros((self.capacity, self.action_dim), dtype=np.float32)
        self._reward = np.zeros(self.capacity, dtype=np.float32)
        self._env_discount = np.ones(self.capacity, dtype=np.float32)
        self._first = np.zeros(self.capacity, dtype=bool)
        self._last = np.zeros(self.capacity, dtype=bool)
        self._episode_start = np.zeros(self.capacity, dtype=np.int64)  # absolute index of o_0
        self._num_written = 0  # absolute index of the next step
        self._episode_open = False
        self._current_start = -1
        self._rng = np.random.default_rng(seed)

    # -- writing --------------------------------------------------------------------------------
    def _frame(self, obs) -> np.ndarray:
        obs = np.asarray(obs)
        if self.obs_type == "pixels" and obs.dtype != np.uint8:
            raise ValueError(f"pixel observations must be uint8 (as the env renders them), got {obs.dtype}")
        if obs.shape == self.obs_shape:
            return obs[-self._frame_shape[0]:] if self.obs_type == "pixels" else obs
        if obs.shape == self._frame_shape:
            return obs
        raise ValueError(
            f"observation of shape {obs.shape} does not fit this buffer: expected {self.obs_shape}"
            f" (a whole observation) or {self._frame_shape} (its newest frame)"
        )

    def _write(self, obs, action, reward, discount, first, last) -> None:
        slot = self._num_written % self.capacity
        self._obs[slot] = obs
        self._action[slot] = action
        self._reward[slot] = reward
        self._env_discount[slot] = discount
        self._first[slot] = first
        self._last[slot] = last
        self._episode_start[slot] = self._current_start
        self._num_written += 1

    def add_first(self, obs) -> None:
        """Start an episode with its first observation (what ``env.reset()`` returned)."""
        frame = self._frame(obs)
        self._current_start = self._num_written
        self._episode_open = True
        self._write(frame, 0.0, 0.0, 1.0, True, False)

    def add(self, action, reward: float, discount: float, next_obs, last: bool) -> None:
        """Record one step: the action taken, then what ``env.step(action)`` returned."""
        if not self._episode_open:
            raise ValueError("no episode in progress: call add_first(obs) after each env.reset()")
        action = np.asarray(action, dtype=np.float32).reshape(-1)
        if action.shape != (self.action_dim,):
            raise ValueError(f"action must have {self.action_dim} entries, got shape {action.shape}")
        frame = self._frame(next_obs)
        self._write(frame, action, float(reward), float(discount), False, bool(last))
        if last:
            self._episode_open = False

    # -- which steps can start a transition -----------------------------------------------------
    def _oldest(self) -> int:
        """Absolute index of the oldest step still in the ring."""
        return max(0, self._num_written - self.capacity)

    def _can_start(self, t: np.ndarray) -> np.ndarray:
        """Mask over absolute indices ``t`` (already within [oldest, newest]) of valid starts."""
        cap, newest, oldest = self.capacity, self._num_written - 1, self._oldest()
        has_next = t + 1 <= newest
        # After an episode's last step (or an abandoned episode) the next slot starts a new one.
        same_episode = ~self._first[(t + 1) % cap]
        history = np.maximum(self._episode_start[t % cap], t - self.frame_stack + 1) >= oldest
        return has_next & same_episode & history

    def __len__(self) -> int:
        """Number of sampleable transitions: steps that have a successor in their episode."""
        oldest, newest = self._oldest(), self._num_written - 1
        if newest - oldest < 1:
            return 0
        candidates = newest - oldest  # starts t in [oldest, newest - 1]
        # Each episode start after `oldest` forbids the step before it as a start.
        if self._num_written <= self.capacity:
            starts = np.count_nonzero(self._first[1:self._num_written])
        else:
            starts = np.count_nonzero(self._first) - int(self._first[oldest % self.capacity])
        # The oldest few steps may have lost the frames their stack needs (pixels only).
        head = np.arange(oldest, min(oldest + self.frame_stack - 1, newest))
        lost = np.count_nonzero(~self._can_start(head) & ~self._first[(head + 1) % self.capacity])
        return int(candidates - starts - lost)

    # -- sampling -------------------------------------------------------------------------------
    def _sample_starts(self, batch_size: int) -> np.ndarray:
        oldest, newest = self._oldest(), self._num_written - 1
        t = self._rng.integers(oldest, newest, size=batch_size)
        ok = self._can_start(t)
        # Rejection keeps the draw uniform over valid starts; invalid ones are ~1 per episode.
        for _ in range(8):
            if ok.all():
                return t
            redo = np.flatnonzero(~ok)
            t[redo] = self._rng.integers(oldest, newest, size=redo.size)
            ok[redo] = self._can_start(t[redo])
        if not ok.all():  # tiny or oddly shaped buffers: pick among the valid starts directly
            everything = np.arange(oldest, newest)
            valid = everything[self._can_start(everything)]
            redo = np.flatnonzero(~ok)
            t[redo] = valid[self._rng.integers(0, valid.size, size=redo.size)]
        return t

    def _stack_slots(self, t: np.ndarray) -> np.ndarray:
        """Ring slots ``(B, stack)`` of the frames stacked at absolute indices ``t`` (pixels)."""
        offsets = np.arange(1 - self.frame_stack, 1)
        first = self._episode_start[t % self.capacity]
        return np.maximum(t[:, None] + offsets, first[:, None]) % self.capacity

    def _stacked(self, t: np.ndarray) -> np.ndarray:
        """Observations at absolute indices ``t``, frame stacks rebuilt, first frame repeated."""
        if self.obs_type == "state":
            return self._obs[t % self.capacity]
        frames = self._obs[self._stack_slots(t)]  # (B, stack, 3, H, W), one vectorized gather
        return frames.reshape(len(t), *self.obs_shape)

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        """A uniform batch of n-step transitions (see the module docstring for the formulas)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if len(self) == 0:
            raise ValueError(
                "the buffer holds no transition yet: call add_first(obs), then add(...) at least once"
            )
        cap, newest = self.capacity, self._num_written - 1
        t = self._sample_starts(int(batch_size))

        reward = np.zeros(batch_size, dtype=np.float32)
        discount = np.ones(batch_size, dtype=np.float32)
        steps = np.zeros(batch_size, dtype=np.int64)  # k: steps inside the window
        alive = np.ones(batch_size, dtype=bool)
        for j in range(1, self.n_step + 1):  # a loop over n (<= a few), vectorized over the batch
            i = t + j
            if j > 1:  # stop at the episode's end and at the newest step written so far
                alive &= (i <= newest) & ~self._last[(i - 1) % cap] & ~self._first[i % cap]
            slot = i % cap
            reward += np.where(alive, discount * self._reward[slot], 0.0).astype(np.float32)
            discount = np.where(alive, discount * self.discount * self._env_discount[slot],
                                discount).astype(np.float32)
            steps += alive
        return {
            "obs": self._stacked(t),
            "action": self._action[(t + 1) % cap],
            "reward": reward[:, None],
            "discount": discount[:, None],
            "next_obs": self._stacked(t + steps),
        }

    # -- size and checkpoints -------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Bytes of all storage at full capacity (the frame ring dominates)."""
        return sum(a.nbytes for a in self._arrays().values()) + self._episode_start.nbytes

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"obs": self._obs, "action": self._action, "reward": self._reward,
                "env_discount": self._env_discount, "first": self._first, "last": self._last}

    def state_dict(self) -> dict:
        """Everything needed to resume: the written steps (copies), counters and the RNG state."""
        n = min(self._num_written, self.capacity)
        state = {name: array[:n].copy() for name, array in self._arrays().items()}
        state["episode_start"] = self._episode_start[:n].copy()
        state.update(
            capacity=self.capacity, obs_shape=self.obs_shape, action_dim=self.action_dim,
            obs_type=self.obs_type, frame_stack=self.frame_stack, n_step=self.n_step,
            discount=self.discount, num_written=self._num_written,
            episode_open=self._episode_open, current_start=self._current_start,
            rng_state=self._rng.bit_generator.state,
        )
        return state

    @staticmethod
    def capacity_to_resume(state: dict, wanted: int) -> int:
        """The capacity a buffer restored from ``state`` must have, given the ``wanted`` one.

        A buffer that never wrapped (every step it was given is still in it) can move into a larger
        ring: each step keeps its slot (slot = absolute index while nothing wrapped) and sampling
        draws from the same range, so a run continued with a larger budget, and so a larger ring,
        samples exactly what a run started with that budget samples. A wrapped buffer keeps its
        capacity.
        """
        stored = int(state["capacity"])
        return max(int(wanted), stored) if int(state["num_written"]) <= stored else stored

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (arrays may be numpy arrays or CPU torch tensors).

        The buffer must have the stored capacity, or (:meth:`capacity_to_resume`) a larger one if
        the stored buffer never wrapped.
        """
        if self.capacity != self.capacity_to_resume(state, self.capacity):
            raise ValueError(f"checkpoint has capacity={state['capacity']!r} (and has wrapped), "
                             f"this buffer {self.capacity!r}")
        for key in ("obs_type", "frame_stack", "n_step", "action_dim"):
            if state[key] != getattr(self, key):
                raise ValueError(f"checkpoint has {key}={state[key]!r}, this buffer {getattr(self, key)!r}")
        if tuple(state["obs_shape"]) != self.obs_shape:
            raise ValueError(f"checkpoint has obs_shape={tuple(state['obs_shape'])}, "
                             f"this buffer {self.obs_shape}")
        n = min(int(state["num_written"]), self.capacity)
        for name, array in {**self._arrays(), "episode_start": self._episode_start}.items():
            array[:n] = np.asarray(state[name])
        self.discount = float(state["discount"])
        self._num_written = int(state["num_written"])
        self._episode_open = bool(state["episode_open"])
        self._current_start = int(state["current_start"])
        self._rng.bit_generator.state = state["rng_state"]

    def __repr__(self) -> str:
        return (f"ReplayBuffer({self.obs_type}, {len(self)} transitions, capacity={self.capacity}, "
                f"n_step={self.n_step}, {self.nbytes / 1e9:.2f} GB)")


def to_torch(batch: dict[str, np.ndarray], device) -> dict[str, torch.Tensor]:
    """Move a sampled batch to ``device``; on CUDA via pinned memory with non-blocking copies.

    Pixels stay uint8 (4x fewer bytes over the bus); convert them to float on the device. Entries
    that already are tensors on ``device`` (:class:`DeviceFrameReplay`'s stacks) pass through.
    """
    device = torch.device(device)
    out = {}
    for k, v in batch.items():
        if isinstance(v, torch.Tensor):
            # Non-blocking only towards a GPU: a non-blocking copy from a GPU to the host returns
            # before the data is there, and the caller would read it unsynchronized.
            out[k] = v.to(device, non_blocking=device.type == "cuda")
        elif device.type == "cuda":
            out[k] = torch.from_numpy(v).pin_memory().to(device, non_blocking=True)
        else:
            out[k] = torch.from_numpy(v).to(device)
    return out


class DeviceFrameReplay(ReplayBuffer):
    """A pixel :class:`ReplayBuffer` that also keeps its frame ring on ``device`` (a GPU).

    Sampling then gathers the frame stacks on the GPU: a batch of 512 pixel transitions is 65 MB
    of frames, which numpy would gather on the host (tens of ms) and copy over PCIe every update.
    Here each new frame crosses once (21 KB per step) and ``obs``/``next_obs`` come back as uint8
    tensors on ``device``, identical to the host path's (same indices, same random generator).
    The host ring stays the source of truth for checkpoints. Costs one frame ring of GPU memory
    (2.1 GB at capacity 100k).
    """

    def __init__(self, *args, device="cuda", **kwargs):
        super().__init__(*args, **kwargs)
        if self.obs_type != "pixels":
            raise ValueError("DeviceFrameReplay is for pixel observations; states are small")
        self.device = torch.device(device)
        self._obs_device = torch.empty((self.capacity, *self._frame_shape), dtype=torch.uint8,
                                       device=self.device)

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if self.device.type == "cuda":  # pinned + non-blocking: the host never waits for the GPU
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.to(self.device)

    def _write(self, obs, action, reward, discount, first, last) -> None:
        slot = self._num_written % self.capacity
        super()._write(obs, action, reward, discount, first, last)
        self._obs_device[slot] = self._to_device(self._obs[slot])

    def _stacked(self, t: np.ndarray) -> torch.Tensor:
        slots = self._to_device(self._stack_slots(t))
        return self._obs_device[slots].reshape(len(t), *self.obs_shape)

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        n = min(self._num_written, self.capacity)
        self._obs_device[:n].copy_(torch.from_numpy(self._obs[:n]))
