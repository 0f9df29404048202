"""Large scenarios: identical classes share chains (speed lives in benchmarks/scale_100k.py)."""

from __future__ import annotations

from splitopt.families.llm_edge import scenario_doc
from splitopt.formats.read import compile_scenario_doc
from splitopt.solvers import get_solver


def test_100k_requests_share_class_chains() -> None:
    doc = scenario_doc(0, "large", num_classes=50, models=("llama-3-8b",), count=2000)
    problem = compile_scenario_doc(doc)
    assert len(problem) == 100_000
    assert len(problem.chains) == 50
    # One array per class, not per request.
    assert len({id(r.chain.client_time_s) for r in problem}) == 50


def test_solve_many_requests_few_classes() -> None:
    doc = scenario_doc(1, "large", num_classes=4, models=("mistral-7b",), count=5000)
    problem = compile_scenario_doc(doc)
    res = get_solver("dp", grid=200).solve(problem)
    assert len(res.statuses) == 20_000
    # Requests of one class get one answer.
    for j in range(len(problem.chains)):
        ps = {
            res.evaluation.placements[i] for i in range(len(problem)) if problem.chain_index[i] == j
        }
        assert len(ps) == 1
