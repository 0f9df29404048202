"""Seeded random many-server clusters for the exact methods and their verification.

Every generator takes a ``numpy.random.Generator`` and returns a
:class:`~splitopt.placement.model.Cluster` with its jobs; :func:`cluster_instance`
names them (``CLUSTER_FAMILIES``) and draws instance ``index`` of ``seed`` from
``numpy.random.default_rng([seed, index])``, so any instance is regenerated alone.

* ``tiny``: :func:`tiny_cluster`, small whole-number memories that often bind, times
  on a grid (ties) or uniform over [0, 0.05] s.
* ``wide``: :func:`wide_cluster`, data over many orders of magnitude: times
  log-uniform over 1e-6 .. 1e3 s, block bytes over 1 .. 1e12, cache bytes per token
  1e-6 .. 1 of a block; half the clusters have a decoy server 1e3 .. 1e9 times slower
  than the rest (it should stay unused, and it sets the scale of any objective
  normalised by its largest coefficient).
* ``edge``: as ``wide``, but every memory is the load of one plausible answer (blocks
  and cache of a random range and random jobs through it) times 1 ± ε,
  ε log-uniform in 1e-9 .. 1e-6 or 0: the region where a solver's feasibility
  tolerance (~1e-7 .. 1e-6) and the evaluator's (1e-9) disagree.
* ``huge``: as ``wide`` with some values near the float range: memories up to 1e308,
  block and cache bytes up to 1e300.

:func:`paper_tiny_cluster` (a seed, physical units and the paper's network overheads;
formerly ``splitopt.scenario.cluster.tiny_cluster``) is the tiny cluster of the
placement comparison benchmark.

The distributions are ours (chosen to reach the regions where a MILP's tolerances fail).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from splitopt.errors import FamilyError
from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.scenario.cluster import PAPER_OVERHEADS, cluster_from_network_rtt

_TIME_GRID = (0.0, 0.01, 0.02, 0.05)


def tiny_cluster(
    rng: np.random.Generator,
    name: str = "tiny",
    max_servers: int = 4,
    max_blocks: int = 5,
    max_jobs: int = 3,
) -> Cluster:
    """A random tiny cluster: 2-4 servers, 2-5 blocks, 1-3 jobs from 1-2 clients
    (the upper ends are the ``max_*`` arguments).

    Memory is drawn so that it sometimes binds (and sometimes makes the instance
    infeasible): every server gets s_m times 1..L blocks plus a random share of
    the cache all jobs would need on all blocks; one in four servers has a block
    cap. Memory units: small whole numbers (60 %), the same times 2**30 (20 %),
    or times an irrational-looking factor (20 %, non-integral rows). Times come from a
    small grid half the time (ties) and are uniform otherwise.
    """
    S = int(rng.integers(2, max_servers + 1))
    L = int(rng.integers(2, max_blocks + 1))
    R = int(rng.integers(1, max_jobs + 1))
    return sized_cluster(rng, S, L, R, name)


def sized_cluster(rng: np.random.Generator, S: int, L: int, R: int, name: str = "sized") -> Cluster:
    """A random cluster of S servers, L blocks and R jobs, drawn as in :func:`tiny_cluster`."""
    C = int(rng.integers(1, 3))
    mode = int(rng.choice(3, p=[0.6, 0.2, 0.2]))
    unit = (1.0, float(2**30), 1.37e9 / 3.0)[mode]
    s_m = int(rng.integers(1, 5))
    per_token = int(rng.integers(0, 3))
    jobs = tuple(
        Job(int(rng.integers(0, C)), int(rng.integers(1, 5)), int(rng.integers(1, 5)), f"r{r}")
        for r in range(R)
    )
    cache = sum(per_token * (j.l_in + j.l_out) for j in jobs)
    grid = rng.random() < 0.5

    def t(scale: float) -> float:
        if grid:
            return float(rng.choice(_TIME_GRID)) * scale
        return float(rng.uniform(0.0, 0.05)) * scale

    servers = []
    for j in range(S):
        mem = s_m * int(rng.integers(1, L + 1)) + int(rng.integers(0, cache * L + 1))
        cap = int(rng.integers(1, L + 1)) if rng.random() < 0.25 else None
        servers.append(
            Server(
                f"s{j}",
                mem * unit,
                decode_s=t(1.0) + 0.001,
                prefill_s0=t(2.0),
                prefill_s1=t(0.02),
                max_blocks=cap,
            )
        )
    rtt = np.array([[t(2.0) for _ in range(S)] for _ in range(C)])
    prefill = rtt + np.array([[t(1.0) for _ in range(S)] for _ in range(C)])
    per_tok = np.array([[t(0.01) for _ in range(S)] for _ in range(C)])
    return Cluster(
        name,
        BlockModel(L, s_m * unit, per_token * unit, name="tiny"),
        tuple(servers),
        tuple(f"c{c}" for c in range(C)),
        rtt,
        prefill,
        per_tok,
        jobs,
    )


def paper_tiny_cluster(
    seed: int,
    num_servers: int = 3,
    num_blocks: int = 4,
    num_clients: int = 2,
    max_jobs_per_client: int = 2,
) -> Cluster:
    """A seeded tiny random cluster in physical units for exact methods (ours):
    s_m = 1 GB; memory for 1 .. L blocks plus some cache; caps on some servers;
    decode 5-20 ms, prefill 20-200 ms + 0-0.1 ms/token per block; network RTT
    5-200 ms plus the paper's overheads; 1 .. ``max_jobs_per_client`` jobs per
    client (l_in 10-30, l_out 16-64)."""
    rng = np.random.default_rng(seed)
    L = num_blocks
    s_m = 1e9
    cbpt = float(rng.choice([1e4, 1e5, 1e6]))
    servers = []
    for j in range(num_servers):
        blocks = rng.uniform(1, L + 0.999)
        cap = int(rng.integers(1, L + 1)) if rng.random() < 0.3 else None
        servers.append(
            Server(
                f"s{j}",
                memory_bytes=float(round(s_m * blocks + rng.uniform(0, 3) * cbpt * 100 * L, -6)),
                decode_s=float(round(rng.uniform(0.005, 0.02), 5)),
                prefill_s0=float(round(rng.uniform(0.02, 0.2), 4)),
                prefill_s1=float(round(rng.uniform(0, 1e-4), 7)),
                max_blocks=cap,
            )
        )
    net = np.round(rng.uniform(0.005, 0.2, size=(num_clients, num_servers)), 4)
    jobs = [
        Job(c, int(rng.integers(10, 31)), int(rng.integers(16, 65)))
        for c in range(num_clients)
        for _ in range(int(rng.integers(1, max_jobs_per_client + 1)))
    ]
    model = BlockModel(L, s_m, cbpt, f"tiny-L{L}", 1024)
    return cluster_from_network_rtt(
        f"tiny-s{num_servers}-l{L}-seed{seed}",
        model,
        servers,
        [f"c{c}" for c in range(num_clients)],
        net,
        PAPER_OVERHEADS,
        jobs,
        {"seed": seed},
    )


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Log-uniform over [lo, hi]."""
    return float(10 ** rng.uniform(np.log10(lo), np.log10(hi)))


def wide_cluster(
    rng: np.random.Generator,
    name: str = "wide",
    max_servers: int = 4,
    max_blocks: int = 5,
    max_jobs: int = 4,
    memory: str = "random",
) -> Cluster:
    """A random cluster with data over many orders of magnitude (module docstring):
    3 .. ``max_servers`` servers, 3 .. ``max_blocks`` blocks, 2 .. ``max_jobs`` jobs
    from 1-2 clients. ``memory``: ``random`` (s_m times 1..L blocks plus a random
    share of the cache, so it sometimes binds), ``edge`` (a load times 1 ± ε) or
    ``huge`` (values near the float range)."""
    if memory not in ("random", "edge", "huge"):
        raise FamilyError(f"unknown memory mode {memory!r}; valid: random, edge, huge")
    S = int(rng.integers(3, max(3, max_servers) + 1))
    L = int(rng.integers(3, max(3, max_blocks) + 1))
    R = int(rng.integers(2, max(2, max_jobs) + 1))
    C = int(rng.integers(1, 3))
    scale = _logu(rng, 1e-6, 1e3)  # the cluster's typical time, s

    def t() -> float:
        """A time spread over 1e-6 .. 1e3 s around the cluster's scale (some zeros)."""
        if rng.random() < 0.1:
            return 0.0
        return min(1e3, max(1e-6, scale * _logu(rng, 1e-3, 1e3)))

    decoy = int(rng.integers(0, S)) if rng.random() < 0.5 else -1
    slow = _logu(rng, 1e3, 1e9)
    if memory == "huge":
        s_m = _logu(rng, 1e200, 1e300)
    else:
        s_m = float(np.round(_logu(rng, 1.0, 1e12))) if rng.random() < 0.5 else _logu(rng, 1, 1e12)
    per_token = 0.0 if rng.random() < 0.2 else s_m * _logu(rng, 1e-6, 1.0)
    jobs = tuple(
        Job(int(rng.integers(0, C)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), f"r{r}")
        for r in range(R)
    )
    model = BlockModel(L, s_m, per_token, name=name)
    s_c = [model.cache_bytes(j.l_in, j.l_out) for j in jobs]
    servers = []
    for j in range(S):
        f = slow if j == decoy else 1.0
        if memory == "huge" and rng.random() < 0.5:
            mem = 1e308
        elif memory == "edge":
            m = int(rng.integers(1, L + 1))
            k = int(rng.integers(1, m + 1))
            load = s_m * m + sum(s_c[r] * k for r in range(R) if rng.random() < 0.5)
            eps = _logu(rng, 1e-9, 1e-6) * float(rng.choice([-1.0, 1.0]))
            mem = load * (1.0 + eps) if rng.random() < 0.8 else load
        else:
            mem = s_m * int(rng.integers(1, L + 1)) + float(rng.uniform(0, sum(s_c) * L))
        cap = int(rng.integers(1, L + 1)) if rng.random() < 0.2 else None
        servers.append(
            Server(
                f"s{j}",
                mem,
                decode_s=t() * f,
                prefill_s0=t() * f,
                prefill_s1=t() * f * 1e-2,
                max_blocks=cap,
            )
        )
    col = [slow if j == decoy else 1.0 for j in range(S)]
    rtt = np.array([[t() * col[j] for j in range(S)] for _ in range(C)])
    prefill = rtt + np.array([[t() * col[j] for j in range(S)] for _ in range(C)])
    per_tok = np.array([[t() * 1e-2 for _ in range(S)] for _ in range(C)])
    return Cluster(
        name,
        model,
        tuple(servers),
        tuple(f"c{c}" for c in range(C)),
        rtt,
        prefill,
        per_tok,
        jobs,
    )


def _wide(memory: str) -> Callable[..., Cluster]:
    def gen(rng: np.random.Generator, name: str) -> Cluster:
        return wide_cluster(rng, name, memory=memory)

    return gen


#: family name -> generator ``(rng, name) -> Cluster`` (module docstring).
CLUSTER_FAMILIES: dict[str, Callable[..., Cluster]] = {
    "tiny": lambda rng, name: tiny_cluster(rng, name),
    "wide": _wide("random"),
    "edge": _wide("edge"),
    "huge": _wide("huge"),
}


def cluster_instance(family: str, seed: int, index: int) -> Cluster:
    """Instance ``index`` of ``seed`` in cluster family ``family`` (independent of
    every other instance)."""
    gen = CLUSTER_FAMILIES.get(family)
    if gen is None:
        raise FamilyError(
            f"unknown cluster family {family!r}; valid: {', '.join(CLUSTER_FAMILIES)}"
        )
    prefix = "tiny" if family == "tiny" else family
    return gen(np.random.default_rng([seed, index]), f"{prefix}-{seed}-{index}")


__all__ = [
    "CLUSTER_FAMILIES",
    "cluster_instance",
    "paper_tiny_cluster",
    "sized_cluster",
    "tiny_cluster",
    "wide_cluster",
]
