"""An exact search over joint answers (placement + one route per job), with server
memory binding: the certificate of the joint MILP (:mod:`splitopt.joint.milp`).

The MILP's ``optimal`` is a floating-point backend's claim. This search, independent
of the MILP's model, looks only for answers whose objective is below a claimed
optimum W (by more than :data:`CERT_RTOL` relative for ``time``; by at least one block
for ``swarm-work``). None found: W is optimal (``proved``). One found: the search
continues with it as the incumbent and ends at the true optimum (``improved``).
It stops at a placement cap or a deadline (``stopped``: no proof).

Search (ours). Every placement is enumerated (each server none, or one range of at
most U_j blocks, U_j as the many-server evaluator's :func:`block_limits`). A
placement's bound is the sum over jobs of the exact per-request DP's optimum
(:func:`splitopt.joint.route.time_table`), which ignores the server memory the jobs
share: a lower bound. A placement whose bound is not below the cut is dropped.
Otherwise every route of every job is enumerated (:func:`splitopt.joint.brute.all_routes`,
scored by :func:`splitopt.joint.evaluate.score_route`), and one route per job is chosen
jointly by a depth-first search that sums server memory in the evaluator's order and
prunes on the least remaining objective; a candidate counts only when
:func:`splitopt.joint.evaluate.score_answer` accepts it. Tiny instances only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.evaluate import RTOL
from splitopt.joint.brute import all_routes
from splitopt.joint.evaluate import score_answer, score_route
from splitopt.joint.model import CLIENT, JointCluster, JointRoute
from splitopt.joint.route import time_table
from splitopt.placement.evaluate import block_limits
from splitopt.placement.model import Placement

#: A claimed time optimum W is certified when no answer is below W (1 - CERT_RTOL).
CERT_RTOL = 1e-9
#: Most placements one search enumerates; beyond: ``stopped`` (ours).
MAX_PLACEMENTS = 200_000
#: Most routes per job and placement the search enumerates; beyond: ``stopped`` (ours).
MAX_ROUTES = 20_000


@dataclass(frozen=True)
class ExactAnswer:
    """What :func:`search` found.

    ``outcome``: ``proved`` (nothing below the cut: the target is optimal, or no
    answer exists when it was inf), ``improved`` (a better answer, proven optimal:
    ``value``, ``placement``, ``routes``) or ``stopped`` (``reason``; a better answer
    found on the way, if any, is kept). ``placements``: how many were enumerated.
    """

    outcome: str
    value: float
    placement: Placement | None
    routes: tuple[JointRoute, ...]
    placements: int
    reason: str = ""


def ranges(L: int, cap: int) -> list[tuple[int, int]]:
    """(first, count) options of one server: none (0, 0) or a range of 1..cap blocks."""
    out = [(0, 0)]
    for m in range(1, min(cap, L) + 1):
        out.extend((a, m) for a in range(1, L - m + 2))
    return out


def placement_count(jc: JointCluster) -> int:
    """How many placements :func:`all_placements` enumerates."""
    L = jc.num_blocks
    return math.prod(len(ranges(L, u)) for u in block_limits(jc.cluster))


def all_placements(jc: JointCluster) -> Iterator[Placement]:
    """Every placement: each server none or one range of at most U_j blocks."""
    import itertools

    L = jc.num_blocks
    per = [ranges(L, u) for u in block_limits(jc.cluster)]
    for combo in itertools.product(*per):
        yield Placement(
            np.array([a for a, _ in combo], dtype=np.int64),
            np.array([m for _, m in combo], dtype=np.int64),
        )


def _dp_bound(
    jc: JointCluster, pl: Placement, objective: str, sla: Sequence[float] | None
) -> float:
    """Sum over jobs of the per-request DP optimum (server memory ignored)."""
    total = 0.0
    L = jc.num_blocks
    for i, job in enumerate(jc.cluster.jobs):
        best = np.asarray(time_table(jc, pl, job)[0])
        if objective == "time":
            v = float(best.min()) if best.size else math.inf
            if not math.isfinite(v):
                return math.inf
            total += v
        else:
            assert sla is not None
            ok = np.flatnonzero(np.isfinite(best) & (best <= sla[i] * (1.0 + RTOL)))
            if ok.size == 0:
                return math.inf
            total += L - int(ok[-1])
    return total


def _key(objective: str, total_s: float, swarm: int) -> float:
    return total_s if objective == "time" else float(swarm)


def search(
    jc: JointCluster,
    objective: str = "time",
    sla_s: Sequence[float] | None = None,
    *,
    target: float = math.inf,
    placement: Placement | None = None,
    deadline: float | None = None,
    max_placements: int = MAX_PLACEMENTS,
) -> ExactAnswer:
    """Look for joint answers below ``target`` (all placements, or only ``placement``);
    see the module docstring. ``deadline``: a ``time.perf_counter()`` value."""
    cl = jc.cluster
    jobs = cl.jobs
    S = cl.num_servers
    s_m = cl.model.block_bytes
    limit = [srv.memory_bytes * (1.0 + RTOL) for srv in cl.servers]
    s_c = [cl.model.cache_bytes(j.l_in, j.l_out) for j in jobs]
    if placement is None and placement_count(jc) > max_placements:
        return ExactAnswer(
            "stopped", math.inf, None, (), 0,
            f"more than {max_placements:,} placements to search",
        )

    def cut_of(w: float) -> float:
        if not math.isfinite(w):
            return math.inf
        return w * (1.0 - CERT_RTOL) if objective == "time" else w - 0.5

    cut = cut_of(target)
    best: tuple[float, Placement, tuple[JointRoute, ...]] | None = None
    seen = 0
    it = iter((placement,)) if placement is not None else all_placements(jc)
    for pl in it:
        seen += 1
        if deadline is not None and seen % 16 == 0 and time.perf_counter() > deadline:
            return _stopped(best, seen, "time limit reached")
        if not _dp_bound(jc, pl, objective, sla_s) < cut:
            continue
        # every job's routes, feasible alone, sorted by their objective
        lists: list[list[tuple[float, JointRoute, list[tuple[int, int]]]]] = []
        every = []
        for r in all_routes(jc, pl):
            if len(every) >= MAX_ROUTES:
                return _stopped(best, seen, f"more than {MAX_ROUTES:,} routes per job")
            every.append(r)
        for i, job in enumerate(jobs):
            opts = []
            for r in every:
                sc = score_route(jc, pl, job, r)
                if not sc.feasible or (sla_s is not None and not sc.meets(float(sla_s[i]))):
                    continue
                use = [(seg.device, seg.last - seg.first + 1) for seg in r if seg.device != CLIENT]
                opts.append((_key(objective, sc.total_s, sc.swarm_blocks), r, use))
            if not opts:
                break
            opts.sort(key=lambda o: o[0])
            lists.append(opts)
        if len(lists) < len(jobs):
            continue
        rest = [0.0] * (len(jobs) + 1)
        for i in range(len(jobs) - 1, -1, -1):
            rest[i] = rest[i + 1] + lists[i][0][0]
        base = [s_m * float(m) for m in pl.count.tolist()]
        chosen: list[JointRoute] = []

        def dfs(i: int, acc: float, mem: list[float]) -> None:
            nonlocal cut, best
            if i == len(jobs):
                sc = score_answer(jc, pl, chosen, sla_s)
                v = sc.objective(objective)
                if v < cut:
                    best = (v, pl, tuple(chosen))
                    cut = cut_of(v)
                return
            for v, r, use in lists[i]:
                if not acc + v + rest[i + 1] < cut:
                    break  # sorted: nothing later in this list is better
                m2 = list(mem)
                ok = True
                for j, k in use:
                    m2[j] += s_c[i] * k
                    if not m2[j] <= limit[j]:
                        ok = False
                        break
                if not ok:
                    continue
                chosen.append(r)
                dfs(i + 1, acc + v, m2)
                chosen.pop()

        assert len(base) == S
        dfs(0, 0.0, base)
    if best is None:
        return ExactAnswer("proved", target, None, (), seen)
    return ExactAnswer("improved", best[0], best[1], best[2], seen)


def _stopped(best: tuple | None, seen: int, reason: str) -> ExactAnswer:
    if best is None:
        return ExactAnswer("stopped", math.inf, None, (), seen, reason)
    return ExactAnswer("stopped", best[0], best[1], best[2], seen, reason)


__all__ = [
    "CERT_RTOL",
    "MAX_PLACEMENTS",
    "ExactAnswer",
    "all_placements",
    "placement_count",
    "ranges",
    "search",
]
