"""The placement kernels against direct transliterations of the sources."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.placement.kernels import cg_greedy_kernel, lex_min_window


def ref_lex_min_window(values: np.ndarray, m: int) -> int:
    """``min((sorted(values[i:i+m]), i) ...)[-1]`` as in petals' block_selection.py."""
    opts = ((sorted(values[i : i + m].tolist()), i) for i in range(len(values) - m + 1))
    return min(opts)[-1]


def ref_cg_greedy(counts, t_tilde, order, sessions, R, max_t, L):
    """CG_BP.m's loop, written with Python lists (windows 0-based)."""
    Cb, Tb = [0.0] * L, [R * max_t] * L
    first = [0] * len(counts)
    K = 0
    for i, j in enumerate(order):
        m = int(counts[j])
        if any(c < R for c in Cb):
            a_best, best = 0, 0.0
            for a in range(L - m + 1):
                s = sum(Tb[a : a + m])
                if any(c < R for c in Cb[a : a + m]) and s > best:
                    a_best, best = a, s
        else:
            a_best = ref_lex_min_window(np.array(Cb), m)
        first[j] = a_best + 1
        for b in range(a_best, a_best + m):
            Tb[b] -= (max_t - t_tilde[j]) * min(max(R - Cb[b], 0), sessions[j])
            Cb[b] += sessions[j]
        if K == 0 and all(c >= R for c in Cb):
            K = i + 1
    return first, K, Cb


def _lex_cases(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(n):
        L = int(rng.integers(1, 12))
        m = int(rng.integers(1, L + 1))
        values = rng.integers(0, 4, L).astype(float)  # many ties
        assert lex_min_window(values, m) == ref_lex_min_window(values, m)


def test_lex_min_window() -> None:
    _lex_cases(0, 2000)


@pytest.mark.nojit
def test_lex_min_window_small() -> None:
    _lex_cases(1, 200)


@pytest.mark.parametrize("seed", range(20))
def test_cg_greedy_kernel(seed: int) -> None:
    rng = np.random.default_rng(seed)
    S, L = int(rng.integers(1, 12)), int(rng.integers(1, 15))
    counts = rng.integers(1, L + 1, S)
    t_tilde = rng.random(S)
    order = np.argsort(t_tilde, kind="mergesort")
    sessions = rng.integers(0, 4, S).astype(float)
    R, max_t = float(rng.integers(1, 4)), float(t_tilde.max() + 1)
    first, K, Cb = cg_greedy_kernel(counts, t_tilde, order, sessions, R, max_t, L)
    want = ref_cg_greedy(counts, t_tilde, order, sessions, R, max_t, L)
    assert first.tolist() == want[0] and want[1] == K and Cb.tolist() == want[2]
