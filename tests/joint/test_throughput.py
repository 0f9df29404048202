"""The joint throughput objective: the bottleneck DP against brute force over every route
of the form client prefix -> server chain -> client suffix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.joint import CLIENT, JointCluster, Segment, best_route
from splitopt.joint.brute import all_routes
from splitopt.joint.evaluate import route_bottleneck
from splitopt.joint.place import route_jobs
from splitopt.placement.model import Placement
from tests.joint.gen import tiny_joint

N = 400


def chain_routes(jc, pl):
    """Every route whose client segments are only its first and/or last."""
    for r in all_routes(jc, pl):
        if all(s.device != CLIENT for s in r[1:-1]):
            yield r


def _brute(jc, pl, job) -> float:
    return min((route_bottleneck(jc, pl, job, r) for r in chain_routes(jc, pl)), default=math.inf)


def test_throughput_dp_equals_brute_force() -> None:
    """400 tiny wide-range instances: the DP's least bottleneck is brute force's, and
    the evaluator scores the DP's route at that value."""
    optimal = infeasible = with_client = both_ends = 0
    for seed in range(N):
        jc, pl, job = tiny_joint(seed)
        ans = best_route(jc, pl, job, "throughput")
        ref = _brute(jc, pl, job)
        assert ans.status != "error", (seed, ans)
        if not math.isfinite(ref):
            assert ans.status == "infeasible", seed
            infeasible += 1
            continue
        assert ans.status == "optimal", seed
        assert ans.bottleneck_s is not None
        assert math.isclose(ans.bottleneck_s, ref, rel_tol=1e-12), (seed, ans.bottleneck_s, ref)
        assert ans.bottleneck_s == route_bottleneck(jc, pl, job, ans.route)
        assert math.isclose(ans.throughput, 1.0 / ref, rel_tol=1e-12)
        devs = [s.device for s in ans.route]
        servers = [d for d in devs if d != CLIENT]
        assert CLIENT not in devs[1:-1] and len(set(servers)) == len(servers)  # servers once
        optimal += 1
        with_client += CLIENT in devs
        both_ends += len(devs) > 2 and devs[0] == devs[-1] == CLIENT
    assert optimal > N // 3 and infeasible > N // 40 and with_client > N // 20
    assert both_ends > 0


@pytest.mark.nojit
def test_throughput_dp_small_nojit() -> None:
    """The kernel with the JIT off (make test runs this marker with NUMBA_DISABLE_JIT=1)."""
    for seed in range(40):
        jc, pl, job = tiny_joint(seed, max_blocks=4)
        ans = best_route(jc, pl, job, "throughput")
        ref = _brute(jc, pl, job)
        if math.isfinite(ref):
            assert ans.status == "optimal" and ans.bottleneck_s is not None
            assert math.isclose(ans.bottleneck_s, ref, rel_tol=1e-12), seed
        else:
            assert ans.status == "infeasible"


def test_bottleneck_stages_by_hand() -> None:
    """The stages, one per device: the client's blocks together, each server's blocks
    and each server's link (its round trip per visit)."""
    jc, _, job = tiny_joint(5)
    cl = jc.cluster
    L = jc.num_blocks
    pl = Placement(np.array([1] * cl.num_servers), np.array([L] * cl.num_servers))
    route = (Segment(0, 1, L),)
    want = max(L * cl.servers[0].decode_s, float(cl.rtt_s[job.client, 0]))
    assert route_bottleneck(jc, pl, job, route) == want
    if L >= 3 and jc.max_client_blocks(job) >= 2:
        route = (Segment(CLIENT, 1, 1), Segment(0, 2, L - 1), Segment(CLIENT, L, L))
        dev = jc.devices[job.client]
        want = max(2 * dev.decode_s, (L - 2) * cl.servers[0].decode_s, float(cl.rtt_s[0, 0]))
        assert route_bottleneck(jc, pl, job, route) == want
        # a server visited twice: its blocks and its round trips add up
        route = (Segment(0, 1, 1), Segment(CLIENT, 2, 2), Segment(0, 3, L))
        want = max(dev.decode_s, (L - 1) * cl.servers[0].decode_s, 2 * float(cl.rtt_s[0, 0]))
        assert route_bottleneck(jc, pl, job, route) == want
    assert route_bottleneck(jc, pl, job, (Segment(0, 2, L),)) == math.inf


def test_route_jobs_throughput_rejects_an_sla() -> None:
    from splitopt.errors import UsageError

    jc, pl, _ = tiny_joint(2)
    r = route_jobs(jc, pl, "throughput")
    assert r.objective == "throughput" and len(r.answers) == 1
    with pytest.raises(UsageError):
        route_jobs(jc, pl, "throughput", sla_s=1.0)
    bare = JointCluster.without_devices(jc.cluster)
    assert route_jobs(bare, pl, "throughput").answers[0].status in ("optimal", "infeasible")
