"""numba's ``njit``, loaded on the first compiled call, with the plain Python form kept.

Kernel modules write ``from splitopt.solvers.jit import njit, objmode, prange``
instead of importing them from numba, and are otherwise unchanged: pure
functions on arrays, ``@njit(cache=True, ...)``. Importing such a module does
not import numba (about 1 s of a one-file ``splitopt solve``). Each decorated
function becomes a :class:`Kernel`:

* called normally, it runs numba's compiled function (numba is imported and the
  function compiled, or loaded from the on-disk cache, on the first call; the
  cache lives where numba puts it for the kernel's source file, as before);
* inside :func:`interpreted`, it runs the same code as plain Python (what
  ``NUMBA_DISABLE_JIT=1`` runs, tested by the ``nojit`` suite), with no numba at
  all: cheaper than importing numba and loading compiled kernels when the
  problem is tiny (:func:`splitopt.solvers.dp.labels_result` decides when).

Both forms are built from the kernel's one code object, each with its own copy
of the module's globals in which the other kernels are the same form
(compiled kernels call compiled kernels; plain ones call plain ones);
``objmode`` and ``prange`` are numba's in the compiled form and a no-op context
and ``range`` in the plain one. A kernel module's globals are copied on the
first call, so kernels see the constants of the module as imported.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

#: Deadline (``time.perf_counter()`` seconds) of the interpreted run in force, or None.
_INTERPRETED: ContextVar[float | None] = ContextVar("splitopt_interpreted", default=None)
#: Whether solvers may choose the interpreted form (:func:`allow_interpreted`).
_ALLOWED: ContextVar[bool] = ContextVar("splitopt_interpreted_allowed", default=False)


class InterpretedOverrun(Exception):
    """An :func:`interpreted` run passed its deadline (the caller runs compiled instead)."""


@contextlib.contextmanager
def interpreted(budget_s: float) -> Iterator[None]:
    """Run kernels as plain Python for at most ``budget_s`` seconds (wall clock).

    A kernel call that starts or ends after that raises :class:`InterpretedOverrun`;
    a kernel with a ``deadline`` argument (``time.perf_counter()`` seconds) gets the
    sooner of its own and this one, so a long DP stops near it instead of running on.
    """
    token = _INTERPRETED.set(time.perf_counter() + budget_s)
    try:
        yield
    finally:
        _INTERPRETED.reset(token)


def interpreting() -> bool:
    """Whether an :func:`interpreted` run is in force."""
    return _INTERPRETED.get() is not None


@contextlib.contextmanager
def allow_interpreted() -> Iterator[None]:
    """Let solvers run small problems interpreted (:func:`interpreted_allowed`).

    For a process that solves once and exits (``splitopt solve``), where loading
    numba costs more than running a tiny problem as plain Python. Off by default,
    so that library code and the benchmarks always time the compiled kernels.
    """
    token = _ALLOWED.set(True)
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def interpreted_allowed() -> bool:
    """Whether :func:`allow_interpreted` is in force (and no interpreted run yet)."""
    return _ALLOWED.get() and _INTERPRETED.get() is None


def objmode(**_types: str) -> contextlib.AbstractContextManager[None]:
    """Plain form of numba's ``objmode`` (replaced by numba's in compiled kernels)."""
    return contextlib.nullcontext()


def prange(*args: int) -> range:
    """Plain form of numba's ``prange`` (replaced by numba's in compiled kernels)."""
    return range(*args)


#: Per kernel module (keyed by its globals dict): its plain and compiled namespaces.
_NAMESPACES: dict[int, dict[str, dict[str, Any]]] = {}
#: Held while namespaces are built (threads that call kernels for the first time at once).
_LOCK = threading.RLock()


def _namespace(module_globals: dict[str, Any], compiled: bool) -> dict[str, Any]:
    """The module's globals for one form, with every kernel replaced by that form."""
    key = "compiled" if compiled else "plain"
    spaces = _NAMESPACES.setdefault(id(module_globals), {})
    ns = spaces.get(key)
    if ns is not None:
        return ns
    ns = dict(module_globals)
    spaces[key] = ns  # before filling: kernels of this module refer to it
    if compiled:
        import numba

        swaps: dict[object, object] = {objmode: numba.objmode, prange: numba.prange}
    else:
        swaps = {}
    mine: list[tuple[Kernel, Any]] = []
    for name, value in module_globals.items():
        if isinstance(value, Kernel):
            if value.__globals__ is module_globals:
                ns[name] = value._build(compiled, ns)
                mine.append((value, ns[name]))
            else:
                ns[name] = value._form(compiled)
        else:
            try:
                if value in swaps:
                    ns[name] = swaps[value]
            except TypeError:  # unhashable value: nothing to swap
                pass
    # published only now, complete: another thread never sees a half-built namespace
    for kernel, form in mine:
        if compiled:
            kernel._compiled = form
        else:
            kernel._plain = form
    return ns


class Kernel:
    """A kernel written for numba: compiled on the first normal call, plain Python
    inside :func:`interpreted` (see the module docstring). ``py_func`` is the
    function as written; the other attributes of numba's dispatcher (``signatures``
    and so on) are those of the compiled form."""

    def __init__(self, py_func: Callable[..., Any], options: dict[str, Any]) -> None:
        functools.update_wrapper(self, py_func)
        self.py_func = py_func
        self.__globals__ = py_func.__globals__
        self._options = options
        self._compiled: Any = None
        self._plain: Callable[..., Any] | None = None
        code = py_func.__code__
        names = code.co_varnames[: code.co_argcount]
        self._deadline_arg = names.index("deadline") if "deadline" in names else None

    def _copy(self, ns: dict[str, Any]) -> Callable[..., Any]:
        f = self.py_func
        g = types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__, f.__closure__)
        g.__kwdefaults__ = f.__kwdefaults__
        g.__qualname__ = f.__qualname__
        g.__doc__ = f.__doc__
        g.__module__ = f.__module__
        return g

    def _build(self, compiled: bool, ns: dict[str, Any]) -> Any:
        """A new compiled dispatcher or plain function over the namespace ``ns``."""
        g = self._copy(ns)
        if not compiled:
            return g
        import numba

        return numba.njit(**self._options)(g)

    def _form(self, compiled: bool) -> Any:
        """The compiled dispatcher or the plain function (built with the module's
        namespace on first use)."""
        form = self._compiled if compiled else self._plain
        if form is not None:
            return form
        with _LOCK:
            ns = _namespace(self.__globals__, compiled)
            form = self._compiled if compiled else self._plain
            if form is None:  # kernel modules that import each other's kernels in a circle
                form = self._build(compiled, ns)
                if compiled:
                    self._compiled = form
                else:
                    self._plain = form
            return form

    @property
    def compiled(self) -> Any:
        """numba's dispatcher of this kernel (imports numba)."""
        return self._form(True)

    @property
    def loaded(self) -> bool:
        """Whether the compiled form has been loaded in this process (numba imported,
        at least one signature compiled or read from the cache)."""
        return self._compiled is not None and bool(getattr(self._compiled, "signatures", True))

    @property
    def plain(self) -> Callable[..., Any]:
        """The kernel as plain Python (calling plain kernels)."""
        return self._form(False)

    def __call__(self, *args: Any) -> Any:
        deadline = _INTERPRETED.get()
        if deadline is None:
            return self.compiled(*args)
        if time.perf_counter() > deadline:
            raise InterpretedOverrun(self.__name__)
        i = self._deadline_arg
        if i is not None and i < len(args) and args[i] > deadline:
            args = (*args[:i], deadline, *args[i + 1 :])
        out = self.plain(*args)
        if time.perf_counter() > deadline:
            raise InterpretedOverrun(self.__name__)
        return out

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.compiled, name)

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str, str]]:
        return _lookup, (self.__module__, self.__qualname__)

    def __repr__(self) -> str:
        return f"<kernel {self.__module__}.{self.__qualname__}>"


def _lookup(module: str, qualname: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), qualname)


def njit(*args: Any, **options: Any) -> Any:
    """``@njit(cache=True, ...)`` or ``@njit``: a :class:`Kernel` with numba's options."""
    if args and callable(args[0]) and not options:
        return Kernel(args[0], {})

    def wrap(f: Callable[..., Any]) -> Kernel:
        return Kernel(f, options)

    return wrap
