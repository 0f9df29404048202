"""PipeEdge on joint instances: the mapping's transfer and compute stages are the joint
bottleneck's, up to PipeEdge's missing transfers at the pipeline's two ends."""

from __future__ import annotations

import math

from splitopt.joint import CLIENT
from splitopt.joint.brute import all_routes
from splitopt.joint.evaluate import route_bottleneck
from splitopt.joint.pipeedge_joint import pipeline_instance, route_as_stages, stages_as_route
from splitopt.joint.pipeline import bottleneck, pipeedge
from tests.joint.gen import tiny_joint


def _ends(jc, job, route) -> float:
    """The joint's link stages PipeEdge does not count: into the first stage and out of
    the last one, where that stage is a server."""
    rtt = jc.cluster.rtt_s[job.client]
    return max(
        [float(rtt[s.device]) for s in (route[0], route[-1]) if s.device != CLIENT],
        default=0.0,
    )


def test_pipeedge_scored_by_the_joint_evaluator() -> None:
    """PipeEdge's partition, as a placement and route, scores max(PipeEdge's own
    bottleneck, the end links) in the joint evaluator."""
    solved = 0
    for seed in range(150):
        jc, _, job = tiny_joint(seed, max_blocks=5, max_servers=3)
        model, types = pipeline_instance(jc, job)
        stages, own = pipeedge(model, types)
        if not stages:
            continue
        assert math.isclose(bottleneck(model, types, stages), own, rel_tol=1e-12)
        pl, route = stages_as_route(jc, stages)
        joint = route_bottleneck(jc, pl, job, route)
        assert math.isfinite(joint), seed
        assert math.isclose(joint, max(own, _ends(jc, job, route)), rel_tol=1e-12), seed
        solved += 1
    assert solved > 100


def test_joint_routes_scored_by_pipeedge() -> None:
    """A joint route using each device once: PipeEdge's bottleneck of it plus the end
    links is the joint bottleneck."""
    checked = 0
    for seed in range(200):
        jc, pl, job = tiny_joint(seed, max_blocks=5, max_servers=3)
        model, types = pipeline_instance(jc, job)
        for route in all_routes(jc, pl):
            devs = [s.device for s in route]
            if len(set(devs)) < len(devs):
                continue
            joint = route_bottleneck(jc, pl, job, route)
            own = bottleneck(model, types, route_as_stages(route))
            if not (math.isfinite(joint) and math.isfinite(own)):
                continue
            assert math.isclose(joint, max(own, _ends(jc, job, route)), rel_tol=1e-12), seed
            checked += 1
    assert checked > 400
