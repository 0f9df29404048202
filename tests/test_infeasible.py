"""Reasons for unserved requests, checked against enumeration of every placement."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import splitopt
from splitopt.evaluate import RTOL, min_latency, score
from splitopt.infeasible import explain, reasons
from splitopt.problem import Chain, Problem, Request


def _chain(rng: np.random.Generator, L: int, sla_scale: float, budget_scale: float | None) -> Chain:
    mag = 10.0 ** rng.uniform(-3, 2, size=L)  # times over five orders of magnitude
    mem = 10.0 ** rng.uniform(3, 10, size=L)  # memory over seven
    client = mag * rng.uniform(0.5, 20, size=L)
    server = mag * rng.uniform(0.05, 1, size=L)
    up = 10.0 ** rng.uniform(-3, 1, size=L + 1)
    down = 10.0 ** rng.uniform(-3, 1, size=L + 1)
    ch = Chain(client, server, server * 1e9, up, down, mem, 1.0, None)
    sla = min_latency(ch) * sla_scale
    budget = None if budget_scale is None else float(mem.sum() * budget_scale)
    return Chain(client, server, server * 1e9, up, down, mem, sla, budget)


def _enumerate(chain: Chain) -> tuple[float, float | None]:
    """(least latency, least client memory among placements meeting the SLA)."""
    best_lat, best_mem = np.inf, None
    for bits in itertools.product((False, True), repeat=chain.num_layers):
        s = score(chain, np.array(bits))
        lat, mem = s.latency_s, s.client_memory_bytes
        best_lat = min(best_lat, lat)
        if lat <= chain.sla_s * (1 + RTOL) and (best_mem is None or mem < best_mem):
            best_mem = mem
    return best_lat, best_mem


@pytest.mark.parametrize("seed", range(40))
def test_reason_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 9))
    chain = _chain(rng, L, float(rng.choice([0.7, 1.0, 1.3, 3.0])), rng.choice([None, 0.05, 0.4]))
    lat, mem = _enumerate(chain)
    why = explain(chain)
    assert why.min_latency_s == pytest.approx(lat, rel=1e-9)
    if lat > chain.sla_s * (1 + RTOL):
        assert why.code == "sla-below-fastest" and why.min_memory_bytes is None
        return
    assert why.min_memory_bytes == pytest.approx(mem, rel=1e-9, abs=1e-9)
    budget = chain.memory_budget_bytes
    if budget is not None and mem > budget * (1 + RTOL):
        assert why.code == "memory-below-footprint"
    else:
        # a feasible placement exists: the witness meets both, by the evaluator
        assert why.code == "not-found"
        w = score(chain, why.witness)
        w_lat, w_mem = w.latency_s, w.client_memory_bytes
        assert w_lat <= chain.sla_s * (1 + RTOL)
        assert budget is None or w_mem <= budget * (1 + RTOL)


def _problem() -> Problem:
    # a: SLA below the fastest placement; b: memory below the footprint; c: served
    base = dict(
        client_time_s=[1.0, 1.0],
        server_time_s=[0.1, 0.1],
        server_work=[1.0, 1.0],
        uplink_s=[2.0, 0.1, 0.1],
        downlink_s=[0.1, 0.1, 0.1],
        client_memory_bytes=[3e8, 5e8],
    )
    a = Chain(**base, sla_s=0.5)
    b = Chain(**base, sla_s=1.5, memory_budget_bytes=1e8)  # must run layer 0 on the client
    c = Chain(**base, sla_s=10.0)
    return Problem(name="why", requests=(Request("a", a), Request("b", b), Request("c", c)))


def test_reasons_in_api_table_and_json(tmp_path, cli):
    problem = _problem()
    result = splitopt.solve(problem, "dp-exact")
    why = splitopt.reasons(result)
    assert {k: v.code for k, v in why.items()} == {
        "a": "sla-below-fastest",
        "b": "memory-below-footprint",
    }
    assert why["b"].min_memory_bytes == 3e8
    path = tmp_path / "p.json"
    from splitopt.formats.problem_file import write_problem

    write_problem(problem, path)
    out = tmp_path / "s.json"
    proc = cli("solve", str(path), "--solver", "dp-exact", "--per-request", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "1 SLA below the fastest placement" in proc.stdout
    assert "1 memory budget below the smallest footprint" in proc.stdout
    assert "SLA 0.5 s < fastest 1.3 s" in proc.stdout  # per-request reasons
    assert "memory 100 MB < footprint 300 MB" in proc.stdout
    doc = json.loads(out.read_text())
    rows = {r["id"]: r for r in doc["requests"]}
    assert rows["a"]["reason"]["code"] == "sla-below-fastest"
    assert rows["b"]["reason"]["min_memory_bytes"] == 3e8
    assert "reason" not in rows["c"]


def test_reasons_empty_when_everything_is_served():
    problem = splitopt.read("tests/data/docs-examples/scenario.json")
    assert reasons(splitopt.solve(problem, "dp-exact")) == {}
