"""The grid DP over many distinct chains in one compiled, parallel call.

:func:`tick_batch` rounds every chain of a :class:`~splitopt.ragged.ChainBatch`
to ticks with the arithmetic of :func:`splitopt.discretise.tick_chain`, done
elementwise on the flat arrays (so the ticks are identical, tested);
:func:`grid_dp_batch` runs :func:`~splitopt.solvers.kernels.grid_dp` (and
:func:`~splitopt.solvers.kernels.grid_dp_memory` where the budget binds, as
:func:`splitopt.solvers.dp.run_grid_dp` does) for every chain inside one numba
``prange`` loop, so chains are solved in parallel across cores and the
results stay arrays (objective per chain, placements concatenated).
:func:`solve_grid_batch` puts the two together with the size checks and the
statuses of :class:`~splitopt.solvers.dp.GridDP` (without its ``bound`` option).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from splitopt.discretise import (
    AUTO_GRID_BYTES,
    DEFAULT_GRID,
    DEFAULT_MEM_GRID,
    EXACT_MEM_MAX,
    GRID_PER_ITEM,
    GUARD,
    Discretisation,
)
from splitopt.errors import SolverError
from splitopt.ragged import ChainBatch, segment_all
from splitopt.solvers.jit import njit, prange
from splitopt.solvers.kernels import (
    MAX_LABELS,
    grid_dp,
    grid_dp_memory,
    label_dp,
    label_passes,
)

#: Same limit as :data:`splitopt.solvers.dp.MAX_TABLE_BYTES` (kept equal by a test).
MAX_TABLE_BYTES = 4 * 2**30


@dataclass(frozen=True, eq=False)
class TickedBatch:
    """A :class:`ChainBatch` in integer ticks (ragged as the batch).

    ``sla``: int64[n]; ``budget``: int64[n] memory ticks, -1 where memory does not
    constrain (``use_memory`` False); ``memory``: int64 per layer (0 where unused);
    ``tick_s``, ``mem_tick_bytes`` (NaN where unused): float64[n]; ``exact``: bool[n].
    """

    offsets: np.ndarray
    boundary_offsets: np.ndarray
    client: np.ndarray
    server: np.ndarray
    up: np.ndarray
    down: np.ndarray
    work: np.ndarray
    memory: np.ndarray
    sla: np.ndarray
    budget: np.ndarray
    use_memory: np.ndarray
    start_server: np.ndarray
    end_server: np.ndarray
    tick_s: np.ndarray
    mem_tick_bytes: np.ndarray
    exact: np.ndarray


def _whole(x: np.ndarray) -> np.ndarray:
    return np.abs(x - np.round(x)) <= 1e-9 * np.maximum(1.0, np.abs(x))


def _ticks_exact(x: np.ndarray, n: np.ndarray, tick: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """:func:`splitopt.discretise.ticks_exact`, elementwise: the rounding to ``n`` ticks lost
    nothing (n·τ equals x to 1e-9 relative), or x was clamped at ``cap`` on its own."""
    with np.errstate(over="ignore", invalid="ignore"):
        close = np.abs(n * tick - x) <= 1e-9 * np.abs(x)
        clamped = (n >= cap) & (x >= cap * tick)
    return close | clamped


def _ceil(values: np.ndarray, tick: np.ndarray, cap: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = np.ceil(values / tick * (1.0 - GUARD))
    return np.minimum(x, cap.astype(np.float64)).astype(np.int64)


def _floor(values: np.ndarray, tick: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = values / tick * (1.0 + GUARD)
    return np.floor(np.minimum(x, 2.0**52)).astype(np.int64)


def _memory_ticks(
    b: ChainBatch, d: Discretisation, use: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """μ per chain (NaN where unused) and whether it is exact: :func:`memory_tick`."""
    n = len(b)
    mu = np.full(n, np.nan)
    exact = np.ones(n, bool)
    idx = np.flatnonzero(use)
    if idx.size == 0:
        return mu, exact
    budget = b.memory_budget_bytes[idx]
    L = b.num_layers
    seg = np.repeat(np.arange(n), L)
    m = b.client_memory_bytes
    sub = use[seg]
    m_sub = m[sub]
    sub_off = np.zeros(idx.size + 1, np.int64)
    np.cumsum(L[idx], out=sub_off[1:])
    if d.mem_tick_bytes is not None:
        mus = np.full(idx.size, d.mem_tick_bytes)
    elif d.mem_grid is not None:
        mus = np.where(budget > 0, budget / d.mem_grid, 1.0)
    else:
        whole = segment_all(_whole(m_sub), sub_off) & _whole(budget)
        mx = np.maximum(np.maximum.reduceat(m_sub, sub_off[:-1]), budget)
        ok = whole & (mx < 2.0**62)
        ints = np.where(np.repeat(ok, L[idx]), np.round(m_sub), 0).astype(np.int64)
        g = np.gcd.reduceat(ints, sub_off[:-1])
        g = np.gcd(g, np.where(ok, np.round(budget), 0).astype(np.int64))
        with np.errstate(divide="ignore", invalid="ignore"):
            exact_tick = ok & (g > 0) & (budget / np.maximum(g, 1) <= EXACT_MEM_MAX)
        mus = np.where(exact_tick, g.astype(np.float64), budget / DEFAULT_MEM_GRID)
        mus = np.where(budget == 0, 1.0, mus)
    tiny = (budget > 0) & (budget / DEFAULT_MEM_GRID == 0.0)
    mus = np.where(tiny, budget, mus)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ex = segment_all(_whole(m_sub / np.repeat(mus, L[idx])), sub_off)
    ex &= ~tiny
    mu[idx] = mus
    exact[idx] = ex
    return mu, exact


def tick_batch(b: ChainBatch, d: Discretisation | None = None) -> TickedBatch:
    """Every chain of ``b`` in ticks, as :meth:`Discretisation.tick` would give it."""
    d = d or Discretisation()
    n = len(b)
    L = b.num_layers
    if d.tick_s is not None:
        tau = np.full(n, d.tick_s)
    else:
        if d.grid is not None:
            grid = np.full(n, d.grid, np.int64)
        else:
            # splitopt.discretise.default_grid, elementwise
            fits = AUTO_GRID_BYTES // (2 * L + 32) - 1
            grid = np.maximum(np.minimum(GRID_PER_ITEM * (2 * L + 1), fits), DEFAULT_GRID).astype(
                np.int64
            )
        tau = b.sla_s / grid
    sla = _floor(b.sla_s, tau)
    per_layer = np.repeat(tau, L)
    per_bound = np.repeat(tau, L + 1)
    cap_l = np.repeat(sla + 1, L)
    cap_b = np.repeat(sla + 1, L + 1)
    client = _ceil(b.client_time_s, per_layer, cap_l)
    server = _ceil(b.server_time_s, per_layer, cap_l)
    up = _ceil(b.uplink_s, per_bound, cap_b)
    down = _ceil(b.downlink_s, per_bound, cap_b)
    boff = b.boundary_offsets
    exact = (
        segment_all(_ticks_exact(b.client_time_s, client, per_layer, cap_l), b.offsets)
        & segment_all(_ticks_exact(b.server_time_s, server, per_layer, cap_l), b.offsets)
        & segment_all(_ticks_exact(b.uplink_s, up, per_bound, cap_b), boff)
        & segment_all(_ticks_exact(b.downlink_s, down, per_bound, cap_b), boff)
    )
    any_mem = ~segment_all(~(b.client_memory_bytes > 0), b.offsets)
    use = b.has_budget & any_mem
    mu, mem_exact = _memory_ticks(b, d, use)
    budget = np.full(n, -1, np.int64)
    memory = np.zeros(int(b.offsets[-1]), np.int64)
    if use.any():
        seg = np.repeat(np.arange(n), L)
        budget[use] = _floor(b.memory_budget_bytes[use], mu[use])
        lay = use[seg]
        memory[lay] = _ceil(
            b.client_memory_bytes[lay],
            np.repeat(mu[use], L[use]),
            np.repeat(budget[use] + 1, L[use]),
        )
        mem_ok = np.ones(int(b.offsets[-1]), bool)
        mem_ok[lay] = _ticks_exact(
            b.client_memory_bytes[lay],
            memory[lay],
            np.repeat(mu[use], L[use]),
            np.repeat(budget[use] + 1, L[use]),
        )
        exact &= mem_exact & (~use | segment_all(mem_ok, b.offsets))
    return TickedBatch(
        offsets=b.offsets,
        boundary_offsets=boff,
        client=client,
        server=server,
        up=up,
        down=down,
        work=b.server_work,
        memory=memory,
        sla=sla,
        budget=budget,
        use_memory=use,
        start_server=b.start_server,
        end_server=b.end_server,
        tick_s=tau,
        mem_tick_bytes=mu,
        exact=exact,
    )


@njit(cache=True, parallel=True)
def grid_dp_batch(off, boff, client, server, up, down, work, memory, start, end, sla, budget, usem):
    """Grid DP for n ticked chains in one parallel loop (arrays as in :class:`TickedBatch`).

    Returns (best: float64[n], +inf where infeasible; placements: uint8[offsets[-1]],
    1 = server, zeros where infeasible). Per chain it does what
    :func:`splitopt.solvers.dp.run_grid_dp` does: the latency-only DP first and
    the memory DP only where that optimum breaks the budget.
    """
    n = off.shape[0] - 1
    best = np.empty(n)
    x = np.zeros(off[n], np.uint8)
    for i in prange(n):
        a = off[i]
        b = off[i + 1]
        c = boff[i]
        d = boff[i + 1]
        s = np.int64(start[i])
        e = np.int64(end[i])
        v, xi, _ = grid_dp(
            client[a:b], server[a:b], up[c:d], down[c:d], work[a:b], s, e, sla[i], np.inf
        )
        if usem[i] and v < np.inf:
            used = 0
            for k in range(b - a):
                if xi[k] == 0:
                    used += memory[a + k]
            if used > budget[i]:
                v, xi, _ = grid_dp_memory(
                    client[a:b],
                    server[a:b],
                    up[c:d],
                    down[c:d],
                    work[a:b],
                    memory[a:b],
                    s,
                    e,
                    sla[i],
                    budget[i],
                    np.inf,
                )
        best[i] = v
        if v < np.inf:
            x[a:b] = xi
    return best, x


def run_ticked(t: TickedBatch) -> tuple[np.ndarray, np.ndarray]:
    """Check the table sizes (as :func:`splitopt.solvers.dp.run_grid_dp`) and run the batch."""
    L = np.diff(t.offsets)
    states = L * 2 * (np.maximum(t.sla, -1) + 1)
    if states.size and states.max() > MAX_TABLE_BYTES:
        _refuse(int(states.max()))
    mem_states = states * np.where(t.use_memory, np.maximum(t.budget, -1) + 1, 1)
    # the memory table is only built where the latency-only optimum breaks the budget;
    # refuse up front where it could be (same message as the per-chain solver)
    if mem_states.size and mem_states.max() > MAX_TABLE_BYTES:
        best, x = grid_dp_batch(
            *_args(t, np.where(mem_states > MAX_TABLE_BYTES, False, t.use_memory))
        )
        big = np.flatnonzero((mem_states > MAX_TABLE_BYTES) & np.isfinite(best))
        for i in big:
            a, b = t.offsets[i], t.offsets[i + 1]
            if int(t.memory[a:b][x[a:b] == 0].sum()) > t.budget[i]:
                _refuse(int(mem_states[i]))
    return grid_dp_batch(*_args(t, t.use_memory))


def _args(t: TickedBatch, usem: np.ndarray) -> tuple:
    return (
        t.offsets,
        t.boundary_offsets,
        t.client,
        t.server,
        t.up,
        t.down,
        t.work,
        t.memory,
        t.start_server,
        t.end_server,
        t.sla,
        t.budget,
        usem,
    )


def _refuse(states: int) -> None:
    raise SolverError(
        f"the grid DP would need {states:,} states (> {MAX_TABLE_BYTES:,}); "
        "use a coarser --grid/--tick or --mem-grid"
    )


#: Status codes of :func:`solve_grid_batch`.
OPTIMAL, FEASIBLE, INFEASIBLE = 0, 1, 2
STATUS_NAMES = ("optimal", "feasible", "infeasible")
#: Message of a grid-infeasible chain whose ticking was not exact (as ``dp``'s).
NOT_A_PROOF = "no placement feasible on the grid (not a proof)"


def solve_grid_batch(
    b: ChainBatch, d: Discretisation | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Solve every chain of ``b`` with the grid DP.

    Returns (status codes int8[n] (:data:`OPTIMAL`, :data:`FEASIBLE`,
    :data:`INFEASIBLE`), ticked optimum float64[n] (+inf where infeasible),
    placements bool[offsets[-1]], whether ticking was exact bool[n]). Statuses as
    :class:`~splitopt.solvers.dp.GridDP` without ``bound``: optimal where ticking was
    exact, feasible otherwise.
    """
    t = tick_batch(b, d)
    best, x = run_ticked(t)
    status = np.where(t.exact, OPTIMAL, FEASIBLE).astype(np.int8)
    status[~np.isfinite(best)] = INFEASIBLE
    return status, best, x.astype(bool), t.exact


def warm_up_batch(grid: bool = True, labels: bool = True) -> None:
    """Compile (or load from the cache) :func:`grid_dp_batch` (``grid``) and
    :func:`label_dp_batch` (``labels``) for the types used."""
    b = ChainBatch(
        offsets=np.array([0, 2], np.int64),
        client_time_s=np.zeros(2),
        server_time_s=np.zeros(2),
        server_work=np.zeros(2),
        uplink_s=np.zeros(3),
        downlink_s=np.zeros(3),
        client_memory_bytes=np.ones(2),
        sla_s=np.ones(1),
        memory_budget_bytes=np.array([1.0]),
        start_server=np.zeros(1, bool),
        end_server=np.zeros(1, bool),
    )
    if grid:
        run_ticked(tick_batch(b))
    if labels:
        solve_labels_batch(b, 1e-9)
        passes_batch(b, np.zeros(1, np.int64), 1e-9, 9, 9, 9, 9, 9, 9, 9)


@njit(cache=True, parallel=True)
def label_dp_batch(off, boff, client, server, up, down, work, memory, start, end, sla, cap):
    """Exact label DP without memory for n chains in one parallel loop (real data).

    ``sla``: float64[n], the SLA already widened by the evaluator's tolerance.
    Per chain this is the call :func:`splitopt.solvers.dp.solve_labels` makes first
    (latency-work labels, no bounds). Returns (best: float64[n], +inf where
    infeasible; placements: uint8[offsets[-1]], 1 = server; aborted: bool[n], the
    chains that reached the label cap ``cap``, left to the per-chain path).
    """
    n = off.shape[0] - 1
    best = np.empty(n)
    aborted = np.zeros(n, np.bool_)
    x = np.zeros(off[n], np.uint8)
    lag_mult = np.zeros((0, 2))
    lag_rest = np.zeros((0, 1, 2))
    card = np.zeros((0, 0))
    cnt_alpha = np.zeros(0)
    cnt_rest = np.zeros((0, 1, 2, 1))
    for i in prange(n):
        a = off[i]
        b = off[i + 1]
        c = boff[i]
        d = boff[i + 1]
        v, xi, _, abort = label_dp(
            client[a:b],
            server[a:b],
            up[c:d],
            down[c:d],
            work[a:b],
            memory[a:b],
            np.int64(start[i]),
            np.int64(end[i]),
            sla[i],
            np.inf,
            False,
            np.inf,
            lag_mult,
            lag_rest,
            card,
            card,
            cnt_alpha,
            cnt_rest,
            cap,
            np.inf,
        )
        aborted[i] = abort != 0
        best[i] = v
        if v < np.inf and abort == 0:
            x[a:b] = xi
    return best, x, aborted


def solve_labels_batch(b: ChainBatch, rtol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The latency-work label DP for every chain of ``b`` (one parallel call).

    Returns (best float64[n], placements bool[offsets[-1]], resolved bool[n]):
    ``resolved`` is False for chains with a memory budget whose latency-only
    optimum breaks it; those need the full (memory) label DP, per chain.
    The budget check is :func:`splitopt.solvers.dp.solve_labels`'s own expression.
    """
    best, x, aborted = label_dp_batch(
        b.offsets,
        b.boundary_offsets,
        b.client_time_s,
        b.server_time_s,
        b.uplink_s,
        b.downlink_s,
        b.server_work,
        b.client_memory_bytes,
        b.start_server,
        b.end_server,
        b.sla_s * (1 + rtol),
        MAX_LABELS,
    )
    xb = x.astype(bool)
    resolved = ~aborted  # a chain at the label cap goes the per-chain way (its fallback)
    idx = np.flatnonzero(b.has_budget & np.isfinite(best) & resolved)
    if idx.size:
        resolved[idx] = client_memory_fits(
            idx, b.offsets, x, b.client_memory_bytes, b.memory_budget_bytes * (1 + rtol)
        )
    return best, xb, resolved


#: Elements numpy adds in one block of its pairwise summation (``PW_BLOCKSIZE``).
PW_BLOCK = 128


@njit(cache=True)
def _pw_block(a, lo, n):  # pragma: no cover - mirrored by numpy_sum's tests
    """numpy's pairwise sum of ``a[lo : lo + n]`` for ``n <= PW_BLOCK``: sequential
    below 8 elements, else 8 running sums combined as a tree, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def numpy_sum(a):
    """``a.sum()`` of a contiguous float64 array, added in numpy's order (its pairwise
    summation: halves, cut at multiples of 8, down to blocks of :data:`PW_BLOCK`),
    so that a kernel's comparison gives numpy's answer bit for bit. The recursion
    runs on an explicit stack (frames: start, length, stage)."""
    n = a.shape[0]
    if n <= PW_BLOCK:
        return _pw_block(a, 0, n)
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    stage = np.empty(64, np.int64)
    vals = np.empty(64)
    sp, nv = 1, 0
    los[0], ns[0], stage[0] = 0, n, 0
    while sp > 0:
        lo, m = los[sp - 1], ns[sp - 1]
        if m <= PW_BLOCK:
            vals[nv] = _pw_block(a, lo, m)
            nv += 1
            sp -= 1
            continue
        n2 = m // 2
        n2 -= n2 % 8
        if stage[sp - 1] == 0:
            stage[sp - 1] = 1
            los[sp], ns[sp], stage[sp] = lo, n2, 0
            sp += 1
        elif stage[sp - 1] == 1:
            stage[sp - 1] = 2
            los[sp], ns[sp], stage[sp] = lo + n2, m - n2, 0
            sp += 1
        else:
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            sp -= 1
    return vals[0]


@njit(cache=True)
def client_memory_fits(idx, off, x, memory, budget):
    """bool[len(idx)]: whether chain ``i = idx[j]``'s placement ``x`` (uint8, 1 =
    server) keeps its client memory within ``budget[i]`` (bytes, the tolerance
    already added): ``memory[a:b][x[a:b] == 0].sum() <= budget[i]`` with numpy's
    sum (:func:`numpy_sum`), without a Python step per chain."""
    out = np.empty(idx.shape[0], np.bool_)
    for j in range(idx.shape[0]):
        i = idx[j]
        a = off[i]
        b = off[i + 1]
        used = memory[a:b][x[a:b] == 0]
        out[j] = numpy_sum(np.ascontiguousarray(used)) <= budget[i]
    return out


@njit(cache=True, parallel=True)
def label_passes_batch(
    idx,
    off,
    boff,
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
    bounds,
    card_labels,
    first_labels,
    latency_labels,
    cap,
    quick_after,
    quick_layers,
):
    """:func:`~splitopt.solvers.kernels.label_passes` for the chains ``idx`` of a
    ragged batch in one parallel loop (no deadline).

    Per chain ``i = idx[j]``: ``sla[i]`` and ``budget[i]`` already widened by the
    evaluator's tolerance (``budget`` +inf where memory does not constrain),
    ``use_memory[i]``, ``bounds[i]``; ``card_labels``, ``first_labels``,
    ``latency_labels``, ``cap`` and ``quick_after`` (0 for chains of more than
    ``quick_layers`` layers) as :func:`label_passes` takes them. Returns
    (best float64[len(idx)], placements uint8[offsets[-1]] written for the chains with code
    :data:`~splitopt.solvers.kernels.ABORT_NONE` and a finite best, codes
    int64[len(idx)]).
    """
    m = idx.shape[0]
    best = np.empty(m)
    code = np.zeros(m, np.int64)
    x = np.zeros(off[off.shape[0] - 1], np.uint8)
    for j in prange(m):
        i = idx[j]
        a = off[i]
        b = off[i + 1]
        c = boff[i]
        d = boff[i + 1]
        v, xi, _, abort = label_passes(
            client[a:b],
            server[a:b],
            up[c:d],
            down[c:d],
            work[a:b],
            memory[a:b],
            np.int64(start[i]),
            np.int64(end[i]),
            sla[i],
            budget[i],
            use_memory[i],
            np.inf,
            True,
            bounds[i],
            card_labels,
            first_labels,
            latency_labels,
            cap,
            np.inf,
            quick_after if b - a <= quick_layers else 0,
        )
        best[j] = v
        code[j] = abort
        if v < np.inf and abort == 0:
            x[a:b] = xi
    return best, x, code


def passes_batch(
    b: ChainBatch,
    idx: np.ndarray,
    rtol: float,
    bounds_max_layers: int,
    card_labels: int,
    first_labels: int,
    latency_labels: int,
    cap: int,
    quick_after: int,
    quick_layers: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first kernel call of :func:`splitopt.solvers.dp.solve_labels` (its cheap
    passes, :func:`~splitopt.solvers.kernels.label_passes`, latency first, no
    deadline) for the chains ``idx`` of ``b`` in one parallel call, with that
    function's arguments: the SLA and the budget widened by ``rtol``, bounds for
    chains with a budget and at most ``bounds_max_layers`` layers, the quick pass
    for chains of at most ``quick_layers``. Returns
    :func:`label_passes_batch`'s (best, placements uint8[offsets[-1]], codes)."""
    has = b.has_budget
    budget = np.where(has, b.memory_budget_bytes * (1 + rtol), np.inf)
    layers = np.diff(b.offsets)
    return label_passes_batch(
        np.ascontiguousarray(idx, np.int64),
        b.offsets,
        b.boundary_offsets,
        b.client_time_s,
        b.server_time_s,
        b.uplink_s,
        b.downlink_s,
        b.server_work,
        b.client_memory_bytes,
        b.start_server,
        b.end_server,
        b.sla_s * (1 + rtol),
        budget,
        has,
        has & (layers <= bounds_max_layers),
        card_labels,
        first_labels,
        latency_labels,
        cap,
        quick_after,
        quick_layers,
    )
