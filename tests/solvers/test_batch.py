"""Batched grid DP and batched evaluator against the per-chain ones and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from splitopt.batch_evaluate import score_flat
from splitopt.discretise import Discretisation
from splitopt.evaluate import RTOL, score
from splitopt.ragged import ChainBatch
from splitopt.solvers import dp as dp_module
from splitopt.solvers import get_solver
from splitopt.solvers.batch import (
    FEASIBLE,
    INFEASIBLE,
    MAX_TABLE_BYTES,
    OPTIMAL,
    solve_grid_batch,
    solve_labels_batch,
    tick_batch,
)
from splitopt.solvers.dp import run_grid_dp
from tests.conftest import as_problem, random_chains

DISCS = [
    Discretisation(),
    Discretisation(grid=37),
    Discretisation(tick_s=0.05, mem_grid=13),
    Discretisation(grid=200, mem_tick_bytes=0.7),
]


def _mixed(seed: int, n: int) -> list:
    return random_chains(seed, n, integer=False) + random_chains(seed + 1, n, integer=True)


@pytest.mark.parametrize("disc", DISCS, ids=str)
def test_ticks_identical_to_tick_chain(disc):
    chains = _mixed(3, 60)
    b = ChainBatch.from_chains(chains)
    t = tick_batch(b, disc)
    for i, c in enumerate(chains):
        ref = disc.tick(c)
        a, e = t.offsets[i], t.offsets[i + 1]
        p, q = t.boundary_offsets[i], t.boundary_offsets[i + 1]
        assert np.array_equal(t.client[a:e], ref.client)
        assert np.array_equal(t.server[a:e], ref.server)
        assert np.array_equal(t.up[p:q], ref.up)
        assert np.array_equal(t.down[p:q], ref.down)
        assert t.sla[i] == ref.sla
        assert t.tick_s[i] == ref.tick_s
        assert bool(t.exact[i]) == ref.exact, i
        assert bool(t.use_memory[i]) == (ref.memory is not None)
        if ref.memory is not None:
            assert t.mem_tick_bytes[i] == ref.mem_tick_bytes
            assert t.budget[i] == ref.budget
            assert np.array_equal(t.memory[a:e], ref.memory)


@pytest.mark.parametrize("disc", DISCS, ids=str)
def test_batch_equals_per_chain_kernel(disc):
    chains = _mixed(11, 80)
    status, best, x, exact = solve_grid_batch(ChainBatch.from_chains(chains), disc)
    off = ChainBatch.from_chains(chains).offsets
    for i, c in enumerate(chains):
        ref_best, ref_x = run_grid_dp(disc.tick(c))
        assert best[i] == ref_best or (np.isinf(best[i]) and np.isinf(ref_best))
        if np.isfinite(ref_best):
            assert np.array_equal(x[off[i] : off[i + 1]], ref_x == 1)
            assert status[i] == (OPTIMAL if exact[i] else FEASIBLE)
        else:
            assert status[i] == INFEASIBLE


def _brute(ticked_chain) -> float:
    c = ticked_chain.to_chain()
    best = np.inf
    for bits in itertools.product([False, True], repeat=c.num_layers):
        s = score(c, np.array(bits))
        if s.feasible:
            best = min(best, s.server_work)
    return best


@pytest.mark.nojit
def test_batch_against_brute_force_small():
    chains = random_chains(5, 12, integer=True, max_layers=6)
    disc = Discretisation(grid=40)  # small, so that it also runs without the JIT
    status, best, _x, _ = solve_grid_batch(ChainBatch.from_chains(chains), disc)
    for i, c in enumerate(chains):
        ref = _brute(disc.tick(c))
        assert best[i] == pytest.approx(ref, rel=1e-12) or (np.isinf(ref) and np.isinf(best[i]))
        assert (status[i] == INFEASIBLE) == np.isinf(ref)


@pytest.mark.nojit
def test_score_flat_bit_identical_to_score():
    chains = _mixed(7, 30)
    b = ChainBatch.from_chains(chains)
    rng = np.random.default_rng(0)
    x = rng.random(int(b.offsets[-1])) < 0.5
    have = rng.random(len(chains)) < 0.8
    lat, work, mem, ok = score_flat(b, x, have, RTOL)
    for i, c in enumerate(chains):
        if not have[i]:
            assert np.isnan(lat[i]) and not ok[i]
            continue
        s = score(c, x[b.offsets[i] : b.offsets[i + 1]])
        assert (lat[i], work[i], mem[i], bool(ok[i])) == (
            s.latency_s,
            s.server_work,
            s.client_memory_bytes,
            s.feasible,
        )


def test_roundtrip_chain():
    chains = _mixed(2, 10)
    b = ChainBatch.from_chains(chains)
    assert b.chains() == chains


def test_table_limit_matches_dp():
    assert MAX_TABLE_BYTES == dp_module.MAX_TABLE_BYTES


def test_dp_solve_batched_path_same_result(monkeypatch):
    chains = _mixed(21, 70)
    problem = as_problem(chains)
    batched = get_solver("dp").solve(problem)
    monkeypatch.setattr(dp_module, "BATCH_MIN_CHAINS", 10**9)
    per_chain = get_solver("dp").solve(problem)
    assert batched.statuses == per_chain.statuses
    assert batched.placements == per_chain.placements
    assert batched.objective == per_chain.objective
    assert batched.messages == per_chain.messages
    assert np.array_equal(batched.evaluation.latency_s, per_chain.evaluation.latency_s, True)


@pytest.mark.parametrize("integer", [False, True])
def test_dp_exact_batched_path_same_result(monkeypatch, integer):
    chains = random_chains(31, 80, integer=integer)
    problem = as_problem(chains)
    batched = get_solver("dp-exact").solve(problem)
    monkeypatch.setattr(dp_module, "BATCH_MIN_CHAINS", 10**9)
    per_chain = get_solver("dp-exact").solve(problem)
    assert batched.statuses == per_chain.statuses
    assert batched.placements == per_chain.placements
    assert batched.objective == per_chain.objective
    # both branches ran: some budgets bind (per-chain memory labels), some do not
    b = ChainBatch.from_chains(list(problem.chains))
    _, _, resolved = solve_labels_batch(b, RTOL)
    assert (~resolved).any()
    assert (resolved & b.has_budget).any()
