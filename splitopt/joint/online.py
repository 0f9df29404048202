"""The online simulator with clients that run blocks too.

Every policy of the many-server simulator (:mod:`splitopt.placement.online`) runs
unchanged; this module adds the requests' client parts
(:class:`~splitopt.placement.online.FixedRoutes`):

* **Route choice.** ``route_choice="waits"`` (default): at each arrival the policy
  routes the request as usual (its route runs no block on the client), and the exact
  joint DP on the policy's placement gives, per number n >= 1 of client blocks, its
  best route with every server visit's cost raised by the server's wait now for its
  cache (WS-RR's penalty); each candidate is valued at its actual wait now plus its
  T_r (:func:`splitopt.placement.sim_kernel.simulate_joint_routes_kernel`). Objective
  ``time``: the least value wins (ties to the policy's route); ``swarm-work``: the
  most client blocks whose value is within the SLA (``sla_s`` seconds, or
  ``sla_factor`` times the class's time when its client runs nothing), else the least
  value. The state it sees: the placement, the client's device, the request's lengths
  and the cache every server has promised (what WS-RR sees), under every routing.
  ``route_choice="static"``: once per request class when the placement is built, the
  DP's route for the objective without waits (what ``splitopt place`` prints); its
  requests all use that route. Either way a request waits, as WS-RR's do, until every
  server of its route has cache room for the blocks it runs there.
* **Classes whose client runs nothing** — no device, or a device that cannot hold
  one block with its KV cache (and, static, a class whose best route runs no block on
  the client) — are routed by the policy exactly as without client devices (bit for
  bit: the tests and ``benchmarks/sim_exactness.py --via-joint`` check it). So does a class whose
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
from splitopt.joint.model import CLIENT, TIME_OBJECTIVES, JointCluster
from splitopt.joint.route import OBJECTIVES, RouteAnswer, best_route
from splitopt.placement.model import Cluster, Job, Placement
from splitopt.placement.online import ClientChoice, FixedRoutes, Prepared
from splitopt.placement.simulate import Workload

#: Our assumption on clients in the simulator (each request its own client device).
CLIENT_INSTANCES = "per-request"
#: When a request's client part is chosen: ``static`` (per request class, on the
#: placement) or ``waits`` (at each arrival, by the joint DP with WS-RR's wait penalty).
ROUTE_CHOICES = ("static", "waits")


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
    if objective not in TIME_OBJECTIVES:
        raise UsageError(
            f"the simulator routes client blocks for {', '.join(TIME_OBJECTIVES)}, "
            f"not {objective!r} (throughput routes: splitopt place)"
        )
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
    route_choice: str = "waits",
) -> FixedRoutes:
    """The client-part routes of every request class on ``placement`` (and, for JFFC,
    on each chain of ``chains``); with ``route_choice="waits"`` the routing kernels
    choose them at each arrival instead (:func:`client_choice`)."""
    objective, sla_s, sla_factor = check_objective(objective, sla_s, sla_factor)
    if route_choice not in ROUTE_CHOICES:
        raise UsageError(
            f"unknown client route choice {route_choice!r}; choose from {', '.join(ROUTE_CHOICES)}"
        )
    S = jc.cluster.num_servers
    C = len(classes)
    hops = np.zeros(C, dtype=np.int64)
    servers = np.zeros((C, S), dtype=np.int64)
    blocks = np.zeros((C, S), dtype=np.int64)
    total = np.zeros(C)
    prefill = np.zeros(C)
    client = np.zeros(C, dtype=np.int64)
    for c, job in enumerate(classes):
        if route_choice != "static":
            break
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
    choice = None
    if route_choice == "waits":
        choice = client_choice(jc, placement, classes, objective, sla_s, sla_factor)
    return FixedRoutes(
        hops,
        servers,
        blocks,
        total,
        prefill,
        client,
        ct,
        cp,
        cb,
        num_blocks=jc.num_blocks,
        choice=choice,
    )


def client_choice(
    jc: JointCluster,
    placement: Placement,
    classes: Sequence[Job],
    objective: str = "time",
    sla_s: float | None = None,
    sla_factor: float | None = None,
) -> ClientChoice:
    """The per-class costs with which the simulator's kernel chooses each request's
    client part at its arrival: the joint DP with every server visit's cost raised by
    the server's wait now for the cache of its whole range (WS-RR's penalty). For
    ``swarm-work`` the most client blocks whose penalised cost is within the SLA win
    (``sla_s``, or ``sla_factor`` times the class's time when its client runs nothing,
    no wait), else the least penalised cost; for ``time`` the least penalised cost."""
    cl = jc.cluster
    C, S = len(classes), cl.num_servers
    kmax = np.zeros(C, dtype=np.int64)
    visit, block, pre_visit, pre_block = (np.zeros((C, S)) for _ in range(4))
    client, pre_client = np.zeros(C), np.zeros(C)
    sla = np.full(C, math.inf)
    bare = JointCluster.without_devices(cl)
    for c, job in enumerate(classes):
        kmax[c] = jc.max_client_blocks(job)
        visit[c], block[c], client[c] = jc.costs(job)
        pre_visit[c] = [cl.prefill_rtt(job.client, j, job.l_in) for j in range(S)]
        pre_block[c] = [srv.prefill_s(job.l_in) for srv in cl.servers]
        pre_client[c] = jc.devices[job.client].prefill_s(job.l_in)
        if objective == "swarm-work" and kmax[c] > 0:
            if sla_s is not None:
                sla[c] = sla_s
            else:
                base = best_route(bare, placement, job, "time")
                if base.status == "optimal" and base.score is not None:
                    sla[c] = float(sla_factor if sla_factor is not None else 1.0) * (
                        base.score.total_s
                    )
    return ClientChoice(kmax, visit, block, client, pre_visit, pre_block, pre_client, sla)


def fixed_for(
    jc: JointCluster,
    classes: Sequence[Job],
    *,
    objective: str = "time",
    sla_s: float | None = None,
    sla_factor: float | None = None,
    route_choice: str = "waits",
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
            route_choice=route_choice,
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
    route_choice: str = "waits",
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
    if route_choice not in ROUTE_CHOICES:
        raise UsageError(
            f"unknown client route choice {route_choice!r}; choose from {', '.join(ROUTE_CHOICES)}"
        )
    if workload is None:
        return None, None
    jc = JointCluster(cluster if cluster is not None else jc.cluster, jc.devices)
    meta: dict[str, object] = {
        "instances": CLIENT_INSTANCES,
        "route_choice": route_choice,
        "objective": objective,
        "clients_with_devices": sum(d.memory_bytes > 0 for d in jc.devices),
    }
    if sla_s is not None:
        meta["sla_s"] = sla_s
    if sla_factor is not None:
        meta["sla_factor"] = sla_factor
    build = fixed_for(
        jc,
        workload.classes,
        objective=objective,
        sla_s=sla_s,
        sla_factor=sla_factor,
        route_choice=route_choice,
    )
    return build, meta


__all__ = [
    "CLIENT_INSTANCES",
    "ROUTE_CHOICES",
    "check_objective",
    "class_route",
    "client_choice",
    "fixed_for",
    "fixed_routes",
    "has_devices",
    "simulate_options",
]
