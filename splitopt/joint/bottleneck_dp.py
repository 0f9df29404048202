"""The numba kernel of the joint per-request *throughput* DP (pure functions on arrays).

A request's route is read as a pipeline of per-token stages (PipeEdge's bottleneck,
our reading of it in the joint model; scored by
:func:`splitopt.joint.evaluate.route_bottleneck`):

* the client: one stage, ``n * client_decode_s`` for its ``n`` blocks (one device
  runs all its segments for every token);
* each server visit: one compute stage, ``k * decode_s[j]`` for its ``k`` blocks;
* each server visit's network time: one transfer stage, ``rtt_s[c, j]`` (the round
  trip the joint evaluator charges per later token; the client relays activations).

The route's bottleneck is the largest stage (s per token). The DP is the joint time
DP's (:mod:`splitopt.placement.joint_dp`) over the same states ``F[b, n]`` / ``X[b, n]``
(next block needed ``b``, ``n`` client blocks so far) with ``max`` instead of ``+``
for the server stages; the client's stage depends only on ``n``, so it is applied at
the end: ``best[n] = max(F[L + 1, n], n * client_decode_s)``. A visit's stage grows
with its length, so visits are enumerated per (entry, exit): O(L^2 S K) time.
"""

from __future__ import annotations

import numpy as np

from splitopt.solvers.jit import njit


@njit(cache=True)
def joint_bottleneck_kernel(first, count, link, block, client_decode, max_client, num_blocks):
    """Least bottleneck (s per token) with exactly ``n`` client blocks, n = 0..max_client.

    ``link[j]``: server ``j``'s per-token network time (s); ``block[j]``: its decode
    time per block (s); ``client_decode``: the client's decode time per block (s).
    Returns ``(best, pf_kind, pf_b, pf_j, px_b, px_j)`` in the layout of
    :func:`splitopt.placement.joint_dp.joint_route_kernel` (``best[n]`` inf where no
    route exists), so :func:`splitopt.joint.route.rebuild` rebuilds the route.
    """
    L = num_blocks
    K = max_client
    S = first.shape[0]
    inf = np.inf
    F = np.full((L + 2, K + 1), inf)
    X = np.full((L + 2, K + 1), inf)
    pf_kind = np.full((L + 2, K + 1), -1, dtype=np.int64)
    pf_b = np.zeros((L + 2, K + 1), dtype=np.int64)
    pf_j = np.full((L + 2, K + 1), -1, dtype=np.int64)
    px_b = np.zeros((L + 2, K + 1), dtype=np.int64)
    px_j = np.full((L + 2, K + 1), -1, dtype=np.int64)
    F[1, 0] = 0.0
    for b in range(1, L + 1):
        # every source of a transition out of b is final: F[b], X[b] only get
        # transitions from blocks < b
        for n in range(K):  # the client runs block b
            f = F[b, n]
            if f < F[b + 1, n + 1]:
                F[b + 1, n + 1] = f
                pf_kind[b + 1, n + 1] = 0
                pf_b[b + 1, n + 1] = b
            x = X[b, n]
            if x < F[b + 1, n + 1]:
                F[b + 1, n + 1] = x
                pf_kind[b + 1, n + 1] = 1
                pf_b[b + 1, n + 1] = b
        for j in range(S):  # a visit to server j entered at b, run to block s
            m = count[j]
            a = first[j]
            hi = a + m - 1
            if m <= 0 or hi > L or not (a <= b <= hi):
                continue
            for n in range(K + 1):
                f = F[b, n]
                if f == inf:
                    continue
                base = f if f > link[j] else link[j]
                for s in range(b, hi + 1):
                    comp = (s - b + 1) * block[j]
                    v = base if base > comp else comp
                    if s == hi:
                        if v < F[s + 1, n]:
                            F[s + 1, n] = v
                            pf_kind[s + 1, n] = 2
                            pf_b[s + 1, n] = b
                            pf_j[s + 1, n] = j
                    elif s < L and n < K and v < X[s + 1, n]:  # the client takes s + 1
                        X[s + 1, n] = v
                        px_b[s + 1, n] = b
                        px_j[s + 1, n] = j
    best = np.full(K + 1, inf)
    for n in range(K + 1):
        f = F[L + 1, n]
        if f < inf:
            c = n * client_decode
            best[n] = f if f > c else c
    return best, pf_kind, pf_b, pf_j, px_b, px_j


__all__ = ["joint_bottleneck_kernel"]
