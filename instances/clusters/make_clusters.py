"""Regenerate the shipped example clusters (deterministic; seeds below).

    PYTHONPATH=. python instances/clusters/make_clusters.py

Writes tiny.json, paper-clustered.json and random-150x70-s1.json next to itself.
"""

from __future__ import annotations

from pathlib import Path

from splitopt.formats.cluster_file import cluster_to_dict, read_cluster
from splitopt.formats.errors import dumps, write_text_atomic
from splitopt.scenario.cluster import random_cluster

HERE = Path(__file__).resolve().parent

#: 3 servers, 4 blocks, 2 clients, 3 jobs: small enough for bprr-milp and bprr-brute.
TINY = {
    "format": "splitopt-cluster",
    "version": 1,
    "name": "tiny",
    "model": {
        "num_blocks": 4,
        "block_bytes": 1.0e9,
        "cache_bytes_per_token": 1.0e5,
        "name": "toy-4-blocks",
        "hidden_size": 512,
    },
    "servers": [
        {
            "id": "big",
            "memory_bytes": 4.5e9,
            "decode_s": 0.004,
            "prefill_s0": 0.03,
            "prefill_s1": 0.0001,
        },
        {
            "id": "mid",
            "memory_bytes": 2.5e9,
            "decode_s": 0.008,
            "prefill_s0": 0.06,
            "prefill_s1": 0.0002,
        },
        {
            "id": "small",
            "memory_bytes": 2.3e9,
            "decode_s": 0.016,
            "prefill_s0": 0.2,
            "prefill_s1": 0.0001,
            "max_blocks": 2,
        },
    ],
    "clients": ["near-big", "near-small"],
    "network": {
        "kind": "matrix",
        "network_rtt_s": [[0.005, 0.05, 0.1], [0.1, 0.05, 0.005]],
        "overheads": {"preset": "paper"},
    },
    "workload": {
        "jobs": [
            {"client": "near-big", "l_in": 20, "l_out": 64, "count": 2},
            {"client": "near-small", "l_in": 20, "l_out": 64},
        ]
    },
}

#: The paper's clustered scenario (SPEC-PLACEMENT P4): site 0 CPU-only clients,
#: site 1 two A100s + clients, site 2 seven MIG 1g.10gb + clients; 5 ms / 100 ms RTT.
PAPER_CLUSTERED = {
    "format": "splitopt-cluster",
    "version": 1,
    "name": "paper-clustered",
    "model": {"preset": "bloom-176b-nf4"},
    "servers": [
        {"id": "a100", "preset": "a100-paper", "site": 1, "count": 2},
        {"id": "mig", "preset": "mig-1g.10gb-paper", "site": 2, "count": 7},
    ],
    "clients": [
        {"id": "site0-client", "site": 0, "count": 2},
        {"id": "site1-client", "site": 1, "count": 2},
        {"id": "site2-client", "site": 2, "count": 2},
    ],
    "network": {
        "kind": "clustered",
        "intra_rtt_s": 0.005,
        "inter_rtt_s": 0.100,
        "intra_bandwidth_bps": 1.0e9,
        "inter_bandwidth_bps": 1.0e8,
        "overheads": {"preset": "paper"},
    },
    "workload": {
        "jobs": [
            {"client": c, "l_in": 20, "l_out": 64}
            for c in (
                "site0-client-0",
                "site0-client-1",
                "site1-client-0",
                "site1-client-1",
                "site2-client-0",
                "site2-client-1",
            )
        ],
        "arrival_rate_per_s": 0.1,
        "num_requests": 100,
        "seed": 1,
    },
}


def main(out: Path = HERE) -> None:
    for name, doc in (("tiny", TINY), ("paper-clustered", PAPER_CLUSTERED)):
        path = out / f"{name}.json"
        write_text_atomic(path, dumps(doc))
        read_cluster(path)  # must read back
    big = random_cluster(1, num_servers=150, num_blocks=70, num_clients=10, jobs_per_client=2)
    write_text_atomic(out / "random-150x70-s1.json", dumps(cluster_to_dict(big), indent=None))


if __name__ == "__main__":
    main()
