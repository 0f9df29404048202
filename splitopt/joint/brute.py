"""Brute force of the joint model: every route of one request (:func:`brute_best`, to
test the DP), and every joint answer -- placement and one route per job, with server
memory binding (:func:`brute_joint`, to test the joint MILP). Scored by the evaluator.

Exponential; for tiny instances (``L <= MAX_BLOCKS``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from splitopt.errors import UsageError
from splitopt.joint.evaluate import RouteScore, score_route
from splitopt.joint.model import CLIENT, JointCluster, JointRoute, Segment
from splitopt.placement.model import Job, Placement


def ranges(L: int, cap: int) -> list[tuple[int, int]]:
    """(first, count) options of one server: none (0, 0) or a range of 1..cap blocks
    (1-based first block)."""
    out = [(0, 0)]
    for m in range(1, min(cap, L) + 1):
        out.extend((a, m) for a in range(1, L - m + 2))
    return out


def placements_with_caps(L: int, caps: Sequence[int]) -> Iterator[Placement]:
    """Every placement of ``L`` blocks with server j hosting nothing or one range of at
    most ``caps[j]`` blocks."""
    import itertools

    import numpy as np

    per = [ranges(L, int(u)) for u in caps]
    for combo in itertools.product(*per):
        yield Placement(
            np.array([a for a, _ in combo], dtype=np.int64),
            np.array([m for _, m in combo], dtype=np.int64),
        )


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


def brute_joint(
    jc: JointCluster,
    objective: str = "time",
    sla_s: Sequence[float] | None = None,
    placement: Placement | None = None,
) -> tuple[float, Placement | None, tuple[JointRoute, ...]]:
    """The best joint answer by enumeration: every placement (each server none or one
    range of at most U_j blocks; only ``placement`` if given) and every combination of
    one route per job, each combination scored by
    :func:`splitopt.joint.evaluate.score_answer` (objective ``time``: sum of T_r;
    ``swarm-work``: swarm blocks with every T_r within ``sla_s``). The only pruning:
    a placement whose per-job least objectives (over the enumerated routes), or a
    combination whose jobs' objectives, already sum to no less than the incumbent
    is skipped (the objective is that sum when the answer is feasible). Returns ``(value, placement,
    routes)``, value inf and ``None`` when no answer exists."""
    import itertools

    from splitopt.joint.evaluate import score_answer
    from splitopt.placement.evaluate import block_limits

    if jc.num_blocks > MAX_BLOCKS:
        raise UsageError(f"brute force takes at most {MAX_BLOCKS} blocks, got {jc.num_blocks}")
    best: tuple[float, Placement | None, tuple[JointRoute, ...]] = (math.inf, None, ())
    jobs = jc.cluster.jobs
    pls = (
        (placement,)
        if placement is not None
        else placements_with_caps(jc.num_blocks, block_limits(jc.cluster))
    )
    for pl in pls:
        lists = []
        every = list(all_routes(jc, pl))
        for i, job in enumerate(jobs):
            opts = []
            for r in every:
                sc = score_route(jc, pl, job, r)
                if not sc.feasible or (sla_s is not None and not sc.meets(float(sla_s[i]))):
                    continue
                opts.append((_key(sc, objective)[0], r))
            if not opts:
                break
            lists.append(opts)
        if len(lists) < len(jobs):
            continue
        if not sum(min(v for v, _ in o) for o in lists) < best[0]:
            continue
        for combo in itertools.product(*lists):
            if not sum(v for v, _ in combo) < best[0]:
                continue  # the sum of the jobs' objectives cannot beat the incumbent
            routes = tuple(r for _, r in combo)
            v = score_answer(jc, pl, routes, sla_s).objective(objective)
            if v < best[0]:
                best = (v, pl, routes)
    return best


__all__ = ["MAX_BLOCKS", "all_routes", "brute_best", "brute_joint"]
