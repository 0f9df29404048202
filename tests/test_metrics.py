"""splitopt.metrics: server-only reference, summary, gains and throughput (SPEC §2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import splitopt
from splitopt.metrics import gain, server_only_figures, summarize, throughput
from splitopt.problem import Chain, Problem, Request
from splitopt.solution import Result
from tests.conftest import as_problem, random_chains

SETTINGS = settings(max_examples=30, deadline=None)


def _chain(sla: float) -> Chain:
    # all-server: latency 2 (up 1 + server 0.5 + 0.5 down 0), work 10; all-client latency 4
    return Chain(
        [2.0, 2.0], [0.5, 0.5], [4.0, 6.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0], sla
    )


def _result(problem: Problem, placements: list[str | None], solver: str = "x") -> Result:
    statuses = ["infeasible" if p is None else "feasible" for p in placements]
    return Result.build(problem, solver, statuses, placements, 0.0)


@pytest.mark.nojit
def test_summary_by_hand():
    p = Problem("p", (Request("a", _chain(10.0), weight=2.0), Request("b", _chain(1.0))))
    # a: "CS" -> latency 2 (client) + 0 (uplink at boundary 1) + 0.5 = 2.5, work 6;
    # b: infeasible everywhere (SLA 1)
    r = _result(p, ["CS", None])
    s = summarize(r)
    assert (s.requests, s.feasible, s.infeasible) == (2, 1, 1)
    assert s.objective == 12.0
    assert s.server_only_work == 2 * 10 + 10
    assert s.server_only_infeasible == 1
    assert s.reduction_vs_server_only == pytest.approx(1 - 12 / 20)
    assert s.mean_latency_s == pytest.approx(2.5)
    work, ok = server_only_figures(p)
    assert list(work) == [10.0, 10.0] and list(ok) == [True, False]


@pytest.mark.nojit
def test_gain_and_throughput_by_hand():
    p = Problem("p", (Request("a", _chain(10.0)), Request("b", _chain(10.0), weight=3.0)))
    a = _result(p, ["CS", "CC"])  # works 6, 0
    b = _result(p, ["SS", "SS"])  # works 10, 10
    g = gain(a, b)
    assert g.common == 2
    assert g.work_gain == pytest.approx((40 - 6) / 40)
    assert g.throughput_gain == pytest.approx(40 / 6 - 1)
    assert throughput(b, capacity=100.0) == pytest.approx(100 / 10)
    assert throughput(_result(p, ["CC", "CC"]), 1.0) == math.inf
    with pytest.raises(ValueError):
        gain(a, _result(as_problem([_chain(10.0)]), ["SS"]))


@pytest.mark.nojit
def test_no_common_feasible_requests_give_nan():
    p = Problem("p", (Request("a", _chain(1.0)),))
    r = _result(p, [None])
    assert math.isnan(summarize(r).reduction_vs_server_only)
    assert math.isnan(summarize(r).mean_latency_s)
    g = gain(r, r)
    assert g.common == 0 and math.isnan(g.work_gain)


@SETTINGS
@given(st.integers(0, 10_000), st.integers(1, 8))
def test_exact_dp_never_loses_to_a_baseline(seed, n):
    """On the requests feasible for both, the optimum has no more work than any baseline,
    and no more than server-only: gain >= 0 and reduction >= 0 (up to rounding)."""
    problem = as_problem(random_chains(seed, n, integer=False, max_layers=6))
    best = splitopt.solve(problem, "dp-exact")
    for name in ("greedy", "best-cut", "server-only"):
        g = gain(best, splitopt.solve(problem, name))
        # NaN where the baseline's work on the common requests is 0 (gain undefined)
        assert g.common == 0 or not g.work_gain < -1e-12
    s = summarize(best)
    assert math.isnan(s.reduction_vs_server_only) or s.reduction_vs_server_only >= -1e-12
    assert s.feasible + s.infeasible == s.requests == n


@SETTINGS
@given(st.integers(0, 10_000), st.floats(0.5, 4.0))
def test_summary_scales_with_weights(seed, factor):
    problem = as_problem(random_chains(seed, 5, integer=True, max_layers=5))
    heavier = Problem(
        problem.name, tuple(Request(r.id, r.chain, r.weight * factor) for r in problem)
    )
    a, b = (
        summarize(splitopt.solve(problem, "dp-exact")),
        summarize(splitopt.solve(heavier, "dp-exact")),
    )
    assert b.objective == pytest.approx(a.objective * factor)
    assert b.server_only_work == pytest.approx(a.server_only_work * factor)
    if not math.isnan(a.reduction_vs_server_only):
        assert b.reduction_vs_server_only == pytest.approx(a.reduction_vs_server_only)
    assert np.isnan(a.mean_latency_s) == np.isnan(b.mean_latency_s)
