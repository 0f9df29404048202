"""The DPs against brute force: integer data with tick 1 (ticking exact) and real data."""

from __future__ import annotations

import math

import numpy as np
import pytest

import splitopt
from splitopt.discretise import tick_chain
from splitopt.families.random_chain import random_chain
from splitopt.problem import Chain
from splitopt.solvers import SolverError, get_solver
from splitopt.solvers.baselines import brute_force
from tests.conftest import as_problem, random_chains


def _close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


@pytest.fixture(scope="module")
def integer_problem():
    return as_problem(random_chains(2024, 600, integer=True, max_layers=12), "int600")


def test_integer_instances_cover_the_cases(integer_problem):
    chains = integer_problem.chains
    assert len(chains) >= 500
    assert {c.num_layers for c in chains} == set(range(1, 13))
    assert sum(c.memory_budget_bytes is not None for c in chains) > 100
    assert sum(c.memory_budget_bytes is None for c in chains) > 100
    assert {(c.start, c.end) for c in chains} == {
        (a, b) for a in ("client", "server") for b in ("client", "server")
    }
    assert sum(bool(np.any(c.server_work == 0)) for c in chains) > 100
    assert sum(math.isinf(brute_force(c)[0]) for c in chains) > 10  # infeasible requests


def test_dp_tick1_equals_brute_force(integer_problem):
    dp = splitopt.solve(integer_problem, "dp", tick=1.0)
    bf = splitopt.solve(integer_problem, "brute-force")
    assert dp.statuses == bf.statuses  # optimal / infeasible alike: ticking is exact here
    assert set(dp.statuses) == {"optimal", "infeasible"}
    a, b = dp.work_array(), bf.work_array()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    assert np.array_equal(a[ok], b[ok])


def test_dp_exact_equals_brute_force_on_integers(integer_problem):
    ex = splitopt.solve(integer_problem, "dp-exact")
    bf = splitopt.solve(integer_problem, "brute-force")
    assert ex.statuses == bf.statuses
    assert np.array_equal(ex.work_array(), bf.work_array(), equal_nan=True)


def test_dp_exact_equals_brute_force_on_real_data():
    problem = as_problem(random_chains(77, 400, integer=False, max_layers=12), "real400")
    ex = splitopt.solve(problem, "dp-exact")
    bf = splitopt.solve(problem, "brute-force")
    assert ex.statuses == bf.statuses
    for a, b in zip(ex.work_array(), bf.work_array(), strict=True):
        assert (math.isnan(a) and math.isnan(b)) or _close(a, b)


def test_grid_dp_is_conservative_and_bounded():
    """Real data, default grid: feasible, never better than the true optimum, bound below it."""
    problem = as_problem(random_chains(5, 150, integer=False, max_layers=14), "real150")
    dp = splitopt.solve(problem, "dp", bound=True)
    ex = splitopt.solve(problem, "dp-exact")
    assert "error" not in dp.statuses
    for d, e, bound, st in zip(
        dp.work_array(), ex.work_array(), dp.bounds, dp.statuses, strict=True
    ):
        if math.isnan(e):
            assert math.isnan(d)  # conservative: no feasible placement invented
            continue
        assert bound is not None and bound <= e * (1 + 1e-9) + 1e-12
        if not math.isnan(d):
            assert d >= e * (1 - 1e-9)
            if st == "optimal":
                assert _close(d, e)


def test_grid_dp_memory_dimension_exact_with_integer_memory():
    rng = np.random.default_rng(3)
    for _ in range(100):
        c = random_chain(rng, int(rng.integers(2, 10)), integer=True, memory=True)
        t = tick_chain(c, tick=1.0)
        assert t.memory is None or t.exact
        res = splitopt.solve(as_problem([c]), "dp", tick=1.0)
        assert _close(brute_force(c)[0], np.nan_to_num(res.work_array()[0], nan=np.inf))


def test_identical_requests_solved_once():
    c = random_chains(1, 1, integer=True)[0]
    problem = as_problem([c] * 200)
    assert len(problem.chains) == 1
    calls = []
    solver = get_solver("dp-exact")
    orig = solver.solve_chain
    solver.solve_chain = lambda chain, tl=None: calls.append(1) or orig(chain, tl)  # type: ignore[method-assign]
    res = solver.solve(problem)
    assert len(calls) == 1 and len(res.statuses) == 200


def test_fixed_tick_larger_than_sla_gives_no_placement():
    c = Chain([1.0], [1.0], [1.0], [0.0, 0.0], [0.0, 0.0], [0.0], sla_s=1.0)
    res = splitopt.solve(as_problem([c]), "dp", tick=5.0)
    assert res.statuses == ("infeasible",) and res.messages[0] is not None


def test_grid_options_validated():
    with pytest.raises(SolverError):
        get_solver("dp", colour=3)
    problem = as_problem(random_chains(1, 2, integer=True))
    with pytest.raises(SolverError):
        splitopt.solve(problem, "dp", grid=10, tick=1.0)
    with pytest.raises(SolverError):
        splitopt.solve(problem, "dp", grid=0)


def test_too_large_grid_refused():
    c = random_chains(1, 1, integer=True, max_layers=1)[0].replace(sla_s=1e12)
    with pytest.raises(SolverError, match="coarser"):
        splitopt.solve(as_problem([c]), "dp", tick=1.0)


def test_brute_force_refuses_long_chains():
    c = random_chain(np.random.default_rng(0), 21)
    with pytest.raises(SolverError, match="21 layers > 20"):
        splitopt.solve(as_problem([c]), "brute-force")


def test_label_bounds_change_nothing_where_memory_binds():
    """Branch and bound (incumbent + lower bounds) on the hard case: near-identical
    blocks with a binding budget; against brute force and the unbounded label DP."""
    from splitopt.solvers.dp import solve_labels

    rng = np.random.default_rng(8)
    checked = 0
    for _ in range(40):
        L = int(rng.integers(6, 15))
        scale = 1 + 0.02 * rng.random(L)
        mem = 4.0 * scale
        c = Chain(
            0.08 * scale,
            np.full(L, 0.01),
            2.0 * scale,
            np.full(L + 1, 0.04),
            np.full(L + 1, 0.02),
            mem,
            sla_s=float(rng.uniform(0.3, 1.0) * 0.08 * L),
            memory_budget_bytes=float(rng.uniform(0.2, 0.6) * mem.sum()),
        )
        best, _ = brute_force(c)
        with_b, _, _ = solve_labels(c, bounds=True)
        without, _, _ = solve_labels(c, bounds=False)
        assert _close(best, with_b) and _close(best, without)
        _, y, _ = solve_labels(c.replace(memory_budget_bytes=None))
        checked += mem[y == 0].sum() > c.memory_budget_bytes  # the budget really binds
    assert checked >= 10
