"""DQN: Q-learning with a network, experience replay and a target network (notebook 01b).

Deep Q-networks (Mnih et al., "Human-level control through deep reinforcement learning", Nature
2015) are tabular Q-learning (:mod:`course_lib.tabular`) with the table replaced by a network
``Q_w(s, .)`` that outputs one value per discrete action, trained on the squared TD error

    L(w) = mean over a batch of ( Q_w(s, a) - [ r + gamma (1 - done) max_a' Q_hat(s', a') ] )^2

with two additions that keep the regression from chasing itself:

- **experience replay**: transitions go into a memory, and each update samples a batch uniformly
  from it. Consecutive transitions of one episode are alike; a random batch from many episodes is
  closer to the i.i.d. data that regression expects, and every transition is used many times.
- **a target network** ``Q_hat``: a copy of ``Q_w`` that is held fixed and synchronized
  (``Q_hat <- Q_w``) only every ``target_sync_every`` updates. Between syncs the bracket above is a
  fixed label, so each update is ordinary regression.

Bootstrapping (the label contains the network's own estimate), function approximation (an update
at one state moves the estimates at similar states, the next state among them) and off-policy data
(the memory holds what older, more random policies did) together are Sutton and Barto's *deadly
triad*: nothing guarantees convergence. The two additions weaken the triad's feedback loop; they
do not remove it. The paper's agents (DrQ = SAC, DrQ-v2 = DDPG) keep both: a replay buffer
(:mod:`course_lib.replay`) and target critics averaged with rate tau (eq. 2's ``Q_hat``; Lillicrap et
al. 2016, "Continuous control with deep reinforcement learning", replaced DQN's periodic copy by
that average when they carried DQN to continuous actions as DDPG).

Here DQN learns the grid world of :func:`course_lib.mdp.gridworld` from the (row, column) of each
cell, two numbers: the network must generalize between cells, which a table never does. On a
tabular MDP the true ``Q*`` and the exact value of any greedy policy are known, so :func:`train_dqn`
measures both without sampling noise. The loop reads top to bottom, as CleanRL's ``dqn.py`` does.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from course_lib import mdp as M
from course_lib.tabular import GridSimulator

__all__ = ["DQNConfig", "DQNRun", "QNetwork", "ReplayMemory", "grid_coordinates", "dqn_target", "td_loss",
           "q_table", "train_dqn"]


@dataclass(frozen=True)
class DQNConfig:
    """Everything a DQN run on a tabular MDP depends on (Mnih et al. 2015's settings, scaled down)."""

    total_steps: int = 3_000
    """environment steps (one transition each)"""
    gamma: float = 0.9
    """discount factor"""
    lr: float = 1e-3
    """Adam's learning rate"""
    batch_size: int = 32
    """transitions per update"""
    replay: bool = True
    """True: sample each batch uniformly from the memory; False: the latest ``batch_size`` transitions"""
    buffer_size: int = 3_000
    """capacity of the replay memory (the oldest transition is overwritten first)"""
    learning_starts: int = 100
    """random steps before the first update (the memory fills first)"""
    train_every: int = 2
    """environment steps per update (Mnih et al. 2015: 4)"""
    target_sync_every: int | None = 50
    """updates between copies Q_hat <- Q_w; None: no target network (the label uses Q_w itself)"""
    epsilon_start: float = 1.0
    """exploration: epsilon-greedy, epsilon decays linearly from this ..."""
    epsilon_end: float = 0.1
    """... to this ..."""
    epsilon_decay_steps: int = 1_500
    """... over this many environment steps"""
    hidden_dim: int = 64
    """width of the Q-network's two hidden layers"""
    max_episode_steps: int = 100
    """an episode that has not ended by then restarts at S"""
    eval_every: int = 100
    """environment steps between two measurements of the greedy policy"""
    seed: int = 0

    def __post_init__(self):
        if not 0 < self.gamma < 1:
            raise ValueError(f"gamma must be in (0, 1), got {self.gamma}")
        if self.batch_size < 1 or self.buffer_size < self.batch_size:
            raise ValueError(f"need 1 <= batch_size <= buffer_size, got {self.batch_size} and {self.buffer_size}")
        if self.learning_starts < self.batch_size:
            raise ValueError(f"learning_starts ({self.learning_starts}) must be at least batch_size "
                             f"({self.batch_size}): the first batch needs that many transitions")
        if self.train_every < 1:
            raise ValueError(f"train_every must be a positive number of environment steps, got {self.train_every}")
        if self.target_sync_every is not None and self.target_sync_every < 1:
            raise ValueError("target_sync_every must be a positive number of updates, or None for no target network")


def grid_coordinates(mdp: M.TabularMDP) -> np.ndarray:
    """The input of the Q-network: each cell's (row, column), scaled to [0, 1]; shape ``(S, 2)``."""
    if mdp.coords is None:
        raise ValueError("grid_coordinates needs a grid world (an MDP with coords); build one with mdp.gridworld()")
    coords = np.array(mdp.coords, dtype=np.float32)
    return coords / np.maximum(coords.max(axis=0), 1.0)


class QNetwork(nn.Module):
    """``Q_w(s, .)``: state features in, one value per discrete action out (DQN's output layout)."""

    def __init__(self, in_dim: int, n_actions: int, hidden_dim: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim),
                                 nn.ReLU(), nn.Linear(hidden_dim, n_actions))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


class ReplayMemory:
    """A circular memory of transitions ``(s, a, r, s', done)``, states stored as indices."""

    def __init__(self, capacity: int):
        self.capacity, self.size, self.next = capacity, 0, 0
        self.state = np.zeros(capacity, dtype=np.int64)
        self.action = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.next_state = np.zeros(capacity, dtype=np.int64)
        self.done = np.zeros(capacity, dtype=np.float32)

    def add(self, state: int, action: int, reward: float, next_state: int, done: bool) -> None:
        i = self.next
        self.state[i], self.action[i], self.reward[i], self.next_state[i], self.done[i] = \
            state, action, reward, next_state, done
        self.next, self.size = (i + 1) % self.capacity, min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A batch drawn uniformly (with replacement) from everything in the memory."""
        return self._take(rng.integers(0, self.size, size=batch_size))

    def latest(self, batch_size: int) -> dict[str, np.ndarray]:
        """The ``batch_size`` most recent transitions: what an agent without replay learns from."""
        return self._take((self.next - 1 - np.arange(batch_size)) % self.capacity)

    def _take(self, i: np.ndarray) -> dict[str, np.ndarray]:
        return {"state": self.state[i], "action": self.action[i], "reward": self.reward[i],
                "next_state": self.next_state[i], "done": self.done[i]}

    def __len__(self) -> int:
        return self.size


def dqn_target(reward: torch.Tensor, done: torch.Tensor, next_q: torch.Tensor, gamma: float) -> torch.Tensor:
    """DQN's label ``r + gamma (1 - done) max_a' Q_hat(s', a')``; ``next_q`` is ``Q_hat(s', .)``, shape (B, A)."""
    return reward + gamma * (1.0 - done) * next_q.max(dim=1).values


def td_loss(q_net: nn.Module, target_net: nn.Module, features: torch.Tensor, batch: dict[str, np.ndarray],
            gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The squared TD error of a batch, and its labels (computed without gradient, from ``target_net``).

    ``features[s]`` is the network input of state ``s``. Pass ``target_net=q_net`` for DQN without a
    target network: the label then comes from the network being trained, as it is at this moment.
    """
    state, next_state = torch.from_numpy(batch["state"]), torch.from_numpy(batch["next_state"])
    action = torch.from_numpy(batch["action"])
    with torch.no_grad():
        target = dqn_target(torch.from_numpy(batch["reward"]), torch.from_numpy(batch["done"]),
                            target_net(features[next_state]), gamma)
    q = q_net(features[state]).gather(1, action[:, None]).squeeze(1)
    return ((q - target) ** 2).mean(), target


def q_table(q_net: nn.Module, features: torch.Tensor) -> np.ndarray:
    """``Q_w(s, a)`` for every state and action, as a float64 array ``(S, A)``."""
    with torch.no_grad():
        return q_net(features).double().numpy()


@dataclass
class DQNRun:
    """What :func:`train_dqn` returns: the measurements over training, the trained network and the
    target network as it was last synchronized (``q_net`` itself for a run without one)."""

    curve: pd.DataFrame
    q_net: QNetwork
    target_net: QNetwork
    config: DQNConfig


def train_dqn(mdp: M.TabularMDP, config: DQNConfig = DQNConfig()) -> DQNRun:
    """Train DQN on a grid world; measure the greedy policy exactly every ``config.eval_every`` steps.

    Each row of the returned curve holds, at that step: ``greedy_value`` (the exact value at S of
    the greedy policy of ``Q_w``, :func:`course_lib.mdp.policy_evaluation`), ``q_error`` (max over
    non-terminal states and actions of ``|Q_w - Q*|``), ``v_error`` (mean over non-terminal states of
    ``|max_a Q_w - V*|``, the error of the values that the labels bootstrap from), ``q_start`` (``max_a Q_w(S, a)``, the network's
    own estimate of that value), ``loss`` (mean TD loss since the last row) and ``epsilon``.
    """
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    simulator = GridSimulator(mdp, seed=config.seed)
    features = torch.from_numpy(grid_coordinates(mdp))
    V_star, _ = M.value_iteration(mdp, config.gamma, tol=1e-10)
    Q_star, live = M.q_values(mdp, V_star, config.gamma), ~mdp.terminal

    q_net = QNetwork(features.shape[1], mdp.n_actions, config.hidden_dim)
    target_net = copy.deepcopy(q_net) if config.target_sync_every is not None else q_net
    optimizer = torch.optim.Adam(q_net.parameters(), lr=config.lr)
    memory = ReplayMemory(config.buffer_size)

    rows, losses, updates = [], [], 0
    state, episode_steps = mdp.start, 0
    for step in range(config.total_steps + 1):
        if step % config.eval_every == 0:  # measure before this step's transition
            Q = q_table(q_net, features)
            greedy = Q.argmax(axis=1)
            rows.append({"step": step, "greedy_value": M.policy_evaluation(mdp, greedy, config.gamma)[mdp.start],
                         "q_error": np.abs(Q - Q_star)[live].max(),
                         "v_error": np.abs(Q.max(axis=1) - V_star)[live].mean(), "q_start": Q[mdp.start].max(),
                         "loss": np.mean(losses) if losses else np.nan, "epsilon": epsilon if step else 1.0})
            losses = []
        if step == config.total_steps:
            break

        # 1. act: epsilon-greedy in Q_w, epsilon decaying linearly; random until learning starts
        fraction = min(1.0, step / config.epsilon_decay_steps)
        epsilon = config.epsilon_start + fraction * (config.epsilon_end - config.epsilon_start)
        if step < config.learning_starts or rng.random() < epsilon:
            action = int(rng.integers(mdp.n_actions))
        else:
            with torch.no_grad():
                action = int(q_net(features[state]).argmax())
        next_state, reward, done = simulator.step(state, action)
        episode_steps += 1

        # 2. remember the transition; a time limit is not a terminal state (done stays False)
        memory.add(state, action, reward, next_state, done)
        state = next_state
        if done or episode_steps >= config.max_episode_steps:
            state, episode_steps = mdp.start, 0

        # 3. learn: one gradient step on the TD loss of a batch, every train_every steps
        if step + 1 >= config.learning_starts and (step + 1) % config.train_every == 0:
            batch = memory.sample(config.batch_size, rng) if config.replay else memory.latest(config.batch_size)
            loss, _ = td_loss(q_net, target_net, features, batch, config.gamma)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            updates += 1
            # 4. every target_sync_every updates: Q_hat <- Q_w (with no target network, Q_hat is Q_w)
            if config.target_sync_every is not None and updates % config.target_sync_every == 0:
                target_net.load_state_dict(q_net.state_dict())

    return DQNRun(curve=pd.DataFrame(rows), q_net=q_net, target_net=target_net, config=config)
