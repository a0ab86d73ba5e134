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


# --- Learning from samples (section 5 of the notebook) -------------------------------------------

def returns_to_go(rewards, gamma):
    """The discounted return that followed every step of one episode (Monte Carlo targets).

        G_t = r_t + gamma * r_{t+1} + gamma^2 * r_{t+2} + ... = r_t + gamma * G_{t+1},

    with ``G = 0`` after the last reward. One backward pass is enough.

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
    """One TD(0) update of a value table, on a copy (``V`` itself must not change).

        V(s) <- V(s) + alpha * [ r + gamma * V(s') - V(s) ]

    where the target is just ``r`` when ``done`` (``s'`` is terminal: its value is 0).

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

    Draw ``u = rng.random()`` (exactly once). If ``u < epsilon``, explore: return
    ``int(rng.integers(len(q_row)))``, a uniformly random action. Otherwise return the greedy action
    ``argmax_a q_row[a]`` (on ties the lowest index, as ``np.argmax`` does). Keep to exactly these
    calls of ``rng``, in this order, so that your agent and the course's draw the same actions.

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
    """One Q-learning update of an action-value table, on a copy (``Q`` itself must not change).

        Q(s, a) <- Q(s, a) + alpha * [ r + gamma * max_a' Q(s', a') - Q(s, a) ]

    where the target is just ``r`` when ``done`` (``s'`` is terminal).

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

        delta = r + gamma * V_w(s') - V_w(s)      (just r - V_w(s) when done)
        w    <- w + alpha * delta * phi(s)

    It is a gradient step on ``(V_w(s) - y)^2 / 2`` with the target ``y = r + gamma V_w(s')`` held
    fixed (we do not differentiate through ``V_w(s')``: that is what "semi" means).

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
