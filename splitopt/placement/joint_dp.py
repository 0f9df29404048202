"""The numba kernel of the joint per-request DP (pure functions on arrays).

It lives in the many-server core because the online simulator's kernel
(:mod:`splitopt.placement.sim_kernel`) calls it for clients that run blocks;
:mod:`splitopt.joint.kernels` re-exports it. Costs come from
:meth:`splitopt.joint.model.JointCluster.costs`.

States, for the next block needed ``b`` (1..L+1) and ``n`` client blocks so far:

* ``F[b, n]``: free (at the client, or a server just ran to the end of its range):
  the next block may run on the client or start a visit to a server hosting it;
* ``X[b, n]``: a server visit stopped before the end of its range, so the client
  must run block ``b``.

Transitions (costs from ``JointCluster.costs``): client block ``b`` (``+ cc``),
a full visit to server ``j`` entered at ``b`` and run to the end ``e_j`` of its range
(``+ visit[j] + (e_j - b) block[j]``), or a visit stopped at ``s < e_j``
(``+ visit[j] + (s - b) block[j]``, into ``X[s]``). Every transition increases
``b``, so one pass in ``b`` order is exact.

A visit's cost is ``(F[b, n] + visit[j] - b block[j]) + s block[j]``; the kernel keeps,
per server and ``n``, the least first term over the entry blocks seen so far (a
running minimum), so each (block, server, n) is touched once: O(L S K) time.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def joint_route_kernel(first, count, visit, block, client_cost, max_client, num_blocks):
    """Least total time with exactly ``n`` client blocks, for n = 0..max_client.

    Returns ``(best, pf_kind, pf_b, pf_j, px_b, px_j)``: ``best[n]`` (inf where no
    route exists) and the predecessor tables that rebuild a route
    (:func:`splitopt.joint.route.rebuild`). ``pf_kind[b, n]``: 0 = client block
    ``b - 1`` from F, 1 = client block ``b - 1`` from X, 2 = full visit to server
    ``pf_j`` entered at ``pf_b``; ``px_*``: the visit that stopped before ``b``.
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
    run = np.full((S, K + 1), inf)  # least F[b', n] + visit[j] - b' block[j] so far
    run_b = np.zeros((S, K + 1), dtype=np.int64)
    end = first + count
    F[1, 0] = 0.0
    for b in range(1, L + 2):
        # 1. F[b] and X[b] from the transitions into b (all sources are final)
        if b > 1:
            for n in range(1, K + 1):
                f = F[b - 1, n - 1]
                if f < inf and f + client_cost < F[b, n]:
                    F[b, n] = f + client_cost
                    pf_kind[b, n] = 0
                    pf_b[b, n] = b - 1
                x = X[b - 1, n - 1]
                if x < inf and x + client_cost < F[b, n]:
                    F[b, n] = x + client_cost
                    pf_kind[b, n] = 1
                    pf_b[b, n] = b - 1
            for j in range(S):
                if count[j] <= 0 or end[j] > L + 1:
                    continue
                a = first[j]
                e = end[j]
                if e == b:  # full visits end here
                    for n in range(K + 1):
                        r = run[j, n]
                        if r < inf:
                            v = r + b * block[j]
                            if v < F[b, n]:
                                F[b, n] = v
                                pf_kind[b, n] = 2
                                pf_b[b, n] = run_b[j, n]
                                pf_j[b, n] = j
                elif a < b < e and b <= L:  # visits stopped before b (the client takes b)
                    for n in range(K):
                        r = run[j, n]
                        if r < inf:
                            v = r + b * block[j]
                            if v < X[b, n]:
                                X[b, n] = v
                                px_b[b, n] = run_b[j, n]
                                px_j[b, n] = j
        if b == L + 1:
            break
        # 2. visits entered at b
        for j in range(S):
            if count[j] <= 0 or end[j] > L + 1:
                continue
            if not (first[j] <= b < end[j]):
                continue
            for n in range(K + 1):
                f = F[b, n]
                if f < inf:
                    v = f + visit[j] - b * block[j]
                    if v < run[j, n]:
                        run[j, n] = v
                        run_b[j, n] = b
    best = F[L + 1, :].copy()
    return best, pf_kind, pf_b, pf_j, px_b, px_j


__all__ = ["joint_route_kernel"]
