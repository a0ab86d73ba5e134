"""DQN (course_lib/dqn.py, notebook 01b): its label and loss on fixed batches, a target network that
holds still between copies, and a short run whose greedy policy beats a random one."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import dqn, mdp as M


def test_dqn_target_bootstraps_only_where_the_episode_goes_on():
    reward = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)
    done = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    next_q = torch.tensor([[1.0, 3.0], [-2.0, -4.0], [10.0, 20.0]], dtype=torch.float64)
    target = dqn.dqn_target(reward, done, next_q, gamma=0.5)
    # 1 + 0.5 * max(1, 3); -0.5 + 0.5 * max(-2, -4); 2 + nothing (done)
    assert torch.equal(target, torch.tensor([2.5, -1.5, 2.0], dtype=torch.float64))


def _linear_q(weights) -> nn.Module:
    """Q(s, a) = weights[a, s] on one-hot features: a Q-network whose every value we choose."""
    layer = nn.Linear(3, 2, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weights, dtype=torch.float64))
    return layer


def _batch():
    return {"state": np.array([0, 1, 2], dtype=np.int64), "action": np.array([1, 0, 1], dtype=np.int64),
            "reward": np.array([1.0, 0.0, -1.0]), "next_state": np.array([1, 2, 0]),
            "done": np.array([0.0, 0.0, 1.0])}


def test_td_loss_on_a_fixed_batch_uses_the_target_network_for_the_label():
    features = torch.eye(3, dtype=torch.float64)
    online = _linear_q([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])  # Q(s, a) = online[a, s]
    frozen = _linear_q([[10.0, 20.0, 30.0], [-1.0, -2.0, -3.0]])
    batch = _batch()
    loss, target = dqn.td_loss(online, frozen, features, batch, gamma=0.9)
    expected_target = np.array([1.0 + 0.9 * 20.0, 0.0 + 0.9 * 30.0, -1.0])  # max over a' of frozen[:, s']
    q = np.array([3.0, 1.0, 5.0])  # online[a, s] for (s, a) = (0, 1), (1, 0), (2, 1)
    assert np.allclose(target.numpy(), expected_target)
    assert loss.item() == pytest.approx(np.mean((q - expected_target) ** 2))
    # the gradient reaches the online network only, never the label's network
    loss.backward()
    assert online.weight.grad is not None and frozen.weight.grad is None
    # without a target network the label comes from the online network itself
    _, own_target = dqn.td_loss(online, online, features, batch, gamma=0.9)
    assert np.allclose(own_target.numpy(), [1.0 + 0.9 * 4.0, 0.0 + 0.9 * 5.0, -1.0])


def test_replay_memory_samples_what_it_holds_and_latest_is_the_newest():
    memory = dqn.ReplayMemory(capacity=5)
    for i in range(7):  # overwrites the two oldest
        memory.add(state=i, action=i % 4, reward=float(i), next_state=i + 1, done=False)
    assert len(memory) == 5
    assert set(memory.sample(200, np.random.default_rng(0))["state"].tolist()) == {2, 3, 4, 5, 6}
    assert memory.latest(3)["state"].tolist() == [6, 5, 4]


SMALL = dqn.DQNConfig(total_steps=130, learning_starts=31, batch_size=16, train_every=1, eval_every=65, seed=3)


def _params(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def test_the_target_network_is_held_fixed_between_copies():
    grid = M.gridworld()
    # 100 updates (steps 30..129): never copied, the target is the untrained network the run started from
    never = dqn.train_dqn(grid, replace(SMALL, target_sync_every=1000))
    torch.manual_seed(SMALL.seed)
    initial = dqn.QNetwork(2, grid.n_actions, SMALL.hidden_dim)
    assert torch.equal(_params(never.target_net), _params(initial))
    assert not torch.equal(_params(never.q_net), _params(initial))  # while the online network trained
    # copied after updates 50 and 100: the last update was a copy, so the two agree exactly
    synced = dqn.train_dqn(grid, replace(SMALL, target_sync_every=50))
    assert torch.equal(_params(synced.target_net), _params(synced.q_net))
    # copied after update 90: the 10 updates since moved the online network, not the target
    run = dqn.train_dqn(grid, replace(SMALL, target_sync_every=30))
    assert not torch.equal(_params(run.target_net), _params(run.q_net))
    # no target network: the label's network is the online one
    unfrozen = dqn.train_dqn(grid, replace(SMALL, target_sync_every=None))
    assert unfrozen.target_net is unfrozen.q_net


def test_a_short_run_beats_the_random_policy():
    grid = M.gridworld()
    config = dqn.DQNConfig(total_steps=2_000, epsilon_decay_steps=1_000, seed=0)
    run = dqn.train_dqn(grid, config)
    random_value = M.policy_evaluation(grid, np.full((grid.n_states, grid.n_actions), 0.25), config.gamma)[grid.start]
    final = run.curve.greedy_value.iloc[-5:].mean()
    assert final > random_value + 0.2, run.curve
    assert np.isfinite(run.curve.q_error).all()


@pytest.mark.parametrize("bad, match", [
    (dict(batch_size=0), "batch_size"), (dict(gamma=1.0), "gamma"), (dict(learning_starts=8), "learning_starts"),
    (dict(target_sync_every=0), "target_sync_every")])
def test_bad_settings_are_refused_with_a_one_line_reason(bad, match):
    with pytest.raises(ValueError, match=match) as info:
        dqn.DQNConfig(**bad)
    assert "\n" not in str(info.value)


def test_grid_coordinates_need_a_grid():
    grid = M.gridworld()
    assert dqn.grid_coordinates(grid).shape == (grid.n_states, 2)
    with pytest.raises(ValueError, match="gridworld"):
        dqn.grid_coordinates(M.two_state_mdp())


def test_a_copy_after_every_update_is_the_same_as_no_target_network():
    """The label is computed before the step: a copy after every update adds no lag at all."""
    grid = M.gridworld()
    copied = dqn.train_dqn(grid, replace(SMALL, target_sync_every=1))
    unfrozen = dqn.train_dqn(grid, replace(SMALL, target_sync_every=None))
    assert torch.equal(_params(copied.q_net), _params(unfrozen.q_net))
    assert not torch.equal(_params(copied.q_net), _params(dqn.train_dqn(grid, SMALL).q_net))  # a lag changes it
