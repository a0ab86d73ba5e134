"""course_lib.tabular: sampled transitions, TD(0) and Q-learning converge to what value iteration computes."""
import numpy as np
import pytest

from course_lib import mdp as M
from course_lib import tabular as T


@pytest.fixture(scope="module")
def grid():
    return M.gridworld(slip=0.2)


def test_simulator_samples_the_transition_probabilities(grid):
    sim = T.GridSimulator(grid, seed=0)
    state, action = grid.state_names.index("(2,3)"), grid.action_names.index("right")
    counts = np.bincount([sim.step(state, action)[0] for _ in range(20_000)], minlength=grid.n_states)
    assert np.abs(counts / counts.sum() - grid.P[state, action]).max() < 0.01
    next_state, reward, done = sim.step(state, action)
    assert reward == pytest.approx(grid.R[state, action]) and done == bool(grid.terminal[next_state])


def test_returns_to_go_matches_the_definition():
    rewards = [1.0, -2.0, 0.5, 3.0]
    expected = [sum(0.9**k * r for k, r in enumerate(rewards[t:])) for t in range(4)]
    np.testing.assert_allclose(T.returns_to_go(rewards, 0.9), expected)
    assert T.returns_to_go([], 0.9).shape == (0,)


def test_updates_work_on_copies_and_stop_at_terminals():
    V = np.array([1.0, 2.0, 3.0])
    new = T.td0_update(V, 0, 1.0, 2, False, 0.5, 0.9)
    assert new[0] == pytest.approx(1.0 + 0.5 * (1.0 + 0.9 * 3.0 - 1.0)) and V[0] == 1.0
    assert T.td0_update(V, 0, 1.0, 2, True, 0.5, 0.9)[0] == pytest.approx(1.0)
    Q = np.arange(6.0).reshape(3, 2)
    new = T.q_learning_update(Q, 0, 1, 0.0, 2, False, 1.0, 0.5)
    assert new[0, 1] == pytest.approx(0.5 * 5.0) and Q[0, 1] == 1.0


def test_epsilon_greedy_explores_at_the_asked_rate():
    rng = np.random.default_rng(0)
    q = np.array([0.0, 1.0, 0.5])
    actions = np.array([T.epsilon_greedy(q, 0.3, rng) for _ in range(30_000)])
    # greedy 70% + a third of the 30% random picks
    assert np.mean(actions == 1) == pytest.approx(0.7 + 0.1, abs=0.01)
    assert T.epsilon_greedy(q, 0.0, rng) == 1


def test_td0_and_q_learning_converge_towards_value_iteration(grid):
    gamma = 0.9
    V_star, _ = M.value_iteration(grid, gamma, tol=1e-10)
    policy = M.greedy_policy(grid, V_star, gamma)
    live = ~grid.terminal
    V, snaps = T.td0_evaluation(grid, policy, gamma, 20_000, seed=1)
    errors = [np.abs(v - V_star)[live].max() for v in snaps.values()]
    assert errors[-1] < 0.05 and errors[-1] < 0.1 * errors[0]
    Q, _ = T.q_learning(grid, gamma, 40_000, epsilon=0.3, seed=1)
    assert np.abs(Q.max(axis=1) - V_star)[live].max() < 0.15


def test_semi_gradient_td0_with_one_hot_features_is_tabular(grid):
    gamma = 0.9
    V_star, _ = M.value_iteration(grid, gamma, tol=1e-10)
    policy = M.greedy_policy(grid, V_star, gamma)
    w, _ = T.semi_gradient_td0(grid, policy, np.eye(grid.n_states), gamma, 20_000, seed=0, lr=0.3)
    assert np.abs(w - V_star)[~grid.terminal].max() < 0.15
    with pytest.raises(ValueError, match="features must have shape"):
        T.semi_gradient_td0(grid, policy, np.eye(3), gamma, 100)


def test_soft_values_tend_to_the_hard_max(grid):
    Q = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -5.0]])
    np.testing.assert_allclose(T.soft_value(Q, 1e-4), Q.max(axis=1), atol=1e-3)
    assert T.soft_value(Q, 1.0)[1] == pytest.approx(1000 + np.log(2 + np.exp(-1005)))
    V_hard, _ = M.value_iteration(grid, 0.9, tol=1e-10)
    V_soft, pi = T.soft_value_iteration(grid, 0.9, 0.001)
    assert np.abs(V_soft - V_hard).max() < 0.01 and np.allclose(pi.sum(axis=1), 1.0)
    assert (T.soft_value_iteration(grid, 0.9, 0.3)[0] >= V_soft - 1e-12).all()  # entropy only adds


def test_learning_report_and_bad_settings():
    report = T.learning_report(gamma=0.9, slip=0.0, epsilon=0.2, n_steps=3000, seed=0)
    assert report.errors.samples.is_monotonic_increasing and report.errors.samples.iloc[-1] == 3000
    assert 0.0 <= report.agreement <= 1.0
    with pytest.raises(ValueError, match="epsilon"):
        T.q_learning(M.gridworld(), 0.9, 100, epsilon=1.5)
    with pytest.raises(ValueError, match="power"):
        T.td0_evaluation(M.gridworld(), np.zeros(20, dtype=int), 0.9, 100, power=0.4)
