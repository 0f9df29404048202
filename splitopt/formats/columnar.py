"""Columnar problem and solution files (Parquet, via pyarrow; optional extra ``columnar``).

Why Parquet rather than Arrow IPC (our choice): Parquet is the columnar format
a capacity planner's data already lives in (pandas, Dask, DuckDB, Spark all
read and write it), it compresses the per-layer float lists several-fold where
IPC stores them raw, and it is split into row groups whose statistics and
offsets sit in the footer, so a reader (or a Dask worker) can fetch any row
range without scanning the file. IPC is faster still to map into memory, but
reading Parquet is already far faster than parsing JSON (benchmarks/), and
file size and tool support matter more for files of millions of requests.

Problem file (``splitopt-problem`` v1, columnar): one row per request. Columns
``id`` (string), ``client_time_s``, ``server_time_s``, ``server_work``,
``client_memory_bytes`` (optional) (lists of L numbers), ``uplink_s``,
``downlink_s`` (lists of L + 1), ``sla_s``, ``memory_budget_bytes`` (nullable),
``weight`` (optional, default 1), ``start`` / ``end`` (optional, ``"client"``
or ``"server"``), ``meta`` (optional, nullable: a request's ``meta`` object as
JSON text). The file's key-value metadata ``splitopt`` holds
``{"format": "splitopt-problem", "version": 1, "name": ..., "work_unit": ...}``
and, where given, the problem file's ``meta`` object (e.g. ``compiled_from``).
Validation is that of the JSON reader; errors are :class:`InputError` naming
the file, the row and the column (``row 12, column uplink_s[3]``).

Solution file (``splitopt-solution`` v1, columnar): columns ``id``, ``status``,
``placement`` (``"CS"`` string, null where none), ``server_work``,
``latency_s``, ``client_memory_bytes``, ``feasible``; metadata ``splitopt`` with
format, version, instance, solver, options and the totals.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.errors import InputError, UserError
from splitopt.formats.solution_file import ROW_FIELDS
from splitopt.problem import LOCATIONS, MIN_SLA_S, WORK_UNITS, Meta, Problem, Request
from splitopt.ragged import ChainBatch

SUFFIXES = (".parquet", ".pq")
PROBLEM_FORMAT = "splitopt-problem"
SOLUTION_FORMAT = "splitopt-solution"
VERSION = 1
META_KEY = b"splitopt"
LAYER_COLUMNS = ("client_time_s", "server_time_s", "server_work")
BOUNDARY_COLUMNS = ("uplink_s", "downlink_s")
REQUIRED = ("id", *LAYER_COLUMNS, *BOUNDARY_COLUMNS, "sla_s")
OPTIONAL = ("client_memory_bytes", "memory_budget_bytes", "weight", "start", "end", "meta")
#: Rows per row group when writing (a reader's unit of random access).
ROW_GROUP_ROWS = 65_536


def _pa() -> Any:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        raise UserError(
            "columnar (Parquet) files need pyarrow: pip install 'splitopt[columnar]'"
        ) from None
    return pq


def is_columnar(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a Parquet file (by suffix, or by the ``PAR1`` magic of a
    regular file: pipes and devices are never read here, so they stay readable once)."""
    p = Path(path)
    if p.suffix.lower() in SUFFIXES:
        return True
    try:
        if not p.is_file():
            return False
        with open(p, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


@dataclass(frozen=True, eq=False)
class RequestBatch:
    """Rows ``[start, start + len)`` of a columnar problem: ids, weights, chains and
    the requests' ``meta`` objects (``None`` when the file has no ``meta`` column)."""

    start: int
    ids: list[str]
    weights: np.ndarray
    chains: ChainBatch
    metas: list[dict | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def to_problem(self, name: str, work_unit: str) -> Problem:
        """These rows as an ordinary :class:`Problem` (one Python object per request)."""
        chains = self.chains.chains()
        metas = self.metas if self.metas is not None else [None] * len(self.ids)
        reqs = tuple(
            Request(id=i, chain=c, weight=float(w), meta=None if m is None else Meta(m))
            for i, c, w, m in zip(self.ids, chains, self.weights, metas, strict=True)
        )
        return Problem(name=name, requests=reqs, work_unit=work_unit)


class RowRanges:
    """Random access to row ranges of a Parquet file, reading only the row groups
    needed (the last one read is kept)."""

    def __init__(self, pf: Any, columns: list[str] | None = None) -> None:
        self._pf = pf
        self.columns = columns
        md = pf.metadata
        sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
        self._group_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._cache: tuple[int, Any] | None = None

    def _group(self, g: int) -> Any:
        if self._cache is None or self._cache[0] != g:
            self._cache = (g, self._pf.read_row_group(g, columns=self.columns))
        return self._cache[1]

    def read(self, start: int, stop: int) -> Any:
        """Rows ``[start, stop)`` as a pyarrow Table."""
        import pyarrow as pa

        g = int(np.searchsorted(self._group_start, start, side="right") - 1)
        parts = []
        while g < len(self._group_start) - 1 and self._group_start[g] < stop:
            t = self._group(g)
            lo = max(start - int(self._group_start[g]), 0)
            hi = min(stop - int(self._group_start[g]), t.num_rows)
            parts.append(t.slice(lo, hi - lo))
            g += 1
        return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


class ColumnarProblem:
    """A columnar problem file opened for streaming: header checked on opening,
    rows validated as they are read (:meth:`rows`, :meth:`batches`)."""

    def __init__(self, path: str | os.PathLike) -> None:
        pq = _pa()
        self.path = Path(path)
        self.file = str(path)
        try:
            self._pf = pq.ParquetFile(self.path)
        except (OSError, ValueError) as exc:
            raise InputError(self.file, "(file)", f"not a readable Parquet file: {exc}") from None
        md = self._pf.schema_arrow.metadata or {}
        if META_KEY not in md:
            raise InputError(self.file, "(metadata)", "no 'splitopt' metadata: not a splitopt file")
        try:
            head = json.loads(md[META_KEY])
        except ValueError:
            raise InputError(self.file, "(metadata)", "'splitopt' metadata is not JSON") from None
        if not isinstance(head, dict) or head.get("format") != PROBLEM_FORMAT:
            raise InputError(self.file, "format", f"expected {PROBLEM_FORMAT!r}")
        if head.get("version") != VERSION:
            raise InputError(self.file, "version", f"unsupported version {head.get('version')!r}")
        self.name = str(head.get("name") or self.path.stem)
        self.meta = head.get("meta")
        if self.meta is not None and not isinstance(self.meta, dict):
            raise InputError(self.file, "meta", "must be a JSON object")
        self.work_unit = head.get("work_unit", "FLOP")
        if self.work_unit not in WORK_UNITS:
            raise InputError(self.file, "work_unit", f"must be one of {list(WORK_UNITS)}")
        cols = self._pf.schema_arrow.names
        for c in cols:
            if c not in REQUIRED + OPTIONAL:
                raise InputError(self.file, f"column {c}", "unknown column")
        for c in REQUIRED:
            if c not in cols:
                raise InputError(self.file, f"column {c}", "missing required column")
        self.columns = list(cols)
        self.num_rows = int(self._pf.metadata.num_rows)
        if self.num_rows == 0:
            raise InputError(self.file, "requests", "must hold at least one request")
        self._ranges = RowRanges(self._pf, self.columns)

    def read_table(self, start: int, stop: int) -> Any:
        """Rows ``[start, stop)`` as a pyarrow Table (reads only the row groups needed)."""
        return self._ranges.read(start, stop)

    def rows(self, start: int, stop: int) -> RequestBatch:
        """Validated rows ``[start, stop)``."""
        return batch_from_table(self.read_table(start, stop), start, self.file)

    def batches(self, rows: int) -> Iterator[RequestBatch]:
        """Validated batches of ``rows`` rows, in order (the last may be shorter)."""
        for s in range(0, self.num_rows, rows):
            yield self.rows(s, min(s + rows, self.num_rows))

    def read(self) -> Problem:
        """The whole file as a :class:`Problem` (small files; ids checked for duplicates)."""
        b = self.rows(0, self.num_rows)
        check_unique_ids(self.file, b.ids, 0)
        return b.to_problem(self.name, self.work_unit)


def check_unique_ids(file: str, ids: list[str], start: int) -> None:
    seen: dict[str, int] = {}
    for i, rid in enumerate(ids):
        j = seen.setdefault(rid, i)
        if j != i:
            raise InputError(
                file,
                f"row {start + i}, column id",
                f"duplicate request id {rid!r} (also row {start + j})",
            )


def id_digests(ids: list[str]) -> np.ndarray:
    """uint64 digests of request ids (BLAKE2b, stable across processes), for
    file-wide duplicate checks in bounded memory."""
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
            for s in ids
        ),
        np.uint64,
        len(ids),
    )


def _err(file: str, start: int, row: int, column: str, reason: str) -> InputError:
    return InputError(file, f"row {start + row}, column {column}", reason)


def _numbers(file: str, table: Any, start: int, name: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(name).combine_chunks()
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        raise InputError(file, f"column {name}", f"must hold numbers, not {col.type}")
    if col.null_count:
        row = int(np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False))[0])
        raise _err(file, start, row, name, "must be a number, got null")
    return col.to_numpy(zero_copy_only=False).astype(np.float64)


def _lists(
    file: str, table: Any, start: int, name: str, extra: int, lengths: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(flat float64 values, offsets) of a list column, checked."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(name).combine_chunks()
    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
        raise InputError(file, f"column {name}", f"must be a list column, not {col.type}")
    vt = col.type.value_type
    if not (pa.types.is_floating(vt) or pa.types.is_integer(vt) or pa.types.is_null(vt)):
        raise InputError(file, f"column {name}", f"must hold lists of numbers, not {col.type}")
    if col.null_count:
        row = int(np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False))[0])
        raise _err(file, start, row, name, "must be an array of numbers, got null")
    off = col.offsets.to_numpy().astype(np.int64)
    off = off - off[0]
    flat = col.flatten()
    counts = np.diff(off)
    if lengths is None:
        bad = np.flatnonzero(counts == 0)
        if bad.size:
            raise _err(file, start, int(bad[0]), name, "must be a non-empty array of numbers")
    else:
        bad = np.flatnonzero(counts != lengths + extra)
        if bad.size:
            r = int(bad[0])
            what = "boundaries" if extra else "layers"
            raise _err(
                file,
                start,
                r,
                name,
                f"has length {counts[r]}, expected {lengths[r] + extra} ({what}: L = "
                f"{lengths[r]} layers from client_time_s"
                + (", so L + 1 boundaries)" if extra else ")"),
            )
    if flat.null_count:
        pos = int(np.flatnonzero(pc.is_null(flat).to_numpy(zero_copy_only=False))[0])
        r = int(np.searchsorted(off, pos, side="right") - 1)
        raise _err(file, start, r, f"{name}[{pos - off[r]}]", "must be a number, got null")
    vals = flat.to_numpy(zero_copy_only=False).astype(np.float64) + 0.0  # -0.0 -> 0.0
    bad = np.flatnonzero(~(np.isfinite(vals) & (vals >= 0)))
    if bad.size:
        pos = int(bad[0])
        r = int(np.searchsorted(off, pos, side="right") - 1)
        raise _err(
            file,
            start,
            r,
            f"{name}[{pos - off[r]}]",
            f"must be a finite number >= 0, got {float(vals[pos])!r}",
        )
    return vals, off


def _strings(file: str, table: Any, start: int, name: str, allowed: tuple | None) -> list:
    col = table.column(name).combine_chunks()
    vals = col.to_pylist()
    for i, v in enumerate(vals):
        if not isinstance(v, str) or (allowed is not None and v not in allowed):
            want = f"one of {list(allowed)}" if allowed else "a non-empty string"
            raise _err(file, start, i, name, f"must be {want}, got {v!r}")
        if allowed is None and not v:
            raise _err(file, start, i, name, "must be a non-empty string")
    return vals


def _metas(file: str, table: Any, start: int) -> list[dict | None]:
    """The ``meta`` column: JSON text of an object per row, or null."""
    import pyarrow as pa

    col = table.column("meta").combine_chunks()
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise InputError(file, "column meta", f"must hold JSON text, not {col.type}")
    out: list[dict | None] = []
    for i, text in enumerate(col.to_pylist()):
        if text is None:
            out.append(None)
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise _err(file, start, i, "meta", f"is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise _err(file, start, i, "meta", "must be a JSON object (or null)")
        out.append(obj)
    return out


def batch_from_table(table: Any, start: int, file: str) -> RequestBatch:
    """Validate rows of a columnar problem (a pyarrow Table) and build the batch."""
    n = table.num_rows
    names = table.column_names
    ids = _strings(file, table, start, "id", None)
    check_unique_ids(file, ids, start)
    ct, off = _lists(file, table, start, "client_time_s", 0, None)
    L = np.diff(off)
    layer = {"client_time_s": ct}
    for c in ("server_time_s", "server_work"):
        layer[c] = _lists(file, table, start, c, 0, L)[0]
    if "client_memory_bytes" in names:
        layer["client_memory_bytes"] = _lists(file, table, start, "client_memory_bytes", 0, L)[0]
    else:
        layer["client_memory_bytes"] = np.zeros(int(off[-1]))
    bound = {c: _lists(file, table, start, c, 1, L)[0] for c in BOUNDARY_COLUMNS}
    sla = _numbers(file, table, start, "sla_s") + 0.0
    bad = np.flatnonzero(~(np.isfinite(sla) & (sla > 0)))
    if bad.size:
        r = int(bad[0])
        raise _err(file, start, r, "sla_s", f"must be a finite number > 0, got {float(sla[r])!r}")
    bad = np.flatnonzero(sla < MIN_SLA_S)
    if bad.size:
        r = int(bad[0])
        raise _err(file, start, r, "sla_s", f"must be >= {MIN_SLA_S:g} s, got {float(sla[r])!r}")
    budget = np.full(n, np.nan)
    if "memory_budget_bytes" in names:
        import pyarrow.compute as pc

        col = table.column("memory_budget_bytes").combine_chunks()
        valid = ~pc.is_null(col).to_numpy(zero_copy_only=False)
        vals = pc.fill_null(col, 0).to_numpy(zero_copy_only=False).astype(np.float64) + 0.0
        bad = np.flatnonzero(valid & ~(np.isfinite(vals) & (vals >= 0)))
        if bad.size:
            r = int(bad[0])
            raise _err(
                file,
                start,
                r,
                "memory_budget_bytes",
                f"must be a finite number >= 0 or null, got {float(vals[r])!r}",
            )
        budget[valid] = vals[valid]
    weight = np.ones(n)
    if "weight" in names:
        weight = _numbers(file, table, start, "weight") + 0.0
        bad = np.flatnonzero(~(np.isfinite(weight) & (weight >= 0)))
        if bad.size:
            r = int(bad[0])
            raise _err(
                file, start, r, "weight", f"must be a finite number >= 0, got {float(weight[r])!r}"
            )
    loc = {}
    for c in ("start", "end"):
        if c in names:
            loc[c] = np.array(_strings(file, table, start, c, LOCATIONS)) == "server"
        else:
            loc[c] = np.zeros(n, bool)
    chains = ChainBatch(
        offsets=off,
        client_time_s=layer["client_time_s"],
        server_time_s=layer["server_time_s"],
        server_work=layer["server_work"],
        uplink_s=bound["uplink_s"],
        downlink_s=bound["downlink_s"],
        client_memory_bytes=layer["client_memory_bytes"],
        sla_s=sla,
        memory_budget_bytes=budget,
        start_server=loc["start"],
        end_server=loc["end"],
    )
    metas = _metas(file, table, start) if "meta" in names else None
    return RequestBatch(start=start, ids=ids, weights=weight, chains=chains, metas=metas)


# ----------------------------------------------------------------------------- writing


def _list_array(values: np.ndarray, offsets: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values))


def problem_table(
    ids: list[str], weights: np.ndarray, b: ChainBatch, metas: list | None = None
) -> Any:
    """Rows of a columnar problem as a pyarrow Table (``metas``: a dict or None per
    row, written as the ``meta`` column; no column when None)."""
    import pyarrow as pa

    boff = b.boundary_offsets
    has = b.has_budget
    extra = {}
    if metas is not None:
        extra["meta"] = pa.array(
            [None if m is None else json.dumps(m, allow_nan=False) for m in metas], pa.string()
        )
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "client_time_s": _list_array(b.client_time_s, b.offsets),
            "server_time_s": _list_array(b.server_time_s, b.offsets),
            "server_work": _list_array(b.server_work, b.offsets),
            "uplink_s": _list_array(b.uplink_s, boff),
            "downlink_s": _list_array(b.downlink_s, boff),
            "client_memory_bytes": _list_array(b.client_memory_bytes, b.offsets),
            "sla_s": pa.array(b.sla_s),
            "memory_budget_bytes": pa.array(b.memory_budget_bytes, mask=~has),
            "weight": pa.array(np.asarray(weights, np.float64)),
            "start": pa.array(np.where(b.start_server, "server", "client")),
            "end": pa.array(np.where(b.end_server, "server", "client")),
            **extra,
        }
    )


def _with_meta(schema: Any, head: dict) -> Any:
    return schema.with_metadata({META_KEY: json.dumps(head).encode()})


def write_problem_batches(
    target: str | os.PathLike,
    batches: Iterator[tuple],
    name: str,
    work_unit: str = "FLOP",
    inputs: tuple = (),
    meta: dict | None = None,
) -> int:
    """Write a columnar problem from batches of (ids, weights, chains[, metas]),
    streaming, atomically under the output policy (``metas``: a dict or None per
    row; the first batch decides whether the file has a ``meta`` column; ``meta``:
    the file's own meta object). Returns the number of rows written."""
    pq = _pa()
    from splitopt.outputs import check_not_input, replace_file

    check_not_input(target, inputs)
    head: dict[str, Any] = {
        "format": PROBLEM_FORMAT,
        "version": VERSION,
        "name": name,
        "work_unit": work_unit,
    }
    if meta:
        head["meta"] = meta
    count = 0

    def write(fh: Any) -> None:
        nonlocal count
        writer = None
        seen: set[int] = set()
        for ids, w, b, *rest in batches:
            digests = id_digests(ids)
            for k, dgt in enumerate(digests.tolist()):
                if dgt in seen:
                    raise UserError(f"{target}: duplicate request id {ids[k]!r}")
                seen.add(dgt)
            metas = rest[0] if rest else None
            if writer is not None:  # keep the first batch's schema
                if "meta" in writer.schema.names and metas is None:
                    metas = [None] * len(ids)
                elif "meta" not in writer.schema.names and metas is not None:
                    if any(m is not None for m in metas):
                        raise UserError(f"{target}: request meta only in later batches")
                    metas = None
            t = problem_table(ids, w, b, metas)
            if writer is None:
                writer = pq.ParquetWriter(fh, _with_meta(t.schema, head))
            writer.write_table(
                t.replace_schema_metadata(writer.schema.metadata), row_group_size=ROW_GROUP_ROWS
            )
            count += len(ids)
        if writer is None:
            raise UserError(f"{target}: no requests to write")
        writer.close()

    replace_file(target, write, binary=True)
    return count


def write_problem_columnar(
    problem: Problem,
    target: str | os.PathLike,
    inputs: tuple = (),
    rows: int = ROW_GROUP_ROWS,
    meta: dict | None = None,
) -> None:
    """Write a :class:`Problem` as a columnar file (one row per request; the requests'
    ``meta`` as the ``meta`` column when any request has one; ``meta``: the file's)."""
    with_meta = any(r.meta for r in problem.requests)

    def gen() -> Iterator[tuple]:
        reqs = problem.requests
        for s in range(0, len(reqs), rows):
            part = reqs[s : s + rows]
            yield (
                [r.id for r in part],
                np.array([r.weight for r in part]),
                ChainBatch.from_chains([r.chain for r in part]),
                [r.meta.to_dict() if r.meta else None for r in part] if with_meta else None,
            )

    write_problem_batches(target, gen(), problem.name, problem.work_unit, inputs, meta)


#: the columns of a Parquet solution: the fields of a JSON solution's request row
SOLUTION_COLUMNS = ROW_FIELDS


def placement_strings(x: np.ndarray, offsets: np.ndarray, have: np.ndarray) -> Any:
    """A pyarrow string array of ``"CS"`` placements built from the flat booleans
    without a Python step per row (null where ``have`` is False)."""
    import pyarrow as pa

    chars = np.where(x, ord("S"), ord("C")).astype(np.uint8)
    mask = np.packbits(np.asarray(have, bool), bitorder="little")
    return pa.StringArray.from_buffers(
        len(have),
        pa.py_buffer(offsets.astype(np.int32).tobytes()),
        pa.py_buffer(chars.tobytes()),
        pa.py_buffer(mask.tobytes()),
        null_count=int((~np.asarray(have, bool)).sum()),
    )


def solution_table(
    ids: list[str],
    statuses: Any,
    x: np.ndarray,
    offsets: np.ndarray,
    have: np.ndarray,
    work: np.ndarray,
    latency: np.ndarray,
    memory: np.ndarray,
    feasible: np.ndarray,
) -> Any:
    """Rows of a columnar solution as a pyarrow Table (``statuses``: list of str)."""
    import pyarrow as pa

    nan = ~np.asarray(have, bool)
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "status": pa.array(statuses, pa.string()).dictionary_encode(),
            "placement": placement_strings(x, offsets, have),
            "server_work": pa.array(work, mask=nan),
            "latency_s": pa.array(latency, mask=nan),
            "client_memory_bytes": pa.array(memory, mask=nan),
            "feasible": pa.array(np.asarray(feasible, bool)),
        }
    )


def read_solution_meta(path: str | os.PathLike) -> dict:
    """The ``splitopt`` metadata of a columnar solution file."""
    pq = _pa()
    try:
        md = pq.read_schema(path).metadata or {}
        head = json.loads(md[META_KEY])
    except (OSError, ValueError, KeyError):
        raise InputError(str(path), "(metadata)", "not a splitopt columnar solution") from None
    if head.get("format") != SOLUTION_FORMAT:
        raise InputError(str(path), "format", f"expected {SOLUTION_FORMAT!r}")
    return head
