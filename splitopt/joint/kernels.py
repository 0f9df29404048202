"""The numba kernel of the joint per-request DP (pure functions on arrays).

States, for the next block needed ``b`` (1..L+1) and ``n`` client blocks so far:

* ``F[b, n]``: free (at the client, or a server just ran to the end of its range):
  the next block may run on the client or start a visit to a server hosting it;
* ``X[b, n]``: a server visit stopped before the end of its range, so the client
  must run block ``b``.

Transitions (costs from :meth:`JointCluster.costs`): client block ``b`` (``+ cc``),
a full visit to server ``j`` from ``b`` to the end of its range
(``+ visit[j] + (e_j - b) block[j]``), or a visit stopped at ``e < e_j``
(``+ visit[j] + (e - b) block[j]``, into ``X[e]``). Every transition increases
``b``, so one pass in ``b`` order is exact. O(L^2 S K) time, O(L K) memory.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def joint_route_kernel(first, count, visit, block, client_cost, max_client, num_blocks):
    """Least total time with exactly ``n`` client blocks, for n = 0..max_client.

    Returns ``(best, pf_kind, pf_b, pf_j, px_b, px_j)``: ``best[n]`` (inf where no
    route exists) and the predecessor tables that rebuild a route
    (:func:`splitopt.joint.route.rebuild`).
    ``pf_kind[b, n]``: 0 = client block from F, 1 = client block from X,
    2 = full server visit from ``F[pf_b, n]`` on server ``pf_j``.
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
        for n in range(K + 1):
            # client runs block b
            if n < K:
                f = F[b, n]
                if f < inf:
                    v = f + client_cost
                    if v < F[b + 1, n + 1]:
                        F[b + 1, n + 1] = v
                        pf_kind[b + 1, n + 1] = 0
                        pf_b[b + 1, n + 1] = b
                x = X[b, n]
                if x < inf:
                    v = x + client_cost
                    if v < F[b + 1, n + 1]:
                        F[b + 1, n + 1] = v
                        pf_kind[b + 1, n + 1] = 1
                        pf_b[b + 1, n + 1] = b
            f = F[b, n]
            if f == inf:
                continue
            for j in range(S):
                m = count[j]
                if m <= 0:
                    continue
                a = first[j]
                e = a + m  # the block after j's range
                if not (a <= b < e) or e > L + 1:
                    continue
                base = f + visit[j]
                # the full visit, to the end of j's range
                v = base + (e - b) * block[j]
                if v < F[e, n]:
                    F[e, n] = v
                    pf_kind[e, n] = 2
                    pf_b[e, n] = b
                    pf_j[e, n] = j
                # stopped early: the client takes block stop next
                if n < K:
                    for stop in range(b + 1, e):
                        v = base + (stop - b) * block[j]
                        if v < X[stop, n]:
                            X[stop, n] = v
                            px_b[stop, n] = b
                            px_j[stop, n] = j
    best = F[L + 1, :].copy()
    return best, pf_kind, pf_b, pf_j, px_b, px_j


__all__ = ["joint_route_kernel"]
