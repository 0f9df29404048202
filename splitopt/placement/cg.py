"""CG-BPRR: conservative greedy block placement + shortest-path request routing.

Sun, He, Ji, Parag, arXiv:2512.21884 (the offline algorithm and its performance
theorem); the authors' MATLAB (GitHub ``TingyangSunJeff/LLM_inference_simulator``,
files ``CG_BP.m``, ``choose_num_blocks_proposed.m``, ``BPRR_heuristic_general.m``).

1. Block counts (``choose_num_blocks_proposed.m``): m_j = min(floor(M_j / (s_m + s_c R)),
   L, cap_j), so that every server keeps cache for R concurrent requests on all its
   blocks.
2. Greedy placement (``CG_BP.m``): servers in increasing order of the amortised time
   t~_j = max_c (t_cj + tau_j m_j) / m_j; while some block has capacity below R, the
   server takes the window that holds an under-served block and has the largest
   remaining amortised time T_b (first such window on ties); afterwards, the window
   whose sorted capacities are lexicographically smallest.
3. Routing: per (client, l_in, l_out) class one least-cost route over the block-range
   DAG (:mod:`splitopt.placement.routing`).

The reported ``bound`` is the theorem's bound as computed in ``CG_BP.m``:
sum_{i<=K} t~_{o_i} m_{o_i} - tau_{o_K} (sum_{i<=K} m_{o_i} - L), with K the least
number of servers (in greedy order) whose capacities cover R on every block; it
bounds each request's per-token decode time sum_j (t_cj + k_j tau_j) when at most R
requests are concurrent and routes minimise that time (``route_objective="per-token"``).

Assumptions of ours (the sources are silent): servers whose count is 0 are not
placed; the design cache size s_c uses the longest job (l_in + l_out) unless
``design_tokens`` is given; R defaults to the number of jobs (all concurrent, the
offline problem); by default routes minimise the whole T_r (prefill + decode; the
MATLAB minimises the per-token time only); when the routes break a memory limit (R
below the number of jobs, or jobs longer than the design), jobs are re-routed one
by one over servers that still have room for the job's cache on all their blocks.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from splitopt.errors import SolverError
from splitopt.placement.evaluate import RTOL, evaluate
from splitopt.placement.kernels import cg_greedy_kernel
from splitopt.placement.model import Cluster, Job, Placement, Route
from splitopt.placement.result import PlacementResult
from splitopt.placement.routing import dag_route

ROUTE_OBJECTIVES = ("total", "per-token")


def conservative_counts(cluster: Cluster, R: int, s_c: float) -> np.ndarray:
    """m_j = min(floor(M_j / (s_m + s_c R)), L, cap_j) (``choose_num_blocks_proposed.m``)."""
    per_block = cluster.model.block_bytes + s_c * R
    caps = cluster.caps()
    if per_block <= 0:
        return caps.astype(np.int64)
    m = np.floor(cluster.memory() * (1 + RTOL) / per_block).astype(np.int64)
    return np.minimum(m, caps)


def greedy_placement(
    cluster: Cluster, counts: np.ndarray, R: int, s_c: float
) -> tuple[Placement, np.ndarray, float | None, np.ndarray]:
    """CG-BP's greedy placement (``CG_BP.m``).

    Returns (placement, server order, bound or None, per-block capacities).
    """
    L = cluster.num_blocks
    S = cluster.num_servers
    s_m = cluster.model.block_bytes
    tau = cluster.decode()
    M = cluster.memory()
    host = counts > 0
    t_tilde = np.full(S, np.inf)
    if host.any():
        worst = (cluster.rtt_s + tau * counts).max(axis=0)  # t_j = max_c (t_cj + tau_j m_j)
        t_tilde[host] = worst[host] / counts[host]
    order = np.argsort(t_tilde, kind="mergesort")
    order = order[host[order]]
    if s_c > 0:
        sessions = np.floor((M - s_m * counts) * (1 + RTOL) / (s_c * np.maximum(counts, 1)))
    else:
        sessions = np.full(S, float(R))
    max_t = (t_tilde[host].max() + 1.0) if host.any() else 1.0  # virtual servers' time per block
    first, K, Cb = cg_greedy_kernel(
        counts.astype(np.int64),
        t_tilde,
        order.astype(np.int64),
        sessions.astype(np.float64),
        float(R),
        float(max_t),
        L,
    )
    K = int(K) or None
    placement = Placement(first, np.where(first > 0, counts, 0))
    bound = None
    if K is not None:
        top = order[:K]
        bound = float(
            (t_tilde[top] * counts[top]).sum() - tau[order[K - 1]] * (counts[top].sum() - L)
        )
    return placement, order, bound, Cb


def route_costs(cluster: Cluster, job: Job, objective: str = "total") -> tuple[np.ndarray, ...]:
    """(hop_cost, block_cost) per server for ``job``: T_r, or per-token time only."""
    c = job.client
    tau = cluster.decode()
    if objective == "per-token":
        return cluster.rtt_s[c].copy(), tau
    n = job.l_out - 1
    hop = (
        cluster.prefill_rtt_s[c] + cluster.prefill_rtt_per_token_s[c] * job.l_in
    ) + n * cluster.rtt_s[c]
    block = cluster.prefill(job.l_in) + n * tau
    return hop, block


def shortest_routes(
    cluster: Cluster, placement: Placement, objective: str = "total"
) -> list[Route | None]:
    """One least-cost route per job (memory ignored), shared by jobs of one class."""
    cache: dict[tuple[int, int, int], Route | None] = {}
    out: list[Route | None] = []
    for job in cluster.jobs:
        key = (job.client, job.l_in, job.l_out) if objective == "total" else (job.client, 0, 0)
        if key not in cache:
            hop, block = route_costs(cluster, job, objective)
            cost, route = dag_route(placement, cluster.num_blocks, hop, block)
            cache[key] = route if math.isfinite(cost) else None
        out.append(cache[key])
    return out


def memory_aware_routes(
    cluster: Cluster, placement: Placement, objective: str = "total"
) -> list[Route | None]:
    """Jobs routed one by one over servers with room for the job's cache on all
    their blocks (ours: the conservative check PETALS's client also makes)."""
    free = cluster.memory() * (1 + RTOL) - cluster.model.block_bytes * placement.count
    out: list[Route | None] = []
    for job in cluster.jobs:
        s_c = cluster.model.cache_bytes(job.l_in, job.l_out)
        allowed = free >= s_c * placement.count
        hop, block = route_costs(cluster, job, objective)
        cost, route = dag_route(placement, cluster.num_blocks, hop, block, allowed=allowed)
        if not math.isfinite(cost):
            out.append(None)
            continue
        nxt = 1
        for j in route:
            end = int(placement.first[j] + placement.count[j])
            free[j] -= s_c * (end - nxt)
            nxt = end
        out.append(route)
    return out


class CGBPRR:
    """``cg-bprr``: conservative greedy block placement + shortest-path routing."""

    name = "cg-bprr"
    exact = False
    description = "CG-BPRR (Sun et al. 2025): conservative greedy placement, shortest paths"

    def __init__(
        self,
        R: int | None = None,
        design_tokens: int | None = None,
        route_objective: str = "total",
        **_: Any,
    ) -> None:
        if R is not None and (isinstance(R, bool) or int(R) != R or R < 1):
            raise SolverError(f"cg-bprr: R must be a whole number >= 1, got {R!r}")
        if design_tokens is not None and int(design_tokens) < 1:
            raise SolverError(f"cg-bprr: design_tokens must be >= 1, got {design_tokens!r}")
        if route_objective not in ROUTE_OBJECTIVES:
            raise SolverError(
                f"cg-bprr: route_objective must be one of {', '.join(ROUTE_OBJECTIVES)}"
            )
        self.R = None if R is None else int(R)
        self.design_tokens = None if design_tokens is None else int(design_tokens)
        self.route_objective = route_objective

    @classmethod
    def available(cls) -> bool:
        return True

    def design(self, cluster: Cluster) -> tuple[int, float]:
        """(R, s_c) used for the block counts."""
        R = self.R if self.R is not None else max(len(cluster.jobs), 1)
        tokens = self.design_tokens
        if tokens is None:
            tokens = max((j.l_in + j.l_out for j in cluster.jobs), default=1)
        return R, cluster.model.cache_bytes_per_token * tokens

    def place(self, cluster: Cluster) -> tuple[Placement, float | None, np.ndarray]:
        """Placement, bound and per-block capacities (no routing)."""
        R, s_c = self.design(cluster)
        counts = conservative_counts(cluster, R, s_c)
        placement, _, bound, Cb = greedy_placement(cluster, counts, R, s_c)
        return placement, bound, Cb

    def solve(self, cluster: Cluster) -> PlacementResult:
        t0 = time.perf_counter()
        R, s_c = self.design(cluster)
        placement, bound, Cb = self.place(cluster)
        options = {
            "R": R,
            "design_tokens": round(s_c / cluster.model.cache_bytes_per_token)
            if cluster.model.cache_bytes_per_token
            else None,
            "route_objective": self.route_objective,
        }
        msg = None if (Cb >= R).all() else f"block capacity below R = {R} on some blocks"
        routes = shortest_routes(cluster, placement, self.route_objective)
        if all(r is not None for r in routes):
            score = evaluate(cluster, placement, routes)  # type: ignore[arg-type]
            if not score.feasible:
                routes = memory_aware_routes(cluster, placement, self.route_objective)
        runtime = time.perf_counter() - t0
        if any(r is None for r in routes):
            missing = "some block is hosted nowhere" if (Cb == 0).any() else "no memory left"
            return PlacementResult.build(
                cluster,
                self.name,
                "infeasible",
                placement,
                (),
                bound=bound,
                runtime_s=runtime,
                options=options,
                message=f"no route for some job: {missing}",
                bound_kind="upper-per-token",
            )
        return PlacementResult.build(
            cluster,
            self.name,
            "feasible",
            placement,
            routes,  # type: ignore[arg-type]
            bound=bound,
            runtime_s=runtime,
            options=options,
            message=msg,
            bound_kind="upper-per-token",
        )


__all__ = [
    "CGBPRR",
    "conservative_counts",
    "greedy_placement",
    "memory_aware_routes",
    "route_costs",
    "shortest_routes",
]
