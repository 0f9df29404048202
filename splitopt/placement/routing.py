"""Shortest routes over the block-range DAG of a placement.

A route is a path source -> servers -> sink in which every hop obeys the hop rule
of SPEC-PLACEMENT P1 (the next block needed is hosted by the next server, which
then processes everything up to the end of its range). A hop into server j that
processes k blocks costs ``hop_cost[j] + k * block_cost[j]``; leaving the last
server j for the sink costs ``sink_cost[j]``. Every hop strictly increases the
"next block needed", so the graph is a DAG ordered by a_j + m_j and one pass in
that order is exact:

    best[b]  = least cost of reaching "next block needed = b" (best[1] = 0),
    dist[j]  = hop_cost[j] + min_{a_j <= b <= a_j+m_j-1} best[b] + (a_j + m_j - b) block_cost[j].

O(S log S + S L) per route. :func:`route_networkx` is the same search with
networkx's Dijkstra on an explicit graph (kept to measure against; see
``benchmarks/test_bench_placement.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from splitopt.placement.model import Placement, Route


@njit(cache=True)
def dag_route_kernel(first, count, hop_cost, block_cost, sink_cost, allowed, num_blocks, route):
    """Least-cost route; writes server indices into ``route`` (length >= S).

    Returns ``(cost, hops)``; ``cost = inf`` and ``hops = 0`` when no route exists.
    Ties go to the server first in (end block, index) order.
    """
    S = first.shape[0]
    L = num_blocks
    end = first + count
    order = np.argsort(end, kind="mergesort")
    best = np.full(L + 2, np.inf)
    best_from = np.full(L + 2, -1, dtype=np.int64)
    pred_b = np.zeros(S, dtype=np.int64)
    best[1] = 0.0
    for t in range(S):
        j = order[t]
        m = count[j]
        if m <= 0 or not allowed[j]:
            continue
        a = first[j]
        e = a + m
        if a < 1 or e > L + 1:
            continue
        bc = block_cost[j]
        val = np.inf
        arg = -1
        for b in range(a, e):
            v = best[b] + (e - b) * bc
            if v < val:
                val = v
                arg = b
        if arg < 0:
            continue
        d = hop_cost[j] + val
        if e == L + 1:
            d += sink_cost[j]
        if d < best[e]:
            best[e] = d
            best_from[e] = j
            pred_b[j] = arg
    cost = best[L + 1]
    if not np.isfinite(cost):
        return np.inf, 0
    hops = 0
    b = L + 1
    while b != 1:
        j = best_from[b]
        route[hops] = j
        hops += 1
        b = pred_b[j]
    for i in range(hops // 2):  # reverse in place
        route[i], route[hops - 1 - i] = route[hops - 1 - i], route[i]
    return cost, hops


def dag_route(
    placement: Placement,
    num_blocks: int,
    hop_cost: np.ndarray,
    block_cost: np.ndarray,
    sink_cost: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[float, Route]:
    """Least-cost route (cost, servers); ``(inf, ())`` when the placement has none."""
    S = len(placement)
    sink = np.zeros(S) if sink_cost is None else np.asarray(sink_cost, dtype=np.float64)
    ok = np.ones(S, dtype=np.bool_) if allowed is None else np.asarray(allowed, dtype=np.bool_)
    buf = np.empty(max(S, 1), dtype=np.int64)
    cost, hops = dag_route_kernel(
        placement.first,
        placement.count,
        np.asarray(hop_cost, dtype=np.float64),
        np.asarray(block_cost, dtype=np.float64),
        sink,
        ok,
        int(num_blocks),
        buf,
    )
    return float(cost), tuple(int(j) for j in buf[:hops])


def route_networkx(
    placement: Placement,
    num_blocks: int,
    hop_cost: np.ndarray,
    block_cost: np.ndarray,
    sink_cost: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[float, Route]:
    """The same search with ``networkx.dijkstra_path`` on the explicit hop graph."""
    import networkx as nx

    S = len(placement)
    first, count = placement.first, placement.count
    end = first + count
    sink = np.zeros(S) if sink_cost is None else sink_cost
    ok = np.ones(S, dtype=bool) if allowed is None else allowed
    g = nx.DiGraph()
    src, snk = "src", "snk"
    g.add_nodes_from([src, snk])
    hosts = [j for j in range(S) if count[j] > 0 and ok[j]]
    for j in hosts:
        if first[j] == 1:
            g.add_edge(src, j, weight=hop_cost[j] + count[j] * block_cost[j])
        if end[j] == num_blocks + 1:
            g.add_edge(j, snk, weight=float(sink[j]))
    for i in hosts:
        nxt = end[i]
        for j in hosts:
            if first[j] <= nxt <= end[j] - 1:
                g.add_edge(i, j, weight=hop_cost[j] + (end[j] - nxt) * block_cost[j])
    try:
        cost, path = nx.single_source_dijkstra(g, src, snk, weight="weight")
    except nx.NetworkXNoPath:
        return float("inf"), ()
    return float(cost), tuple(int(j) for j in path[1:-1])


__all__ = ["dag_route", "dag_route_kernel", "route_networkx"]
