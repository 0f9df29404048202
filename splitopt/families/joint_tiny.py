"""Seeded tiny joint instances (one client that may run blocks, a placement, one job)
whose figures span many orders of magnitude: the verification family of the joint
model (``splitopt experiment joint-verify``; the tests use it too).

Not a :data:`splitopt.families.FAMILIES` entry: a joint instance is a
:class:`~splitopt.joint.model.JointCluster` with a placement and a job, not a
split :class:`~splitopt.problem.Problem`.

Ranges (ours): block bytes 1e3..1e10, cache 1..1e6 B per token per block (0 with
probability 0.2), server decode and prefill 1e-5..10 s per block, round trips
1e-4..10 s, prompts and outputs 1..199 tokens, client memory 0..L+1 blocks' worth
(0 with probability 0.1), client times 1e-5..100 s per block; a server hosts nothing
with probability 0.15, otherwise a random range. Server memory is not binding.
"""

from __future__ import annotations

import numpy as np

from splitopt.joint.model import ClientDevice, JointCluster
from splitopt.placement.model import BlockModel, Cluster, Job, Placement, Server


def loguniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    """Log-uniform draws in [lo, hi]."""
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def tiny_joint(
    seed: int, *, max_blocks: int = 6, max_servers: int = 3, device: bool = True
) -> tuple[JointCluster, Placement, Job]:
    """(JointCluster, Placement, Job): L <= max_blocks, S <= max_servers, one client
    (``device=False``: the client runs nothing)."""
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


def random_sla(rng: np.random.Generator, times: np.ndarray) -> float:
    """An SLA between half the least and 1.2 x the largest finite time in ``times``
    (so some instances are infeasible); 1.0 when none is finite."""
    finite = times[np.isfinite(times)]
    if finite.size == 0:
        return 1.0
    return float(rng.uniform(0.5 * finite.min(), 1.2 * finite.max()))


def tiny_joint_cluster(
    seed: int,
    *,
    max_blocks: int = 4,
    max_servers: int = 3,
    max_jobs: int = 2,
    device: bool = True,
) -> JointCluster:
    """A tiny joint cluster for the joint MILP (no placement given): L <= max_blocks,
    S <= max_servers, 1..max_jobs jobs (one client each, which may share one client),
    the same wide ranges as :func:`tiny_joint`, and server memory that binds: with
    probability 0.7 a server holds between half a block and L + 1 blocks with the cache
    of about 0..2 L requests' blocks (ours), else it is not binding. ``device=False``:
    every client runs nothing."""
    rng = np.random.default_rng([seed, 7])
    L = int(rng.integers(1, max_blocks + 1))
    S = int(rng.integers(1, max_servers + 1))
    R = int(rng.integers(1, max_jobs + 1))
    block_bytes = float(loguniform(rng, 1e3, 1e10))
    cache = float(loguniform(rng, 1.0, 1e6)) * (rng.random() < 0.8)
    shared = R > 1 and rng.random() < 0.3
    C = 1 if shared else R
    jobs = tuple(
        Job(
            client=0 if shared else r,
            l_in=int(rng.integers(1, 200)),
            l_out=int(rng.integers(1, 200)),
        )
        for r in range(R)
    )
    per_job = cache * 200.0
    servers = []
    for j in range(S):
        if rng.random() < 0.7:
            mem = block_bytes * rng.uniform(0.5, L + 1) + per_job * rng.uniform(0, 2 * L)
        else:
            mem = 1e30
        servers.append(
            Server(
                id=f"s{j}",
                memory_bytes=float(mem),
                decode_s=float(loguniform(rng, 1e-5, 1e1)),
                prefill_s0=float(loguniform(rng, 1e-5, 1e1)),
                prefill_s1=float(loguniform(rng, 1e-7, 1e-1)) * (rng.random() < 0.7),
            )
        )
    rtt = loguniform(rng, 1e-4, 1e1, (C, S))
    prtt = rtt + loguniform(rng, 1e-4, 1e1, (C, S))
    cl = Cluster(
        name=f"joint-tiny-cluster-{seed}",
        model=BlockModel(L, block_bytes, cache),
        servers=tuple(servers),
        clients=tuple(f"c{c}" for c in range(C)),
        rtt_s=rtt,
        prefill_rtt_s=prtt,
        jobs=jobs,
    )
    devs = []
    for _ in range(C):
        if not device:
            devs.append(ClientDevice())
            continue
        per = block_bytes + cache * 200
        devs.append(
            ClientDevice(
                memory_bytes=float(per * rng.uniform(0, L + 1)) * (rng.random() < 0.85),
                decode_s=float(loguniform(rng, 1e-5, 1e2)),
                prefill_s0=float(loguniform(rng, 1e-5, 1e2)),
                prefill_s1=float(loguniform(rng, 1e-7, 1e-1)) * (rng.random() < 0.7),
            )
        )
    return JointCluster(cl, tuple(devs))


__all__ = ["loguniform", "random_sla", "tiny_joint", "tiny_joint_cluster"]
