"""Big problem files read into ragged arrays (:class:`BatchProblem`) and solved,
scored, summarised and written without one object per request give exactly what
the per-request path (plain :class:`Problem`) gives: same problem, same statuses,
placements, figures, reasons, summary and solution document."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from splitopt.cli.entry import main
from splitopt.formats import errors
from splitopt.formats.problem_file import read_problem
from splitopt.metrics import accounting, server_only_figures, summarize
from splitopt.problem import BOUNDARY_FIELDS, LAYER_FIELDS, Problem, is_frozen
from splitopt.ragged import BatchProblem
from splitopt.solvers import get_solver


def _doc(n: int = 300, seed: int = 7) -> dict:
    """Mixed requests: 1-10 layers, magnitudes 1e-4..1e3, budgets on half (some
    tight), SLAs from impossible to loose, server ends, weights, meta, duplicates."""
    rng = np.random.default_rng(seed)
    reqs = []
    for i in range(n):
        L = int(rng.integers(1, 11))
        scale = 10.0 ** rng.uniform(-4, 3)

        def arr(k: int, s: float = scale) -> list[float]:
            a = rng.uniform(0, 1, k) * s
            a[rng.uniform(size=k) < 0.1] = 0.0
            return a.tolist()

        r: dict = {
            "id": f"r{i}",
            "client_time_s": arr(L),
            "server_time_s": arr(L, scale / 10),
            "server_work": [int(v) for v in rng.integers(0, 10**9, L)],
            "uplink_s": arr(L + 1),
            "downlink_s": arr(L + 1),
            "sla_s": float(scale * L * rng.choice([0.05, 0.5, 1.0, 5.0])),
        }
        if rng.uniform() < 0.5:
            mem = rng.uniform(0, 1e9, L)
            r["client_memory_bytes"] = mem.tolist()
            r["memory_budget_bytes"] = float(mem.sum() * rng.choice([0.0, 0.2, 0.6, 2.0]))
        if rng.uniform() < 0.3:
            r["weight"] = float(rng.uniform(0, 5))
        if rng.uniform() < 0.1:
            r["start"] = "server"
        if rng.uniform() < 0.1:
            r["end"] = "server"
        if rng.uniform() < 0.1:
            r["meta"] = {"class": f"c{i % 3}", "tags": [1, 2]}
        reqs.append(r)
    for j in range(0, n, 9):  # duplicates of other requests' chains, new ids
        reqs.append({**reqs[j], "id": f"dup{j}", "weight": 2.0})
    rng.shuffle(reqs)  # type: ignore[arg-type]
    return {"format": "splitopt-problem", "version": 1, "name": "mixed", "requests": reqs}


@pytest.fixture(scope="module")
def problems(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Problem, Problem]:
    path = tmp_path_factory.mktemp("big") / "mixed.json"
    path.write_text(json.dumps(_doc()))
    fast = read_problem(path)
    old, errors._FAST = errors._FAST, False
    try:
        slow = read_problem(path)
    finally:
        errors._FAST = old
    return str(path), fast, slow


def test_batch_problem_equals_per_request_problem(problems: tuple) -> None:
    _, fast, slow = problems
    assert isinstance(fast, BatchProblem) and type(slow) is Problem
    assert len(fast.chains) == len(slow.chains) < len(fast)  # duplicates shared
    assert np.array_equal(fast.chain_index, slow.chain_index)
    assert fast.ids == slow.ids and np.array_equal(fast.weights, slow.weights)
    assert fast == slow and hash(fast) == hash(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow
    assert tuple(fast.requests) == slow.requests
    for a, b in zip(fast.chains, slow.chains, strict=True):  # built without re-checking
        assert a.key == b.key and a == b and a.sla_s == b.sla_s
        assert a.memory_budget_bytes == b.memory_budget_bytes and (a.start, a.end) == (
            b.start,
            b.end,
        )
        assert all(is_frozen(getattr(a, f)) for f in LAYER_FIELDS + BOUNDARY_FIELDS)


@pytest.mark.parametrize("solver", ["dp", "greedy", "dp-exact", "server-only"])
def test_same_results(problems: tuple, solver: str) -> None:
    _, fast, slow = problems
    a = get_solver(solver).solve(fast)
    b = get_solver(solver).solve(slow)
    assert a.statuses == b.statuses
    assert a.placements == b.placements
    assert a.messages == b.messages and a.bounds == b.bounds
    ea, eb = a.evaluation, b.evaluation
    for f in ("latency_s", "server_work", "client_memory_bytes", "feasible", "weights"):
        assert np.array_equal(getattr(ea, f), getattr(eb, f), equal_nan=f != "feasible")
    assert a.objective == b.objective
    assert summarize(a) == summarize(b)
    assert 0 < a.num_infeasible < len(fast)  # the data has unserved requests


def test_batched_greedy_and_server_only_match_per_chain(problems: tuple) -> None:
    """The batched greedy and server-only figures against the per-chain code."""
    from splitopt.solvers.base import Solver

    _, fast, slow = problems
    g = get_solver("greedy")
    a, b = g.solve(fast), Solver.solve(g, slow)  # batched vs chain by chain
    assert a.statuses == b.statuses and a.placements == b.placements
    assert a.messages == b.messages
    d = get_solver("dp")
    c, c1 = d.solve(fast), Solver.solve(d, slow)  # flat answers vs one per chain
    assert c.statuses == c1.statuses and c.placements == c1.placements
    assert c.objective == c1.objective
    assert accounting(c, a) == accounting(c1, b)
    sa, sb = server_only_figures(fast), server_only_figures(slow.subset(range(len(slow))))
    assert np.array_equal(sa[0], sb[0]) and np.array_equal(sa[1], sb[1])


def test_solve_json_same_file(problems: tuple, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = problems[0]
    docs = []
    for fast in (True, False):
        out = tmp_path / f"out{fast}.json"
        old, errors._FAST = errors._FAST, fast
        try:
            assert main(["solve", path, "--solver", "dp,greedy", "--json", str(out)]) == 0
        finally:
            errors._FAST = old
        doc = json.loads(out.read_text())
        for d in doc:
            d.pop("runtime_s")
        docs.append(doc)
    capsys.readouterr()
    assert docs[0] == docs[1]
    reasons = [r for r in docs[0][0]["requests"] if "reason" in r]
    assert reasons and {r["reason"]["code"] for r in reasons} >= {"sla-below-fastest"}
