"""``splitopt-placement`` v1 files (SPEC-PLACEMENT P5): read, validate, write.

A document::

    {"format": "splitopt-placement", "version": 1,
     "cluster": "paper-clustered", "splitopt_version": "...",
     "results": [
       {"algorithm": "cg-bprr", "status": "feasible", "options": {...},
        "runtime_s": 0.004, "message": null,
        "servers": [{"id": "a100-0", "first": 1, "count": 58}, ...],
        "routes": [["a100-0", "a100-1"], ...],          (one per job, server ids)
        "metrics": {"objective_s": ..., "mean_per_token_s": ..., "bound": ...,
                    "bound_kind": ..., "feasible": true,
                    "jobs": [{"prefill_s": ..., "decode_s": ..., "total_s": ...,
                              "per_token_s": ...}, ...]}}]}

The metrics are the evaluator's at writing time; :func:`read_placements` reads the
placements and routes back (against the cluster, by server id) so they can be
scored again — scores are never taken from the file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from splitopt._version import __version__
from splitopt.errors import DataError
from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    dumps,
    get_number,
    get_string,
    load_json,
    write_text_atomic,
)
from splitopt.placement.model import Cluster, Placement, Route
from splitopt.placement.result import STATUSES, PlacementResult

FORMAT = "splitopt-placement"
VERSION = 1


def _f(x: float | None) -> float | None:
    return None if x is None else float(x)


def result_to_dict(cluster: Cluster, res: PlacementResult) -> dict:
    """One ``results`` entry for ``res`` on ``cluster``."""
    ids = [s.id for s in cluster.servers]
    out: dict[str, Any] = {
        "algorithm": res.algorithm,
        "status": res.status,
        "options": dict(res.options),
        "runtime_s": res.runtime_s,
        "message": res.message,
    }
    if res.placement is not None:
        out["servers"] = [
            {
                "id": ids[j],
                "first": int(res.placement.first[j]),
                "count": int(res.placement.count[j]),
            }
            for j in range(len(ids))
        ]
        out["routes"] = [[ids[j] for j in r] for r in res.routes]
    sc = res.score
    metrics: dict[str, Any] = {"bound": _f(res.bound), "bound_kind": res.bound_kind}
    if sc is not None:
        metrics.update(
            feasible=sc.feasible,
            reason=sc.reason,
            objective_s=sc.objective,
            mean_per_token_s=sc.mean_per_token_s,
            memory_used_bytes=[float(v) for v in sc.memory_used],
            jobs=[
                {
                    "prefill_s": j.prefill_s,
                    "decode_s": j.decode_s,
                    "total_s": j.total_s,
                    "per_token_s": j.per_token_s,
                    "blocks": list(j.blocks),
                }
                for j in sc.jobs
            ],
        )
    out["metrics"] = metrics
    return out


def placements_to_dict(cluster: Cluster, results: Sequence[PlacementResult]) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "cluster": cluster.name,
        "splitopt_version": __version__,
        "results": [result_to_dict(cluster, r) for r in results],
    }


def write_placements(
    cluster: Cluster, results: Sequence[PlacementResult], file: str | os.PathLike
) -> None:
    """Write a placement file atomically."""
    write_text_atomic(file, dumps(placements_to_dict(cluster, results)))


def placements_dumps(cluster: Cluster, results: Sequence[PlacementResult]) -> str:
    return dumps(placements_to_dict(cluster, results))


#: Statuses whose result must carry a placement (``servers``); the others
#: (``infeasible``, ``error``, ``time_limit``) may have none.
PLACED = ("optimal", "feasible")
#: Largest block number or count a file may hold (a signed 64-bit integer).
MAX_INT = 2**63 - 1


def _index(file: Any, value: Any, path: list[str | int]) -> int:
    x = get_number(file, value, path, integer=True)
    if x > MAX_INT:
        raise InputError(file, path, f"must be at most {MAX_INT} (a 64-bit integer), got {value!r}")
    return int(x)


def placements_from_dict(
    doc: Any, cluster: Cluster | None, file: str | os.PathLike | None = None
) -> list[tuple[str, Placement | None, tuple[Route, ...]]]:
    """(algorithm, placement, routes) of every result, checked against ``cluster``;
    placement ``None`` for a result without one (status ``infeasible``, ``error`` or
    ``time_limit``)."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(
        file, doc, [], ("format", "version", "results"), ("cluster", "splitopt_version", "meta")
    )
    res = doc["results"]
    if not isinstance(res, list) or not res:
        raise InputError(file, ["results"], "must be a non-empty array of result objects")
    out: list[tuple[str, Placement | None, tuple[Route, ...]]] = []
    for i, r in enumerate(res):
        path: list[str | int] = ["results", i]
        check_fields(
            file,
            r,
            path,
            ("algorithm",),
            ("status", "servers", "options", "runtime_s", "message", "routes", "metrics"),
        )
        alg = get_string(file, r["algorithm"], [*path, "algorithm"])
        status = get_string(file, r.get("status", "feasible"), [*path, "status"], STATUSES)
        if "servers" not in r:
            if status in PLACED:
                raise InputError(
                    file, [*path, "servers"], f"missing field (a {status} result has a placement)"
                )
            out.append((alg, None, ()))
            continue
        rows = r["servers"]
        if not isinstance(rows, list):
            raise InputError(file, [*path, "servers"], "must be an array of server objects")
        if cluster is not None:
            index = {s.id: j for j, s in enumerate(cluster.servers)}
            S = cluster.num_servers
        else:  # structure only: the ids of this result, in their order
            index = _OpenIndex()
            S = len(rows)
        first = np.zeros(S, dtype=np.int64)
        count = np.zeros(S, dtype=np.int64)
        seen: set[int] = set()
        for k, row in enumerate(rows):
            rp = [*path, "servers", k]
            check_fields(file, row, rp, ("id", "first", "count"))
            sid = get_string(file, row["id"], [*rp, "id"])
            if sid not in index:
                raise InputError(file, [*rp, "id"], f"unknown server {sid!r} (not in the cluster)")
            j = index[sid]
            if j in seen:
                raise InputError(file, [*rp, "id"], f"server {sid!r} appears twice")
            seen.add(j)
            first[j] = _index(file, row["first"], [*rp, "first"])
            count[j] = _index(file, row["count"], [*rp, "count"])
        try:
            placement = Placement(first, count)
        except DataError as exc:
            raise InputError(file, [*path, "servers"], f"{exc.field}: {exc.reason}") from None
        routes: list[Route] = []
        rr = r.get("routes", [])
        if not isinstance(rr, list):
            raise InputError(file, [*path, "routes"], "must be an array of routes")
        for k, route in enumerate(rr):
            rp = [*path, "routes", k]
            if not isinstance(route, list):
                raise InputError(file, rp, "must be an array of server ids")
            hops = []
            for h, sid in enumerate(route):
                sid = get_string(file, sid, [*rp, h])
                if sid not in index:
                    raise InputError(file, [*rp, h], f"unknown server {sid!r}")
                hops.append(index[sid])
            routes.append(tuple(hops))
        out.append((alg, placement, tuple(routes)))
    return out


class _OpenIndex(dict):
    """Server ids -> positions, given out on first sight (checking without a cluster)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> int:
        self[key] = len(self)
        return self[key]


def check_placements(doc: Any, file: str | os.PathLike | None = None) -> int:
    """Check a placement document's structure without its cluster (server ids are
    not resolved): the number of results."""
    return len(placements_from_dict(doc, None, file))


def read_placements(
    file: str | os.PathLike, cluster: Cluster
) -> list[tuple[str, Placement | None, tuple[Route, ...]]]:
    """Read a placement file against ``cluster``."""
    return placements_from_dict(load_json(file), cluster, file)


def read_runs(
    file: str | os.PathLike, cluster: Cluster
) -> tuple[str | None, list[tuple[str, dict, Placement | None, tuple[Route, ...]]]]:
    """(cluster name recorded, [(algorithm, options, placement, routes)]) of a placement
    file read against ``cluster``: what ``splitopt place CLUSTER --replay FILE`` re-runs."""
    doc = load_json(file)
    runs = placements_from_dict(doc, cluster, file)
    out = []
    for i, (alg, placement, routes) in enumerate(runs):
        options = doc["results"][i].get("options", {})
        if not isinstance(options, dict):
            raise InputError(file, ["results", i, "options"], "must be a JSON object")
        out.append((alg, dict(options), placement, routes))
    name = doc.get("cluster")
    return (name if isinstance(name, str) else None), out


__all__ = [
    "FORMAT",
    "VERSION",
    "check_placements",
    "placements_dumps",
    "placements_from_dict",
    "placements_to_dict",
    "read_placements",
    "read_runs",
    "result_to_dict",
    "write_placements",
]
