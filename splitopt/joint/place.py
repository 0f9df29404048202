"""Joint routes for every job of a placed cluster (what ``splitopt place`` adds when
the cluster names client devices).

Given a placement (from any placement algorithm), :func:`route_jobs` runs the exact
per-request DP (:func:`splitopt.joint.route.best_route`) for each job, and the same
DP with the client running nothing (BPRR's shortest route) as the baseline. The
SLA of the ``swarm-work`` objective is per request: ``sla_s`` seconds, or
``sla_factor`` times that request's client-runs-nothing time (default 1.0: no
slower than without the client's device; our choice).

Server memory is what the placement algorithm planned for: the KV cache the swarm
no longer needs for client-run blocks is not given back, and cache contention on
servers is not modelled here (ours: routing is per request, as in the DP).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from splitopt.errors import UsageError
from splitopt.joint.model import JointCluster
from splitopt.joint.route import OBJECTIVES, RouteAnswer, best_route
from splitopt.placement.model import Placement

#: The default SLA factor of the swarm-work objective (ours).
DEFAULT_SLA_FACTOR = 1.0


@dataclass(frozen=True)
class JointRouting:
    """Every job's joint route and its client-runs-nothing baseline.

    ``answers[i]`` / ``baseline[i]``: job ``i``'s best joint route for ``objective``
    and its best route with the client running nothing (least T_r);
    ``sla_s[i]``: the SLA used (``None`` for the ``time`` objective, or where the
    baseline has no route to scale it from); ``runtime_s``: seconds for all DPs;
    ``source``: what chose the routes.
    """

    objective: str
    answers: tuple[RouteAnswer, ...]
    baseline: tuple[RouteAnswer, ...]
    sla_s: tuple[float | None, ...]
    runtime_s: float
    #: what chose the routes: the per-request DP, or ``joint MILP`` (placement and
    #: routes chosen together, server memory shared; :mod:`splitopt.joint.algorithm`)
    source: str = "exact DP"

    @property
    def served(self) -> int:
        """Jobs with a route (within the SLA for ``swarm-work``)."""
        return sum(a.status == "optimal" for a in self.answers)

    @property
    def errors(self) -> int:
        """Jobs where the evaluator disagrees with the DP (should be 0)."""
        return sum(a.status == "error" for a in self.answers)

    def _sum(self, answers: tuple[RouteAnswer, ...], field: str) -> float:
        return float(sum(getattr(a.score, field) for a in answers if a.status == "optimal"))

    @property
    def client_blocks(self) -> int:
        """Blocks run on clients, over the served jobs."""
        return int(self._sum(self.answers, "client_blocks"))

    @property
    def swarm_blocks(self) -> int:
        """Blocks run on the swarm, over the served jobs (swarm work, in blocks)."""
        return int(self._sum(self.answers, "swarm_blocks"))

    @property
    def baseline_swarm_blocks(self) -> int:
        """Swarm blocks of the baseline routes of the same served jobs."""
        ok = tuple(
            b for a, b in zip(self.answers, self.baseline, strict=True) if a.status == "optimal"
        )
        return int(self._sum(ok, "swarm_blocks"))

    def joint_mean_per_token_s(self) -> float:
        """Mean per-token time T_r / l_out over the jobs routed (s; NaN where none)."""
        t = [a.score.per_token_s for a in self.answers if a.status == "optimal"]  # type: ignore[union-attr]
        return sum(t) / len(t) if t else math.nan

    def mean_per_token_s(self) -> tuple[float, float]:
        """(joint, baseline) mean per-token time T_r / l_out over the jobs both serve
        (s; NaN where there are none)."""
        pairs = [
            (a.score.per_token_s, b.score.per_token_s)  # type: ignore[union-attr]
            for a, b in zip(self.answers, self.baseline, strict=True)
            if a.status == "optimal" and b.status == "optimal"
        ]
        if not pairs:
            return math.nan, math.nan
        n = len(pairs)
        return sum(p[0] for p in pairs) / n, sum(p[1] for p in pairs) / n


def route_jobs(
    jc: JointCluster,
    placement: Placement,
    objective: str = "time",
    *,
    sla_s: float | None = None,
    sla_factor: float | None = None,
) -> JointRouting:
    """Route every job of ``jc.cluster`` under ``placement`` with the exact joint DP."""
    if objective not in OBJECTIVES:
        raise UsageError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    if sla_s is not None and sla_factor is not None:
        raise UsageError("give the SLA in seconds or as a factor, not both")
    if objective != "swarm-work" and (sla_s is not None or sla_factor is not None):
        raise UsageError("an SLA applies only to the swarm-work objective")
    if sla_s is not None and not (math.isfinite(sla_s) and sla_s > 0):
        raise UsageError(f"the SLA must be a positive number of seconds, got {sla_s!r}")
    if sla_factor is not None and not (math.isfinite(sla_factor) and sla_factor > 0):
        raise UsageError(f"the SLA factor must be a positive number, got {sla_factor!r}")
    if objective == "swarm-work" and sla_s is None and sla_factor is None:
        sla_factor = DEFAULT_SLA_FACTOR
    t0 = time.perf_counter()
    bare = JointCluster.without_devices(jc.cluster)
    answers: list[RouteAnswer] = []
    baseline: list[RouteAnswer] = []
    slas: list[float | None] = []
    for job in jc.cluster.jobs:
        base = best_route(bare, placement, job, "time")
        baseline.append(base)
        if objective in ("time", "throughput"):
            slas.append(None)
            answers.append(best_route(jc, placement, job, objective))
            continue
        sla = sla_s
        if sla is None:
            sla = (
                sla_factor * base.score.total_s  # type: ignore[operator, union-attr]
                if base.status == "optimal"
                else None
            )
        slas.append(sla)
        if sla is None or not sla > 0:
            answers.append(RouteAnswer("infeasible", (), None, base.time_by_client_blocks))
        else:
            answers.append(best_route(jc, placement, job, "swarm-work", sla))
    return JointRouting(
        objective, tuple(answers), tuple(baseline), tuple(slas), time.perf_counter() - t0
    )


__all__ = ["DEFAULT_SLA_FACTOR", "JointRouting", "route_jobs"]
