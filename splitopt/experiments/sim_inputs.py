"""The inputs of a ``simulate`` run from its command-line options: the cluster (with
the paper scripts' memories if asked), the workload (Poisson from the cluster file, or
a trace replay) and the semantics; warnings about overload."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace

from splitopt.errors import UsageError
from splitopt.placement.model import Cluster
from splitopt.placement.simulate import TraceWorkload, Workload

#: The authors' sweep scripts' memories (bytes) for the paper presets' servers:
#: A100 86.13 GB (the paper's "53 blocks per A100"), MIG 1g.10gb 9.1 GB ("4 per MIG").
SCRIPT_MEMORIES = {79.13e9: 86.13e9, 8.2e9: 9.1e9}
#: Backlog (requests queued beyond what memory holds) above which ``simulate`` warns:
#: the simulator's cost per arrival grows with the requests it has promised memory to.
OVERLOAD_WARN_REQUESTS = 20_000


def with_script_memories(cluster: Cluster) -> Cluster:
    """The cluster with the authors' sweep scripts' memories for servers that have the
    paper presets' (79.13 GB -> 86.13 GB, 8.2 GB -> 9.1 GB); others unchanged."""
    servers = tuple(
        replace(s, memory_bytes=SCRIPT_MEMORIES.get(float(s.memory_bytes), s.memory_bytes))
        for s in cluster.servers
    )
    return cluster.replace(
        name=cluster.name + "+paper-scripts",
        servers=servers,
        meta={**cluster.meta, "inputs": "paper-scripts"},
    )


def overload_note(cluster: Cluster, workload: Workload) -> str | None:
    """A warning when the offered load exceeds what the cluster can ever serve by far
    and the run is long: lam x T1 (requests in service at once without waiting) versus
    the concurrency memory allows, R_max; the backlog then grows with every arrival
    and the simulator's cost with it (quadratically in the requests)."""
    from splitopt.placement.online import r_max, single_request_time

    t1 = single_request_time(cluster, workload)
    if not math.isfinite(t1):
        return "no request has a route on this cluster: every request goes unserved"
    load = workload.rate_per_s * t1
    room = r_max(cluster, workload)
    backlog = (1 - room / load) * workload.num_requests if load > room else 0.0
    if load > 4 * room and backlog > OVERLOAD_WARN_REQUESTS:
        return (
            f"overloaded: offered load {load:.3g} concurrent requests, memory holds about "
            f"{room}; a backlog of ~{backlog:,.0f} requests builds up and the simulation's "
            "cost grows quadratically with it (use fewer --requests or a lower --rate)"
        )
    return None


def simulation_inputs(cluster: Cluster, args: argparse.Namespace) -> tuple[Cluster, Workload, str]:
    """(cluster, workload, semantics name) of a ``simulate`` command line."""
    if getattr(args, "inputs", "file") == "paper-scripts":
        cluster = with_script_memories(cluster)
    semantics = getattr(args, "semantics", "splitopt")
    if getattr(args, "authors_delays", False):
        print(
            "note: --authors-delays is deprecated (the earlier, looser mode, kept as the "
            "semantics 'authors-delays'); --semantics authors reproduces the authors' code",
            file=sys.stderr,
        )
        semantics = "authors-delays"
    trace = getattr(args, "trace", None)
    if not trace and (getattr(args, "trace_rate", None) or getattr(args, "trace_start", 0)):
        raise UsageError("--trace-rate / --trace-start need --trace")
    if trace and (args.rate is not None or args.l_out is not None):
        raise UsageError(
            "--rate / --l-out set Poisson arrivals and output lengths; a --trace gives its "
            "own (time-scale it with --trace-rate)"
        )
    if trace:
        from splitopt.formats.trace_file import read_trace

        tr = read_trace(trace)
        start = int(getattr(args, "trace_start", 0) or 0)
        n = args.requests if args.requests is not None else min(len(tr) - start, 1000)
        client = cluster.jobs[0].client if cluster.jobs else 0
        workload: Workload = TraceWorkload.from_trace(
            tr.times_s,
            tr.context_tokens,
            tr.generated_tokens,
            n,
            rate_per_s=getattr(args, "trace_rate", None),
            start=start,
            client=client,
        )
    else:
        workload = Workload.from_cluster(
            cluster, rate_per_s=args.rate, num_requests=args.requests, l_out=args.l_out
        )
    note = overload_note(cluster, workload)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    return cluster, workload, semantics


__all__ = [
    "OVERLOAD_WARN_REQUESTS",
    "SCRIPT_MEMORIES",
    "overload_note",
    "simulation_inputs",
    "with_script_memories",
]
