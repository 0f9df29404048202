"""Seeded tiny joint instances whose figures span many orders of magnitude."""

from __future__ import annotations

import numpy as np

from splitopt.joint import ClientDevice, JointCluster
from splitopt.placement.model import BlockModel, Cluster, Job, Placement, Server


def loguniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def tiny_joint(seed: int, *, max_blocks: int = 6, max_servers: int = 3, device: bool = True):
    """(JointCluster, Placement, Job): L <= max_blocks, S <= max_servers, one client."""
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, max_blocks + 1))
    S = int(rng.integers(1, max_servers + 1))
    block_bytes = float(loguniform(rng, 1e3, 1e10))
    cache = float(loguniform(rng, 1.0, 1e6)) * (rng.random() < 0.8)
    servers = tuple(
        Server(
            id=f"s{j}",
            memory_bytes=1e30,
            decode_s=float(loguniform(rng, 1e-5, 1e1)),
            prefill_s0=float(loguniform(rng, 1e-5, 1e1)),
            prefill_s1=float(loguniform(rng, 1e-7, 1e-1)) * (rng.random() < 0.7),
        )
        for j in range(S)
    )
    rtt = loguniform(rng, 1e-4, 1e1, (1, S))
    prtt = rtt + loguniform(rng, 1e-4, 1e1, (1, S))
    l_in = int(rng.integers(1, 200))
    l_out = int(rng.integers(1, 200))
    job = Job(client=0, l_in=l_in, l_out=l_out)
    cl = Cluster(
        name=f"joint-tiny-{seed}",
        model=BlockModel(L, block_bytes, cache),
        servers=servers,
        clients=("c0",),
        rtt_s=rtt,
        prefill_rtt_s=prtt,
        jobs=(job,),
    )
    first, count = [], []
    for _ in range(S):
        if rng.random() < 0.15:
            first.append(0)
            count.append(0)
            continue
        a = int(rng.integers(1, L + 1))
        first.append(a)
        count.append(int(rng.integers(1, L - a + 2)))
    placement = Placement(np.array(first), np.array(count))
    if device:
        per = block_bytes + cache * (l_in + l_out)
        dev = ClientDevice(
            memory_bytes=float(per * rng.uniform(0, L + 1)) * (rng.random() < 0.9),
            decode_s=float(loguniform(rng, 1e-5, 1e2)),
            prefill_s0=float(loguniform(rng, 1e-5, 1e2)),
            prefill_s1=float(loguniform(rng, 1e-7, 1e-1)) * (rng.random() < 0.7),
        )
    else:
        dev = ClientDevice()
    return JointCluster(cl, (dev,)), placement, job
