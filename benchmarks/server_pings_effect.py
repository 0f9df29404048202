"""The effect of the adopted server-to-server pings on PETALS routing, on the shipped
clusters: mean per-token time (s; 5 seeds x 600 requests) with the servers' pings and
with the client's round trip / 2 (the earlier default), and routes changed of 3,000.

    python benchmarks/server_pings_effect.py > paper/generated/server_pings_effect.txt
"""

from __future__ import annotations

import glob

import numpy as np

from splitopt.formats.cluster_file import read_cluster
from splitopt.placement.model import Cluster
from splitopt.placement.online import run_policy
from splitopt.placement.simulate import Workload

SCENARIOS = sorted(glob.glob("instances/clusters/scenarios/*.json"))
FILES = ["instances/clusters/paper-clustered.json", *SCENARIOS]


def main() -> None:
    for f in FILES:
        cl = read_cluster(f)
        no = Cluster(
            cl.name,
            cl.model,
            cl.servers,
            cl.clients,
            cl.rtt_s,
            cl.prefill_rtt_s,
            cl.prefill_rtt_per_token_s,
            cl.jobs,
            cl.network_rtt_s,
            dict(cl.meta),
            None,
        )
        for rate in (0.1, 0.5, 2.0):
            wl = Workload.from_cluster(cl, rate_per_s=rate, num_requests=600)
            for p in ("petals", "petals-cg-order+petals", "petals-cg-counts+petals"):
                a = [run_policy(cl, wl, p, s, record_routes=True) for s in range(5)]
                b = [run_policy(no, wl, p, s, record_routes=True) for s in range(5)]
                ma = np.mean([r.per_token.mean() for r in a])
                mb = np.mean([r.per_token.mean() for r in b])
                nr = sum(
                    x != y
                    for r, q in zip(a, b, strict=True)
                    for x, y in zip(r.info["routes"], q.info["routes"], strict=True)
                )
                print(
                    f"{f.split('/')[-1]:34s} {rate:4} {p:26s} pings {ma:8.4f} client-rtt "
                    f"{mb:8.4f} ({100 * (ma / mb - 1):+6.2f} %) routes changed {nr}/3000"
                )


if __name__ == "__main__":
    main()
