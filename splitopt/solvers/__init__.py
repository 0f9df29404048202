"""Solver registry, in the manner of PuLP's: :func:`get_solver`, :func:`list_solvers`,
:func:`available`.

Backends that need optional libraries (the ILPs) are imported only when asked for.
"""

from __future__ import annotations

import importlib

from splitopt.solvers.base import ChainSolution, Solver, SolverError, SolverUnavailable
from splitopt.solvers.params import DPParams, ILPParams, SolverParams

#: name -> "module:Class"; order is the order ``splitopt solvers`` lists them.
_REGISTRY: dict[str, str] = {
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
}

BASELINES: tuple[str, ...] = (
    "greedy",
    "greedy-skip",
    "greedy-backward",
    "greedy-ratio",
    "best-cut",
    "server-only",
)
ILP_SOLVERS: tuple[str, ...] = ("ilp-cbc", "ilp-highs", "ilp-cpsat", "ilp-scip")


def register(name: str, target: str) -> None:
    """Add a solver under ``name``; ``target`` is ``"module:Class"``."""
    _REGISTRY[name] = target


def solver_class(name: str) -> type[Solver]:
    """The class registered under ``name``; :class:`SolverError` lists the valid names."""
    target = _REGISTRY.get(name)
    if target is None:
        raise SolverError(f"unknown solver {name!r}; valid solvers: {', '.join(_REGISTRY)}")
    module, cls = target.split(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:  # the module itself is ours; a failure here is a bug
        raise SolverUnavailable(f"solver {name!r} cannot be loaded: {exc}") from None
    return getattr(mod, cls)


def get_solver(name: str, params: SolverParams | None = None, **options: object) -> Solver:
    """An instance of the solver ``name``, from a typed parameter value
    (:mod:`splitopt.solvers.params`) or flat ``options`` (``grid``, ``tick``,
    ``time_limit``…); an option the solver does not take raises :class:`SolverError`."""
    return solver_class(name)(params, **options)


def list_solvers(only_available: bool = False) -> list[str]:
    """Registered solver names (only those that can run here with ``only_available``)."""
    names = list(_REGISTRY)
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
