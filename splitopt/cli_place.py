"""``splitopt place``: flags derived from the placement algorithms' parameters, and
``--replay`` of a placement file (the command itself is ``cmd_place`` in
:mod:`splitopt.cli.place`).

Every option of :func:`splitopt.placement.params.all_options` is a flag
(``time_limit`` -> ``--time-limit``). A flag applies to every listed algorithm that
takes it; a flag that none of them takes is an error (exit 2), as for ``solve``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from splitopt.errors import InputError, UsageError, UserError
from splitopt.placement.params import IntList, all_options


def _int_list_or_word(text: str) -> str | list[int]:
    """``2,2,3`` -> [2, 2, 3]; a word (``random``) stays a word."""
    if "," not in text and not text.strip().lstrip("-").isdigit():
        return text
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers n,n,..., got {text!r}") from None


def add_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per placement option (type from its :class:`OptionSpec`)."""
    for o in all_options().values():
        kw: dict[str, Any] = {"dest": o.name, "default": None, "help": o.help}
        if o.kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif o.kind is IntList:
            kw["type"] = _int_list_or_word
        else:
            kw["type"] = o.kind
        parser.add_argument(o.flag, **kw)


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The placement options given on the command line, by option name."""
    return {k: getattr(args, k) for k in all_options() if getattr(args, k, None) is not None}


def per_algorithm(names: Sequence[str], given: dict[str, Any]) -> list[dict[str, Any]]:
    """Options per algorithm: each takes the given flags it accepts; a flag that no
    listed algorithm takes is a :class:`UsageError` naming it."""
    from splitopt.placement import algorithm_class

    accepted = {n: set(algorithm_class(n).option_names()) for n in names}
    specs = all_options()
    for key in given:
        if not any(key in acc for acc in accepted.values()):
            noun = "placement algorithm" if len(names) == 1 else "any of the algorithms"
            raise UsageError(f"{specs[key].flag} is not accepted by {noun} {', '.join(names)}")
    return [{k: v for k, v in given.items() if k in accepted[n]} for n in names]


def replay(args: argparse.Namespace, cluster: Any, jc: Any = None) -> tuple[list[Any], bool]:
    """Re-run every result of the placement file ``args.replay`` on ``cluster`` with its
    algorithm and recorded options (``jc``: the cluster with its client devices, for an
    algorithm that plans joint routes); (new results, whether every placement and route
    is the same). Prints one line per result."""
    from splitopt.formats.placement_file import read_runs
    from splitopt.placement import get_algorithm

    name, runs = read_runs(args.replay, cluster)
    if name is not None and name != cluster.name:
        raise InputError(
            args.replay,
            ["cluster"],
            f"the file is for cluster {name!r}, {args.cluster} is {cluster.name!r}",
        )
    algorithms = []
    for i, (alg, options, _, _) in enumerate(runs):
        try:
            algorithms.append(get_algorithm(alg, **options))
        except UserError as exc:
            raise InputError(args.replay, ["results", i, "options"], str(exc)) from None
    results, all_same = [], True
    stream = sys.stderr if args.json == "-" else sys.stdout
    for algorithm, (alg, options, placement, routes) in zip(algorithms, runs, strict=True):
        res = algorithm.solve(cluster) if jc is None else solve_one(args, jc, algorithm)[0]
        results.append(res)
        same = (
            res.placement is not None
            and placement is not None
            and res.placement.first.tolist() == placement.first.tolist()
            and res.placement.count.tolist() == placement.count.tolist()
            and tuple(res.routes) == tuple(routes)
        )
        all_same &= same
        what = "the same placement and routes" if same else "a DIFFERENT placement or routes"
        print(
            f"replay of {args.replay}: {alg} with {options or 'default options'} gives {what}",
            file=stream,
        )
    return results, all_same


# -- clients that run blocks too ---------------------------------------------------------------


def add_joint_flags(parser: argparse.ArgumentParser) -> None:
    """The joint-routing flags (used only when the cluster names client devices)."""
    from splitopt.joint.model import OBJECTIVES

    parser.add_argument(
        "--joint-objective",
        choices=OBJECTIVES,
        default=None,
        help="when the cluster names client devices: route each job over its client and "
        "the swarm with the exact joint DP, minimising its time (default), its swarm "
        "blocks within an SLA (swarm-work) or its pipeline bottleneck (throughput: the "
        "largest per-token stage, one per device -- the client's blocks, each server's "
        "blocks, each server's round trips -- over client prefix -> server chain -> client "
        "suffix routes; our reading of PipeEdge's; splitopt place only)",
    )
    sla = parser.add_mutually_exclusive_group()
    sla.add_argument(
        "--sla",
        type=float,
        default=None,
        metavar="SECONDS",
        help="swarm-work (implied): each request's SLA on T_r in seconds",
    )
    sla.add_argument(
        "--sla-factor",
        type=float,
        default=None,
        metavar="F",
        help="swarm-work (implied): each request's SLA as F times its time when its client runs "
        "nothing (default 1.0, ours)",
    )


def _route_text(jc: Any, route: Any) -> str:
    from splitopt.joint.model import CLIENT

    cl = jc.cluster
    return " -> ".join(
        f"{'client' if s.device == CLIENT else cl.servers[s.device].id}[{s.first}..{s.last}]"
        for s in route
    )


#: Jobs listed per result in the printed report (the JSON holds every job).
MAX_LISTED = 30


def joint_text(jc: Any, routing: Any) -> str:
    """The joint routes and figures of one placement result, as printed."""
    cl = jc.cluster
    head = f"joint routes ({routing.objective}"
    if routing.objective == "swarm-work":
        head += ", SLA per request"
    source = getattr(routing, "source", "exact DP")
    lines = [f"{head}; {source}, {routing.runtime_s * 1e3:.1f} ms):"]
    for i, (job, a, b, sla) in enumerate(
        zip(cl.jobs, routing.answers, routing.baseline, routing.sla_s, strict=True)
    ):
        if i == MAX_LISTED:
            lines.append(f"  ... {len(cl.jobs) - MAX_LISTED} more jobs (all in --json)")
            break
        who = f"  {cl.clients[job.client]} (l_in {job.l_in}, l_out {job.l_out})"
        sla_txt = "" if sla is None else f", SLA {sla:.4g} s"
        if a.status != "optimal":
            lines.append(f"{who}: {a.status}{sla_txt}")
            continue
        sc = a.score
        base = f"{b.score.total_s:.4g} s" if b.status == "optimal" else "none"
        pipe = ""
        if a.bottleneck_s is not None:
            pipe = (
                f"bottleneck {a.bottleneck_s:.4g} s/token, throughput "
                f"{a.throughput:.4g} tokens/s; "
            )
        lines.append(
            f"{who}: {_route_text(jc, a.route)}   {pipe}T = {sc.total_s:.4g} s "
            f"({sc.per_token_s:.4g} s/token), client {sc.client_blocks} / swarm "
            f"{sc.swarm_blocks} blocks; client runs nothing: T = {base}{sla_txt}"
        )
    joint, bare = routing.mean_per_token_s()
    lines.append(
        f"joint: {routing.served} of {len(cl.jobs)} jobs routed; swarm blocks "
        f"{routing.swarm_blocks} (client runs nothing: {routing.baseline_swarm_blocks}), "
        f"client blocks {routing.client_blocks}; mean per-token time {joint:.4g} s "
        f"(client runs nothing: {bare:.4g} s)"
    )
    if routing.errors:
        lines.append(f"ERROR: the evaluator disagrees with the DP on {routing.errors} job(s)")
    return "\n".join(lines)


def joint_dict(jc: Any, routing: Any) -> dict[str, Any]:
    """One result's joint routes as JSON (segments: device id, first, last block)."""
    from splitopt.joint.model import CLIENT

    cl = jc.cluster

    def seg(s: Any) -> dict[str, Any]:
        dev = "client" if s.device == CLIENT else cl.servers[s.device].id
        return {"device": dev, "first": s.first, "last": s.last}

    jobs = []
    for a, b, sla in zip(routing.answers, routing.baseline, routing.sla_s, strict=True):
        row: dict[str, Any] = {"status": a.status, "sla_s": sla}
        if a.status == "optimal":
            sc = a.score
            row.update(
                segments=[seg(s) for s in a.route],
                total_s=sc.total_s,
                prefill_s=sc.prefill_s,
                per_token_s=sc.per_token_s,
                client_blocks=sc.client_blocks,
                swarm_blocks=sc.swarm_blocks,
                client_memory_bytes=sc.client_memory_bytes,
            )
            if a.bottleneck_s is not None:
                row.update(bottleneck_s=a.bottleneck_s, throughput_tokens_per_s=a.throughput)
        row["baseline_total_s"] = b.score.total_s if b.status == "optimal" else None
        jobs.append(row)
    joint, bare = routing.mean_per_token_s()
    return {
        "objective": routing.objective,
        "served": routing.served,
        "swarm_blocks": routing.swarm_blocks,
        "baseline_swarm_blocks": routing.baseline_swarm_blocks,
        "client_blocks": routing.client_blocks,
        "mean_per_token_s": None if joint != joint else joint,
        "baseline_mean_per_token_s": None if bare != bare else bare,
        "jobs": jobs,
    }


def write_joint_placements(
    jc: Any, results: Sequence[Any], joint: Sequence[Any], target: str
) -> None:
    """The placement document with each result's joint routes in ``meta.joint`` (one
    entry per result, ``null`` where a result has no placement); ``-`` prints it."""
    from splitopt.formats.errors import dumps, write_text_atomic
    from splitopt.formats.placement_file import placements_to_dict

    doc = placements_to_dict(jc.cluster, results)
    doc["meta"] = {"joint": [None if r is None else joint_dict(jc, r) for r in joint]}
    if target == "-":
        print(dumps(doc))
    else:
        write_text_atomic(target, dumps(doc))


def solve_one(args: argparse.Namespace, jc: Any, algorithm: Any) -> tuple[Any, Any]:
    """One algorithm's placement result, and its own joint routes where it plans them
    (an algorithm with ``solve_joint``, e.g. ``joint-milp``, on a cluster whose clients
    name devices; else ``None``: the joint DP routes its placement)."""
    from splitopt.joint.model import NO_DEVICE

    if any(d != NO_DEVICE for d in jc.devices) and hasattr(algorithm, "solve_joint"):
        objective = getattr(args, "joint_objective", None)
        sla, factor = getattr(args, "sla", None), getattr(args, "sla_factor", None)
        if objective is None:
            objective = "time" if sla is None and factor is None else "swarm-work"
        return algorithm.solve_joint(jc, objective, sla_s=sla, sla_factor=factor)
    return algorithm.solve(jc.cluster), None


def solve_all(
    args: argparse.Namespace, jc: Any, algorithms: Sequence[Any]
) -> tuple[list[Any], list[Any]]:
    """:func:`solve_one` for each algorithm: (results, their own joint routes or None)."""
    pairs = [solve_one(args, jc, a) for a in algorithms]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def joint_routes(args: argparse.Namespace, jc: Any, results: Sequence[Any]) -> list[Any] | None:
    """Each result's :class:`~splitopt.joint.place.JointRouting` (``None`` for a result
    without a placement), or ``None`` when no client names a device (then the joint
    flags are an error)."""
    from splitopt.joint.model import NO_DEVICE
    from splitopt.joint.place import route_jobs

    objective = getattr(args, "joint_objective", None)
    sla, factor = getattr(args, "sla", None), getattr(args, "sla_factor", None)
    if all(d == NO_DEVICE for d in jc.devices):
        if objective is not None or sla is not None or factor is not None:
            raise UsageError(
                f"--joint-objective, --sla and --sla-factor need a cluster whose clients name "
                f"devices; {args.cluster} names none"
            )
        return None
    if objective is None:  # an SLA given alone means the swarm-work objective
        objective = "time" if sla is None and factor is None else "swarm-work"
    return [
        None
        if r.placement is None
        else route_jobs(jc, r.placement, objective, sla_s=sla, sla_factor=factor)
        for r in results
    ]


__all__ = [
    "add_flags",
    "add_joint_flags",
    "given_options",
    "joint_dict",
    "joint_routes",
    "joint_text",
    "per_algorithm",
    "replay",
    "solve_all",
    "solve_one",
    "write_joint_placements",
]
