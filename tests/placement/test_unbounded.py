"""PETALS can be arbitrarily worse than the optimum (L^2 servers).

The paper (Sun et al., arXiv:2512.21884) states that PETALS's placement has an
unbounded ratio to the optimum on an instance with L^2 servers. We could not read
the paper's instance, so this one is constructed by us from that description:

* L^2 identical servers, memory M = (L + 1) s_m, round trip r to the client,
  per-block time tau = r / L^2 (prefill and decode alike); L jobs of l_in = 1,
  l_out = 2; cache bytes per token per block c = L s_m / 4096, no autograd reserve.
* PETALS reserves 4096 tokens of cache per block, so it hosts floor(M / (s_m +
  4096 c)) = floor((L + 1) / (L + 1)) = 1 block per server; every route has L hops:
  T = 2 L (r + tau) per job.
* Hosting the whole model on L of the servers fits (L s_m + 3 L c <= M for L <= 36):
  T = 2 (r + L tau) per job. OPT is at most that, so
  PETALS / OPT >= L (r + tau) / (r + L tau) = (L + 1/L) / (1 + 1/L) -> infinity.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from splitopt.placement import available, get_algorithm
from splitopt.placement.evaluate import evaluate
from splitopt.placement.model import BlockModel, Cluster, Job, Placement, Server
from splitopt.placement.petals import Petals

S_M = 1e9
R_TRIP = 0.1


def instance(L: int) -> Cluster:
    tau = R_TRIP / L**2
    model = BlockModel(L, S_M, L * S_M / 4096, name=f"unbounded-L{L}")
    servers = tuple(Server(f"s{j}", (L + 1) * S_M, tau, tau) for j in range(L * L))
    rtt = np.full((1, L * L), R_TRIP)
    jobs = tuple(Job(0, 1, 2) for _ in range(L))
    return Cluster(f"unbounded-L{L}", model, servers, ("c",), rtt, rtt, jobs=jobs)


def whole_model_on_L_servers(c: Cluster) -> tuple[Placement, list[tuple[int, ...]]]:
    L = c.num_blocks
    ranges = [(1, L) if j < L else None for j in range(c.num_servers)]
    return Placement.from_ranges(ranges), [(i,) for i in range(L)]


@pytest.mark.parametrize("L", [2, 3, 4, 6, 8, 12])
def test_petals_ratio_grows_like_L(L: int) -> None:
    c = instance(L)
    petals = Petals(seed=L, autograd_bytes=0.0).solve(c)
    assert petals.status == "feasible", petals.message
    assert (petals.placement.count == 1).all()
    assert all(len(r) == L for r in petals.routes)
    p, routes = whole_model_on_L_servers(c)
    good = evaluate(c, p, routes)
    assert good.feasible
    want = (L + 1 / L) / (1 + 1 / L)
    assert petals.objective / good.objective == pytest.approx(want, rel=1e-9)
    cg = get_algorithm("cg-bprr").solve(c)  # L or L - 1 blocks per server: 1 or 2 hops
    assert cg.status == "feasible"
    assert cg.objective <= 2 * good.objective and cg.objective < petals.objective


def test_ratio_is_unbounded() -> None:
    ratios = []
    for L in (2, 4, 8, 16, 32):
        c = instance(L)
        petals = Petals(seed=0, autograd_bytes=0.0).solve(c)
        p, routes = whole_model_on_L_servers(c)
        ratios.append(petals.objective / evaluate(c, p, routes).objective)
    assert all(b > a for a, b in itertools.pairwise(ratios))
    assert ratios[-1] > 30


@pytest.mark.skipif(not available("bprr-milp"), reason="bprr-milp not in this tree")
def test_optimum_of_the_smallest_instance() -> None:
    c = instance(2)
    milp = get_algorithm("bprr-milp", time_limit=60).solve(c)
    p, routes = whole_model_on_L_servers(c)
    assert milp.status == "optimal"
    assert milp.objective <= evaluate(c, p, routes).objective * (1 + 1e-9)
