"""Experiment harness: a registry of experiments, resumable CSV output, and
local-process or Dask execution.

An *experiment* is a registered function ``(seed, repetitions, quick) ->
iterable of Task``. A :class:`Task` is a small, hashable, picklable description
of one run: the dotted name of a *runner* function and its keyword parameters
(instance family, seed, size, solver, sweep value, ...). Running a task calls
``runner(**params)``, which returns a dict of outcome columns; the harness adds
the parameters, an ``error`` column, the runtime, the splitopt version and the
git commit, and appends the row to the CSV file as soon as it finishes (one
``flush`` + ``fsync`` per row).

Resuming: every row carries ``key``, a hash of the experiment name and the task
parameters. A rerun reads the keys already in the file and runs only the
missing tasks, so a run that was killed loses at most the rows in flight and
never duplicates one. A partial last line (the process died while writing it)
is cut off before appending. When every task is done the file is rewritten
(atomically) in task order, so the final file does not depend on the order in
which workers finished: serial, process-pool and Dask runs give the same rows.

Errored rows count as finished (their ``error`` column says why); delete them
from the CSV to retry.

One writer per file: a run holds an exclusive lock (``fcntl.flock``) on the
sidecar ``NAME.csv.lock`` (which holds its pid) for as long as it runs; a second
run on the same file stops at once with :class:`ExperimentError` ("in use by
pid N", exit 2 in the CLI). Loading and finalising keep the first row of each
task key, so a file that already holds duplicates (written before the lock)
comes out with one row per task.

Signals: SIGTERM (and Ctrl-C) stop a run cleanly: the row being written is
finished first (no torn line, no temporary file left behind), the local worker
processes are terminated (no orphans), the lock is released and the process
exits with status 128 + the signal number; rerunning resumes.

Dask: a run whose cluster has had no worker for :data:`DASK_NO_WORKER_S`
seconds (all workers died), or whose task killed its workers
(``KilledWorker``), stops with :class:`ExperimentError` rather than waiting
forever; the rows already written stay and a rerun resumes.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import hashlib
import importlib
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from splitopt import interrupts
from splitopt.errors import DaskError, ExperimentError
from splitopt.outputs import OutputLock, prepare_results_csv, replace_file

#: Columns that come first in every CSV, in this order.
LEADING: tuple[str, ...] = ("experiment", "key", "task_index")
#: Columns that come last: bookkeeping, not results. ``runtime_s`` (wall-clock
#: seconds of the task in its worker), ``git_commit`` and ``timestamp`` vary
#: between otherwise identical runs.
TRAILING: tuple[str, ...] = ("error", "runtime_s", "splitopt_version", "git_commit", "timestamp")
#: Columns excluded when comparing two runs for equality.
VOLATILE: frozenset[str] = frozenset({"runtime_s", "git_commit", "timestamp"})

Scalar = str | int | float | bool | None

#: Seconds a Dask run waits with no worker in the cluster before it gives up.
DASK_NO_WORKER_S = 60.0


def is_volatile(column: str) -> bool:
    """Whether a column may differ between two runs of the same tasks (timings, provenance)."""
    return column in VOLATILE or "runtime" in column


#: Runners by registered name: name -> ("module:function", earlier identities).
#: A task's key hashes the runner's *name*, so moving a runner to another module
#: changes only its entry here; the earlier identities (the import paths that rows
#: written before carried in their keys) let those rows resume (:func:`legacy_keys`).
_RUNNERS: dict[str, tuple[str, tuple[str, ...]]] = {}


def register_runner(name: str, target: str, formerly: Sequence[str] = ()) -> None:
    """Register the runner ``target`` ("module:function") as ``name``.

    ``formerly``: identities under which rows were written before (import paths of
    earlier versions); rows keyed by them count as this runner's rows. Registering a
    name again with another target warns (the new one wins).
    """
    if ":" in name:
        raise ExperimentError(f"runner name {name!r} must not contain ':'")
    old = _RUNNERS.get(name)
    if old is not None and old[0] != target:
        import warnings

        warnings.warn(
            f"runner {name!r} re-registered: {old[0]} -> {target}", RuntimeWarning, stacklevel=2
        )
    _RUNNERS[name] = (target, tuple(dict.fromkeys((*formerly, target))))


def runner_target(runner: str) -> str:
    """The "module:function" of a registered runner name (an import path as is)."""
    if runner in _RUNNERS:
        return _RUNNERS[runner][0]
    if ":" not in runner:
        raise ExperimentError(
            f"unknown runner {runner!r}; registered: {', '.join(sorted(_RUNNERS))}"
        )
    return runner


# The package's runners (names, not import paths, are their identities in result
# files; "formerly" lists the import paths their rows were keyed by before names).
_HOME, _OLD = "splitopt.experiments.runners", "splitopt.experiments.catalog"
for _name, _function in (
    ("split", "run_split"),
    ("calibration-impact", "run_calibration_impact"),
    ("simulation", "run_simulation"),
    ("speed", "run_speed"),
    ("discretisation", "run_discretisation"),
):  # the catalogue's runners: rows written before were keyed by the catalogue's path
    register_runner(_name, f"{_HOME}:{_function}", (f"{_OLD}:{_function}",))
register_runner("bprr-online", "splitopt.experiments.online:run_row")
register_runner("bprr-runtime", "splitopt.experiments.bprr_runtime:runtime_row")
register_runner("bprr-bound", "splitopt.experiments.bprr_runtime:bound_row")
register_runner("verify", "splitopt.verify:verify_task")
register_runner(
    "verify-placement",
    "splitopt.verify_placement:verify_instance",
    ("splitopt.verify_placement:verify_instance", "splitopt.placement.verify:verify_instance"),
)
register_runner(
    "joint-verify",
    "splitopt.experiments.joint_verify:run_joint_check",
    ("splitopt.experiments.joint_verify:run_joint_check",),
)
register_runner(
    "confirmatory",
    "splitopt.experiments.confirmatory:run_confirmatory",
    ("splitopt.experiments.catalog:run_confirmatory",),
)


def _key(experiment: str, runner: str, params: Iterable[tuple[str, Scalar]]) -> str:
    blob = json.dumps([experiment, runner, sorted(params)], sort_keys=True, default=str)
    return hashlib.blake2b(blob.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Task:
    """One run: ``runner`` (a registered name, :func:`register_runner`, or a
    "module:function" path) called with ``params``.

    ``params`` is a tuple of (name, value) pairs with scalar values, so a task
    is hashable and pickles small. :attr:`key` is stable across processes and
    Python versions (it hashes a canonical JSON form); for a registered runner it
    hashes the name, so it survives moving the runner's module.
    """

    experiment: str
    runner: str
    params: tuple[tuple[str, Scalar], ...]
    #: the runner's "module:function", filled in by :meth:`make` (worker processes
    #: need not have the registration); not part of the key
    target: str = field(default="", compare=False)

    @classmethod
    def make(cls, experiment: str, runner: str, **params: Scalar) -> Task:
        """A task from keyword parameters (their order is kept for the CSV columns)."""
        for k, v in params.items():
            if not isinstance(v, (str, int, float, bool)) and v is not None:
                raise ExperimentError(f"task parameter {k!r} must be a scalar, got {v!r}")
        return cls(experiment, runner, tuple(params.items()), runner_target(runner))

    @property
    def key(self) -> str:
        """A 16-hex-digit hash of the experiment, runner and parameters."""
        return _key(self.experiment, self.runner, self.params)

    def legacy_keys(self) -> list[str]:
        """Keys this task's rows carried when its runner was known by an earlier
        identity (``formerly`` and the import path of :func:`register_runner`)."""
        if self.runner not in _RUNNERS:
            return []
        return [_key(self.experiment, r, self.params) for r in _RUNNERS[self.runner][1]]

    def param_dict(self) -> dict[str, Scalar]:
        return dict(self.params)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: ``tasks(seed, repetitions, quick)`` lists its runs.

    ``serial`` marks experiments whose results are timings: they default to one
    worker so runs do not compete for cores.
    """

    name: str
    tasks: Callable[[int, int, bool], Iterable[Task]]
    description: str
    serial: bool = False


_EXPERIMENTS: dict[str, Experiment] = {}


def experiment(
    name: str, description: str = "", serial: bool = False
) -> Callable[
    [Callable[[int, int, bool], Iterable[Task]]], Callable[[int, int, bool], Iterable[Task]]
]:
    """Decorator registering ``fn(seed, repetitions, quick) -> Iterable[Task]`` as ``name``."""

    def wrap(
        fn: Callable[[int, int, bool], Iterable[Task]],
    ) -> Callable[[int, int, bool], Iterable[Task]]:
        _EXPERIMENTS[name] = Experiment(name, fn, description or (fn.__doc__ or "").strip(), serial)
        return fn

    return wrap


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name``; :class:`ExperimentError` lists the valid names.

    The harness knows only what was registered: importing
    :mod:`splitopt.experiments` registers the catalogue
    (:mod:`splitopt.experiments.catalog`); tests register their own.
    """
    if name not in _EXPERIMENTS:
        raise ExperimentError(
            f"unknown experiment {name!r}; valid experiments: {', '.join(sorted(_EXPERIMENTS))}"
        )
    return _EXPERIMENTS[name]


def list_experiments() -> list[str]:
    """Registered experiment names, in registration order."""
    return list(_EXPERIMENTS)


def experiment_tasks(
    name: str, seed: int = 0, repetitions: int = 1, quick: bool = False
) -> list[Task]:
    """The tasks of experiment ``name``; duplicates (same key) are an error."""
    exp = get_experiment(name)
    tasks = list(exp.tasks(seed, repetitions, quick))
    seen: set[str] = set()
    for t in tasks:
        if t.key in seen:
            raise ExperimentError(f"experiment {name!r} yields the task {t.params} twice")
        seen.add(t.key)
    return tasks


# ---------------------------------------------------------------- running one task


def resolve(target: str) -> Callable[..., Any]:
    """The function named ``"module:function"``."""
    module, fn = target.split(":")
    return getattr(importlib.import_module(module), fn)


def _clean(value: object) -> Scalar:
    """A CSV-safe scalar: numpy scalars unwrapped, newlines removed from strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value.replace("\r", " ").replace("\n", " | ") if isinstance(value, str) else value
    if isinstance(value, float):
        return value
    try:  # numpy scalars
        item = value.item()  # type: ignore[attr-defined]
    except AttributeError:
        return str(value).replace("\n", " | ")
    return _clean(item)


def run_task(task: Task) -> dict[str, Scalar]:
    """Run one task and return its row (never raises: failures fill ``error``).

    Module-level so that process pools and Dask workers can pickle it.
    """
    t0 = time.perf_counter()
    row: dict[str, Scalar] = {}
    error = ""
    try:
        out = resolve(task.target or runner_target(task.runner))(**task.param_dict())
        if not isinstance(out, Mapping):
            raise TypeError(f"runner {task.runner} returned {type(out).__name__}, not a dict")
        for k, v in out.items():
            row[str(k)] = _clean(v)
    except Exception as exc:  # a failed run is a row, not a crash
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        error = f"{type(exc).__name__}: {exc}{where}"
    full: dict[str, Scalar] = {"experiment": task.experiment, "key": task.key}
    full.update(task.param_dict())
    for k, v in row.items():
        if k not in full:
            full[k] = v
    full["error"] = _clean(error)
    full["runtime_s"] = round(time.perf_counter() - t0, 6)
    return full


# ---------------------------------------------------------------- provenance


def git_commit() -> str:
    """``git rev-parse HEAD`` of the source tree, or ``"unknown"``."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and sha else "unknown"


def splitopt_version() -> str:
    from splitopt._version import __version__

    return __version__


# ---------------------------------------------------------------- the CSV file


def _fmt(v: Scalar) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return repr(v)
    return str(v)


def _repair_tail(path: Path) -> None:
    """Cut a partial last line (no trailing newline) left by a killed writer."""
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        data = f.read()
        cut = data.rfind(b"\n") + 1
        f.truncate(cut)


_KEY = re.compile(r"[0-9a-f]{16}")


def _load(path: Path) -> tuple[list[str], list[dict[str, str]], list[int]]:
    """(header, intact rows, line numbers of damaged rows) of a results CSV.

    A partial last line (no newline: a killed writer) is ignored. A row is damaged
    when its number of fields differs from the header's (a row cut short, or
    lengthened, by a crash or an edit) or its key is not 16 hex digits (e.g. NUL
    bytes): it never counts as finished and never survives finalisation.
    """
    if not path.exists():
        return [], [], []
    data = path.read_text(encoding="utf-8", errors="replace")
    if data and not data.endswith("\n"):
        data = data[: data.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(data, newline=""))
    header = next(reader, [])
    rows, damaged = [], []
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        row = dict(zip(header, fields, strict=False))
        if len(fields) != len(header) or (
            "key" in header and not _KEY.fullmatch(row.get("key", ""))
        ):
            damaged.append(line)
            continue
        rows.append(row)
    return header, rows, damaged


def read_csv_rows(path: Path | str) -> list[dict[str, str]]:
    """Rows of a results CSV as string dicts (a partial last line and damaged rows,
    see :func:`_load`, are ignored)."""
    return _load(Path(path))[1]


class CsvLog:
    """Append-only CSV with a header that grows when a row brings new columns.

    A header change rewrites the file through a temporary file and
    :func:`os.replace`, so the file on disk is always complete. Damaged rows found
    when the file is opened are dropped (a warning names their lines; their tasks
    run again) and the file is rewritten without them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.columns: list[str] = []
        self.rows: list[dict[str, str]] = []
        if path.exists() and path.stat().st_size > 0:
            _repair_tail(path)
            header, rows, damaged = _load(path)
            self.rows = unique_rows(rows)
            self.columns = list(header)
            if damaged:
                import warnings

                lines = ", ".join(map(str, damaged[:10])) + (", …" if len(damaged) > 10 else "")
                warnings.warn(
                    f"{path}: dropped {len(damaged)} damaged row(s) (line {lines}: wrong "
                    "number of fields or a bad key); their tasks run again",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self._rewrite(self.rows, self.columns)

    def rekey(self, renames: Mapping[str, str]) -> None:
        """Give rows keyed by an earlier runner identity their task's key (rows
        written before runners had names resume), and rewrite the file if any changed."""
        changed = False
        for r in self.rows:
            new = renames.get(r.get("key", ""))
            if new is not None:
                r["key"] = new
                changed = True
        if changed:
            self.rows = unique_rows(self.rows)
            self._rewrite(self.rows, self.columns)

    def keys(self) -> set[str]:
        return {r.get("key", "") for r in self.rows}

    def _rewrite(self, rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> None:
        def write(f: TextIO) -> None:
            w = csv.DictWriter(
                f, fieldnames=list(columns), lineterminator="\n", extrasaction="raise"
            )
            w.writeheader()
            for r in rows:
                w.writerow({c: r.get(c, "") for c in columns})

        replace_file(self.path, write)  # atomic, fsynced (splitopt.outputs)

    def append(self, row: Mapping[str, Scalar]) -> None:
        """Append one row (flushed and fsynced before returning)."""
        srow = {k: _fmt(v) for k, v in row.items()}
        new = [k for k in srow if k not in self.columns]
        if new or not self.path.exists():
            self.columns = order_columns([*self.columns, *new])
            self.rows.append(srow)
            self._rewrite(self.rows, self.columns)
            return
        with self.path.open("a", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.columns, lineterminator="\n")
            w.writerow({c: srow.get(c, "") for c in self.columns})
            f.flush()
            os.fsync(f.fileno())
        self.rows.append(srow)

    def finalize(
        self, order: Sequence[str], params: Sequence[str] = (), keep_stale: bool = True
    ) -> None:
        """Rewrite the file with rows in the task order ``order`` (a list of keys).

        Rows whose key is not in ``order`` (from an older task list) are kept at the
        end, or dropped when ``keep_stale`` is false; of rows with the same key only
        the first is kept.
        """
        pos = {k: i for i, k in enumerate(order)}
        rows = unique_rows(self.rows)
        if not keep_stale:
            rows = [r for r in rows if r.get("key") in pos]
        rows = sorted(rows, key=lambda r: pos.get(r.get("key", ""), len(pos)))
        for r in rows:
            if r.get("key") in pos:
                r["task_index"] = str(pos[r["key"]])
        self.columns = final_columns(self.columns, rows, params)
        self.rows = rows
        self._rewrite(rows, self.columns)


def unique_rows(rows: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """``rows`` with only the first row of each task key (rows without a key are kept)."""
    seen: set[str] = set()
    out = []
    for r in rows:
        k = r.get("key") or ""
        if k and k in seen:
            continue
        seen.add(k)
        out.append(r)
    return out


class CsvLock(OutputLock):
    """The output lock (:class:`splitopt.outputs.OutputLock`) of a results CSV:
    exclusive, on ``PATH.lock`` (holds the owner's pid), without waiting; a file in
    use raises :class:`ExperimentError` naming the pid. The lock dies with its
    process, so a killed run never leaves a stale lock; the sidecar file is removed
    on release."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, error=ExperimentError)


class _Stop(BaseException):
    """Raised in the main thread when SIGTERM/SIGINT asks a run to stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _SignalGuard:
    """Turns SIGTERM/SIGINT into :class:`_Stop`, deferred while a row is being written."""

    def __init__(self) -> None:
        self.critical = 0
        self.soft = 0
        self.pending: int | None = None
        self.old: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.soft:  # a task in this process: ask its native solve to stop
            interrupts.request_stop(signum)
        if self.critical or (self.soft and self.pending is None):
            self.pending = signum
            return
        raise _Stop(signum)

    @contextlib.contextmanager
    def task(self) -> Iterator[None]:
        """A task running in this process (serial runs, in a worker thread:
        :func:`splitopt.interrupts.run_guarded`): a signal asks its native solve to
        stop and its row is discarded (it runs again on resume); raising inside a
        native solver or a numba callback is never done."""
        self.soft += 1
        try:
            yield
        finally:
            self.soft -= 1

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        self.critical += 1
        try:
            yield
        finally:
            self.critical -= 1
        if not self.critical and self.pending is not None:
            signum, self.pending = self.pending, None
            raise _Stop(signum)

    def __enter__(self) -> _SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self.old.items():
            signal.signal(sig, old)
        self.old.clear()


def final_columns(
    columns: Iterable[str], rows: Sequence[Mapping[str, str]], params: Sequence[str]
) -> list[str]:
    """Deterministic column order of a finished file: leading columns, the task
    parameters in task order, the outcome columns alphabetically, the trailing ones."""
    cols = set(columns)
    for r in rows:
        cols.update(r)
    lead = [c for c in LEADING if c in cols]
    par = [c for c in dict.fromkeys(params) if c in cols and c not in LEADING]
    rest = sorted(c for c in cols if c not in LEADING and c not in TRAILING and c not in par)
    tail = [c for c in TRAILING if c in cols]
    return lead + par + rest + tail


def order_columns(cols: Iterable[str]) -> list[str]:
    """Leading columns, then the rest in first-seen order, then the trailing ones."""
    seen = list(dict.fromkeys(cols))
    lead = [c for c in LEADING if c in seen or c == "task_index"]
    mid = [c for c in seen if c not in LEADING and c not in TRAILING]
    tail = [c for c in TRAILING if c in seen]
    return lead + mid + tail


# ---------------------------------------------------------------- executors


def _serial(tasks: Sequence[Task], guard: _SignalGuard) -> Generator[dict[str, Scalar], None, None]:
    for t in tasks:
        with guard.task():
            try:
                row = interrupts.run_guarded(partial(run_task, t), handlers=False)
            except interrupts.Interrupted as exc:  # cut short: its row is not written
                guard.pending = None
                raise _Stop(exc.signum) from None
        yield row


def _watch_parent(parent: int) -> None:
    """Pool-worker initialiser: die with the parent, even when it is killed with
    SIGKILL (no clean-up runs there). Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``;
    everywhere: a thread that exits when the parent is gone (reparented)."""
    import ctypes

    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    # SIGINT goes to the whole terminal group: the parent stops the pool itself
    with contextlib.suppress(Exception):
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)
    threading.Thread(target=watch, name="splitopt-parent-watch", daemon=True).start()


def _pool(tasks: Sequence[Task], workers: int) -> Generator[dict[str, Scalar], None, None]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # "spawn": workers start clean (no inherited threads from Dask or rich).
    ctx = mp.get_context("spawn")
    ex = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_watch_parent, initargs=(os.getpid(),)
    )
    finished = False
    try:
        futs = [ex.submit(run_task, t) for t in tasks]
        for f in as_completed(futs):
            yield f.result()
        finished = True
    finally:
        if finished:
            ex.shutdown(wait=True)
        else:  # stopped early (signal, error): no orphaned workers
            procs = list((getattr(ex, "_processes", None) or {}).values())
            ex.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.kill()
                    proc.join(timeout=5)


#: Seconds to wait for a Dask scheduler before giving up (exit 2 in the CLI).
DASK_CONNECT_TIMEOUT_S = 5.0


def _connect(address: object) -> Any:
    """A Dask client for ``address``; an unreachable, silent or foreign service is a
    :class:`~splitopt.errors.DaskError` (exit 2) within seconds."""
    from splitopt.streaming import connect_dask

    if not isinstance(address, str):
        raise ExperimentError(f"--dask {address!r}: give a scheduler address")
    try:
        return connect_dask(address, DASK_CONNECT_TIMEOUT_S)
    except DaskError as exc:
        raise ExperimentError(str(exc)) from None


def _dask(
    tasks: Sequence[Task], address: object, no_worker_s: float | None = None
) -> Generator[dict[str, Scalar], None, None]:
    """Run on a Dask cluster; give up (:class:`ExperimentError`) when it has had no
    worker for ``no_worker_s`` seconds (default :data:`DASK_NO_WORKER_S`) or a
    task killed its workers."""
    from dask.distributed import Client, wait
    from distributed import KilledWorker

    limit = DASK_NO_WORKER_S if no_worker_s is None else no_worker_s
    own = not isinstance(address, Client)
    client: Any = _connect(address) if own else address
    try:
        futs = client.map(run_task, list(tasks), pure=False)
        pending = set(futs)
        idle_since: float | None = None
        try:
            while pending:
                try:
                    done, pending = wait(
                        pending, timeout=min(2.0, max(limit, 0.1)), return_when="FIRST_COMPLETED"
                    )
                except TimeoutError:
                    done = set()
                except Exception as exc:  # futures cancelled: the scheduler connection is gone
                    raise _lost(address, exc, len(pending)) from None
                for f in done:
                    try:
                        row = f.result()
                    except KilledWorker as exc:
                        raise ExperimentError(
                            f"Dask workers died running a task ({exc}); {len(pending)} tasks "
                            "unfinished, rerun to resume"
                        ) from None
                    except Exception as exc:  # the scheduler died, the connection broke
                        raise _lost(address, exc, len(pending) + 1) from None
                    yield row
                if done:
                    idle_since = None
                    continue
                try:
                    workers = client.scheduler_info().get("workers", {})
                    if client.status in ("closed", "closing"):
                        raise ConnectionError("the client lost its scheduler")
                except Exception as exc:
                    raise _lost(address, exc, len(pending)) from None
                if workers:
                    idle_since = None
                    continue
                now = time.monotonic()
                idle_since = idle_since if idle_since is not None else now
                if now - idle_since >= limit:
                    raise ExperimentError(
                        f"the Dask cluster has had no worker for {limit:g} s "
                        f"({len(pending)} tasks unfinished); start workers and rerun to resume"
                    )
        finally:
            with contextlib.suppress(Exception):
                client.cancel(futs)
    finally:
        if own:
            _close(client)


def _lost(address: object, exc: BaseException, left: int) -> ExperimentError:
    text = " ".join(str(exc).split())[:200]
    return ExperimentError(
        f"--dask {address}: the Dask cluster failed mid-run ({type(exc).__name__}: {text}); "
        f"{left} task(s) unfinished, the finished rows are kept: rerun to resume"
    )


def _close(client: Any) -> None:
    """Close a client we opened; a dead scheduler must not hang or raise here."""
    with contextlib.suppress(BaseException):
        client.close(timeout=2)


def _progress(total: int, done: int, name: str, enabled: bool):  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    prog = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
        console=Console(stderr=True),  # stdout stays for the tables a command prints
    )
    tid = prog.add_task(name, total=total, completed=done)
    return prog, tid


def run(
    name: str,
    seed: int = 0,
    repetitions: int = 1,
    out: str | os.PathLike[str] | None = None,
    quick: bool = False,
    dask: object = None,
    workers: int | None = None,
    progress: bool = True,
    dask_no_worker_s: float | None = None,
) -> Path:
    """Run experiment ``name`` into ``out`` (default ``results/NAME.csv``), resuming.

    Args:
        name: a registered experiment (see :func:`list_experiments`).
        seed: base seed; instance seeds are derived from it.
        repetitions: independent repetitions (instance seeds seed, seed+1, ...).
        out: CSV path; its parent directory is created.
        quick: the experiment's small sizes.
        dask: a Dask scheduler address (or a ``Client``): run on that cluster.
        workers: local processes (default: the CPU count, 1 for timing
            experiments); 0 or 1 runs in this process.
        progress: show a progress bar with the time left.
        dask_no_worker_s: with ``dask``, seconds without any worker before the
            run gives up (default :data:`DASK_NO_WORKER_S`).

    Returns:
        The CSV path.

    Raises:
        ExperimentError: unknown experiment, the file is in use by another run,
            or the Dask cluster lost its workers.
        SystemExit: SIGTERM/SIGINT (status 128 + signal) after a clean stop.
    """
    if repetitions < 1:
        raise ExperimentError(f"repetitions must be >= 1, got {repetitions}")
    exp = get_experiment(name)
    tasks = experiment_tasks(name, seed, repetitions, quick)
    path = Path(out) if out is not None else Path("results") / f"{name}.csv"
    return run_tasks(
        name,
        tasks,
        path,
        serial=exp.serial,
        dask=dask,
        workers=workers,
        progress=progress,
        dask_no_worker_s=dask_no_worker_s,
    )


def run_tasks(
    label: str,
    tasks: Sequence[Task],
    out: str | os.PathLike[str],
    *,
    serial: bool = False,
    dask: object = None,
    workers: int | None = None,
    progress: bool = True,
    dask_no_worker_s: float | None = None,
    keep_stale: bool = True,
) -> Path:
    """Run an explicit task list into the CSV ``out``, resuming (what :func:`run`
    does for a registered experiment; ``splitopt verify`` calls it directly).

    ``label`` names the progress bar; ``serial`` makes one worker the default;
    ``keep_stale=False`` drops rows of other task lists when the file is finalised.
    Duplicate task keys are an error. Other arguments and errors as :func:`run`.
    """
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ExperimentError(f"{label}: the task list holds a task twice")
    names = sorted({t.experiment for t in tasks})
    # the one output policy (splitopt.outputs): a regular file (a symlink is followed)
    # that is absent, empty or a results CSV of this experiment
    path = prepare_results_csv(Path(out), names[0] if len(names) == 1 else label)
    path.parent.mkdir(parents=True, exist_ok=True)
    code = None
    with CsvLock(path), _SignalGuard() as guard:
        interrupts.reset()
        try:
            _run_locked(
                serial,
                tasks,
                path,
                label,
                dask,
                workers,
                progress,
                dask_no_worker_s,
                guard,
                keep_stale,
            )
        except _Stop as stop:
            code = 128 + stop.signum
    if code is not None:
        if interrupts.abandoned():  # a native solve that did not stop: do not wait for it
            print("splitopt: interrupted", file=sys.stderr)
            interrupts.exit_now(code)
        interrupts.reset()
        raise SystemExit(code)
    return path


def _run_locked(
    serial: bool,
    tasks: Sequence[Task],
    path: Path,
    name: str,
    dask: object,
    workers: int | None,
    progress: bool,
    dask_no_worker_s: float | None,
    guard: _SignalGuard,
    keep_stale: bool = True,
) -> None:
    with guard.writing():
        log = CsvLog(path)
        log.rekey({old: t.key for t in tasks for old in t.legacy_keys() if old != t.key})
    done = log.keys()
    todo = [t for t in tasks if t.key not in done]
    index = {t.key: i for i, t in enumerate(tasks)}
    meta = {"splitopt_version": splitopt_version(), "git_commit": git_commit()}

    if dask is not None:
        results: Generator[dict[str, Scalar], None, None] = _dask(todo, dask, dask_no_worker_s)
    else:
        if workers is None:
            workers = 1 if serial else max(1, min(os.cpu_count() or 1, len(todo)))
        results = (
            _serial(todo, guard) if workers <= 1 or len(todo) <= 1 else _pool(todo, workers)
        )

    prog, tid = _progress(len(tasks), len(tasks) - len(todo), name, progress)
    try:
        with prog:
            for row in results:
                row = dict(row)
                row["task_index"] = index.get(str(row["key"]), -1)
                row.update(meta)
                row["timestamp"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
                with guard.writing():
                    log.append(row)
                prog.advance(tid)
    finally:
        results.close()  # stops the workers when the loop ends early
    if log.keys() >= set(index):
        params = [k for t in tasks for k, _ in t.params]
        with guard.writing():
            log.finalize([t.key for t in tasks], params, keep_stale)


def comparable(rows: Iterable[Mapping[str, str]]) -> list[tuple[tuple[str, str], ...]]:
    """Rows without the volatile columns, sorted: for comparing two runs."""
    return sorted(tuple(sorted((k, v) for k, v in r.items() if not is_volatile(k))) for r in rows)
