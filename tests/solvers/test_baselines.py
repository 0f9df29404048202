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


def _one_length_chains(seed: int, n: int, L: int, all_server_ok: bool):  # type: ignore[no-untyped-def]
    """n random L-layer chains, budgets on most; with ``all_server_ok`` every chain's
    all-server placement is feasible (the batched greedy's all-rows case); some SLAs
    and budgets set exactly to the evaluator's figures of a prefix cut (the edges
    where prefix sums and the evaluator may round apart)."""
    from splitopt.families.random_chain import random_chain
    from splitopt.solvers.baselines import prefix_placements

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        c = random_chain(rng, L, memory=bool(rng.random() < 0.8))
        x = prefix_placements(L)
        lat, _, mem = score_batch(c, x)
        k = int(rng.integers(0, L + 1))
        if all_server_ok:
            c = c.replace(sla_s=max(c.sla_s, float(lat[0])))
        if i % 3 == 0:  # the SLA exactly at cut k's latency (all-server stays feasible)
            c = c.replace(sla_s=float(max(lat[k], lat[0]) if all_server_ok else lat[k]))
        if i % 5 == 0 and c.memory_budget_bytes is not None:
            c = c.replace(memory_budget_bytes=float(mem[k]))
        out.append(c)
    return out


def test_batched_greedy_same_as_chain_by_chain():
    """greedy over all chains at once (greedy_flat) gives the per-chain answers:
    chains of one length whose all-server placements are all feasible (every row at
    once, no gather), the same with some infeasible, and mixed lengths."""
    from splitopt.solvers import get_solver
    from splitopt.solvers.base import Solver

    cases = [
        _one_length_chains(1, 120, 8, True),
        _one_length_chains(2, 120, 8, False),
        _one_length_chains(3, 60, 5, True) + _one_length_chains(4, 60, 9, False),
        random_chains(5, 150, integer=True, max_layers=10),
    ]
    g = get_solver("greedy")
    for chains in cases:
        p = as_problem(chains)
        a, b = g.solve(p), Solver.solve(g, p)  # batched, chain by chain
        assert a.statuses == b.statuses and a.placements == b.placements
        assert a.messages == b.messages
        np.testing.assert_array_equal(a.evaluation.server_work, b.evaluation.server_work)
    assert all(_prefix_feasible(c)[2][0] for c in cases[0])  # the all-rows case ran
    assert not all(_prefix_feasible(c)[2][0] for c in cases[1])
