"""Regenerate the shipped scenario clusters of the online reproduction (issue 11).

    PYTHONPATH=. python instances/clusters/scenarios/make_scenarios.py

Writes paper-clustered-site0.json (the clustered scenario, one CPU-only-site client,
l_out = 64) and scattered-{abvt,bellcanada,gtsce-tatanld}.json (seed 0 draws of 9
servers, eta = 0.2, one client, l_out = 128; TataNld substitutes GTS-CE), each with
the paper's workload (0.1 req/s, 100 requests).
"""

from __future__ import annotations

from pathlib import Path

from splitopt.formats.cluster_file import cluster_to_dict, read_cluster
from splitopt.formats.errors import dumps, write_text_atomic
from splitopt.scenario.topologies import clustered_cluster, scattered_cluster

HERE = Path(__file__).resolve().parent


def main(out: Path = HERE) -> None:
    clusters = {
        "paper-clustered-site0": clustered_cluster(0, l_out=64),
        "scattered-abvt": scattered_cluster("abvt", 0),
        "scattered-bellcanada": scattered_cluster("bellcanada", 0),
        "scattered-gtsce-tatanld": scattered_cluster("gtsce", 0),
    }
    for name, cl in clusters.items():
        path = Path(out) / f"{name}.json"
        write_text_atomic(path, dumps(cluster_to_dict(cl)))
        read_cluster(path)  # must read back


if __name__ == "__main__":
    main()
