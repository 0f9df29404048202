"""ILP baselines through PuLP: ``ilp-cbc`` (bundled CBC) and ``ilp-highs`` (HiGHS via highspy).

Both translate the shared :class:`~splitopt.solvers.ilp_model.SplitModel`
(see :mod:`splitopt.solvers.ilp_model` for the formulation and why the result
is exact). Settings: relative and absolute gap 0, the backends' default
feasibility tolerances on rows scaled by a power of two (right-hand side in
[0.5, 1)), one
thread, no solver output.

PuLP is imported lazily: without it (or without highspy) :meth:`available`
is False and solving raises :class:`~splitopt.solvers.base.SolverUnavailable`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from splitopt import interrupts
from splitopt.solvers.ilp_model import (
    ILPSolver,
    SplitModel,
)
from splitopt.solvers.milp_backends import (
    SPENT,
    BackendResult,
    highs_answer,
    pow2_scale,
    quiet_stdout,
    solve_cbc,
    time_left,
)
from splitopt.solvers.milp_backends import cbc_solver as _cbc
from splitopt.solvers.milp_backends import pulp_module as _pulp

_counter = itertools.count()


def to_pulp(model: SplitModel) -> tuple[Any, list[Any], float]:
    """The PuLP problem of ``model``, its variables (model order) and the objective scale.

    The objective is multiplied by a power of two K (largest w_l · K ≈ 1, exact
    in binary floats) so solver tolerances do not depend on the work unit.
    """
    pulp = _pulp()
    prob = pulp.LpProblem(f"split{next(_counter)}", pulp.LpMinimize)
    # PuLP >= 3.3 creates variables through the problem (the PuLP 4 way)
    make = getattr(prob, "add_variable", None) or pulp.LpVariable
    xs = []
    for j, name in enumerate(model.names):
        cat = pulp.LpInteger if model.is_binary(j) else pulp.LpContinuous
        xs.append(make(name, int(model.lower[j]), int(model.upper[j]), cat))
    w = model.objective
    k = pow2_scale(0, float(w.max())) if w.size else 1.0
    prob += pulp.lpSum(float(c) * k * xs[j] for j, c in enumerate(w.tolist()) if c != 0), "work"
    for r, row in enumerate(model.resources):
        coefs, rhs = row.normalised()
        prob += pulp.lpSum(c * xs[j] for j, c in coefs.items() if c != 0) <= rhs, f"{row.name}{r}"
    for i, link in enumerate((*model.links, *model.cuts)):
        prob += (
            pulp.lpSum(c * xs[j] for j, c in zip(link.var, link.coef, strict=True)) >= link.rhs,
            f"k{i}",
        )
    return prob, xs, k


def _nonzeros(model: SplitModel) -> int:
    """The number of nonzero coefficients in ``model``'s rows."""
    rows = sum(len(row.normalised()[0]) for row in model.resources)
    return rows + sum(len(c.var) for c in (*model.links, *model.cuts))


def _values(model: SplitModel, xs: list[Any]) -> np.ndarray:
    """Variable values in model order. PuLP leaves a variable that appears in no
    row and not in the objective out of the problem (value ``None``): any value
    is then as good, so it takes its lower bound."""
    return np.array(
        [float(model.lower[j]) if x.varValue is None else x.varValue for j, x in enumerate(xs)]
    )


class CBC(ILPSolver):
    """ILP (SPEC §1) solved by CBC through PuLP (``PULP_CBC_CMD``, CBC as a subprocess).

    CBC reports no bound through PuLP: a time-limited run gives ``feasible``
    without a bound (or ``time_limit`` without an incumbent). CBC's integer
    preprocessing is switched off (``-preprocess off``) unless cbc crashes
    without it (see :attr:`cbc_attempts`).
    """

    name = "ilp-cbc"
    description = "ILP, CBC through PuLP (real data, or ticked data with --grid/--tick)"
    backend = "pulp (bundled CBC)"
    #: CBC command-line options, tried in turn while the cbc process dies.
    #: Integer preprocessing (CglPreProcess) off first: on, it certified a wrong
    #: optimum on one of 19,904 verification requests; off, cbc crashed on
    #: another (an infeasible one), where the default then answers correctly.
    cbc_attempts: tuple[tuple[str, ...], ...] = (("preprocess off",), ())

    @classmethod
    def backend_available(cls) -> bool:
        return bool(_cbc(msg=False).available())

    def run_model(self, model: SplitModel, time_limit: float | None) -> BackendResult:
        def build() -> tuple[Any, Callable[[], np.ndarray]]:
            prob, xs, _ = to_pulp(model)
            return prob, lambda: _values(model, xs)

        return solve_cbc(build, self.cbc_attempts, time_limit)


class HiGHS(ILPSolver):
    """ILP (SPEC §1) solved by HiGHS through PuLP (``pulp.HiGHS``, in process via highspy).

    ``mip_rel_gap`` and ``mip_abs_gap`` are 0 (HiGHS's defaults are 1e-4 and 1e-6).
    """

    name = "ilp-highs"
    description = "ILP, HiGHS through PuLP (real data, or ticked data with --grid/--tick)"
    backend = "pulp and highspy"

    @classmethod
    def backend_available(cls) -> bool:
        import highspy  # noqa: F401

        return bool(_pulp().HiGHS(msg=False).available())

    def run_model(self, model: SplitModel, time_limit: float | None) -> BackendResult:
        pulp = _pulp()
        t0 = time.perf_counter()
        prob, xs, k = to_pulp(model)
        time_limit = time_left(time_limit, t0)
        if time_limit is not None and time_limit <= 0:
            return BackendResult("time_limit", message=SPENT)
        solver = _stoppable_highs(pulp)(
            msg=False,
            gapRel=0.0,
            gapAbs=0.0,
            threads=1,
            timeLimit=time_limit,
            log_to_console=False,
        )
        nonzeros = _nonzeros(model)

        def solve() -> BackendResult:
            return _solve_highs(model, prob, solver, xs, k, time_limit)

        # a large model runs in a child process that a signal kills: HiGHS checks its
        # interrupt callback too rarely (not within the root node's LP) to stop in time
        return interrupts.isolated(solve, nonzeros)


def _stoppable_highs(pulp: Any) -> Any:
    """``pulp.HiGHS`` whose solve a signal asks to stop (highspy's user-interrupt
    callback, ``cancelSolve``; :mod:`splitopt.interrupts`)."""

    class StoppableHiGHS(pulp.HiGHS):  # type: ignore[misc, name-defined]
        def callSolver(self, lp: Any) -> None:
            h = lp.solverModel
            h.HandleUserInterrupt = True
            with interrupts.stoppable(h.cancelSolve):
                h.run()

    return StoppableHiGHS


def _solve_highs(
    model: SplitModel, prob: Any, solver: Any, xs: Any, k: float, time_limit: float | None
) -> BackendResult:
    """Solve the PuLP problem ``prob`` with HiGHS; its answer (objective scaled by ``k``)."""
    try:
        with quiet_stdout():
            prob.solve(solver)
    except Exception as exc:
        return BackendResult("error", message=f"HiGHS failed: {exc}")
    return highs_answer(
        prob.solverModel, k, lambda: _values(model, xs), limited=time_limit is not None
    )
