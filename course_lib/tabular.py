"""Learning values from samples on a tabular MDP: Monte Carlo, TD(0) and Q-learning (notebook 01).

Value iteration (:mod:`course_lib.mdp`) needs the model ``P`` and ``R``. An agent only *samples* it:
in state ``s`` it takes ``a``, and the world answers with one next state ``s' ~ P(.|s, a)`` and a
reward. Replacing the sum over ``s'`` of the Bellman equation by that one sample gives the two
classic updates:

- **TD(0)** evaluates a fixed policy pi (Bellman *expectation* equation, sampled):
  ``V(s) <- V(s) + alpha [r + gamma V(s') - V(s)]``;
- **Q-learning** learns Q* (Bellman *optimality* equation, sampled), whatever policy collects the
  data: ``Q(s, a) <- Q(s, a) + alpha [r + gamma max_a' Q(s', a') - Q(s, a)]``.

Both are stochastic approximation: with step sizes ``alpha_n`` per entry that satisfy the
Robbins-Monro conditions (``sum alpha_n = inf``, ``sum alpha_n^2 < inf``; here
``alpha_n = (n + 1)^-power`` with ``1/2 < power <= 1``) and every entry visited infinitely often,
they converge to V^pi and Q*. The critic loss of the paper's eq. (2) is the squared bracket above,
minimized by a network instead of a table (:func:`semi_gradient_td0` is the step in between).

The simulator pays the *expected* reward ``R[s, a]`` of a step: the values of an MDP depend on its
rewards only through that expectation, so V^pi and Q* are exactly those of :mod:`course_lib.mdp`;
the randomness the learner must average out is that of the next state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from course_lib import mdp as M

__all__ = ["GridSimulator", "returns_to_go", "epsilon_greedy", "td0_update", "q_learning_update",
           "td0_evaluation", "q_learning", "semi_gradient_td0", "LearningReport", "learning_report",
           "log_checkpoints", "soft_value", "soft_value_iteration", "SoftReport", "soft_report"]


class GridSimulator:
    """Samples transitions of a :class:`course_lib.mdp.TabularMDP`: ``step(s, a) -> (s', r, done)``.

    ``done`` is True when ``s'`` is terminal (G or P in the grid world): the episode ends there.
    """

    def __init__(self, mdp: M.TabularMDP, seed: int = 0):
        self.mdp = mdp
        self.rng = np.random.default_rng(seed)
        self._cumulative = np.cumsum(mdp.P, axis=2)  # inverse-CDF sampling: one uniform per step
        self.nonterminal = np.flatnonzero(~mdp.terminal)

    def step(self, state: int, action: int) -> tuple[int, float, bool]:
        row = self._cumulative[state, action]
        next_state = min(int(np.searchsorted(row, self.rng.random() * row[-1], side="right")),
                         self.mdp.n_states - 1)
        return next_state, float(self.mdp.R[state, action]), bool(self.mdp.terminal[next_state])

    def start_state(self, start: str) -> int:
        """``"S"``: the map's start cell; ``"random"``: a uniformly random non-terminal state."""
        if start == "S":
            return self.mdp.start
        if start == "random":
            return int(self.rng.choice(self.nonterminal))
        raise ValueError(f"start must be 'S' or 'random', got {start!r}")


def returns_to_go(rewards, gamma: float) -> np.ndarray:
    """``G_t = sum_{k >= t} gamma^(k - t) r_k`` for every step of one episode (Monte Carlo targets)."""
    rewards = np.asarray(rewards, dtype=float)
    out = np.zeros_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def epsilon_greedy(q_row, epsilon: float, rng: np.random.Generator) -> int:
    """With probability ``epsilon`` a uniformly random action, otherwise ``argmax`` (ties: lowest index).

    Exactly one ``rng.random()`` per call, and one ``rng.integers(n_actions)`` when exploring.
    """
    q_row = np.asarray(q_row)
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return int(np.argmax(q_row))


def td0_update(V, state: int, reward: float, next_state: int, done: bool, alpha: float,
               gamma: float) -> np.ndarray:
    """One TD(0) step on a copy of ``V``: ``V(s) += alpha [r + gamma (1 - done) V(s') - V(s)]``."""
    V = np.array(V, dtype=float)
    target = reward + (0.0 if done else gamma * V[next_state])
    V[state] += alpha * (target - V[state])
    return V


def q_learning_update(Q, state: int, action: int, reward: float, next_state: int, done: bool,
                      alpha: float, gamma: float) -> np.ndarray:
    """One Q-learning step on a copy of ``Q``: ``Q(s,a) += alpha [r + gamma (1 - done) max_a' Q(s',a') - Q(s,a)]``."""
    Q = np.array(Q, dtype=float)
    target = reward + (0.0 if done else gamma * Q[next_state].max())
    Q[state, action] += alpha * (target - Q[state, action])
    return Q


def log_checkpoints(n_steps: int, n_points: int = 40) -> np.ndarray:
    """About ``n_points`` sample counts spaced evenly on a log axis from 10 to ``n_steps``."""
    if n_steps < 10:
        raise ValueError(f"n_steps must be at least 10, got {n_steps}")
    return np.unique(np.geomspace(10, n_steps, n_points).astype(int))


def _check_common(gamma: float, n_steps: int, power: float) -> None:
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must be in [0, 1), got {gamma}")
    if n_steps < 10:
        raise ValueError(f"n_steps must be at least 10, got {n_steps}")
    if not 0.5 < power <= 1.0:
        raise ValueError(f"power must be in (0.5, 1] (Robbins-Monro step sizes), got {power}")


def td0_evaluation(mdp: M.TabularMDP, policy, gamma: float, n_steps: int, seed: int = 0,
                   start: str = "random", power: float = 0.7,
                   max_episode_steps: int = 100) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """TD(0) evaluation of a deterministic ``policy`` (int array ``(S,)``) from ``n_steps`` samples.

    Episodes start at ``start`` (``"random"``: exploring starts, so that every state is visited)
    and end at a terminal state or after ``max_episode_steps``. State ``s``'s n-th update uses the
    step size ``(n + 1)^-power``.

    Returns:
        ``(V, snapshots)``: the final estimate and ``{samples: copy of V}`` at :func:`log_checkpoints`.
    """
    _check_common(gamma, n_steps, power)
    policy = np.asarray(policy)
    sim = GridSimulator(mdp, seed)
    V, visits = np.zeros(mdp.n_states), np.zeros(mdp.n_states)
    checkpoints, snapshots = set(log_checkpoints(n_steps).tolist()), {}
    state, t = sim.start_state(start), 0
    for n in range(1, n_steps + 1):
        next_state, reward, done = sim.step(state, int(policy[state]))
        V = td0_update(V, state, reward, next_state, done, (visits[state] + 1) ** -power, gamma)
        visits[state] += 1
        t += 1
        state = next_state
        if done or t >= max_episode_steps:
            state, t = sim.start_state(start), 0
        if n in checkpoints:
            snapshots[n] = V.copy()
    return V, snapshots


def q_learning(mdp: M.TabularMDP, gamma: float, n_steps: int, epsilon: float = 0.2, seed: int = 0,
               start: str = "random", power: float = 0.7,
               max_episode_steps: int = 100) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Tabular Q-learning with epsilon-greedy exploration from ``n_steps`` samples.

    The behaviour policy is epsilon-greedy in the current ``Q``; the target takes the max over the
    next actions, so Q-learning learns Q* *off-policy*, whatever epsilon is (as long as every pair
    keeps being tried). Entry ``(s, a)``'s n-th update uses the step size ``(n + 1)^-power``.

    Returns:
        ``(Q, snapshots)``: the final ``(S, A)`` table and ``{samples: copy of Q}`` at
        :func:`log_checkpoints`.
    """
    _check_common(gamma, n_steps, power)
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be a probability in [0, 1], got {epsilon}")
    sim = GridSimulator(mdp, seed)
    Q, visits = np.zeros((mdp.n_states, mdp.n_actions)), np.zeros((mdp.n_states, mdp.n_actions))
    checkpoints, snapshots = set(log_checkpoints(n_steps).tolist()), {}
    state, t = sim.start_state(start), 0
    for n in range(1, n_steps + 1):
        action = epsilon_greedy(Q[state], epsilon, sim.rng)
        next_state, reward, done = sim.step(state, action)
        Q = q_learning_update(Q, state, action, reward, next_state, done,
                              (visits[state, action] + 1) ** -power, gamma)
        visits[state, action] += 1
        t += 1
        state = next_state
        if done or t >= max_episode_steps:
            state, t = sim.start_state(start), 0
        if n in checkpoints:
            snapshots[n] = Q.copy()
    return Q, snapshots


def semi_gradient_td0(mdp: M.TabularMDP, policy, features, gamma: float, n_steps: int, seed: int = 0,
                      lr: float = 0.05, start: str = "random",
                      max_episode_steps: int = 100) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """TD(0) with a linear value function ``V_w(s) = features[s] . w`` (semi-gradient).

    The update ``w += lr_n [r + gamma V_w(s') - V_w(s)] features[s]`` is a gradient step on
    ``(V_w(s) - y)^2 / 2`` with the target ``y`` held fixed: eq. (2)'s recipe with a linear critic.
    One-hot features give back tabular TD(0). ``lr_n = lr / (1 + n / 1000)^0.7`` decays with the
    total sample count ``n``.

    Returns:
        ``(w, snapshots)`` with ``{samples: V_w as an (S,) array}`` at :func:`log_checkpoints`.
    """
    _check_common(gamma, n_steps, 0.7)
    features = np.asarray(features, dtype=float)
    if features.ndim != 2 or features.shape[0] != mdp.n_states:
        raise ValueError(f"features must have shape ({mdp.n_states}, d), got {features.shape}")
    policy = np.asarray(policy)
    sim = GridSimulator(mdp, seed)
    w = np.zeros(features.shape[1])
    checkpoints, snapshots = set(log_checkpoints(n_steps).tolist()), {}
    state, t = sim.start_state(start), 0
    for n in range(1, n_steps + 1):
        next_state, reward, done = sim.step(state, int(policy[state]))
        target = reward + (0.0 if done else gamma * features[next_state] @ w)
        w += lr / (1 + n / 1000) ** 0.7 * (target - features[state] @ w) * features[state]
        t += 1
        state = next_state
        if done or t >= max_episode_steps:
            state, t = sim.start_state(start), 0
        if n in checkpoints:
            snapshots[n] = features @ w
    return w, snapshots


@dataclass
class LearningReport:
    """What :func:`learning_report` computes for one (gamma, slip, epsilon) setting."""

    grid: M.TabularMDP
    gamma: float
    slip: float
    epsilon: float
    V_star: np.ndarray       # value iteration's V*
    policy_star: np.ndarray  # its greedy policy
    Q: np.ndarray            # Q-learning's final table
    policy: np.ndarray       # greedy policy of Q
    errors: pd.DataFrame     # samples, q_error (max over non-terminal (s, a)), v_error_start
    value_of_learned: float  # V^{greedy(Q)}(S), solved exactly
    agreement: float         # fraction of non-terminal states where greedy(Q) = pi*


def learning_report(gamma: float = 0.9, slip: float = 0.2, epsilon: float = 0.2, n_steps: int = 30_000,
                    seed: int = 0, start: str = "S") -> LearningReport:
    """Value iteration and Q-learning on ``gridworld(slip)``, compared (the plain function behind
    notebook 01's panel).

    Q-learning starts every episode at ``start`` (default the map's S) and explores
    epsilon-greedily, so epsilon decides which parts of the map it ever learns about.
    """
    grid = M.gridworld(slip=slip)
    V_star, _ = M.value_iteration(grid, gamma, tol=1e-10)
    Q_star = M.q_values(grid, V_star, gamma)
    policy_star = M.greedy_policy(grid, V_star, gamma)
    Q, snapshots = q_learning(grid, gamma, n_steps, epsilon=epsilon, seed=seed, start=start)
    live = ~grid.terminal
    errors = pd.DataFrame({
        "samples": list(snapshots),
        "q_error": [np.abs(q - Q_star)[live].max() for q in snapshots.values()],
        "v_error_start": [abs(q[grid.start].max() - V_star[grid.start]) for q in snapshots.values()],
    })
    policy = Q.argmax(axis=1)
    value = M.policy_evaluation(grid, policy, gamma)[grid.start]
    agreement = float((policy == policy_star)[live].mean())
    return LearningReport(grid, gamma, slip, epsilon, V_star, policy_star, Q, policy, errors,
                          float(value), agreement)


def soft_value(Q, alpha: float) -> np.ndarray:
    """The soft maximum ``V(s) = alpha log sum_a exp(Q(s, a) / alpha)`` per row (stable form).

    It is the value of the policy ``pi(a|s) = exp((Q(s, a) - V(s)) / alpha)``, the best policy for the
    maximum-entropy objective (notebook 02): ``V = E_pi[Q - alpha log pi]``. As ``alpha -> 0`` it
    tends to ``max_a Q(s, a)``.
    """
    Q = np.asarray(Q, dtype=float)
    if alpha <= 0:
        raise ValueError(f"alpha must be positive (alpha -> 0 is the hard max), got {alpha}")
    top = Q.max(axis=-1, keepdims=True)
    return (top + alpha * np.log(np.exp((Q - top) / alpha).sum(axis=-1, keepdims=True)))[..., 0]


def soft_value_iteration(mdp: M.TabularMDP, gamma: float, alpha: float, tol: float = 1e-10,
                         max_iters: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the soft Bellman optimality operator ``V <- softmax_alpha(R + gamma P V)`` to its fixed point.

    Terminal states keep ``V = 0`` (the episode is over: no reward and no entropy bonus there).
    Returns ``(V, pi)``: the soft optimal values ``(S,)`` and the policy ``exp((Q - V) / alpha)``,
    an ``(S, A)`` array of probabilities.
    """
    M._check_gamma(gamma)
    V = np.zeros(mdp.n_states)
    for _ in range(max_iters):
        Q = mdp.R + gamma * mdp.P @ V
        new = np.where(mdp.terminal, 0.0, soft_value(Q, alpha))
        if np.abs(new - V).max() <= tol * (1 - gamma):
            V = new
            break
        V = new
    else:
        raise RuntimeError(f"soft value iteration did not converge in {max_iters} iterations")
    Q = mdp.R + gamma * mdp.P @ V
    return V, np.exp((Q - soft_value(Q, alpha)[:, None]) / alpha)


@dataclass
class SoftReport:
    """What :func:`soft_report` computes: soft-optimal values and policy next to the hard ones."""

    grid: M.TabularMDP
    gamma: float
    alpha: float
    V_soft: np.ndarray   # soft optimal values (S,)
    pi: np.ndarray       # the soft optimal policy (S, A)
    V_hard: np.ndarray   # value iteration's V* (S,)
    entropy: np.ndarray  # entropy of pi(.|s) in nats (S,), 0 at terminal states


def soft_report(alpha: float = 0.05, gamma: float = 0.9, slip: float = 0.2) -> SoftReport:
    """Soft value iteration on ``gridworld(slip)`` at temperature ``alpha`` (notebook 02's panel)."""
    grid = M.gridworld(slip=slip)
    V_soft, pi = soft_value_iteration(grid, gamma, alpha)
    V_hard, _ = M.value_iteration(grid, gamma, tol=1e-10)
    entropy = np.where(grid.terminal, 0.0, -(pi * np.log(np.clip(pi, 1e-300, None))).sum(axis=1))
    return SoftReport(grid, gamma, alpha, V_soft, pi, V_hard, entropy)
