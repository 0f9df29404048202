"""Clients that run blocks too: the joint model of the split and many-server halves.

A request's blocks run on its own client device and on a chain of swarm servers
(:mod:`splitopt.joint.model`); one evaluator times every route
(:mod:`splitopt.joint.evaluate`); an exact DP (:mod:`splitopt.joint.route`) and a
brute force (:mod:`splitopt.joint.brute`) find the best route given a placement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from splitopt.joint.evaluate import RouteScore, route_problem, score_route
from splitopt.joint.model import (
    CLIENT,
    NO_DEVICE,
    OBJECTIVES,
    ClientDevice,
    JointCluster,
    JointRoute,
    Segment,
)

if TYPE_CHECKING:
    from splitopt.joint.route import RouteAnswer, best_route


def __getattr__(name: str) -> object:
    """``RouteAnswer`` and ``best_route`` load the DP (numba) only when asked for, so
    that importing the package (the CLI's ``place`` flags do) stays light."""
    if name in ("RouteAnswer", "best_route"):
        from splitopt.joint import route

        return getattr(route, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CLIENT",
    "NO_DEVICE",
    "OBJECTIVES",
    "ClientDevice",
    "JointCluster",
    "JointRoute",
    "RouteAnswer",
    "RouteScore",
    "Segment",
    "best_route",
    "route_problem",
    "score_route",
]
