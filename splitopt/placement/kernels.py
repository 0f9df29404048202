"""numba kernels of the placement heuristics (pure functions on arrays, cache=True).

* :func:`lex_min_window` — the start of the length-m window whose *sorted* values are
  lexicographically smallest (first on ties): PETALS's ``_choose_best_start`` and
  CG-BP's second phase. Comparing sorted windows equals comparing their value
  histograms from the smallest value up (the window with more copies of the first
  differing value is smaller), so a sliding histogram over the ranks of the values
  gives O(L x distinct values) instead of sorting every window.
* :func:`cg_greedy_kernel` — CG-BP's greedy loop (``CG_BP.m``).
* :func:`petals_place_kernel` — servers joining one by one (``block_selection.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lex_min_window(values, m):
    """0-based start of the window ``values[a:a+m]`` with the lexicographically
    smallest sorted contents; the first such window on ties."""
    L = values.shape[0]
    if m >= L:
        return 0
    srt = np.sort(values)
    distinct = np.empty(L)
    K = 0
    for i in range(L):
        if K == 0 or srt[i] != distinct[K - 1]:
            distinct[K] = srt[i]
            K += 1
    rank = np.searchsorted(distinct[:K], values)
    hist = np.zeros(K, dtype=np.int64)
    for i in range(m):
        hist[rank[i]] += 1
    best = hist.copy()
    arg = 0
    for a in range(1, L - m + 1):
        hist[rank[a - 1]] -= 1
        hist[rank[a + m - 1]] += 1
        for k in range(K):
            if hist[k] != best[k]:
                if hist[k] > best[k]:  # more copies of a smaller value: smaller window
                    best[:] = hist
                    arg = a
                break
    return arg


@njit(cache=True)
def cg_greedy_kernel(counts, t_tilde, order, sessions, R, max_t, L):
    """CG-BP's placement loop; returns (first (1-based, 0 = none), K or 0, Cb)."""
    S = counts.shape[0]
    first = np.zeros(S, dtype=np.int64)
    Cb = np.zeros(L)
    Tb = np.full(L, R * max_t)
    K = 0
    for i in range(order.shape[0]):
        j = order[i]
        m = counts[j]
        under_any = False
        for b in range(L):
            if Cb[b] < R:
                under_any = True
                break
        a_best = 0
        if under_any:
            best_sum = 0.0
            for a in range(L - m + 1):
                under = False
                s = 0.0
                for b in range(a, a + m):
                    s += Tb[b]
                    if Cb[b] < R:
                        under = True
                if under and s > best_sum:
                    best_sum = s
                    a_best = a
        else:
            a_best = lex_min_window(Cb, m)
        first[j] = a_best + 1
        gain = max_t - t_tilde[j]
        for b in range(a_best, a_best + m):
            need = R - Cb[b]
            if need < 0:
                need = 0.0
            Tb[b] -= gain * min(need, sessions[j])
            Cb[b] += sessions[j]
        if K == 0:
            full = True
            for b in range(L):
                if Cb[b] < R:
                    full = False
                    break
            if full:
                K = i + 1
    return first, K, Cb


@njit(cache=True)
def petals_place_kernel(order, counts, throughput, L):
    """Servers join in ``order``; each takes :func:`lex_min_window`'s window of the
    per-block throughput sums. Returns first blocks (1-based, 0 = none)."""
    S = counts.shape[0]
    first = np.zeros(S, dtype=np.int64)
    tp = np.zeros(L)
    for i in range(order.shape[0]):
        j = order[i]
        m = counts[j]
        if m < 1:
            continue
        a = lex_min_window(tp, m)
        first[j] = a + 1
        for b in range(a, a + m):
            tp[b] += throughput[j]
    return first


__all__ = ["cg_greedy_kernel", "lex_min_window", "petals_place_kernel"]
