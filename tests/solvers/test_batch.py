"""Batched grid DP and batched evaluator against the per-chain ones and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from splitopt.batch_evaluate import score_flat
from splitopt.discretise import Discretisation
from splitopt.evaluate import RTOL, score
from splitopt.problem import Chain
from splitopt.ragged import ChainBatch
from splitopt.solvers import dp as dp_module
from splitopt.solvers import get_solver
from splitopt.solvers.batch import (
    FEASIBLE,
    INFEASIBLE,
    MAX_TABLE_BYTES,
    OPTIMAL,
    client_memory_fits,
    numpy_sum,
    passes_batch,
    solve_grid_batch,
    solve_labels_batch,
    tick_batch,
)
from splitopt.solvers.dp import run_grid_dp
from splitopt.solvers.kernels import label_passes
from tests.conftest import as_problem, random_chains

DISCS = [
    Discretisation(),
    Discretisation(grid=37),
    Discretisation(tick_s=0.05, mem_grid=13),
    Discretisation(grid=200, mem_tick_bytes=0.7),
]


def _mixed(seed: int, n: int) -> list:
    return random_chains(seed, n, integer=False) + random_chains(seed + 1, n, integer=True)


def _same_as_score(
    c: Chain, x: np.ndarray, lat: float, work: float, mem: float, ok: bool
) -> None:
    """score_flat's figures for one chain equal the evaluator's, bit for bit."""
    s = score(c, x)
    assert (lat, work, mem, bool(ok)) == (
        s.latency_s,
        s.server_work,
        s.client_memory_bytes,
        s.feasible,
    )


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
        _same_as_score(c, x[b.offsets[i] : b.offsets[i + 1]], lat[i], work[i], mem[i], ok[i])


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


@pytest.mark.nojit
def test_numpy_sum_bit_identical_to_numpy():
    rng = np.random.default_rng(3)
    for n in [*range(0, 40), 127, 128, 129, 136, 255, 256, 257, 1000, 2049]:
        a = rng.random(n) * 10.0 ** rng.integers(-6, 16, n)
        assert numpy_sum(a) == a.sum(), n


@pytest.mark.nojit
def test_client_memory_fits_is_numpys_check():
    chains = random_chains(41, 40, integer=False, max_layers=20)
    b = ChainBatch.from_chains(chains)
    rng = np.random.default_rng(1)
    x = (rng.random(int(b.offsets[-1])) < 0.5).astype(np.uint8)
    idx = np.arange(len(b))
    budget = np.array([float(np.nan_to_num(v, nan=1e9)) for v in b.memory_budget_bytes])
    got = client_memory_fits(idx, b.offsets, x, b.client_memory_bytes, budget)
    off = b.offsets
    for i in idx:
        m = b.client_memory_bytes[off[i] : off[i + 1]]
        assert got[i] == (m[x[off[i] : off[i + 1]] == 0].sum() <= budget[i])


@pytest.mark.nojit
def test_passes_batch_equals_label_passes_per_chain():
    chains = random_chains(43, 24, integer=False, max_layers=7)
    b = ChainBatch.from_chains(chains)
    idx = np.arange(0, len(b), 2)
    best, x, code = passes_batch(b, idx, RTOL, 5, 30, 4, 20, 10**6, 50, 6)
    for j, i in enumerate(idx):
        c = chains[i]
        mb = c.memory_budget_bytes
        ref = label_passes(
            *dp_module.kernel_args(c),
            np.inf if mb is None else mb * (1 + RTOL),
            mb is not None,
            np.inf,
            True,
            mb is not None and c.num_layers <= 5,
            30,
            4,
            20,
            10**6,
            np.inf,
            50 if c.num_layers <= 6 else 0,
        )
        assert (best[j], code[j]) == (ref[0], ref[3])
        if code[j] == 0 and np.isfinite(best[j]):
            assert np.array_equal(x[b.offsets[i] : b.offsets[i + 1]], ref[1])
    assert set(code.tolist()) >= {0}


@pytest.mark.parametrize("few_labels", [False, True])
def test_labels_ragged_equals_label_chain(monkeypatch, few_labels):
    """The batched per-chain passes and the leftovers give label_chain's answers;
    with few labels allowed, chains also go the bounds' way (label_chain)."""
    if few_labels:
        monkeypatch.setattr(dp_module, "UNBOUNDED_FIRST_LABELS", 3)
        monkeypatch.setattr(dp_module, "TARGET_LABELS", 3)
    chains = random_chains(47, 90, integer=False, max_layers=10)
    b = ChainBatch.from_chains(chains)
    _, _, resolved = solve_labels_batch(b, RTOL)
    assert (~resolved).sum() >= 5
    names, x, have = dp_module.labels_ragged(b)
    for i, c in enumerate(chains):
        sol = dp_module.label_chain(c)
        assert names[i] == sol.status
        assert have[i] == (sol.placement is not None)
        if sol.placement is not None:
            assert np.array_equal(x[b.offsets[i] : b.offsets[i + 1]], sol.placement)


@pytest.mark.nojit
def test_score_flat_one_length_bit_identical_to_score():
    """Chains of one length: score_flat reads their rows as views (segment_rows)."""
    chains = [c for c in _mixed(11, 60) if c.num_layers == 5]
    b = ChainBatch.from_chains(chains)
    x = np.random.default_rng(4).random(int(b.offsets[-1])) < 0.5
    lat, work, mem, ok = score_flat(b, x, None, RTOL)
    for i, c in enumerate(chains):
        _same_as_score(c, x[b.offsets[i] : b.offsets[i + 1]], lat[i], work[i], mem[i], ok[i])
    assert len(chains) >= 5
