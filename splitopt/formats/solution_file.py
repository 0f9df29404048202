"""``splitopt-solution`` v1 documents (SPEC §6): what ``solve --json`` prints."""

from __future__ import annotations

import math
import operator
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress, count, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from splitopt._version import __version__
from splitopt.formats import errors
from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    dumps,
    format_path,
    get_number,
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
#: per request; ``bound`` and ``message`` only when there is one; ``reason`` (why the
#: request is unserved: :meth:`splitopt.infeasible.Reason.to_dict`) only for unserved ones
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
    "reason": "object",
}
#: what :func:`read_placements` needs of a document
REQUIRED_DOCUMENT_FIELDS: tuple[str, ...] = ("format", "version", "requests")
REQUIRED_REQUEST_FIELDS: tuple[str, ...] = ("id", "placement")


def _num(x: float) -> float | int | None:
    if x is None or not math.isfinite(x):
        return None
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


def _nums(a: np.ndarray) -> list[float | int | None]:
    """``[_num(v) for v in a]`` without a Python step per number: floats as they are,
    whole numbers below 2**53 as ints, non-finite ones as None."""
    a = np.asarray(a, np.float64)
    fin = np.isfinite(a)
    whole = np.zeros(a.shape, bool)
    whole[fin] = (np.floor(a[fin]) == a[fin]) & (np.abs(a[fin]) < 2**53)
    if fin.all() and not whole.any():
        return a.tolist()
    out = np.array(a.tolist(), dtype=object)
    out[whole] = a[whole].astype(np.int64).tolist()
    out[~fin] = None
    return out.tolist()


def _columns(result: Result) -> tuple[list, ...]:
    """The request rows' fixed fields, one list per field in row order (ids, statuses,
    placements, server work, latency, client memory, feasible): what iterating
    ``result`` gives, without an object per request."""
    ev = result.evaluation
    return (
        result.problem.ids,
        list(result.statuses),
        list(ev.placements),
        _nums(ev.server_work),
        _nums(ev.latency_s),
        _nums(ev.client_memory_bytes),
        np.asarray(ev.feasible, bool).tolist(),
    )


def _extras(result: Result, ids: list[str]) -> dict[int, dict]:
    """The optional fields of the rows that have them (``bound``, ``message``,
    ``reason``, in this order), by row."""
    from splitopt.infeasible import reasons

    why = reasons(result)
    bounds, messages = result.bounds, result.messages
    rows: set[int] = set()
    if why:
        pos = {rid: i for i, rid in enumerate(ids)}
        rows.update(pos[rid] for rid in why)
    if bounds is not None:
        rows.update(compress(count(), map(operator.is_not, bounds, repeat(None))))
    if messages is not None:
        rows.update(compress(count(), map(bool, messages)))
    out: dict[int, dict] = {}
    for i in sorted(rows):
        extra: dict = {}
        bound = None if bounds is None else bounds[i]
        if bound is not None:
            extra["bound"] = _num(bound)
        if messages is not None and messages[i]:
            extra["message"] = messages[i]
        if ids[i] in why:
            extra["reason"] = why[ids[i]].to_dict()
        out[i] = extra
    return out


def _head(result: Result, summary: Summary) -> dict:
    """The document without its request rows (``"requests": []``, the last key)."""
    s = summary
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
        "requests": [],
    }


#: the fixed fields of a request row, in file order (the lists of :func:`_columns`;
#: the columns of a Parquet solution too)
ROW_FIELDS = (
    "id",
    "status",
    "placement",
    "server_work",
    "latency_s",
    "client_memory_bytes",
    "feasible",
)


def solution_to_dict(result: Result, summary: Summary) -> dict:
    """The solution document of a result and its summary
    (:func:`splitopt.metrics.summarize`). Figures are the evaluator's."""
    cols = _columns(result)
    reqs = [dict(zip(ROW_FIELDS, row, strict=True)) for row in zip(*cols, strict=True)]
    for i, extra in _extras(result, cols[0]).items():
        reqs[i].update(extra)
    doc = _head(result, summary)
    doc["requests"] = reqs
    return doc


def write_solution(result: Result, summary: Summary, file: str | os.PathLike) -> None:
    """Write a solution file atomically."""
    write_text_atomic(file, _result_text(result, summary))


def solution_dumps(result: Result | list[Result], summary: Summary | list[Summary]) -> str:
    """JSON text of one result, or an array of documents for several (a *solution
    list*: ``evaluate`` reads both, see :func:`read_solutions`); one summary each."""
    if isinstance(result, list):
        assert isinstance(summary, list)
        docs = [_result_text(r, s) for r, s in zip(result, summary, strict=True)]
        return "[\n" + ",\n".join(docs) + "\n]"
    return _result_text(result, summary)  # type: ignore[arg-type]


def _doc_text(doc: dict) -> str:
    """JSON text of one solution document: the header as :func:`dumps` writes it, the
    requests one compact line each by orjson (fast on big files; non-finite numbers
    become ``null`` in both)."""
    if not errors._FAST:
        return dumps(doc)
    rows = doc["requests"]
    head = dumps({**doc, "requests": []})
    assert head.endswith('"requests": []\n}')
    if not rows:
        return head
    # one orjson call for all rows, cut into lines where one row ends and the next
    # begins: every row starts with its "id" key, and ``{"id":`` cannot occur inside a
    # JSON string (its quote would be escaped); a nested object that also starts so
    # (none does today) shows as one cut too many, and the rows go one by one instead
    text = orjson.dumps(rows)
    cut = b'},{"id":'
    if text.count(cut) == len(rows) - 1 and set(map(next, map(iter, rows), repeat(None))) == {"id"}:
        body = text[1:-1].replace(cut, b'},\n{"id":').decode()
    else:
        body = b",\n".join(map(orjson.dumps, rows)).decode()
    return _with_rows(head, body)


def _with_rows(head: str, body: str) -> str:
    """The document text ``head`` (ending ``"requests": []``) with the rows ``body``."""
    return head[: -len("[]\n}")] + "[\n" + body + "\n]\n}"


#: JSON text of each status (orjson's: plain ASCII words)
_STATUS_TEXT = {s: f'"{s}"' for s in STATUSES}
_BOOL_TEXT = {True: "true", False: "false"}
#: the characters orjson escapes in a string (the rest it writes as they are)
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')
#: the text around the fields of a request row (orjson's compact form)
_ROW_PARTS = (*(("," if i else "{") + f'"{k}":' for i, k in enumerate(ROW_FIELDS)), "}")


def _quoted(texts: list[str]) -> list[str]:
    """Each string in double quotes, with no character to escape in any (checked by
    the caller): one join and one split, no step per string (``\\x00`` is such a
    character, so it cannot occur)."""
    return ('"' + '"\x00"'.join(texts) + '"').split("\x00")


def _number_texts(values: list) -> list[str]:
    """orjson's text of each number (or ``null``) of ``values``: one call for all (no
    number's text holds a comma)."""
    return orjson.dumps(values).decode()[1:-1].split(",")


def _result_text(result: Result, summary: Summary) -> str:
    """:func:`_doc_text` of :func:`solution_to_dict`, built column by column: each
    field's JSON text for every row at once (orjson's text of the numbers, the ids
    quoted as orjson quotes them), one join per row, and orjson's line for the few
    rows with optional fields. The same text, without a dict per request."""
    if not errors._FAST:
        return dumps(solution_to_dict(result, summary))
    head = dumps(_head(result, summary))
    assert head.endswith('"requests": []\n}')
    ids, statuses, placements, work, latency, memory, feasible = _columns(result)
    if not ids:
        return head
    joined = "".join(ids)
    if joined.isascii() and _ESCAPED.search(joined) is None:
        q_ids = _quoted(ids)
    else:  # escapes, non-ASCII text (and a string orjson refuses): orjson's own text
        q_ids = [orjson.dumps(rid).decode() for rid in ids]
    q_status = list(map(_STATUS_TEXT.get, statuses))
    if None in q_status:  # a status outside STATUSES (a hand-made Result): as orjson
        q_status = [orjson.dumps(st).decode() for st in statuses]
    # placements are "C"/"S" strings (format_placement) or None
    if None in placements:
        q_place = ["null" if p is None else '"' + p + '"' for p in placements]
    else:
        q_place = _quoted(placements)
    columns: list[list] = [
        q_ids,
        q_status,
        q_place,
        _number_texts(work),
        _number_texts(latency),
        _number_texts(memory),
        list(map(_BOOL_TEXT.__getitem__, feasible)),
    ]
    if {len(col) for col in columns} != {len(ids)}:
        raise ValueError("the result's columns differ in length")
    # each row: its fixed text and fields, interleaved (the text repeats endlessly)
    parts: list[Iterator] = [repeat(_ROW_PARTS[0])]
    for col, text in zip(columns, _ROW_PARTS[1:], strict=True):
        parts += [iter(col), repeat(text)]
    lines = list(map("".join, zip(*parts, strict=False)))
    fixed = (ids, statuses, placements, work, latency, memory, feasible)
    for i, extra in _extras(result, ids).items():
        row = dict(zip(ROW_FIELDS, (c[i] for c in fixed), strict=True))
        lines[i] = orjson.dumps({**row, **extra}).decode()
    return _with_rows(head, ",\n".join(lines))


def read_placements(file: str | os.PathLike) -> tuple[dict[str, str | None], dict]:
    """Read a solution file: (request id -> placement or None, the whole document).

    Only the header, ``runtime_s`` and the request ids/placements are validated; the
    figures in the file are ignored (the evaluator recomputes them). A list of
    documents (what ``solve --json`` writes for several solvers) is refused here:
    use :func:`read_solutions`.
    """
    doc = load_json(file)
    if isinstance(doc, list):
        raise InputError(
            file,
            "(top level)",
            "is a list of solutions (what solve --json writes for several solvers or files); "
            "give one document here (splitopt evaluate and solve --replay take the list)",
        )
    return _placements_from_doc(file, doc, [])


def read_solutions(
    file: str | os.PathLike, instance: str | None = None
) -> tuple[list[tuple[dict[str, str | None], dict, str]], bool]:
    """Every solution in a solution file as (placements, document, JSON path of the
    document: ``""`` or ``"[i]"``), and whether the file was a list.

    A file holds one ``splitopt-solution`` document, or a JSON array of them (what
    ``solve --json`` writes for several solvers or files). With ``instance``, only
    the array's documents for that instance are kept (an error if none is).
    """
    doc = load_json(file)
    if not isinstance(doc, list):
        return [(*_placements_from_doc(file, doc, []), "")], False
    if not doc:
        raise InputError(file, "(top level)", "an empty list holds no solution")
    out = [(*_placements_from_doc(file, d, [i]), f"[{i}]") for i, d in enumerate(doc)]
    if instance is not None:
        out = [o for o in out if o[1].get("instance", instance) == instance]
        if not out:
            names = sorted({str(d.get("instance")) for d in doc})
            raise InputError(
                file,
                "(top level)",
                f"no solution for instance {instance!r} in this list (it holds {', '.join(names)})",
            )
    return out, True


def _placements_from_doc(
    file: str | os.PathLike, doc: object, prefix: list[str | int]
) -> tuple[dict[str, str | None], dict]:
    if prefix and not isinstance(doc, dict):
        raise InputError(file, prefix, f"must be a JSON object, got {type(doc).__name__}")
    try:
        check_header(file, doc, FORMAT, VERSION)
    except InputError as exc:
        if not prefix:
            raise
        raise InputError(file, f"{format_path(prefix)}.{exc.path}", exc.reason) from None
    assert isinstance(doc, dict)
    if doc.get("runtime_s") is not None:
        get_number(file, doc["runtime_s"], [*prefix, "runtime_s"])
    if "solver" in doc:
        get_string(file, doc["solver"], [*prefix, "solver"])
    if "requests" not in doc:
        raise InputError(file, [*prefix, "requests"], "missing field")
    reqs = doc["requests"]
    if not isinstance(reqs, list):
        raise InputError(file, [*prefix, "requests"], "must be an array")
    out: dict[str, str | None] = {}
    for i, r in enumerate(reqs):
        path: list[str | int] = [*prefix, "requests", i]
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


@dataclass(frozen=True)
class RecordedRun:
    """What a solution file records about its run: enough to replay it.

    Attributes:
        file: the solution file.
        instance: the problem's name.
        solver: the solver's registry name.
        options: the solver's flat options (``Solver.describe_options``), which
            rebuild the same typed parameters (:mod:`splitopt.solvers.params`).
        placements: request id -> placement string (or ``None``).
    """

    file: str
    instance: str
    solver: str
    options: dict[str, Any]
    placements: dict[str, str | None]

    def compare(self, result: Result) -> tuple[bool, str]:
        """Whether ``result`` (a replay) has the same instance and placements, and a
        one-line report."""
        if result.instance != self.instance:
            return False, (
                f"replay of {self.file}: the file is for instance {self.instance!r}, "
                f"the problem is {result.instance!r}"
            )
        got = {r.id: r.placement for r in result}
        if set(got) != set(self.placements):
            return False, f"replay of {self.file}: the request ids differ"
        differ = [i for i in got if got[i] != self.placements[i]]
        if differ:
            return False, (
                f"replay of {self.file}: {len(differ)} of {len(got)} placements differ "
                f"(first: request {differ[0]!r})"
            )
        return True, (
            f"replay of {self.file}: {self.solver} with {self.options or 'default options'} "
            f"gives the same placements ({len(got)} requests)"
        )


def replay_solver(solver: str, options: dict[str, Any]) -> str:
    """The solver that replays a recorded ``solver`` name with its ``options``.

    Before the exact default DP, ``dp`` named the grid DP, now ``dp-grid``; the
    exact ``dp`` records ``"exact": true`` in its options, so a ``dp`` without it
    is a grid-DP run (old file, or ``dp`` given ticks) and replays as ``dp-grid``
    (same ticks, same placements)."""
    if solver == "dp" and not options.get("exact"):
        return "dp-grid"
    return solver


def read_run(file: str | os.PathLike) -> RecordedRun:
    """Read the solver, its options and the placements of one solution document
    (the solver name as :func:`replay_solver` maps it)."""
    placements, doc = read_placements(file)
    for key in ("solver", "instance"):
        if key not in doc:
            raise InputError(file, [key], "missing field")
    solver = get_string(file, doc["solver"], ["solver"])
    instance = get_string(file, doc["instance"], ["instance"])
    options = doc.get("options", {})
    if not isinstance(options, dict):
        raise InputError(file, ["options"], "must be a JSON object")
    solver = replay_solver(solver, options)
    return RecordedRun(os.fspath(file), instance, solver, dict(options), placements)


def read_runs(file: str | os.PathLike) -> list[RecordedRun]:
    """Every run a solution file records: one document, or each document of the list
    ``solve --json`` writes for several solvers or files (JSON paths ``[i].…`` in errors;
    solver names as :func:`replay_solver` maps them)."""
    solutions, is_list = read_solutions(file)
    runs = []
    for placements, doc, where in solutions:
        prefix: list[str | int] = [int(where[1:-1])] if is_list else []
        for key in ("solver", "instance"):
            if key not in doc:
                raise InputError(file, [*prefix, key], "missing field")
        solver = get_string(file, doc["solver"], [*prefix, "solver"])
        instance = get_string(file, doc["instance"], [*prefix, "instance"])
        options = doc.get("options", {})
        if not isinstance(options, dict):
            raise InputError(file, [*prefix, "options"], "must be a JSON object")
        solver = replay_solver(solver, options)  # an old "dp" file is the grid DP
        runs.append(RecordedRun(os.fspath(file), instance, solver, dict(options), placements))
    return runs
