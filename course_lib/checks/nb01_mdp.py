"""Checks of notebook 01 · MDPs and value iteration (solutions/ex01_mdp.py)."""
from __future__ import annotations

import numpy as np

from .framework import CheckFailed, expect_close, register


def _cases(rng):
    """Seeded MDPs every ex01 probe uses: two random dense ones and the slippery grid world."""
    from course_lib import mdp

    seeds = [int(s) for s in rng.integers(0, 2**31, size=2)]
    slip = round(float(rng.uniform(0.1, 0.3)), 2)
    return [("a random 5-state, 3-action MDP, gamma=0.9", mdp.random_mdp(5, 3, seed=seeds[0]), 0.9),
            ("a random 7-state, 2-action MDP, gamma=0.5", mdp.random_mdp(7, 2, seed=seeds[1]), 0.5),
            (f"the grid world (slip {slip:g}), gamma=0.95", mdp.gridworld(slip=slip), 0.95)]


@register("ex01_mdp.bellman_backup", points=1, difficulty=1)
def _probe_bellman_backup(fn, rng):
    return {f"bellman_backup(V) on {case}": fn(m, rng.normal(size=m.n_states), gamma)
            for case, m, gamma in _cases(rng)}


_VI_TOL = 1e-6


def _optimal_values(P, R, gamma):
    """V* of the MDP ``(P, R)`` to 1e-12, in the grader's process (``course_lib.mdp``'s answer is
    stubbed in the grader's child, where probes run)."""
    from course_lib import mdp

    return mdp.value_iteration(mdp.TabularMDP(P=P, R=R, state_names=tuple(map(str, range(len(R)))),
                                              action_names=tuple(map(str, range(R.shape[1]))),
                                              terminal=np.zeros(len(R), dtype=bool)), gamma, tol=1e-12)[0]


def _compare_value_iteration(got, want):
    for case, ref in want.items():
        mine = got[case]
        # tol / (1 - gamma) also accepts the common stopping rule ||V_{k+1} - V_k|| <= tol.
        gamma, P, R = ref["gamma"], ref["P"], ref["R"]
        V_star = _optimal_values(P, R, gamma)
        expect_close(mine["V"], V_star, f"V on {case}", atol=_VI_TOL / (1 - gamma))
        history = np.asarray(mine["history"], dtype=float)
        n = len(V_star)
        if history.ndim != 2 or history.shape[1] != n or len(history) < 2:
            raise CheckFailed(f"history should stack V_0, V_1, ... as shape (K + 1, {n}), got {history.shape}")
        expect_close(history[0], np.zeros(n), "history[0] (V_0 starts at zero)")
        expect_close(history[-1], mine["V"], "history[-1] (the returned V)")
        for k in range(len(history) - 1):
            backup = (R + gamma * P @ history[k]).max(axis=1)
            expect_close(history[k + 1], backup, f"history[{k + 1}] (one Bellman backup of history[{k}]) on {case}")


@register("ex01_mdp.value_iteration", points=2, compare=_compare_value_iteration, difficulty=3)
def _probe_value_iteration(fn, rng):
    out = {}
    for case, m, gamma in _cases(rng):
        result = fn(m, gamma, _VI_TOL)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise CheckFailed("value_iteration should return a tuple (V, history)")
        # The MDP goes along: the compare solves it (in the grader's process, where V* is computed).
        out[case] = {"V": result[0], "history": result[1], "gamma": gamma, "P": m.P, "R": m.R}
    return out


def _compare_greedy_policy(got, want):
    for case, ref in want.items():
        policy = np.asarray(got[case]["policy"])
        Q = ref["R"] + ref["gamma"] * ref["P"] @ ref["V"]  # here, not in the child: see answers.py
        n_states, n_actions = Q.shape
        if policy.shape != (n_states,) or not np.issubdtype(policy.dtype, np.integer):
            raise CheckFailed(f"greedy_policy should return one integer action per state, shape "
                              f"({n_states},); got {policy.dtype} {policy.shape}")
        if policy.min() < 0 or policy.max() >= n_actions:
            raise CheckFailed(f"actions must be in [0, {n_actions}), got {policy.tolist()}")
        # Ties may go to any maximizing action: compare the Q-value reached, not the index.
        expect_close(Q[np.arange(n_states), policy], Q.max(axis=1),
                     f"Q(s, policy(s)) on {case} (should be max_a Q(s, a))")


@register("ex01_mdp.greedy_policy", points=1, compare=_compare_greedy_policy, difficulty=1)
def _probe_greedy_policy(fn, rng):
    out = {}
    for case, m, gamma in _cases(rng):
        V = rng.normal(size=m.n_states)
        policy = np.asarray(fn(m, V.copy(), gamma))
        if policy.dtype == object:
            raise CheckFailed(f"greedy_policy should return an integer array, got {policy.dtype}")
        out[case] = {"policy": policy, "P": m.P, "R": m.R, "V": V, "gamma": gamma}
    return out


@register("ex01_mdp.policy_evaluation", points=1, difficulty=2)
def _probe_policy_evaluation(fn, rng):
    out = {}
    for case, m, gamma in _cases(rng):
        policy = rng.integers(0, m.n_actions, size=m.n_states)
        out[f"V^pi of a random deterministic policy on {case}"] = fn(m, policy.copy(), gamma)
    return out


# --- section 5: learning from samples (Monte Carlo, TD(0), epsilon-greedy, Q-learning) ----------

@register("ex01_mdp.returns_to_go", points=1, difficulty=1)
def _probe_returns_to_go(fn, rng):
    out = {}
    for length, gamma in ((1, 0.9), (7, 0.9), (25, 0.99), (6, 0.0), (5, 1.0)):
        rewards = [float(r) for r in np.round(rng.normal(size=length), 3)]
        out[f"returns_to_go of {length} rewards, gamma={gamma:g}"] = np.asarray(fn(list(rewards), gamma), dtype=float)
    out["returns_to_go of an empty episode (shape (0,))"] = np.asarray(fn([], 0.9), dtype=float).reshape(-1)
    return out


def _unchanged(before, after, what):
    if not np.array_equal(before, after):
        raise CheckFailed(f"{what} changed its input table: work on a copy "
                          "(np.array(table, dtype=float)) and return it")


@register("ex01_mdp.td0_update", points=1, difficulty=1)
def _probe_td0_update(fn, rng):
    out = {}
    n = int(rng.integers(4, 9))
    for case, done in (("s' not terminal", False), ("s' terminal (done)", True)):
        for alpha, gamma in ((0.1, 0.9), (0.5, 0.99), (1.0, 0.0)):
            V = rng.normal(size=n)
            s, s2, r = int(rng.integers(n)), int(rng.integers(n)), float(rng.normal())
            before = V.copy()
            new = np.asarray(fn(V, s, r, s2, done, alpha, gamma), dtype=float)
            _unchanged(before, V, "td0_update")
            out[f"V after td0_update ({case}, alpha={alpha:g}, gamma={gamma:g})"] = new
    V = rng.normal(size=n)
    s = int(rng.integers(n))
    self_loop = fn(V.copy(), s, 1.0, s, False, 0.5, 0.9)
    out["V after td0_update with s' = s (a self-loop)"] = np.asarray(self_loop, dtype=float)
    return out


@register("ex01_mdp.epsilon_greedy", points=1, difficulty=1)
def _probe_epsilon_greedy(fn, rng):
    out = {}
    cases = [("no ties", rng.normal(size=4)), ("a tie for the best action", np.array([0.0, 2.0, 2.0, -1.0])),
             ("6 actions", rng.normal(size=6))]
    for label, q in cases:
        for epsilon in (0.0, 0.3, 1.0):
            gen = np.random.default_rng(int(rng.integers(2**31)))
            actions = [int(fn(q.copy(), epsilon, gen)) for _ in range(60)]
            out[f"60 actions with epsilon={epsilon:g} ({label}; one rng.random() per call, "
                f"then rng.integers(n) when exploring)"] = np.array(actions)
    return out


@register("ex01_mdp.q_learning_update", points=1, difficulty=1)
def _probe_q_learning_update(fn, rng):
    out = {}
    n, k = int(rng.integers(4, 8)), int(rng.integers(2, 5))
    for case, done in (("s' not terminal", False), ("s' terminal (done)", True)):
        for alpha, gamma in ((0.1, 0.9), (0.7, 0.99)):
            Q = rng.normal(size=(n, k))
            s, a, s2, r = int(rng.integers(n)), int(rng.integers(k)), int(rng.integers(n)), float(rng.normal())
            before = Q.copy()
            new = np.asarray(fn(Q, s, a, r, s2, done, alpha, gamma), dtype=float)
            _unchanged(before, Q, "q_learning_update")
            out[f"Q after q_learning_update ({case}, alpha={alpha:g}, gamma={gamma:g})"] = new
    return out


@register("ex01_mdp.semi_gradient_td0_update", points=1, difficulty=1)
def _probe_semi_gradient_td0_update(fn, rng):
    out = {}
    d = int(rng.integers(3, 7))
    for case, done in (("s' not terminal", False), ("s' terminal (done)", True)):
        for alpha, gamma in ((0.1, 0.9), (0.5, 0.99)):
            w, phi, phi_next = rng.normal(size=d), rng.normal(size=d), rng.normal(size=d)
            before = w.copy()
            new = np.asarray(fn(w, phi.copy(), phi_next.copy(), float(rng.normal()), done, alpha, gamma), dtype=float)
            _unchanged(before, w, "semi_gradient_td0_update")
            out[f"w after semi_gradient_td0_update ({case}, alpha={alpha:g}, gamma={gamma:g})"] = new
    one_hot = np.eye(d)
    w = rng.normal(size=d)
    out["w with one-hot features (must equal a TD(0) table update)"] = np.asarray(
        fn(w.copy(), one_hot[0], one_hot[1], 1.0, False, 0.5, 0.9), dtype=float)
    return out
