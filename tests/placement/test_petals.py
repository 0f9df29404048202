"""PETALS's placement and routing, checked against its source's rules."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.placement.petals import (
    GIB,
    Petals,
    choose_best_start,
    petals_counts,
)
from splitopt.scenario.cluster import MODEL_PRESETS, paper_clustered, random_cluster


def test_choose_best_start() -> None:
    # the example at the bottom of the authors' block_selection_petals.m
    tp = np.array([770.0] * 40 + [0.0] * 30)
    assert choose_best_start(tp, 4) == 40
    # lexicographic on sorted windows: (1, 5) < (2, 2)
    assert choose_best_start(np.array([2.0, 2.0, 5.0, 1.0]), 2) == 2
    assert choose_best_start(np.zeros(5), 3) == 0  # ties -> first window


@pytest.mark.parametrize(
    ("memory", "want"),
    [(79.13e9, 49), (8.2e9, 3), (79.13 * GIB, 53), (8.2 * GIB, 4)],
)
def test_choose_num_blocks_bloom(memory: float, want: int) -> None:
    """PETALS's formula on BLOOM-176B NF4: the paper's 53 (A100) and 4 (MIG) blocks
    come out when the memory figures are read as GiB."""
    model = MODEL_PRESETS["bloom-176b-nf4"]
    c = Cluster(
        "x", model, (Server("s", memory, 1e-3, 1e-3),), ("c",), np.ones((1, 1)), np.ones((1, 1))
    )
    assert petals_counts(c).tolist() == [want]


def test_seeded_order_is_deterministic() -> None:
    c = random_cluster(0, num_servers=20, num_blocks=16, num_clients=2)
    a, b = Petals(seed=5).solve(c), Petals(seed=5).solve(c)
    assert a.placement == b.placement and a.routes == b.routes
    firsts = {tuple(Petals(seed=s).place(c).first.tolist()) for s in range(5)}
    assert len(firsts) > 1


def test_routes_avoid_servers_without_cache_room() -> None:
    # two full-model servers; s0 is nearer; each has cache for 4000 tokens x 2 blocks,
    # so one 3000-token job (6000 token-blocks) fits, a second does not
    model = BlockModel(2, 1.0, 1.0, hidden_size=14336)
    servers = (Server("s0", 1e5, 0.01, 0.0), Server("s1", 1e5, 0.01, 0.0))
    rtt = np.array([[0.01, 0.5]])
    jobs = (Job(0, 1500, 1500), Job(0, 1500, 1500))
    c = Cluster("x", model, servers, ("c",), rtt, rtt, jobs=jobs)
    alg = Petals(order="given", counts=[2, 2], attn_cache_tokens=4000)
    res = alg.solve(c)
    assert res.routes == ((0,), (1,))  # the second job pays 0.5 s rather than the 10 s penalty
    assert res.status == "feasible"


@pytest.mark.parametrize("seed", range(4))
def test_petals_answers_are_feasible(seed: int) -> None:
    c = random_cluster(seed, num_servers=30, num_blocks=20, num_clients=3)
    res = Petals(seed=seed).solve(c)
    assert res.status == "feasible", res.message


def test_paper_clustered() -> None:
    res = Petals(seed=0).solve(paper_clustered())
    assert res.status == "feasible"
    assert res.placement.count.tolist() == [49, 49] + [3] * 7
