"""CG-BPRR and PETALS placement + routing on 150 servers x 70 blocks (issue 10, item 7).

Target: <= 5 ms (the authors' MATLAB reports 20-35 ms). Medians are reported, not
asserted. JIT compilation is excluded by warm-up rounds. The cluster is
``random_cluster(1)`` (150 servers, 20 % A100, 10 clients x 2 jobs), the same as
``instances/clusters/random-150x70-s1.json``. Run:
``.venv/bin/python -m pytest benchmarks/test_bench_placement.py --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.placement.cg import CGBPRR, shortest_routes
from splitopt.placement.petals import Petals, petals_routes
from splitopt.placement.routing import dag_route, route_networkx
from splitopt.scenario.cluster import random_cluster

CLUSTER = random_cluster(1, num_servers=150, num_blocks=70, num_clients=10, jobs_per_client=2)


def cg_place_and_route():
    alg = CGBPRR()
    placement, _, _ = alg.place(CLUSTER)
    return shortest_routes(CLUSTER, placement)


def petals_place_and_route():
    placement = Petals(seed=0).place(CLUSTER)
    return petals_routes(CLUSTER, placement)


@pytest.mark.parametrize(
    "fn", [cg_place_and_route, petals_place_and_route], ids=["cg-bprr", "petals"]
)
def test_place_and_route(benchmark, fn):
    benchmark.pedantic(fn, rounds=30, warmup_rounds=3)


@pytest.mark.parametrize("name", ["cg-bprr", "petals"])
def test_solve_with_evaluator(benchmark, name):
    alg = CGBPRR() if name == "cg-bprr" else Petals(seed=0)
    res = benchmark.pedantic(alg.solve, args=(CLUSTER,), rounds=30, warmup_rounds=3)
    benchmark.extra_info.update(mean_per_token_s=res.score.mean_per_token_s)


@pytest.mark.parametrize("search", [dag_route, route_networkx], ids=["own-dag", "networkx"])
def test_route_search(benchmark, search):
    """One route on CG-BPRR's placement: our DAG pass vs networkx Dijkstra."""
    placement, _, _ = CGBPRR().place(CLUSTER)
    rng = np.random.default_rng(0)
    hop, block = rng.random(150), rng.random(150)
    benchmark.pedantic(search, args=(placement, 70, hop, block), rounds=20, warmup_rounds=2)
