"""The policy registry changes no simulated result: the digests of
``benchmarks/sim_exactness.py`` (recorded before the registry existed) for the tiny
cluster, computed now through :func:`splitopt.placement.policies.prepare`."""

from __future__ import annotations

import json

from benchmarks.sim_exactness import DIGESTS, POLICIES, ROOT, SEEDS, digest
from splitopt.formats.cluster_file import read_cluster
from splitopt.placement.online import AUTHORS_ALLOC_DELAY_S, run_prepared
from splitopt.placement.policies import prepare
from splitopt.placement.simulate import Workload


def test_tiny_cluster_digests_are_the_recorded_ones() -> None:
    f, rate, n = "instances/clusters/tiny.json", 1.0, 400
    want = json.loads(DIGESTS.read_text())
    cluster = read_cluster(ROOT / f)
    wl = Workload.from_cluster(cluster, rate_per_s=rate, num_requests=n)
    checked = 0
    for p in POLICIES:
        for seed in SEEDS:
            prep = prepare(cluster, wl, p, seed)
            for authors in (False, True):
                key = "petals" if prep.routing == "petals" else "proposed"
                run = run_prepared(
                    cluster,
                    wl,
                    prep,
                    seed,
                    authors_backoff=authors,
                    alloc_delay_s=AUTHORS_ALLOC_DELAY_S[key] if authors else 0.0,
                    record_routes=prep.routing != "jffc",
                )
                name = f"{f}|{rate}|{n}|{p}|{seed}|{'authors' if authors else 'ours'}"
                assert digest(run) == want[name], name
                checked += 1
    assert checked == len([k for k in want if k.startswith(f + "|")]) == 48
