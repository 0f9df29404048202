"""Exact per-request routing in the joint model, given a placement.

:func:`best_route` runs the DP of :mod:`splitopt.joint.kernels` and picks, by
objective, the number of client blocks:

* ``"time"``: least T_r (BPRR's objective, per request);
* ``"swarm-work"``: fewest blocks on the swarm subject to T_r <= SLA
  (SplitLLM's objective; blocks are identical, so swarm work is proportional to
  the number of swarm blocks), ties broken by least T_r;
* ``"throughput"``: least pipeline bottleneck (PipeEdge's objective, our reading:
  :func:`splitopt.joint.evaluate.route_bottleneck`) over the routes client prefix ->
  server chain -> client suffix, by the max-DP of :mod:`splitopt.joint.bottleneck_dp`;
  ties go to the fewest client blocks.

The answer is re-scored by :func:`splitopt.joint.evaluate.score_route` (and
:func:`~splitopt.joint.evaluate.route_bottleneck`); it is ``optimal`` only when the
evaluator agrees with the DP's value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from splitopt.errors import UsageError
from splitopt.evaluate import RTOL
from splitopt.joint.bottleneck_dp import joint_bottleneck_kernel
from splitopt.joint.evaluate import RouteScore, route_bottleneck, score_route
from splitopt.joint.kernels import joint_route_kernel
from splitopt.joint.model import CLIENT, OBJECTIVES, JointCluster, JointRoute, Segment
from splitopt.placement.model import Job, Placement


@dataclass(frozen=True)
class RouteAnswer:
    """A request's route, its score by the evaluator and the status.

    ``status``: ``optimal`` (the DP's optimum, confirmed by the evaluator),
    ``infeasible`` (no route, or none within the SLA) or ``error`` (the evaluator
    disagrees with the DP; should never happen, reported rather than hidden).
    ``time_by_client_blocks[n]``: the least T_r with exactly n client blocks (inf: none;
    for the ``throughput`` objective: the least bottleneck). ``bottleneck_s``: the
    route's bottleneck by the evaluator (s per token; set for ``throughput`` only).
    """

    status: str
    route: JointRoute
    score: RouteScore | None
    time_by_client_blocks: np.ndarray
    bottleneck_s: float | None = None

    @property
    def throughput(self) -> float:
        """Tokens per second of the route's pipeline, ``1 / bottleneck_s`` (NaN if unset)."""
        b = self.bottleneck_s
        if b is None:
            return math.nan
        return math.inf if b == 0 else 1.0 / b


def rebuild(tables: tuple, num_blocks: int, n: int) -> JointRoute:
    """The route ending in state ``F[L + 1, n]`` from the kernel's predecessor tables."""
    _, pf_kind, pf_b, pf_j, px_b, px_j = tables
    segs: list[Segment] = []
    b, state = num_blocks + 1, "F"
    while not (state == "F" and b == 1):
        if state == "F":
            kind = int(pf_kind[b, n])
            pb = int(pf_b[b, n])
            if kind == 2:
                segs.append(Segment(int(pf_j[b, n]), pb, b - 1))
            elif kind in (0, 1):
                segs.append(Segment(CLIENT, pb, pb))
                n -= 1
                state = "X" if kind == 1 else "F"
            else:  # pragma: no cover - a broken table is a bug
                raise RuntimeError(f"no predecessor for F[{b}, {n}]")
            b = pb
        else:
            pb = int(px_b[b, n])
            segs.append(Segment(int(px_j[b, n]), pb, b - 1))
            b, state = pb, "F"
    return _merge_client_runs(reversed(segs))


def _merge_client_runs(segs: Iterable[Segment]) -> JointRoute:
    """``segs`` in block order with each run of single client blocks made one client
    segment (the kernels' back-pointers give client blocks one at a time)."""
    merged: list[Segment] = []
    for s in segs:
        if merged and s.device == CLIENT and merged[-1].device == CLIENT:
            merged[-1] = Segment(CLIENT, merged[-1].first, s.last)
        else:
            merged.append(s)
    return tuple(merged)


def time_table(jc: JointCluster, placement: Placement, job: Job) -> tuple:
    """The kernel's tables for ``job`` (``[0]``: least T_r per number of client blocks)."""
    visit, block, client = jc.costs(job)
    return joint_route_kernel(
        placement.first,
        placement.count,
        visit,
        block,
        float(client),
        jc.max_client_blocks(job),
        jc.num_blocks,
    )


def bottleneck_table(jc: JointCluster, placement: Placement, job: Job) -> tuple:
    """The throughput kernel's tables for ``job`` (``[0]``: least bottleneck per number
    of client blocks)."""
    cl = jc.cluster
    link = np.array([float(cl.rtt_s[job.client, j]) for j in range(cl.num_servers)])
    block = np.array([s.decode_s for s in cl.servers], dtype=np.float64)
    return joint_bottleneck_kernel(
        placement.first,
        placement.count,
        link,
        block,
        float(jc.devices[job.client].decode_s),
        jc.max_client_blocks(job),
        jc.num_blocks,
    )


def rebuild_bottleneck(tables: tuple, num_blocks: int, n: int) -> JointRoute:
    """The throughput kernel's best route with ``n`` client blocks."""
    _, end_state, _, p_state, p_b, p_j = tables
    segs: list[Segment] = []
    st, b = int(end_state[n]), num_blocks + 1
    while not (st == 0 and b == 1):
        ps, pb, pj = int(p_state[st, b, n]), int(p_b[st, b, n]), int(p_j[st, b, n])
        if ps < 0:  # pragma: no cover - a broken table is a bug
            raise RuntimeError(f"no predecessor for state {st} at block {b}")
        if pj < 0:
            segs.append(Segment(CLIENT, pb, pb))
            n -= 1
        else:
            segs.append(Segment(pj, pb, b - 1))
        st, b = ps, pb
    return _merge_client_runs(reversed(segs))


def _best_throughput(jc: JointCluster, placement: Placement, job: Job) -> RouteAnswer:
    tables = bottleneck_table(jc, placement, job)
    best = np.asarray(tables[0])
    finite = np.isfinite(best)
    if not finite.any():
        return RouteAnswer("infeasible", (), None, best)
    low = float(best[finite].min())
    n = int(np.flatnonzero(finite & (best <= low))[0])
    route = rebuild_bottleneck(tables, jc.num_blocks, n)
    sc = score_route(jc, placement, job, route)
    bn = route_bottleneck(jc, placement, job, route)
    agrees = sc.feasible and sc.client_blocks == n and math.isclose(
        bn, float(best[n]), rel_tol=1e-12, abs_tol=0.0
    )
    return RouteAnswer("optimal" if agrees else "error", route, sc, best, bn)


def best_route(
    jc: JointCluster,
    placement: Placement,
    job: Job,
    objective: str = "time",
    sla_s: float | None = None,
) -> RouteAnswer:
    """The exact best route of ``job`` under ``placement`` for ``objective``."""
    if objective not in OBJECTIVES:
        raise UsageError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    if objective == "swarm-work" and (sla_s is None or not sla_s > 0):
        raise UsageError("objective 'swarm-work' needs an SLA in seconds (> 0)")
    if objective == "throughput":
        return _best_throughput(jc, placement, job)
    tables = time_table(jc, placement, job)
    best = np.asarray(tables[0])
    finite = np.isfinite(best)
    if not finite.any():
        return RouteAnswer("infeasible", (), None, best)
    if objective == "time":
        # ties (to rounding) go to the fewest client blocks
        low = float(best[finite].min())
        n = int(np.flatnonzero(finite & (best <= low + abs(low) * 1e-12))[0])
    else:
        assert sla_s is not None
        ok = np.flatnonzero(finite & (best <= sla_s * (1.0 + RTOL)))
        if ok.size == 0:
            return RouteAnswer("infeasible", (), None, best)
        n = int(ok[-1])
    route = rebuild(tables, jc.num_blocks, n)
    sc = score_route(jc, placement, job, route)
    agrees = sc.feasible and sc.client_blocks == n and math.isclose(
        sc.total_s, float(best[n]), rel_tol=1e-9, abs_tol=0.0
    )
    if objective == "swarm-work" and not sc.meets(float(sla_s)):  # type: ignore[arg-type]
        agrees = False
    return RouteAnswer("optimal" if agrees else "error", route, sc, best)


__all__ = [
    "OBJECTIVES",
    "RouteAnswer",
    "best_route",
    "bottleneck_table",
    "rebuild",
    "rebuild_bottleneck",
    "time_table",
]
