"""bprr-milp on every backend: hand-checked cases, brute force agreement, statuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.errors import SolverError
from splitopt.families.clusters import sized_cluster, tiny_cluster
from splitopt.placement import get_algorithm
from splitopt.placement.brute import BPRRBrute
from splitopt.placement.evaluate import evaluate
from splitopt.placement.milp import (
    BPRRMilp,
    BPRRMilpCPSAT,
    MemoryRow,
    build_model,
    cpsat_memory_row,
)
from splitopt.verify_placement import agree
from tests.placement.hand import HAND_CASES, two_by_two

BACKENDS = ("highs", "cbc", "cpsat", "scip")
NAMES = ("bprr-milp-highs", "bprr-milp-cbc", "bprr-milp-cpsat", "bprr-milp-scip")


def _skip_unavailable(name: str) -> None:
    from splitopt.placement import available

    if not available(name):
        pytest.skip(f"{name} backend not installed")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_hand_cases(name: str, case: str) -> None:
    _skip_unavailable(name)
    make, expected = HAND_CASES[case]
    cluster = make()
    res = get_algorithm(name).solve(cluster)
    if expected is None:
        assert res.status == "infeasible"
        assert not res.feasible
        return
    assert res.status == "optimal", res.message
    assert res.objective == pytest.approx(expected, rel=1e-9)
    assert res.score is not None and res.score.feasible
    assert res.bound is not None and res.bound <= res.objective * (1 + 1e-6)


def test_hand_one_job_answer() -> None:
    res = get_algorithm("bprr-milp").solve(two_by_two())
    assert res.routes == ((1,),)
    assert res.placement is not None
    assert (int(res.placement.first[1]), int(res.placement.count[1])) == (1, 2)


def test_hand_memory_case_routes() -> None:
    """One job on s1 alone, the other on s0 alone; s1 exactly full (30 B)."""
    res = get_algorithm("bprr-milp").solve(two_by_two(jobs=2, memory=(1000.0, 30.0)))
    assert sorted(res.routes) == [(0,), (1,)]
    assert res.score is not None
    assert float(res.score.memory_used[1]) == 30.0


def test_registry_default_is_highs() -> None:
    alg = get_algorithm("bprr-milp")
    assert isinstance(alg, BPRRMilp) and alg.backend == "highs"
    assert get_algorithm("bprr-milp", backend="cpsat").backend == "cpsat"
    assert isinstance(get_algorithm("bprr-milp-cpsat"), BPRRMilpCPSAT)


@pytest.mark.parametrize(
    "options",
    [{"backend": "gurobi"}, {"colour": 1}, {"time_limit": -1}, {"time_limit": "x"}],
)
def test_bad_options(options: dict) -> None:
    with pytest.raises(SolverError):
        get_algorithm("bprr-milp", **options)


def test_backend_variant_refuses_another_backend() -> None:
    with pytest.raises(SolverError):
        get_algorithm("bprr-milp-cbc", backend="highs")


def _random(n: int, seed: int, **size: int) -> list:
    return [tiny_cluster(np.random.default_rng([seed, i]), **size) for i in range(n)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_milp_equals_brute_force(backend: str) -> None:
    """Each backend agrees with brute force (evaluator objectives, feasibility)."""
    _skip_unavailable(f"bprr-milp-{backend}")
    n = 100 if backend in ("highs", "cpsat") else 25
    clusters = _random(n, 123, max_servers=3, max_blocks=3, max_jobs=2)
    statuses = set()
    for i, cluster in enumerate(clusters):
        ref = BPRRBrute().solve(cluster)
        res = BPRRMilp(backend=backend).solve(cluster)
        statuses.add(ref.status)
        assert res.status in ("optimal", "infeasible"), (i, res.status, res.message)
        assert agree(ref, res), (i, ref.objective, res.objective)
    assert statuses == {"optimal", "infeasible"}  # both kinds were exercised


def test_source_rows_only_equal_brute_force() -> None:
    """Without our valid rows (the source file's rows alone) the optimum is the same."""
    for cluster in _random(10, 7, max_servers=2, max_blocks=3, max_jobs=2):
        ref = BPRRBrute().solve(cluster)
        res = BPRRMilp(strengthen=False).solve(cluster)
        assert res.status in ("optimal", "infeasible"), res.message
        assert agree(ref, res)


def test_model_objective_is_the_evaluators() -> None:
    """At a point built from a known answer the model's objective is the evaluator's."""
    cluster = two_by_two(jobs=2, memory=(1000.0, 30.0))
    res = get_algorithm("bprr-milp").solve(cluster)
    assert res.placement is not None
    model = build_model(cluster)
    assert model.num_vars > 0
    # the placement/routes the model decodes from its own optimum score the same
    assert evaluate(cluster, res.placement, res.routes).objective == pytest.approx(4.5)


def test_time_limit_statuses() -> None:
    """10 servers, 16 blocks, 4 jobs in 0.01 s (the clock starts before the model is
    built): ``time_limit`` or ``feasible`` with a message, never a claim."""
    big = sized_cluster(np.random.default_rng(5), 10, 16, 4)
    for backend in BACKENDS:
        res = BPRRMilp(backend=backend, time_limit=0.01).solve(big)
        assert res.status in ("time_limit", "feasible"), (backend, res.status)
        if res.status == "feasible":
            assert res.feasible and res.message
        if res.status == "time_limit":
            assert res.placement is None


def test_memory_row_whole_numbers() -> None:
    """Whole-number rows get half a gcd of room; others the evaluator's limit."""
    row = MemoryRow(0, 0, 4.0, (), limit=30.00000003, unit=2.0)
    assert row.floor_feasible == 30.0
    assert row.relaxed_rhs == 31.0
    real = MemoryRow(0, 0, 4.5, (), limit=30.5, unit=None)
    assert real.relaxed_rhs == real.floor_feasible == 30.5


def test_cpsat_memory_row_rounds_down() -> None:
    """Non-integral rows scaled by a power of two and rounded down: a relaxation."""
    from splitopt.placement.milp import Group

    row = MemoryRow(0, 0, 1.3, (Group(0.7, (1, 2), (1, -1), 3),), limit=10.0, unit=None)
    coefs, rhs = cpsat_memory_row(row, 10.0)
    k = rhs / 10.0  # the scale (rhs 10 * 2**k is whole)
    assert coefs[0] <= 1.3 * k and coefs[1] <= 0.7 * k and coefs[2] == -coefs[1]
    assert math.isclose(rhs, 10.0 * k)


@pytest.mark.parametrize("name", NAMES)
def test_edge_clusters(name: str) -> None:
    """No server can host a block (infeasible); no jobs (optimum 0)."""
    _skip_unavailable(name)
    assert get_algorithm(name).solve(two_by_two(memory=(1.0, 1.0))).status == "infeasible"
    res = get_algorithm(name).solve(two_by_two(jobs=0))
    assert res.status == "optimal" and res.objective == 0.0


def test_oversized_cluster_is_refused_before_building() -> None:
    """150 servers x 20 jobs would build 453,000 hop arcs (tens of seconds of Python that
    no time limit interrupts): refused with a SolverError (exit 2), at once."""
    import time
    from pathlib import Path

    from splitopt.errors import SolverError
    from splitopt.formats.cluster_file import read_cluster
    from splitopt.placement.milp import MAX_ARCS, BPRRMilp

    root = Path(__file__).resolve().parents[2]
    cluster = read_cluster(root / "instances/clusters/random-150x70-s1.json")
    t0 = time.perf_counter()
    with pytest.raises(SolverError, match=f"more than the {MAX_ARCS:,} the MILP builds"):
        BPRRMilp(time_limit=1).solve(cluster)
    assert time.perf_counter() - t0 < 5  # refused before any model is built


def test_time_limit_covers_building() -> None:
    """The limit bounds the whole method: building our model, and each backend's own
    model (PuLP's for CBC took a minute near the arc cap), not only the solve."""
    from splitopt.placement.milp import _RUNNERS

    big = sized_cluster(np.random.default_rng(5), 10, 16, 4)
    res = BPRRMilp(time_limit=1e-9).solve(big)
    assert res.status == "time_limit" and "building" in (res.message or "")
    model = build_model(big)
    rhs = {row.server: row.relaxed_rhs for row in model.memory}
    for backend in BACKENDS:
        out = _RUNNERS[backend](model, rhs, 1e-9)
        assert out.status == "time_limit" and out.values is None, (backend, out)
        assert "building" in (out.message or ""), (backend, out.message)
