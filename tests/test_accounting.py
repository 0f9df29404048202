"""Full accounting (issue 13): charged work and served counts, recomputed by hand."""

from __future__ import annotations

import math

import numpy as np

import splitopt
from splitopt.metrics import accounting, charged_reduction, charged_work, server_only_figures
from tests.conftest import as_problem, random_chains


def test_charged_work_charges_unserved_requests_their_server_only_work():
    chains = random_chains(31, 120, integer=False, max_layers=8)
    p = as_problem(chains)
    dp, g = splitopt.solve(p, "dp-exact"), splitopt.solve(p, "greedy")
    so_work, _ = server_only_figures(p)
    for res in (dp, g):
        ev = res.evaluation
        expect = sum(
            ev.weights[i] * (ev.server_work[i] if ev.feasible[i] else so_work[i])
            for i in range(len(p))
        )
        assert math.isclose(charged_work(res), expect, rel_tol=1e-12)
    acc = accounting(dp, g)
    fa, fb = dp.evaluation.feasible, g.evaluation.feasible
    assert acc.served_a == fa.sum() and acc.served_b == fb.sum()
    assert acc.only_a == (fa & ~fb).sum() > 0  # the DP serves requests greedy cannot
    assert acc.only_b == 0  # the exact DP serves every request greedy serves
    assert acc.common == (fa & fb).sum()
    assert math.isclose(
        acc.charged_gain, (charged_work(g) - charged_work(dp)) / charged_work(g), rel_tol=1e-12
    )
    assert acc.charged_gain >= 0
    total = float(np.dot(dp.evaluation.weights, so_work))
    assert math.isclose(charged_reduction(dp), 1 - charged_work(dp) / total, rel_tol=1e-12)
    # server-only's charged work is all requests' server-only work
    assert math.isclose(charged_work(splitopt.solve(p, "server-only")), total, rel_tol=1e-12)
