"""Hand-checked instances: every solver against the optimum derived in the file."""

from __future__ import annotations

import json
import math

import pytest

import splitopt
from splitopt.formats import read_problem

SOLVERS = ["dp", "dp-exact", "brute-force", "greedy", "greedy-ratio", "best-cut", "server-only"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_handmade_optimum(handmade, solver):
    problem = read_problem(handmade)
    meta = {r["id"]: r["meta"] for r in json.loads(handmade.read_text())["requests"]}
    options = {"tick": 1.0} if solver == "dp" else {}
    result = splitopt.solve(problem, solver, **options)
    key = "optimum" if solver in ("dp", "dp-exact", "brute-force") else solver
    for rr in result:
        expected = meta[rr.id][key]
        if expected is None:
            assert not rr.feasible and rr.placement is None, rr
        else:
            assert rr.feasible, rr
            assert rr.server_work == expected, (solver, rr)
    if solver in ("dp", "dp-exact", "brute-force"):
        assert result.status == "optimal"
        assert dict(zip(problem.ids, result.statuses, strict=True))["infeasible"] == "infeasible"


def test_handmade_objective_is_weighted(handmade):
    problem = read_problem(handmade)
    result = splitopt.solve(problem, "dp-exact")
    # 8 + 5 + 10 + (infeasible) + 3 * 7
    assert result.objective == 8 + 5 + 10 + 21
    assert result.num_infeasible == 1


def test_switch_back_placement(handmade):
    problem = read_problem(handmade)
    result = splitopt.solve(problem, "brute-force")
    rr = next(r for r in result if r.id == "switch-back")
    assert rr.placement == "CSC"
    assert rr.latency_s == 5 and not math.isnan(rr.client_memory_bytes)
