"""CG-BPRR: block counts, greedy placement, routes, the theorem's bound."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.errors import SolverError
from splitopt.placement import get_algorithm
from splitopt.placement.cg import CGBPRR, conservative_counts, greedy_placement
from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.scenario.cluster import paper_clustered, random_cluster


def small_cluster(
    rtt: list[list[float]], mem: list[float], tau: list[float], L: int = 4
) -> Cluster:
    model = BlockModel(L, 10.0, 1.0)
    servers = tuple(
        Server(f"s{j}", m, t, 0.0) for j, (m, t) in enumerate(zip(mem, tau, strict=True))
    )
    r = np.array(rtt)
    return Cluster(
        "t",
        model,
        servers,
        tuple(f"c{c}" for c in range(r.shape[0])),
        r,
        np.zeros_like(r),
        jobs=(Job(0, 1, 1),),
    )


def test_conservative_counts_by_hand() -> None:
    c = small_cluster([[0.1, 0.1, 0.1]], [45.0, 100.0, 1000.0], [1.0, 1.0, 1.0])
    # s_m + s_c R = 10 + 2 * 1 * 2 = 14 per block (R = 2, s_c = 2 tokens x 1 B)
    assert conservative_counts(c, 2, 2.0).tolist() == [3, 4, 4]  # 45/14 = 3.2; 100/14 = 7.1 -> L


def test_greedy_follows_amortised_time() -> None:
    # s0 fast and near, hosts 2; s1, s2 host 2 each but slower
    c = small_cluster([[0.0, 1.0, 1.0]], [20.0, 20.0, 20.0], [0.1, 0.5, 0.6])
    counts = np.array([2, 2, 2])
    p, order, bound, Cb = greedy_placement(c, counts, 1, 0.0)
    assert order.tolist() == [0, 1, 2]  # t~ = 0.2/2, 2/2, 2.2/2
    # s0 takes blocks 1-2 (first window with the largest T_b), s1 then must cover 3-4
    assert p.first.tolist()[:2] == [1, 3]
    assert (Cb >= 1).all()
    # K = 2: bound = t~0 m0 + t~1 m1 - tau_1 (4 - 4) = 0.2 + 2.0
    assert bound == pytest.approx(2.2)


@pytest.mark.parametrize("seed", range(6))
def test_cg_answers_are_feasible_and_within_the_bound(seed: int) -> None:
    c = random_cluster(seed, num_servers=25, num_blocks=12, num_clients=3, jobs_per_client=2)
    res = CGBPRR(route_objective="per-token").solve(c)
    assert res.status == "feasible", res.message
    assert res.score.feasible
    assert res.bound is not None and res.bound_kind == "upper-per-token"
    for job, js in zip(c.jobs, res.score.jobs, strict=True):
        per_token = js.decode_s / (job.l_out - 1)
        assert per_token <= res.bound * (1 + 1e-9)


def test_total_routes_are_no_worse_than_per_token_routes() -> None:
    c = random_cluster(3, num_servers=30, num_blocks=20, num_clients=4)
    a = CGBPRR().solve(c)
    b = CGBPRR(route_objective="per-token").solve(c)
    assert a.objective <= b.objective * (1 + 1e-12)


def test_paper_clustered_uses_the_a100s() -> None:
    c = paper_clustered()
    res = get_algorithm("cg-bprr").solve(c)
    assert res.status == "feasible"
    assert (res.placement.count[2:] <= 4).all()  # the MIG cap
    assert all(set(r) <= {0, 1} for r in res.routes)


def test_memory_fallback_when_R_is_too_small() -> None:
    c = random_cluster(1, num_servers=12, num_blocks=10, num_clients=2, jobs_per_client=3)
    res = CGBPRR(R=1).solve(c)
    assert res.status in ("feasible", "infeasible")
    if res.status == "feasible":
        assert res.score.feasible


def test_bad_options() -> None:
    with pytest.raises(SolverError):
        CGBPRR(R=0)
    with pytest.raises(SolverError):
        CGBPRR(route_objective="fast")
