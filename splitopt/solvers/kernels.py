"""numba kernels: pure functions on arrays, compiled with ``cache=True``.

Conventions: location 0 is the client, 1 the server. Placements come back as
uint8 arrays (1 = server). Infeasibility is signalled by an objective of +inf.

Grid DP (SPEC §3). ``f[q, t]`` is the least server work of layers 0..l with
layer l at q and ticked latency at most t (non-increasing in t). With
``k(p, q, l)`` = time of layer l at q plus the switch at boundary l from p to q,

    f_l[q, t] = w_l[q] + min_p f_{l-1}[p, t - k(p, q, l)],

and the answer is min_p f_{L-1}[p, D - switch at boundary L from p to end].
The memory variant adds the client memory used as a second "at most" index.
A choice byte per state records the argmin for backtracking.
"""

from __future__ import annotations

import time

import numpy as np

from splitopt.solvers.jit import njit, objmode

INF = np.inf
#: The label DP looks at the clock once per this many labels made (objmode call).
CLOCK_EVERY = 65536
#: The grid DP without memory looks at the clock once per this many layers.
LAYERS_PER_CLOCK = 16
#: Abort codes of :func:`label_dp`.
ABORT_NONE, ABORT_LABELS, ABORT_DEADLINE = 0, 1, 2
#: :func:`label_passes`' code for "no answer yet: build the other bounds".
NEED_BOUNDS = 3
#: :func:`label_passes`' code for :data:`NEED_BOUNDS` where, besides, the (latency,
#: work) pass stopped at its cap (its optimum, which is optimal where it fits the
#: budget, is still unknown).
LATENCY_CAPPED = 4


#: Most labels the label DP makes (``dp-exact``, and the ILPs' optimality check):
#: about 33 bytes each, so at most ~1.1 GB with the growth copy (our choice).
MAX_LABELS = 2**24


@njit(cache=True)
def _now():  # pragma: no cover - compiled
    with objmode(t="float64"):
        t = time.perf_counter()
    return t


@njit(cache=True)
def _switch(p, q, b, up, down):  # pragma: no cover - inlined by numba
    if p == 0 and q == 1:
        return up[b]
    if p == 1 and q == 0:
        return down[b]
    return 0


@njit(cache=True, error_model="numpy")
def _relax_row(dst, ch, f0, f1, k0, k1, wq, lo, hi):
    """dst[t] = wq + min(f0[t - k0], f1[t - k1]) for t in [lo, hi]; ch[t] = argmin (0 on ties).

    The main loop runs over zero-based slices so that LLVM vectorises it.
    """
    kmin = min(k0, k1)
    kmax = max(k0, k1)
    for t in range(lo, min(hi + 1, kmin)):
        dst[t] = INF
        ch[t] = 0
    a = max(lo, kmin)
    b = min(hi + 1, kmax)
    if k0 <= k1:
        for t in range(a, b):
            dst[t] = f0[t - k0] + wq
            ch[t] = 0
    else:
        for t in range(a, b):
            dst[t] = f1[t - k1] + wq
            ch[t] = 1
    m = max(lo, kmax)
    n = hi + 1 - m
    if n <= 0:
        return
    s0 = f0[m - k0 : m - k0 + n]
    s1 = f1[m - k1 : m - k1 + n]
    d = dst[m : m + n]
    h = ch[m : m + n]
    for i in range(n):
        v0 = s0[i]
        v1 = s1[i]
        d[i] = min(v0, v1) + wq
        h[i] = v1 < v0


@njit(cache=True)
def grid_dp(client, server, up, down, work, start, end, sla, deadline):
    """Latency-only grid DP. Integer tick arrays in, (best work, placement, stopped) out.

    Args:
        client, server: int64[L] ticks of each layer on the client / server.
        up, down: int64[L + 1] ticks to cross boundary b upward / downward.
        work: float64[L] server work of each layer.
        start, end: 0 (client) or 1 (server).
        sla: int, the ticked SLA D̂.
        deadline: ``time.perf_counter()`` seconds (``inf``: none), read every
            :data:`LAYERS_PER_CLOCK` layers; past it the DP stops (stopped = True,
            best ``inf``).
    """
    L = client.shape[0]
    T = sla
    x = np.zeros(L, np.uint8)
    if T < 0:
        return INF, x, False
    timed = deadline < INF
    choice = np.empty((L, 2, T + 1), np.uint8)
    f = np.empty((2, T + 1))
    g = np.empty((2, T + 1))
    for q in range(2):
        k = (server[0] if q == 1 else client[0]) + _switch(start, q, 0, up, down)
        wq = work[0] if q == 1 else 0.0
        for t in range(T + 1):
            f[q, t] = wq if t >= k else INF
            choice[0, q, t] = start
    for layer in range(1, L):
        for q in range(2):
            tq = server[layer] if q == 1 else client[layer]
            wq = work[layer] if q == 1 else 0.0
            k0 = tq + _switch(0, q, layer, up, down)
            k1 = tq + _switch(1, q, layer, up, down)
            _relax_row(g[q], choice[layer, q], f[0], f[1], k0, k1, wq, 0, T)
        f, g = g, f
        if timed and layer % LAYERS_PER_CLOCK == 0 and _now() > deadline:
            return INF, x, True
    best = INF
    bp = 0
    for p in range(2):
        t = T - _switch(p, end, L, up, down)
        if t >= 0 and f[p, t] < best:
            best = f[p, t]
            bp = p
    if best == INF:
        return INF, x, False
    t = T - _switch(bp, end, L, up, down)
    q = bp
    for layer in range(L - 1, -1, -1):
        x[layer] = q
        p = choice[layer, q, t]
        t -= (server[layer] if q == 1 else client[layer]) + _switch(p, q, layer, up, down)
        q = p
    return best, x, False


@njit(cache=True)
def grid_dp_memory(client, server, up, down, work, memory, start, end, sla, budget, deadline):
    """Grid DP with a client-memory dimension (memory ticks, budget M̂).

    ``memory``: int64[L] memory ticks of each layer when on the client.
    State count: L × 2 × (M̂ + 1) × (D̂ + 1).
    """
    L = client.shape[0]
    T = sla
    Mm = budget
    x = np.zeros(L, np.uint8)
    timed = deadline < INF
    if T < 0 or Mm < 0:
        return INF, x, False
    choice = np.empty((L, 2, Mm + 1, T + 1), np.uint8)
    f = np.empty((2, Mm + 1, T + 1))
    g = np.empty((2, Mm + 1, T + 1))
    for q in range(2):
        k = (server[0] if q == 1 else client[0]) + _switch(start, q, 0, up, down)
        mq = 0 if q == 1 else memory[0]
        wq = work[0] if q == 1 else 0.0
        for m in range(Mm + 1):
            for t in range(T + 1):
                f[q, m, t] = wq if (t >= k and m >= mq) else INF
                choice[0, q, m, t] = start
    for layer in range(1, L):
        for q in range(2):
            tq = server[layer] if q == 1 else client[layer]
            wq = work[layer] if q == 1 else 0.0
            mq = 0 if q == 1 else memory[layer]
            k0 = tq + _switch(0, q, layer, up, down)
            k1 = tq + _switch(1, q, layer, up, down)
            for m in range(Mm + 1):
                if m < mq:
                    for t in range(T + 1):
                        g[q, m, t] = INF
                        choice[layer, q, m, t] = 0
                else:
                    _relax_row(
                        g[q, m], choice[layer, q, m], f[0, m - mq], f[1, m - mq], k0, k1, wq, 0, T
                    )
        f, g = g, f
        if timed and _now() > deadline:
            return INF, x, True
    best = INF
    bp = 0
    for p in range(2):
        t = T - _switch(p, end, L, up, down)
        if t >= 0 and f[p, Mm, t] < best:
            best = f[p, Mm, t]
            bp = p
    if best == INF:
        return INF, x, False
    t = T - _switch(bp, end, L, up, down)
    m = Mm
    q = bp
    for layer in range(L - 1, -1, -1):
        x[layer] = q
        p = choice[layer, q, m, t]
        t -= (server[layer] if q == 1 else client[layer]) + _switch(p, q, layer, up, down)
        if q == 0:
            m -= memory[layer]
        q = p
    return best, x, False


@njit(cache=True)
def _grow(a, n, cap):
    b = np.empty(max(min(2 * a.shape[0], cap), n), a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def cardinality_tables(work, memory):
    """Sorted-item tables for :func:`_cardinality_bound`: row r of ``mem_low`` holds
    the sums of the k smallest client memories of layers r..L-1 (k = 0..L-r), row r
    of ``work_low`` the sums of their j smallest server works; entries past L - r
    are inf. float64[L + 1, L + 1] each, O(L²) time (insertion into sorted rows)."""
    L = work.shape[0]
    mem_low = np.full((L + 1, L + 1), INF)
    work_low = np.full((L + 1, L + 1), INF)
    ms = np.empty(L)
    ws = np.empty(L)
    for r in range(L, -1, -1):
        n = L - r
        # ms[:n], ws[:n]: the memories and works of layers r..L-1, ascending
        mem_low[r, 0] = 0.0
        work_low[r, 0] = 0.0
        for k in range(n):
            mem_low[r, k + 1] = mem_low[r, k] + ms[k]
            work_low[r, k + 1] = work_low[r, k] + ws[k]
        if r == 0:
            break
        m = memory[r - 1]
        i = n
        while i > 0 and ms[i - 1] > m:
            ms[i] = ms[i - 1]
            i -= 1
        ms[i] = m
        w = work[r - 1]
        i = n
        while i > 0 and ws[i - 1] > w:
            ws[i] = ws[i - 1]
            i -= 1
        ws[i] = w
    return mem_low, work_low


@njit(cache=True)
def _cardinality_count(row, n, cap, mem_low):
    """The most of the n layers of ``row`` of :func:`cardinality_tables` whose
    smallest client memories fit ``cap`` bytes."""
    lo = 0
    hi = n
    if mem_low[row, hi] <= cap:
        return n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mem_low[row, mid] <= cap:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def count_priced_rest(client, server, up, down, work, end, a):
    """``G[l, q, k]``: the least Σ(server work + α·time) of layers l+1..L-1 and the
    switches after layer l, given x_l = q, with at most k of those layers on the
    client (k = 0..L), for the latency multiplier ``a`` = α ≥ 0. With k from
    :func:`_cardinality_count` (memory) and the latency left, a lower bound that
    sees both limits: work ≥ G[l, q, k] − α·(SLA − latency). float64[L, 2, L + 1]."""
    L = client.shape[0]
    G = np.empty((L, 2, L + 1))
    _fill_counts(client, server, up, down, work, end, a, L, G)
    return G


@njit(cache=True)
def _fill_counts(client, server, up, down, work, end, a, kmax, G):
    """Fill counts 0..``kmax`` of :func:`count_priced_rest`'s table ``G``."""
    L = client.shape[0]
    for q in range(2):
        v = a * _switch(q, end, L, up, down)
        for k in range(kmax + 1):
            G[L - 1, q, k] = v
    for layer in range(L - 2, -1, -1):
        n = layer + 1
        for q in range(2):
            c1 = work[n] + a * (server[n] + _switch(q, 1, n, up, down))
            c0 = a * (client[n] + _switch(q, 0, n, up, down))
            G[layer, q, 0] = c1 + G[n, 1, 0]
            for k in range(1, kmax + 1):
                v = c1 + G[n, 1, k]
                v0 = c0 + G[n, 0, k - 1]
                G[layer, q, k] = v0 if v0 < v else v


@njit(cache=True)
def _count_line(client, server, up, down, work, start, end, sla, k, a, G):
    """The root's count-limited priced bound at α = ``a``: the least
    Σ(server work + α·time) over placements with at most ``k`` client layers, less
    α·SLA (a lower bound on the optimum for any α ≥ 0), and its slope in α:
    (value, latency − SLA of the placement that attains it). ``G`` (float64[L, 2,
    ≥ k + 1]) is scratch: its first k + 1 counts are filled as
    :func:`count_priced_rest` fills them (the root needs no more)."""
    L = client.shape[0]
    _fill_counts(client, server, up, down, work, end, a, k, G)
    # the root, then forward along the argmin for the placement's latency
    best = work[0] + a * (server[0] + _switch(start, 1, 0, up, down)) + G[0, 1, k]
    q = 1
    j = k
    if k > 0:
        c0 = a * (client[0] + _switch(start, 0, 0, up, down)) + G[0, 0, k - 1]
        if c0 < best:
            best = c0
            q = 0
            j = k - 1
    lat = (server[0] if q == 1 else client[0]) + _switch(start, q, 0, up, down)
    for n in range(1, L):
        v1 = work[n] + a * (server[n] + _switch(q, 1, n, up, down)) + G[n, 1, j]
        r = 1
        if j > 0:
            v0 = a * (client[n] + _switch(q, 0, n, up, down)) + G[n, 0, j - 1]
            if v0 < v1:
                r = 0
        lat += (server[n] if r == 1 else client[n]) + _switch(q, r, n, up, down)
        if r == 0:
            j -= 1
        q = r
    lat += _switch(q, end, L, up, down)
    return best - a * sla, lat - sla


@njit(cache=True)
def count_bound(client, server, up, down, work, start, end, sla, k, steps):
    """The count-limited priced bound at its best latency multiplier: the α ≥ 0
    that maximises the root's bound (:func:`_count_line`; at most ``k`` client layers),
    exactly, as :func:`_best_alpha` maximises the dual (the root's bound is
    concave and piecewise linear in α: from a bracket of slopes, the end lines'
    meeting point either lies on it or gives a tighter end; at most ``steps``
    steps, a guard against rounding), and :func:`count_priced_rest` there.
    Returns (α, its table float64[L, 2, L + 1], the root's bound: a lower bound on
    the optimum up to rounding)."""
    L = client.shape[0]
    G = np.empty((L, 2, k + 1))
    v0, s0 = _count_line(client, server, up, down, work, start, end, sla, k, 0.0, G)
    best_a, best_v = 0.0, v0
    if s0 > 0:
        scale = 0.0
        for i in range(L):
            scale += abs(work[i])
        hi = max(scale, 1e-300) / max(sla, 1e-300)
        for _ in range(60):  # grow until the priced placement meets the SLA
            vh, sh = _count_line(client, server, up, down, work, start, end, sla, k, hi, G)
            if sh <= 0:
                break
            hi *= 4.0
        if vh > best_v:
            best_a, best_v = hi, vh
        if sh < 0:
            a_lo, v_lo, s_lo = 0.0, v0, s0
            a_hi, v_hi, s_hi = hi, vh, sh
            for _ in range(steps):
                ax = _meet(a_lo, v_lo, s_lo, a_hi, v_hi, s_hi)
                if not (a_lo < ax < a_hi):
                    break
                vx, sx = _count_line(client, server, up, down, work, start, end, sla, k, ax, G)
                if vx > best_v:
                    best_a, best_v = ax, vx
                top = v_lo + s_lo * (ax - a_lo)
                if sx == 0 or vx >= top - 1e-15 * abs(top):
                    break
                if sx > 0:
                    a_lo, v_lo, s_lo = ax, vx, sx
                else:
                    a_hi, v_hi, s_hi = ax, vx, sx
    return best_a, count_priced_rest(client, server, up, down, work, end, best_a), best_v


@njit(cache=True)
def _cardinality_bound(row, n, cap, mem_low, work_low):
    """Least server work of the n layers of ``row`` of :func:`cardinality_tables`
    when at most ``cap`` bytes of them may run on the client: at most k* of them
    fit (k* the most whose smallest memories fit ``cap``), so the server runs at
    least the n − k* smallest works. A sum, not a difference, so relatively exact;
    ``cap`` should carry the caller's rounding margin."""
    return work_low[row, n - _cardinality_count(row, n, cap, mem_low)]


@njit(cache=True)
def _fastest_rest(client, server, up, down, end):
    """``rest[l, q]``: the least latency of layers l+1..L-1 and the switches after
    layer l, given x_l = q (float64[L, 2])."""
    L = client.shape[0]
    rest = np.zeros((L, 2))
    for q in range(2):
        rest[L - 1, q] = _switch(q, end, L, up, down)
    for layer in range(L - 2, -1, -1):
        n = layer + 1
        for q in range(2):
            r0 = client[n] + _switch(q, 0, n, up, down) + rest[n, 0]
            r1 = server[n] + _switch(q, 1, n, up, down) + rest[n, 1]
            rest[layer, q] = min(r0, r1)
    return rest


@njit(cache=True)
def label_dp(
    client,
    server,
    up,
    down,
    work,
    memory,
    start,
    end,
    sla,
    budget,
    use_memory,
    ub,
    lag_mult,
    lag_rest,
    card_mem,
    card_work,
    cnt_alpha,
    cnt_rest,
    max_labels,
    deadline,
):
    """Exact label-setting DP on real data (no ticks), with bounds.

    Per layer l and location q keep the labels (latency, work[, memory]) that no
    other label dominates. A label is dropped when even the fastest completion
    breaks the SLA (``sla`` already includes the tolerance), its memory exceeds
    ``budget``, or its work plus a lower bound on the remaining work exceeds
    ``ub``, the work of a known feasible placement (``inf`` for none). Lower
    bounds: the Lagrangian bounds of :func:`lagrange_tables`:
    for each row k of ``lag_mult`` (multipliers α of latency and λ of memory)
    and ``lag_rest[k]`` (least α-λ-priced cost of the layers after each (layer,
    location)), work + rest − α·(SLA − latency) − λ·(budget − memory) (no rows:
    none); with memory, the cardinality bound of :func:`_cardinality_bound` on the
    tables ``card_mem``, ``card_work`` of :func:`cardinality_tables` (fewer than
    L + 1 rows: none), and with them for each multiplier α of ``cnt_alpha`` the
    count-limited priced bound ``cnt_rest[k]`` of :func:`count_priced_rest`.

    Limits: at most ``max_labels`` labels are made (memory is about 33 bytes a
    label, doubled while the arrays grow), and the clock
    (``time.perf_counter``) is read on entry and every :data:`CLOCK_EVERY`
    elementary steps (candidate labels plus dominance comparisons); past
    ``deadline`` (``inf``: none) the DP stops.

    Returns (best work, placement, number of labels made, abort code); best is
    ``inf`` when no label beats ``ub``; the abort code is :data:`ABORT_NONE`,
    :data:`ABORT_LABELS` or :data:`ABORT_DEADLINE` (then best is ``inf``).
    """
    L = client.shape[0]
    x = np.zeros(L, np.uint8)
    use_card = use_memory and card_mem.shape[0] >= L + 1 and card_work.shape[0] >= L + 1
    # rounding margin of the cardinality bound's memory sums (relative 1e-12)
    card_margin = 0.0
    if use_card:
        card_margin = 1e-12 * (abs(budget) + card_mem[0, L])
    slack = ub * (1.0 + 1e-9) if ub < INF else INF
    rest = _fastest_rest(client, server, up, down, end)
    cap = 1024
    st_w = np.empty(64)  # the staircase of the front being built (memory only)
    st_m = np.empty(64)
    lat = np.empty(cap)
    wrk = np.empty(cap)
    mem = np.empty(cap)
    par = np.empty(cap, np.int64)
    loc = np.empty(cap, np.uint8)
    n = 0
    # front[l, q] = (first, last+1) in the label arrays
    lo = np.zeros((L, 2), np.int64)
    hi = np.zeros((L, 2), np.int64)
    ops = 0  # candidate labels looked at plus dominance comparisons (clock pacing)
    next_check = CLOCK_EVERY
    timed = deadline < INF
    # the clock (an objmode call, about a microsecond) is read once on entry and then
    # every CLOCK_EVERY elementary steps, which bound the work between two reads
    if timed and _now() > deadline:
        return INF, x, n, ABORT_DEADLINE
    for layer in range(L):
        for q in range(2):
            tq = server[layer] if q == 1 else client[layer]
            wq = work[layer] if q == 1 else 0.0
            mq = 0.0 if q == 1 else memory[layer]
            if layer == 0:
                i, ie, j, je = 0, 1, 0, 0  # one virtual parent at the start location
                k0 = tq + _switch(start, q, 0, up, down)
                k1 = k0
            else:
                i, ie = lo[layer - 1, 0], hi[layer - 1, 0]
                j, je = lo[layer - 1, 1], hi[layer - 1, 1]
                k0 = tq + _switch(0, q, layer, up, down)
                k1 = tq + _switch(1, q, layer, up, down)
            need = n + (ie - i) + (je - j)
            if need > max_labels:
                need = max_labels
            if need > lat.shape[0]:
                lat = _grow(lat, need, max_labels)
                wrk = _grow(wrk, need, max_labels)
                mem = _grow(mem, need, max_labels)
                par = _grow(par, need, max_labels)
                loc = _grow(loc, need, max_labels)
            lo[layer, q] = n
            best_w = INF
            ns = 0
            if use_memory and st_w.shape[0] < (ie - i) + (je - j) + 1:
                st_w = np.empty(2 * ((ie - i) + (je - j) + 1))
                st_m = np.empty(st_w.shape[0])
            # merge the two parent fronts (each sorted by (lat, work, mem)) after shifting
            while i < ie or j < je:
                ops += 1
                if timed and ops >= next_check:
                    next_check = ops + CLOCK_EVERY
                    if _now() > deadline:
                        return INF, x, n, ABORT_DEADLINE
                take_i = False
                if j >= je:
                    take_i = True
                elif i < ie:
                    li = lat[i] + k0
                    lj = lat[j] + k1
                    tie = li == lj and (wrk[i] < wrk[j] or (wrk[i] == wrk[j] and mem[i] <= mem[j]))
                    take_i = li < lj or tie
                if layer == 0:
                    s = -1
                    i += 1
                    cl, cw, cm = k0, wq, mq
                else:
                    if take_i:
                        s = i
                        i += 1
                        cl = lat[s] + k0
                    else:
                        s = j
                        j += 1
                        cl = lat[s] + k1
                    cw = wrk[s] + wq
                    cm = mem[s] + mq
                if cl + rest[layer, q] > sla:
                    continue
                if use_memory and cm > budget:
                    continue
                if slack < INF:
                    lb = 0.0
                    kc = 0
                    if use_card and layer < L - 1:
                        kc = _cardinality_count(
                            layer + 1, L - 1 - layer, budget - cm + card_margin, card_mem
                        )
                        cb = card_work[layer + 1, L - 1 - layer - kc]
                        if cb > lb:
                            lb = cb
                    if cw + lb > slack:
                        continue
                    pruned = False
                    for k in range(lag_mult.shape[0]):
                        a = lag_mult[k, 0]
                        lam = lag_mult[k, 1] if use_memory else 0.0
                        rk = lag_rest[k, layer, q]
                        tt = a * (sla - cl)
                        tm = lam * (budget - cm) if lam > 0.0 else 0.0
                        v = cw + rk - tt - tm
                        # relative margin on the terms that cancel (rounding)
                        if v > slack + 1e-9 * (abs(cw) + abs(rk) + abs(tt) + abs(tm)):
                            pruned = True
                            break
                    if use_card and not pruned:
                        for k in range(cnt_alpha.shape[0]):
                            rk = cnt_rest[k, layer, q, kc]
                            tt = cnt_alpha[k] * (sla - cl)
                            v = cw + rk - tt
                            if v > slack + 1e-9 * (abs(cw) + abs(rk) + abs(tt)):
                                pruned = True
                                break
                    if pruned:
                        continue
                if use_memory:
                    # dominated iff an earlier label of this front (latency no larger)
                    # has work and memory no larger: the staircase of the front's
                    # (work, memory) minima (work ascending, memory descending) answers
                    # with one binary search
                    a0 = 0
                    b0 = ns
                    while a0 < b0:
                        mid = (a0 + b0) // 2
                        if st_w[mid] <= cw:
                            a0 = mid + 1
                        else:
                            b0 = mid
                    ops += 1
                    if a0 > 0 and st_m[a0 - 1] <= cm:
                        continue
                    if n >= max_labels:
                        return INF, x, n, ABORT_LABELS
                    # insert (cw, cm) at s0, dropping the steps it dominates
                    s0 = a0 - 1 if a0 > 0 and st_w[a0 - 1] == cw else a0
                    e0 = a0
                    while e0 < ns and st_m[e0] >= cm:
                        e0 += 1
                    ops += ns - s0  # entries dropped or moved (clock pacing)
                    d = 1 - (e0 - s0)
                    if d == 1:
                        for r in range(ns, e0, -1):
                            st_w[r] = st_w[r - 1]
                            st_m[r] = st_m[r - 1]
                    elif d < 0:
                        for r in range(e0, ns):
                            st_w[r + d] = st_w[r]
                            st_m[r + d] = st_m[r]
                    st_w[s0] = cw
                    st_m[s0] = cm
                    ns += d
                elif cw >= best_w:
                    continue
                if n >= max_labels:
                    return INF, x, n, ABORT_LABELS
                lat[n] = cl
                wrk[n] = cw
                mem[n] = cm
                par[n] = s
                loc[n] = q
                n += 1
                if cw < best_w:
                    best_w = cw
            hi[layer, q] = n
    best = INF
    best_lat = INF
    bi = -1
    for q in range(2):
        se = _switch(q, end, L, up, down)
        for r in range(lo[L - 1, q], hi[L - 1, q]):
            tl = lat[r] + se
            if tl <= sla and (wrk[r] < best or (wrk[r] == best and tl < best_lat)):
                best = wrk[r]
                best_lat = tl
                bi = r
    if bi < 0:
        return INF, x, n, ABORT_NONE
    r = bi
    for layer in range(L - 1, -1, -1):
        x[layer] = loc[r]
        r = par[r]
    return best, x, n, ABORT_NONE


@njit(cache=True)
def label_ladder(
    client,
    server,
    up,
    down,
    work,
    memory,
    start,
    end,
    sla,
    budget,
    use_memory,
    targets,
    lag_mult,
    lag_rest,
    card_mem,
    card_work,
    cnt_alpha,
    cnt_rest,
    max_labels,
    deadline,
    probe,
    total,
):
    """:func:`label_dp` (same arguments, the bound ``ub`` of each run from
    ``targets``, ascending) against each target in turn until a run finds a
    placement or stops: one call for a whole iterative deepening. With ``probe``
    > 0 and more than two targets, a run against the last target (the incumbent)
    follows the first run that finds nothing, capped at ``probe`` times that run's
    labels plus 64: where the incumbent is optimal (often), it ends the search
    at once; where the cap stops it, the deepening goes on. All runs together
    make at most ``total`` labels (each at most ``max_labels``; past ``total``
    the call stops with :data:`ABORT_LABELS`). Returns (best, placement, labels
    made by the last run, its abort code, the number of targets proven below the
    optimum: runs that found nothing)."""
    m = targets.shape[0]
    best = INF
    x = np.zeros(client.shape[0], np.uint8)
    n = 0
    used = 0
    for i in range(m):
        cap = min(max_labels, total - used)
        if cap <= 0:
            return INF, x, n, ABORT_LABELS, i
        best, x, n, abort = label_dp(
            client,
            server,
            up,
            down,
            work,
            memory,
            start,
            end,
            sla,
            budget,
            use_memory,
            targets[i],
            lag_mult,
            lag_rest,
            card_mem,
            card_work,
            cnt_alpha,
            cnt_rest,
            cap,
            deadline,
        )
        used += n
        if abort != ABORT_NONE or best < INF:
            return best, x, n, abort, i
        if i == 0 and probe > 0 and m > 2:
            best, x, n2, abort = label_dp(
                client,
                server,
                up,
                down,
                work,
                memory,
                start,
                end,
                sla,
                budget,
                use_memory,
                targets[m - 1],
                lag_mult,
                lag_rest,
                card_mem,
                card_work,
                cnt_alpha,
                cnt_rest,
                min(max_labels, total - used, probe * n + 64),
                deadline,
            )
            used += n2
            if abort == ABORT_DEADLINE:
                return best, x, n2, abort, 1
            if abort == ABORT_NONE:
                return best, x, n2, abort, 1 if best < INF else m
    return best, x, n, ABORT_NONE, m


@njit(cache=True)
def _flipped(client, server, up, down, work, memory, start, end, sla, budget):
    """One-layer flips (:func:`flip_search`) from all layers on the server, where
    that meets ``sla``: (server work, placement), latency and memory summed anew
    for the check (inf where the placement breaks ``sla`` or ``budget``)."""
    L = client.shape[0]
    x = np.ones(L, np.uint8)
    lat, mem, _w = _totals(x, client, server, up, down, work, memory, start, end)
    if lat > sla or mem > budget:
        return INF, x
    x, _r = flip_search(
        client, server, up, down, work, memory, start, end, sla, budget, x, 1, 2 * L, INF
    )
    lat, mem, w = _totals(x, client, server, up, down, work, memory, start, end)
    if lat > sla or mem > budget:
        return INF, x
    return w, x


@njit(cache=True)
def label_passes(
    client,
    server,
    up,
    down,
    work,
    memory,
    start,
    end,
    sla,
    budget,
    use_memory,
    ub,
    latency_first,
    bounds,
    card_labels,
    first_labels,
    latency_labels,
    max_labels,
    deadline,
    quick_after,
):
    """The cheap passes of the label DP in one call (arguments as :func:`label_dp`).

    Without memory: the (latency, work) labels. With memory (``budget``, with
    the evaluator's tolerance) and ``bounds``: (1) the labels pruned by the cardinality
    bound against the root's own cardinality bound (at most ``card_labels``
    labels): any placement they find is optimal (a pruned label cannot beat the
    root's bound, which every placement respects), and chains of identical blocks
    reach it; where that pass stops at its cap, so is a placement of
    :func:`_flipped` within the relative 1e-9 of the root's bound (the
    evaluator's tolerance); (2) with ``latency_first``, the (latency, work)
    labels (at most ``latency_labels``; past them this pass is skipped): their
    optimum is optimal with the budget too when it fits; skipped with ``bounds``
    where the budget binds the linear relaxation (:func:`_budget_binds`: then
    their optimum almost always breaks it, and near-identical blocks make
    thousands to millions of such labels); (3) the (latency, work, memory) labels
    without bounds, up to ``first_labels`` labels; with ``bounds`` and
    ``quick_after`` > 0, where they stop at ``quick_after`` labels, the quick pass
    (the cardinality-bounded labels again, at most ``card_labels``, against the
    work of :func:`_flipped`'s placement; any placement it finds is optimal),
    then, where it finds none, they run again from the start. Without
    ``bounds``: (2), then the memory labels up to ``max_labels``. Where all
    layers' client memory fits the budget, (2) runs alone (after (1), which ends
    at once or finds a placement without server work) and decides.

    Returns (best, placement, labels made (by the stopping pass when stopped),
    code): code :data:`ABORT_NONE` (best is the optimum, ``inf``: infeasible),
    :data:`ABORT_LABELS` or :data:`ABORT_DEADLINE` (stopped), or
    :data:`NEED_BOUNDS` (the passes ran out of labels: the caller builds the other
    bounds) or :data:`LATENCY_CAPPED` (the same, and pass (2) stopped at its cap).
    """
    L = client.shape[0]
    lag_mult = np.zeros((0, 2))
    lag_rest = np.zeros((0, 1, 2))
    none = np.zeros((0, 0))
    none1 = np.zeros(0)
    none4 = np.zeros((0, 1, 2, 1))
    args = (client, server, up, down, work, memory, start, end, sla)
    made = 0
    lat_capped = False
    card_mem, card_work = none, none
    # the placement of _flipped and its work, once computed (pass (1) or the quick pass)
    flipped = False
    flip_w, flip_x = INF, np.zeros(L, np.uint8)
    if use_memory and bounds:
        card_mem, card_work = cardinality_tables(work, memory)
        root = _cardinality_bound(0, L, budget * (1.0 + 1e-12), card_mem, card_work)
        best, x, n, abort = _memory_labels(
            *args,
            budget,
            min(ub, root),
            card_mem,
            card_work,
            min(max_labels, card_labels),
            deadline,
        )
        made += n
        if abort == ABORT_DEADLINE:
            return best, x, n, abort
        if abort == ABORT_NONE and best < INF:
            return best, x, made, ABORT_NONE
        if abort == ABORT_LABELS and root <= ub:
            # many placements reach the root's bound (identical blocks): one-layer
            # flips often find one of them at a fraction of the labels' cost
            flip_w, flip_x = _flipped(*args, budget)
            flipped = True
            if flip_w <= root + 1e-9 * abs(root):
                return flip_w, flip_x, made, ABORT_NONE
    if use_memory:
        total = 0.0
        for i in range(L):
            total += memory[i]
        if total * (1.0 + 1e-12) <= budget:
            use_memory = False  # every placement fits: the budget changes nothing
    if latency_first and use_memory and bounds and _budget_binds(*args, budget):
        latency_first = False  # its optimum would (almost surely) break the budget
    if not use_memory or latency_first:
        lat_cap = min(max_labels, latency_labels) if use_memory and bounds else max_labels
        best, x, n, abort = label_dp(
            *args,
            INF,
            False,
            ub,
            lag_mult,
            lag_rest,
            none,
            none,
            none1,
            none4,
            lat_cap,
            deadline,
        )
        made += n
        skip = abort == ABORT_LABELS and lat_cap < max_labels
        lat_capped = skip
        if abort != ABORT_NONE and not skip:
            return best, x, n, abort
        if not skip:
            if not use_memory or best == INF:
                return best, x, made, abort
            used = 0.0
            for i in range(L):
                if x[i] == 0:
                    used += memory[i]
            if used <= budget:
                return best, x, made, ABORT_NONE
    cap = min(max_labels, first_labels) if bounds else max_labels
    quick = bounds and quick_after > 0
    # with the quick pass, the unbounded labels first stop at quick_after (short
    # chains of near-identical blocks: their fronts grow combinatorially, while a
    # subset sum misses the root's bound), then the quick pass, then the rest
    probe = min(cap, quick_after) if quick else cap
    best, x, n, abort = _memory_labels(*args, budget, ub, none, none, probe, deadline)
    made += n
    if quick and abort == ABORT_LABELS:
        # the quick pass: the cardinality-bounded labels again, against the work of
        # _flipped's placement (where all layers on the server meet the SLA). A
        # placement they find is optimal (a pruned label cannot beat the target,
        # which a feasible placement meets); where they find none (rounding) or
        # stop, the unbounded labels go on
        if not flipped:
            flip_w, flip_x = _flipped(*args, budget)
        if flip_w < INF:
            best, x, n, abort = _memory_labels(
                *args,
                budget,
                min(ub, flip_w),
                card_mem,
                card_work,
                min(max_labels, card_labels),
                deadline,
            )
            made += n
            if abort == ABORT_DEADLINE:
                return best, x, n, abort
            if abort == ABORT_NONE and best < INF:
                return best, x, made, ABORT_NONE
        abort = ABORT_LABELS
        if probe < cap:
            best, x, n, abort = _memory_labels(*args, budget, ub, none, none, cap, deadline)
            made += n
    if abort == ABORT_LABELS and cap < max_labels:
        return best, x, n, LATENCY_CAPPED if lat_capped else NEED_BOUNDS
    return best, x, n if abort != ABORT_NONE else made, abort


@njit(cache=True)
def _memory_labels(
    client,
    server,
    up,
    down,
    work,
    memory,
    start,
    end,
    sla,
    budget,
    ub,
    card_mem,
    card_work,
    cap,
    deadline,
):
    """:func:`label_dp` with a memory budget and at most the cardinality bound
    (tables ``card_mem``, ``card_work``; empty: none): :func:`label_passes`'
    passes (1) and (3) and its quick pass."""
    return label_dp(
        client,
        server,
        up,
        down,
        work,
        memory,
        start,
        end,
        sla,
        budget,
        True,
        ub,
        np.zeros((0, 2)),
        np.zeros((0, 1, 2)),
        card_mem,
        card_work,
        np.zeros(0),
        np.zeros((0, 1, 2, 1)),
        cap,
        deadline,
    )


@njit(cache=True)
def _priced(client, server, up, down, work, memory, start, end, a, lam, rest):
    """Least α-λ-priced cost Σ(work on the server + α·time + λ·client memory)
    over all placements (no constraints), by the 2-state shortest path; fills
    ``rest[l, q]`` with the least cost of layers l+1..L-1 and the switches after
    layer l given x_l = q. Returns (cost, its latency, its client memory)."""
    L = client.shape[0]
    for q in range(2):
        rest[L - 1, q] = a * _switch(q, end, L, up, down)
    for layer in range(L - 2, -1, -1):
        n = layer + 1
        c0 = a * client[n] + lam * memory[n]
        c1 = work[n] + a * server[n]
        for q in range(2):
            v0 = c0 + a * _switch(q, 0, n, up, down) + rest[n, 0]
            v1 = c1 + a * _switch(q, 1, n, up, down) + rest[n, 1]
            rest[layer, q] = min(v0, v1)
    # forward along the argmin for the placement's latency and memory
    v0 = a * client[0] + lam * memory[0] + a * _switch(start, 0, 0, up, down) + rest[0, 0]
    v1 = work[0] + a * server[0] + a * _switch(start, 1, 0, up, down) + rest[0, 1]
    q = 0 if v0 <= v1 else 1
    best = min(v0, v1)
    lat = (client[0] if q == 0 else server[0]) + _switch(start, q, 0, up, down)
    mem = memory[0] if q == 0 else 0.0
    for n in range(1, L):
        c0 = a * client[n] + lam * memory[n] + a * _switch(q, 0, n, up, down) + rest[n, 0]
        c1 = work[n] + a * server[n] + a * _switch(q, 1, n, up, down) + rest[n, 1]
        r = 0 if c0 <= c1 else 1
        lat += (client[n] if r == 0 else server[n]) + _switch(q, r, n, up, down)
        if r == 0:
            mem += memory[n]
        q = r
    lat += _switch(q, end, L, up, down)
    return best, lat, mem


@njit(cache=True)
def sla_incumbent(client, server, up, down, work, memory, start, end, sla, a):
    """A placement that meets ``sla`` from the latency-priced paths (no memory
    term): the least α-priced placement (server work + α·time) for α just above
    ``a`` (the dual's maximiser, where the priced optimum switches to the line
    that meets the SLA), then growing α (×(1 + 1e-6), ×(1 + 1e-3), then doubling,
    at most 64 tries) until its latency ≤ ``sla``. Returns (placement uint8, 1 =
    server; whether it meets ``sla`` by the kernels' sums)."""
    L = client.shape[0]
    rest = np.zeros((L, 2))
    x = np.ones(L, np.uint8)
    base = a if a > 0.0 else 1.0
    for t in range(64):
        if t == 0:
            al = base * (1.0 + 1e-9)
        elif t == 1:
            al = base * (1.0 + 1e-6)
        elif t == 2:
            al = base * (1.0 + 1e-3)
        else:
            al = base * 2.0 ** (t - 2)
        _priced(client, server, up, down, work, memory, start, end, al, 0.0, rest)
        # forward along the argmin (ties: the server, the faster side here); the same
        # walk as _priced's own, kept apart: sharing it (placement out, ties as a
        # parameter) made the dual search, which calls _priced 5-80 times a chain,
        # 5-15 % slower (measured on 24 and 160 layers)
        v0 = al * client[0] + al * _switch(start, 0, 0, up, down) + rest[0, 0]
        v1 = work[0] + al * server[0] + al * _switch(start, 1, 0, up, down) + rest[0, 1]
        q = 0 if v0 < v1 else 1
        x[0] = q
        for n in range(1, L):
            c0 = al * client[n] + al * _switch(q, 0, n, up, down) + rest[n, 0]
            c1 = work[n] + al * server[n] + al * _switch(q, 1, n, up, down) + rest[n, 1]
            q = 0 if c0 < c1 else 1
            x[n] = q
        lat, _m, _w = _totals(x, client, server, up, down, work, memory, start, end)
        if lat <= sla:
            return x, True
    return x, False


@njit(cache=True)
def _dual_line(client, server, up, down, work, memory, start, end, sla, budget, a, lam, rest):
    """The dual at (α, λ) and the placement that attains it: (value, its latency −
    SLA, its client memory − budget); the value is a lower bound on the optimum for
    any α, λ ≥ 0, and the two differences are its slopes in α and λ."""
    c, lat, mem = _priced(client, server, up, down, work, memory, start, end, a, lam, rest)
    return c - a * sla - lam * budget, lat - sla, mem - budget


@njit(cache=True)
def _meet(x_lo, v_lo, s_lo, x_hi, v_hi, s_hi):
    """Where the line through (x_lo, v_lo) of slope s_lo > 0 meets the one through
    (x_hi, v_hi) of slope s_hi < 0."""
    return (v_hi - v_lo + s_lo * x_lo - s_hi * x_hi) / (s_lo - s_hi)


@njit(cache=True)
def _best_alpha(
    client, server, up, down, work, memory, start, end, sla, budget, lam, steps, rest, sign_only
):
    """The latency multiplier α ≥ 0 that maximises the dual at ``lam``, exactly:
    the dual is concave and piecewise linear in α, so from a bracket of slopes
    (> 0 at the left end, < 0 at the right) the two end lines' meeting point either
    lies on the dual (the maximum) or gives a tighter end; finitely many steps
    (at most ``steps``: a guard against rounding). Returns (α, dual, the dual's
    slope in λ there: the memory − budget of the two end placements combined so
    that their latency slopes cancel). With ``sign_only``, only the sign of that
    slope is wanted: the search ends as soon as the bracket's two end placements
    agree on it (a forecast, :func:`_budget_binds`; α and the dual are then
    the left end's)."""
    v0, s0, g0 = _dual_line(
        client, server, up, down, work, memory, start, end, sla, budget, 0.0, lam, rest
    )
    if s0 <= 0:
        return 0.0, v0, g0
    scale = 0.0
    for i in range(work.shape[0]):
        scale += abs(work[i])
    hi = max(scale, 1e-300) / max(sla, 1e-300)
    for _ in range(60):  # grow until the priced placement meets the SLA (slope <= 0)
        vh, sh, gh = _dual_line(
            client, server, up, down, work, memory, start, end, sla, budget, hi, lam, rest
        )
        if sh <= 0:
            break
        hi *= 4.0
    if sh >= 0:
        return hi, vh, gh
    a_lo, v_lo, s_lo, g_lo = 0.0, v0, s0, g0
    a_hi, v_hi, s_hi, g_hi = hi, vh, sh, gh
    best_a, best_v, best_g = (a_lo, v_lo, g_lo) if v_lo >= v_hi else (a_hi, v_hi, g_hi)
    for _ in range(steps):
        if sign_only and (g_lo > 0) == (g_hi > 0):
            return a_lo, v_lo, g_lo
        ax = _meet(a_lo, v_lo, s_lo, a_hi, v_hi, s_hi)
        if not (a_lo < ax < a_hi):
            break
        vx, sx, gx = _dual_line(
            client, server, up, down, work, memory, start, end, sla, budget, ax, lam, rest
        )
        if vx > best_v:
            best_a, best_v, best_g = ax, vx, gx
        top = v_lo + s_lo * (ax - a_lo)
        if sx == 0:
            return ax, vx, gx
        if vx >= top - 1e-15 * abs(top):
            # both end lines touch the dual at ax: the maximum; combine their memory
            th = -s_hi / (s_lo - s_hi)
            return ax, vx, th * g_lo + (1.0 - th) * g_hi
        if sx > 0:
            a_lo, v_lo, s_lo, g_lo = ax, vx, sx, gx
        else:
            a_hi, v_hi, s_hi, g_hi = ax, vx, sx, gx
    return best_a, best_v, best_g


@njit(cache=True)
def _budget_binds(client, server, up, down, work, memory, start, end, sla, budget):
    """Whether the optimum of the linear relaxation without the memory budget (the
    dual at λ = 0, :func:`_best_alpha`) needs more client memory than ``budget``;
    False where no placement meets the SLA. A forecast for :func:`label_passes`
    (either answer is exact; our measurement, on 20 random chains with a budget
    per L of 12-160, the block chains of ``benchmarks/dp_speed.py`` and the
    shipped instances' chains whose budget is tighter than all their layers'
    memory: where it is False the latency-work optimum fitted the budget in all
    99 chains, where it is True it broke it in 107 of 115). O(L) per step of the
    search, 3-4 steps on average."""
    # is the SLA reachable at all? (``rest`` is then the dual's scratch)
    rest = _fastest_rest(client, server, up, down, end)
    fastest = min(
        client[0] + _switch(start, 0, 0, up, down) + rest[0, 0],
        server[0] + _switch(start, 1, 0, up, down) + rest[0, 1],
    )
    if fastest > sla:
        return False
    _, _, g = _best_alpha(
        client, server, up, down, work, memory, start, end, sla, budget, 0.0, 100, rest, True
    )
    return g > 0


@njit(cache=True)
def lagrange_tables(
    client, server, up, down, work, memory, start, end, sla, budget, use_memory, steps
):
    """Lagrangian lower bounds for :func:`label_dp` (real data, no ticks).

    Relaxing the SLA (multiplier α ≥ 0) and the memory budget (λ ≥ 0) leaves a
    shortest path over 2 locations per layer; for any α, λ and any label
    (latency ℓ, work w, memory m) at (layer, q), every completion that keeps
    both constraints has work ≥ rest_{α,λ}[layer, q] − α·(SLA − ℓ) − λ·(budget − m).
    The multipliers maximise the dual at the root exactly (it equals the linear
    relaxation of the shortest path with the two side constraints): the dual is
    concave and piecewise linear, so a search over λ whose every step maximises
    over α (:func:`_best_alpha`), each moving to where the bracketing lines meet,
    ends in finitely many steps (at most ``steps`` per multiplier, a guard
    against rounding; any multipliers give a valid bound). Returns (mult
    float64[2, 2]: rows (α*, λ*) and (α at λ = 0, 0); rest float64[2, L, 2]; the
    dual value at (α*, λ*), a lower bound on the optimum up to rounding:
    :func:`splitopt.solvers.dp.dual_margin`).
    """
    L = client.shape[0]
    rest = np.zeros((2, L, 2))
    tmp = np.zeros((L, 2))
    mult = np.zeros((2, 2))
    bud = budget if use_memory else 0.0  # λ = 0 (no memory term) without a budget
    a0, d0, g0 = _best_alpha(
        client, server, up, down, work, memory, start, end, sla, bud, 0.0, steps, tmp, False
    )
    best_a, best_l, best_d = a0, 0.0, d0
    if use_memory and g0 > 0:
        mtot = 0.0
        for i in range(L):
            mtot += memory[i]
        wtot = 0.0
        for i in range(L):
            wtot += abs(work[i])
        hi = max(wtot, 1e-300) / max(budget, mtot * 1e-12, 1e-300)
        for _ in range(60):  # grow until the priced placement fits the budget (slope <= 0)
            ah, vh, gh = _best_alpha(
                client,
                server,
                up,
                down,
                work,
                memory,
                start,
                end,
                sla,
                budget,
                hi,
                steps,
                tmp,
                False,
            )
            if gh <= 0:
                break
            hi *= 4.0
        if vh > best_d:
            best_a, best_l, best_d = ah, hi, vh
        if gh < 0:
            l_lo, v_lo, s_lo = 0.0, d0, g0
            l_hi, v_hi, s_hi = hi, vh, gh
            for _ in range(steps):
                lx = _meet(l_lo, v_lo, s_lo, l_hi, v_hi, s_hi)
                if not (l_lo < lx < l_hi):
                    break
                ax, vx, sx = _best_alpha(
                    client,
                    server,
                    up,
                    down,
                    work,
                    memory,
                    start,
                    end,
                    sla,
                    budget,
                    lx,
                    steps,
                    tmp,
                    False,
                )
                if vx > best_d:
                    best_a, best_l, best_d = ax, lx, vx
                top = v_lo + s_lo * (lx - l_lo)
                if sx == 0 or vx >= top - 1e-15 * abs(top):
                    break
                if sx > 0:
                    l_lo, v_lo, s_lo = lx, vx, sx
                else:
                    l_hi, v_hi, s_hi = lx, vx, sx
    mult[0, 0] = best_a
    mult[0, 1] = best_l
    mult[1, 0] = a0
    _priced(client, server, up, down, work, memory, start, end, best_a, best_l, rest[0])
    _priced(client, server, up, down, work, memory, start, end, a0, 0.0, rest[1])
    return mult, rest, best_d


@njit(cache=True)
def _boundary(x, b, start, end, up, down):  # pragma: no cover - inlined by numba
    L = x.shape[0]
    p = start if b == 0 else x[b - 1]
    q = end if b == L else x[b]
    return _switch(p, q, b, up, down)


@njit(cache=True)
def _touched_switches(x, ps, start, end, up, down):  # pragma: no cover - inlined by numba
    """Switch time at boundaries p and p + 1 of the positions ``ps`` (ascending, -1:
    none), each boundary once."""
    total = 0.0
    last = -1
    for p in ps:
        if p < 0:
            continue
        for b in (p, p + 1):
            if b > last:
                total += _boundary(x, b, start, end, up, down)
                last = b
    return total


@njit(cache=True)
def _flip_latency(x, i, j, k, client, server, up, down, start, end):
    """Latency change of flipping layers i < j < k (j, k = -1: fewer layers), exact:
    the touched layers' times and the switches at their boundaries."""
    ps = (i, j, k)
    old = _touched_switches(x, ps, start, end, up, down)
    dt = 0.0
    for p in ps:
        if p < 0:
            continue
        if x[p] == 1:
            dt += client[p] - server[p]
        else:
            dt += server[p] - client[p]
        x[p] ^= 1
    new = _touched_switches(x, ps, start, end, up, down)
    for p in ps:
        if p >= 0:
            x[p] ^= 1
    return dt + new - old


@njit(cache=True)
def flip_search(
    client,
    server,
    up,
    down,
    work,
    memory,
    start,
    end,
    sla,
    budget,
    x0,
    max_flips,
    max_rounds,
    deadline,
):
    """Best-improvement flip local search from the feasible placement ``x0`` (uint8,
    1 = server; not changed). Each round takes the move of one, two (``max_flips``
    ≥ 2) or, when those are stuck and ``max_flips`` ≥ 3, three layer flips that
    lowers the server work most while latency ≤ ``sla`` and client memory ≤
    ``budget`` (both with the caller's tolerance); it stops when none does, after
    ``max_rounds`` rounds or past ``deadline`` (``time.perf_counter()`` seconds,
    ``inf``: none). A round costs O(L^max_flips). Returns (placement, rounds)."""
    L = client.shape[0]
    x = x0.copy()
    lat, mem, _w = _totals(x, client, server, up, down, work, memory, start, end)
    total = 0.0
    for i in range(L):
        total += abs(work[i])
    tol = 1e-13 * total  # a move must gain more than rounding
    dw1 = np.empty(L)
    dm1 = np.empty(L)
    rounds = 0
    timed = deadline < np.inf
    while rounds < max_rounds:
        if timed and _now() > deadline:
            break
        for i in range(L):
            dw1[i] = work[i] if x[i] == 0 else -work[i]
            dm1[i] = -memory[i] if x[i] == 0 else memory[i]
        best = -tol
        bi, bj, bk = -1, -1, -1
        bl = 0.0
        bm = 0.0
        for i in range(L):
            if dw1[i] < best and mem + dm1[i] <= budget:
                dl = _flip_latency(x, i, -1, -1, client, server, up, down, start, end)
                if lat + dl <= sla:
                    best, bi, bj, bk, bl, bm = dw1[i], i, -1, -1, dl, dm1[i]
        for i in range(L if max_flips >= 2 else 0):
            for j in range(i + 1, L):
                dw = dw1[i] + dw1[j]
                dm = dm1[i] + dm1[j]
                if dw < best and mem + dm <= budget:
                    dl = _flip_latency(x, i, j, -1, client, server, up, down, start, end)
                    if lat + dl <= sla:
                        best, bi, bj, bk, bl, bm = dw, i, j, -1, dl, dm
        if bi < 0 and max_flips >= 3:
            for i in range(L):
                if timed and _now() > deadline:
                    break
                for j in range(i + 1, L):
                    for k in range(j + 1, L):
                        dw = dw1[i] + dw1[j] + dw1[k]
                        dm = dm1[i] + dm1[j] + dm1[k]
                        if dw < best and mem + dm <= budget:
                            dl = _flip_latency(x, i, j, k, client, server, up, down, start, end)
                            if lat + dl <= sla:
                                best, bi, bj, bk, bl, bm = dw, i, j, k, dl, dm
        if bi < 0:
            break
        for p in (bi, bj, bk):
            if p >= 0:
                x[p] ^= 1
        lat += bl
        mem += bm
        rounds += 1
    return x, rounds


@njit(cache=True)
def _window_moves(x, a, b, client, server, up, down, work, memory, start, end, dt, dm, dw):
    """Every placement of layers a..b-1 with the rest of ``x`` (uint8, 1 = server)
    fixed, by its bits (bit i: layer a + i on the server): fills ``dt``, ``dm``,
    ``dw`` (2^(b - a) entries each) with the changes it makes to the latency (its
    layers and the switches at boundaries a..b), the client memory and the server
    work. The placements of the first i + 1 layers extend those of the first i
    (2^(b - a + 1) steps in all; each placement's sums add its layers in order,
    so its figures are those of summing it alone)."""
    L = x.shape[0]
    K = b - a
    prev = start if a == 0 else x[a - 1]
    nxt = end if b == L else x[b]
    t0 = 0.0
    m0 = 0.0
    w0 = 0.0
    p = prev
    for layer in range(a, b):
        q = x[layer]
        if q == 1:
            t0 += server[layer]
            w0 += work[layer]
        else:
            t0 += client[layer]
            m0 += memory[layer]
        t0 += _switch(p, q, layer, up, down)
        p = q
    t0 += _switch(p, nxt, b, up, down)
    dt[0] = 0.0
    dm[0] = 0.0
    dw[0] = 0.0
    for i in range(K):
        layer = a + i
        half = 1 << i
        for code in range(half):
            p = prev if i == 0 else (code >> (i - 1)) & 1
            t = dt[code]
            dt[code + half] = t + server[layer] + _switch(p, 1, layer, up, down)
            dm[code + half] = dm[code]
            dw[code + half] = dw[code] + work[layer]
            dt[code] = t + client[layer] + _switch(p, 0, layer, up, down)
            dm[code] = dm[code] + memory[layer]
    for code in range(1 << K):
        p = (code >> (K - 1)) & 1
        dt[code] = dt[code] + _switch(p, nxt, b, up, down) - t0
        dm[code] = dm[code] - m0
        dw[code] = dw[code] - w0


@njit(cache=True)
def _window_order(a, K, memory, order, msort, tmp_order, tmp_mem):
    """The placements of layers a..a+K-1 (codes as :func:`_window_moves`) in
    ascending order of their client memory: fills ``order`` (int64[2^K]) and
    ``msort`` with that memory (summed as :func:`_window_moves` sums it, so the
    order is that of its ``dm``), by merging: the placements of the first i + 1
    layers are those of the first i with layer i on the server (memory
    unchanged) merged with those with it on the client (memory + its own);
    2^(K + 1) steps, where sorting would take K 2^K. Ties in ascending code (a
    stable sort's order: every code of the client list is below those of the
    server list, which have bit i set)."""
    order[0] = 0
    msort[0] = 0.0
    for i in range(K):
        half = 1 << i
        mi = memory[a + i]
        for c in range(half):
            tmp_order[c] = order[c]
            tmp_mem[c] = msort[c]
        s = 0  # next of the server list (code | half, memory tmp_mem[s])
        k = 0  # next of the client list (code, memory tmp_mem[k] + mi)
        for out in range(2 * half):
            if k >= half or (s < half and tmp_mem[s] < tmp_mem[k] + mi):
                order[out] = tmp_order[s] | half
                msort[out] = tmp_mem[s]
                s += 1
            else:
                order[out] = tmp_order[k]
                msort[out] = tmp_mem[k] + mi
                k += 1


@njit(cache=True)
def _totals(x, client, server, up, down, work, memory, start, end):
    """(latency, client memory, server work) of placement ``x``."""
    L = x.shape[0]
    lat = 0.0
    mem = 0.0
    wrk = 0.0
    for i in range(L):
        if x[i] == 1:
            lat += server[i]
            wrk += work[i]
        else:
            lat += client[i]
            mem += memory[i]
    for b in range(L + 1):
        lat += _boundary(x, b, start, end, up, down)
    return lat, mem, wrk


@njit(cache=True)
def pair_sweeps(
    client,
    server,
    up,
    down,
    work,
    memory,
    start,
    end,
    sla,
    budget,
    x0,
    win_a,
    width,
    scan,
    max_sweeps,
    target,
    deadline,
):
    """Local search whose move re-places two windows of ``width`` consecutive
    layers at once (windows starting at ``win_a``, sorted; a pair is tried when
    the first ends before the second starts, so no boundary is shared and their
    latency changes add up), the rest of the placement fixed, from the feasible
    placement ``x0`` (uint8, 1 = server; not changed).

    Each move is a meet in the middle over the 2^width × 2^width pairs of window
    placements: each window's placements sorted by their client-memory change
    (:func:`_window_order`, ties by code); for each of the first's, the ``scan``
    with the largest memory change that still fits ``budget`` are tried with the
    latency (``sla``), and the pair with the least server work is taken, the
    least code of the first window and the first of its scan on ties (first
    improvement over the pairs of windows). Exact per move where a layer's work
    grows with its client memory in the same proportion in every layer (a subset
    sum: the case it is for), a heuristic otherwise. Window tables (32 bytes a
    placement: its code, memory, work and latency changes in memory order) are
    kept until a move changes a layer they depend on. Stops after a sweep
    without a gain, ``max_sweeps`` sweeps, once the server work is at most
    ``target``, or past ``deadline`` (``time.perf_counter()`` seconds, ``inf``:
    none). Returns (placement, moves)."""
    L = client.shape[0]
    x = x0.copy()
    nw = win_a.shape[0]
    n = 1 << width
    dt = np.empty(n)  # one window's changes, by code (scratch)
    dm = np.empty(n)
    dw = np.empty(n)
    order = np.empty((nw, n), np.int64)
    msort = np.empty((nw, n))
    wmin = np.empty(nw)
    valid = np.zeros(nw, np.bool_)
    wsort = np.empty((nw, n))
    tsort = np.empty((nw, n))
    tmp_o = np.empty(n // 2, np.int64)
    tmp_m = np.empty(n // 2)
    lat, mem, wrk = _totals(x, client, server, up, down, work, memory, start, end)
    total = 0.0
    for i in range(L):
        total += abs(work[i])
    tol = 1e-13 * total  # a move must gain more than rounding
    timed = deadline < INF
    moves = 0
    for _ in range(max_sweeps):
        improved = False
        for i in range(nw):
            a1 = win_a[i]
            b1 = a1 + width
            if timed and _now() > deadline:
                return x, moves
            for j in range(i + 1, nw):
                a2 = win_a[j]
                b2 = a2 + width
                if b1 >= a2:
                    continue
                for k in (i, j):
                    if not valid[k]:
                        ak = win_a[k]
                        _window_moves(
                            x,
                            ak,
                            ak + width,
                            client,
                            server,
                            up,
                            down,
                            work,
                            memory,
                            start,
                            end,
                            dt,
                            dm,
                            dw,
                        )
                        _window_order(ak, width, memory, order[k], msort[k], tmp_o, tmp_m)
                        for c in range(n):
                            msort[k, c] = dm[order[k, c]]
                            wsort[k, c] = dw[order[k, c]]
                            tsort[k, c] = dt[order[k, c]]
                        wmin[k] = dw.min()
                        valid[k] = True
                r_t = sla - lat
                r_m = budget - mem
                best = -tol
                c1b = -1
                c2b = -1
                # the first window's placements by descending memory change, so that
                # the last of the second's that fits the budget only moves up (two
                # pointers); the pair kept is the least (work change, first code),
                # the first of the scan on ties: the same as a scan by ascending code
                top = -1
                for idx in range(n - 1, -1, -1):
                    c1 = order[i, idx]
                    w1 = wsort[i, idx]
                    bound = w1 + wmin[j]
                    if bound > best or (bound == best and c1 > c1b):
                        continue
                    room = r_m - msort[i, idx]
                    while top + 1 < n and msort[j, top + 1] <= room:
                        top += 1
                    t1 = tsort[i, idx]
                    for jj in range(top, max(-1, top - scan), -1):
                        v = w1 + wsort[j, jj]
                        if (v < best or (v == best and c1 < c1b)) and t1 + tsort[j, jj] <= r_t:
                            best = v
                            c1b = c1
                            c2b = order[j, jj]
                if c1b < 0:
                    continue
                for t in range(width):
                    x[a1 + t] = (c1b >> t) & 1
                    x[a2 + t] = (c2b >> t) & 1
                lat, mem, wrk = _totals(x, client, server, up, down, work, memory, start, end)
                moves += 1
                improved = True
                for k in range(nw):  # tables that read a changed layer
                    lo = win_a[k] - 1
                    hi = win_a[k] + width
                    if (lo < b1 and hi >= a1) or (lo < b2 and hi >= a2):
                        valid[k] = False
                if wrk <= target:
                    return x, moves
        if not improved:
            break
    return x, moves


def warm_up(grid: bool = True, labels: bool = True) -> None:
    """Compile (or load from the cache) the kernel signatures the solvers use:
    the grid DPs and the label DP's bound kernels (``grid``), the label DP and its
    Lagrangian tables (``labels``). Each kernel loads on its first call anyway;
    this moves that cost before a solver's clock starts, and ``dp`` asks only for
    ``labels`` (its bounds' kernels load when a chain needs them).

    Chain arrays are read-only, and numba types read-only arrays apart from
    writable ones, so the warm-up passes read-only arrays where the solvers do.
    Call once before starting worker processes, so that they only read the
    on-disk cache instead of racing to write it.
    """

    def ro(a: np.ndarray) -> np.ndarray:
        a.setflags(write=False)
        return a

    i = np.zeros(2, np.int64)
    i1 = np.zeros(3, np.int64)
    w = ro(np.zeros(2))
    f = ro(np.zeros(2))
    f1 = ro(np.zeros(3))
    # deadline inf: the same float64 signature as a real deadline, but the clock
    # (an objmode call) is never read here, so a signal during warm-up is not raised
    # inside compiled code
    if grid:
        grid_dp(i, i, i1, i1, w, 0, 0, 3, np.inf)
        grid_dp_memory(i, i, i1, i1, w, i, 0, 0, 3, 2, np.inf)
    if not labels:
        return
    for use_mem, budget in ((True, 2.0), (False, np.inf)):
        label_dp(
            f,
            f,
            f1,
            f1,
            w,
            f,
            0,
            0,
            3.0,
            budget,
            use_mem,
            1.0,
            np.zeros((1, 2)),
            np.zeros((1, 2, 2)),
            np.zeros((3, 3)),
            np.zeros((3, 3)),
            np.zeros(1),
            np.zeros((1, 2, 2, 3)),
            2**40,
            np.inf,
        )
    label_ladder(
        f,
        f,
        f1,
        f1,
        w,
        f,
        0,
        0,
        3.0,
        2.0,
        True,
        np.ones(1),
        np.zeros((1, 2)),
        np.zeros((1, 2, 2)),
        np.zeros((3, 3)),
        np.zeros((3, 3)),
        np.zeros(1),
        np.zeros((1, 2, 2, 3)),
        2**40,
        np.inf,
        4,
        2**62,
    )
    cardinality_tables(w, f)
    count_bound(f, f, f1, f1, w, 0, 0, 3.0, 1, 4)
    for use_mem, budget in ((True, 2.0), (False, np.inf)):
        args = (f, f, f1, f1, w, f, 0, 0, 3.0, budget, use_mem, np.inf, True, True)
        label_passes(*args, 9, 9, 9, 9, np.inf, 3)
    lagrange_tables(f, f, f1, f1, w, f, 0, 0, 3.0, 2.0, True, 4)
