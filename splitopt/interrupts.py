"""The one interrupt policy: how every long-running command stops on Ctrl-C or SIGTERM.

A command's work runs in a worker thread (:func:`run_guarded`) while the main thread
owns SIGINT and SIGTERM. Python runs signal handlers only in the main thread, so a
signal never raises inside native code (a numba kernel, HiGHS, CP-SAT, SCIP), where
raising is unsafe (numba: ``SystemError ... returned a result with an exception set``
or a crash) or is swallowed (CP-SAT reports ``feasible``). On a signal the main thread

1. records it (:func:`requested` is then its number) and asks every native call that
   registered a stop (:func:`stoppable`: CP-SAT ``stop_search``, HiGHS
   ``cancelSolve``, SCIP ``InterruptSolve``) to stop; a large model of a solver that
   checks rarely (HiGHS) runs in a child process (:func:`isolated`), which is killed;
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


def _after_fork_in_child() -> None:
    """A forked child starts with a free lock and no stops of the parent's native
    calls (another thread may have held the lock at the fork)."""
    global _lock, _stops
    _lock = threading.Lock()
    _stops = []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
    body's end raises :class:`Interrupted` (a loop of native calls, e.g. one ILP per
    request, stops after the call that was asked to stop)."""
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
    check()


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


#: Nonzeros from which a native solve runs in a child process (:func:`isolated`): our
#: choice. Smaller models solve in-process (forking costs 5-20 ms) and stop at the
#: solver's own interrupt checks or are abandoned after :data:`GRACE_S`.
ISOLATE_MIN_NONZEROS = 20_000

_CAN_FORK = sys.platform.startswith("linux") and hasattr(os, "fork")


def isolated(fn: Callable[[], T], size: int = ISOLATE_MIN_NONZEROS) -> T:
    """``fn()`` run in a forked child process when ``size`` (a model's nonzeros) is
    at least :data:`ISOLATE_MIN_NONZEROS` (Linux), in this process otherwise.

    For native solvers that check for a stop request rarely (HiGHS checks its
    interrupt callback between phases, not within the LP of a MIP's root node): a
    signal kills the child (:func:`request_stop`), so the command stops within a
    fraction of a second and the caller's next :func:`check` raises. The child dies
    with this process, even on SIGKILL (``PR_SET_PDEATHSIG``), and ignores SIGINT
    (a terminal's Ctrl-C reaches the whole group; this process decides). ``fn``'s
    result (or exception) must pickle; a child that dies otherwise is a
    :class:`RuntimeError` naming the signal.
    """
    if not _CAN_FORK or size < ISOLATE_MIN_NONZEROS:
        return fn()
    import pickle
    import warnings

    parent = os.getpid()
    r, w = os.pipe()
    with warnings.catch_warnings():  # Python >= 3.12 warns on fork with threads: the
        warnings.simplefilter("ignore", DeprecationWarning)  # child runs no Python threads
        pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            os.close(r)
            _child_setup(parent)
            try:
                payload = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # handed to the parent
                try:
                    payload = pickle.dumps((False, exc))
                except Exception:
                    payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(w, "wb") as out:
                out.write(payload)
        except BaseException:  # e.g. the pipe closed: exit 1
            code = 1
        finally:
            os._exit(code)
    os.close(w)

    def stop() -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)

    status, data = 0, b""
    try:
        with stoppable(stop), os.fdopen(r, "rb") as fh:
            data = fh.read()
    except BaseException:
        stop()
        raise
    finally:
        if _pending is not None:
            stop()
        with contextlib.suppress(ChildProcessError):
            status = os.waitpid(pid, 0)[1]
    check()  # a signal killed the child: its answer (if any) is discarded
    if not data:
        how = (
            f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
            else f"exit {os.waitstatus_to_exitcode(status)}"
        )
        raise RuntimeError(f"the solver's child process died ({how})")
    ok, value = pickle.loads(data)
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _child_setup(parent: int) -> None:
    """In a child of :func:`isolated`: die with the parent, leave SIGINT to it."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PDEATHSIG
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)
    with contextlib.suppress(Exception):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


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
    "ISOLATE_MIN_NONZEROS",
    "Interrupted",
    "abandoned",
    "at_abandon",
    "check",
    "exit_now",
    "isolated",
    "request_stop",
    "requested",
    "reset",
    "run_guarded",
    "stoppable",
]
