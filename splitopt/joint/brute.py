"""Brute force of the joint per-request routing: every route, scored by the evaluator.

Exponential; for tiny instances (``L <= MAX_BLOCKS``), to test the DP.
"""

from __future__ import annotations

from collections.abc import Iterator

from splitopt.errors import UsageError
from splitopt.joint.evaluate import RouteScore, score_route
from splitopt.joint.model import CLIENT, JointCluster, JointRoute, Segment
from splitopt.placement.model import Job, Placement

#: Largest model the brute force accepts.
MAX_BLOCKS = 10


def all_routes(jc: JointCluster, placement: Placement) -> Iterator[JointRoute]:
    """Every route the hop rule allows (client memory not yet checked)."""
    L = jc.num_blocks
    first, count = placement.first, placement.count

    def rec(b: int, prev: int, must_client: bool, acc: list[Segment]) -> Iterator[JointRoute]:
        if b == L + 1:
            if not must_client:
                yield tuple(acc)
            return
        if prev != CLIENT:  # a client segment (never two in a row)
            for e in range(b, L + 1):
                acc.append(Segment(CLIENT, b, e))
                yield from rec(e + 1, CLIENT, False, acc)
                acc.pop()
        if must_client:
            return
        for j in range(int(count.size)):
            m = int(count[j])
            lo = int(first[j])
            hi = lo + m - 1
            if m == 0 or not lo <= b <= hi:
                continue
            for e in range(b, hi + 1):
                acc.append(Segment(j, b, e))
                yield from rec(e + 1, j, e < hi, acc)
                acc.pop()

    yield from rec(1, -2, False, [])


def brute_best(
    jc: JointCluster,
    placement: Placement,
    job: Job,
    objective: str = "time",
    sla_s: float | None = None,
) -> tuple[JointRoute, RouteScore] | None:
    """The best route by enumeration (``None`` if none is feasible)."""
    if jc.num_blocks > MAX_BLOCKS:
        raise UsageError(f"brute force takes at most {MAX_BLOCKS} blocks, got {jc.num_blocks}")
    best: tuple[JointRoute, RouteScore] | None = None
    for r in all_routes(jc, placement):
        sc = score_route(jc, placement, job, r)
        if not sc.feasible:
            continue
        if objective == "swarm-work":
            assert sla_s is not None
            if not sc.meets(sla_s):
                continue
            key = _key(sc, objective)
        else:
            key = _key(sc, objective)
        if best is None or key < _key(best[1], objective):
            best = (r, sc)
    return best


def _key(sc: RouteScore, objective: str) -> tuple[float, float]:
    if objective == "swarm-work":
        return (float(sc.swarm_blocks), sc.total_s)
    return (sc.total_s, float(sc.client_blocks))


__all__ = ["MAX_BLOCKS", "all_routes", "brute_best"]
