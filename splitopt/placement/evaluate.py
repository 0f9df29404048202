"""The one evaluator of block placements and routes (after Sun et al., BPRR).

Every placement algorithm's answer is scored here; no algorithm's own objective
is trusted. Hop rule (Sun et al., arXiv:2512.21884, Sec. III): with a dummy source
that "ends" at block 0 and a dummy sink that "starts" at block L+1, a hop i -> j is
feasible iff a_j <= a_i + m_i <= a_j + m_j - 1, and the request is processed at j
on k_j = a_j + m_j - (a_i + m_i) blocks; the route is complete when the last
server ends at block L (a + m = L + 1).

Times (seconds) of request r from client c on route p::

    T_r = sum_j (t^I_cj(l_in) + k_j tau^I_j(l_in)) + (l_out - 1) sum_j (t_cj + k_j tau_j)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.placement.model import Cluster, Job, Placement, Route

#: Relative tolerance of the memory comparisons (as :data:`splitopt.evaluate.RTOL`).
RTOL = 1e-9


def hop_blocks(
    placement: Placement, route: Sequence[int], num_blocks: int
) -> tuple[int, ...] | None:
    """Blocks processed at each hop of ``route`` (k_j), or ``None`` if infeasible.

    Infeasible: an index out of range, a hop that breaks the contiguous-range rule,
    or a route that does not end at block L.
    """
    first, count = placement.first, placement.count
    n = count.size
    nxt = 1  # the next block needed (the dummy source ends at block 0)
    blocks = []
    for j in route:
        j = int(j)
        if not 0 <= j < n:
            return None
        a, m = int(first[j]), int(count[j])
        if not (m > 0 and a <= nxt <= a + m - 1):
            return None
        blocks.append(a + m - nxt)
        nxt = a + m
    if nxt != num_blocks + 1:  # the dummy sink starts at L + 1
        return None
    return tuple(blocks)


def route_problem(placement: Placement, route: Sequence[int], num_blocks: int) -> str | None:
    """Why ``route`` is infeasible (one line), or ``None``."""
    first, count = placement.first, placement.count
    nxt = 1
    for h, j in enumerate(route):
        j = int(j)
        if not 0 <= j < count.size:
            return f"hop {h}: server index {j} out of range"
        a, m = int(first[j]), int(count[j])
        if m == 0:
            return f"hop {h}: server {j} hosts no block"
        if not a <= nxt <= a + m - 1:
            return (
                f"hop {h}: server {j} hosts blocks {a}..{a + m - 1}, the next block needed is {nxt}"
            )
        nxt = a + m
    if nxt != num_blocks + 1:
        return f"route ends after block {nxt - 1}, the model has {num_blocks}"
    return None


@dataclass(frozen=True)
class JobScore:
    """The evaluator's figures for one request on its route (seconds)."""

    feasible: bool
    reason: str | None
    blocks: tuple[int, ...]
    prefill_s: float  # sum_j (t^I_cj(l_in) + k_j tau^I_j(l_in)): time to first token, no wait
    decode_s: float  # (l_out - 1) * sum_j (t_cj + k_j tau_j)
    total_s: float  # T_r
    per_token_s: float  # T_r / l_out


@dataclass(frozen=True, eq=False)
class PlacementScore:
    """The evaluator's figures for a placement plus one route per job."""

    jobs: tuple[JobScore, ...]
    memory_used: np.ndarray  # bytes per server: s_m m_j + sum_r s_c(r) k^r_j
    memory_ok: np.ndarray  # bool per server
    placement_ok: bool
    reason: str | None
    objective: float  # sum_r T_r (inf if anything is infeasible)
    feasible: bool
    mean_per_token_s: float  # mean over jobs of T_r / l_out (inf if infeasible)

    @property
    def mean_total_s(self) -> float:
        return self.objective / len(self.jobs) if self.jobs else 0.0


def block_limits(cluster: Cluster) -> list[int]:
    """U_j: the most blocks server j may host (L, its cap, and blocks alone within
    M_j (1 + RTOL), the memory rule of :func:`check_placement`), counted without building
    any range (O(min(L, cap)) per server at most)."""
    L, s_m = cluster.num_blocks, cluster.model.block_bytes
    out = []
    for srv in cluster.servers:
        top = L if srv.max_blocks is None else min(L, srv.max_blocks)
        limit = srv.memory_bytes * (1.0 + RTOL)
        u = top if s_m == 0 else int(min(top, limit // s_m))
        while u > 0 and s_m * u > limit:  # floor division's rounding, as the evaluator tests
            u -= 1
        while u < top and s_m * (u + 1) <= limit:
            u += 1
        out.append(u)
    return out


def check_placement(cluster: Cluster, placement: Placement) -> str | None:
    """Why ``placement`` is invalid for ``cluster`` (ranges, caps, block memory), or ``None``."""
    S, L = cluster.num_servers, cluster.num_blocks
    if len(placement) != S:
        return f"placement has {len(placement)} servers, the cluster has {S}"
    s_m = cluster.model.block_bytes
    for j, srv in enumerate(cluster.servers):
        a, m = int(placement.first[j]), int(placement.count[j])
        if m == 0:
            continue
        if a < 1 or a + m - 1 > L:
            return f"server {srv.id!r}: blocks {a}..{a + m - 1} outside 1..{L}"
        if srv.max_blocks is not None and m > srv.max_blocks:
            return f"server {srv.id!r}: {m} blocks exceed its cap of {srv.max_blocks}"
        if s_m * m > srv.memory_bytes * (1.0 + RTOL):
            return (
                f"server {srv.id!r}: {m} blocks need {s_m * m:.6g} B, "
                f"it has {srv.memory_bytes:.6g} B"
            )
    return None


def score_job(cluster: Cluster, placement: Placement, job: Job, route: Route) -> JobScore:
    """Times of ``job`` on ``route`` (feasibility of the route only; memory is global)."""
    L = cluster.num_blocks
    blocks = hop_blocks(placement, route, L)
    if blocks is None:
        reason = route_problem(placement, route, L) or "infeasible route"
        inf = math.inf
        return JobScore(False, reason, (), inf, inf, inf, inf)
    c, l_in, l_out = job.client, job.l_in, job.l_out
    prefill = 0.0
    per_token = 0.0
    for j, k in zip(route, blocks, strict=True):
        srv = cluster.servers[j]
        prefill += cluster.prefill_rtt(c, j, l_in) + k * srv.prefill_s(l_in)
        per_token += float(cluster.rtt_s[c, j]) + k * srv.decode_s
    decode = (l_out - 1) * per_token
    total = prefill + decode
    return JobScore(True, None, blocks, prefill, decode, total, total / l_out)


def evaluate(cluster: Cluster, placement: Placement, routes: Sequence[Route]) -> PlacementScore:
    """Score ``placement`` with ``routes[i]`` for ``cluster.jobs[i]``.

    Memory at server j: s_m m_j + sum over feasibly routed jobs of s_c(r) k^r_j,
    compared with M_j with relative tolerance :data:`RTOL`.
    """
    S = cluster.num_servers
    reason = check_placement(cluster, placement)
    placement_ok = reason is None
    if len(routes) != len(cluster.jobs):
        reason = reason or f"{len(routes)} routes for {len(cluster.jobs)} jobs"
        placement_ok = False
    count = placement.count if len(placement) == S else np.zeros(S, dtype=np.int64)
    memory = cluster.model.block_bytes * count.astype(np.float64)
    scores = []
    for i, job in enumerate(cluster.jobs):
        route = tuple(routes[i]) if i < len(routes) else ()
        js = (
            score_job(cluster, placement, job, route)
            if len(placement) == S
            else JobScore(False, reason, (), math.inf, math.inf, math.inf, math.inf)
        )
        scores.append(js)
        if js.feasible:
            s_c = cluster.model.cache_bytes(job.l_in, job.l_out)
            for j, k in zip(route, js.blocks, strict=True):
                memory[j] += s_c * k
    memory_ok = memory <= cluster.memory() * (1.0 + RTOL)
    memory.setflags(write=False)
    memory_ok.setflags(write=False)
    feasible = placement_ok and bool(memory_ok.all()) and all(js.feasible for js in scores)
    if feasible:
        objective = float(sum(js.total_s for js in scores))
        mean_pt = float(np.mean([js.per_token_s for js in scores])) if scores else 0.0
    else:
        objective = mean_pt = math.inf
        if reason is None:
            bad = next((i for i, js in enumerate(scores) if not js.feasible), None)
            if bad is not None:
                reason = f"job {bad}: {scores[bad].reason}"
            else:
                j = int(np.argmin(memory_ok))
                reason = (
                    f"server {cluster.servers[j].id!r}: memory {memory[j]:.6g} B exceeds "
                    f"{cluster.servers[j].memory_bytes:.6g} B"
                )
    return PlacementScore(
        tuple(scores), memory, memory_ok, placement_ok, reason, objective, feasible, mean_pt
    )


def session_capacity(cluster: Cluster, placement: Placement, l_in: int, l_out: int) -> np.ndarray:
    """Per server: how many concurrent requests of (l_in, l_out) fit in the memory left
    after the hosted blocks, each holding cache for all m_j blocks (int array; -1 where
    the server hosts nothing)."""
    s_c = cluster.model.cache_bytes(l_in, l_out)
    free = cluster.memory() - cluster.model.block_bytes * placement.count
    out = np.full(cluster.num_servers, -1, dtype=np.int64)
    host = placement.count > 0
    if s_c == 0:
        out[host] = np.iinfo(np.int64).max
    else:
        out[host] = np.floor(np.maximum(free[host], 0) * (1 + RTOL) / (s_c * placement.count[host]))
    return out


__all__ = [
    "RTOL",
    "JobScore",
    "PlacementScore",
    "check_placement",
    "evaluate",
    "hop_blocks",
    "route_problem",
    "score_job",
    "session_capacity",
]
