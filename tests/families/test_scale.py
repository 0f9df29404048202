"""Large scenarios: identical classes share chains (speed lives in benchmarks/scale_100k.py)."""

from __future__ import annotations

from splitopt.families.llm_edge import FAMILY
from splitopt.solvers import get_solver


def test_100k_requests_share_class_chains() -> None:
    family = FAMILY.only_architectures(["llama-3-8b"]).replace(classes=50, count=2000)
    problem = family.generate(0, "large")
    assert len(problem) == 100_000
    assert len(problem.chains) == 50
    # One array per class, not per request.
    assert len({id(r.chain.client_time_s) for r in problem}) == 50


def test_solve_many_requests_few_classes() -> None:
    family = FAMILY.only_architectures(["mistral-7b"]).replace(classes=4, count=5000)
    problem = family.generate(1, "large")
    res = get_solver("dp", grid=200).solve(problem)
    assert len(res.statuses) == 20_000
    # Requests of one class get one answer.
    for j in range(len(problem.chains)):
        ps = {
            res.evaluation.placements[i] for i in range(len(problem)) if problem.chain_index[i] == j
        }
        assert len(ps) == 1
