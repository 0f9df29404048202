"""The evaluator: SPEC §1 latency, work, memory and feasibility."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.evaluate import PlacementError, evaluate, parse_placement, score
from splitopt.problem import Chain, DataError, Problem, Request


def chain(**kw):
    base = dict(
        client_time_s=[1, 2, 3],
        server_time_s=[0.5, 0.5, 0.5],
        server_work=[10, 20, 30],
        uplink_s=[0.1, 0.2, 0.3, 0.4],
        downlink_s=[1, 2, 3, 4],
        client_memory_bytes=[100, 200, 300],
        sla_s=5.0,
    )
    base.update(kw)
    return Chain(**base)


def test_latency_by_hand():
    c = chain()
    # C S C with start=end=client: a0 + u1 + c1 + v2 + a2 = 1 + 0.2 + 0.5 + 3 + 3
    s = score(c, "CSC")
    assert s.latency_s == pytest.approx(7.7)
    assert s.server_work == 20 and s.client_memory_bytes == 400
    assert not s.feasible
    # S S S: u0 + 1.5 + v3
    s = score(c, "SSS")
    assert s.latency_s == pytest.approx(0.1 + 1.5 + 4) and s.feasible is False
    # start and end on the server: SSS has no transfer at all
    s = score(chain(start="server", end="server"), "SSS")
    assert s.latency_s == pytest.approx(1.5) and s.feasible


def test_tolerance_is_relative_1e9():
    c = chain(client_time_s=[1, 1, 1], sla_s=3.0)
    assert score(c, "CCC").feasible
    c2 = chain(client_time_s=[1, 1, 1.0 + 3e-9], sla_s=3.0)
    assert score(c2, "CCC").feasible  # within 1e-9 relative of 3
    c3 = chain(client_time_s=[1, 1, 1.0 + 1e-8], sla_s=3.0)
    assert not score(c3, "CCC").feasible


def test_memory_budget():
    c = chain(memory_budget_bytes=300.0, sla_s=100.0)
    assert score(c, "CCS").feasible and not score(c, "CCC").feasible


def test_bad_placements():
    c = chain()
    for bad in ("CC", "CCCC", "CXS", "ccs"):
        with pytest.raises(PlacementError):
            parse_placement(bad, c.num_layers)


def test_evaluate_mapping_and_missing():
    p = Problem("p", (Request("a", chain()), Request("b", chain(sla_s=100.0))))
    ev = evaluate(p, {"a": "SSS", "b": None})
    assert np.isnan(ev.server_work[1]) and not ev.feasible[1]
    with pytest.raises(PlacementError, match="no placement for request 'b'"):
        evaluate(p, {"a": "SSS"})
    with pytest.raises(PlacementError, match="unknown request id"):
        evaluate(p, {"a": "SSS", "b": "SSS", "c": "SSS"})


def test_chain_validation_names_the_field():
    with pytest.raises(DataError, match=r"uplink_s\[2\]: must be non-negative"):
        chain(uplink_s=[0, 0, -1, 0])
    with pytest.raises(DataError, match="downlink_s: has length 3, expected 4"):
        chain(downlink_s=[0, 0, 0])
    with pytest.raises(DataError, match="sla_s: must be > 0"):
        chain(sla_s=0)
    with pytest.raises(DataError, match="start"):
        chain(start="edge")
    with pytest.raises(DataError, match="duplicate request id"):
        Problem("p", (Request("a", chain()), Request("a", chain())))


def test_score_equals_score_batch_to_the_last_bit():
    """score (one placement) sums as score_batch does, bit for bit, on chains whose
    figures span many orders of magnitude, both ends on either side."""
    from splitopt.evaluate import feasible_mask, score_batch

    rng = np.random.default_rng(7)
    for L in (1, 2, 5, 24, 97, 300):
        scale = 10.0 ** rng.uniform(-9, 9, size=6)
        c = chain(
            client_time_s=rng.random(L) * scale[0],
            server_time_s=rng.random(L) * scale[1],
            server_work=rng.random(L) * scale[2],
            uplink_s=rng.random(L + 1) * scale[3],
            downlink_s=rng.random(L + 1) * scale[4],
            client_memory_bytes=rng.random(L) * scale[5],
            sla_s=float(rng.random() * L * max(scale[:2])),
            memory_budget_bytes=float(rng.random() * L * scale[5]),
            start=("client", "server")[L % 2],
            end=("server", "client")[L % 3 == 0],
        )
        x = rng.random((40, L)) < rng.random()
        lat, work, mem = score_batch(c, x)
        ok = feasible_mask(c, lat, mem)
        for k in range(40):
            s = score(c, x[k])
            assert (s.latency_s, s.server_work, s.client_memory_bytes) == (lat[k], work[k], mem[k])
            assert s.feasible == bool(ok[k])
