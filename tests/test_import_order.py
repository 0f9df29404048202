"""pulp (with highspy) and OR-Tools (CP-SAT, SCIP) loaded into one process, in that order.

Both ship native libraries (CBC driver, HiGHS, abseil/protobuf in OR-Tools); a
clash would crash or corrupt the second import. The check runs in a fresh
interpreter so the import order is really pulp first.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CODE = textwrap.dedent(
    """
    import pulp
    import highspy

    prob = pulp.LpProblem("p", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 3, pulp.LpInteger)
    prob += x
    prob += x >= 1.5
    prob.solve(pulp.HiGHS(msg=False))
    assert abs(x.varValue - 2) < 1e-9, x.varValue

    from ortools.sat.python import cp_model
    from ortools.linear_solver import pywraplp

    m = cp_model.CpModel()
    a = m.new_int_var(0, 10, "a")
    b = m.new_bool_var("b")
    m.add(a + 3 * b >= 7)
    m.minimize(2 * a + 5 * b)
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    assert s.solve(m) == cp_model.OPTIMAL
    cpsat = s.objective_value

    lp = pywraplp.Solver.CreateSolver("SCIP")
    assert lp is not None, "OR-Tools without SCIP"
    a2 = lp.IntVar(0, 10, "a")
    b2 = lp.IntVar(0, 1, "b")
    lp.Add(a2 + 3 * b2 >= 7)
    lp.Minimize(2 * a2 + 5 * b2)
    assert lp.Solve() == pywraplp.Solver.OPTIMAL
    print(cpsat, lp.Objective().Value())
    """
)


def test_pulp_then_ortools_in_one_process() -> None:
    pytest.importorskip("pulp")
    pytest.importorskip("highspy")
    pytest.importorskip("ortools")
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    cpsat, scip = (float(v) for v in out.stdout.split())
    # min 2a + 5b s.t. a + 3b >= 7: a = 4, b = 1 gives 13 (a = 7, b = 0 gives 14)
    assert cpsat == scip == 13.0


def test_splitopt_backends_after_each_other() -> None:
    """The registry's four backends in one process, pulp's first."""
    code = textwrap.dedent(
        """
        import numpy as np
        from splitopt.families.random_chain import random_chain
        from splitopt.problem import Problem, Request
        from splitopt.solvers import get_solver
        rng = np.random.default_rng(11)
        p = Problem("o", tuple(Request(f"r{i}", random_chain(rng, 8)) for i in range(4)))
        objs = [get_solver(n).solve(p).objective
                for n in ("ilp-cbc", "ilp-highs", "ilp-cpsat", "ilp-scip", "dp-exact")]
        print(" ".join(repr(o) for o in objs))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    objs = [float(v) for v in out.stdout.split()]
    assert len(objs) == 5
    assert all(abs(o - objs[-1]) <= 1e-9 * max(abs(objs[-1]), 1e-300) for o in objs)
