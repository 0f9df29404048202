"""Scattered scenarios on Internet Topology Zoo graphs (SPEC-PLACEMENT P4).

The paper's scattered scenarios (Sun, He, Ji, Parag, arXiv:2512.21884, Sec. VI) put
one client and C servers on distinct random nodes of a Topology Zoo graph (the
authors' ``construct_read_network_routing_topology.m``): network RTT = 2 x the
shortest-path delay; a fraction eta of the servers (round(C eta)) are A100-80GB, the
rest A100 MIG 1g.10gb slices, shuffled. The graphs come from the ``topohub`` package
(node positions and link lengths in km); link delay = length / (2/3 c) (the
documented fallback: the Repetita delays the authors used are not at hand).

GTS-CE (149 nodes) is not in ``topohub``; :data:`SUBSTITUTES` maps it to the nearest
large Topology Zoo graph there, TataNld (143 nodes), named as a substitute wherever
it is used.
"""

from __future__ import annotations

import math

import numpy as np

from splitopt.errors import DataError
from splitopt.placement.model import Arrivals, Cluster, Job
from splitopt.scenario.cluster import (
    MODEL_PRESETS,
    PAPER_OVERHEADS,
    cluster_from_network_rtt,
    preset_server,
)

#: Speed of light in fibre (2/3 c), km/s.
FIBRE_KM_PER_S = 2.0 / 3.0 * 299_792.458
#: Paper name -> topohub Topology Zoo key.
TOPOLOGIES = {"abvt": "Abvt", "bellcanada": "Bellcanada", "gtsce": "TataNld"}
#: Graphs the paper uses that topohub lacks -> what we use instead.
SUBSTITUTES = {"gtsce": "TataNld (143 nodes) substitutes GTS-CE (149 nodes; not in topohub)"}


def topology_rtt(name: str) -> tuple[np.ndarray, list[str]]:
    """All-pairs network RTT (s) of a Topology Zoo graph and its node names."""
    import networkx as nx
    import topohub

    key = TOPOLOGIES.get(name.lower().replace("-", "").replace("_", ""), name)
    try:
        doc = topohub.get(f"topozoo/{key}")
    except KeyError:
        raise DataError("topology", f"unknown Topology Zoo graph {name!r}") from None
    g = nx.node_link_graph(doc, edges="edges")
    nodes = list(g.nodes)
    for u, v, d in g.edges(data=True):
        g[u][v]["delay"] = float(d.get("dist", 0.0)) / FIBRE_KM_PER_S
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="delay"))
    V = len(nodes)
    rtt = np.full((V, V), np.inf)
    for i, u in enumerate(nodes):
        for j, v in enumerate(nodes):
            if v in dist[u]:
                rtt[i, j] = 2.0 * dist[u][v]
    names = [str(g.nodes[u].get("name", u)) for u in nodes]
    return rtt, names


def scattered_cluster(
    topology: str,
    seed: int,
    num_servers: int = 9,
    eta: float = 0.2,
    num_clients: int = 1,
    l_in: int = 20,
    l_out: int = 128,
    rate_per_s: float = 0.1,
    num_requests: int = 100,
) -> Cluster:
    """One random draw of the paper's scattered scenario on ``topology`` (``abvt``,
    ``bellcanada``, ``gtsce`` = the TataNld substitute, or any topohub Topology Zoo
    name): clients and servers on distinct random nodes of the largest connected
    component (ours: the authors draw from all nodes), round(num_servers x eta) A100s."""
    rtt, names = topology_rtt(topology)
    finite = np.isfinite(rtt)
    comp = np.flatnonzero(finite.sum(axis=1) == finite.sum(axis=1).max())
    if num_servers + num_clients > comp.size:
        raise DataError(
            "num_servers",
            f"{topology}: {num_servers} servers + {num_clients} clients exceed its "
            f"{comp.size} connected nodes",
        )
    if not 0 <= eta <= 1:
        raise DataError("eta", f"must be in [0, 1], got {eta!r}")
    rng = np.random.default_rng(seed)
    pick = rng.permutation(comp)[: num_clients + num_servers]
    cnodes, snodes = pick[:num_clients], pick[num_clients:]
    n_a100 = math.floor(num_servers * eta + 0.5)  # MATLAB's round, as the authors
    kinds = np.array([True] * n_a100 + [False] * (num_servers - n_a100))
    rng.shuffle(kinds)
    servers = [
        preset_server(
            "a100-paper" if a else "mig-1g.10gb-paper",
            f"{'a100' if a else 'mig'}-{j}@{names[snodes[j]]}",
        )
        for j, a in enumerate(kinds)
    ]
    clients = [f"client-{c}@{names[cnodes[c]]}" for c in range(num_clients)]
    net = rtt[np.ix_(cnodes, snodes)]
    key = topology.lower().replace("-", "").replace("_", "")
    meta = {
        "topology": TOPOLOGIES.get(key, topology),
        "seed": seed,
        "eta": eta,
    }
    if key in SUBSTITUTES:
        meta["substitute"] = SUBSTITUTES[key]
    jobs = [Job(c, l_in, l_out) for c in range(num_clients)]
    return cluster_from_network_rtt(
        f"scattered-{key}-C{num_servers}-s{seed}",
        MODEL_PRESETS["bloom-176b-nf4"],
        servers,
        clients,
        net,
        PAPER_OVERHEADS,
        jobs,
        meta,
        Arrivals(rate_per_s, num_requests, seed),
        server_rtt_s=rtt[np.ix_(snodes, snodes)],
    )


def clustered_cluster(
    client_site: int = 0,
    l_in: int = 20,
    l_out: int = 64,
    rate_per_s: float = 0.1,
    num_requests: int = 100,
    num_servers: int = 9,
    eta: float = 0.2,
) -> Cluster:
    """The paper's clustered scenario with one client in site ``client_site`` (0 = the
    CPU-only cluster, as Table III's first rows). ``num_servers`` / ``eta`` (ours, for
    the sweeps): round(num_servers x eta) A100s in site 1, the rest MIG slices in site
    2; the defaults 9 and 0.2 give the paper's 2 A100 + 7 MIG."""
    from splitopt.scenario.cluster import paper_clustered

    if not 0 <= eta <= 1:
        raise DataError("eta", f"must be in [0, 1], got {eta!r}")
    if int(num_servers) != num_servers or num_servers < 1:
        raise DataError("num_servers", f"must be a whole number >= 1, got {num_servers!r}")
    n_a100 = math.floor(num_servers * eta + 0.5)  # MATLAB's round, as the authors
    sites = [0, 0, 0]
    sites[client_site] = 1
    cl = paper_clustered(
        clients_per_site=tuple(sites),
        jobs_per_client=1,
        l_in=l_in,
        l_out=l_out,
        num_a100=n_a100,
        num_mig=int(num_servers) - n_a100,
    )
    meta = dict(cl.meta)
    name = f"paper-clustered-site{client_site}"
    if (num_servers, n_a100) != (9, 2):
        name += f"-C{num_servers}-a100x{n_a100}"
        meta["eta"] = eta
    return cl.replace(name=name, meta=meta, arrivals=Arrivals(rate_per_s, num_requests))


__all__ = [
    "FIBRE_KM_PER_S",
    "SUBSTITUTES",
    "TOPOLOGIES",
    "clustered_cluster",
    "scattered_cluster",
    "topology_rtt",
]
