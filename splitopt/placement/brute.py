"""``bprr-brute``: exhaustive search over placements and routes, for tiny clusters.

The reference the MILP (:mod:`splitopt.placement.milp`) is tested against, so it is
written to be obviously correct rather than fast, and independently of the MILP
(no shared code but the model and the evaluator's tolerance).

Search. Every placement is enumerated: for each server j every (a_j, m_j) with
m_j = 0, or 1 ≤ m_j ≤ U_j = min(L, cap_j, max m with s_m m ≤ M_j (1 + RTOL)) and
1 ≤ a_j ≤ L − m_j + 1. For a placement, the routes are every path of the hop DAG
(SPEC-PLACEMENT P1: from the next needed block n = 1, a hop to j is allowed iff
a_j ≤ n ≤ a_j + m_j − 1, and then n becomes a_j + m_j; a route ends at n = L + 1).
Routes do not depend on the job, their times do.

Memory couples the jobs (every job holds s_c(r) k^r_j bytes at every server of its
route), so the routes are chosen *jointly*: a depth-first search over one route
per job, each job's routes sorted by time, that checks memory at the leaves
exactly as the evaluator does (s_m m_j, then + s_c(r) k in job order, against
M_j (1 + RTOL)). Pruning is only by bounds that cannot cut off a strictly better
answer: a branch is dropped when its time so far plus the least time of every
remaining job is already ≥ the best total found (over all placements). Ties keep
the first answer found.

Size: the search refuses (:class:`~splitopt.errors.SolverError`) clusters with more
than ``max_placements`` placements (default :data:`MAX_PLACEMENTS`) or more than
:data:`MAX_JOBS` jobs.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any, ClassVar

import numpy as np

from splitopt.errors import SolverError
from splitopt.placement.evaluate import RTOL, block_limits
from splitopt.placement.model import Cluster, Placement, Route
from splitopt.placement.result import PlacementResult

#: Most placements enumerated by default (4 servers x 5 blocks: 16**4 = 65,536).
MAX_PLACEMENTS = 200_000
#: Most jobs (route combinations grow as routes**jobs).
MAX_JOBS = 4


def server_options(cluster: Cluster) -> list[list[tuple[int, int]]]:
    """Per server, every (first, count) it may host: (0, 0) and the ranges within
    L, its cap and its memory for the blocks alone."""
    L, s_m = cluster.num_blocks, cluster.model.block_bytes
    out = []
    for srv in cluster.servers:
        top = L if srv.max_blocks is None else min(L, srv.max_blocks)
        limit = srv.memory_bytes * (1.0 + RTOL)
        opts = [(0, 0)]
        for m in range(1, top + 1):
            if s_m * m > limit:
                break
            opts.extend((a, m) for a in range(1, L - m + 2))
        out.append(opts)
    return out


def count_placements(cluster: Cluster, stop_above: int | None = None) -> int:
    """How many placements :class:`BPRRBrute` would enumerate, without listing them:
    per server 1 + Σ_{m=1..U} (L − m + 1) options. ``stop_above``: return as soon
    as the product exceeds it (the number returned is then only a lower bound)."""
    L = cluster.num_blocks
    total = 1
    for u in block_limits(cluster):
        total *= 1 + u * (L + 1) - u * (u + 1) // 2
        if stop_above is not None and total > stop_above:
            return total
    return total


def all_routes(
    first: tuple[int, ...], count: tuple[int, ...], L: int
) -> list[tuple[Route, tuple[int, ...]]]:
    """Every feasible route of a placement, with the blocks processed at each hop."""
    hosts = [j for j, m in enumerate(count) if m > 0]
    memo: dict[int, list[tuple[Route, tuple[int, ...]]]] = {}

    def from_block(n: int) -> list[tuple[Route, tuple[int, ...]]]:
        if n == L + 1:
            return [((), ())]
        if n in memo:
            return memo[n]
        out = []
        for j in hosts:
            a, m = first[j], count[j]
            if a <= n <= a + m - 1:
                end = a + m
                for route, blocks in from_block(end):
                    out.append(((j, *route), (end - n, *blocks)))
        memo[n] = out
        return out

    return from_block(1)


def _best_combination(
    routes: list[tuple[Route, tuple[int, ...]]],
    options_r: list[list[tuple[float, int]]],
    rest: list[float],
    count: tuple[int, ...],
    s_m: float,
    s_c: list[float],
    limit: list[float],
    best: float,
) -> tuple[float, list[int]] | None:
    """The fastest memory-feasible choice of one route per job that beats ``best``.

    ``options_r[r]``: (time, route index) of job r, fastest first; ``rest[r]``: the
    least total time of jobs r.. (``rest[R]`` = 0). Memory is summed as the
    evaluator sums it. Returns (total time, route index per job) or ``None``.
    """
    R = len(options_r)
    chosen = [0] * R
    answer: list[int] | None = None

    def search(r: int, so_far: float) -> None:
        nonlocal best, answer
        if r == R:
            used = [s_m * m for m in count]
            for q in range(R):
                route, blocks = routes[chosen[q]]
                for j, k in zip(route, blocks, strict=True):
                    used[j] += s_c[q] * k
            if all(u <= lim for u, lim in zip(used, limit, strict=True)):
                best = so_far
                answer = list(chosen)
            return
        for t, i in options_r[r]:
            if so_far + t + rest[r + 1] >= best:
                break  # sorted: every later route is at least as slow
            chosen[r] = i
            search(r + 1, so_far + t)

    search(0, 0.0)
    return None if answer is None else (best, answer)


class BPRRBrute:
    """Exhaustive BPRR search (module docstring) for tiny clusters.

    Options:
        max_placements (int): refuse clusters with more placements (default 200,000).
        time_limit (float, seconds): stop with status ``time_limit`` (best answer so
            far, if any, reported as ``feasible``... see :meth:`solve`).
    """

    name: ClassVar[str] = "bprr-brute"
    exact: ClassVar[bool] = True
    description: ClassVar[str] = "enumerate every placement and route combination (tiny clusters)"

    def __init__(
        self,
        max_placements: int = MAX_PLACEMENTS,
        time_limit: float | None = None,
        **options: Any,
    ) -> None:
        if options:
            raise SolverError(
                f"algorithm {self.name!r}: unknown option(s) {', '.join(sorted(options))}; "
                "valid: max_placements, time_limit"
            )
        if (
            isinstance(max_placements, bool)
            or not isinstance(max_placements, int)
            or max_placements < 1
        ):
            raise SolverError(f"algorithm {self.name!r}: max_placements must be an integer >= 1")
        if time_limit is not None and not float(time_limit) > 0:
            raise SolverError(f"algorithm {self.name!r}: time_limit must be > 0")
        self.max_placements = max_placements
        self.time_limit = None if time_limit is None else float(time_limit)

    @classmethod
    def available(cls) -> bool:
        return True

    def options(self) -> dict[str, Any]:
        return {"max_placements": self.max_placements, "time_limit": self.time_limit}

    def solve(self, cluster: Cluster) -> PlacementResult:
        """The optimum of ``cluster`` (status ``optimal`` or ``infeasible``), scored by
        the evaluator; ``time_limit`` (with the best answer so far as ``feasible``
        where there is one) if the time limit stops the search."""
        t0 = time.perf_counter()
        S, L, R = cluster.num_servers, cluster.num_blocks, len(cluster.jobs)
        if R > MAX_JOBS:
            raise SolverError(f"bprr-brute: {R} jobs, more than the {MAX_JOBS} it enumerates")
        # counted before any range is built (L = 100,000 would list ~5e9 ranges)
        total = count_placements(cluster, stop_above=self.max_placements)
        if total > self.max_placements:
            raise SolverError(
                f"bprr-brute: more than max_placements = {self.max_placements:,} placements "
                f"to enumerate (at least {total:,}; use bprr-milp or cg-bprr)"
            )
        options = server_options(cluster)
        deadline = None if self.time_limit is None else t0 + self.time_limit
        s_m = cluster.model.block_bytes
        limit = [srv.memory_bytes * (1.0 + RTOL) for srv in cluster.servers]
        s_c = [cluster.model.cache_bytes(job.l_in, job.l_out) for job in cluster.jobs]
        c1 = [
            [
                cluster.prefill_rtt(job.client, j, job.l_in)
                + (job.l_out - 1) * float(cluster.rtt_s[job.client, j])
                for j in range(S)
            ]
            for job in cluster.jobs
        ]
        c2 = [
            [srv.prefill_s(job.l_in) + (job.l_out - 1) * srv.decode_s for srv in cluster.servers]
            for job in cluster.jobs
        ]
        best = math.inf
        best_answer: tuple[tuple[int, ...], tuple[int, ...], tuple[Route, ...]] | None = None
        stopped = False
        for n, combo in enumerate(itertools.product(*options)):
            if deadline is not None and n % 1024 == 0 and time.perf_counter() > deadline:
                stopped = True
                break
            first = tuple(a for a, _ in combo)
            count = tuple(m for _, m in combo)
            if R == 0:
                best, best_answer = 0.0, (first, count, ())
                break
            routes = all_routes(first, count, L)
            if not routes:
                continue
            # every job's routes with their times, fastest first
            options_r = []
            for r in range(R):
                timed = sorted(
                    (
                        sum(c1[r][j] + k * c2[r][j] for j, k in zip(route, blocks, strict=True)),
                        i,
                    )
                    for i, (route, blocks) in enumerate(routes)
                )
                options_r.append(timed)
            least = [opts[0][0] for opts in options_r]
            rest = [sum(least[r:]) for r in range(R)] + [0.0]
            if rest[0] >= best:
                continue
            found = _best_combination(routes, options_r, rest, count, s_m, s_c, limit, best)
            if found is not None:
                best, chosen = found
                best_answer = (first, count, tuple(routes[i][0] for i in chosen))
        runtime = time.perf_counter() - t0
        opts = self.options()
        if best_answer is None:
            status = "time_limit" if stopped else "infeasible"
            return PlacementResult.build(
                cluster,
                self.name,
                status,
                None,
                (),
                bound=None if stopped else math.inf,
                runtime_s=runtime,
                options=opts,
                message=f"searched {n + 1 if stopped else total} of {total} placements",
            )
        first, count, chosen_routes = best_answer
        placement = Placement(np.array(first), np.array(count))
        return PlacementResult.build(
            cluster,
            self.name,
            "feasible" if stopped else "optimal",
            placement,
            chosen_routes,
            bound=None if stopped else best,
            runtime_s=runtime,
            options=opts,
            message=f"time limit: searched {n} of {total} placements" if stopped else None,
        )


__all__ = ["MAX_JOBS", "MAX_PLACEMENTS", "BPRRBrute", "all_routes", "count_placements"]
