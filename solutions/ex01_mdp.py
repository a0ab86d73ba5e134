"""Exercises of notebook 01 (MDPs and value iteration).

Write each function body where it says ``raise NotImplementedError``; use NumPy, no loops over
states are needed. Check one exercise in the notebook with ``checks.check("ex01_mdp.<name>")``,
or all of them with ``pytest tests/test_exercises.py --exercises exercises``.

An MDP here is a ``course_lib.mdp.TabularMDP`` with arrays

- ``mdp.P``: shape ``(S, A, S)``, ``mdp.P[s, a, s2]`` = probability of moving from s to s2 with a;
- ``mdp.R``: shape ``(S, A)``, the expected reward of taking a in s.
"""
import numpy as np


def bellman_backup(mdp, V, gamma):
    """One step of the Bellman optimality operator.

    (TV)(s) = max_a [ R(s, a) + gamma * sum_s2 P(s2 | s, a) V(s2) ]

    Args:
        mdp: the MDP (``mdp.P`` of shape (S, A, S), ``mdp.R`` of shape (S, A)).
        V: current value estimate, shape (S,).
        gamma: discount factor in [0, 1).

    Returns:
        The backed-up values TV, shape (S,).
    """
    # BEGIN SOLUTION
    Q = mdp.R + gamma * np.einsum("sat,t->sa", mdp.P, V)
    return Q.max(axis=1)
    # END SOLUTION


def value_iteration(mdp, gamma, tol):
    """Value iteration: V_0 = 0, then V_{k+1} = T V_k (use your ``bellman_backup``).

    Stop after the first backup with max_s |V_{k+1}(s) - V_k(s)| <= tol * (1 - gamma) / gamma:
    by the contraction property this guarantees max_s |V_{k+1}(s) - V*(s)| <= tol.
    (For gamma = 0, a single backup is already exact.)

    Args:
        mdp: the MDP.
        gamma: discount factor in [0, 1).
        tol: wanted accuracy of the returned V, in the max norm.

    Returns:
        ``(V, history)``: the final estimate, shape (S,), and all iterates V_0, V_1, ..., V_K stacked
        into an array of shape (K + 1, S), so that ``history[0]`` is all zeros and ``history[-1]`` is V.
    """
    # BEGIN SOLUTION
    threshold = tol * (1 - gamma) / gamma if gamma > 0 else np.inf
    history = [np.zeros(mdp.R.shape[0])]
    while True:
        history.append(bellman_backup(mdp, history[-1], gamma))
        if np.abs(history[-1] - history[-2]).max() <= threshold:
            return history[-1], np.stack(history)
    # END SOLUTION


def greedy_policy(mdp, V, gamma):
    """The policy that is greedy with respect to V: pi(s) = argmax_a Q(s, a), where

    Q(s, a) = R(s, a) + gamma * sum_s2 P(s2 | s, a) V(s2).

    Args:
        mdp: the MDP.
        V: value estimate, shape (S,).
        gamma: discount factor in [0, 1).

    Returns:
        One action index per state: an integer array of shape (S,).
    """
    # BEGIN SOLUTION
    Q = mdp.R + gamma * mdp.P @ V
    return np.argmax(Q, axis=1)
    # END SOLUTION


def policy_evaluation(mdp, policy, gamma):
    """The exact value V^pi of a deterministic policy, by solving a linear system.

    The Bellman expectation equation V(s) = R(s, pi(s)) + gamma * sum_s2 P(s2 | s, pi(s)) V(s2)
    reads, in matrix form, V = R_pi + gamma * P_pi V, hence (I - gamma * P_pi) V = R_pi.

    Args:
        mdp: the MDP.
        policy: one action index per state, integer array of shape (S,).
        gamma: discount factor in [0, 1).

    Returns:
        V^pi, shape (S,).
    """
    # BEGIN SOLUTION
    states = np.arange(len(policy))
    P_pi = mdp.P[states, policy]  # (S, S): row s is P(. | s, pi(s))
    R_pi = mdp.R[states, policy]
    return np.linalg.solve(np.eye(len(states)) - gamma * P_pi, R_pi)
    # END SOLUTION
