"""Chains for the benchmarks: block-granularity LLM-like chains (identical
transformer blocks between an embedding and a head) and random chains."""

from __future__ import annotations

import numpy as np

from splitopt.problem import Chain


def block_chain(num_layers: int, *, memory: bool, seed: int = 0, jitter: float = 0.0) -> Chain:
    """An LLM-like chain: embedding, num_layers - 2 identical blocks, head.

    Client ~8x slower than the server per block; activations cost 40 ms to send
    up, 20 ms down; token ids at the ends are nearly free. SLA admits roughly
    half the blocks on the client. ``jitter`` > 0 perturbs each layer by up to
    that fraction: near-identical yet distinct blocks are the worst case of the
    exact label DP (its Pareto fronts grow combinatorially).
    """
    rng = np.random.default_rng(seed)
    L = num_layers
    client = np.full(L, 0.080)
    server = np.full(L, 0.010)
    work = np.full(L, 2.0e11)
    client[0], server[0], work[0] = 0.002, 0.0005, 1.0e9  # embedding
    client[-1], server[-1], work[-1] = 0.150, 0.020, 4.0e11  # head
    scale = 1 + jitter * rng.random(L)
    client, work = client * scale, work * scale
    up = np.full(L + 1, 0.040)
    down = np.full(L + 1, 0.020)
    up[0] = down[0] = up[-1] = down[-1] = 0.001
    mem = np.full(L, 4.0e8) * scale
    sla = 0.5 * client.sum() + 0.5 * server.sum() + 0.2
    budget = 0.4 * mem.sum() if memory else None
    return Chain(client, server, work, up, down, mem, sla, budget)
