"""The one optimality certificate of the many-server half's exact methods.

A MILP backend works to floating-point tolerances (feasibility ~1e-6, objective
scaled by some constant), so its ``optimal`` is a claim, not a proof: on data
spanning many magnitudes it was off by up to 4 % (a very slow decoy server set the
objective's scale; memory rows a few bytes from a load). This module proves or
refutes such a claim the way the split ILPs' certificate does
(:meth:`splitopt.solvers.ilp_model.ILPSolver._certify`): an exact search, in real
arithmetic and independent of the MILP's model, looks only for answers whose
objective is below the claimed optimum W by more than :data:`CERT_RTOL` relative.
None found: W is optimal. One found: the search continues with it as the
incumbent and ends at the true optimum (returned, scored by the evaluator).
The search stops at a node cap or the caller's deadline: no proof.

Search (ours). Depth-first over servers, each assigned ``(first, count)`` or
nothing (a server that hosts blocks no route uses is dominated by the same answer
with that server empty, so only answers whose hosting servers all carry a route
are searched). The bound at a node is Σ_r d_r, d_r the shortest route of job r
in a relaxation: an assigned server offers its range only (entered at any hosted
block, left after its last one), an unassigned one any range of ≤ U_j blocks; a
hop is allowed only if that one job's cache plus the server's blocks fit its
memory (other jobs can only add). Plus the least extra time any one job needs to
pass through an assigned hosting server (one of them must). A node whose bound is
not below the target is dropped. At a full placement, every job's routes are
enumerated, and one route per job is chosen jointly (memory couples the jobs) by a
depth-first search that sums memory in the evaluator's order and adds up times;
its answer is scored by :func:`splitopt.placement.evaluate.evaluate`, which alone
decides whether it counts.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from splitopt.placement.evaluate import RTOL, block_limits, evaluate
from splitopt.placement.model import Cluster, Placement, Route

#: A claimed optimum W is certified when no answer has objective below W (1 − CERT_RTOL)
#: (as the split ILPs' :data:`splitopt.solvers.ilp_model.CERT_RTOL`).
CERT_RTOL = 1e-9
#: Most search nodes (partial placements) of one certificate; beyond: not certified.
CERT_MAX_NODES = 200_000
#: Most hop evaluations of one certificate (a node's bound costs about R·S·L² of them):
#: on large clusters the node cap shrinks so that a certificate without a time limit
#: stays within about a minute of plain Python; beyond: not certified. Ours.
CERT_MAX_WORK = 200_000_000
#: The deadline is checked every this many nodes.
_CHECK_EVERY = 64


@dataclass(frozen=True)
class Certificate:
    """What :func:`certify` found.

    ``outcome``: ``proved`` (nothing below the target: the claim is optimal, or the
    cluster is infeasible when the claim was ``inf``), ``improved`` (a better answer,
    proven optimal: ``objective``, ``placement``, ``routes``) or ``stopped`` (node
    cap or deadline: ``reason``; a better answer found on the way, if any, is kept).
    """

    outcome: str
    objective: float
    placement: Placement | None
    routes: tuple[Route, ...]
    nodes: int
    reason: str = ""


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Search:
    def __init__(self, cluster: Cluster, target: float, deadline: float | None, max_nodes: int):
        self.cluster = cluster
        S, L = cluster.num_servers, cluster.num_blocks
        self.S, self.L = S, L
        self.R = len(cluster.jobs)
        self.s_m = cluster.model.block_bytes
        self.limit = [srv.memory_bytes * (1.0 + RTOL) for srv in cluster.servers]
        self.U = block_limits(cluster)
        self.s_c = [cluster.model.cache_bytes(j.l_in, j.l_out) for j in cluster.jobs]
        self.c1 = [
            [
                cluster.prefill_rtt(job.client, j, job.l_in)
                + (job.l_out - 1) * float(cluster.rtt_s[job.client, j])
                for j in range(S)
            ]
            for job in cluster.jobs
        ]
        self.c2 = [
            [srv.prefill_s(job.l_in) + (job.l_out - 1) * srv.decode_s for srv in cluster.servers]
            for job in cluster.jobs
        ]
        # fastest servers first: fixing them moves the bound most
        self.order = sorted(
            (j for j in range(S) if self.U[j] > 0),
            key=lambda j: min((self.c1[r][j] + self.c2[r][j] for r in range(self.R)), default=0.0),
        )
        self.target = target
        self.best: tuple[float, Placement, tuple[Route, ...]] | None = None
        self.deadline = deadline
        per_node = max(1, self.R * max(1, len(self.order)) * L * L)
        self.max_nodes = max(1, min(max_nodes, CERT_MAX_WORK // per_node))
        self.nodes = 0

    # -- bound ------------------------------------------------------------------------
    def _hops(self, r: int, fixed: dict[int, tuple[int, int]]) -> list[list[tuple[int, float]]]:
        """Per next-needed block n (1..L): the (end, cost) hops job r may take."""
        L, s_m, s_c = self.L, self.s_m, self.s_c[r]
        c1, c2 = self.c1[r], self.c2[r]
        hops: list[list[tuple[int, float]]] = [[] for _ in range(L + 2)]
        for j in self.order:
            lim = self.limit[j]
            if j in fixed:
                a, m = fixed[j]
                if m == 0:
                    continue
                for n in range(a, a + m):
                    k = a + m - n
                    if s_m * m + s_c * k <= lim:
                        hops[n].append((a + m, c1[j] + k * c2[j]))
            else:
                for n in range(1, L + 1):
                    for k in range(1, min(self.U[j], L - n + 1) + 1):
                        if s_m * k + s_c * k > lim:
                            break
                        hops[n].append((n + k, c1[j] + k * c2[j]))
        return hops

    def bound(self, fixed: dict[int, tuple[int, int]]) -> float:
        L = self.L
        total = 0.0
        extra = 0.0
        hosting = [j for j, (_, m) in fixed.items() if m > 0]
        via_min = {j: math.inf for j in hosting}
        for r in range(self.R):
            hops = self._hops(r, fixed)
            fwd = [math.inf] * (L + 2)
            fwd[1] = 0.0
            for n in range(1, L + 1):
                if fwd[n] == math.inf:
                    continue
                for e, c in hops[n]:
                    if fwd[n] + c < fwd[e]:
                        fwd[e] = fwd[n] + c
            d = fwd[L + 1]
            if d == math.inf:
                return math.inf
            total += d
            if hosting:
                bwd = [math.inf] * (L + 2)
                bwd[L + 1] = 0.0
                for n in range(L, 0, -1):
                    for e, c in hops[n]:
                        if c + bwd[e] < bwd[n]:
                            bwd[n] = c + bwd[e]
                for j in hosting:
                    a, m = fixed[j]
                    best = math.inf
                    for n in range(a, a + m):
                        k = a + m - n
                        if self.s_m * m + self.s_c[r] * k > self.limit[j]:
                            continue
                        v = fwd[n] + self.c1[r][j] + k * self.c2[r][j] + bwd[a + m]
                        best = min(best, v)
                    via_min[j] = min(via_min[j], best - d)
        if hosting:
            extra = max(max(via_min.values()), 0.0)
        return total + extra

    # -- leaves -------------------------------------------------------------------------
    def _routes(self, first: list[int], count: list[int]) -> list[tuple[Route, tuple[int, ...]]]:
        L = self.L
        hosts = [j for j in range(self.S) if count[j] > 0]
        memo: dict[int, list[tuple[Route, tuple[int, ...]]]] = {}

        def walk(n: int) -> list[tuple[Route, tuple[int, ...]]]:
            if n == L + 1:
                return [((), ())]
            if n not in memo:
                out = []
                for j in hosts:
                    a, m = first[j], count[j]
                    if a <= n < a + m:
                        for rt, ks in walk(a + m):
                            out.append(((j, *rt), (a + m - n, *ks)))
                memo[n] = out
            return memo[n]

        return walk(1)

    def leaf(self, first: list[int], count: list[int]) -> None:
        routes = self._routes(first, count)
        if not routes:
            return
        R = self.R
        timed: list[list[tuple[float, int]]] = []
        for r in range(R):
            opts = []
            for i, (rt, ks) in enumerate(routes):
                if any(
                    self.s_m * count[j] + self.s_c[r] * k > self.limit[j]
                    for j, k in zip(rt, ks, strict=True)
                ):
                    continue
                t = sum(self.c1[r][j] + k * self.c2[r][j] for j, k in zip(rt, ks, strict=True))
                opts.append((t, i))
            if not opts:
                return
            opts.sort()
            timed.append(opts)
        rest = [0.0] * (R + 1)
        for r in range(R - 1, -1, -1):
            rest[r] = rest[r + 1] + timed[r][0][0]
        placement = Placement(np.array(first, dtype=np.int64), np.array(count, dtype=np.int64))
        chosen = [0] * R
        used0 = [self.s_m * float(m) for m in count]

        def search(r: int, so_far: float, used: list[float]) -> None:
            if r == R:
                routes_r = tuple(routes[i][0] for i in chosen)
                sc = evaluate(self.cluster, placement, routes_r)
                if sc.feasible and sc.objective < self.target:
                    self.best = (sc.objective, placement, routes_r)
                    self.target = sc.objective * (1.0 - CERT_RTOL)
                return
            for t, i in timed[r]:
                if (so_far + t + rest[r + 1]) * (1.0 - 1e-12) >= self.target:
                    break  # sorted: every later route is at least as slow
                rt, ks = routes[i]
                nu = list(used)
                ok = True
                for j, k in zip(rt, ks, strict=True):
                    nu[j] += self.s_c[r] * k
                    if nu[j] > self.limit[j]:
                        ok = False  # the evaluator sums in this order: it would refuse too
                        break
                if ok:
                    chosen[r] = i
                    search(r + 1, so_far + t, nu)

        search(0, 0.0, used0)

    # -- tree ---------------------------------------------------------------------------
    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Stop(f"{self.max_nodes:,}-node cap")
        if (
            self.deadline is not None
            and self.nodes % _CHECK_EVERY == 0
            and time.perf_counter() > self.deadline
        ):
            raise _Stop("time limit")

    def run(self) -> None:
        S, L = self.S, self.L
        first, count = [0] * S, [0] * S
        fixed: dict[int, tuple[int, int]] = {}
        if self.R == 0:
            if self.target > 0.0:
                p = Placement(np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.int64))
                self.best = (0.0, p, ())
            return

        def dfs(depth: int) -> None:
            self.tick()
            if self.bound(fixed) * (1.0 - 1e-12) >= self.target:
                return
            if depth == len(self.order):
                self.leaf(first, count)
                return
            j = self.order[depth]
            options = [(0, 0)] + [
                (a, m) for m in range(1, self.U[j] + 1) for a in range(1, L - m + 2)
            ]
            for a, m in options:
                fixed[j] = (a, m)
                first[j], count[j] = a, m
                dfs(depth + 1)
            del fixed[j]
            first[j], count[j] = 0, 0

        dfs(0)


def certify(
    cluster: Cluster,
    claim: float,
    deadline: float | None = None,
    max_nodes: int = CERT_MAX_NODES,
) -> Certificate:
    """Prove that no answer for ``cluster`` beats ``claim`` (seconds, Σ_r T_r; ``inf``:
    prove the cluster infeasible) by more than :data:`CERT_RTOL` relative, or find the
    optimum below it (module docstring). ``deadline``: a ``time.perf_counter()`` value.
    """
    target = math.inf if not math.isfinite(claim) else claim * (1.0 - CERT_RTOL)
    s = _Search(cluster, target, deadline, max_nodes)
    try:
        s.run()
    except _Stop as stop:
        if s.best is not None:
            obj, p, rts = s.best
            return Certificate("stopped", obj, p, rts, s.nodes, stop.reason)
        return Certificate("stopped", claim, None, (), s.nodes, stop.reason)
    if s.best is None:
        return Certificate("proved", claim, None, (), s.nodes)
    obj, p, rts = s.best
    return Certificate("improved", obj, p, rts, s.nodes)


__all__ = ["CERT_MAX_NODES", "CERT_MAX_WORK", "CERT_RTOL", "Certificate", "block_limits", "certify"]
