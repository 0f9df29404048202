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


def _feasible(chain, x):
    lat, _, mem = score_batch(chain, np.asarray(x, dtype=bool)[None, :])
    return bool(feasible_mask(chain, lat, mem)[0])


def test_greedy_skip_follows_its_definition():
    """greedy-skip = one forward pass from all-server, each move kept iff feasible;
    recomputed here placement by placement with the evaluator."""
    chains = random_chains(21, 200, integer=False, max_layers=10)
    res = splitopt.solve(as_problem(chains), "greedy-skip")
    moved_past_a_break = 0
    for c, rr in zip(chains, res, strict=True):
        x = np.ones(c.num_layers, dtype=bool)
        if not _feasible(c, x):
            assert rr.placement is None
            continue
        stopped = False
        for layer in range(c.num_layers):
            x[layer] = False
            if not _feasible(c, x):
                x[layer] = True
                stopped = True
            elif stopped:
                moved_past_a_break += 1
        assert rr.placement == format_placement(x)
        assert rr.feasible
    assert moved_past_a_break > 0  # the skipping branch was exercised


def test_greedy_backward_is_longest_feasible_client_suffix():
    chains = random_chains(22, 200, integer=True, max_layers=10)
    res = splitopt.solve(as_problem(chains), "greedy-backward")
    for c, rr in zip(chains, res, strict=True):
        L = c.num_layers
        sufs = [np.arange(L) < L - k for k in range(L + 1)]  # k client layers at the end
        ok = [_feasible(c, x) for x in sufs]
        if not ok[0]:
            assert rr.placement is None
            continue
        k = 0
        while k < L and ok[k + 1]:
            k += 1
        assert rr.placement == format_placement(sufs[k])


def test_greedy_variants_feasible_and_never_below_brute_force():
    from splitopt.solvers.baselines import brute_force

    chains = random_chains(23, 150, integer=False, max_layers=9)
    p = as_problem(chains)
    so = splitopt.solve(p, "server-only")
    for name in ("greedy", "greedy-skip", "greedy-backward"):
        res = splitopt.solve(p, name)
        # every greedy serves exactly the requests server-only serves (it starts there)
        assert np.array_equal(res.evaluation.feasible, so.evaluation.feasible), name
        for c, rr in zip(chains, res, strict=True):
            best, _ = brute_force(c)
            if rr.placement is not None:
                assert _feasible(c, np.array([ch == "S" for ch in rr.placement]))
                assert rr.server_work >= best * (1 - 1e-9), name
    # greedy-skip never does worse than greedy: it makes greedy's moves, then more
    g = splitopt.solve(p, "greedy").evaluation.server_work
    gs = splitopt.solve(p, "greedy-skip").evaluation.server_work
    f = so.evaluation.feasible
    assert np.all(gs[f] <= g[f] * (1 + 1e-12))
