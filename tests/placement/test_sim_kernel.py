"""The simulator kernel's speed-ups against the brute force they replace.

Each fast path (cached staircases, binary searches, allocation-free rebuild, pruned
route DP) must give exactly (bit for bit) what the plain computation gives;
``benchmarks/sim_exactness.py`` checks the same end to end on whole simulations.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from splitopt.placement.sim_kernel import (
    MODE_PETALS,
    MODE_WS_RR,
    _build_staircase,
    _dp_route,
    _earliest,
    _earliest_st,
    _level_now,
    _rebuild,
    _route_cost,
    _stable_order,
    _stair_len,
    _staircase,
    _through_bounds,
)


def _state(rng, S, K, cap, t_max=10.0, grid=None):
    """Random reservations on S servers, rebuilt at time 0 as the kernel does."""
    res_s = np.zeros((S, K))
    res_e = np.zeros((S, K))
    res_x = np.zeros((S, K))
    res_n = np.zeros(S, dtype=np.int64)
    for j in range(S):
        n = int(rng.integers(0, K + 1))
        for i in range(n):
            s = rng.uniform(0, t_max) if grid is None else float(rng.integers(0, grid))
            d = rng.uniform(0.1, t_max) if grid is None else float(rng.integers(1, grid))
            res_s[j, i] = s
            res_e[j, i] = s + d
            res_x[j, i] = rng.uniform(0.05, 0.6) * cap[j]
        res_n[j] = n
    ev_p = np.zeros((S, 2 * K))
    ev_l = np.zeros((S, 2 * K))
    ev_n = np.zeros(S, dtype=np.int64)
    peak = np.zeros(S)
    cst_l = np.zeros((S, 2 * K + 1))
    cst_t = np.zeros((S, 2 * K + 1))
    cst_n = np.zeros(S, dtype=np.int64)
    scratch = (
        np.empty(2 * K),
        np.empty(2 * K),
        np.empty(2 * K, dtype=np.int64),
        np.empty(2 * K, dtype=np.int64),
    )
    for j in range(S):
        _rebuild(j, 0.0, res_s, res_e, res_x, res_n, ev_p, ev_l, ev_n, peak, *scratch)
        _build_staircase(j, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n)
    return ev_p, ev_l, ev_n, peak, cst_l, cst_t, cst_n


@pytest.mark.nojit
@pytest.mark.parametrize("seed", range(30))
def test_stable_order_is_numpys_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(0, 12))
    times = rng.integers(0, 6, 2 * k).astype(np.float64)  # many ties
    order = np.empty(2 * k, dtype=np.int64)
    tmp = np.empty(2 * k, dtype=np.int64)
    _stable_order(times, k, order, tmp)
    assert order.tolist() == np.argsort(times, kind="mergesort").tolist()


@pytest.mark.nojit
@pytest.mark.parametrize("seed", range(12))
def test_cached_staircase_and_searches_match_the_scans(seed):
    rng = np.random.default_rng(seed)
    S, K = 4, 6
    cap = rng.uniform(1.0, 3.0, S)
    grid = 8 if seed % 2 else None  # integer times: events at the query times
    ev_p, ev_l, ev_n, _, cst_l, cst_t, cst_n = _state(rng, S, K, cap, grid=grid)
    st_l = np.empty(2 * K + 1)
    st_t = np.empty(2 * K + 1)
    for j in range(S):
        times = [-1.0, 0.0, *ev_p[j, : ev_n[j]].tolist(), *rng.uniform(0, 20, 5).tolist()]
        for t in times:
            ns = _staircase(j, t, ev_p, ev_l, ev_n, st_l, st_t)
            assert _stair_len(j, t, cst_t, cst_n) == ns
            assert cst_l[j, :ns].tolist() == st_l[:ns].tolist()
            assert cst_t[j, :ns].tolist() == st_t[:ns].tolist()
            want = 0.0
            for i in range(ev_n[j] - 1, -1, -1):
                if ev_p[j, i] <= t:
                    want = ev_l[j, i]
                    break
            assert _level_now(j, t, ev_p, ev_l, ev_n) == want
            levels = [0.0, -1e-10, -1e-8, *ev_l[j, : ev_n[j]].tolist(), cap[j]]
            for theta in levels + [x - 1e-12 for x in levels] + [x + 1e-12 for x in levels]:
                a = _earliest(j, t, theta, ev_p, ev_l, ev_n)
                b = _earliest_st(j, t, theta, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n)
                assert a == b, (j, t, theta)


@pytest.mark.nojit
def test_earliest_st_with_a_residue_in_the_last_interval():
    """A tiny level left after the last end (rounding): the scan sees it, so must we."""
    ev_p = np.array([[1.0, 2.0, 3.0, 0.0]])
    ev_l = np.array([[0.5, 0.0, 1e-7, 0.0]])
    ev_n = np.array([3])
    cst_l = np.zeros((1, 5))
    cst_t = np.zeros((1, 5))
    cst_n = np.zeros(1, dtype=np.int64)
    _build_staircase(0, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n)
    for t in (0.0, 1.5, 2.5, 3.0, 4.0):
        for theta in (0.0, 5e-8, 0.2, 0.6):
            want = _earliest(0, t, theta, ev_p, ev_l, ev_n)
            assert _earliest_st(0, t, theta, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n) == want


def _placement(rng, S, L):
    first = np.zeros(S, dtype=np.int64)
    count = np.zeros(S, dtype=np.int64)
    for j in range(S):
        a = int(rng.integers(1, L + 1))
        first[j] = a
        count[j] = int(rng.integers(1, L + 2 - a))
    first[0], count[0] = 1, L  # some route always exists
    return first, count


@pytest.mark.nojit
@pytest.mark.parametrize("seed", range(8))
def test_through_bounds_are_the_least_memory_blind_costs_through_each_server(seed):
    rng = np.random.default_rng(seed)
    S, L, C = 5, 5, 2
    first, count = _placement(rng, S, L)
    r_hop = rng.uniform(0.1, 1.0, (C, S))
    r_block = rng.uniform(0.1, 1.0, (C, S))
    r_sink = rng.uniform(0.0, 0.5, (C, S))
    order = np.argsort(first + count, kind="mergesort")
    lb = _through_bounds(first, count, order, r_hop, r_block, r_sink, L)
    best = np.full((C, S), np.inf)
    # every route: a sequence of servers with entry blocks covering 1..L
    for hops in range(1, S + 1):
        for seq in itertools.permutations(range(S), hops):
            for c in range(C):
                b, cost = 1, 0.0
                for j in seq:
                    e = first[j] + count[j]
                    if not (first[j] <= b < e):
                        cost = np.inf
                        break
                    cost += (e - b) * r_block[c, j] + r_hop[c, j]
                    if e == L + 1:
                        cost += r_sink[c, j]
                    b = e
                if b != L + 1 or cost == np.inf:
                    continue
                for j in seq:
                    best[c, j] = min(best[c, j], cost)
    finite = np.isfinite(best)
    assert (np.isfinite(lb) == finite).all()
    assert np.allclose(lb[finite], best[finite], rtol=1e-12)


def _pruned_vs_unpruned(seed, mode):
    """Asserts the pruned DP's route is the unpruned one; returns how many servers the
    bound skipped."""
    rng = np.random.default_rng(seed)
    S, L, K = 12, 10, 5
    first, count = _placement(rng, S, L)
    cap = rng.uniform(2.0, 4.0, S)
    sc = 0.2
    C = 1
    r_hop = rng.uniform(0.1, 1.0, (C, S))
    r_block = rng.uniform(0.1, 1.0, (C, S))
    r_sink = rng.uniform(0.0, 0.5, (C, S))
    order = np.argsort(first + count, kind="mergesort")
    lb = _through_bounds(first, count, order, r_hop, r_block, r_sink, L)
    t = float(rng.uniform(0, 5))
    outs = []
    for prune in (False, True):
        ev_p, ev_l, ev_n, peak, cst_l, cst_t, cst_n = _state(np.random.default_rng(seed), S, K, cap)
        best = np.empty(L + 2)
        best_from = np.empty(L + 2, dtype=np.int64)
        pred_b = np.zeros(S, dtype=np.int64)
        route = np.empty(S, dtype=np.int64)
        reached = np.empty(L + 2, dtype=np.int64)
        args = (t, 0, sc, first, count, cap, order, r_hop, r_block, r_sink, mode, 10.0, L, peak)
        ub = np.inf
        if prune:
            # the unpruned route's own cost: the tightest upper bound there is
            ref_hops, ref_route, ref_pred, _ = outs[0]
            ub = _route_cost(
                t, 0, sc, ref_hops, ref_route, np.array([ref_pred[j] for j in ref_route]),
                first, count, cap, r_hop, r_block, r_sink, mode, 10.0, L,
                peak, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n,
            )  # fmt: skip
            assert np.isfinite(ub)
        hops = _dp_route(
            *args, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n, lb, ub,
            best, best_from, pred_b, route, reached,
        )  # fmt: skip
        outs.append((hops, route[:hops].copy(), pred_b.copy(), peak.copy()))
    (h0, r0, p0, k0), (h1, r1, p1, k1) = outs
    assert h0 == h1 > 0
    assert r0.tolist() == r1.tolist()
    assert [p0[j] for j in r0] == [p1[j] for j in r1]
    assert k0.tolist() == k1.tolist()  # the peaks the DP lowers, too
    return int((lb[0] > ub * (1 + 1e-9) + 1e-12).sum())


@pytest.mark.nojit
@pytest.mark.parametrize("mode", [MODE_WS_RR, MODE_PETALS])
def test_pruned_dp_gives_the_unpruned_route(mode):
    """With the upper bound of a route's cost (as the kernel's), the DP returns the very
    route (servers, entry blocks) it returns without pruning; and the bound does skip
    servers in these cases (else this tested nothing)."""
    skipped = [_pruned_vs_unpruned(seed, mode) for seed in range(12)]
    assert sum(skipped) > 0, skipped


def test_route_cost_is_what_the_dp_pays():
    """The upper bound is the DP's own cost of the route it returns (rtol 1e-12)."""
    rng = np.random.default_rng(3)
    S, L, K = 10, 8, 5
    first, count = _placement(rng, S, L)
    cap = rng.uniform(2.0, 4.0, S)
    r_hop = rng.uniform(0.1, 1.0, (1, S))
    r_block = rng.uniform(0.1, 1.0, (1, S))
    r_sink = rng.uniform(0.0, 0.5, (1, S))
    order = np.argsort(first + count, kind="mergesort")
    lb = _through_bounds(first, count, order, r_hop, r_block, r_sink, L)
    for mode in (MODE_WS_RR, MODE_PETALS):
        ev_p, ev_l, ev_n, peak, cst_l, cst_t, cst_n = _state(rng, S, K, cap)
        best = np.empty(L + 2)
        best_from = np.empty(L + 2, dtype=np.int64)
        pred_b = np.zeros(S, dtype=np.int64)
        route = np.empty(S, dtype=np.int64)
        reached = np.empty(L + 2, dtype=np.int64)
        t = 1.0
        hops = _dp_route(
            t, 0, 0.2, first, count, cap, order, r_hop, r_block, r_sink, mode, 10.0, L, peak,
            ev_p, ev_l, ev_n, cst_l, cst_t, cst_n, lb, np.inf,
            best, best_from, pred_b, route, reached,
        )  # fmt: skip
        assert hops > 0
        ent = np.array([pred_b[j] for j in route[:hops]])
        cost = _route_cost(
            t, 0, 0.2, hops, route[:hops], ent, first, count, cap, r_hop, r_block, r_sink,
            mode, 10.0, L, peak, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n,
        )  # fmt: skip
        assert cost == pytest.approx(best[L + 1], rel=1e-12)
