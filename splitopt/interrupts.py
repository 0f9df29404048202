"""The one interrupt policy: how every long-running command stops on Ctrl-C or SIGTERM.

A command's work runs in a worker thread (:func:`run_guarded`) while the main thread
owns SIGINT and SIGTERM. Python runs signal handlers only in the main thread, so a
signal never raises inside native code (a numba kernel, HiGHS, CP-SAT, SCIP), where
raising is unsafe (numba: ``SystemError ... returned a result with an exception set``
or a crash) or is swallowed (CP-SAT reports ``feasible``). On a signal the main thread

1. records it (:func:`requested` is then its number) and asks every native call that
   registered a stop (:func:`stoppable`: CP-SAT ``stop_search``, HiGHS
   ``cancelSolve``, SCIP ``InterruptSolve``) to stop;
2. waits up to :data:`GRACE_S` seconds for the worker to reach a check point
   (:func:`check`: between the ranges of a streamed solve, before any output file is
   renamed into place) or to finish;
3. raises :class:`Interrupted` (a :class:`KeyboardInterrupt`): the CLI prints
   ``splitopt: interrupted`` and exits 130 (SIGINT) or 143 (SIGTERM).

Nothing is written as finished after a signal: :func:`check` runs before every
output file is renamed into place, so a solve that a stop request cut short is never
saved. Finished parts of a streamed solve and finished rows of an experiment stay
(rerunning resumes). A native call that does not stop within the grace period (a
numba kernel, which cannot be asked, or CBC) is abandoned: the process removes its
temporary files, stops its child processes and exits at once (:func:`exit_now`).

The experiment harness keeps its own handler in the main thread (it must stop its
worker processes); it uses :func:`request_stop` so that a native solve in-process is
asked to stop, and it discards a row whose solve a signal cut short.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds the main thread waits, after a signal, for the work to stop by itself.
GRACE_S = 3.0

_lock = threading.Lock()
_pending: int | None = None
_stops: list[Callable[[], object]] = []
_abandoned = False
_on_abandon: list[Callable[[], object]] = []


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = int(signum)
        self.exit_code = 128 + self.signum


def requested() -> int | None:
    """The signal that asked this run to stop, or ``None``."""
    return _pending


def check() -> None:
    """Raise :class:`Interrupted` if a signal asked this run to stop (a check point)."""
    if _pending is not None:
        raise Interrupted(_pending)


def request_stop(signum: int) -> None:
    """Record ``signum`` (the first one wins) and ask every registered native call to stop."""
    global _pending
    with _lock:
        if _pending is None:
            _pending = int(signum)
        stops = list(_stops)
    for stop in stops:
        with contextlib.suppress(Exception):
            stop()


def reset() -> None:
    """Forget a recorded signal (after a run ended; tests call commands in-process)."""
    global _pending
    with _lock:
        _pending = None


@contextlib.contextmanager
def stoppable(stop: Callable[[], object]) -> Iterator[None]:
    """While the body runs a native call, a signal calls ``stop()`` (from the main
    thread) to ask that call to return early. Its answer is then discarded: the
    caller's next :func:`check` raises."""
    with _lock:
        _stops.append(stop)
        pending = _pending
    if pending is not None:
        with contextlib.suppress(Exception):
            stop()
    try:
        yield
    finally:
        with _lock:
            _stops.remove(stop)


def at_abandon(fn: Callable[[], object]) -> None:
    """Call ``fn()`` before the process exits with abandoned work (e.g. remove temporaries)."""
    _on_abandon.append(fn)


def abandoned() -> bool:
    """Whether a run was interrupted and its worker thread did not stop in time."""
    return _abandoned


def run_guarded(
    fn: Callable[[], T], grace_s: float | None = None, handlers: bool = True
) -> T:
    """Run ``fn()`` under the interrupt policy (module docstring); its result or error.

    ``handlers=False``: the caller's own signal handlers call :func:`request_stop`
    (the experiment harness); a signal during ``fn`` then discards its result too.
    Outside the main thread (or without signal support) ``fn`` simply runs.
    """
    global _abandoned
    if threading.current_thread() is not threading.main_thread():
        return fn()
    grace = GRACE_S if grace_s is None else grace_s
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the main thread
            box["error"] = exc

    def handler(signum: int, _frame: object) -> None:
        request_stop(signum)

    old: dict[int, Any] = {}
    if handlers:
        try:
            old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        except ValueError:  # pragma: no cover - no signals here
            return fn()
        reset()
    t = threading.Thread(target=work, name="splitopt-work", daemon=True)
    try:
        t.start()
        while t.is_alive() and _pending is None:
            t.join(0.1)  # a signal is seen within 0.1 s
        if _pending is not None:
            t.join(grace)
            if t.is_alive():
                _abandoned = True
            raise Interrupted(_pending)
        if "error" in box:
            raise box["error"]
        return box["value"]
    except BaseException:
        if t.is_alive():  # left running (e.g. a caller's handler raised): never waited for
            _abandoned = True
        raise
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if handlers and not _abandoned:
            reset()


def _children() -> list[int]:
    """Pids of this process's direct children (Linux ``/proc``; empty elsewhere)."""
    me = os.getpid()
    out: list[int] = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            out.append(int(name))
    return out


def exit_now(code: int) -> None:
    """Exit without waiting for abandoned native work: clean-ups registered with
    :func:`at_abandon` run, child processes (e.g. a CBC solver) get SIGTERM,
    standard streams are flushed, then ``os._exit(code)``."""
    for fn in _on_abandon:
        with contextlib.suppress(Exception):
            fn()
    for pid in _children():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


__all__ = [
    "GRACE_S",
    "Interrupted",
    "abandoned",
    "at_abandon",
    "check",
    "exit_now",
    "request_stop",
    "requested",
    "reset",
    "run_guarded",
    "stoppable",
]
