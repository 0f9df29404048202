"""The default ``dp`` (exact labels with Lagrangian bounds), ``dp-grid`` (the old
grid ``dp``) and the replay of solution files written before the switch."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import splitopt
from splitopt.cli import main
from splitopt.errors import SolverError
from splitopt.evaluate import RTOL
from splitopt.formats import write_problem
from splitopt.formats.solution_file import replay_solver
from splitopt.solvers import get_solver
from splitopt.solvers.baselines import brute_force
from splitopt.solvers.dp import DP, GridDP, _lagrange, solve_labels
from tests.conftest import as_problem, random_chains


def _agree(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return math.isinf(a) and math.isinf(b)
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)


@pytest.mark.nojit
def test_dp_is_exact_by_default_and_the_grid_dp_with_ticks() -> None:
    d = get_solver("dp")
    assert isinstance(d, DP) and d.describe_options() == {"exact": True}
    g = get_solver("dp", grid=300, bound=True)
    assert isinstance(g, GridDP) and g.name == "dp-grid"
    assert g.describe_options() == {"grid": 300, "bound": True}
    assert get_solver("dp", exact=True).describe_options() == {"exact": True}
    with pytest.raises(SolverError):
        get_solver("dp", exact=True, grid=10)
    with pytest.raises(SolverError, match="dp-grid"):
        get_solver("dp", exact=False)


@pytest.mark.nojit
def test_old_dp_files_replay_as_the_grid_dp() -> None:
    assert replay_solver("dp", {}) == "dp-grid"
    assert replay_solver("dp", {"grid": 500}) == "dp-grid"
    assert replay_solver("dp", {"exact": True}) == "dp"
    assert replay_solver("dp-exact", {}) == "dp-exact"
    assert replay_solver("greedy", {}) == "greedy"


def test_old_dp_solution_file_replays(tmp_path, capsys) -> None:
    problem = as_problem(random_chains(5, 6, integer=False), name="old-file")
    path = tmp_path / "p.json"
    write_problem(problem, path)
    sol = tmp_path / "old.json"
    assert main(["solve", str(path), "--solver", "dp-grid", "--json", str(sol)]) == 0
    doc = json.loads(sol.read_text())
    doc["solver"] = "dp"  # what the grid DP wrote under its old name
    sol.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["solve", str(path), "--replay", str(sol)]) == 0
    assert "dp-grid with default options gives the same placements" in capsys.readouterr().out
    new = tmp_path / "new.json"
    assert main(["solve", str(path), "--json", str(new)]) == 0
    d = json.loads(new.read_text())
    assert d["solver"] == "dp" and d["options"] == {"exact": True}
    assert main(["solve", str(path), "--replay", str(new)]) == 0


@pytest.mark.nojit
def test_dp_agrees_with_brute_force_under_memory_budgets() -> None:
    from benchmarks.chains import block_chain

    chains = [c for c in random_chains(3, 12, integer=False, max_layers=9)]
    chains = [
        c.replace(memory_budget_bytes=0.4 * float(c.client_memory_bytes.sum())) for c in chains
    ]
    chains += [block_chain(8, memory=True, seed=i, jitter=0.05) for i in range(3)]
    res = splitopt.solve(as_problem(chains), "dp")
    for i, c in enumerate(chains):
        ref = brute_force(c)[0]
        w = res.work_array()[i]
        w = math.inf if math.isnan(w) else float(w)
        assert _agree(w, ref), (i, res.statuses[i], w, ref)
        assert res.statuses[i] == ("infeasible" if math.isinf(ref) else "optimal")


@pytest.mark.nojit
def test_lagrangian_dual_is_a_lower_bound() -> None:
    from benchmarks.chains import block_chain

    chains = [
        c.replace(memory_budget_bytes=0.3 * float(c.client_memory_bytes.sum()))
        for c in random_chains(7, 10, integer=False, max_layers=9)
    ] + [block_chain(9, memory=True, seed=i, jitter=0.1) for i in range(3)]
    for c in chains:
        ref = brute_force(c)[0]
        mult, rest, dual = _lagrange(c, c.memory_budget_bytes * (1 + RTOL))
        assert mult.shape == (2, 2) and rest.shape == (2, c.num_layers, 2)
        assert np.all(mult >= 0)
        if math.isfinite(ref):
            assert dual <= ref * (1 + 1e-9) + 1e-9, (dual, ref)
        best, _, _ = solve_labels(c)
        assert _agree(best, ref)


def _linear_relaxation(c, budget: float) -> float:
    """The LP of the shortest path over (layer, location) arcs with the SLA and the
    memory budget as side constraints (scipy's HiGHS): what the exact Lagrangian
    dual must equal."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    from splitopt.solvers.chain_arrays import kernel_args

    client, server, up, down, work, mem, start, end, sla = kernel_args(c)
    L = c.num_layers

    def sw(p: int, q: int, b: int) -> float:
        return float(up[b]) if (p, q) == (0, 1) else float(down[b]) if (p, q) == (1, 0) else 0.0

    nv = 4 * L + 2  # arcs (layer n, location before, location of n); two end arcs
    cost, lat, mm = np.zeros(nv), np.zeros(nv), np.zeros(nv)
    for n in range(L):
        for q in range(2):
            for r in range(2):
                k = 4 * n + 2 * q + r
                cost[k] = work[n] if r else 0.0
                lat[k] = (server[n] if r else client[n]) + sw(q, r, n)
                mm[k] = 0.0 if r else mem[n]
    for q in range(2):
        lat[4 * L + q] = sw(q, end, L)
    rows, cols, vals, rhs = [], [], [], []
    for q in range(2):  # one unit of flow leaves the start location
        for r in range(2):
            rows.append(q), cols.append(2 * q + r), vals.append(1.0)
        rhs.append(1.0 if q == start else 0.0)
    row = 2
    for n in range(L):
        for r in range(2):
            for q in range(2):
                rows.append(row), cols.append(4 * n + 2 * q + r), vals.append(1.0)
            outs = [4 * (n + 1) + 2 * r + t for t in range(2)] if n + 1 < L else [4 * L + r]
            for k in outs:
                rows.append(row), cols.append(k), vals.append(-1.0)
            rhs.append(0.0)
            row += 1
    eq = coo_matrix((vals, (rows, cols)), shape=(row, nv)).tocsr()
    res = linprog(
        cost, A_ub=np.vstack([lat, mm]), b_ub=[sla, budget], A_eq=eq, b_eq=rhs, method="highs"
    )
    return float(res.fun) if res.status == 0 else math.inf


def test_the_exact_dual_equals_the_linear_relaxation() -> None:
    """kernels.lagrange_tables maximises the two-multiplier dual exactly: its value
    is the LP's (to the LP solver's tolerance), on data over many magnitudes."""
    from benchmarks.chains import block_chain

    chains = [
        c.replace(memory_budget_bytes=f * float(c.client_memory_bytes.sum()))
        for f in (0.2, 0.5)
        for c in random_chains(12, 16, integer=False, max_layers=16)
    ]
    chains += [
        block_chain(L, memory=True, seed=s, jitter=j)
        for L in (12, 40)
        for s in (0, 1)
        for j in (0, 0.1)
    ]
    compared = 0
    for c in chains:
        budget = c.memory_budget_bytes * (1 + RTOL)
        _, _, dual = _lagrange(c, budget)
        lp = _linear_relaxation(c, budget)
        if not math.isfinite(lp):
            continue
        compared += 1
        assert abs(dual - lp) <= 1e-7 * max(abs(lp), 1.0), (dual, lp)
    assert compared >= 30


@pytest.mark.nojit
def test_a_placement_that_meets_the_bound_is_optimal_as_brute_force_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """solve_labels' gap search (_close_gap, forced at once by one-label caps): what it
    certifies, and what the labels find after it, agree with brute force."""
    from benchmarks.chains import block_chain
    from splitopt.solvers import dp, local_search

    for name in (
        "QUICK_LABELS",
        "UNBOUNDED_FIRST_LABELS",
        "TARGET_LABELS",
        "LATENCY_FIRST_LABELS",
        "LATENCY_PROBE_LABELS",
        "QUICK_PASS_MAX_LAYERS",
    ):
        monkeypatch.setattr(dp, name, 1)
    monkeypatch.setattr(local_search, "PAIR_WIDTHS", (3, 4))
    calls: list[bool] = []
    close = dp._close_gap

    def spy(c, inc, w_inc, lb, deadline):  # type: ignore[no-untyped-def]
        w, x = close(c, inc, w_inc, lb, deadline)
        calls.append(dp.meets(w, lb))
        return w, x

    monkeypatch.setattr(dp, "_close_gap", spy)
    chains = [block_chain(14, memory=True, seed=s, jitter=j) for s in range(3) for j in (0.01, 0.1)]
    chains += [
        c.replace(memory_budget_bytes=0.4 * float(c.client_memory_bytes.sum()))
        for c in random_chains(13, 40, integer=False, max_layers=14)
    ]
    for c in chains:
        ref = brute_force(c)[0]
        best, _, _ = solve_labels(c)
        assert _agree(best, ref), (best, ref)
    assert len(calls) >= 10


@pytest.mark.nojit
def test_bounded_latency_labels_agree_with_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a budget (or with one every placement fits), the (latency, work)
    labels pruned by the Lagrangian bound against the SLA-priced incumbent
    (_latency_labels, forced at once by a one-label first pass) agree with brute
    force, with an upper bound ``ub`` too; with a budget, so does the latency-first
    pass that goes on bounded past its cap (its optimum where that fits)."""
    from splitopt.solvers import dp

    monkeypatch.setattr(dp, "LATENCY_ONLY_FIRST_LABELS", 1)
    monkeypatch.setattr(dp, "LATENCY_PROBE_LABELS", 1)
    monkeypatch.setattr(dp, "UNBOUNDED_FIRST_LABELS", 1)
    calls: list[int] = []
    bounded = dp._latency_labels

    def spy(c, arrays, ub, cap, dl):  # type: ignore[no-untyped-def]
        calls.append(c.num_layers)
        return bounded(c, arrays, ub, cap, dl)

    monkeypatch.setattr(dp, "_latency_labels", spy)
    chains = list(random_chains(17, 30, integer=False, max_layers=13))
    chains += [
        c.replace(memory_budget_bytes=2.0 * float(c.client_memory_bytes.sum()))
        for c in random_chains(18, 10, integer=True, max_layers=12)
    ]
    # with a budget the (latency, work) optimum may or may not fit: where it
    # does it is the answer, where not the budget's own passes decide
    chains += [
        c.replace(memory_budget_bytes=f * float(c.client_memory_bytes.sum()))
        for f in (0.3, 0.7, 0.95)
        for c in random_chains(19, 12, integer=False, max_layers=13)
    ]
    for c in chains:
        ref = brute_force(c)[0]
        best, x, _ = solve_labels(c)
        assert _agree(best, ref), (best, ref)
        if math.isfinite(best):
            s = splitopt.score(c, x == 1)
            assert s.feasible and _agree(s.server_work, ref)
            best, _, _ = solve_labels(c, ub=ref * (1 + 1e-6) + 1e-300)
            assert _agree(best, ref)
    assert len(calls) >= 20


@pytest.mark.nojit
def test_labels_without_bounds_accept_an_upper_bound_under_a_budget() -> None:
    # the unbounded first pass with a finite ub (the ILPs' certification) read the
    # knapsack order of a dummy one-row table out of bounds (a segfault under the JIT)
    for c in random_chains(11, 8, integer=False, max_layers=9):
        c = c.replace(memory_budget_bytes=0.3 * float(c.client_memory_bytes.sum()))
        ref = brute_force(c)[0]
        if not math.isfinite(ref):
            continue
        best, _, _ = solve_labels(c, bounds=False, ub=ref * 2 + 1)
        assert _agree(best, ref)
        best, _, _ = solve_labels(c, ub=ref * 2 + 1)
        assert _agree(best, ref)


@pytest.mark.nojit
def test_cardinality_tables_and_bound_are_valid() -> None:
    from benchmarks.chains import block_chain
    from splitopt.solvers.kernels import _cardinality_bound, cardinality_tables

    rng = np.random.default_rng(3)
    chains = [block_chain(9, memory=True, seed=i, jitter=j) for i in range(2) for j in (0, 0.1)]
    chains += random_chains(5, 6, integer=False, max_layers=9)
    for c in chains:
        w, m = c.server_work, c.client_memory_bytes
        L = c.num_layers
        mem_low, work_low = cardinality_tables(w, m)
        for r in range(L + 1):
            n = L - r
            assert np.allclose(mem_low[r, : n + 1], np.cumsum(np.r_[0, np.sort(m[r:])]))
            assert np.allclose(work_low[r, : n + 1], np.cumsum(np.r_[0, np.sort(w[r:])]))
            assert np.all(np.isinf(mem_low[r, n + 1 :]))
        # the bound is below the least server work of every subset of the last n
        # layers whose client memory fits cap (enumerated)
        for r in range(L + 1):
            n = L - r
            xs = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)  # True: client
            for cap in rng.random(4) * float(m[r:].sum() + 1.0):
                fits = (xs * m[r:]).sum(axis=1) <= cap
                least = ((~xs) * w[r:]).sum(axis=1)[fits].min()
                b = _cardinality_bound(r, n, cap, mem_low, work_low)
                assert b <= least * (1 + 1e-12), (r, cap, b, least)


@pytest.mark.nojit
def test_cardinality_pass_agrees_with_brute_force_on_block_chains() -> None:
    # identical, near-identical and jittered blocks (the first pass certifies most)
    from benchmarks.chains import block_chain

    for jitter in (0.0, 1e-6, 0.01, 0.1):
        for seed in range(2):
            c = block_chain(10, memory=True, seed=seed, jitter=jitter)
            ref = brute_force(c)[0]
            best, _, _ = solve_labels(c)
            assert _agree(best, ref), (jitter, seed, best, ref)
            for frac in (0.15, 0.6):
                d = c.replace(memory_budget_bytes=frac * float(c.client_memory_bytes.sum()))
                assert _agree(solve_labels(d)[0], brute_force(d)[0]), (jitter, seed, frac)


@pytest.mark.nojit
def test_flips_after_the_capped_cardinality_pass_agree_with_brute_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cardinality-bounded pass stopped at once: kernels._flipped's placement,
    where it meets the root's cardinality bound, is what brute force finds (and the
    other passes and bounds decide the rest)."""
    from benchmarks.chains import block_chain
    from splitopt.solvers import dp
    from splitopt.solvers.chain_arrays import kernel_args
    from splitopt.solvers.kernels import _flipped

    monkeypatch.setattr(dp, "TARGET_LABELS", 1)
    chains = [block_chain(L, memory=True, seed=s, jitter=0.0) for L in (8, 12) for s in (0, 1)]
    chains += [block_chain(10, memory=True, seed=s, jitter=0.1) for s in (0, 1)]
    chains += [
        c.replace(memory_budget_bytes=0.4 * float(c.client_memory_bytes.sum()))
        for c in random_chains(17, 10, integer=True, max_layers=12)
    ]
    flipped = 0
    for c in chains:
        ref = brute_force(c)[0]
        best, _, _ = solve_labels(c)
        assert _agree(best, ref), (best, ref)
        budget = c.memory_budget_bytes * (1 + RTOL)
        w, xf = _flipped(*kernel_args(c), budget)
        if math.isfinite(w):
            s = splitopt.score(c, xf.astype(bool))
            assert s.feasible and s.server_work >= ref * (1 - 1e-12)
        flipped += math.isfinite(w) and _agree(w, ref)
    assert flipped >= 4  # the identical blocks at least


@pytest.mark.nojit
def test_count_bound_is_the_best_alpha_and_a_lower_bound() -> None:
    """kernels.count_bound's exact search: its root value is at least that of every
    α on a grid and at most the optimum (brute force), over many magnitudes."""
    from benchmarks.chains import block_chain
    from splitopt.solvers.chain_arrays import kernel_args
    from splitopt.solvers.kernels import (
        _cardinality_count,
        _count_line,
        cardinality_tables,
        count_bound,
    )

    chains = [block_chain(10, memory=True, seed=s, jitter=j) for s in (0, 1) for j in (0, 0.1)]
    chains += [
        c.replace(memory_budget_bytes=f * float(c.client_memory_bytes.sum()))
        for f in (0.2, 0.6)
        for c in random_chains(23, 8, integer=False, max_layers=11)
    ]
    checked = 0
    for c in chains:
        ref = brute_force(c)[0]
        if not math.isfinite(ref):
            continue
        cl, sv, up, down, w, mem, start, end, sla = kernel_args(c)
        budget = c.memory_budget_bytes * (1 + RTOL)
        L = c.num_layers
        mem_low, _ = cardinality_tables(w, mem)
        k = int(_cardinality_count(0, L, budget * (1 + 1e-12), mem_low))
        a, rest, root = count_bound(cl, sv, up, down, w, start, end, sla, k, 100)
        assert rest.shape == (L, 2, L + 1) and a >= 0
        assert root <= ref + 1e-9 * abs(ref), (root, ref)
        G = np.empty((L, 2, k + 1))
        hi = 4 * max(a, float(np.abs(w).sum()) / sla)
        for alpha in np.linspace(0, hi, 41):
            v, _ = _count_line(cl, sv, up, down, w, start, end, sla, k, alpha, G)
            assert v <= root + 1e-9 * max(abs(root), 1.0), (alpha, v, root)
        checked += 1
    assert checked >= 12


@pytest.mark.nojit
def test_quick_pass_certifies_near_identical_blocks_as_brute_force_says() -> None:
    """label_passes' quick pass (after the unbounded pass stops: here at once): where the
    first kernel call answers only with it on, the quick pass decided, and its
    answer is brute force's optimum, evaluator-feasible."""
    from benchmarks.chains import block_chain
    from splitopt.solvers.chain_arrays import kernel_args
    from splitopt.solvers.kernels import ABORT_NONE, label_passes

    decided = tried = 0
    for L in (12, 14, 16):
        for jitter in (0.01, 0.1):
            for seed in range(2):
                base = block_chain(L, memory=True, seed=seed, jitter=jitter)
                for frac in (0.25, 0.4, 0.55):
                    c = base.replace(
                        memory_budget_bytes=frac * float(base.client_memory_bytes.sum())
                    )
                    budget = c.memory_budget_bytes * (1 + RTOL)

                    def passes(quick: int, c=c, budget=budget):  # type: ignore[no-untyped-def]
                        # latency-first and the unbounded pass off: only the
                        # cardinality pass, its flips and the quick pass can answer
                        args = (budget, True, math.inf, False, True, 400, 0, 0, 10**6)
                        return label_passes(*kernel_args(c), *args, math.inf, quick)

                    if passes(0)[3] == ABORT_NONE:
                        continue  # the cardinality pass (or its flips) decided
                    tried += 1
                    best, x, _, code = passes(400)
                    if code != ABORT_NONE:
                        continue
                    decided += 1
                    ref = brute_force(c)[0]
                    assert _agree(best, ref), (L, jitter, seed, frac, best, ref)
                    s = splitopt.score(c, x == 1)
                    assert s.feasible and _agree(s.server_work, ref)
    assert tried >= 20 and decided >= tried // 2, (tried, decided)
