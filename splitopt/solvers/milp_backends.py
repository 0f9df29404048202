"""Helpers shared by the MILP backends of both halves: the split ILPs
(:mod:`splitopt.solvers.ilp_pulp`, :mod:`splitopt.solvers.ilp_ortools`) and the BPRR
MILP of the many-server half (:mod:`splitopt.placement.milp`).

* :class:`BackendResult` -- what a backend hands back for one model;
* :func:`pow2_scale` -- power-of-two scales (exact in binary floats) for integer rows
  and objectives;
* :func:`quiet_stdout` -- silence native solver banners on file descriptor 1;
* :func:`time_left`, :data:`SPENT` -- the wall-clock budget left after building a model;
* :func:`solve_scip` -- solve a built OR-Tools SCIP model at gap 0, wall-clock limited;
* :func:`solve_cbc`, :func:`pulp_module`, :func:`cbc_solver` -- CBC through PuLP at gap
  0, retried with other options where the cbc process dies.

No solver library is imported here at module level (OR-Tools and PuLP only inside the
functions that use them), so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from splitopt import interrupts

# ---------------------------------------------------------------- backend result


@dataclass(frozen=True)
class BackendResult:
    """What a backend hands back for one model.

    Attributes:
        status: ``optimal`` (proved, gap 0), ``feasible`` (incumbent at a limit),
            ``infeasible`` (proved), ``time_limit`` (limit reached, no incumbent)
            or ``error``.
        values: variable values (layer variables first) or ``None``.
        bound: a lower bound on the model's optimum in work units, where known.
        message: backend-specific note.
    """

    status: str
    values: np.ndarray | None = None
    bound: float | None = None
    message: str | None = None


# ---------------------------------------------------------------- time left


def time_left(time_limit: float | None, since: float) -> float | None:
    """What is left of ``time_limit`` seconds started at ``since`` (``perf_counter``):
    backends call it after building their model, so building counts too."""
    return None if time_limit is None else time_limit - (time.perf_counter() - since)


#: What a backend answers when building its model used up the time.
SPENT = "time limit reached while building the model"


# ---------------------------------------------------------------- integer scaling


def pow2_scale(target_bits: int, largest: float) -> float:
    """A power of two K with largest · K ≈ 2**target_bits (exact in binary floats)."""
    if largest <= 0:
        return 1.0
    return math.ldexp(1.0, target_bits - math.frexp(largest)[1])


# ----------------------------------------------------------------- stdout guard

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(None)
except OSError:  # pragma: no cover - exotic platforms
    _libc = None


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null for the duration (native banners and logs).

    Python's and C's stdout buffers are flushed before and after, so nothing
    printed before leaks into the void and nothing the library printed leaks out.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        fd = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    try:
        saved = os.dup(fd)
    except OSError:  # no fd 1 at all: nothing to protect
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        if _libc is not None:
            with contextlib.suppress(Exception):
                _libc.fflush(None)
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


# ---------------------------------------------------------------- SCIP (OR-Tools)


def solve_scip(
    s: Any, xs: list[Any], k: float, time_limit: float | None, settings: str = ""
) -> BackendResult:
    """Solve the built SCIP model ``s`` (variables ``xs``, objective scaled by ``k``) at
    gap 0, quietly, within ``time_limit`` seconds of wall clock (``settings``: more
    SCIP parameters), and read its status, values and bound (unscaled)."""
    from ortools.linear_solver import pywraplp

    s.SuppressOutput()
    s.SetSolverSpecificParametersAsString(
        # clocktype 2: the time limit is wall-clock time (SCIP's default is CPU time,
        # which let a loaded machine run 3x past --time-limit)
        # misc/catchctrlc: SCIP must not swallow Ctrl-C (splitopt.interrupts stops it)
        "limits/gap = 0\nlimits/absgap = 0\ndisplay/verblevel = 0\ntiming/clocktype = 2\n"
        "misc/catchctrlc = FALSE\n"
        + settings
    )
    if time_limit is not None:
        s.SetTimeLimit(max(1, math.ceil(time_limit * 1000)))
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, 0.0)
    with quiet_stdout(), interrupts.stoppable(s.InterruptSolve):
        st = s.Solve(params)
    S = pywraplp.Solver
    if st in (S.OPTIMAL, S.FEASIBLE):
        values = np.array([x.solution_value() for x in xs], dtype=float)
        b = s.Objective().BestBound()
        bound = b / k if math.isfinite(b) else None
        if st == S.OPTIMAL:
            return BackendResult("optimal", values, bound)
        return BackendResult("feasible", values, bound, "time limit reached")
    if st == S.INFEASIBLE:
        return BackendResult("infeasible")
    if st == S.NOT_SOLVED:
        return BackendResult("time_limit", None, None, "time limit reached, no incumbent")
    return BackendResult("error", message=f"SCIP status {st}")


# ---------------------------------------------------------------- HiGHS (highspy)


def highs_rows_model(
    lower: Sequence[float] | np.ndarray,
    upper: Sequence[float] | np.ndarray,
    integer: Sequence[bool] | np.ndarray,
    cost: np.ndarray,
    rows: Sequence[tuple[Sequence[int], Sequence[float], float, float]],
    check: Callable[[int], object] | None = None,
) -> tuple[Any, int]:
    """A quiet single-thread ``highspy.Highs`` at gap 0 holding: minimise ``cost @ x``
    over ``x_i`` in ``[lower_i, upper_i]`` (integer where ``integer_i``) subject to
    rows ``(vars, coefs, lo, hi)``; and its number of nonzeros. ``check(t)`` is called
    before row ``t`` is added (a deadline or a signal)."""
    import highspy

    h = highspy.Highs()
    for option, setting in (
        ("output_flag", False),
        ("log_to_console", False),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.0),
        ("threads", 1),
    ):
        h.setOptionValue(option, setting)
    n = len(lower)
    h.addVars(n, np.array(lower, dtype=float), np.array(upper, dtype=float))
    idx = np.arange(n, dtype=np.int32)
    h.changeColsIntegrality(n, idx, np.asarray(integer).astype(np.uint8))
    h.changeColsCost(n, idx, np.asarray(cost, dtype=float))
    inf = highspy.kHighsInf
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    for t, (vs, cs, lo_, hi_) in enumerate(rows):
        if check is not None:
            check(t)
        starts.append(len(index))
        index.extend(vs)
        value.extend(float(c) for c in cs)
        lo.append(-inf if lo_ == -math.inf else lo_)
        hi.append(inf if hi_ == math.inf else hi_)
    h.addRows(
        len(lo),
        np.array(lo, dtype=float),
        np.array(hi, dtype=float),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=float),
    )
    return h, len(index)


def solve_highs(h: Any, k: float) -> BackendResult:
    """Run the loaded HiGHS model ``h`` (objective scaled by ``k``: the bound is
    divided by it) so that a signal asks it to stop (:mod:`splitopt.interrupts`); its
    answer."""

    try:
        h.HandleUserInterrupt = True  # cancelSolve() on Ctrl-C (splitopt.interrupts)
        with quiet_stdout(), interrupts.stoppable(h.cancelSolve):
            h.run()
    except Exception as exc:  # pragma: no cover - a crash inside HiGHS
        return BackendResult("error", message=f"HiGHS failed: {exc}")
    return highs_answer(h, k, lambda: np.array(h.getSolution().col_value, dtype=float))


def highs_answer(
    h: Any, k: float, values: Callable[[], np.ndarray], limited: bool = True
) -> BackendResult:
    """The answer of the solved HiGHS model ``h`` (objective scaled by ``k``: the bound
    is divided by it); ``values()`` reads its solution. A stop (time or iteration limit,
    interrupt) is ``feasible``/``time_limit`` when the solve had a limit (``limited``),
    otherwise an error."""
    import highspy

    st = h.getModelStatus()
    S = highspy.HighsModelStatus
    info = h.getInfo()
    b = info.mip_dual_bound
    bound = float(b) / k if b is not None and math.isfinite(b) else None
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if st == S.kOptimal:
        return BackendResult("optimal", values() if has_sol else None, bound)
    if st in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return BackendResult("infeasible")
    if st in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt) and limited:
        if has_sol:
            return BackendResult("feasible", values(), bound, "time limit reached")
        return BackendResult("time_limit", None, bound, "time limit reached, no incumbent")
    return BackendResult("error", message=f"HiGHS model status {h.modelStatusToString(st)}")


# ---------------------------------------------------------------- CBC (PuLP)


def pulp_module() -> Any:
    """PuLP, imported now (without its deprecation warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pulp

    return pulp


def cbc_solver(**kwargs: Any) -> Any:
    """``PULP_CBC_CMD`` (the CBC bundled with PuLP), without its PuLP-4 deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp_module().PULP_CBC_CMD(**kwargs)


def pulp_rows_problem(
    name: str,
    lower: Sequence[float] | np.ndarray,
    upper: Sequence[float] | np.ndarray,
    integer: Sequence[bool] | np.ndarray,
    objective: Sequence[tuple[int, float]],
    rows: Sequence[tuple[Sequence[int], Sequence[float], float, float]],
    check: Callable[[int], object] | None = None,
) -> tuple[Any, Callable[[], np.ndarray]]:
    """A PuLP problem (minimise) over variables ``x_i`` in ``[lower_i, upper_i]``
    (integer where ``integer_i``) with objective terms ``(i, c)`` and rows ``(vars,
    coefs, lo, hi)`` (``lo == hi``: an equality; infinite sides left out); and the
    function that reads the variable values after a solve (``lower_i`` where PuLP has
    none). ``check(t)`` is called before row ``t`` is built (a deadline or a signal:
    PuLP builds in Python)."""
    pulp = pulp_module()
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    make = getattr(prob, "add_variable", None) or pulp.LpVariable
    xs = [
        make(
            f"x{i}",
            float(lower[i]),
            float(upper[i]),
            pulp.LpInteger if integer[i] else pulp.LpContinuous,
        )
        for i in range(len(lower))
    ]
    terms = [(xs[i], float(c)) for i, c in objective if c]
    prob += pulp.lpSum(c * x for x, c in terms) if terms else 0 * xs[0], "obj"
    for t, (vs, cs, lo, hi) in enumerate(rows):
        if check is not None:
            check(t)
        expr = pulp.lpSum(float(c) * xs[v] for v, c in zip(vs, cs, strict=True) if c)
        if lo == hi:
            prob += expr == hi, f"r{t}"
            continue
        if hi != math.inf:
            prob += expr <= hi, f"u{t}"
        if lo != -math.inf:
            prob += expr >= lo, f"l{t}"

    def values() -> np.ndarray:
        return np.array(
            [float(lower[i]) if x.varValue is None else x.varValue for i, x in enumerate(xs)]
        )

    return prob, values


def solve_cbc(
    build: Callable[[], tuple[Any, Callable[[], np.ndarray]]],
    attempts: Sequence[Sequence[str]],
    time_limit: float | None,
) -> BackendResult:
    """Solve with CBC at gap 0, quietly: ``build()`` makes a fresh PuLP problem and the
    function that reads its variable values; each option set of ``attempts`` is tried
    in turn until the cbc process does not die, all within ``time_limit`` seconds."""
    pulp = pulp_module()
    failure = ""
    t0 = time.perf_counter()
    for options in attempts:
        prob, values = build()
        left = time_left(time_limit, t0)
        if left is not None and left <= 0:
            return BackendResult("time_limit", message=SPENT)
        # no ``threads``: CBC's default (0) is serial, while "-threads 1" turns on its
        # threaded search, which stalled about 1 solve in 100 for 10 s on tiny models
        # (our measurement: 3 of 260 solves with it, 0 of 260 without)
        solver = cbc_solver(
            msg=False,
            gapRel=0,
            gapAbs=0,
            timeLimit=left,
            options=list(options),
        )
        try:
            with quiet_stdout():
                prob.solve(solver)
            break
        except pulp.PulpSolverError as exc:  # the cbc process died
            failure = f"CBC failed ({' '.join(options) or 'defaults'}): {exc}"
    else:
        return BackendResult("error", message=failure)
    status, sol = prob.status, prob.sol_status
    if status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return BackendResult("infeasible")
    if sol == pulp.LpSolutionOptimal and status == pulp.LpStatusOptimal:
        return BackendResult("optimal", values())
    if sol == pulp.LpSolutionIntegerFeasible:
        return BackendResult("feasible", values(), message="time limit reached")
    if status == pulp.LpStatusNotSolved and time_limit is not None:
        return BackendResult("time_limit", message="time limit reached, no incumbent")
    return BackendResult("error", message=f"CBC status {pulp.LpStatus.get(status, status)!r}")


__all__ = [
    "SPENT",
    "BackendResult",
    "cbc_solver",
    "highs_answer",
    "highs_rows_model",
    "pow2_scale",
    "pulp_module",
    "pulp_rows_problem",
    "quiet_stdout",
    "solve_cbc",
    "solve_highs",
    "solve_scip",
    "time_left",
]
