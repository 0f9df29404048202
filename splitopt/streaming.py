"""Solving and evaluating columnar files batch by batch, locally or on a Dask cluster.

``splitopt solve BIG.parquet --solver dp --out solutions.parquet`` runs
:func:`solve_file`: the file is cut into fixed row ranges (``rows`` each); each
range is read, validated, solved (``dp``: the batched kernel of
:mod:`splitopt.solvers.batch`; any other solver: through its ordinary
``solve`` on that range as a :class:`~splitopt.problem.Problem`), re-scored by
the batched evaluator (:mod:`splitopt.batch_evaluate`), and written as one
part file ``OUT.parts/part-NNNNNN.parquet`` (atomically, under the output
policy). Memory is bounded by one range (plus one row group of the input).
When every part exists, they are joined into ``OUT`` (atomically) and the
part folder is removed. A run that is interrupted leaves the finished parts:
running the same command again solves only the missing ranges (resume), as
long as the input file, the solver, its options and ``rows`` are unchanged (a
``manifest.json`` in the part folder records them; otherwise it starts over).

With ``dask=ADDRESS`` the ranges are solved by the workers of that Dask
scheduler (each worker opens the input file itself, so it must be reachable
under the same path) and written by this process as they arrive; the answers
are those of the local run because every range is solved by the same code.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from splitopt import interrupts
from splitopt._version import __version__
from splitopt.batch_evaluate import score_flat
from splitopt.errors import DaskError, InputError, OutputError, UserError
from splitopt.evaluate import RTOL
from splitopt.formats.columnar import (
    META_KEY,
    SOLUTION_FORMAT,
    VERSION,
    ColumnarProblem,
    RequestBatch,
    _pa,
    id_digests,
    solution_table,
)

#: Rows per range (the unit of work, of memory and of resuming).
DEFAULT_ROWS = 50_000


@dataclass(frozen=True)
class PartSummary:
    """Totals of one range: rows, Σ ω W over feasible rows, feasible rows, statuses,
    and the server-only figures of :func:`splitopt.metrics.summarize`: Σ ω W(S…S)
    over all rows, rows where server-only breaks a constraint, and Σ ω W(x) and
    Σ ω W(S…S) over the rows where both x and server-only are feasible."""

    rows: int
    objective: float
    feasible: int
    statuses: dict
    server_only_work: float = 0.0
    server_only_infeasible: int = 0
    both_work: float = 0.0
    both_server_only_work: float = 0.0
    #: each sum's exact value as non-overlapping floats (:func:`partials`), so that a
    #: file's totals are the exactly rounded sums over all its rows, not sums of sums
    partials: dict = field(default_factory=dict)


#: The sums a part carries (and a solution file's head totals).
SUMS = ("objective", "server_only_work", "both_work", "both_server_only_work")


def partials(w: np.ndarray, x: np.ndarray) -> list[float]:
    """Σ w·x (each product rounded once) as a short list of non-overlapping floats
    whose exact sum is the exact sum (Shewchuk's expansion, the algorithm behind
    ``math.fsum``). ``math.fsum`` of the concatenated lists of several ranges is
    the exactly rounded total of all of them, in any order."""
    out: list[float] = []
    for v in (np.asarray(w) * np.asarray(x)).tolist():
        i = 0
        for y in out:
            if abs(v) < abs(y):
                v, y = y, v
            hi = v + y
            lo = y - (hi - v)
            if lo:
                out[i] = lo
                i += 1
            v = hi
        out[i:] = [v]
    return out


#: Version of the part files' layout (in the resume fingerprint: older parts are redone).
PART_LAYOUT = 4


def _statuses_placements(
    rb: RequestBatch, solver: str, options: dict, name: str, work_unit: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    from splitopt.solvers import get_solver
    from splitopt.solvers.batch import INFEASIBLE, STATUS_NAMES, solve_grid_batch
    from splitopt.solvers.params import DPParams

    s = get_solver(solver, **options)
    p = s.params
    if solver in ("dp", "dp-exact") and p.time_limit is None:
        from splitopt.solvers.dp import labels_ragged

        return labels_ragged(rb.chains)
    grid = solver in ("dp", "dp-grid")
    if grid and isinstance(p, DPParams) and not p.bound and p.time_limit is None:
        from splitopt.solvers.dp import batch_safety_net

        status, _, x, exact = solve_grid_batch(rb.chains, p.discretisation)
        names = np.array(STATUS_NAMES, dtype=object)[status].tolist()
        have = status != INFEASIBLE
        messages: list[str | None] = [None] * len(names)
        fixes = batch_safety_net(p, rb.chains, exact, names, x, messages)
        if fixes:
            x = x.copy()
            off = rb.chains.offsets
            for i, sol in fixes:
                names[i] = sol.status
                have[i] = sol.placement is not None
                if sol.placement is not None:
                    x[off[i] : off[i + 1]] = sol.placement
        return names, x, have
    result = s.solve(rb.to_problem(name, work_unit))
    xs = result.on_server
    have = np.array([x is not None for x in xs], bool)
    L = rb.chains.num_layers
    flat = np.concatenate(
        [np.zeros(int(n), bool) if x is None else x for x, n in zip(xs, L, strict=True)]
    )
    return list(result.statuses), flat, have


def solve_range(
    path: str, start: int, stop: int, solver: str, options: dict
) -> tuple[Any, PartSummary]:
    """Solve rows ``[start, stop)`` of a columnar problem: (solution table, totals).

    Statuses ``optimal``/``feasible`` whose placement the evaluator finds
    infeasible become ``error`` (as in :class:`~splitopt.solution.Result`).
    """
    reader = ColumnarProblem(path)
    rb = reader.rows(start, stop)
    statuses, x, have = _statuses_placements(rb, solver, options, reader.name, reader.work_unit)
    lat, work, mem, feas = score_flat(rb.chains, x, have, RTOL)
    st = np.array(statuses, dtype=object)
    broken = np.isin(st, ["optimal", "feasible"]) & ~feas
    st[broken] = "error"
    table = solution_table(rb.ids, st.tolist(), x, rb.chains.offsets, have, work, lat, mem, feas)
    names, counts = np.unique(st.astype(str), return_counts=True)
    _, so_work, _, so_ok = score_flat(
        rb.chains, np.ones(int(rb.chains.offsets[-1]), bool), None, RTOL
    )
    w = rb.weights
    both = feas & so_ok
    exact = {
        "objective": partials(w[feas], work[feas]),
        "server_only_work": partials(w, so_work),
        "both_work": partials(w[both], work[both]),
        "both_server_only_work": partials(w[both], so_work[both]),
    }
    sums = {k: math.fsum(v) for k, v in exact.items()}
    summary = PartSummary(
        rows=len(rb),
        feasible=int(feas.sum()),
        statuses={str(k): int(v) for k, v in zip(names, counts, strict=True)},
        server_only_infeasible=int((~so_ok).sum()),
        partials=exact,
        **sums,
    )
    return table, summary


def _remote_range(path: str, start: int, stop: int, solver: str, options: dict) -> tuple:
    """Dask task: errors travel back as text (our exceptions need not pickle)."""
    try:
        table, summary = solve_range(path, start, stop, solver, options)
    except UserError as exc:
        return "error", str(exc)
    return table, summary


def _fingerprint(path: str, solver: str, options: dict, rows: int) -> dict:
    st = os.stat(path)
    return {
        "input": str(Path(path).resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "solver": solver,
        "options": options,
        "rows": rows,
        "splitopt": __version__,
        "layout": PART_LAYOUT,
    }


def _write_table(target: Path, table: Any, meta: dict | None = None) -> None:
    pq = _pa()
    from splitopt.outputs import replace_file

    if meta is not None:
        table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    replace_file(target, lambda fh: pq.write_table(table, fh), binary=True)


def solve_file(
    path: str,
    out: str,
    solver: str = "dp",
    options: dict | None = None,
    rows: int = DEFAULT_ROWS,
    progress: bool = True,
    dask: str | None = None,
    stop_after: int | None = None,
) -> dict:
    """Solve a columnar problem into a columnar solution (module docstring).

    Returns the totals written into the solution's metadata. ``stop_after``
    (tests) raises :class:`KeyboardInterrupt` after that many ranges were solved
    in this call, as an interruption would.

    ``out`` is checked and locked (:class:`splitopt.outputs.OutputLock`, for the
    whole run, parts included) before any work: a folder, an unwritable target or
    a file another run is writing is exit 2 at once. A run that fails on its input
    removes its parts (a rerun would fail the same way); an interrupted run, or one
    whose Dask cluster failed, keeps them for the rerun.
    """
    from splitopt.outputs import OutputLock, check_not_input, classify

    options = dict(options or {})
    check_not_input(out, [path])
    kind, _ = classify(out)  # a folder, a block device, …: refused before any work
    if kind == "stream":
        raise OutputError(
            out, "a streamed solution is written through a part folder; give a file name"
        )
    with OutputLock(out):
        return _solve_file_locked(path, out, solver, options, rows, progress, dask, stop_after)


def _part_ok(f: Path, expect_rows: int) -> str | None:
    """Why a part file cannot be kept (truncated, foreign, wrong size), or ``None``."""
    pq = _pa()
    try:
        pf = pq.ParquetFile(f)
        md = json.loads(pf.schema_arrow.metadata[META_KEY])
        if pf.metadata.num_rows != expect_rows or md.get("rows") != expect_rows:
            return f"holds {pf.metadata.num_rows} rows, its range {expect_rows}"
        if not all(k in md for k in ("partials", "statuses", "feasible")):
            return "is not a splitopt part (no totals)"
    except Exception as exc:  # truncated, not Parquet, no metadata: redo it
        return f"cannot be read ({type(exc).__name__})"
    return None


def _solve_file_locked(path, out, solver, options, rows, progress, dask, stop_after) -> dict:  # type: ignore[no-untyped-def]
    from splitopt.solvers import get_solver

    reader = ColumnarProblem(path)
    s = get_solver(solver, **options)  # bad names/options fail before any work
    # what the file records is what replays it: the solver's name and options in force
    # (``dp`` given ticks is the grid DP, ``dp-grid``; the exact ``dp`` says ``exact``)
    solver, options = s.name, s.describe_options()
    if not s.available():
        from splitopt.errors import SolverUnavailable

        raise SolverUnavailable(f"solver {solver!r} is not available: install its backend")
    s.prepare()
    if solver in ("dp", "dp-grid", "dp-exact"):
        from splitopt.solvers.batch import warm_up_batch

        warm_up_batch()
    n = reader.num_rows
    ranges = [(a, min(a + rows, n)) for a in range(0, n, rows)]
    parts = Path(str(out) + ".parts")
    fp = _fingerprint(path, solver, options, rows)
    manifest = parts / "manifest.json"
    done: set[int] = set()
    if parts.is_dir() and manifest.is_file():
        try:
            same = json.loads(manifest.read_text()) == fp
        except ValueError:
            same = False
        if same:
            for k in range(len(ranges)):
                f = parts / f"part-{k:06d}.parquet"
                if not f.is_file():
                    continue
                why = _part_ok(f, ranges[k][1] - ranges[k][0])
                if why is None:
                    done.add(k)
                else:  # one bad part never blocks the resume: it is solved again
                    warnings.warn(f"{f}: {why}; solving its rows again", stacklevel=2)
                    f.unlink()
        else:
            shutil.rmtree(parts)
    elif parts.exists():
        raise UserError(f"{parts}: exists and is not a splitopt part folder; remove it")
    created = not parts.exists()
    try:
        parts.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(out, f"cannot write its part folder {parts}: {exc.strerror}") from None
    try:
        if not manifest.is_file():
            from splitopt.outputs import write_text

            write_text(manifest, json.dumps(fp))
        totals = _solve_parts(
            path, reader, out, parts, ranges, done, solver, options, rows, progress, dask,
            stop_after,
        )
    except DaskError:
        _drop_if_empty(parts, created)
        raise
    except UserError:
        # the input is at fault: a rerun fails the same way, so the parts are litter
        shutil.rmtree(parts, ignore_errors=True)
        raise
    except BaseException:  # interrupted (or a bug): finished parts stay for the rerun
        _drop_if_empty(parts, created)
        raise
    shutil.rmtree(parts)
    return totals


def _drop_if_empty(parts: Path, created: bool) -> None:
    """Remove a part folder this run created when no part in it is finished."""
    if created and not any(parts.glob("part-*.parquet")):
        shutil.rmtree(parts, ignore_errors=True)


def _solve_parts(
    path, reader, out, parts, ranges, done, solver, options, rows, progress, dask, stop_after
) -> dict:  # type: ignore[no-untyped-def]
    todo = [k for k in range(len(ranges)) if k not in done]
    n = reader.num_rows
    t0 = time.perf_counter()
    solved = 0

    def save(k: int, table: Any, summary: PartSummary) -> None:
        nonlocal solved
        interrupts.check()
        _write_table(parts / f"part-{k:06d}.parquet", table, summary.__dict__)
        solved += 1
        if stop_after is not None and solved >= stop_after:
            raise KeyboardInterrupt

    with _progress(progress, n, sum(ranges[k][1] - ranges[k][0] for k in done)) as advance:
        if dask is None:
            for k in todo:
                interrupts.check()
                a, b = ranges[k]
                table, summary = solve_range(path, a, b, solver, options)
                save(k, table, summary)
                advance(b - a)
        else:
            _solve_dask(dask, path, ranges, todo, solver, options, save, advance)
    runtime = time.perf_counter() - t0
    interrupts.check()
    return _join(path, reader, out, parts, len(ranges), solver, options, runtime, len(done), rows)


#: Seconds to wait for a Dask scheduler's first answer before giving up (exit 2).
DASK_CONNECT_TIMEOUT_S = 5.0


def _probe(address: str, timeout: float) -> None:
    """Check that ``tcp://HOST:PORT`` answers like a Dask server within ``timeout`` s.

    A Dask server sends its handshake as soon as it accepts (a frame count, 8 bytes
    little-endian, then frame lengths); a service that accepts and stays silent made
    ``distributed.Client`` wait forever, and one that sends other bytes made it try to
    allocate exabytes. Other schemes are left to ``distributed``.
    """
    import socket

    rest = address[len("tcp://") :] if address.startswith("tcp://") else address
    if "://" in rest:
        return
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError as exc:  # refused, unreachable, connect timeout
        raise DaskError(
            f"--dask {address}: cannot reach a Dask scheduler within {timeout:g} s "
            f"({type(exc).__name__}: {exc.strerror or exc})"
        ) from None
    head = b""
    try:
        with sock:
            sock.settimeout(timeout)
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    raise DaskError(
                        f"--dask {address}: the service closed the connection; "
                        "is it a Dask scheduler?"
                    )
                head += chunk
    except OSError:  # accepted, then silent (or reset)
        raise DaskError(
            f"--dask {address}: accepted the connection but sent no Dask handshake within "
            f"{timeout:g} s; is it a Dask scheduler?"
        ) from None
    frames = int.from_bytes(head, "little")
    if not 1 <= frames <= 1024:
        raise DaskError(f"--dask {address}: the service does not speak the Dask protocol")


def connect_dask(address: str, timeout: float | None = None) -> Any:
    """A ``distributed.Client`` for a scheduler address, or :class:`DaskError` (exit 2)
    within about ``timeout`` seconds (default :data:`DASK_CONNECT_TIMEOUT_S`) when the
    address is unreachable, silent, or not a Dask scheduler."""
    import threading

    try:
        from distributed import Client
    except ImportError:  # pragma: no cover
        raise UserError(
            "--dask needs dask.distributed: pip install 'splitopt[experiments]'"
        ) from None
    limit = DASK_CONNECT_TIMEOUT_S if timeout is None else timeout
    _probe(address, limit)
    import logging

    # a lost scheduler is reported once, as one line (DaskError), not as the client's
    # logged tracebacks (36 lines per failure)
    logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = Client(address, timeout=limit)
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=connect, name="splitopt-dask-connect", daemon=True)
    t.start()
    t.join(limit + 10)
    if t.is_alive():
        raise DaskError(f"--dask {address}: no answer within {limit:g} s")
    if "error" in box:
        exc = box["error"]
        raise DaskError(
            f"--dask {address}: cannot connect to a Dask scheduler "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        ) from None
    return box["client"]


def _dask_client(dask: Any) -> Any:
    """A ``distributed.Client`` for ``dask`` (a scheduler address, or a Client as is)."""
    return connect_dask(dask) if isinstance(dask, str) else dask


def _close(client: Any) -> None:
    """Close a client we opened; a dead scheduler must not hang or raise here."""
    import contextlib

    with contextlib.suppress(BaseException):
        client.close(timeout=2)


def _lost(dask: Any, exc: BaseException, left: int) -> DaskError:
    text = " ".join(str(exc).split())[:200]
    return DaskError(
        f"--dask {dask}: the Dask cluster failed mid-run ({type(exc).__name__}: {text}); "
        f"{left} batch(es) unfinished, the finished ones are kept: rerun to resume"
    )


def _solve_dask(dask, path, ranges, todo, solver, options, save, advance) -> None:  # type: ignore[no-untyped-def]
    client = _dask_client(dask)
    from distributed import as_completed

    left = set(todo)
    try:
        try:
            futures = {
                client.submit(
                    _remote_range, str(Path(path).resolve()), *ranges[k], solver, options,
                    pure=False,
                ): k
                for k in todo
            }
            for fut in as_completed(futures):
                k = futures[fut]
                table, summary = fut.result()
                if isinstance(table, str):
                    for f in futures:
                        f.cancel()
                    raise UserError(summary)
                save(k, table, summary)
                left.discard(k)
                advance(ranges[k][1] - ranges[k][0])
        except (UserError, KeyboardInterrupt):
            raise
        except Exception as exc:  # the scheduler died, the connection broke, …
            raise _lost(dask, exc, len(left)) from None
    finally:
        if isinstance(dask, str):
            _close(client)


class _progress:
    """A rich progress bar on stderr (or nothing); ``advance(rows)``."""

    def __init__(self, show: bool, total: int, completed: int) -> None:
        self.show, self.total, self.completed = show, total, completed

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not self.show:
            return lambda k: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("solving"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("requests"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.bar.start()
        task = self.bar.add_task("solve", total=self.total, completed=self.completed)
        return lambda k: self.bar.advance(task, k)

    def __exit__(self, *exc: object) -> None:
        if self.show:
            self.bar.stop()


def overall_status(statuses: dict) -> str:
    """The instance status of :attr:`splitopt.solution.Result.status` from status counts."""
    s = {k for k, v in statuses.items() if v}
    for name in ("error", "time_limit"):
        if name in s:
            return name
    if not s or s == {"infeasible"}:
        return "infeasible"
    return "feasible" if "feasible" in s else "optimal"


def _join(
    path, reader, out, parts, count, solver, options, runtime, resumed, rows_per_part
) -> dict:  # type: ignore[no-untyped-def]
    """Check ids file-wide, sum the totals and write ``out`` from the parts (atomically)."""
    pq = _pa()
    from splitopt.outputs import replace_file

    files = [parts / f"part-{k:06d}.parquet" for k in range(count)]
    digests = []
    counts = ("rows", "feasible", "server_only_infeasible")
    exact: dict[str, list[float]] = {k: [] for k in SUMS}
    totals: dict[str, Any] = {k: 0 for k in counts}
    statuses: dict[str, int] = {}
    for f in files:
        md = json.loads(pq.read_schema(f).metadata[META_KEY])
        for k in counts:
            totals[k] += md[k]
        for k in SUMS:
            exact[k].extend(md["partials"][k])
        for k, v in md["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
        ids = pq.read_table(f, columns=["id"]).column("id").to_pylist()
        digests.append(id_digests(ids))
    _check_duplicates(reader, np.concatenate(digests))
    totals |= {k: math.fsum(v) for k, v in exact.items()}  # exactly rounded over all rows
    denom = totals["both_server_only_work"]
    head = {
        "format": SOLUTION_FORMAT,
        "version": VERSION,
        "instance": reader.name,
        "solver": solver,
        "status": overall_status(statuses),
        "objective": totals["objective"],
        "runtime_s": runtime,
        "work_unit": reader.work_unit,
        "options": options,
        # the figures of a JSON solution's summary (splitopt.metrics.summarize); NaN -> null
        "summary": {
            "requests": totals["rows"],
            "feasible": totals["feasible"],
            "infeasible": totals["rows"] - totals["feasible"],
            "server_only_work": totals["server_only_work"],
            "server_only_infeasible": totals["server_only_infeasible"],
            "reduction_vs_server_only": 1.0 - totals["both_work"] / denom if denom > 0 else None,
        },
        "splitopt_version": __version__,
        "requests": totals["rows"],
        "num_feasible": totals["feasible"],
        "statuses": statuses,
        "batch_rows": int(rows_per_part),
        "resumed_parts": resumed,
    }

    def write(fh: Any) -> None:
        writer: Any = None
        for f in files:
            t = pq.read_table(f)
            t = t.replace_schema_metadata({META_KEY: json.dumps(head).encode()})
            if writer is None:
                writer = pq.ParquetWriter(fh, t.schema)
            writer.write_table(t)
        writer.close()

    replace_file(out, write, binary=True)
    return head


def _check_duplicates(reader: ColumnarProblem, digests: np.ndarray) -> None:
    order = np.argsort(digests, kind="stable")
    d = digests[order]
    same = np.flatnonzero(d[1:] == d[:-1])
    for i in same:
        a, b = sorted((int(order[i]), int(order[i + 1])))
        ida = reader.read_table(a, a + 1).column("id")[0].as_py()
        idb = reader.read_table(b, b + 1).column("id")[0].as_py()
        if ida == idb:
            raise InputError(
                reader.file, f"row {b}, column id", f"duplicate request id {idb!r} (also row {a})"
            )


def validate_file(path: str, rows: int = DEFAULT_ROWS) -> dict:
    """Read and validate every row of a columnar problem (bounded memory): a summary."""
    reader = ColumnarProblem(path)
    digests = []
    lmin, lmax, budgets = None, None, 0
    for rb in reader.batches(rows):
        L = rb.chains.num_layers
        lmin = int(L.min()) if lmin is None else min(lmin, int(L.min()))
        lmax = int(L.max()) if lmax is None else max(lmax, int(L.max()))
        budgets += int(rb.chains.has_budget.sum())
        digests.append(id_digests(rb.ids))
    _check_duplicates(reader, np.concatenate(digests))
    return {
        "name": reader.name,
        "requests": reader.num_rows,
        "min_layers": lmin,
        "max_layers": lmax,
        "budgets": budgets,
        "work_unit": reader.work_unit,
    }


def evaluate_range(path: str, solution: str, start: int, stop: int) -> tuple[list[float], int, int]:
    """Re-score rows ``[start, stop)`` of a columnar solution: (Σ ω W over feasible
    rows as :func:`partials`, feasible rows, placements that break a constraint).
    Rows are matched by position; their ids must agree."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from splitopt.formats.columnar import RowRanges

    pq = _pa()
    rb = ColumnarProblem(path).rows(start, stop)
    batch = RowRanges(pq.ParquetFile(solution), ["id", "placement"]).read(start, stop)
    ids = batch.column(0).to_pylist()
    for i, (a, b) in enumerate(zip(ids, rb.ids, strict=True)):
        if a != b:
            raise InputError(
                solution, f"row {start + i}, column id", f"is {a!r}, the problem has {b!r}"
            )
    col = batch.column(1).combine_chunks()
    if not pa.types.is_string(col.type):
        raise InputError(solution, "column placement", f"must be strings, not {col.type}")
    have = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False))
    lens = np.asarray(pc.utf8_length(col).fill_null(0).to_numpy(), np.int64)
    L = rb.chains.num_layers
    bad = np.flatnonzero(have & (lens != L))
    if bad.size:
        r = int(bad[0])
        raise InputError(
            solution,
            f"row {start + r}, column placement",
            f"has {lens[r]} layers, the request has {L[r]}",
        )
    chars = np.frombuffer(
        "".join(
            s if s is not None else "C" * int(n) for s, n in zip(col.to_pylist(), L, strict=True)
        ).encode("ascii", "replace"),
        np.uint8,
    )
    badc = np.flatnonzero((chars != ord("C")) & (chars != ord("S")))
    if badc.size:
        pos = int(badc[0])
        r = int(np.searchsorted(rb.chains.offsets, pos, side="right") - 1)
        raise InputError(
            solution, f"row {start + r}, column placement", "may hold only 'C' and 'S'"
        )
    _lat, work, _mem, feas = score_flat(rb.chains, chars == ord("S"), have, RTOL)
    return (
        partials(rb.weights[feas], work[feas]),
        int(feas.sum()),
        int((have & ~feas).sum()),
    )


def _remote_evaluate(path: str, solution: str, start: int, stop: int) -> tuple:
    try:
        return evaluate_range(path, solution, start, stop)
    except UserError as exc:
        return "error", str(exc)


def evaluate_file(path: str, solution: str, rows: int = DEFAULT_ROWS, dask: Any = None) -> dict:
    """Re-score a columnar solution against a columnar problem, range by range
    (on a Dask scheduler's workers with ``dask``: an address or a Client).

    Returns the evaluator's objective, feasible count and the number of
    placements that break a constraint, beside the file's own objective.
    """
    pq = _pa()
    reader = ColumnarProblem(path)
    head = _solution_head(solution)
    n_sol = pq.ParquetFile(solution).metadata.num_rows
    if n_sol != reader.num_rows:
        raise InputError(solution, "(rows)", f"has {n_sol} rows, the problem {reader.num_rows}")
    n = reader.num_rows
    ranges = [(a, min(a + rows, n)) for a in range(0, n, rows)]
    if dask is None:
        parts = [evaluate_range(path, solution, a, b) for a, b in ranges]
    else:
        parts = _map_dask(dask, _remote_evaluate, path, solution, ranges)
    return {
        "solver": head.get("solver"),
        "objective": math.fsum(v for p in parts for v in p[0]),  # exactly rounded
        "file_objective": head.get("objective"),
        "num_feasible": sum(p[1] for p in parts),
        "broken": sum(p[2] for p in parts),
        "requests": n,
    }


def _map_dask(dask: Any, fn: Any, path: str, solution: str, ranges: list) -> list:
    """Run ``fn(path, solution, a, b)`` per range on the cluster; results in order."""
    client = _dask_client(dask)
    try:
        p, s = str(Path(path).resolve()), str(Path(solution).resolve())
        futures = [client.submit(fn, p, s, a, b, pure=False) for a, b in ranges]
        out = client.gather(futures)
    except (UserError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise _lost(dask, exc, len(ranges)) from None
    finally:
        if isinstance(dask, str):
            _close(client)
    for r in out:
        if r[0] == "error":
            raise UserError(r[1])
    return out


def compare_placements(a: str, b: str, rows: int = DEFAULT_ROWS) -> tuple[int, int, str | None]:
    """Compare two columnar solutions row by row (bounded memory): (rows, rows whose
    placement differs, the first such request id). Ids must agree row by row."""
    from splitopt.formats.columnar import RowRanges

    pq = _pa()
    fa, fb = pq.ParquetFile(a), pq.ParquetFile(b)
    n = fa.metadata.num_rows
    if fb.metadata.num_rows != n:
        raise InputError(a, "(rows)", f"has {n} rows, {b} has {fb.metadata.num_rows}")
    ra, rb = RowRanges(fa, ["id", "placement"]), RowRanges(fb, ["id", "placement"])
    differ, first = 0, None
    for s in range(0, n, rows):
        ta, tb = ra.read(s, min(s + rows, n)), rb.read(s, min(s + rows, n))
        ids = ta.column(0).to_pylist()
        if ids != tb.column(0).to_pylist():
            raise InputError(a, f"rows {s}-{min(s + rows, n) - 1}, column id", f"differ from {b}")
        pa_, pb_ = ta.column(1).to_pylist(), tb.column(1).to_pylist()
        for i, (x, y) in enumerate(zip(pa_, pb_, strict=True)):
            if x != y:
                differ += 1
                if first is None:
                    first = ids[i]
    return n, differ, first


def _solution_head(solution: str) -> dict:
    from splitopt.formats.columnar import read_solution_meta

    return read_solution_meta(solution)
