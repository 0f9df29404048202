"""splitopt: optimal client/server layer splits for collaborative LLM inference.

The flow: scenario → cost model → :class:`Problem` → solver → :class:`Result`
→ evaluation.

>>> import splitopt
>>> problem = splitopt.read("instances/tiny/two-layer.json")  # doctest: +SKIP
>>> result = splitopt.solve(problem, "dp")                      # doctest: +SKIP
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
    "Request",
    "RequestResult",
    "Result",
    "SolverParams",
    "__version__",
    "available",
    "evaluate",
    "get_solver",
    "list_solvers",
    "read",
    "score",
    "solve",
]
