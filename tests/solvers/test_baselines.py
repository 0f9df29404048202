"""Baselines follow their definitions in SPEC §4 (checked against enumeration)."""

from __future__ import annotations

import numpy as np

import splitopt
from splitopt.evaluate import feasible_mask, format_placement, score_batch
from splitopt.solvers.baselines import prefix_placements
from tests.conftest import as_problem, random_chains


def _prefix_feasible(chain):
    x = prefix_placements(chain.num_layers)
    lat, work, mem = score_batch(chain, x)
    return x, work, feasible_mask(chain, lat, mem)


def test_greedy_is_longest_feasible_forward_prefix():
    chains = random_chains(11, 200, integer=True, max_layers=10)
    res = splitopt.solve(as_problem(chains), "greedy")
    for c, rr in zip(chains, res, strict=True):
        x, _, ok = _prefix_feasible(c)
        if not ok[0]:
            assert rr.placement is None
            continue
        k = 0
        while k < c.num_layers and ok[k + 1]:
            k += 1
        assert rr.placement == format_placement(x[k])


def test_best_cut_is_best_single_cut():
    chains = random_chains(12, 200, integer=False, max_layers=10)
    res = splitopt.solve(as_problem(chains), "best-cut")
    for c, rr in zip(chains, res, strict=True):
        _, work, ok = _prefix_feasible(c)
        if not ok.any():
            assert rr.placement is None
        else:
            assert rr.server_work == work[ok].min()
            assert rr.placement.count("S") == len(rr.placement.lstrip("C"))  # C…CS…S


def test_server_only_and_greedy_ratio_feasible_from_all_server():
    chains = random_chains(13, 200, integer=False, max_layers=10)
    p = as_problem(chains)
    so = splitopt.solve(p, "server-only")
    gr = splitopt.solve(p, "greedy-ratio")
    g = splitopt.solve(p, "greedy")
    assert np.array_equal(so.evaluation.feasible, gr.evaluation.feasible)
    assert np.array_equal(so.evaluation.feasible, g.evaluation.feasible)
    f = so.evaluation.feasible
    assert np.all(gr.evaluation.server_work[f] <= so.evaluation.server_work[f])
    assert "error" not in gr.statuses
