"""PETALS's own block placement and routing, as its source code does it.

Sources (bigscience-workshop/petals):

* ``src/petals/server/server.py::Server._choose_num_blocks`` — the block count:
  floor((total_memory - autograd_memory) / (block_size + cache_bytes_per_block)),
  capped at L, where autograd_memory = 2 GiB x hidden_size / 14336 and
  cache_bytes_per_block holds ``attn_cache_tokens`` = 4096 tokens (16384 with
  multi-query attention; option ``attn_cache_tokens``). The server's attention cache
  is cache_bytes_per_block x num_blocks.
* ``src/petals/server/throughput.py`` (as replicated in the authors' MATLAB
  ``compute_throughput.m``): announced throughput = min(forward_rps / ((1 + m) / 2),
  network_rps).
* ``src/petals/server/block_selection.py::_choose_best_start`` — a joining server
  starts at the window whose sorted per-block throughputs are lexicographically
  smallest (first window on ties); servers join one by one in a seeded random order.
* ``src/petals/client/routing/sequence_manager.py::_build_inference_graph`` /
  ``_make_sequence_with_min_latency`` — Dijkstra over (server, block) states: entering a
  server costs rtt/2 + 18 ms (+ 10 s when ``_has_cache_for`` fails: needed tokens x
  span length > the server's cache tokens left), each block 1 / inference_rps, leaving
  the last server for the client rtt/2; a server is always run to the end of its span.

The authors' MATLAB ``Petals.m`` / ``choose_num_blocks_petals.m`` /
``block_selection_petals.m`` do the same; we read both.

Assumptions of ours (the sources are silent or the model differs):

* The delay of a server-to-server hop is the servers' own ping / 2 when the cluster
  gives it (``Cluster.server_rtt_s``, as PETALS does); otherwise (hub-and-spoke
  clusters) the client's network round trip to the next server / 2.
* ``rtt`` is ``Cluster.network_rtt_s`` (raw ping; defaults to the per-token round trip).
* When a server does not announce them: inference_rps = 1 / decode_s,
  forward_rps = 1 / prefill_s1 (1 / decode_s if that is 0), network_rps = infinity.
* hidden_size unknown (0) -> the autograd reserve is BLOOM's 2 GiB.
* A server whose count is below 1 does not join (PETALS refuses to start).
* Requests are routed one by one in job order; a routed request's cache is taken
  from each server for the blocks it actually runs there; the cache check uses the
  cache bytes per token of the model (PETALS counts 2 x hidden_size per token, which
  is the same without grouped-query attention).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from splitopt.errors import SolverError
from splitopt.placement.kernels import lex_min_window, petals_place_kernel
from splitopt.placement.model import Cluster, Placement, Route
from splitopt.placement.result import PlacementResult
from splitopt.placement.routing import dag_route

GIB = 1024**3
OVERHEAD_S = 0.018  # serialization overhead per hop (sequence_manager.py)
ALLOC_DELAY_S = 10.0  # penalty when a server has no cache room (sequence_manager.py)
ATTN_CACHE_TOKENS = 4096  # server.py default without multi-query attention


def petals_counts(
    cluster: Cluster,
    attn_cache_tokens: int = ATTN_CACHE_TOKENS,
    autograd_bytes: float | None = None,
) -> np.ndarray:
    """``_choose_num_blocks`` for every server (0 for a server that cannot start), capped
    at the server's ``max_blocks`` (as the authors' ``Petals_online.m`` caps a MIG slice
    at 4 blocks; a PETALS server is started with ``--num_blocks`` where it must run fewer)."""
    model = cluster.model
    if autograd_bytes is None:
        d = model.hidden_size or 14336
        autograd_bytes = 2 * GIB * d / 14336
    per_block = model.block_bytes + model.cache_bytes_per_token * attn_cache_tokens
    M = cluster.memory()
    caps = cluster.caps().astype(np.int64)
    if per_block <= 0:  # nothing to store: memory limits nothing
        return np.where(autograd_bytes <= M, caps, 0).astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.floor(np.maximum(M - autograd_bytes, 0.0) / per_block)
    m = np.minimum(np.nan_to_num(m, nan=0.0, posinf=float(cluster.num_blocks)), caps)
    return np.clip(m, 0, cluster.num_blocks).astype(np.int64)


def announced_throughput(cluster: Cluster, counts: np.ndarray) -> np.ndarray:
    """min(forward_rps / ((1 + m) / 2), network_rps) per server (``throughput.py``)."""
    out = np.zeros(cluster.num_servers)
    for j, s in enumerate(cluster.servers):
        fwd = s.forward_rps
        if fwd is None:
            base = s.prefill_s1 if s.prefill_s1 > 0 else s.decode_s
            fwd = 1.0 / base if base > 0 else math.inf
        net = s.network_rps if s.network_rps is not None else math.inf
        out[j] = min(fwd / ((1 + counts[j]) / 2), net)
    return out


def inference_rps(cluster: Cluster) -> np.ndarray:
    out = np.empty(cluster.num_servers)
    for j, s in enumerate(cluster.servers):
        if s.inference_rps is not None:
            out[j] = s.inference_rps
        else:
            out[j] = 1.0 / s.decode_s if s.decode_s > 0 else math.inf
    return out


def choose_best_start(throughputs: np.ndarray, m: int) -> int:
    """0-based start of the window with the lexicographically smallest sorted throughputs
    (``_choose_best_start``; first window on ties)."""
    return int(lex_min_window(np.asarray(throughputs, dtype=np.float64), int(m)))


def petals_placement(
    cluster: Cluster,
    order: np.ndarray,
    counts: np.ndarray,
    throughput: np.ndarray,
) -> Placement:
    """Servers join in ``order``; each takes ``choose_best_start``'s window."""
    first = petals_place_kernel(
        np.asarray(order, dtype=np.int64),
        np.asarray(counts, dtype=np.int64),
        np.asarray(throughput, dtype=np.float64),
        cluster.num_blocks,
    )
    return Placement(first, np.where(first > 0, counts, 0))


def server_route(
    placement: Placement,
    L: int,
    enter: np.ndarray,
    pair: np.ndarray,
    block: np.ndarray,
    sink: np.ndarray,
) -> tuple[float, Route | None]:
    """Least-cost route over servers (each runs to the end of its span): entering j
    first costs ``enter[j]``, after server i ``pair[i, j]``, each block ``block[j]``,
    the last server adds ``sink[j]``. Returns (cost, route) ((inf, None) if none)."""
    first, count = placement.first, placement.count
    end = first + count
    order = np.argsort(end, kind="mergesort")
    best = np.full(len(first), math.inf)
    pred = np.full(len(first), -1)
    top, last = math.inf, -1
    for q, j in enumerate(order):
        if count[j] <= 0:
            continue
        val = enter[j] + (end[j] - 1) * block[j] if first[j] <= 1 else math.inf
        for i in order[:q]:
            if count[i] <= 0 or not math.isfinite(best[i]) or not first[j] <= end[i] < end[j]:
                continue
            v = best[i] + pair[i, j] + (end[j] - end[i]) * block[j]
            if v < val:
                val, pred[j] = v, i
        best[j] = val
        if end[j] == L + 1 and val + sink[j] < top:
            top, last = val + sink[j], int(j)
    if last < 0:
        return math.inf, None
    route = [last]
    while pred[route[-1]] >= 0:
        route.append(int(pred[route[-1]]))
    return top, tuple(reversed(route))


def petals_routes(
    cluster: Cluster,
    placement: Placement,
    *,
    attn_cache_tokens: int = ATTN_CACHE_TOKENS,
    overhead_s: float = OVERHEAD_S,
    alloc_delay_s: float = ALLOC_DELAY_S,
) -> tuple[list[Route | None], int]:
    """Min-latency routes, one job at a time; returns (routes, penalised hops taken)."""
    cbpt = cluster.model.cache_bytes_per_token
    count = placement.count
    cache_left = cbpt * attn_cache_tokens * count.astype(np.float64)  # bytes
    rps = inference_rps(cluster)
    block_cost = 1.0 / rps
    half = cluster.network_rtt_s / 2
    routes: list[Route | None] = []
    penalised = 0
    memo: dict[tuple[int, int, bytes], Route | None] = {}
    for job in cluster.jobs:
        tokens = job.l_in + job.l_out
        no_room = cbpt * tokens * count > cache_left
        key = (job.client, tokens, np.packbits(no_room).tobytes())
        if key not in memo:
            pen = np.where(no_room, alloc_delay_s, 0.0)
            hop = half[job.client] + overhead_s + pen
            if cluster.server_rtt_s is not None:  # the servers' own pings between them
                pair = cluster.server_rtt_s / 2 + overhead_s + pen[None, :]
                cost, route = server_route(
                    placement, cluster.num_blocks, hop, pair, block_cost, half[job.client]
                )
            else:
                cost, route = dag_route(
                    placement, cluster.num_blocks, hop, block_cost, sink_cost=half[job.client]
                )
            memo[key] = route if math.isfinite(cost) else None
        route = memo[key]
        routes.append(route)
        if route is None:
            continue
        nxt = 1
        for j in route:
            penalised += int(no_room[j])
            end = int(placement.first[j] + count[j])
            cache_left[j] -= cbpt * tokens * (end - nxt)
            nxt = end
    return routes, penalised


class Petals:
    """``petals``: PETALS's placement (memory-filling counts, throughput-balancing
    starts, random join order) and its min-latency routing."""

    name = "petals"
    exact = False
    description = "PETALS (Borzunov et al. 2023) as its source code places and routes"

    def __init__(
        self,
        seed: int = 0,
        order: str | list[int] = "random",
        attn_cache_tokens: int = ATTN_CACHE_TOKENS,
        autograd_bytes: float | None = None,
        counts: list[int] | None = None,
        **_: Any,
    ) -> None:
        if isinstance(order, str) and order not in ("random", "given"):
            raise SolverError("petals: order must be 'random', 'given' or a list of servers")
        if int(attn_cache_tokens) < 1:
            raise SolverError("petals: attn_cache_tokens must be >= 1")
        if int(seed) < 0:
            raise SolverError(f"petals: seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self.order = order
        self.attn_cache_tokens = int(attn_cache_tokens)
        self.autograd_bytes = autograd_bytes
        self.counts = counts

    @classmethod
    def available(cls) -> bool:
        return True

    def join_order(self, cluster: Cluster) -> np.ndarray:
        S = cluster.num_servers
        if isinstance(self.order, str):
            if self.order == "given":
                return np.arange(S)
            return np.random.default_rng(self.seed).permutation(S)
        order = np.asarray(self.order, dtype=np.int64)
        if sorted(order.tolist()) != list(range(S)):
            raise SolverError(f"petals: order must be a permutation of 0..{S - 1}")
        return order

    def place(self, cluster: Cluster) -> Placement:
        if self.counts is not None:
            counts = np.asarray(self.counts, dtype=np.int64)
            if counts.shape != (cluster.num_servers,) or (counts < 0).any():
                raise SolverError("petals: counts must give one non-negative count per server")
            counts = np.minimum(counts, cluster.caps())
        else:
            counts = petals_counts(cluster, self.attn_cache_tokens, self.autograd_bytes)
        tp = announced_throughput(cluster, counts)
        return petals_placement(cluster, self.join_order(cluster), counts, tp)

    def solve(self, cluster: Cluster) -> PlacementResult:
        t0 = time.perf_counter()
        placement = self.place(cluster)
        routes, penalised = petals_routes(
            cluster, placement, attn_cache_tokens=self.attn_cache_tokens
        )
        runtime = time.perf_counter() - t0
        options = {
            "seed": self.seed,
            "order": self.order if isinstance(self.order, str) else list(self.order),
            "attn_cache_tokens": self.attn_cache_tokens,
        }
        if any(r is None for r in routes):
            return PlacementResult.build(
                cluster,
                self.name,
                "infeasible",
                placement,
                (),
                runtime_s=runtime,
                options=options,
                message="some block is hosted by no server",
            )
        msg = f"{penalised} hops through servers without cache room" if penalised else None
        return PlacementResult.build(
            cluster,
            self.name,
            "feasible",
            placement,
            routes,  # type: ignore[arg-type]
            runtime_s=runtime,
            options=options,
            message=msg,
        )


__all__ = [
    "Petals",
    "announced_throughput",
    "choose_best_start",
    "petals_counts",
    "petals_placement",
    "petals_routes",
]
