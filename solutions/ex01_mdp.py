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
    """One step of the Bellman optimality operator T of notebook 01, section 3, for every state at once.

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

    Stop after the first backup at which the returned V is *guaranteed* to be within ``tol`` of V*
    in the max norm. You only see the change between two iterates, not V*: derive from the
    contraction property of section 3 how small ``max_s |V_{k+1}(s) - V_k(s)|`` must be. (For
    gamma = 0, a single backup is already exact.)

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
    """The policy that is greedy with respect to V: the one-step look-ahead of notebook 01, section 4.

    Ties may go to any of the best actions.

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
    """The exact value V^pi of a deterministic policy, by solving a linear system (no iteration).

    Section 2 of notebook 01 writes the Bellman expectation equation in matrix form; what are
    ``P_pi`` and ``R_pi`` for a policy that picks one action per state? Build them from ``mdp.P``
    and ``mdp.R`` without a loop over states.

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


# --- Learning from samples (section 5 of the notebook) -------------------------------------------

def returns_to_go(rewards, gamma):
    """The discounted return G_t that followed every step of one episode (Monte Carlo targets).

    The return is defined in notebook 01, section 5; nothing is earned after the last reward.
    One pass over the episode is enough.

    Args:
        rewards: the rewards ``r_0, ..., r_{T-1}`` of one episode, a sequence of length T (T >= 0).
        gamma: discount factor in [0, 1].

    Returns:
        A float array of shape (T,): ``G_0, ..., G_{T-1}``.
    """
    # BEGIN SOLUTION
    returns = np.zeros(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns
    # END SOLUTION


def td0_update(V, state, reward, next_state, done, alpha, gamma):
    """One TD(0) update of a value table (notebook 01, section 5), on a copy (``V`` itself must not change).

    When ``done``, ``s'`` is terminal and its value is 0.

    Args:
        V: value table, float array of shape (S,).
        state, next_state: state indices s and s'.
        reward: the reward r of the transition.
        done: True if s' is terminal.
        alpha: step size in (0, 1].
        gamma: discount factor in [0, 1).

    Returns:
        The updated table, a new float array of shape (S,).
    """
    # BEGIN SOLUTION
    V = np.array(V, dtype=float)
    target = reward + (0.0 if done else gamma * V[next_state])
    V[state] += alpha * (target - V[state])
    return V
    # END SOLUTION


def epsilon_greedy(q_row, epsilon, rng):
    """The epsilon-greedy action for one state, given its action values ``q_row``.

    With probability ``epsilon`` a uniformly random action, otherwise the greedy one (on ties the
    lowest index, as ``np.argmax`` does). The check replays the course's random draws, so use
    exactly these calls of ``rng``, in this order: ``u = rng.random()`` once per call; explore when
    ``u < epsilon``, and then draw the action with ``int(rng.integers(len(q_row)))``.

    Args:
        q_row: the values Q(s, a) of the A actions, shape (A,).
        epsilon: exploration probability in [0, 1].
        rng: a ``numpy.random.Generator``.

    Returns:
        An int action index.
    """
    # BEGIN SOLUTION
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return int(np.argmax(q_row))
    # END SOLUTION


def q_learning_update(Q, state, action, reward, next_state, done, alpha, gamma):
    """One Q-learning update of an action-value table (notebook 01, section 5), on a copy.

    ``Q`` itself must not change. When ``done``, ``s'`` is terminal and has no future value.

    Args:
        Q: table of shape (S, A).
        state, action, next_state: the indices s, a and s'.
        reward: the reward r; done: True if s' is terminal.
        alpha: step size in (0, 1]; gamma: discount factor in [0, 1).

    Returns:
        The updated table, a new float array of shape (S, A).
    """
    # BEGIN SOLUTION
    Q = np.array(Q, dtype=float)
    target = reward + (0.0 if done else gamma * Q[next_state].max())
    Q[state, action] += alpha * (target - Q[state, action])
    return Q
    # END SOLUTION


# --- Function approximation (section 7 of the notebook) -----------------------------------------

def semi_gradient_td0_update(w, phi, phi_next, reward, done, alpha, gamma):
    """One semi-gradient TD(0) step for a linear value function ``V_w(s) = phi(s) . w``, on a copy.

    The update of notebook 01, section 7 (the target is held fixed: no gradient through
    ``V_w(s')``; when ``done`` it is just ``r``). With one-hot features it must reduce to your
    ``td0_update``.

    Args:
        w: weights, shape (d,).
        phi, phi_next: the feature vectors of s and s', shape (d,).
        reward: r; done: True if s' is terminal.
        alpha: step size; gamma: discount factor in [0, 1).

    Returns:
        The new weights, a float array of shape (d,) (``w`` itself must not change).
    """
    # BEGIN SOLUTION
    w = np.array(w, dtype=float)
    target = reward + (0.0 if done else gamma * float(np.dot(phi_next, w)))
    return w + alpha * (target - float(np.dot(phi, w))) * np.asarray(phi, dtype=float)
    # END SOLUTION
