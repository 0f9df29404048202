"""Clients that run blocks too: the joint model of the split and many-server halves.

A request's blocks run on its own client device and on a chain of swarm servers
(:mod:`splitopt.joint.model`); one evaluator times every route
(:mod:`splitopt.joint.evaluate`); an exact DP (:mod:`splitopt.joint.route`) and a
brute force (:mod:`splitopt.joint.brute`) find the best route given a placement.
"""

from splitopt.joint.evaluate import RouteScore, route_problem, score_route
from splitopt.joint.model import (
    CLIENT,
    NO_DEVICE,
    ClientDevice,
    JointCluster,
    JointRoute,
    Segment,
)
from splitopt.joint.route import OBJECTIVES, RouteAnswer, best_route

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
