"""Many servers: block placement and request routing (SPEC-PLACEMENT).

A registry in the manner of :mod:`splitopt.solvers`: :func:`get_algorithm`,
:func:`list_algorithms`, :func:`available`. Entries are ``"module:Class"`` strings
imported only when asked for. An algorithm is a class with ``name``, ``exact``,
``description``, ``available()`` (classmethod, optional) and
``solve(cluster) -> PlacementResult``.
"""

from __future__ import annotations

import importlib
from typing import Any

from splitopt.errors import SolverError, SolverUnavailable
from splitopt.placement.evaluate import JobScore, PlacementScore, evaluate, hop_blocks, score_job
from splitopt.placement.model import BlockModel, Cluster, Job, Placement, Route, Server
from splitopt.placement.result import PlacementResult

#: name -> "module:Class"; order is the order they are listed.
_REGISTRY: dict[str, str] = {
    "cg-bprr": "splitopt.placement.cg:CGBPRR",
    "petals": "splitopt.placement.petals:Petals",
    "bprr-milp": "splitopt.placement.milp:BPRRMilp",
    "bprr-milp-highs": "splitopt.placement.milp:BPRRMilpHiGHS",
    "bprr-milp-cbc": "splitopt.placement.milp:BPRRMilpCBC",
    "bprr-milp-cpsat": "splitopt.placement.milp:BPRRMilpCPSAT",
    "bprr-milp-scip": "splitopt.placement.milp:BPRRMilpSCIP",
    "bprr-brute": "splitopt.placement.brute:BPRRBrute",
}

HEURISTICS: tuple[str, ...] = ("cg-bprr", "petals")
MILP_BACKENDS: tuple[str, ...] = (
    "bprr-milp-highs",
    "bprr-milp-cbc",
    "bprr-milp-cpsat",
    "bprr-milp-scip",
)


def register(name: str, target: str) -> None:
    """Add an algorithm under ``name``; ``target`` is ``"module:Class"``."""
    _REGISTRY[name] = target


def algorithm_class(name: str) -> type:
    """The class registered under ``name``; :class:`SolverError` lists the valid names."""
    target = _REGISTRY.get(name)
    if target is None:
        raise SolverError(f"unknown placement algorithm {name!r}; valid: {', '.join(_REGISTRY)}")
    module, cls = target.split(":")
    try:
        mod = importlib.import_module(module)
        return getattr(mod, cls)
    except (ImportError, AttributeError) as exc:
        raise SolverUnavailable(f"placement algorithm {name!r} cannot be loaded: {exc}") from None


def get_algorithm(name: str, **options: Any) -> Any:
    """An instance of algorithm ``name`` with ``options`` (e.g. ``time_limit``, ``seed``)."""
    return algorithm_class(name)(**options)


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
    names = list(_REGISTRY)
    return [n for n in names if available(n)] if only_available else names


__all__ = [
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
