"""``splitopt-problem`` v1 files (SPEC §6): read, validate, write."""

from __future__ import annotations

import array
import itertools
import os
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.formats import errors
from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    dumps,
    get_number,
    get_number_list,
    get_string,
    load_json,
    write_text_atomic,
)
from splitopt.problem import (
    LOCATIONS,
    MIN_SLA_S,
    WORK_UNITS,
    Chain,
    DataError,
    Problem,
    Request,
)
from splitopt.ragged import BatchProblem, ChainBatch

FORMAT = "splitopt-problem"
VERSION = 1

REQUIRED_REQUEST_FIELDS = (
    "id",
    "client_time_s",
    "server_time_s",
    "server_work",
    "uplink_s",
    "downlink_s",
    "sla_s",
)
OPTIONAL_REQUEST_FIELDS = (
    "client_memory_bytes",
    "memory_budget_bytes",
    "weight",
    "start",
    "end",
    "meta",
)


def _request(file: Any, obj: Any, i: int, chains: dict[bytes, Chain]) -> Request:
    path: list[str | int] = ["requests", i]
    check_fields(file, obj, path, REQUIRED_REQUEST_FIELDS, OPTIONAL_REQUEST_FIELDS)
    rid = get_string(file, obj["id"], [*path, "id"])
    if not rid:
        raise InputError(file, [*path, "id"], "must be a non-empty string")
    ct = obj["client_time_s"]
    if not isinstance(ct, list) or not ct:
        raise InputError(file, [*path, "client_time_s"], "must be a non-empty array of numbers")
    L = len(ct)

    def arr(name: str, n: int) -> list[float]:
        try:
            return get_number_list(file, obj[name], [*path, name], n)
        except InputError as exc:
            if "has length" in exc.reason:
                what = "layers" if n == L else "boundaries"
                raise InputError(
                    file,
                    exc.path,
                    f"{exc.reason} ({what}: L = {L} layers from client_time_s"
                    + (", so L + 1 boundaries)" if n == L + 1 else ")"),
                ) from None
            raise

    fields = {
        "client_time_s": arr("client_time_s", L),
        "server_time_s": arr("server_time_s", L),
        "server_work": arr("server_work", L),
        "uplink_s": arr("uplink_s", L + 1),
        "downlink_s": arr("downlink_s", L + 1),
        "client_memory_bytes": arr("client_memory_bytes", L)
        if "client_memory_bytes" in obj
        else [0.0] * L,
    }
    sla = get_number(file, obj["sla_s"], [*path, "sla_s"], positive=True)
    budget = obj.get("memory_budget_bytes")
    if budget is not None:
        budget = get_number(file, budget, [*path, "memory_budget_bytes"])
    weight = get_number(file, obj.get("weight", 1.0), [*path, "weight"])
    start = get_string(file, obj.get("start", "client"), [*path, "start"], LOCATIONS)
    end = get_string(file, obj.get("end", "client"), [*path, "end"], LOCATIONS)
    if "meta" in obj and not isinstance(obj["meta"], dict):
        raise InputError(file, [*path, "meta"], "must be a JSON object")
    try:
        chain = Chain(
            sla_s=sla,
            memory_budget_bytes=budget,
            start=start,
            end=end,
            **fields,  # type: ignore[arg-type]  # lists of numbers: Chain makes checked arrays
        )
    except DataError as exc:  # pragma: no cover - the checks above come first
        p: list[str | int] = [*path, exc.field] + ([exc.index] if exc.index is not None else [])
        raise InputError(file, p, exc.reason) from None
    chain = chains.setdefault(chain.key, chain)
    return Request(id=rid, chain=chain, weight=weight, meta=obj.get("meta"))


_NUMBER = (int, float)
_LAYER = ("client_time_s", "server_time_s", "server_work", "client_memory_bytes")
_BOUNDARY = ("uplink_s", "downlink_s")


def _scalars(values: list, default: float | None, positive: bool = False) -> np.ndarray | None:
    """float64 of JSON numbers (``None``/missing -> ``default``), or None where any is
    not a finite number of the right sign (the per-request path then names it)."""
    got = [default if v is None else v for v in values]
    kinds = set(map(type, got))
    if default is None and type(None) in kinds:
        kinds.discard(type(None))
        got = [np.nan if v is None else v for v in got]
        kinds.add(float)
    if not kinds <= {int, float}:
        return None
    try:
        a = np.array(got, dtype=np.float64)
    except (OverflowError, ValueError):
        return None
    ok = np.isnan(a) if default is None else np.zeros(len(a), bool)
    ok |= np.isfinite(a) & ((a > 0) if positive else (a >= 0))
    return a + 0.0 if ok.all() else None


def _numbers(values: list) -> np.ndarray | None:
    """float64 of a list of JSON numbers (``np.array(values, float64)``), or None where
    any item is not an ``int`` or ``float``. ``array.array("d", ...)`` converts at C
    speed and refuses strings, ``null``, arrays, objects and ints too big for a float;
    it takes ``true``/``false`` as 1/0, so the items equal to 0 or 1 (few) have their
    types looked at. One pass, where a type check of every item cost as much as the
    conversion."""
    try:
        a = np.frombuffer(array.array("d", values), np.float64)
    except (TypeError, OverflowError, ValueError):
        return None
    if any(type(values[k]) is bool for k in np.flatnonzero((a == 0) | (a == 1)).tolist()):
        return None
    return a


def _fast_problem(reqs: list, name: str, work_unit: str) -> BatchProblem | None:
    """The problem of a well-formed document, checked field by field over all
    requests at once (numpy) and held as ragged arrays (:class:`BatchProblem`: no
    object per request), or None at the first doubt: the per-request path
    (:func:`_request`) then runs and names the first bad field. Every check here is
    at least as strict as that path's, so both accept the same documents and build
    equal problems."""
    known = set(REQUIRED_REQUEST_FIELDS) | set(OPTIONAL_REQUEST_FIELDS)
    required = set(REQUIRED_REQUEST_FIELDS)
    if set(map(type, reqs)) != {dict}:
        return None
    # the distinct key lists of the requests (few): which fields some request has
    # (present) and which every request has (everywhere)
    shapes = [set(keys) for keys in set(map(tuple, reqs))]
    for keys in shapes:
        if not (required <= keys and keys <= known):
            return None
    present = set().union(*shapes)
    everywhere = set.intersection(*shapes)
    ids = list(map(itemgetter("id"), reqs))
    if set(map(type, ids)) != {str} or "" in ids or len(set(ids)) != len(ids):
        return None
    n = len(reqs)
    cols: dict[str, list] = {}
    for name_ in (*_LAYER, *_BOUNDARY):
        if name_ not in everywhere:  # client_memory_bytes (optional): zeros where missing
            cols[name_] = [
                o[name_] if name_ in o else [0.0] * len(o["client_time_s"]) for o in reqs
            ]
        else:
            cols[name_] = list(map(itemgetter(name_), reqs))
        if set(map(type, cols[name_])) != {list}:
            return None
    layers = np.fromiter(map(len, cols["client_time_s"]), np.int64, n)
    if (layers == 0).any():
        return None
    flat: dict[str, np.ndarray] = {}
    for name_, extra in [(f, 0) for f in _LAYER] + [(f, 1) for f in _BOUNDARY]:
        if not np.array_equal(np.fromiter(map(len, cols[name_]), np.int64, n), layers + extra):
            return None
        a = _numbers(list(itertools.chain.from_iterable(cols[name_])))
        if a is None or not (np.isfinite(a).all() and (a >= 0).all()):
            return None
        flat[name_] = a

    def column(field: str, default: Any) -> list:
        """The field of every request (``default`` where missing; an explicit
        ``null`` stays None)."""
        if field not in present:
            return [default] * n
        if field in everywhere:
            return list(map(itemgetter(field), reqs))
        return [o.get(field, default) for o in reqs]

    slas, weights = column("sla_s", None), column("weight", 1.0)
    if None in slas or None in weights:  # null: the per-request path names it
        return None
    sla = _scalars(slas, 1.0, positive=True)
    weight = _scalars(weights, 1.0)
    budget = _scalars(column("memory_budget_bytes", None), None)
    if sla is None or weight is None or budget is None or (sla < MIN_SLA_S).any():
        return None
    ends_at: dict[str, np.ndarray] = {}
    for field in ("start", "end"):
        if field not in present:  # the default, "client", everywhere
            ends_at[field] = np.zeros(n, bool)
            continue
        at = column(field, "client")
        if not set(map(type, at)) <= {str} or not set(at) <= set(LOCATIONS):
            return None
        ends_at[field] = np.array([x == "server" for x in at], bool)
    metas = column("meta", None)
    if "meta" in present and (
        not set(map(type, metas)) <= {dict, type(None)}
        or any("meta" in o and o["meta"] is None for o in reqs)
    ):
        return None
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(layers, out=offsets[1:])
    batch = ChainBatch(
        offsets=offsets,
        sla_s=sla,
        memory_budget_bytes=budget,
        start_server=ends_at["start"],
        end_server=ends_at["end"],
        **flat,
    )
    has_meta = any(m is not None for m in metas)
    try:
        return BatchProblem(name, batch, ids, weight, metas if has_meta else None, work_unit)
    except DataError:  # pragma: no cover - the checks above come first
        return None


def problem_from_dict(doc: Any, file: str | os.PathLike | None = None) -> Problem:
    """Validate a parsed ``splitopt-problem`` document and build the :class:`Problem`."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(file, doc, [], ("format", "version", "requests"), ("name", "work_unit", "meta"))
    name = doc.get("name")
    if name is None:
        name = Path(file).stem if file else "problem"
    name = get_string(file, name, ["name"])
    work_unit = get_string(file, doc.get("work_unit", "FLOP"), ["work_unit"], WORK_UNITS)
    reqs = doc["requests"]
    if not isinstance(reqs, list):
        raise InputError(file, ["requests"], "must be an array of request objects")
    if not reqs:
        raise InputError(file, ["requests"], "must hold at least one request")
    fast = _fast_problem(reqs, name, work_unit) if errors._FAST else None
    if fast is not None:
        return fast
    chains: dict[bytes, Chain] = {}
    requests = []
    seen: dict[str, int] = {}
    for i, obj in enumerate(reqs):
        r = _request(file, obj, i, chains)
        if r.id in seen:
            raise InputError(
                file,
                ["requests", i, "id"],
                f"duplicate request id {r.id!r} (also requests[{seen[r.id]}])",
            )
        seen[r.id] = i
        requests.append(r)
    return Problem(name=name, requests=tuple(requests), work_unit=work_unit)


def read_problem(file: str | os.PathLike) -> Problem:
    """Read and validate a problem file; :class:`InputError` names file, field and reason.
    (The cyclic garbage collector pauses meanwhile: :func:`~errors.gc_paused`.)"""
    with errors.gc_paused():
        return problem_from_dict(load_json(file), file)


def _list(a: np.ndarray) -> list[float | int]:
    return [int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v) for v in a]


def problem_to_dict(problem: Problem, meta: dict | None = None) -> dict:
    """The ``splitopt-problem`` document of a problem (round-trips exactly)."""
    cache: dict[int, dict] = {}
    reqs = []
    for r, j in zip(problem.requests, problem.chain_index, strict=True):
        body = cache.get(int(j))
        if body is None:
            c = r.chain
            body = {
                "client_time_s": _list(c.client_time_s),
                "server_time_s": _list(c.server_time_s),
                "server_work": _list(c.server_work),
                "uplink_s": _list(c.uplink_s),
                "downlink_s": _list(c.downlink_s),
                "client_memory_bytes": _list(c.client_memory_bytes),
                "memory_budget_bytes": c.memory_budget_bytes,
                "sla_s": c.sla_s,
                "start": c.start,
                "end": c.end,
            }
            cache[int(j)] = body
        row = {"id": r.id, "weight": r.weight, **body}
        if r.meta:
            row["meta"] = r.meta.to_dict()
        reqs.append(row)
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": problem.name,
        "work_unit": problem.work_unit,
    }
    if meta:
        doc["meta"] = meta
    doc["requests"] = reqs
    return doc


def write_problem(problem: Problem, file: str | os.PathLike, meta: dict | None = None) -> None:
    """Write a problem file atomically."""
    write_text_atomic(file, dumps(problem_to_dict(problem, meta), indent=None))
