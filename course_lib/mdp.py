"""Small tabular MDPs and the dynamic programming that solves them exactly (notebook 01).

An MDP is the tuple (S, A, P, r) of the paper's section 2.1 plus a discount 0 <= gamma < 1. With
finitely many states and actions everything is an array:

- ``P[s, a, s']`` is the probability of landing in ``s'`` after taking ``a`` in ``s``;
- ``R[s, a]`` is the expected reward of that step, ``sum_s' P[s, a, s'] r(s, a, s')``.

The Bellman equations tie a value function to itself one step later. For a policy pi,

    V^pi(s) = sum_a pi(a|s) [ R(s, a) + gamma * sum_s' P(s'|s, a) V^pi(s') ]      (Bellman expectation)

and for the best achievable value V*,

    V*(s)   = max_a        [ R(s, a) + gamma * sum_s' P(s'|s, a) V*(s')   ]      (Bellman optimality)

The bracket is the action value Q(s, a). The right-hand side of the optimality equation, read as an
operator T on value vectors, is a gamma-contraction in the max norm: ||TV - TU|| <= gamma ||V - U||.
Value iteration simply applies T until nothing moves; the error shrinks at least like gamma^k.
The critics of the paper learn exactly this Q with a network: eq. (2) is the squared residual of a
(soft) Bellman equation, estimated from sampled transitions instead of the full sum over s'.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Grid actions, in this order everywhere (arrays, pictures, exercises).
GRID_ACTIONS = ("up", "right", "down", "left")
_MOVES = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}  # (d_row, d_col) per action

# Two routes from S to the goal G: a short one along the pit P and a long, safe detour. With slip
# (the agent may be pushed sideways) the short route risks falling in; which route is optimal depends
# on gamma and on the slip probability, the question notebook 01 asks.
DEFAULT_LAYOUT = (
    "......",
    ".##.#.",
    ".#...G",
    "S..P..",
)


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A finite MDP as arrays.

    Attributes:
        P: transition probabilities, shape ``(S, A, S)``, each ``P[s, a]`` sums to 1.
        R: expected one-step rewards, shape ``(S, A)``.
        state_names: one label per state (grid states are ``"(row,col)"``).
        action_names: one label per action.
        terminal: boolean mask ``(S,)`` of absorbing, zero-reward states.
        layout: for grid worlds, the rows of the map (``#`` wall, ``S`` start, ``G`` goal, ``P`` pit).
        coords: for grid worlds, the ``(row, col)`` of every state.
        start: index of the start state.
    """

    P: np.ndarray
    R: np.ndarray
    state_names: tuple[str, ...]
    action_names: tuple[str, ...]
    terminal: np.ndarray
    layout: tuple[str, ...] | None = None
    coords: tuple[tuple[int, int], ...] | None = None
    start: int = 0

    def __post_init__(self):
        P, R = np.asarray(self.P, dtype=float), np.asarray(self.R, dtype=float)
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"P must have shape (S, A, S), got {P.shape}")
        if R.shape != P.shape[:2]:
            raise ValueError(f"R must have shape (S, A) = {P.shape[:2]}, got {R.shape}")
        if (P < 0).any() or not np.allclose(P.sum(axis=2), 1.0):
            raise ValueError("every P[s, a] must be a probability distribution over next states")
        if len(self.state_names) != P.shape[0] or len(self.action_names) != P.shape[1]:
            raise ValueError("need one name per state and one per action")
        if not 0 <= self.start < P.shape[0]:
            raise ValueError(f"start must be a state index in [0, {P.shape[0]}), got {self.start}")
        object.__setattr__(self, "P", P)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "terminal", np.asarray(self.terminal, dtype=bool))

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]


def gridworld(layout=DEFAULT_LAYOUT, slip: float = 0.2, step_reward: float = -0.04,
              goal_reward: float = 1.0, pit_reward: float = -1.0) -> TabularMDP:
    """A grid world with the dynamics of Russell & Norvig's 4x3 world, on any map.

    Cells: ``.`` free, ``#`` wall, ``S`` start, ``G`` goal, ``P`` pit. Each step costs
    ``step_reward``; entering G adds ``goal_reward`` and entering P adds ``pit_reward``; both end the
    episode (they are absorbing with zero reward afterwards). An action moves one cell in its
    direction with probability ``1 - slip`` and slips to each perpendicular direction with
    probability ``slip / 2``. Moving into a wall or off the map leaves the agent where it is.
    """
    layout = tuple(layout)
    if not layout or len({len(row) for row in layout}) != 1:
        raise ValueError("layout must be a non-empty list of equally long strings")
    if set("".join(layout)) - set(".#SGP"):
        raise ValueError("layout cells must be one of '.', '#', 'S', 'G', 'P'")
    if "".join(layout).count("S") != 1:
        raise ValueError("layout needs exactly one start cell 'S'")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip must be a probability in [0, 1], got {slip}")

    coords = tuple((r, c) for r, row in enumerate(layout) for c, cell in enumerate(row) if cell != "#")
    index = {rc: i for i, rc in enumerate(coords)}
    n_rows, n_cols = len(layout), len(layout[0])
    terminal = np.array([layout[r][c] in "GP" for r, c in coords])
    entry_bonus = np.array([{"G": goal_reward, "P": pit_reward}.get(layout[r][c], 0.0) for r, c in coords])

    def moved(state: int, action: int) -> int:
        r, c = coords[state]
        dr, dc = _MOVES[action]
        target = (r + dr, c + dc)
        inside = 0 <= target[0] < n_rows and 0 <= target[1] < n_cols
        return index[target] if inside and layout[target[0]][target[1]] != "#" else state

    n = len(coords)
    P = np.zeros((n, 4, n))
    for s in range(n):
        if terminal[s]:
            P[s, :, s] = 1.0
            continue
        for a in range(4):
            P[s, a, moved(s, a)] += 1.0 - slip
            for side in ((a + 1) % 4, (a + 3) % 4):  # the two perpendicular directions
                P[s, a, moved(s, side)] += slip / 2
    # r(s, a, s') = step cost + bonus for entering s'; R is its expectation over s'.
    R = np.where(terminal[:, None], 0.0, step_reward + P @ entry_bonus)
    start = index[next((r, c) for r, c in coords if layout[r][c] == "S")]
    return TabularMDP(P=P, R=R, state_names=tuple(f"({r},{c})" for r, c in coords),
                      action_names=GRID_ACTIONS, terminal=terminal, layout=layout, coords=coords,
                      start=start)


def two_state_mdp() -> TabularMDP:
    """The smallest MDP with a real decision, solvable by hand.

    In ``home`` you may ``stay`` (reward 1) or ``switch`` (reward 0) to ``work``, where staying pays 2.
    So V*(work) = 2 / (1 - gamma), and V*(home) = max(1 / (1 - gamma), gamma * 2 / (1 - gamma)):
    giving up a reward now pays off exactly when gamma > 1/2.
    """
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 1] = P[1, 1, 0] = 1.0
    R = np.array([[1.0, 0.0], [2.0, 0.0]])
    return TabularMDP(P=P, R=R, state_names=("home", "work"), action_names=("stay", "switch"),
                      terminal=np.zeros(2, dtype=bool))


def random_mdp(n_states: int, n_actions: int, seed: int) -> TabularMDP:
    """A random dense MDP (Dirichlet transitions, Gaussian rewards) for tests and exercise checks."""
    if n_states < 1 or n_actions < 1:
        raise ValueError(f"need n_states >= 1 and n_actions >= 1, got {n_states}, {n_actions}")
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    R = rng.normal(size=(n_states, n_actions))
    return TabularMDP(P=P, R=R, state_names=tuple(f"s{i}" for i in range(n_states)),
                      action_names=tuple(f"a{j}" for j in range(n_actions)),
                      terminal=np.zeros(n_states, dtype=bool))


def _check_gamma(gamma: float) -> float:
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must be in [0, 1) so that values stay finite, got {gamma}")
    return float(gamma)


def _check_values(mdp: TabularMDP, V) -> np.ndarray:
    V = np.asarray(V, dtype=float)
    if V.shape != (mdp.n_states,):
        raise ValueError(f"V must have shape ({mdp.n_states},), one value per state, got {V.shape}")
    return V


def q_values(mdp: TabularMDP, V, gamma: float) -> np.ndarray:
    """Q(s, a) = R(s, a) + gamma * sum_s' P(s'|s, a) V(s'), shape ``(S, A)``."""
    return mdp.R + _check_gamma(gamma) * mdp.P @ _check_values(mdp, V)


def bellman_backup(mdp: TabularMDP, V, gamma: float) -> np.ndarray:
    """One application of the Bellman optimality operator: (TV)(s) = max_a Q(s, a)."""
    return q_values(mdp, V, gamma).max(axis=1)


def value_iteration(mdp: TabularMDP, gamma: float, tol: float = 1e-8,
                    max_iters: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Iterate V_{k+1} = T V_k from V_0 = 0 until V is within ``tol`` of V* in the max norm.

    Because T is a gamma-contraction, ||V_{k+1} - V*|| <= gamma / (1 - gamma) * ||V_{k+1} - V_k||,
    so we stop once successive iterates differ by at most ``tol * (1 - gamma) / gamma``.

    Returns:
        ``(V, history)``: the final values, shape ``(S,)``, and every iterate ``V_0 .. V_K`` as an
        array of shape ``(K + 1, S)`` (``history[-1]`` is ``V``).
    """
    gamma = _check_gamma(gamma)
    if tol <= 0:
        raise ValueError(f"tol must be positive, got {tol}")
    threshold = tol * (1 - gamma) / gamma if gamma > 0 else np.inf
    history = [np.zeros(mdp.n_states)]
    for _ in range(max_iters):
        history.append(bellman_backup(mdp, history[-1], gamma))
        if np.abs(history[-1] - history[-2]).max() <= threshold:
            return history[-1], np.stack(history)
    raise RuntimeError(f"value iteration did not reach tol={tol} in {max_iters} iterations; "
                       "raise max_iters or tol")


def greedy_policy(mdp: TabularMDP, V, gamma: float) -> np.ndarray:
    """pi(s) = argmax_a Q(s, a) as an int array ``(S,)``; ties go to the lowest action index."""
    return q_values(mdp, V, gamma).argmax(axis=1)


def policy_evaluation(mdp: TabularMDP, policy, gamma: float) -> np.ndarray:
    """V^pi, the exact solution of the Bellman expectation equation.

    In matrix form V = R_pi + gamma P_pi V, so V^pi = (I - gamma P_pi)^{-1} R_pi, where
    R_pi(s) = sum_a pi(a|s) R(s, a) and P_pi(s, s') = sum_a pi(a|s) P(s'|s, a).

    ``policy`` is either deterministic, an int array ``(S,)`` of actions, or stochastic, an array
    ``(S, A)`` of action probabilities.
    """
    gamma = _check_gamma(gamma)
    policy = np.asarray(policy)
    if policy.shape == (mdp.n_states,) and np.issubdtype(policy.dtype, np.integer):
        if policy.min() < 0 or policy.max() >= mdp.n_actions:
            raise ValueError(f"actions must be in [0, {mdp.n_actions}), got {policy}")
        probs = np.eye(mdp.n_actions)[policy]
    elif policy.shape == (mdp.n_states, mdp.n_actions):
        probs = policy.astype(float)
        if (probs < 0).any() or not np.allclose(probs.sum(axis=1), 1.0):
            raise ValueError("each row of a stochastic policy must be a probability distribution")
    else:
        raise ValueError(f"policy must be an int array ({mdp.n_states},) or probabilities "
                         f"({mdp.n_states}, {mdp.n_actions}); got {policy.dtype} {policy.shape}")
    R_pi = (probs * mdp.R).sum(axis=1)
    P_pi = np.einsum("sa,sat->st", probs, mdp.P)
    return np.linalg.solve(np.eye(mdp.n_states) - gamma * P_pi, R_pi)


def policy_as_text(mdp: TabularMDP, policy) -> str:
    """The grid with one arrow per non-terminal state, e.g. for printing a policy compactly."""
    if mdp.layout is None:
        raise ValueError("policy_as_text needs a grid MDP (made by gridworld())")
    rows = [list(row) for row in mdp.layout]
    for s, (r, c) in enumerate(mdp.coords):
        if not mdp.terminal[s]:
            rows[r][c] = "^>v<"[int(policy[s])]
    return "\n".join("".join(row) for row in rows)


_ARROWS = {0: (0, -0.3), 1: (0.3, 0), 2: (0, 0.3), 3: (-0.3, 0)}  # (dx, dy) in image coordinates


def draw_gridworld(mdp: TabularMDP, values=None, policy=None, ax=None, title: str | None = None):
    """Draw a grid world: walls black, values as colours (with numbers), the policy as arrows."""
    import matplotlib.pyplot as plt

    if mdp.layout is None:
        raise ValueError("draw_gridworld needs a grid MDP (made by gridworld())")
    ax = ax if ax is not None else plt.gca()
    walls = np.array([[cell == "#" for cell in row] for row in mdp.layout])
    image = np.where(walls, np.nan, 0.0)
    if values is not None:
        for (r, c), v in zip(mdp.coords, _check_values(mdp, values)):
            image[r, c] = v
    cmap = plt.get_cmap("RdYlGn" if values is not None else "Greys").copy()
    cmap.set_bad("black")  # walls are NaN
    ax.imshow(image, cmap=cmap, vmin=-1 if values is not None else 0, vmax=1)
    for s, (r, c) in enumerate(mdp.coords):
        cell = mdp.layout[r][c]
        if cell in "GPS":
            ax.text(c - 0.42, r - 0.28, cell, fontsize=9, fontweight="bold")
        if values is not None and not mdp.terminal[s]:  # terminal values are 0 by definition
            ax.text(c, r + 0.32, f"{image[r, c]:.2f}", ha="center", va="center", fontsize=7)
        if policy is not None and not mdp.terminal[s]:
            dx, dy = _ARROWS[int(policy[s])]
            ax.arrow(c - dx / 2, r - dy / 2 - 0.08, dx, dy, head_width=0.15, length_includes_head=True,
                     color="black")
    n_rows, n_cols = walls.shape
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="grey", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title)
    return ax
