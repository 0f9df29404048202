"""The block-range DAG route search against brute force and networkx."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from splitopt.placement.evaluate import hop_blocks
from splitopt.placement.model import Placement
from splitopt.placement.routing import dag_route, route_networkx


def brute_route(p: Placement, L: int, hop, block, sink, allowed) -> float:
    """Least cost over every feasible route (servers used at most once, any order)."""
    S = len(p)
    best = np.inf
    for k in range(1, S + 1):
        for route in itertools.permutations(range(S), k):
            if not all(allowed[j] for j in route):
                continue
            blocks = hop_blocks(p, route, L)
            if blocks is None:
                continue
            cost = sum(hop[j] + kb * block[j] for j, kb in zip(route, blocks, strict=True))
            best = min(best, cost + sink[route[-1]])
    return best


def random_case(rng: np.random.Generator):
    S = int(rng.integers(1, 6))
    L = int(rng.integers(1, 6))
    count = rng.integers(0, L + 1, S)
    first = np.array([rng.integers(1, L - c + 2) if c > 0 else 0 for c in count])
    p = Placement(first, count)
    return p, L, rng.random(S), rng.random(S), rng.random(S), rng.random(S) < 0.85


def _check(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(n):
        p, L, hop, block, sink, allowed = random_case(rng)
        want = brute_route(p, L, hop, block, sink, allowed)
        cost, route = dag_route(p, L, hop, block, sink, allowed)
        if np.isinf(want):
            assert np.isinf(cost) and route == ()
            continue
        assert cost == pytest.approx(want, rel=1e-12)
        blocks = hop_blocks(p, route, L)
        assert blocks is not None and all(allowed[j] for j in route)
        again = sum(hop[j] + k * block[j] for j, k in zip(route, blocks, strict=True))
        assert again + sink[route[-1]] == pytest.approx(cost, rel=1e-12)
        nx_cost, _ = route_networkx(p, L, hop, block, sink, allowed)
        assert nx_cost == pytest.approx(cost, rel=1e-12)


def test_dag_route_equals_brute_force() -> None:
    _check(seed=11, n=400)


@pytest.mark.nojit
def test_dag_route_equals_brute_force_small() -> None:
    _check(seed=12, n=60)


def test_no_route_when_a_block_is_missing() -> None:
    p = Placement.from_ranges([(1, 2), (4, 1)])
    cost, route = dag_route(p, 4, np.ones(2), np.ones(2))
    assert np.isinf(cost) and route == ()
