"""Solver registry, in the manner of PuLP's: :func:`get_solver`, :func:`list_solvers`,
:func:`available`.

Backends that need optional libraries (the ILPs) are imported only when asked for.
"""

from __future__ import annotations

from splitopt.registry import Registry
from splitopt.solvers.base import ChainSolution, Solver, SolverError, SolverUnavailable
from splitopt.solvers.params import DPParams, ILPParams, SolverParams

#: name -> "module:Class"; order is the order ``splitopt solvers`` lists them.
SOLVERS: Registry[type[Solver]] = Registry(
    "solver",
    SolverError,
    {
        "dp": "splitopt.solvers.dp:DP",
        "dp-grid": "splitopt.solvers.dp:GridDP",
        "dp-exact": "splitopt.solvers.dp:LabelDP",
        "ilp-cbc": "splitopt.solvers.ilp_pulp:CBC",
        "ilp-highs": "splitopt.solvers.ilp_pulp:HiGHS",
        "ilp-cpsat": "splitopt.solvers.ilp_ortools:CPSAT",
        "ilp-scip": "splitopt.solvers.ilp_ortools:SCIP",
        "greedy": "splitopt.solvers.baselines:Greedy",
        "greedy-skip": "splitopt.solvers.baselines:GreedySkip",
        "greedy-backward": "splitopt.solvers.baselines:GreedyBackward",
        "greedy-ratio": "splitopt.solvers.baselines:GreedyRatio",
        "best-cut": "splitopt.solvers.baselines:BestCut",
        "server-only": "splitopt.solvers.baselines:ServerOnly",
        "brute-force": "splitopt.solvers.baselines:BruteForce",
    },
    unavailable=SolverUnavailable,
)

BASELINES: tuple[str, ...] = (
    "greedy",
    "greedy-skip",
    "greedy-backward",
    "greedy-ratio",
    "best-cut",
    "server-only",
)
ILP_SOLVERS: tuple[str, ...] = ("ilp-cbc", "ilp-highs", "ilp-cpsat", "ilp-scip")


def register(name: str, target: str | type[Solver]) -> None:
    """Add a solver under ``name``; ``target`` is ``"module:Class"`` or the class
    (a name already taken is shadowed, with a :class:`~splitopt.registry.ShadowWarning`)."""
    SOLVERS.register(name, target)


def solver_class(name: str) -> type[Solver]:
    """The class registered under ``name``; :class:`SolverError` lists the valid names."""
    return SOLVERS.get(name)


def get_solver(name: str, params: SolverParams | None = None, **options: object) -> Solver:
    """An instance of the solver ``name``, from a typed parameter value
    (:mod:`splitopt.solvers.params`) or flat ``options`` (``grid``, ``tick``,
    ``time_limit``…); an option the solver does not take raises :class:`SolverError`."""
    return solver_class(name)(params, **options)


def list_solvers(only_available: bool = False) -> list[str]:
    """Registered solver names (only those that can run here with ``only_available``)."""
    names = SOLVERS.names()
    return [n for n in names if available(n)] if only_available else names


def available(name: str) -> bool:
    """Whether solver ``name`` can run here."""
    try:
        return solver_class(name).available()
    except SolverUnavailable:
        return False


__all__ = [
    "BASELINES",
    "ILP_SOLVERS",
    "SOLVERS",
    "ChainSolution",
    "DPParams",
    "ILPParams",
    "Solver",
    "SolverError",
    "SolverParams",
    "SolverUnavailable",
    "available",
    "get_solver",
    "list_solvers",
    "register",
    "solver_class",
]
