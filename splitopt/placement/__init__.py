"""Many servers: block placement and request routing (SPEC-PLACEMENT).

A registry in the manner of :mod:`splitopt.solvers`: :func:`get_algorithm`,
:func:`list_algorithms`, :func:`available`. Entries are ``"module:Class"`` strings
imported only when asked for. An algorithm is a
:class:`~splitopt.placement.base.PlacementAlgorithm` subclass (``name``, ``exact``,
``description``, ``params_type``, ``available()``, ``solve(cluster) ->
PlacementResult``) built from typed parameters or flat options; an option it does
not take raises :class:`~splitopt.errors.SolverError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from splitopt.errors import SolverError, SolverUnavailable
from splitopt.placement.evaluate import JobScore, PlacementScore, evaluate, hop_blocks, score_job
from splitopt.placement.model import BlockModel, Cluster, Job, Placement, Route, Server
from splitopt.placement.result import PlacementResult
from splitopt.registry import Registry

if TYPE_CHECKING:
    from splitopt.placement.base import PlacementAlgorithm

_A = "splitopt.placement.algorithms:"
#: name -> "module:Class"; order is the order they are listed.
ALGORITHMS: Registry[type[PlacementAlgorithm]] = Registry(
    "placement algorithm",
    SolverError,
    {
        "cg-bprr": _A + "CGBPRRAlgorithm",
        "petals": _A + "PetalsAlgorithm",
        "bprr-milp": _A + "BPRRMilpAlgorithm",
        "bprr-milp-highs": _A + "BPRRMilpHiGHSAlgorithm",
        "bprr-milp-cbc": _A + "BPRRMilpCBCAlgorithm",
        "bprr-milp-cpsat": _A + "BPRRMilpCPSATAlgorithm",
        "bprr-milp-scip": _A + "BPRRMilpSCIPAlgorithm",
        "bprr-brute": _A + "BPRRBruteAlgorithm",
        # the joint model's exact MILP (clients that run blocks too); lazy, like every entry
        "joint-milp": "splitopt.joint.algorithm:JointMilpAlgorithm",
    },
    unavailable=SolverUnavailable,
)

HEURISTICS: tuple[str, ...] = ("cg-bprr", "petals")
MILP_BACKENDS: tuple[str, ...] = (
    "bprr-milp-highs",
    "bprr-milp-cbc",
    "bprr-milp-cpsat",
    "bprr-milp-scip",
)


def register(name: str, target: str | type[PlacementAlgorithm]) -> None:
    """Add an algorithm under ``name``; ``target`` is ``"module:Class"`` or the class
    (a name already taken is shadowed, with a :class:`~splitopt.registry.ShadowWarning`)."""
    ALGORITHMS.register(name, target)


def algorithm_class(name: str) -> type[PlacementAlgorithm]:
    """The class registered under ``name``; :class:`SolverError` lists the valid names."""
    return ALGORITHMS.get(name)


def get_algorithm(name: str, params: Any = None, **options: Any) -> PlacementAlgorithm:
    """An instance of algorithm ``name`` from a typed parameter value
    (:mod:`splitopt.placement.params`) or flat ``options`` (e.g. ``time_limit``,
    ``seed``); an option it does not take raises :class:`SolverError`."""
    return algorithm_class(name)(params, **options)


def available(name: str) -> bool:
    """Whether algorithm ``name`` can run here."""
    try:
        cls = algorithm_class(name)
    except SolverUnavailable:
        return False
    check = getattr(cls, "available", None)
    return bool(check()) if callable(check) else True


def list_algorithms(only_available: bool = False) -> list[str]:
    """Registered names (only those that can run here with ``only_available``)."""
    names = ALGORITHMS.names()
    return [n for n in names if available(n)] if only_available else names


__all__ = [
    "ALGORITHMS",
    "HEURISTICS",
    "MILP_BACKENDS",
    "BlockModel",
    "Cluster",
    "Job",
    "JobScore",
    "Placement",
    "PlacementResult",
    "PlacementScore",
    "Route",
    "Server",
    "algorithm_class",
    "available",
    "evaluate",
    "get_algorithm",
    "hop_blocks",
    "list_algorithms",
    "register",
    "score_job",
]
