"""``splitopt-solution`` v1 documents (SPEC §6): what ``solve --json`` prints."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from splitopt._version import __version__
from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    dumps,
    get_string,
    load_json,
    write_text_atomic,
)
from splitopt.solution import STATUSES, Result

if TYPE_CHECKING:
    from splitopt.metrics import Summary

FORMAT = "splitopt-solution"
VERSION = 1

#: The fields a solution document holds: name -> JSON type ("number?" may be null).
#: The writer fills exactly these (a test checks written files against the schema
#: generated from these tables, :mod:`splitopt.formats.schemas`).
DOCUMENT_FIELDS: dict[str, str] = {
    "format": "string",
    "version": "integer",
    "instance": "string",
    "solver": "string",
    "status": "status",
    "objective": "number?",
    "runtime_s": "number",
    "work_unit": "string",
    "options": "object",
    "summary": "summary",
    "splitopt_version": "string",
    "requests": "requests",
}
SUMMARY_FIELDS: dict[str, str] = {
    "requests": "integer",
    "feasible": "integer",
    "infeasible": "integer",
    "server_only_work": "number?",
    "server_only_infeasible": "integer",
    "reduction_vs_server_only": "number?",
}
#: per request; ``bound`` and ``message`` only when there is one
REQUEST_FIELDS: dict[str, str] = {
    "id": "string",
    "status": "status",
    "placement": "placement",
    "server_work": "number?",
    "latency_s": "number?",
    "client_memory_bytes": "number?",
    "feasible": "boolean",
    "bound": "number?",
    "message": "string",
}
#: what :func:`read_placements` needs of a document
REQUIRED_DOCUMENT_FIELDS: tuple[str, ...] = ("format", "version", "requests")
REQUIRED_REQUEST_FIELDS: tuple[str, ...] = ("id", "placement")


def _num(x: float) -> float | int | None:
    if x is None or not math.isfinite(x):
        return None
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


def solution_to_dict(result: Result, summary: Summary) -> dict:
    """The solution document of a result and its summary
    (:func:`splitopt.metrics.summarize`). Figures are the evaluator's."""
    s = summary
    reqs = []
    for r in result:
        row: dict[str, Any] = {
            "id": r.id,
            "status": r.status,
            "placement": r.placement,
            "server_work": _num(r.server_work),
            "latency_s": _num(r.latency_s),
            "client_memory_bytes": _num(r.client_memory_bytes),
            "feasible": r.feasible,
        }
        if r.bound is not None:
            row["bound"] = _num(r.bound)
        if r.message:
            row["message"] = r.message
        reqs.append(row)
    return {
        "format": FORMAT,
        "version": VERSION,
        "instance": result.instance,
        "solver": result.solver,
        "status": result.status,
        "objective": _num(result.objective),
        "runtime_s": result.runtime_s,
        "work_unit": result.problem.work_unit,
        "options": result.options,
        "summary": {
            "requests": s.requests,
            "feasible": s.feasible,
            "infeasible": s.infeasible,
            "server_only_work": _num(s.server_only_work),
            "server_only_infeasible": s.server_only_infeasible,
            "reduction_vs_server_only": _num(s.reduction_vs_server_only),
        },
        "splitopt_version": __version__,
        "requests": reqs,
    }


def write_solution(result: Result, summary: Summary, file: str | os.PathLike) -> None:
    """Write a solution file atomically."""
    write_text_atomic(file, dumps(solution_to_dict(result, summary)))


def solution_dumps(result: Result | list[Result], summary: Summary | list[Summary]) -> str:
    """JSON text of one result, or an array of documents for several (one summary each)."""
    if isinstance(result, list):
        assert isinstance(summary, list)
        return dumps([solution_to_dict(r, s) for r, s in zip(result, summary, strict=True)])
    return dumps(solution_to_dict(result, summary))  # type: ignore[arg-type]


def read_placements(file: str | os.PathLike) -> tuple[dict[str, str | None], dict]:
    """Read a solution file: (request id -> placement or None, the whole document).

    Only the header and the request ids/placements are validated; the figures
    in the file are ignored (the evaluator recomputes them).
    """
    doc = load_json(file)
    check_header(file, doc, FORMAT, VERSION)
    if "requests" not in doc:
        raise InputError(file, ["requests"], "missing field")
    reqs = doc["requests"]
    if not isinstance(reqs, list):
        raise InputError(file, ["requests"], "must be an array")
    out: dict[str, str | None] = {}
    for i, r in enumerate(reqs):
        path: list[str | int] = ["requests", i]
        if not isinstance(r, dict):
            raise InputError(file, path, "must be a JSON object")
        check_fields(
            file, r, path, ("id", "placement"), tuple(k for k in r if k not in ("id", "placement"))
        )
        rid = get_string(file, r["id"], [*path, "id"])
        if rid in out:
            raise InputError(file, [*path, "id"], f"duplicate request id {rid!r}")
        p = r["placement"]
        if p is not None:
            p = get_string(file, p, [*path, "placement"])
        if "status" in r and r["status"] not in STATUSES:
            raise InputError(file, [*path, "status"], f"unknown status {r['status']!r}")
        out[rid] = p
    return out, doc
