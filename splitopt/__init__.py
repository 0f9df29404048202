"""splitopt: optimal client/server layer splits for collaborative LLM inference.

The flow: scenario → cost model → :class:`Problem` → solver → :class:`Result`
→ evaluation.

>>> import splitopt
>>> problem = splitopt.read("instances/demo/scenario.json")   # doctest: +SKIP
>>> result = splitopt.solve(problem, "dp-exact")               # doctest: +SKIP
>>> splitopt.write(result, "solution.json")                    # doctest: +SKIP

Many servers: ``splitopt.place(cluster_or_path, "cg-bprr")`` and
``splitopt.simulate(cluster_or_path, policies, seeds)`` (see :mod:`splitopt.api`).
"""

from __future__ import annotations

from splitopt._version import __version__
from splitopt.discretise import Discretisation
from splitopt.evaluate import Evaluation, evaluate, score
from splitopt.problem import Chain, DataError, Problem, Request
from splitopt.solution import RequestResult, Result
from splitopt.solvers import available, get_solver, list_solvers
from splitopt.solvers.params import DPParams, ILPParams, SolverParams


def read(path: str) -> Problem:
    """Read a problem file (JSON or columnar Parquet), or compile a scenario file, into a
    :class:`Problem`."""
    from splitopt.formats.read import read_any

    return read_any(path)


#: Names served lazily from :mod:`splitopt.api` (it imports the many-server half).
_API = (
    "reasons",
    "Reason",
    "write",
    "read_solution",
    "read_cluster",
    "place",
    "simulate",
    "Simulation",
)


def __getattr__(name: str) -> object:
    if name in ("reasons", "Reason"):
        import importlib

        return getattr(importlib.import_module("splitopt.infeasible"), name)
    if name in _API:
        from splitopt import api

        return getattr(api, name)
    raise AttributeError(f"module 'splitopt' has no attribute {name!r}")


def solve(
    problem: Problem, solver: str = "dp", params: SolverParams | None = None, **options: object
) -> Result:
    """Solve ``problem`` with the solver registered as ``solver``, configured by a typed
    parameter value (``DPParams``, ``ILPParams``, ``SolverParams``) or flat ``options``."""
    return get_solver(solver, params, **options).solve(problem)


__all__ = [
    "Chain",
    "DPParams",
    "DataError",
    "Discretisation",
    "Evaluation",
    "ILPParams",
    "Problem",
    "Reason",
    "Request",
    "RequestResult",
    "Result",
    "Simulation",
    "SolverParams",
    "__version__",
    "available",
    "evaluate",
    "get_solver",
    "list_solvers",
    "place",
    "read",
    "read_cluster",
    "read_solution",
    "reasons",
    "score",
    "simulate",
    "solve",
    "write",
]
