"""Online simulator speed: simulated requests per second on a 150-server, 70-block
cluster (``instances/clusters/random-150x70-s1.json``, 10 clients).

Placement is prepared once outside the timed call; the timed call is one seeded run
of 20,000 Poisson arrivals (routing at arrival, admission, cache reservations).
JIT compilation is excluded by warm-up rounds. "congested" (2 req/s) makes most
requests of cg-bp wait (mean wait ~15 s); an overloaded system (e.g. 5 req/s here)
is far slower per request because its queue of future reservations grows without
bound. Run: ``make bench`` or
``python -m pytest benchmarks -k simulate``. Target: >= 100,000 requests/s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from splitopt.formats.cluster_file import read_cluster
from splitopt.placement.online import prepare, run_prepared
from splitopt.placement.simulate import Workload

CLUSTER = Path(__file__).resolve().parents[1] / "instances/clusters/random-150x70-s1.json"
N = 20_000


@pytest.mark.parametrize("rate", [0.5, 2.0], ids=["light", "congested"])
@pytest.mark.parametrize("policy", ["cg-bp+ws-rr", "petals", "petals+ws-rr", "gbp-cr+jffc"])
def test_simulate(benchmark, policy, rate):
    cluster = read_cluster(CLUSTER)
    wl = Workload.from_cluster(cluster, rate_per_s=rate, num_requests=N)
    prep = prepare(cluster, wl, policy, 0, {"R": 8, "c": 8})
    run = benchmark.pedantic(run_prepared, args=(cluster, wl, prep, 1), rounds=5, warmup_rounds=1)
    benchmark.extra_info.update(
        requests=N,
        requests_per_s=N / benchmark.stats.stats.median,
        mean_wait_s=float(run.wait.mean()),
        served=float(run.served.mean()),
    )
