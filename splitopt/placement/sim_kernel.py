"""numba kernels of the online simulator (pure functions on arrays, cache=True).

The state of a server is a set of *reservations* (start, end, bytes): a request
holds ``bytes`` of attention cache on the server from its admission ``start`` until
its completion ``end`` (SPEC-PLACEMENT P3). Routing and admission are decided when a
request arrives; an admission in the future is a reservation that later arrivals
see. The earliest admission time at server j for ``need`` bytes is the earliest
tau >= t such that the reserved level stays <= cap_j - need on [tau, infinity)
(ours: no overtaking of the memory already promised, so no admission ever breaks a
memory limit; the authors' MATLAB instead counts a waiting request's cache from its
arrival).

Per server the reservations are kept as sorted elementary intervals
``[ev_p[i], ev_p[i+1])`` with level ``ev_l[i]`` (the last one extends to infinity at
level 0), rebuilt only when a reservation is added, together with the server's
waiting staircase (the staircase from any later time is a prefix of it).

Speed (every shortcut gives bit-identical results; ``tests/test_sim_kernel.py`` and
``benchmarks/sim_exactness.py`` check it): the memory-blind least-cost route is reused
when none of its hops waits; otherwise the waiting-penalised DP skips every server
whose memory-blind least cost through it (a lower bound) exceeds the cost, at the
arrival time, of the memory-blind route or of one of the class's recent routes (an
upper bound), and scans only the block boundaries it has reached; waits are binary
searches in the cached staircases.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from splitopt.placement.joint_dp import joint_route_kernel
from splitopt.placement.routing import dag_route_kernel

#: Relative memory tolerance (as :data:`splitopt.placement.evaluate.RTOL`).
TOL = 1e-9

MODE_WS_RR = 0  # waiting-penalised shortest path (Sun et al., WS_RR.m)
MODE_PETALS = 1  # PETALS min-latency with a penalty when a server has no cache room now
MODE_SHORTEST = 2  # memory-blind shortest path, then wait


@njit(cache=True)
def _stable_order(times, k, order, tmp):
    """Writes into ``order[:2k]`` the stable ascending order of ``times[:2k]`` (ties in
    index order: what ``np.argsort(times[:2k], kind="mergesort")`` returns), for times
    interleaved as (start, end) per reservation: the starts and the ends are each
    nearly sorted already, so each is insertion-sorted and the two merged; no
    allocation."""
    for base in (0, 1):
        off = base * k
        for i in range(k):
            x = 2 * i + base
            tx = times[x]
            p = i
            while p > 0 and times[tmp[off + p - 1]] > tx:
                tmp[off + p] = tmp[off + p - 1]
                p -= 1
            tmp[off + p] = x
    i = 0
    q = k
    o = 0
    while i < k and q < 2 * k:
        a = tmp[i]
        b = tmp[q]
        if times[a] < times[b] or (times[a] == times[b] and a < b):
            order[o] = a
            i += 1
        else:
            order[o] = b
            q += 1
        o += 1
    while i < k:
        order[o] = tmp[i]
        i += 1
        o += 1
    while q < 2 * k:
        order[o] = tmp[q]
        q += 1
        o += 1


@njit(cache=True)
def _rebuild(j, t, res_s, res_e, res_x, res_n, ev_p, ev_l, ev_n, peak, times, delta, order, tmp):
    """Drop reservations that ended by ``t``; rebuild server j's sorted intervals and
    ``peak[j]``, the highest level of any of them (an upper bound on the level from any
    later time on). ``times, delta, order, tmp``: scratch arrays of length >= 2 n."""
    n = res_n[j]
    k = 0
    for i in range(n):
        if res_e[j, i] > t:
            res_s[j, k] = res_s[j, i]
            res_e[j, k] = res_e[j, i]
            res_x[j, k] = res_x[j, i]
            k += 1
    res_n[j] = k
    peak[j] = 0.0
    if k == 0:
        ev_n[j] = 0
        return
    for i in range(k):
        times[2 * i] = res_s[j, i]
        delta[2 * i] = res_x[j, i]
        times[2 * i + 1] = res_e[j, i]
        delta[2 * i + 1] = -res_x[j, i]
    _stable_order(times, k, order, tmp)
    level = 0.0
    m = 0
    i = 0
    while i < 2 * k:
        tt = times[order[i]]
        while i < 2 * k and times[order[i]] == tt:
            level += delta[order[i]]
            i += 1
        if level < 0.0 and level > -1e-6:
            level = 0.0
        ev_p[j, m] = tt
        ev_l[j, m] = level
        if level > peak[j]:
            peak[j] = level
        m += 1
    ev_n[j] = m


@njit(cache=True)
def _build_staircase(j, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n):
    """Server j's full waiting staircase (from before its first event), kept in
    ``cst_l[j], cst_t[j]`` with ``cst_n[j]`` entries: the staircase from any time t
    (:func:`_staircase`) is its first :func:`_stair_len` entries, so it is built once
    per change of the server's reservations instead of once per arrival."""
    n = ev_n[j]
    ns = 0
    rm = 0.0
    for i in range(n - 1, -1, -1):
        lvl = ev_l[j, i]
        if lvl > rm and i + 1 < n:
            rm = lvl
            cst_l[j, ns] = lvl
            cst_t[j, ns] = ev_p[j, i + 1]
            ns += 1
    cst_n[j] = ns


@njit(cache=True)
def _stair_len(j, t, cst_t, cst_n):
    """Entries of server j's cached staircase that belong to the staircase from time t:
    those with time > t (times decrease along it; binary search)."""
    lo = 0
    hi = cst_n[j]
    while lo < hi:
        mid = (lo + hi) >> 1
        if cst_t[j, mid] > t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _staircase(j, t, ev_p, ev_l, ev_n, st_l, st_t):
    """Server j's waiting staircase from time t: entries k with strictly increasing
    levels ``st_l[k]`` and decreasing times ``st_t[k]``; the earliest admission for a
    level threshold theta is ``st_t[k]`` for the first k with ``st_l[k] > theta`` (t if
    none). Returns the number of entries."""
    n = ev_n[j]
    ns = 0
    rm = 0.0
    for i in range(n - 1, -1, -1):
        lvl = ev_l[j, i]
        if lvl > rm and i + 1 < n:
            rm = lvl
            st_l[ns] = lvl
            st_t[ns] = ev_p[j, i + 1]
            ns += 1
        if ev_p[j, i] <= t:
            break
    return ns


@njit(cache=True)
def _earliest(j, t, threshold, ev_p, ev_l, ev_n):
    """Earliest tau >= t with level <= threshold on [tau, inf) at server j (inf if never)."""
    if threshold < -1e-9:
        return np.inf
    n = ev_n[j]
    for i in range(n - 1, -1, -1):
        if ev_p[j, i] <= t:
            # interval i is the one that contains t (it extends to ev_p[i + 1])
            if ev_l[j, i] > threshold:
                return ev_p[j, i + 1] if i + 1 < n else t
            return t
        if ev_l[j, i] > threshold:
            return ev_p[j, i + 1] if i + 1 < n else ev_p[j, i]
    return t


@njit(cache=True)
def _earliest_st(j, t, threshold, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n):
    """:func:`_earliest` (the same value in every case) by binary searches in server
    j's cached staircase instead of a scan of its intervals."""
    if threshold < -1e-9:
        return np.inf
    n = ev_n[j]
    if n == 0:
        return t
    if threshold < 0.0:  # levels of 0 count then; the staircase holds levels > 0 only
        return _earliest(j, t, threshold, ev_p, ev_l, ev_n)
    if ev_l[j, n - 1] > threshold:  # the last interval (not in the staircase)
        return ev_p[j, n - 1] if ev_p[j, n - 1] > t else t
    ns = _stair_len(j, t, cst_t, cst_n)
    lo = 0
    hi = ns
    while lo < hi:  # first entry above the threshold (levels increase along it)
        mid = (lo + hi) >> 1
        if cst_l[j, mid] > threshold:
            hi = mid
        else:
            lo = mid + 1
    return cst_t[j, lo] if lo < ns else t


@njit(cache=True)
def _level_now(j, t, ev_p, ev_l, ev_n):
    """Bytes reserved at server j at time t (the level of the last interval starting
    at or before t; binary search)."""
    lo = 0
    hi = ev_n[j]
    while lo < hi:
        mid = (lo + hi) >> 1
        if ev_p[j, mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return ev_l[j, lo - 1] if lo > 0 else 0.0


@njit(cache=True)
def _grow(a, k):
    b = np.zeros((a.shape[0], k), dtype=a.dtype)
    b[:, : a.shape[1]] = a
    return b


@njit(cache=True)
def _through_bounds(first, count, order, r_hop, r_block, r_sink, L):
    """``lb[c, j]``: the least memory-blind routing cost (no waits, no penalties, no
    cache limits) of class c over routes through server j (inf if j hosts nothing or
    no route passes it). Forward values are summed in the order :func:`_dp_route`
    sums them, so they never exceed the DP's values."""
    C = r_hop.shape[0]
    S = first.shape[0]
    lb = np.full((C, S), np.inf)
    f = np.empty(L + 2)
    h = np.empty(L + 2)
    for c in range(C):
        f[:] = np.inf
        f[1] = 0.0
        for q in range(S):
            j = order[q]
            m = count[j]
            if m <= 0:
                continue
            a = first[j]
            e = a + m
            val = np.inf
            for b in range(a, e):
                v = f[b] + (e - b) * r_block[c, j]
                if v < val:
                    val = v
            d = val + r_hop[c, j]
            if e == L + 1:
                d += r_sink[c, j]
            if d < f[e]:
                f[e] = d
        h[:] = np.inf
        h[L + 1] = 0.0
        for b in range(L, 0, -1):
            for j in range(S):
                m = count[j]
                a = first[j]
                e = a + m
                if m <= 0 or b < a or b >= e:
                    continue
                d = (e - b) * r_block[c, j] + r_hop[c, j]
                if e == L + 1:
                    d += r_sink[c, j]
                d += h[e]
                if d < h[b]:
                    h[b] = d
        for j in range(S):
            m = count[j]
            if m <= 0:
                continue
            a = first[j]
            e = a + m
            val = np.inf
            for b in range(a, e):
                v = f[b] + (e - b) * r_block[c, j]
                if v < val:
                    val = v
            d = val + r_hop[c, j]
            if e == L + 1:
                d += r_sink[c, j]
            lb[c, j] = d + h[e]
    return lb


@njit(cache=True)
def _route_cost(
    t,
    c,
    sc,
    hops,
    srv,
    ent,
    first,
    count,
    cap,
    r_hop,
    r_block,
    r_sink,
    mode,
    penalty_s,
    L,
    peak,
    ev_p,
    ev_l,
    ev_n,
    cst_l,
    cst_t,
    cst_n,
):
    """The cost :func:`_dp_route` gives the route ``srv[:hops]`` (entry blocks
    ``ent[:hops]``) of class c at time t (inf if it gives it none, or more
    conservatively); an upper bound of its least cost, used to prune it."""
    if hops <= 0:
        return np.inf
    tot = 0.0
    for h in range(hops):
        j = srv[h]
        b = ent[h]
        e = first[j] + count[j]
        capj = cap[j] * (1 + TOL)
        if (e - b) * sc > capj:
            return np.inf
        d = (e - b) * r_block[c, j] + r_hop[c, j]
        if mode == MODE_WS_RR:
            theta = capj - (e - b) * sc
            if theta < -1e-9:
                return np.inf
            ns = _stair_len(j, t, cst_t, cst_n)
            k = 0
            while k < ns and cst_l[j, k] <= theta:
                k += 1
            w = cst_t[j, k] if k < ns else t
            if w > t:
                d += w - t
        elif (
            mode == MODE_PETALS
            and peak[j] + sc * count[j] > capj
            and _level_now(j, t, ev_p, ev_l, ev_n) + sc * count[j] > capj
        ):
            d += penalty_s
        if e == L + 1:
            d += r_sink[c, j]
        tot += d
    return tot


@njit(cache=True)
def _dp_route(
    t,
    c,
    sc,
    first,
    count,
    cap,
    order,
    r_hop,
    r_block,
    r_sink,
    mode,
    penalty_s,
    L,
    peak,
    ev_p,
    ev_l,
    ev_n,
    cst_l,
    cst_t,
    cst_n,
    lb,
    ub,
    best,
    best_from,
    pred_b,
    route,
    reached,
):
    """The policy's least-cost route at time t over the block-range DAG; writes it
    reversed into ``route`` (entry blocks in ``pred_b``) and returns its hop count (0 if
    none). WS-RR adds each hop's wait for cache; PETALS adds ``penalty_s`` at a server
    without cache room now.

    Pruning (exact): ``lb[c, j]`` is the least memory-blind cost of a route through j
    (waits and penalties are >= 0, so no route through j costs less) and ``ub`` the
    cost of some route at time t; a server with ``lb > ub`` (with a relative margin
    far above rounding) can be on no least-cost route, nor beat one at any block it
    ends, so it is skipped. The waits' staircases are the servers' cached ones."""
    S = first.shape[0]
    best[:] = np.inf
    best_from[:] = -1
    best[1] = 0.0
    reached[0] = 1
    nr = 1
    ub_m = ub * (1.0 + 1e-9) + 1e-12
    for q in range(S):
        j = order[q]
        m = count[j]
        if m <= 0:
            continue
        a = first[j]
        e = a + m
        val = np.inf
        arg = -1
        capj = cap[j] * (1 + TOL)
        slow = False
        ns = 0
        if mode == MODE_WS_RR and peak[j] + m * sc > capj:
            ns = _stair_len(j, t, cst_t, cst_n)
            peak[j] = cst_l[j, ns - 1] if ns > 0 else 0.0  # exact peak from t on
            slow = peak[j] + m * sc > capj
        if lb[c, j] > ub_m:
            continue
        # only the reached entries (best finite) of [a, e) can win: ``reached`` lists
        # them ascending (servers come in order of end block)
        lo = 0
        hi = nr
        while lo < hi:
            mid = (lo + hi) >> 1
            if reached[mid] < a:
                lo = mid + 1
            else:
                hi = mid
        if slow:
            k = 0
            for i in range(lo, nr):
                b = reached[i]
                if b >= e:
                    break
                theta = capj - (e - b) * sc
                if theta < -1e-9:
                    continue
                while k < ns and cst_l[j, k] <= theta:
                    k += 1
                w = cst_t[j, k] if k < ns else t
                if w < t:
                    w = t
                v = best[b] + (e - b) * r_block[c, j] + (w - t)
                if v < val:
                    val = v
                    arg = b
        else:
            # entries that fit (a suffix of [a, e)); an unreached entry (best inf)
            # never wins, so it needs no test
            b0 = a
            while b0 < e and (e - b0) * sc > capj:
                b0 += 1
            rb = r_block[c, j]
            for i in range(lo, nr):
                b = reached[i]
                if b >= e:
                    break
                if b < b0:
                    continue
                v = best[b] + (e - b) * rb
                if v < val:
                    val = v
                    arg = b
        if arg < 0:
            continue
        d = val + r_hop[c, j]
        if (
            mode == MODE_PETALS
            and peak[j] + sc * m > capj
            and _level_now(j, t, ev_p, ev_l, ev_n) + sc * m > capj
        ):
            d += penalty_s
        if e == L + 1:
            d += r_sink[c, j]
        if d < best[e]:
            if best[e] == np.inf:
                reached[nr] = e
                nr += 1
            best[e] = d
            best_from[e] = j
            pred_b[j] = arg
    if best[L + 1] == np.inf:
        return 0
    hops = 0
    b = L + 1
    while b != 1:
        j = best_from[b]
        route[hops] = j
        hops += 1
        b = pred_b[j]
    return hops


@njit(cache=True)
def _sessions(j, t, res_e, res_n):
    """Requests holding cache at server j at time t (reservations ending after t; with
    reservations from arrival every one of them started by t)."""
    n = 0
    for i in range(res_n[j]):
        if res_e[j, i] > t:
            n += 1
    return n


@njit(cache=True)
def _penalised(j, t, sc, count, cap, peak, ev_p, ev_l, ev_n, session_rule, res_e, res_n):
    """PETALS's +penalty test at server j at time t. Ours: no cache room now for a
    request running all of j's blocks. ``session_rule`` (the authors' MATLAB,
    ``Petals_online.m``): the sessions at j equal exactly floor(cap_j / (m_j s_c))."""
    capj = cap[j] * (1 + TOL)
    if session_rule:
        if count[j] <= 0 or sc <= 0.0:
            return False
        return _sessions(j, t, res_e, res_n) == np.floor(capj / (count[j] * sc))
    return (
        peak[j] + sc * count[j] > capj and _level_now(j, t, ev_p, ev_l, ev_n) + sc * count[j] > capj
    )


@njit(cache=True)
def _server_dp(
    t,
    c,
    sc,
    first,
    count,
    cap,
    order,
    r_hop,
    r_block,
    r_sink,
    pair,
    use_pair,
    penalty_s,
    L,
    peak,
    ev_p,
    ev_l,
    ev_n,
    session_rule,
    res_e,
    res_n,
    bestS,
    pred_b,
    route,
):
    """PETALS's min-latency route over servers (a server always runs to the end of its
    span): entering j first costs ``r_hop[c, j]``, after server i ``pair[i, j]`` when
    ``use_pair`` (the servers' own round trip / 2 + overhead) else ``r_hop[c, j]``;
    each block ``r_block[c, j]``; ``penalty_s`` where :func:`_penalised`; the last
    server adds ``r_sink[c, j]``. Writes the route reversed into ``route`` (entry
    blocks in ``pred_b``); returns its hop count (0 if none)."""
    S = first.shape[0]
    pred = np.full(S, -1, dtype=np.int64)
    bestS[:] = np.inf
    best_end = np.inf
    last = -1
    for q in range(S):
        j = order[q]
        m = count[j]
        if m <= 0:
            continue
        a = first[j]
        e = a + m
        val = np.inf
        arg = -1
        if a <= 1:
            val = r_hop[c, j] + (e - 1) * r_block[c, j]
        for p in range(q):
            i = order[p]
            if count[i] <= 0 or bestS[i] == np.inf:
                continue
            ei = first[i] + count[i]
            if ei < a or ei >= e:
                continue
            hop = pair[i, j] if use_pair else r_hop[c, j]
            v = bestS[i] + hop + (e - ei) * r_block[c, j]
            if v < val:
                val = v
                arg = i
        if val == np.inf:
            continue
        if _penalised(j, t, sc, count, cap, peak, ev_p, ev_l, ev_n, session_rule, res_e, res_n):
            val += penalty_s
        bestS[j] = val
        pred[j] = arg
        if e == L + 1:
            tot = val + r_sink[c, j]
            if tot < best_end:
                best_end = tot
                last = j
    if last < 0:
        return 0
    hops = 0
    j = last
    while j >= 0:
        route[hops] = j
        hops += 1
        i = pred[j]
        pred_b[j] = first[i] + count[i] if i >= 0 else 1
        j = i
    return hops


@njit(cache=True)
def simulate_routes_kernel(
    arrive,
    jcls,
    need_per_block,
    first,
    count,
    cap,
    hop_true,
    block_true,
    pre_hop,
    pre_block,
    r_hop,
    r_block,
    r_sink,
    mode,
    penalty_s,
    backoff,
    backoff_cap_s,
    alloc_delay_s,
    L,
    routes_out,
    pair,
    from_arrival,
    session_rule,
):
    """:func:`simulate_joint_routes_kernel` with no fixed route: every request is
    routed by the policy (``mode``); the arguments and results are its."""
    C = r_hop.shape[0]
    return simulate_joint_routes_kernel(
        arrive,
        jcls,
        need_per_block,
        first,
        count,
        cap,
        hop_true,
        block_true,
        pre_hop,
        pre_block,
        r_hop,
        r_block,
        r_sink,
        mode,
        penalty_s,
        backoff,
        backoff_cap_s,
        alloc_delay_s,
        L,
        routes_out,
        pair,
        from_arrival,
        session_rule,
        np.zeros(C, dtype=np.int64),
        np.zeros((C, 1), dtype=np.int64),
        np.zeros((C, 1), dtype=np.int64),
        np.zeros(C),
        np.zeros(C),
        np.zeros(C, dtype=np.int64),
        np.zeros((C, 1)),
        np.zeros((C, 1)),
        np.zeros(C),
        np.zeros((C, 1)),
        np.zeros((C, 1)),
        np.zeros(C),
        np.zeros(C),
    )[:6]


@njit(cache=True)
def simulate_joint_routes_kernel(
    arrive,
    jcls,
    need_per_block,
    first,
    count,
    cap,
    hop_true,
    block_true,
    pre_hop,
    pre_block,
    r_hop,
    r_block,
    r_sink,
    mode,
    penalty_s,
    backoff,
    backoff_cap_s,
    alloc_delay_s,
    L,
    routes_out,
    pair,
    from_arrival,
    session_rule,
    fix_hops,
    fix_srv,
    fix_blk,
    fix_tot,
    fix_pre,
    dyn_k,
    dyn_visit,
    dyn_block,
    dyn_client,
    dyn_pre_visit,
    dyn_pre_block,
    dyn_pre_client,
    dyn_sla,
):
    """Simulate requests arriving at ``arrive`` (sorted) of classes ``jcls``.

    Per class c and server j: ``hop_true[c, j] + k * block_true[c, j]`` is the
    evaluator's time at j for k blocks; ``pre_*`` the same for the prefill part; ``r_*``
    the policy's routing costs. ``need_per_block[c]`` is s_c (bytes per block).
    ``routes_out``: an (N, S) int array to record each route in (-1 padded), or any
    array of another shape (e.g. (1, 1)) not to record them.
    ``pair``: an (S, S) array of PETALS's server-to-server hop costs (s), or any array
    of another shape not to use them. ``from_arrival``: a request holds its cache from
    its arrival instead of its admission (the authors' MATLAB). ``session_rule``:
    PETALS's penalty by the authors' session count (:func:`_penalised`). With a pair
    matrix or the session rule, PETALS routes by :func:`_server_dp`.
    Fixed routes (clients that run blocks, :mod:`splitopt.joint.online`): a class c
    with ``fix_hops[c] > 0`` is not routed by the policy; its requests use the
    servers ``fix_srv[c, :fix_hops[c]]`` (in route order, each once) holding
    ``fix_blk[c, h]`` blocks' cache each, with service ``fix_tot[c]`` and prefill
    ``fix_pre[c]`` (the joint evaluator's, client segments included), admitted when
    every one of those servers has room. Classes with ``fix_hops[c] == 0`` are routed
    exactly as without fixed routes.
    Client parts chosen at arrival (``dyn_k[c] > 0``, the most blocks class c's client
    holds): the policy routes the request as usual (its route: 0 client blocks); the
    joint DP (:func:`splitopt.placement.joint_dp.joint_route_kernel`) gives, per number
    n = 1..dyn_k[c] of client blocks, its best route with each server visit's cost
    ``dyn_visit[c, j]`` raised by the server's wait now for the cache of its whole range
    (WS-RR's penalty), per-block costs ``dyn_block[c, j]`` and ``dyn_client[c]``. Every
    candidate is valued at its actual wait now (for the blocks it runs on each server)
    plus its T_r; the request takes the candidate with the most client blocks whose
    value is within ``dyn_sla[c]`` (inf: none is), else the least value (ties to the
    policy's route). The ``dyn_pre_*`` arrays are the prefill parts.
    Returns (admit, service, prefill, in_system_seen, hops, first_server,
    client_blocks) with ``client_blocks[r] = -1`` unless request r's client part was
    chosen at arrival.
    ``admit[i] = inf`` when no route exists (a block hosted nowhere, or a need that
    exceeds a server's whole cache).
    """
    N = arrive.shape[0]
    S = first.shape[0]
    K = 8
    res_s = np.zeros((S, K))
    res_e = np.zeros((S, K))
    res_x = np.zeros((S, K))
    res_n = np.zeros(S, dtype=np.int64)
    ev_p = np.zeros((S, 2 * K))
    ev_l = np.zeros((S, 2 * K))
    ev_n = np.zeros(S, dtype=np.int64)
    dirty = np.zeros(S, dtype=np.bool_)
    peak = np.zeros(S)
    cst_l = np.zeros((S, 2 * K + 1))
    cst_t = np.zeros((S, 2 * K + 1))
    cst_n = np.zeros(S, dtype=np.int64)
    sc_times = np.empty(2 * K)
    sc_delta = np.empty(2 * K)
    sc_order = np.empty(2 * K, dtype=np.int64)
    sc_tmp = np.empty(2 * K, dtype=np.int64)
    admit = np.full(N, np.inf)
    service = np.zeros(N)
    prefill = np.zeros(N)
    seen = np.zeros(N, dtype=np.int64)
    hops_out = np.zeros(N, dtype=np.int64)
    first_srv = np.full(N, -1, dtype=np.int64)
    end = first + count
    order = np.argsort(end, kind="mergesort")
    best = np.empty(L + 2)
    best_from = np.empty(L + 2, dtype=np.int64)
    reached = np.empty(L + 2, dtype=np.int64)
    pred_b = np.zeros(S, dtype=np.int64)
    route = np.empty(S, dtype=np.int64)
    kblk = np.zeros(S, dtype=np.int64)  # blocks per hop of a fixed route
    vis = np.empty(S)  # penalised visit costs of the joint DP
    route_d = np.empty(S, dtype=np.int64)
    kblk_d = np.empty(S, dtype=np.int64)
    pos = np.empty(S, dtype=np.int64)
    client_out = np.full(N, -1, dtype=np.int64)
    tot_d = 0.0
    pre_d = 0.0
    use_pair = pair.shape[0] == S and pair.shape[1] == S and S > 1
    server_dp = mode == MODE_PETALS and (use_pair or session_rule)
    bestS = np.empty(S)
    heap = [np.inf]  # completion times of requests in the system (arrived, not done)
    heap.pop()
    # the memory-blind least-cost route per class: when no hop of it waits (or, for
    # PETALS, is penalised) it is also the least penalised route, so the DP is skipped
    C = r_hop.shape[0]
    st_route = np.zeros((C, S), dtype=np.int64)
    st_hops = np.zeros(C, dtype=np.int64)
    allowed = count > 0
    buf = np.empty(S, dtype=np.int64)
    st_entry = np.zeros((C, S), dtype=np.int64)
    for cc in range(C):
        cost, h = dag_route_kernel(
            first, count, r_hop[cc], r_block[cc], r_sink[cc], allowed, L, buf
        )
        if cost < np.inf:
            st_hops[cc] = h
            for i in range(h):
                st_route[cc, i] = buf[h - 1 - i]  # reversed, as the DP leaves ``route``
            for i in range(h):
                st_entry[cc, i] = 1 if i == h - 1 else first[buf[h - 2 - i]] + count[buf[h - 2 - i]]
    # pruning of the DP: lower bounds per (class, server), upper bounds from the
    # memory-blind route and from the class's previous route, both costed at time t
    lb = _through_bounds(first, count, order, r_hop, r_block, r_sink, L)
    P = 4  # recent routes kept per class
    prev_srv = np.zeros((C, P, S), dtype=np.int64)
    prev_ent = np.zeros((C, P, S), dtype=np.int64)
    prev_hops = np.zeros((C, P), dtype=np.int64)
    prev_next = np.zeros(C, dtype=np.int64)
    for r in range(N):
        t = arrive[r]
        while len(heap) > 0 and heap[0] <= t:
            _heappop(heap)
        seen[r] = len(heap)
        c = jcls[r]
        sc = need_per_block[c]
        for j in range(S):
            if dirty[j]:
                _rebuild(
                    j,
                    t,
                    res_s,
                    res_e,
                    res_x,
                    res_n,
                    ev_p,
                    ev_l,
                    ev_n,
                    peak,
                    sc_times,
                    sc_delta,
                    sc_order,
                    sc_tmp,
                )
                _build_staircase(j, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n)
                dirty[j] = False
        fixed = fix_hops[c] > 0
        dyn = False
        fast = st_hops[c] > 0 and not server_dp and not fixed
        if fast:
            for h in range(st_hops[c]):
                j = st_route[c, h]
                capj = cap[j] * (1 + TOL)
                if h == st_hops[c] - 1:
                    k = first[j] + count[j] - 1
                else:
                    i = st_route[c, h + 1]
                    k = first[j] + count[j] - first[i] - count[i]
                if k * sc > capj:
                    fast = False
                    break
                if mode == MODE_SHORTEST:
                    continue
                if mode == MODE_WS_RR:
                    if (
                        peak[j] + k * sc > capj
                        and _earliest_st(j, t, capj - k * sc, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n)
                        > t
                    ):
                        fast = False
                        break
                elif (
                    peak[j] + count[j] * sc > capj
                    and _level_now(j, t, ev_p, ev_l, ev_n) + count[j] * sc > capj
                ):
                    fast = False
                    break
        if fixed:
            hops = fix_hops[c]
            for h in range(hops):
                route[h] = fix_srv[c, hops - 1 - h]  # reversed, as the policies leave it
                kblk[h] = fix_blk[c, hops - 1 - h]
        elif fast:
            hops = st_hops[c]
            nxt = 1
            for h in range(hops - 1, -1, -1):
                j = st_route[c, h]
                route[h] = j
                pred_b[j] = nxt
                nxt = first[j] + count[j]
        elif server_dp:
            hops = _server_dp(
                t,
                c,
                sc,
                first,
                count,
                cap,
                order,
                r_hop,
                r_block,
                r_sink,
                pair,
                use_pair,
                penalty_s,
                L,
                peak,
                ev_p,
                ev_l,
                ev_n,
                session_rule,
                res_e,
                res_n,
                bestS,
                pred_b,
                route,
            )
        else:
            ub = _route_cost(
                t,
                c,
                sc,
                st_hops[c],
                st_route[c],
                st_entry[c],
                first,
                count,
                cap,
                r_hop,
                r_block,
                r_sink,
                mode,
                penalty_s,
                L,
                peak,
                ev_p,
                ev_l,
                ev_n,
                cst_l,
                cst_t,
                cst_n,
            )
            for q in range(P):
                u = _route_cost(
                    t,
                    c,
                    sc,
                    prev_hops[c, q],
                    prev_srv[c, q],
                    prev_ent[c, q],
                    first,
                    count,
                    cap,
                    r_hop,
                    r_block,
                    r_sink,
                    mode,
                    penalty_s,
                    L,
                    peak,
                    ev_p,
                    ev_l,
                    ev_n,
                    cst_l,
                    cst_t,
                    cst_n,
                )
                if u < ub:
                    ub = u
            hops = _dp_route(
                t,
                c,
                sc,
                first,
                count,
                cap,
                order,
                r_hop,
                r_block,
                r_sink,
                mode,
                penalty_s,
                L,
                peak,
                ev_p,
                ev_l,
                ev_n,
                cst_l,
                cst_t,
                cst_n,
                lb,
                ub,
                best,
                best_from,
                pred_b,
                route,
                reached,
            )
        if hops > 0 and not fast and not fixed:
            q = prev_next[c]
            prev_next[c] = (q + 1) % P
            prev_hops[c, q] = hops
            for h in range(hops):
                prev_srv[c, q, h] = route[h]
                prev_ent[c, q, h] = pred_b[route[h]]
        if not fixed and dyn_k[c] > 0:
            # a client part chosen now: the joint DP's best route per number n >= 1 of
            # client blocks (visits penalised by their wait for the whole range), each
            # valued at its actual wait + T_r, against the policy's route (n = 0)
            val_p = np.inf
            if hops > 0:
                ready = t
                tot = 0.0
                for h in range(hops):
                    j = route[h]
                    k = first[j] + count[j] - pred_b[j]
                    w = _earliest_st(
                        j, t, cap[j] * (1 + TOL) - k * sc, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n
                    )
                    if w > ready:
                        ready = w
                    tot += hop_true[c, j] + k * block_true[c, j]
                val_p = ready - t + tot
            for j in range(S):
                vis[j] = np.inf
                if count[j] > 0:
                    w = _earliest_st(
                        j,
                        t,
                        cap[j] * (1 + TOL) - count[j] * sc,
                        ev_p,
                        ev_l,
                        ev_n,
                        cst_l,
                        cst_t,
                        cst_n,
                    )
                    if w < np.inf:
                        vis[j] = dyn_visit[c, j] + (w - t)
            tb = joint_route_kernel(first, count, vis, dyn_block[c], dyn_client[c], dyn_k[c], L)
            bn = tb[0]
            best_n = 0
            best_v = val_p
            sla_n = 0
            for n in range(1, bn.shape[0]):
                if bn[n] == np.inf:
                    continue
                h2, td, _pd = _joint_servers(
                    tb[1], tb[2], tb[3], tb[4], tb[5], L, n, dyn_visit[c], dyn_block[c],
                    dyn_client[c], dyn_pre_visit[c], dyn_pre_block[c], dyn_pre_client[c],
                    route_d, kblk_d, pos,
                )  # fmt: skip
                rd = t
                for h in range(h2):
                    j = route_d[h]
                    w = _earliest_st(
                        j,
                        t,
                        cap[j] * (1 + TOL) - kblk_d[h] * sc,
                        ev_p,
                        ev_l,
                        ev_n,
                        cst_l,
                        cst_t,
                        cst_n,
                    )
                    if w > rd:
                        rd = w
                v = rd - t + td
                if v < best_v:
                    best_v = v
                    best_n = n
                if dyn_sla[c] < np.inf and v <= dyn_sla[c] * (1 + TOL):
                    sla_n = n
            pick = sla_n if sla_n > 0 else best_n
            if pick > 0:
                hops, tot_d, pre_d = _joint_servers(
                    tb[1], tb[2], tb[3], tb[4], tb[5], L, pick, dyn_visit[c], dyn_block[c],
                    dyn_client[c], dyn_pre_visit[c], dyn_pre_block[c], dyn_pre_client[c],
                    route, kblk, pos,
                )  # fmt: skip
                dyn = True
                client_out[r] = pick
        if hops == 0:
            continue
        # admission: the latest of the route servers' earliest times
        ready = t
        tot = 0.0
        pre = 0.0
        for h in range(hops):
            j = route[h]
            k = kblk[h] if fixed or dyn else first[j] + count[j] - pred_b[j]
            w = _earliest_st(
                j, t, cap[j] * (1 + TOL) - k * sc, ev_p, ev_l, ev_n, cst_l, cst_t, cst_n
            )
            if w > ready:
                ready = w
            tot += hop_true[c, j] + k * block_true[c, j]
            pre += pre_hop[c, j] + k * pre_block[c, j]
        if fixed:  # the joint evaluator's times, client segments included
            tot = fix_tot[c]
            pre = fix_pre[c]
        elif dyn:
            tot = tot_d
            pre = pre_d
        if ready > t and backoff:
            # PETALS's client retries after 1, 2, 4, ... s (each wait capped): first
            # retry at or after the route's earliest admission
            tr = t
            step = 1.0
            while tr < ready:
                tr += min(step, backoff_cap_s)
                step *= 2.0
            ready = tr
        admit[r] = ready
        service[r] = tot
        prefill[r] = pre
        hops_out[r] = hops
        first_srv[r] = route[hops - 1]
        # record only into an (N, S) array: with N == 1 the (1, 1) "do not record"
        # array has N rows too, and writing a route of 2+ hops into it broke the heap
        if routes_out.shape[0] == N and routes_out.shape[1] == S:
            for h in range(hops):
                routes_out[r, h] = route[hops - 1 - h]
        done = ready + alloc_delay_s + tot
        _heappush(heap, done)
        for h in range(hops):
            j = route[h]
            k = kblk[h] if fixed or dyn else first[j] + count[j] - pred_b[j]
            n = res_n[j]
            if n == res_s.shape[1]:
                K2 = 2 * res_s.shape[1]
                res_s = _grow(res_s, K2)
                res_e = _grow(res_e, K2)
                res_x = _grow(res_x, K2)
                ev_p = _grow(ev_p, 2 * K2)
                ev_l = _grow(ev_l, 2 * K2)
                cst_l = _grow(cst_l, 2 * K2 + 1)
                cst_t = _grow(cst_t, 2 * K2 + 1)
                sc_times = np.empty(2 * K2)
                sc_delta = np.empty(2 * K2)
                sc_order = np.empty(2 * K2, dtype=np.int64)
                sc_tmp = np.empty(2 * K2, dtype=np.int64)
            res_s[j, n] = t if from_arrival else ready
            res_e[j, n] = done
            res_x[j, n] = k * sc
            res_n[j] = n + 1
            dirty[j] = True
    return admit, service, prefill, seen, hops_out, first_srv, client_out


@njit(cache=True)
def _joint_servers(
    pf_kind, pf_b, pf_j, px_b, px_j, L, n, visit, block, cc, pvisit, pblock, pcc, route, kblk, pos
):
    """The route ending in the joint DP's state ``F[L + 1, n]`` (as
    :func:`splitopt.joint.route.rebuild` walks it): writes its servers into ``route``
    (reversed: ``route[hops - 1]`` is the first; each server once) and the blocks each
    runs into ``kblk``; returns (hops, T_r, prefill part) with the unpenalised costs
    (``visit``, ``block`` per server, ``cc`` per client block; ``p*`` the prefill
    parts)."""
    for j in range(pos.shape[0]):
        pos[j] = -1
    hops = 0
    tot = n * cc
    pre = n * pcc
    b = L + 1
    free = True
    while not (free and b == 1):
        j = -1
        if free:
            kind = pf_kind[b, n]
            pb = pf_b[b, n]
            if kind == 2:
                j = pf_j[b, n]
            else:  # a client block pb, from F (0) or from X (1)
                n -= 1
                free = kind == 0
        else:
            pb = px_b[b, n]
            j = px_j[b, n]
            free = True
        if j >= 0:
            k = b - pb
            tot += visit[j] + k * block[j]
            pre += pvisit[j] + k * pblock[j]
            if pos[j] < 0:
                pos[j] = hops
                route[hops] = j
                kblk[hops] = k
                hops += 1
            else:
                kblk[pos[j]] += k
        b = pb
    return hops, tot, pre


@njit(cache=True)
def _heappush(heap, x):
    heap.append(x)
    i = len(heap) - 1
    while i > 0:
        p = (i - 1) >> 1
        if heap[p] <= x:
            break
        heap[i] = heap[p]
        i = p
    heap[i] = x


@njit(cache=True)
def _heappop(heap):
    top = heap[0]
    last = heap.pop()
    n = len(heap)
    if n == 0:
        return top
    i = 0
    while True:
        lft = 2 * i + 1
        if lft >= n:
            break
        ch = lft
        if lft + 1 < n and heap[lft + 1] < heap[lft]:
            ch = lft + 1
        if heap[ch] >= last:
            break
        heap[i] = heap[ch]
        i = ch
    heap[i] = last
    return top


@njit(cache=True)
def simulate_chains_kernel(arrive, jcls, chain_time, chain_prefill, slots, alloc_delay_s):
    """JFFC (join the fastest free chain) with a FIFO central queue.

    ``chain_time[c, k]`` is the service time of class c on chain k, ``slots[k]`` the
    concurrent jobs chain k holds. An arrival takes the fastest chain with a free slot
    now; when none is free it takes the slot that frees first (earlier arrivals have
    claimed theirs: FIFO). Returns (admit, service, prefill, in_system_seen, chain).
    """
    N = arrive.shape[0]
    K = slots.shape[0]
    smax = 1
    for k in range(K):
        if slots[k] > smax:
            smax = slots[k]
    free_at = np.full((K, smax), np.inf)
    for k in range(K):
        for s in range(slots[k]):
            free_at[k, s] = -np.inf
    admit = np.full(N, np.inf)
    service = np.zeros(N)
    prefill = np.zeros(N)
    seen = np.zeros(N, dtype=np.int64)
    chain = np.full(N, -1, dtype=np.int64)
    heap = [np.inf]
    heap.pop()
    for r in range(N):
        t = arrive[r]
        while len(heap) > 0 and heap[0] <= t:
            _heappop(heap)
        seen[r] = len(heap)
        c = jcls[r]
        bk = -1
        bs = -1
        bt = np.inf
        bfree = np.inf
        for k in range(K):
            if slots[k] <= 0 or chain_time[c, k] == np.inf:
                continue
            s_min = 0
            for s in range(1, slots[k]):
                if free_at[k, s] < free_at[k, s_min]:
                    s_min = s
            f = max(free_at[k, s_min], t)
            if f < bfree or (f == bfree and chain_time[c, k] < bt):
                bfree = f
                bt = chain_time[c, k]
                bk = k
                bs = s_min
        if bk < 0:
            continue
        admit[r] = bfree
        service[r] = bt
        prefill[r] = chain_prefill[c, bk]
        chain[r] = bk
        done = bfree + alloc_delay_s + bt
        free_at[bk, bs] = done
        _heappush(heap, done)
    return admit, service, prefill, seen, chain


__all__ = [
    "MODE_PETALS",
    "MODE_SHORTEST",
    "MODE_WS_RR",
    "simulate_chains_kernel",
    "simulate_joint_routes_kernel",
    "simulate_routes_kernel",
]
