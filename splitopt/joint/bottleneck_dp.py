"""The numba kernel of the joint per-request *throughput* DP (pure functions on arrays).

A request's route is read as a pipeline of per-token stages, one per device (our
reading of PipeEdge's bottleneck in the joint model; scored by
:func:`splitopt.joint.evaluate.route_bottleneck`): the client's blocks, each server's
blocks, and each server's link (its round trips). The route's bottleneck is the
largest stage (s per token).

The DP searches the routes of the form *client prefix -> chain of servers -> client
suffix* (either client part may be empty): the issue's route form, in which every
server is visited at most once, so a device's stage is its one segment and the
bottleneck is a max over segments. Routes with client blocks *inside* the chain
(which the time DP allows) are left out: a server visited twice would need its
visits summed, which a max-DP over (block, client blocks) cannot track.

States, for the next block needed ``b`` (1..L+1) and ``n`` client blocks so far (the
value: the largest server stage so far):

* ``A``: in the client prefix (no server visited yet);
* ``F``: a server visit ran to the end of its range (the chain goes on, or the
  client suffix starts);
* ``X``: a server visit stopped before the end of its range (the suffix must start);
* ``Z``: in the client suffix (only client blocks follow).

A visit to ``j`` entered at ``b`` and left after block ``s`` adds the stages
``rtt_s[c, j]`` and ``(s - b + 1) decode_s[j]``; client blocks add nothing until the
end, where the client's stage ``n * client_decode`` depends only on ``n``:
``best[n] = max(min(A, F, Z)[L + 1, n], n * client_decode)``. O(L^2 S K) time.
"""

from __future__ import annotations

import numpy as np

from splitopt.solvers.jit import njit

#: State indices of the kernel's tables.
A, F, X, Z = 0, 1, 2, 3


@njit(cache=True)
def joint_bottleneck_kernel(first, count, link, block, client_decode, max_client, num_blocks):
    """Least bottleneck (s per token) with exactly ``n`` client blocks, n = 0..max_client,
    over client prefix -> server chain -> client suffix routes.

    ``link[j]``: server ``j``'s per-token round trip (s); ``block[j]``: its decode time
    per block (s); ``client_decode``: the client's decode time per block (s).
    Returns ``(best, end_state, val, p_state, p_b, p_j)``: ``best[n]`` (inf where no
    route exists), the state the best route with ``n`` client blocks ends in, the
    table ``val[state, b, n]`` and its predecessors (state, block, server; server -1:
    a client block) from which :func:`splitopt.joint.route.rebuild_bottleneck`
    rebuilds the route.
    """
    L = num_blocks
    K = max_client
    S = first.shape[0]
    inf = np.inf
    val = np.full((4, L + 2, K + 1), inf)
    p_state = np.full((4, L + 2, K + 1), -1, dtype=np.int64)
    p_b = np.zeros((4, L + 2, K + 1), dtype=np.int64)
    p_j = np.full((4, L + 2, K + 1), -1, dtype=np.int64)
    val[0, 1, 0] = 0.0
    for b in range(1, L + 1):
        # every transition out of b goes to a larger block, so val[:, b] is final here
        for n in range(K):  # the client runs block b
            for st in range(4):
                v = val[st, b, n]
                to = 0 if st == 0 else 3
                if v < val[to, b + 1, n + 1]:
                    val[to, b + 1, n + 1] = v
                    p_state[to, b + 1, n + 1] = st
                    p_b[to, b + 1, n + 1] = b
                    p_j[to, b + 1, n + 1] = -1
        for j in range(S):  # a visit to server j entered at b (from A or F), left after s
            m = count[j]
            a = first[j]
            hi = a + m - 1
            if m <= 0 or hi > L or not (a <= b <= hi):
                continue
            for st in range(2):
                for n in range(K + 1):
                    f = val[st, b, n]
                    if f == inf:
                        continue
                    base = f if f > link[j] else link[j]
                    for s in range(b, hi + 1):
                        comp = (s - b + 1) * block[j]
                        v = base if base > comp else comp
                        if s == hi:
                            to = 1
                        elif s < L and n < K:
                            to = 2
                        else:
                            continue
                        if v < val[to, s + 1, n]:
                            val[to, s + 1, n] = v
                            p_state[to, s + 1, n] = st
                            p_b[to, s + 1, n] = b
                            p_j[to, s + 1, n] = j
    best = np.full(K + 1, inf)
    end_state = np.full(K + 1, -1, dtype=np.int64)
    for n in range(K + 1):
        for st in (0, 1, 3):
            f = val[st, L + 1, n]
            if f < inf:
                c = n * client_decode
                v = f if f > c else c
                if v < best[n]:
                    best[n] = v
                    end_state[n] = st
    return best, end_state, val, p_state, p_b, p_j


__all__ = ["A", "F", "X", "Z", "joint_bottleneck_kernel"]
