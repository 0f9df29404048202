"""Issue 9, group 3: limits that hold (time limits inside a chain, bounded memory,
refusals with exit 2 instead of MemoryError). No test here measures time: the
overshoot past ``--time-limit`` is measured by ``benchmarks/time_limits.py``."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import splitopt
from splitopt.discretise import AUTO_GRID_BYTES, default_grid, tick_chain
from splitopt.errors import InputError, SolverError
from splitopt.evaluate import score, score_batch
from splitopt.families.random_chain import random_chain
from splitopt.problem import Chain
from splitopt.solvers import dp as dp_mod
from splitopt.solvers.baselines import GreedyRatio, prefix_placements, prefix_scores
from splitopt.solvers.dp import DPStopped, run_grid_dp, solve_labels, table_bytes
from tests.conftest import DATA, as_problem, random_chains, run_cli


def near_identical(L: int, seed: int = 0) -> Chain:
    """The adversarial chain of issue 9: near-identical layers and a binding memory
    budget (the label DP's fronts explode)."""
    rng = np.random.default_rng(seed)
    eps = 1e-6 * rng.random(L)
    return Chain(
        client_time_s=1.0 + eps,
        server_time_s=np.full(L, 0.1),
        server_work=1.0 + eps[::-1],
        uplink_s=np.full(L + 1, 0.01),
        downlink_s=np.full(L + 1, 0.01),
        client_memory_bytes=1.0 + eps,
        sla_s=0.5 * L,
        memory_budget_bytes=0.4 * L,
    )


@pytest.mark.nojit
def test_label_dp_stops_at_its_deadline() -> None:
    c = near_identical(40)
    with pytest.raises(DPStopped) as e:
        solve_labels(c, deadline=time.perf_counter() - 1.0)
    assert e.value.reason == "time"


@pytest.mark.nojit
def test_grid_dps_stop_at_their_deadline() -> None:
    c = near_identical(40)
    for mem in (None, 8):
        t = tick_chain(c, grid=50, mem_grid=mem)
        if mem is None:
            t = tick_chain(c.replace(memory_budget_bytes=None), grid=50)
        with pytest.raises(DPStopped):
            run_grid_dp(t, deadline=time.perf_counter() - 1.0)


def test_dp_exact_with_a_spent_time_limit_returns_a_feasible_placement_or_time_limit() -> None:
    c = near_identical(60)
    sol = splitopt.get_solver("dp-exact").solve_chain(c, time_limit=1e-9)
    assert sol.status in ("feasible", "time_limit")
    assert "time limit" in (sol.message or "")
    if sol.placement is not None:
        assert score(c, sol.placement).feasible


def test_dp_exact_label_cap_bounds_memory_and_falls_back(monkeypatch) -> None:
    from benchmarks.chains import block_chain

    monkeypatch.setattr(dp_mod, "MAX_LABELS", 20)
    # jittered blocks: no pass certifies them in 20 labels (near_identical(60) is
    # certified by the flips that follow the cardinality-bounded pass; these by the
    # quick pass in 34)
    c = block_chain(24, memory=True, seed=0, jitter=0.1)
    sol = splitopt.get_solver("dp-exact").solve_chain(c)
    assert sol.status in ("feasible", "error")
    assert "label cap" in (sol.message or "")
    if sol.placement is not None:
        assert score(c, sol.placement).feasible
    with pytest.raises(DPStopped) as e:
        solve_labels(c, max_labels=20)
    assert e.value.reason == "labels" and e.value.labels <= 20


def test_grid_size_check_counts_the_float_rows() -> None:
    # issue 9: --grid 2e9 passed the check (choice bytes only) and hit MemoryError
    c = random_chains(1, 1, integer=True, max_layers=1)[0]
    assert table_bytes(1, 2_000_000_000) > dp_mod.MAX_TABLE_BYTES
    with pytest.raises(SolverError, match="bytes of tables"):
        splitopt.solve(as_problem([c]), "dp", grid=2_000_000_000)


def test_cli_grid_2e9_exits_2(handmade) -> None:
    r = run_cli("solve", str(handmade), "--solver", "dp", "--grid", "2000000000")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr


def test_default_grid_grows_with_L_within_its_memory() -> None:
    prev = 0
    for L in (1, 10, 100, 1000, 5000, 100_000, 1_000_000):
        n = default_grid(L)
        assert n >= prev or n >= 1000
        assert n >= 100 * (2 * L + 1) or table_bytes(L, n) <= AUTO_GRID_BYTES or n == 1000
        prev = n
    assert default_grid(5000) > 20000  # was capped at 20,000 (worse than greedy at L = 5,000)


def test_dp_default_grid_never_worse_than_greedy(monkeypatch) -> None:
    # force a coarse default grid (as at L = 100,000: ~5,000 ticks for 200,001 items)
    monkeypatch.setattr("splitopt.discretise.AUTO_GRID_BYTES", 3_000)
    monkeypatch.setattr("splitopt.discretise.DEFAULT_GRID", 20)
    chains = random_chains(21, 120, integer=False, max_layers=60)
    p = as_problem(chains)
    d = splitopt.solve(p, "dp")
    g = splitopt.solve(p, "greedy")
    for i in range(len(chains)):
        if g.evaluation.feasible[i]:
            assert d.evaluation.feasible[i]
            assert d.evaluation.server_work[i] <= g.evaluation.server_work[i]


def test_prefix_scores_equal_the_evaluator() -> None:
    for c in random_chains(3, 60, integer=False, max_layers=14):
        lat, work, mem = prefix_scores(c)
        a, b, m = score_batch(c, prefix_placements(c.num_layers))
        assert np.allclose(lat, a, rtol=1e-12, atol=1e-12)
        assert np.allclose(work, b, rtol=1e-12) and np.allclose(mem, m, rtol=1e-12)


def test_greedy_skip_equals_its_definition_and_keeps_its_limit() -> None:
    from splitopt.solvers.baselines import GreedySkip

    def by_definition(chain):  # O(L²): the evaluator on every move
        x = np.ones(chain.num_layers, dtype=bool)
        if not score(chain, x).feasible:
            return None
        for layer in range(chain.num_layers):
            x[layer] = False
            if not score(chain, x).feasible:
                x[layer] = True
        return x

    for integer in (False, True):
        for c in random_chains(7, 150, integer=integer, max_layers=30):
            want, got = by_definition(c), GreedySkip().solve_chain(c).placement
            assert (want is None and got is None) or np.array_equal(want, got)
    long = random_chain(np.random.default_rng(4), 100_000, memory=False)
    sol = GreedySkip().solve_chain(long, time_limit=1e-9)
    assert sol.status == "feasible" and sol.message == "time limit reached"
    assert score(long, sol.placement).feasible


def test_suffix_scores_equal_the_evaluator() -> None:
    from splitopt.solvers.baselines import suffix_placements, suffix_scores

    for c in random_chains(5, 60, integer=False, max_layers=14):
        lat, work, mem = suffix_scores(c)
        a, b, m = score_batch(c, suffix_placements(c.num_layers))
        assert np.allclose(lat, a, rtol=1e-12, atol=1e-12)
        assert np.allclose(work, b, rtol=1e-12) and np.allclose(mem, m, rtol=1e-12)


def test_cut_baselines_handle_100k_layers_in_linear_memory() -> None:
    # issue 9: the comparison table's greedy built the (L + 1) x L prefix matrix (10 GB here)
    rng = np.random.default_rng(4)
    c = random_chain(rng, 100_000, memory=False)
    p = as_problem([c])
    for name in ("greedy", "best-cut", "greedy-backward", "greedy-skip"):
        r = splitopt.solve(p, name)
        assert r.statuses[0] in ("feasible", "infeasible")


def test_greedy_ratio_stops_at_the_time_limit_with_a_feasible_placement() -> None:
    rng = np.random.default_rng(5)
    c = random_chain(rng, 300, memory=False)
    c = c.replace(sla_s=c.sla_s * 5)
    sol = GreedyRatio().solve_chain(c, time_limit=1e-9)
    assert sol.status == "feasible" and sol.message == "time limit reached"
    assert score(c, sol.placement).feasible
    full = GreedyRatio().solve_chain(c)
    assert score(c, full.placement).server_work <= score(c, sol.placement).server_work


def test_scenario_count_1e9_is_refused() -> None:
    from splitopt.formats.scenario_file import scenario_from_dict

    path = sorted((DATA / "scenario" / "good").glob("*.json"))[0]
    doc = json.loads(path.read_text())
    doc["requests"][0].pop("rate", None)
    doc["requests"][0]["count"] = 1_000_000_000
    with pytest.raises(InputError, match="more than"):
        scenario_from_dict(doc, path)
