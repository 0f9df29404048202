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
share: a lower bound. A placement whose bound is not below the cut is dropped. When
the DP's own routes together pass the evaluator (server memory not binding) and
attain the bound, they are that placement's optimum. Otherwise every route of every
job is enumerated (:func:`splitopt.joint.brute.all_routes`, scored by
:func:`splitopt.joint.evaluate.score_route`), and one route per job is chosen jointly
by a depth-first search that sums server memory in the evaluator's order and prunes
on the least remaining objective; a candidate counts only when
:func:`splitopt.joint.evaluate.score_answer` accepts it. Tiny instances only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.evaluate import RTOL
from splitopt.joint.brute import all_routes, placements_with_caps, ranges
from splitopt.joint.evaluate import score_answer, score_route
from splitopt.joint.model import CLIENT, JointCluster, JointRoute
from splitopt.joint.route import best_route, time_table
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


def placement_count(jc: JointCluster) -> int:
    """How many placements :func:`all_placements` enumerates."""
    L = jc.num_blocks
    return math.prod(len(ranges(L, u)) for u in block_limits(jc.cluster))


def all_placements(jc: JointCluster) -> Iterator[Placement]:
    """Every placement: each server none or one range of at most U_j blocks."""
    return placements_with_caps(jc.num_blocks, block_limits(jc.cluster))


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
    max_placements: int | None = None,
) -> ExactAnswer:
    """Look for joint answers below ``target`` (all placements, or only ``placement``);
    see the module docstring. ``deadline``: a ``time.perf_counter()`` value;
    ``max_placements``: default :data:`MAX_PLACEMENTS`."""
    if max_placements is None:
        max_placements = MAX_PLACEMENTS
    cl = jc.cluster
    jobs = cl.jobs
    S = cl.num_servers
    s_m = cl.model.block_bytes
    limit = [srv.memory_bytes * (1.0 + RTOL) for srv in cl.servers]
    s_c = [cl.model.cache_bytes(j.l_in, j.l_out) for j in jobs]
    if placement is None and placement_count(jc) > max_placements:
        return ExactAnswer(
            "stopped",
            math.inf,
            None,
            (),
            0,
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
        bound = _dp_bound(jc, pl, objective, sla_s)
        if not bound < cut:
            continue
        # the per-request DP's routes: when the evaluator accepts them together (server
        # memory not binding) they attain the bound, so they are this placement's optimum
        dp_routes = []
        for i, job in enumerate(jobs):
            a = best_route(jc, pl, job, objective, None if sla_s is None else sla_s[i])
            if a.status != "optimal":
                break
            dp_routes.append(a.route)
        if len(dp_routes) == len(jobs):
            v = score_answer(jc, pl, dp_routes, sla_s).objective(objective)
            if v <= bound * (1.0 + 1e-12) and v < cut:
                best = (v, pl, tuple(dp_routes))
                cut = cut_of(v)
                continue
        # every job's routes, feasible alone, sorted by their objective
        lists: list[list[tuple[float, JointRoute, list[tuple[int, int]]]]] = []
        every: list[JointRoute] = []
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
        base = [s_m * float(m) for m in pl.count.tolist()]
        assert len(base) == S
        found = _Choice(jc, pl, lists, s_c, limit, objective, sla_s, cut, cut_of).run(base)
        if found is not None:
            best = (found[0], pl, found[1])
            cut = cut_of(found[0])
    if best is None:
        return ExactAnswer("proved", target, None, (), seen)
    return ExactAnswer("improved", best[0], best[1], best[2], seen)


class _Choice:
    """One route per job for a fixed placement: depth-first over the jobs' sorted route
    lists, server memory summed in the evaluator's order, pruned on the least remaining
    objective; the best answer below ``cut`` that :func:`score_answer` accepts."""

    def __init__(self, jc, pl, lists, s_c, limit, objective, sla_s, cut, cut_of) -> None:  # type: ignore[no-untyped-def]
        self.jc, self.pl, self.lists = jc, pl, lists
        self.s_c, self.limit = s_c, limit
        self.objective, self.sla_s = objective, sla_s
        self.cut, self.cut_of = cut, cut_of
        n = len(lists)
        self.rest = [0.0] * (n + 1)
        for i in range(n - 1, -1, -1):
            self.rest[i] = self.rest[i + 1] + lists[i][0][0]
        self.chosen: list[JointRoute] = []
        self.best: tuple[float, tuple[JointRoute, ...]] | None = None

    def run(self, base: list[float]) -> tuple[float, tuple[JointRoute, ...]] | None:
        self._dfs(0, 0.0, base)
        return self.best

    def _dfs(self, i: int, acc: float, mem: list[float]) -> None:
        if i == len(self.lists):
            sc = score_answer(self.jc, self.pl, self.chosen, self.sla_s)
            v = sc.objective(self.objective)
            if v < self.cut:
                self.best = (v, tuple(self.chosen))
                self.cut = self.cut_of(v)
            return
        for v, r, use in self.lists[i]:
            if not acc + v + self.rest[i + 1] < self.cut:
                break  # sorted: nothing later in this list is better
            m2 = list(mem)
            ok = True
            for j, k in use:
                m2[j] += self.s_c[i] * k
                if not m2[j] <= self.limit[j]:
                    ok = False
                    break
            if not ok:
                continue
            self.chosen.append(r)
            self._dfs(i + 1, acc + v, m2)
            self.chosen.pop()


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
