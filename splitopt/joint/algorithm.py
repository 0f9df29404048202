"""``joint-milp`` as a registered placement algorithm (``splitopt place -a joint-milp``).

On a plain :class:`~splitopt.placement.model.Cluster` (:meth:`JointMilpAlgorithm.run`,
what every placement algorithm gets) the clients run nothing, so the joint MILP
solves the many-server problem P1 and its answer is scored by the many-server
evaluator like any other. :meth:`JointMilpAlgorithm.solve_joint` takes the
:class:`~splitopt.joint.model.JointCluster` (a cluster file whose clients name
devices): placement and routes are chosen together, client blocks included, and
``splitopt place`` prints the MILP's own joint routes (see
:func:`joint_routing`) instead of re-routing its placement with the per-request DP.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from splitopt.errors import SolverError, UsageError
from splitopt.joint.milp import JointMilp, JointResult
from splitopt.joint.model import JointCluster
from splitopt.joint.place import JointRouting
from splitopt.joint.route import RouteAnswer, best_route, time_table
from splitopt.placement.base import PlacementAlgorithm
from splitopt.placement.model import Cluster
from splitopt.placement.params import MilpParams
from splitopt.placement.result import PlacementResult


class JointMilpAlgorithm(PlacementAlgorithm):
    """``joint-milp``: the exact joint MILP of :mod:`splitopt.joint.milp` (options
    ``backend``: highs (default), cbc, cpsat, scip; ``time_limit`` in seconds)."""

    name = "joint-milp"
    exact = True
    description = (
        "exact joint MILP: placement and routes with client blocks (clients that run "
        "blocks too), certified by an exact search; tiny clusters"
    )
    params_type = MilpParams

    def setup(self) -> None:
        p = self.params
        if getattr(p, "strengthen", None) is not None:
            raise SolverError("placement algorithm 'joint-milp' has no option 'strengthen'")
        self.milp = JointMilp(backend=p.backend or "highs", time_limit=p.time_limit)  # type: ignore[attr-defined]

    @classmethod
    def available(cls) -> bool:
        from splitopt.joint.milp import backend_available

        return backend_available("highs")

    def run(self, cluster: Cluster) -> PlacementResult:
        """The many-server problem (clients run nothing), scored by its evaluator."""
        jc = JointCluster.without_devices(cluster)
        res = self.milp.solve(jc)
        routes = [tuple(s.device for s in r) for r in res.routes]
        return PlacementResult.build(
            cluster,
            self.name,
            res.status,
            res.placement,
            routes if res.placement is not None else (),
            runtime_s=res.runtime_s,
            options={"backend": self.milp.backend},
            message=res.message,
        )

    def solve_joint(
        self,
        jc: JointCluster,
        objective: str = "time",
        *,
        sla_s: float | None = None,
        sla_factor: float | None = None,
    ) -> tuple[PlacementResult, JointRouting | None]:
        """Place and route ``jc`` with client blocks. ``swarm-work`` needs an SLA:
        ``sla_s`` seconds for every job, or ``sla_factor`` times the job's time in
        the time-optimal answer with clients that run nothing (BPRR's exact optimum;
        ours). Returns the placement result (its routes empty: they have client
        segments, which the many-server evaluator cannot score) and the joint routes."""
        t0 = time.perf_counter()
        cl = jc.cluster
        slas: list[float] | None = None
        if objective == "swarm-work":
            if sla_s is not None:
                slas = [float(sla_s)] * len(cl.jobs)
            else:
                factor = 1.0 if sla_factor is None else float(sla_factor)
                base = self.milp.solve(JointCluster.without_devices(cl))
                if base.score is None or not base.score.feasible:
                    raise UsageError(
                        "joint-milp: --sla-factor needs an answer with clients that run "
                        f"nothing, and there is none ({base.status}); give --sla in seconds"
                    )
                slas = [factor * sc.total_s for sc in base.score.routes]
        res = self.milp.solve(jc, objective, slas)
        runtime = time.perf_counter() - t0
        note = (
            f"joint answer ({objective}): "
            + (
                f"sum T = {res.score.time_s:.6g} s, swarm blocks {res.score.swarm_blocks}"
                if res.score is not None and res.score.feasible
                else "none"
            )
            + f"; backend {res.backend} said {res.backend_status}, certificate {res.certificate}"
            + (f"; {res.message}" if res.message else "")
        )
        pr = PlacementResult(
            self.name,
            res.status,
            res.placement,
            (),
            None,
            None,
            runtime,
            self.describe_options({"backend": self.milp.backend}),
            note,
        )
        return pr, joint_routing(jc, res, slas, runtime)


def joint_routing(
    jc: JointCluster, res: JointResult, slas: Sequence[float] | None, runtime_s: float
) -> JointRouting | None:
    """The MILP's routes as a :class:`JointRouting` (each job ``optimal`` when the
    answer is, i.e. part of a proved optimal joint answer; ``feasible`` answers too,
    labelled so by the placement result's status), with the client-runs-nothing
    baseline on the same placement (the per-request DP)."""
    if res.placement is None or res.score is None or not res.score.feasible:
        return None
    bare = JointCluster.without_devices(jc.cluster)
    answers, baseline = [], []
    for job, route, sc in zip(jc.cluster.jobs, res.routes, res.score.routes, strict=True):
        table = np.asarray(time_table(jc, res.placement, job)[0])  # the DP's, for reference
        answers.append(RouteAnswer("optimal", route, sc, table))
        baseline.append(best_route(bare, res.placement, job, "time"))
    return JointRouting(
        res.objective,
        tuple(answers),
        tuple(baseline),
        tuple(slas) if slas is not None else (None,) * len(answers),
        runtime_s,
        "joint MILP",
    )


__all__ = ["JointMilpAlgorithm", "joint_routing"]
