"""ILP baselines through OR-Tools: ``ilp-cpsat`` (CP-SAT) and ``ilp-scip`` (SCIP via pywraplp).

Both translate the shared :class:`~splitopt.solvers.ilp_model.SplitModel`
(formulation and exactness argument in :mod:`splitopt.solvers.ilp_model`).

CP-SAT works on integers only. Ticked data are integers already (server work
too when it is whole). Otherwise:

* resource rows (latency, memory) are scaled by a power of two and rounded
  *down* (:func:`~splitopt.solvers.ilp_model.integer_row`): a relaxation, made
  exact by the evaluator re-check and no-good cuts of the shared solver;
* server work is scaled by a power of two K (2**51 ≤ Σ w_l · K < 2**52) and rounded
  to nearest (:func:`~splitopt.solvers.ilp_model.integer_objective`): the
  placement returned has server work within n / K ≤ n · Σw · 4.4e-16 of the
  optimum (n = layers with w_l > 0), far below the 1e-9 relative tolerance of
  ``splitopt verify`` unless the optimum is below ~1e-6 · n · Σw.

CP-SAT runs with ``presolve_inclusion_work_limit = 0``: OR-Tools 9.15's
inclusion presolve certified a wrong optimum on some of our real-data models
(as in google/or-tools issue #5293); with it off, and with coefficients kept
below 2**31, 199,040 verification comparisons agree with the DPs.

SCIP gets relative and absolute gap 0 and its default feasibility tolerance on
rows scaled by a power of two. Both run on one thread with all logging off.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from splitopt import interrupts
from splitopt.solvers.ilp_model import (
    ILPSolver,
    SplitModel,
    integer_objective,
    integer_row,
)
from splitopt.solvers.milp_backends import (
    SPENT,
    BackendResult,
    pow2_scale,
    quiet_stdout,
    solve_scip,
    time_left,
)


def _cp_model() -> Any:
    from ortools.sat.python import cp_model

    return cp_model


def _pywraplp() -> Any:
    from ortools.linear_solver import pywraplp

    return pywraplp


def to_cpsat(model: SplitModel) -> tuple[Any, list[Any], float, float]:
    """The CP-SAT model of ``model``: (CpModel, variables, objective scale K, objective error)."""
    cp_model = _cp_model()
    m = cp_model.CpModel()
    xs = [m.new_bool_var(name) for name in model.names]
    for j, x in enumerate(xs):
        if model.lower[j] == 1:
            m.add(x == 1)
        if model.upper[j] == 0:
            m.add(x == 0)
    for row in model.resources:
        coefs, rhs, _ = integer_row(row)
        terms = []
        for j, c, neg in zip(row.var.tolist(), coefs, row.negated.tolist(), strict=True):
            if c:
                terms.append(c * (1 - xs[j]) if neg else c * xs[j])
        if terms:
            m.add(sum(terms) <= rhs)
    for link in (*model.links, *model.cuts):
        m.add(sum(c * xs[j] for j, c in zip(link.var, link.coef, strict=True)) >= link.rhs)
    wcoef, k, err = integer_objective(model.objective)
    m.minimize(sum(c * xs[j] for j, c in enumerate(wcoef) if c))
    return m, xs, k, err


class CPSAT(ILPSolver):
    """ILP (SPEC §1) solved by OR-Tools CP-SAT (integer scaling documented in the module)."""

    name = "ilp-cpsat"
    description = "ILP, OR-Tools CP-SAT (real data scaled to integers, or ticked data)"
    backend = "ortools"

    @classmethod
    def backend_available(cls) -> bool:
        cp_model = _cp_model()
        return cp_model.CpSolver is not None

    def run_model(self, model: SplitModel, time_limit: float | None) -> BackendResult:
        cp_model = _cp_model()
        t0 = time.perf_counter()
        m, xs, k, err = to_cpsat(model)
        time_limit = time_left(time_limit, t0)
        if time_limit is not None and time_limit <= 0:
            return BackendResult("time_limit", message=SPENT)
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.num_workers = 1
        p.log_search_progress = False
        p.log_to_stdout = False
        p.relative_gap_limit = 0.0
        p.absolute_gap_limit = 0.0
        p.presolve_inclusion_work_limit = 0  # or-tools issue #5293 (wrong optimum in 9.15)
        if time_limit is not None:
            p.max_time_in_seconds = float(time_limit)
        p.catch_sigint_signal = False  # the interrupt policy owns Ctrl-C (splitopt.interrupts)
        with quiet_stdout(), interrupts.stoppable(solver.stop_search):
            st = solver.solve(m)
        bound = None
        if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            b = solver.best_objective_bound
            bound = b / k - err / 2 if math.isfinite(b) else None
            values = np.array([solver.value(x) for x in xs], dtype=float)
            if st == cp_model.OPTIMAL:
                return BackendResult("optimal", values, bound)
            return BackendResult("feasible", values, bound, "time limit reached")
        if st == cp_model.INFEASIBLE:
            return BackendResult("infeasible")
        if st == cp_model.UNKNOWN:
            return BackendResult("time_limit", None, None, "time limit reached, no incumbent")
        return BackendResult("error", message=f"CP-SAT status {solver.status_name(st)}")


def to_scip(model: SplitModel) -> tuple[Any, list[Any], float]:
    """The pywraplp SCIP model of ``model``: (solver, variables, objective scale K)."""
    pywraplp = _pywraplp()
    s = pywraplp.Solver.CreateSolver("SCIP")
    if s is None:
        raise RuntimeError("OR-Tools was built without SCIP")
    xs = []
    for j, name in enumerate(model.names):
        lo, up = int(model.lower[j]), int(model.upper[j])
        xs.append(s.IntVar(lo, up, name) if model.is_binary(j) else s.NumVar(lo, up, name))
    inf = s.infinity()
    for row in model.resources:
        coefs, rhs = row.normalised()
        ct = s.Constraint(-inf, rhs)
        for j, c in coefs.items():
            ct.SetCoefficient(xs[j], c)
    for link in (*model.links, *model.cuts):
        ct = s.Constraint(float(link.rhs), inf)
        for j, c in zip(link.var, link.coef, strict=True):
            ct.SetCoefficient(xs[j], float(c))
    w = model.objective
    k = pow2_scale(0, float(w.max())) if w.size else 1.0
    obj = s.Objective()
    for j, c in enumerate(w.tolist()):
        if c:
            obj.SetCoefficient(xs[j], c * k)
    obj.SetMinimization()
    return s, xs, k


class SCIP(ILPSolver):
    """ILP (SPEC §1) solved by SCIP through OR-Tools' pywraplp (gap 0)."""

    name = "ilp-scip"
    description = "ILP, SCIP through OR-Tools (real data, or ticked data with --grid/--tick)"
    backend = "ortools (with SCIP)"

    @classmethod
    def backend_available(cls) -> bool:
        return _pywraplp().Solver.CreateSolver("SCIP") is not None

    def run_model(self, model: SplitModel, time_limit: float | None) -> BackendResult:
        t0 = time.perf_counter()
        try:
            s, xs, k = to_scip(model)
        except RuntimeError as exc:
            return BackendResult("error", message=str(exc))
        time_limit = time_left(time_limit, t0)
        if time_limit is not None and time_limit <= 0:
            return BackendResult("time_limit", message=SPENT)
        return solve_scip(s, xs, k, time_limit)
