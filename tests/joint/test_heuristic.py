"""Client-aware CG-BP: with clients that run nothing it is CG-BP (our Python greedy
against the kernel), its demand per block, and the exact placement bounds it below."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from splitopt.formats.cluster_file import read_cluster, read_joint_cluster
from splitopt.joint import ClientDevice, JointCluster
from splitopt.joint.heuristic import (
    all_placements,
    best_of,
    block_demand,
    brute_placement,
    cgbp_placement,
    client_aware_cgbp,
    client_shares,
    total_time,
)
from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.scenario.cluster import random_cluster

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "cluster",
    [
        read_cluster(ROOT / "instances" / "clusters" / "paper-clustered.json"),
        read_cluster(ROOT / "instances" / "clusters" / "tiny.json"),
        random_cluster(4, num_servers=40, num_blocks=20, num_clients=6),
        random_cluster(5, num_servers=12, num_blocks=30, num_clients=3),
    ],
    ids=lambda c: c.name,
)
def test_without_devices_it_is_cg_bp(cluster: Cluster) -> None:
    jc = JointCluster.without_devices(cluster)
    a, b = cgbp_placement(jc), client_aware_cgbp(jc)
    assert a.first.tolist() == b.first.tolist() and a.count.tolist() == b.count.tolist()


def _tiny(seed: int, n: int = 3) -> JointCluster:
    rng = np.random.default_rng(seed)
    L, S = 4, 3
    servers = tuple(
        Server(f"s{j}", 1e9 * int(rng.integers(1, L + 1)), float(rng.uniform(1e-3, 1e-1)), 1e-2)
        for j in range(S)
    )
    rtt = rng.uniform(1e-3, 3e-1, (n, S))
    cl = Cluster(
        "t",
        BlockModel(L, 1e9, 0.0),
        servers,
        tuple(f"c{c}" for c in range(n)),
        rtt_s=rtt,
        prefill_rtt_s=rtt,
        jobs=tuple(Job(c, 10, 10) for c in range(n)),
    )
    devs = tuple(
        ClientDevice(1e9 * int(rng.integers(0, L + 1)), float(rng.uniform(1e-4, 1e-1)), 1e-3)
        for _ in range(n)
    )
    return JointCluster(cl, devs)


def test_block_demand_counts_the_jobs_needing_each_block() -> None:
    jc = _tiny(1)
    k = client_shares(jc)
    d = block_demand(jc)
    for b in range(1, jc.num_blocks + 1):
        assert d[b - 1] == sum(int(x < b) for x in k)
    assert (np.diff(d) >= 0).all()


@pytest.mark.parametrize("seed", range(6))
def test_exact_placement_bounds_the_heuristics(seed: int) -> None:
    jc = _tiny(seed)
    pl, opt = brute_placement(jc)
    assert pl is not None and math.isfinite(opt)
    assert math.isclose(total_time(jc, pl), opt, rel_tol=1e-12)
    for fn in (cgbp_placement, client_aware_cgbp, best_of):
        assert total_time(jc, fn(jc)) >= opt * (1 - 1e-9)
    assert total_time(jc, best_of(jc)) == min(
        total_time(jc, cgbp_placement(jc)), total_time(jc, client_aware_cgbp(jc))
    )
    # the heuristics' placements lie in the set the brute force searches
    keys = {(tuple(p.first), tuple(p.count)) for p in all_placements(jc)}
    for fn in (cgbp_placement, client_aware_cgbp):
        p = fn(jc)
        assert (tuple(p.first), tuple(p.count)) in keys


def test_capable_clients_shift_the_swarm_to_the_suffix() -> None:
    jc = read_joint_cluster(ROOT / "instances" / "joint" / "tiny-joint.json")
    d = block_demand(jc)
    assert d[0] < d[-1]  # fewer jobs need block 1 than block L from the swarm


def test_local_search_sits_between_the_optimum_and_its_start() -> None:
    from splitopt.joint.heuristic import local_search

    strictly = 0
    for seed in (0, 1, 9):  # seed 9: CG-BP's placement is not optimal
        jc = _tiny(seed)
        _, opt = brute_placement(jc)
        start = cgbp_placement(jc)
        ls = local_search(jc, start)
        t_ls, t_start = total_time(jc, ls), total_time(jc, start)
        assert t_ls <= t_start * (1 + 1e-12)
        if math.isfinite(opt):
            assert t_ls >= opt * (1 - 1e-9)  # the same set of placements as brute force
        strictly += t_ls < t_start * (1 - 1e-9)
    assert strictly > 0  # it does move


def test_local_search_on_a_sample_never_returns_worse_than_its_start() -> None:
    from splitopt.joint.heuristic import local_search

    jc = _tiny(3, n=3)
    start = cgbp_placement(jc)
    ls = local_search(jc, start, sample=1, full=False, seed=1)
    assert total_time(jc, ls) <= total_time(jc, start) * (1 + 1e-12)
