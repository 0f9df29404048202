"""The online simulator with clients that run blocks too.

Every policy of the many-server simulator (:mod:`splitopt.placement.online`) runs
unchanged; this module adds, per request class, the route its client part fixes
(:class:`~splitopt.placement.online.FixedRoutes`):

* **Route choice (static, per request class).** When the policy's placement is
  built, each request class (client, l_in, l_out) gets the exact joint DP's route
  (:func:`splitopt.joint.route.best_route`) on that placement, for the objective
  ``time`` (least T_r, as ``splitopt place``'s default) or ``swarm-work`` (fewest
  swarm blocks with T_r within the SLA: ``sla_s`` seconds, or ``sla_factor`` times
  the class's time when its client runs nothing). The rule sees the placement, the
  client's device and the request's lengths, *not* the servers' current cache
  occupancy (ours: the state it sees is static). Its requests then wait, as WS-RR's
  do, until every server of the route has cache room for the blocks it runs there.
* **Classes whose client runs nothing** — no device, a device that cannot hold one
  block with its KV cache, or a route whose best has 0 client blocks — are routed by
  the policy exactly as without client devices (bit for bit: the tests and
  ``benchmarks/sim_exactness.py --via-joint`` check it). So does a class whose
  client-part route needs more cache on a server than the policy's budget there.
* **JFFC** (gbp-cr's chains): a request still takes a chain slot (GCA reserved cache
  for the whole chain); on chain k its client runs the blocks the joint DP restricted
  to chain k's servers gives it (its service time shrinks or grows accordingly).
* **Clients (ours).** Each request is its own client instance (a distinct user
  device of its client's class): client compute never queues behind another request
  and the client's memory holds only this request's blocks (weights + KV cache; the
  joint model's rule). Client compute is charged as the joint evaluator times it
  (prefill and per-token decode of the client's blocks; a client segment costs no
  network time, a server visit its round trips), inside the request's service time.

Per-request outputs: ``SimRun.client_blocks`` and ``SimRun.swarm_blocks`` (blocks
on the client and on the swarm; swarm work in blocks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from splitopt.errors import UsageError
from splitopt.joint.model import CLIENT, JointCluster
from splitopt.joint.route import OBJECTIVES, RouteAnswer, best_route
from splitopt.placement.model import Cluster, Job, Placement
from splitopt.placement.online import FixedRoutes, Prepared
from splitopt.placement.simulate import Workload

#: Our assumption on clients in the simulator (each request its own client device).
CLIENT_INSTANCES = "per-request"


def has_devices(jc: JointCluster) -> bool:
    """Whether some client can run blocks (a device with memory)."""
    return any(d.memory_bytes > 0 for d in jc.devices)


def check_objective(
    objective: str, sla_s: float | None, sla_factor: float | None
) -> tuple[str, float | None, float | None]:
    """(objective, sla_s, sla_factor) checked; an SLA alone implies ``swarm-work``,
    whose default SLA factor is 1.0 (ours, as ``splitopt place``)."""
    if sla_s is not None and sla_factor is not None:
        raise UsageError("give the SLA in seconds or as a factor, not both")
    if objective not in OBJECTIVES:
        raise UsageError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    if objective == "time" and (sla_s is not None or sla_factor is not None):
        raise UsageError("an SLA applies only to the swarm-work objective")
    for name, v in (("SLA", sla_s), ("SLA factor", sla_factor)):
        if v is not None and not (math.isfinite(v) and v > 0):
            raise UsageError(f"the {name} must be a positive number, got {v!r}")
    if objective == "swarm-work" and sla_s is None and sla_factor is None:
        sla_factor = 1.0
    return objective, sla_s, sla_factor


def class_route(
    jc: JointCluster,
    placement: Placement,
    job: Job,
    objective: str = "time",
    sla_s: float | None = None,
    sla_factor: float | None = None,
) -> RouteAnswer | None:
    """The class's joint route with at least one client block, or ``None`` (the policy
    routes it): the DP's best for ``objective`` on ``placement``."""
    if jc.max_client_blocks(job) <= 0:
        return None
    if objective == "time":
        ans = best_route(jc, placement, job, "time")
    else:
        sla = sla_s
        if sla is None:
            base = best_route(JointCluster.without_devices(jc.cluster), placement, job, "time")
            if base.status != "optimal" or base.score is None:
                return None
            sla = float(sla_factor if sla_factor is not None else 1.0) * base.score.total_s
        ans = best_route(jc, placement, job, "swarm-work", sla)
    if ans.status != "optimal" or ans.score is None or ans.score.client_blocks <= 0:
        return None
    return ans


def _servers(ans: RouteAnswer) -> tuple[list[int], list[int]]:
    """(servers in route order, each once; blocks each runs) of a joint route."""
    order: list[int] = []
    blocks: dict[int, int] = {}
    for seg in ans.route:
        if seg.device == CLIENT:
            continue
        if seg.device not in blocks:
            order.append(seg.device)
            blocks[seg.device] = 0
        blocks[seg.device] += seg.blocks
    return order, [blocks[j] for j in order]


def fixed_routes(
    jc: JointCluster,
    placement: Placement,
    classes: Sequence[Job],
    *,
    objective: str = "time",
    sla_s: float | None = None,
    sla_factor: float | None = None,
    chains: Sequence[tuple[int, ...]] = (),
) -> FixedRoutes:
    """The client-part routes of every request class on ``placement`` (and, for JFFC,
    on each chain of ``chains``)."""
    objective, sla_s, sla_factor = check_objective(objective, sla_s, sla_factor)
    S = jc.cluster.num_servers
    C = len(classes)
    hops = np.zeros(C, dtype=np.int64)
    servers = np.zeros((C, S), dtype=np.int64)
    blocks = np.zeros((C, S), dtype=np.int64)
    total = np.zeros(C)
    prefill = np.zeros(C)
    client = np.zeros(C, dtype=np.int64)
    for c, job in enumerate(classes):
        ans = class_route(jc, placement, job, objective, sla_s, sla_factor)
        if ans is None:
            continue
        assert ans.score is not None
        order, nb = _servers(ans)
        h = len(order)
        hops[c] = h
        servers[c, :h] = order
        blocks[c, :h] = nb
        total[c] = ans.score.total_s
        prefill[c] = ans.score.prefill_s
        client[c] = ans.score.client_blocks
    ct = cp = cb = None
    if chains:
        K = len(chains)
        ct, cp = np.full((C, K), np.inf), np.full((C, K), np.inf)
        cb = np.zeros((C, K), dtype=np.int64)
        for k, chain in enumerate(chains):
            on = np.zeros(S, dtype=bool)
            on[list(chain)] = True
            sub = Placement(placement.first.copy(), np.where(on, placement.count, 0))
            for c, job in enumerate(classes):
                ans = class_route(jc, sub, job, objective, sla_s, sla_factor)
                if ans is None:
                    continue
                assert ans.score is not None
                ct[c, k] = ans.score.total_s
                cp[c, k] = ans.score.prefill_s
                cb[c, k] = ans.score.client_blocks
    return FixedRoutes(
        hops, servers, blocks, total, prefill, client, ct, cp, cb, num_blocks=jc.num_blocks
    )


def fixed_for(
    jc: JointCluster,
    classes: Sequence[Job],
    *,
    objective: str = "time",
    sla_s: float | None = None,
    sla_factor: float | None = None,
) -> Callable[[Prepared], FixedRoutes | None]:
    """The ``fixed_for`` callback of :func:`splitopt.placement.online.run_policy` and
    ``simulate_many``: the client-part routes on each prepared placement."""
    objective, sla_s, sla_factor = check_objective(objective, sla_s, sla_factor)

    def build(prep: Prepared) -> FixedRoutes | None:
        if prep.placement is None:
            return None
        return fixed_routes(
            jc,
            prep.placement,
            classes,
            objective=objective,
            sla_s=sla_s,
            sla_factor=sla_factor,
            chains=prep.chains if prep.routing == "jffc" else (),
        )

    return build


def simulate_options(
    file: object,
    jc: JointCluster,
    objective: str | None,
    sla_s: float | None,
    sla_factor: float | None,
    cluster: Cluster | None = None,
    workload: Workload | None = None,
) -> tuple[Callable[[Prepared], FixedRoutes | None] | None, dict[str, object] | None]:
    """``splitopt simulate``'s client options: (the ``fixed_for`` callback, the
    document's ``clients`` entry), both ``None`` when no client of ``jc`` can run a
    block (then the joint flags are an error naming ``file``). ``cluster`` (default
    ``jc.cluster``, e.g. with the paper scripts' memories) and ``workload`` are what is
    simulated; without a workload only the flags are checked."""
    if not has_devices(jc):
        if objective is not None or sla_s is not None or sla_factor is not None:
            raise UsageError(
                f"--joint-objective, --sla and --sla-factor need a cluster whose clients name "
                f"devices with memory; {file} names none"
            )
        return None, None
    if objective is None:  # an SLA given alone means the swarm-work objective
        objective = "time" if sla_s is None and sla_factor is None else "swarm-work"
    objective, sla_s, sla_factor = check_objective(objective, sla_s, sla_factor)
    if workload is None:
        return None, None
    jc = JointCluster(cluster if cluster is not None else jc.cluster, jc.devices)
    meta: dict[str, object] = {
        "instances": CLIENT_INSTANCES,
        "route_choice": "static per request class (exact joint DP on the placement)",
        "objective": objective,
        "clients_with_devices": sum(d.memory_bytes > 0 for d in jc.devices),
    }
    if sla_s is not None:
        meta["sla_s"] = sla_s
    if sla_factor is not None:
        meta["sla_factor"] = sla_factor
    build = fixed_for(jc, workload.classes, objective=objective, sla_s=sla_s, sla_factor=sla_factor)
    return build, meta


__all__ = [
    "CLIENT_INSTANCES",
    "check_objective",
    "class_route",
    "fixed_for",
    "fixed_routes",
    "has_devices",
    "simulate_options",
]
