"""The local search of ``dp``'s fallback (:mod:`splitopt.solvers.local_search`) and the
lower bound the fallback reports: feasible, never worse than its start, never better
than brute force, and a bound no larger than the optimum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.evaluate import RTOL, score
from splitopt.solvers.baselines import Greedy, brute_force
from splitopt.solvers.dp import DPStopped, _solve_window, label_fallback, solve_labels
from splitopt.solvers.local_search import _window_chain, improve, polish, window_search
from tests.conftest import random_chains


def _budgeted(seed: int, n: int, max_layers: int) -> list:
    out = []
    for c in random_chains(seed, n, integer=False, max_layers=max_layers):
        out.append(c.replace(memory_budget_bytes=0.4 * float(c.client_memory_bytes.sum())))
    return out


def _starts(c) -> list[np.ndarray]:
    """Feasible starting placements: greedy's and all-server where feasible."""
    xs = []
    g = Greedy().solve_chain(c).placement
    if g is not None:
        xs.append(g)
    s = np.ones(c.num_layers, bool)
    if score(c, s).feasible:
        xs.append(s)
    return xs


@pytest.mark.nojit
def test_flips_keep_feasibility_and_never_beat_brute_force() -> None:
    for c in _budgeted(5, 12, 8):
        opt = brute_force(c)[0]
        for x in _starts(c):
            w0 = score(c, x).server_work
            w, y = improve(c, x)
            s = score(c, y)
            assert s.feasible and math.isclose(s.server_work, w)
            assert w <= w0 and w >= opt * (1 - 1e-9) - 1e-9


def test_windows_reach_the_optimum_of_a_chain_they_cover_and_stay_feasible() -> None:
    for c in _budgeted(6, 24, 10):
        opt = brute_force(c)[0]
        for x in _starts(c):
            w0 = score(c, x).server_work
            # windows of 4 layers: a local search, feasible and no worse than its start
            w, y = window_search(c, x, _solve_window, width=4)
            assert score(c, y).feasible and opt * (1 - 1e-9) - 1e-9 <= w <= w0
            # one window covering the chain is the label DP itself: the optimum
            w, y = polish(c, x, _solve_window)
            assert score(c, y).feasible and w >= opt * (1 - 1e-9) - 1e-9


def test_a_window_chain_keeps_the_slack_of_the_whole_chain() -> None:
    for c in _budgeted(7, 20, 12):
        for x in _starts(c):
            L = c.num_layers
            if L < 4:
                continue
            a, b = 1, L - 1
            sub = _window_chain(c, x, a, b)
            assert sub is not None
            whole, part = score(c, x), score(sub, x[a:b])
            # the window's SLA (with the DP's tolerance) leaves what the chain's leaves
            lhs = sub.sla_s * (1 + RTOL) - part.latency_s
            rhs = c.sla_s * (1 + RTOL) - whole.latency_s
            assert math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-12)
            mb = c.memory_budget_bytes
            assert sub.memory_budget_bytes is not None and mb is not None
            lhs = sub.memory_budget_bytes * (1 + RTOL) - part.client_memory_bytes
            rhs = mb * (1 + RTOL) - whole.client_memory_bytes
            assert math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-6)


def test_the_bound_of_a_stopped_label_dp_is_a_lower_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.chains import block_chain
    from splitopt.solvers import dp

    def stop(*_args: object, **_kw: object) -> None:
        raise DPStopped("time", 0)

    # the bounded runs stop at once: what the fallback answers rests on the root's
    # bounds alone (the cheap passes still run and need bounds on these chains)
    monkeypatch.setattr(dp, "_run_labels", stop)
    monkeypatch.setattr(dp, "QUICK_AFTER_LABELS", 0)  # nor does the quick pass decide
    chains = [block_chain(L, memory=True, seed=s, jitter=0.1) for L in (16, 18) for s in (1, 5)]
    chains += _budgeted(8, 24, 12)
    bounded = 0
    for c in chains:
        opt = brute_force(c)[0]
        try:
            solve_labels(c)
        except DPStopped as exc:
            if exc.bound is None:
                continue
            bounded += 1
            assert exc.bound <= opt
            ans = label_fallback(c, exc)
            assert ans.placement is not None and ans.bound is not None
            w = score(c, ans.placement).server_work
            assert score(c, ans.placement).feasible
            assert ans.bound <= opt <= w * (1 + 1e-12)
            if ans.status == "optimal":
                assert math.isclose(w, opt, rel_tol=1e-9)
    assert bounded >= 2


def test_dp_on_many_near_identical_blocks_answers_with_a_bound_and_beats_its_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.chains import block_chain
    from splitopt.solvers import dp, get_solver
    from splitopt.solvers.dp import _incumbent

    # no gap search (it certifies this chain): the labels run out of time
    monkeypatch.setattr(dp, "QUICK_LABELS", 2**62)

    c = block_chain(48, memory=True, seed=0, jitter=0.1)
    ans = get_solver("dp").solve_chain(c, 0.5)
    assert "time limit reached" in (ans.message or "")
    assert ans.status == "feasible" and ans.placement is not None and ans.bound is not None
    w = score(c, ans.placement).server_work
    assert ans.bound <= w
    g = Greedy().solve_chain(c).placement
    assert g is not None
    inc_w, _ = _incumbent(c)
    assert w <= min(score(c, g).server_work, inc_w)


def test_a_time_limit_is_shared_among_the_chains_dp_cannot_certify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.chains import block_chain
    from splitopt.solvers import dp, get_solver
    from tests.conftest import as_problem

    monkeypatch.setattr(dp, "QUICK_LABELS", 2**62)  # no gap search: it certifies these

    chains = [block_chain(48, memory=True, seed=s, jitter=0.1) for s in (0, 1)]
    r = get_solver("dp", time_limit=1.0).solve(as_problem(chains))
    # the first chain no longer takes the whole limit: both get an answer with a bound
    assert list(r.statuses) == ["feasible", "feasible"]
    assert r.bounds is not None and all(b is not None for b in r.bounds)
    for c, p in zip(chains, r.placements, strict=True):
        assert p is not None and score(c, p).feasible


def _window_pair_brute(c, x: np.ndarray, a1: int, a2: int, width: int) -> float:
    """Least server work over every joint placement of the windows a1.. and a2..
    (``width`` layers each), the rest of ``x`` fixed, by the evaluator."""
    best = math.inf
    for c1 in range(1 << width):
        for c2 in range(1 << width):
            y = x.copy()
            y[a1 : a1 + width] = (c1 >> np.arange(width)) & 1 == 1
            y[a2 : a2 + width] = (c2 >> np.arange(width)) & 1 == 1
            s = score(c, y)
            if s.feasible:
                best = min(best, s.server_work)
    return best


def _window_sums(c, x: np.ndarray, a: int, b: int) -> tuple[float, float, float]:
    """Latency (layers a..b-1 and boundaries a..b), client memory and server work of
    the window a..b of placement ``x`` (0/1), summed layer by layer."""
    from splitopt.solvers.chain_arrays import kernel_args

    cl, sv, up, down, w, m, st, en, _ = kernel_args(c)
    p = st if a == 0 else int(x[a - 1])
    t = mem = wk = 0.0
    for i in range(a, b):
        q = int(x[i])
        t += sv[i] if q else cl[i]
        wk += w[i] if q else 0.0
        mem += 0.0 if q else m[i]
        t += up[i] if (p, q) == (0, 1) else down[i] if (p, q) == (1, 0) else 0
        p = q
    nxt = en if b == c.num_layers else int(x[b])
    t += up[b] if (p, nxt) == (0, 1) else down[b] if (p, nxt) == (1, 0) else 0
    return t, mem, wk


@pytest.mark.nojit
def test_window_tables_are_each_placements_own_sums_in_a_stable_memory_order() -> None:
    """kernels._window_moves (built by extending the placements of a window's first
    layers) gives each placement the changes its own sums give, to the last bit;
    kernels._window_order lists the placements as a stable sort of their client
    memory does, so the pair moves' tables are sorted for any data."""
    from benchmarks.chains import block_chain
    from splitopt.solvers.chain_arrays import kernel_args
    from splitopt.solvers.kernels import _window_moves, _window_order

    rng = np.random.default_rng(7)
    chains = [block_chain(12, memory=True, seed=s, jitter=j) for s in range(2) for j in (0, 0.1)]
    chains += [c for c in _budgeted(8, 20, 12) if c.num_layers >= 6]
    checked = 0
    for c in chains:
        L = c.num_layers
        x = (rng.random(L) < 0.5).astype(np.uint8)
        for a, b in ((0, L), (1, min(L, 6)), (L - 3, L)):
            n = 1 << (b - a)
            dt, dm, dw = np.empty(n), np.empty(n), np.empty(n)
            args = kernel_args(c)[:8]
            _window_moves(x, a, b, *args, dt, dm, dw)
            t0, m0, w0 = _window_sums(c, x, a, b)
            mem_of = np.empty(n)
            for code in range(n):
                y = x.copy()
                y[a:b] = (code >> np.arange(b - a)) & 1
                t, mem, wk = _window_sums(c, y, a, b)
                assert (dt[code], dm[code], dw[code]) == (t - t0, mem - m0, wk - w0)
                mem_of[code] = mem
            order, msort = np.empty(n, np.int64), np.empty(n)
            half = max(1, n // 2)
            _window_order(a, b - a, args[5], order, msort, np.empty(half, np.int64), np.empty(half))
            assert np.array_equal(order, np.argsort(mem_of, kind="stable"))
            assert np.array_equal(msort, mem_of[order])
            checked += 1
    assert checked >= 12


@pytest.mark.nojit
def test_a_pair_move_is_the_best_joint_placement_of_its_two_windows() -> None:
    """With every placement of the second window scanned, one move of
    kernels.pair_sweeps is exact for any data: brute force over both windows."""
    from benchmarks.chains import block_chain
    from splitopt.solvers.chain_arrays import kernel_args
    from splitopt.solvers.kernels import pair_sweeps

    chains = [block_chain(12, memory=True, seed=s, jitter=0.1) for s in range(3)]
    chains += [c for c in _budgeted(9, 40, 12) if c.num_layers == 12]
    width, win_a = 4, np.array([1, 7])
    moved = 0
    for c in chains:
        for x in _starts(c):
            w0 = score(c, x).server_work
            mb = c.memory_budget_bytes
            y, moves = pair_sweeps(
                *kernel_args(c), mb * (1 + RTOL), x.astype(np.uint8), win_a, width,
                1 << width, 1, -math.inf, math.inf,
            )  # fmt: skip
            ref = _window_pair_brute(c, x, 1, 7, width)
            s = score(c, y == 1)
            assert s.feasible
            if ref < w0 * (1 - 1e-12):
                moved += 1
                assert moves == 1 and math.isclose(s.server_work, ref, rel_tol=1e-12)
            else:
                assert moves == 0 and np.array_equal(y == 1, x)
    assert moved >= 3


@pytest.mark.nojit
def test_pair_search_keeps_feasibility_and_never_beats_brute_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.chains import block_chain
    from splitopt.solvers import local_search

    monkeypatch.setattr(local_search, "PAIR_WIDTHS", (3, 4))
    chains = [block_chain(14, memory=True, seed=s, jitter=j) for s in range(2) for j in (0.01, 0.1)]
    chains += _budgeted(10, 24, 14)
    for c in chains:
        opt = brute_force(c)[0]
        for x in _starts(c):
            w0 = score(c, x).server_work
            w, y = local_search.pair_search(c, x)
            s = score(c, y)
            assert s.feasible and s.server_work == w
            assert opt * (1 - 1e-9) - 1e-9 <= w <= w0


def test_pair_search_fills_a_budget_of_near_identical_blocks_to_the_lower_bound() -> None:
    """The case it is for: 80 blocks, 10 % jitter; from greedy's placement it meets
    the exact Lagrangian bound (a certificate of optimality) within its windows."""
    from benchmarks.chains import block_chain
    from splitopt.solvers.dp import _lagrange, dual_margin, meets
    from splitopt.solvers.local_search import pair_search

    met = 0
    for s in range(3):
        c = block_chain(80, memory=True, seed=s, jitter=0.1)
        budget = c.memory_budget_bytes * (1 + RTOL)
        mult, _, dual = _lagrange(c, budget)
        lb = dual - dual_margin(c, budget, mult[0], dual)
        g = Greedy().solve_chain(c).placement
        w0 = score(c, g).server_work
        w, y = pair_search(c, g, None, lb + RTOL * lb)
        assert score(c, y).feasible and w <= w0
        met += meets(w, lb)
    assert met >= 2


def test_dp_certifies_near_identical_blocks_where_the_labels_alone_cannot() -> None:
    """80 blocks with 10 % jitter under a binding budget (a subset sum the labels and
    HiGHS cannot close in seconds): dp's gap search meets the exact bound. Its
    answer is no worse than what HiGHS finds in a second."""
    from benchmarks.chains import block_chain
    from splitopt.solvers import available, get_solver

    c = block_chain(80, memory=True, seed=2, jitter=0.1)
    ans = get_solver("dp").solve_chain(c, 5.0)
    assert ans.status == "optimal" and ans.placement is not None
    s = score(c, ans.placement)
    assert s.feasible
    if available("ilp-highs"):
        h = get_solver("ilp-highs").solve_chain(c, 1.0)
        if h.placement is not None and score(c, h.placement).feasible:
            assert s.server_work <= score(c, h.placement).server_work * (1 + RTOL)
        if h.bound is not None:
            assert s.server_work >= h.bound * (1 - 1e-6)
