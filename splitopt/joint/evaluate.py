"""The one evaluator of the joint model: checks a route of segments and times it.

Every joint answer (the DP's, the brute force's, a heuristic's) is scored here;
no solver's own cost is trusted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from splitopt.evaluate import RTOL
from splitopt.joint.model import CLIENT, JointCluster, Segment
from splitopt.placement.model import Job, Placement


@dataclass(frozen=True)
class RouteScore:
    """The evaluator's figures for one request on one joint route.

    Times in seconds: ``prefill_s`` (time to first token, no waiting), ``decode_s``
    (the ``l_out - 1`` later tokens), ``total_s`` (T_r), ``per_token_s`` (T_r / l_out).
    ``client_blocks`` / ``swarm_blocks``: blocks run on the client / on servers;
    ``client_memory_bytes``: what the client holds for them (weights + KV cache).
    """

    feasible: bool
    reason: str | None
    prefill_s: float
    decode_s: float
    total_s: float
    per_token_s: float
    client_blocks: int
    swarm_blocks: int
    client_memory_bytes: float

    def meets(self, sla_s: float) -> bool:
        """Feasible and within ``sla_s`` (with the evaluator's relative tolerance)."""
        return self.feasible and self.total_s <= sla_s * (1.0 + RTOL)


def route_problem(
    jc: JointCluster, placement: Placement, job: Job, route: Sequence[Segment]
) -> str | None:
    """Why ``route`` breaks the joint hop rule (one line), or ``None``."""
    L = jc.num_blocks
    first, count = placement.first, placement.count
    S = int(count.size)
    nxt = 1
    client_blocks = 0
    for h, seg in enumerate(route):
        d, a, b = int(seg.device), int(seg.first), int(seg.last)
        if a != nxt:
            return f"segment {h} starts at block {a}, the next block needed is {nxt}"
        if b < a or b > L:
            return f"segment {h}: blocks {a}..{b} are not a range inside 1..{L}"
        if d == CLIENT:
            if h > 0 and int(route[h - 1].device) == CLIENT:
                return f"segment {h}: two client segments in a row (merge them)"
            client_blocks += b - a + 1
        else:
            if not 0 <= d < S:
                return f"segment {h}: server index {d} out of range"
            lo, m = int(first[d]), int(count[d])
            hi = lo + m - 1
            if m == 0 or not lo <= a <= b <= hi:
                return f"segment {h}: server {d} hosts blocks {lo}..{hi}, not {a}..{b}"
            nxt_dev = int(route[h + 1].device) if h + 1 < len(route) else None
            if b < hi and nxt_dev != CLIENT:
                return (
                    f"segment {h}: server {d} stops at block {b} before the end of its range "
                    f"({hi}) but the next device is not the client"
                )
        nxt = b + 1
    if nxt != L + 1:
        return f"route ends after block {nxt - 1}, the model has {L}"
    cap = jc.max_client_blocks(job)
    if client_blocks > cap:
        need = client_blocks * jc.client_block_bytes(job)
        have = jc.devices[job.client].memory_bytes
        return f"client runs {client_blocks} blocks needing {need:.6g} B, it has {have:.6g} B"
    return None


def score_route(
    jc: JointCluster, placement: Placement, job: Job, route: Sequence[Segment]
) -> RouteScore:
    """Check ``route`` for ``job`` and time it (server memory is global, not checked here)."""
    why = route_problem(jc, placement, job, route)
    if why is not None:
        inf = math.inf
        return RouteScore(False, why, inf, inf, inf, inf, 0, 0, inf)
    cl = jc.cluster
    c, l_in, l_out = job.client, job.l_in, job.l_out
    dev = jc.devices[c]
    prefill = 0.0
    per_token = 0.0
    n_client = 0
    for seg in route:
        k = seg.last - seg.first + 1
        if seg.device == CLIENT:
            prefill += k * dev.prefill_s(l_in)
            per_token += k * dev.decode_s
            n_client += k
        else:
            j = seg.device
            srv = cl.servers[j]
            prefill += cl.prefill_rtt(c, j, l_in) + k * srv.prefill_s(l_in)
            per_token += float(cl.rtt_s[c, j]) + k * srv.decode_s
    decode = (l_out - 1) * per_token
    total = prefill + decode
    return RouteScore(
        True,
        None,
        prefill,
        decode,
        total,
        total / l_out,
        n_client,
        jc.num_blocks - n_client,
        n_client * jc.client_block_bytes(job),
    )




def route_bottleneck(
    jc: JointCluster, placement: Placement, job: Job, route: Sequence[Segment]
) -> float:
    """The route's pipeline bottleneck (s per token; ``inf`` if the route is invalid).

    Our reading of PipeEdge's bottleneck in the joint model, with the decode times
    :func:`score_route` charges per later token: the largest *stage*, one per device
    as in PipeEdge: the client's compute (``n * decode_s`` for all its ``n`` blocks,
    prefix and suffix together), each server's compute (``k * decode_s`` for the
    ``k`` blocks it runs, over all its visits) and each server's link (``v *
    rtt_s[c, j]`` for its ``v`` visits: the round trip the joint evaluator charges per
    visit and later token, the client relaying the activations into and out of the
    visit). Throughput is ``1 / bottleneck`` tokens per second per request stream when
    the pipeline is kept full (ours, as PipeEdge's micro-batches).
    """
    if route_problem(jc, placement, job, route) is not None:
        return math.inf
    cl = jc.cluster
    c = job.client
    blocks = [0] * cl.num_servers
    visits = [0] * cl.num_servers
    n_client = 0
    for seg in route:
        k = seg.last - seg.first + 1
        if seg.device == CLIENT:
            n_client += k
        else:
            blocks[seg.device] += k
            visits[seg.device] += 1
    worst = n_client * jc.devices[c].decode_s
    for j, (k, v) in enumerate(zip(blocks, visits, strict=True)):
        if v:
            worst = max(worst, k * cl.servers[j].decode_s, v * float(cl.rtt_s[c, j]))
    return worst



@dataclass(frozen=True)
class AnswerScore:
    """The evaluator's figures for a whole joint answer: a placement and one route per job.

    ``routes[i]``: job ``i``'s :class:`RouteScore`; ``memory_bytes[j]``: server ``j``'s
    ``s_m m_j + sum_r s_c(r) k^r_j`` (``k^r_j``: blocks job r runs on j; client-run
    blocks use the client's memory, checked per route); ``time_s``: sum of T_r (inf
    unless feasible); ``swarm_blocks``: blocks run on servers, over all jobs.
    """

    feasible: bool
    reason: str | None
    routes: tuple[RouteScore, ...]
    memory_bytes: tuple[float, ...]
    time_s: float
    swarm_blocks: int

    def objective(self, objective: str) -> float:
        """``time``: sum of T_r (s); ``swarm-work``: swarm blocks (inf unless feasible)."""
        if not self.feasible:
            return math.inf
        return self.time_s if objective == "time" else float(self.swarm_blocks)


def score_answer(
    jc: JointCluster,
    placement: Placement,
    routes: Sequence[Sequence[Segment]],
    sla_s: Sequence[float] | None = None,
) -> AnswerScore:
    """Check and time a joint answer: the placement (ranges, caps, block memory, as
    :func:`splitopt.placement.evaluate.check_placement`), every job's route
    (:func:`score_route`, with its SLA where ``sla_s`` is given) and every server's
    memory (weights plus the KV cache of the blocks each job runs there, summed in job
    then segment order, against M_j (1 + RTOL), as the many-server evaluator)."""
    from splitopt.placement.evaluate import check_placement

    cl = jc.cluster
    S = cl.num_servers
    reason = check_placement(cl, placement)
    jobs = cl.jobs
    if reason is None and len(routes) != len(jobs):
        reason = f"{len(routes)} routes for {len(jobs)} jobs"
    if reason is not None:
        return AnswerScore(False, reason, (), (), math.inf, 0)
    memory = [cl.model.block_bytes * float(m) for m in placement.count.tolist()]
    scores = []
    for i, (job, route) in enumerate(zip(jobs, routes, strict=True)):
        sc = score_route(jc, placement, job, route)
        scores.append(sc)
        if not sc.feasible:
            reason = reason or f"job {i}: {sc.reason}"
            continue
        if sla_s is not None and not sc.meets(float(sla_s[i])):
            reason = reason or f"job {i}: T {sc.total_s:.6g} s exceeds its SLA {sla_s[i]:.6g} s"
        s_c = cl.model.cache_bytes(job.l_in, job.l_out)
        for seg in route:
            if seg.device != CLIENT:
                memory[seg.device] += s_c * (seg.last - seg.first + 1)
    if reason is None:
        for j in range(S):
            if not memory[j] <= cl.servers[j].memory_bytes * (1.0 + RTOL):
                reason = (
                    f"server {cl.servers[j].id!r}: memory {memory[j]:.6g} B exceeds "
                    f"{cl.servers[j].memory_bytes:.6g} B"
                )
                break
    ok = reason is None
    time_s = float(sum(s.total_s for s in scores)) if ok else math.inf
    swarm = int(sum(s.swarm_blocks for s in scores)) if ok else 0
    return AnswerScore(ok, reason, tuple(scores), tuple(memory), time_s, swarm)


__all__ = [
    "AnswerScore",
    "RouteScore",
    "route_bottleneck",
    "route_problem",
    "score_answer",
    "score_route",
]
