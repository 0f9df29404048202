"""The one output policy: how every splitopt command writes a file it was told to write.

Every writer (``solve --json``, ``evaluate --json``, ``compile -o``, ``generate -o``,
``verify``'s disagreement files, the experiment CSV) goes through :func:`write_text`
or :func:`replace_file`; the experiment CSV is first checked by
:func:`prepare_results_csv`. What a target gets (our design; README "Edge behaviour"):

* **absent path** — parent folders are created; the file is written atomically
  (temporary file in the same folder, fsync, rename).
* **regular file** — replaced atomically as above; its permission bits are kept. A
  file the user may not write (read-only) is refused, as a shell ``>`` would.
  Other hard links to it keep the old content (the rename gives the name a new inode).
* **symlink** (also a chain, or a dangling one) — written *through*: the file the link
  points to is replaced atomically in its own folder; the link itself is never
  replaced. A dangling link whose folder does not exist is refused.
* **FIFO or character device** (``/dev/null``, ``/dev/full``, ``/dev/tty``, a pipe)
  and ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``, ``/proc/...`` — written
  directly, no temporary file, no rename: the node is never replaced by a regular
  file. A FIFO write waits for a reader, as a shell redirection does. A write
  error (``/dev/full``: no space) is exit 2 naming the target.
* **directory, block device, socket** — refused (exit 2).
* **an input of the same command** (same file by :func:`os.path.samefile`: the same
  path, a symlink to it, a hard link) — refused with exit 2 before any work.
* **unwritable** (no permission, read-only file system, a parent that is a file) —
  exit 2 naming the target as given, never the temporary file; no temporary file is
  left behind. ``KeyboardInterrupt`` or ``SIGTERM`` during a write (SIGTERM exits
  with code 143) removes the temporary file too.
* **one writer per output** — a command holds an exclusive lock
  (:class:`OutputLock`: ``fcntl.flock`` on the sidecar ``TARGET.lock``, which holds
  the owner's pid) on each output file for as long as it runs (a streamed solve: its
  ``OUT.parts`` too; an experiment: its CSV). A second run writing the same file
  stops at once, before any work: exit 2, "TARGET: in use by pid N". The lock dies
  with its process (a killed run leaves no stale lock); the sidecar is removed on
  release.
* **interrupted** — a signal (:mod:`splitopt.interrupts`) is checked just before the
  rename: a run stopped by Ctrl-C or SIGTERM never puts a file in place as finished.
* **experiment CSV** (``experiment --out``) must be a regular file (or a symlink to
  one) that is absent, empty, or a results CSV whose ``experiment`` column names the
  same experiment; anything else (another experiment's CSV, a JSON file, a device)
  is refused, so it is never destroyed or mixed.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from splitopt import interrupts
from splitopt.errors import OutputError

PathLike = str | os.PathLike

#: Paths written directly even when they lead to a regular file: they name an
#: already open descriptor (a rename there would detach it from the process).
_DESCRIPTOR_PREFIXES = ("/dev/fd/", "/proc/", "/dev/stdout", "/dev/stderr", "/dev/stdin")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _is_descriptor_path(target: PathLike) -> bool:
    p = os.path.abspath(os.fspath(target))
    return any(p == pre.rstrip("/") or p.startswith(pre) for pre in _DESCRIPTOR_PREFIXES)


def classify(target: PathLike) -> tuple[str, Path]:
    """``(kind, where)``: ``kind`` is ``"file"`` (replace ``where`` atomically) or
    ``"stream"`` (open ``where`` and write directly); refused targets raise
    :class:`~splitopt.errors.OutputError`."""
    t = Path(target)
    try:
        st = os.stat(t)  # follows symlinks
    except FileNotFoundError:
        if os.path.islink(t):
            real = Path(os.path.realpath(t))
            if not real.parent.is_dir():
                raise OutputError(
                    target, f"is a symlink to {real}, whose folder does not exist"
                ) from None
            return "file", real
        return "file", t
    except OSError as exc:
        raise OutputError(target, f"cannot write: {_reason(exc)}") from None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if _is_descriptor_path(t):
            return "stream", t
        if not os.access(t, os.W_OK):  # as ``>`` would: a read-only file is not replaced
            raise OutputError(target, "cannot write: the file is read-only")
        return "file", Path(os.path.realpath(t))
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream", t
    if stat.S_ISDIR(mode):
        raise OutputError(target, "is a directory; give a file name")
    kind = "a block device" if stat.S_ISBLK(mode) else "a socket"
    raise OutputError(target, f"is {kind}; splitopt refuses to write there")


def check_not_input(target: PathLike | None, inputs: Iterable[PathLike]) -> None:
    """Refuse an output that is one of the inputs (same file, by any name)."""
    if target is None or os.fspath(target) == "-":
        return
    for inp in inputs:
        try:
            same = os.path.samefile(target, inp)
        except OSError:
            same = False
        if same:
            raise OutputError(
                target,
                f"is the input {os.fspath(inp)}; refusing to overwrite an input "
                "(choose another output file)",
            )


@contextlib.contextmanager
def _terminate_raises() -> Iterator[None]:
    """While writing, SIGTERM raises ``SystemExit(143)`` so clean-up code runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        old = signal.getsignal(signal.SIGTERM)
    except ValueError:  # pragma: no cover - no signal support here
        yield
        return
    if old not in (signal.SIG_DFL, None):
        yield  # someone else handles SIGTERM (e.g. the experiment harness)
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def replace_file(target: PathLike, write: Callable[[Any], object], binary: bool = False) -> None:
    """Write a file through ``write(fh)`` under the output policy (module docstring).

    ``fh`` is a text file (UTF-8, no newline translation), or a binary one with
    ``binary``. ``target`` is the name as the user gave it: every error names it.
    """
    mode, enc = ("wb", None) if binary else ("w", "utf-8")
    nl = None if binary else ""
    kind, where = classify(target)
    with _terminate_raises():
        if kind == "stream":
            try:
                with open(where, mode, encoding=enc, newline=nl) as fh:
                    write(fh)
            except OSError as exc:
                raise OutputError(target, f"cannot write: {_reason(exc)}") from None
            return
        try:
            old_mode = stat.S_IMODE(os.stat(where).st_mode)
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            old_mode = 0o666 & ~umask
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{where.name}.", suffix=".tmp", dir=where.parent)
        except OSError as exc:
            raise OutputError(target, f"cannot write: {_reason(exc)}") from None
        _temporaries.add(tmp)
        try:
            with os.fdopen(fd, mode, encoding=enc, newline=nl) as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, old_mode)  # mkstemp creates 0600
            interrupts.check()  # a stopped run puts nothing in place as finished
            os.replace(tmp, where)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise OutputError(target, f"cannot write: {_reason(exc)}") from None
            raise
        finally:
            _temporaries.discard(tmp)


#: Temporary files being written now (removed if the process exits abandoning a write).
_temporaries: set[str] = set()


#: Lock sidecars this process holds (removed too when it exits abandoning work).
_active_locks: set[Path] = set()


def _remove_temporaries() -> None:
    for tmp in [*_temporaries, *map(str, _active_locks)]:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


interrupts.at_abandon(_remove_temporaries)


def write_text(target: PathLike, text: str, inputs: Iterable[PathLike] = ()) -> None:
    """Write ``text`` (with a final newline) to ``target`` under the output policy."""
    check_not_input(target, inputs)
    body = text if text.endswith("\n") else text + "\n"
    replace_file(target, lambda fh: fh.write(body))


def prepare_results_csv(target: PathLike, experiment: str) -> Path:
    """Check ``experiment --out`` before anything runs; the path to read and rewrite.

    Returns the real file (a symlink is followed; the link stays). Refuses a
    non-regular target and any existing non-empty file that is not a results CSV of
    ``experiment``.
    """
    kind, where = classify(target)
    if kind == "stream":
        raise OutputError(
            target,
            "an experiment CSV must be a regular file (it is read back, appended to "
            "and rewritten); give a file name",
        )
    try:
        size = where.stat().st_size
    except FileNotFoundError:
        return where
    except OSError as exc:
        raise OutputError(target, f"cannot read: {_reason(exc)}") from None
    if size == 0:
        return where
    try:
        text = where.read_text(encoding="utf-8")
        if not text.endswith("\n"):  # a partial last line (a killed run) is ignored
            text = text[: text.rfind("\n") + 1]
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        if "experiment" not in header or "key" not in header:
            raise OutputError(
                target,
                "exists and is not a splitopt results CSV (no 'experiment' and 'key' "
                "columns); refusing to overwrite it",
            )
        col = header.index("experiment")
        others = set()
        for row in reader:  # a damaged row (wrong field count) is the harness's to drop
            if len(row) == len(header) and row[col] != experiment:
                others.add(row[col])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OutputError(
            target, f"exists and cannot be read as a results CSV ({exc}); refusing to overwrite it"
        ) from None
    if others:
        names = ", ".join(repr(o) for o in sorted(others))
        raise OutputError(
            target,
            f"holds rows of experiment {names}, not {experiment!r}; give another --out",
        )
    return where


class OutputLock:
    """Exclusive lock of an output file (module docstring).

    ``OutputLock(target).acquire()`` locks ``TARGET.lock`` (the real file's name for a
    symlink) without waiting; a file in use raises ``error(message)`` (default
    :class:`~splitopt.errors.OutputError`) naming the target and the holder's pid.
    Stream targets (``-``, devices, FIFOs) need no lock. A second lock of the same
    file in the same process is refused too.
    """

    def __init__(self, target: PathLike, error: Callable[[str], Exception] | None = None) -> None:
        self.target = os.fspath(target)
        self.error = error
        self.path: Path | None = None
        self.fd: int | None = None

    def _lock_path(self) -> Path | None:
        if self.target == "-":
            return None
        kind, where = classify(self.target)
        if kind == "stream":
            return None
        return where.with_name(where.name + ".lock")

    def acquire(self) -> OutputLock:
        path = self._lock_path()
        if path is None:
            return self
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(self.target, f"cannot write: {_reason(exc)}") from None
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError(
                    self.target, f"cannot write (its lock {path.name}): {_reason(exc)}"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                why = (
                    f"in use by pid {pid} (another run writes it and holds {path}); "
                    "wait for it to finish or choose another output"
                )
                if self.error is not None:
                    raise self.error(f"{self.target} is {why}") from None
                raise OutputError(self.target, why) from None
            # the holder may have removed the file between our open and our lock
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.path, self.fd = path, fd
        _active_locks.add(path)
        return self

    def release(self) -> None:
        if self.fd is None or self.path is None:
            return
        _active_locks.discard(self.path)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.fd)  # closing releases the flock
        self.fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def locked(targets: Iterable[PathLike | None]) -> Iterator[None]:
    """Hold :class:`OutputLock` on every given output (``None`` skipped) for the body."""
    with contextlib.ExitStack() as stack:
        for t in targets:
            if t is not None:
                stack.enter_context(OutputLock(t))
        yield


__all__ = [
    "OutputLock",
    "check_not_input",
    "classify",
    "locked",
    "prepare_results_csv",
    "replace_file",
    "write_text",
]
