"""Value iteration and policy evaluation on small MDPs: fixed points, contraction, known answers."""
import numpy as np
import pytest

from course_lib.mdp import (bellman_backup, gridworld, greedy_policy, policy_as_text, policy_evaluation,
                            q_values, random_mdp, two_state_mdp, value_iteration)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99])
def test_value_iteration_reaches_the_bellman_fixed_point(gamma):
    mdp = random_mdp(8, 3, seed=1)
    V, history = value_iteration(mdp, gamma, tol=1e-9)
    assert np.array_equal(history[0], np.zeros(8)) and np.array_equal(history[-1], V)
    assert np.abs(bellman_backup(mdp, V, gamma) - V).max() <= 1e-9
    # V* is the value of its own greedy policy (solved exactly, not iteratively).
    V_greedy = policy_evaluation(mdp, greedy_policy(mdp, V, gamma), gamma)
    assert np.abs(V_greedy - V).max() <= 1e-9


def test_bellman_operator_is_a_gamma_contraction():
    mdp, gamma = random_mdp(10, 4, seed=2), 0.8
    rng = np.random.default_rng(0)
    for _ in range(20):
        V, U = rng.normal(scale=5, size=(2, 10))
        shrunk = np.abs(bellman_backup(mdp, V, gamma) - bellman_backup(mdp, U, gamma)).max()
        assert shrunk <= gamma * np.abs(V - U).max() + 1e-12


def test_value_iteration_error_shrinks_at_least_like_gamma_to_the_k():
    mdp, gamma = gridworld(slip=0.2), 0.9
    V, history = value_iteration(mdp, gamma, tol=1e-12)
    errors = np.abs(history - V).max(axis=1)
    assert len(history) > 20
    assert np.all(errors[1:] <= gamma * errors[:-1] + 1e-12)
    assert np.all(errors <= errors[0] * gamma ** np.arange(len(errors)) + 1e-12)


def test_two_state_mdp_matches_the_hand_computed_values():
    mdp = two_state_mdp()
    for gamma, best_at_home in [(0.3, 0), (0.8, 1)]:  # switching to work pays off iff gamma > 1/2
        V, _ = value_iteration(mdp, gamma, tol=1e-10)
        expected = [max(1, 2 * gamma) / (1 - gamma), 2 / (1 - gamma)]
        np.testing.assert_allclose(V, expected, atol=1e-9)
        assert greedy_policy(mdp, V, gamma).tolist() == [best_at_home, 0]


def test_deterministic_gridworld_takes_the_shortest_path():
    mdp, gamma = gridworld(slip=0.0), 0.9
    V, _ = value_iteration(mdp, gamma, tol=1e-10)
    # 6 steps from S to G along the pit: five step costs discounted, then the goal on step six.
    expected = sum(-0.04 * gamma**k for k in range(6)) + gamma**5 * 1.0
    assert V[mdp.start] == pytest.approx(expected, abs=1e-9)
    assert policy_as_text(mdp, greedy_policy(mdp, V, gamma)).splitlines()[3] == ">>^P^^"


def test_slip_makes_a_far_sighted_agent_avoid_the_pit():
    mdp = gridworld(slip=0.2)
    up, right = 0, 1
    pi_short = greedy_policy(mdp, value_iteration(mdp, 0.9)[0], 0.9)
    pi_long = greedy_policy(mdp, value_iteration(mdp, 0.99)[0], 0.99)
    assert pi_short[mdp.start] == right and pi_long[mdp.start] == up


def test_gridworld_dynamics():
    mdp = gridworld(["S.#", "..G"], slip=0.2, step_reward=-0.1)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    s = mdp.start  # (0,0): up and left hit the border, right is free, down is free
    up, right, down, left = range(4)
    names = list(mdp.state_names)
    assert mdp.P[s, up, s] == pytest.approx(0.8 + 0.1)  # blocked, plus slipping left (blocked)
    assert mdp.P[s, up, names.index("(0,1)")] == pytest.approx(0.1)
    # From (0,1) a wall is to the right and the border above: 0.8 + 0.1 of staying put.
    assert mdp.P[names.index("(0,1)"), right, names.index("(0,1)")] == pytest.approx(0.9)
    goal = names.index("(1,2)")
    assert mdp.terminal[goal] and mdp.P[goal, :, goal].tolist() == [1.0] * 4
    assert mdp.R[goal].tolist() == [0.0] * 4
    # From (1,1), going right enters the goal with prob 0.8: expected reward -0.1 + 0.8.
    assert mdp.R[names.index("(1,1)"), right] == pytest.approx(0.7)


def test_policy_evaluation_agrees_with_iterating_the_expectation_equation():
    mdp, gamma = random_mdp(6, 3, seed=3), 0.9
    probs = np.random.default_rng(1).dirichlet(np.ones(3), size=6)
    V = np.zeros(6)
    for _ in range(400):
        V = (probs * q_values(mdp, V, gamma)).sum(axis=1)
    np.testing.assert_allclose(policy_evaluation(mdp, probs, gamma), V, atol=1e-10)
    deterministic = np.array([0, 2, 1, 1, 0, 2])
    np.testing.assert_allclose(policy_evaluation(mdp, deterministic, gamma),
                               policy_evaluation(mdp, np.eye(3)[deterministic], gamma))


def test_greedy_policy_beats_every_other_deterministic_policy():
    mdp, gamma = random_mdp(5, 2, seed=4), 0.95
    best = policy_evaluation(mdp, greedy_policy(mdp, value_iteration(mdp, gamma)[0], gamma), gamma)
    for bits in range(2**5):
        policy = np.array([(bits >> i) & 1 for i in range(5)])
        assert np.all(policy_evaluation(mdp, policy, gamma) <= best + 1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda: value_iteration(random_mdp(3, 2, 0), 1.0), "gamma must be in"),
    (lambda: bellman_backup(random_mdp(3, 2, 0), np.zeros(4), 0.9), "V must have shape"),
    (lambda: policy_evaluation(random_mdp(3, 2, 0), np.array([0, 1, 2]), 0.9), "actions must be in"),
    (lambda: policy_evaluation(random_mdp(3, 2, 0), np.ones((3, 3)), 0.9), "policy must be"),
    (lambda: gridworld(["S..", ".X."]), "layout cells"),
    (lambda: gridworld(["S..", "S.G"]), "exactly one start"),
    (lambda: gridworld(slip=1.5), "slip must be"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
