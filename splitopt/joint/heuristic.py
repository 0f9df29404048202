"""A client-aware placement heuristic for the joint model, and an exact placement
by brute force for tiny instances (to measure the heuristic's gap).

**Client-aware CG-BP** (``client_aware_cgbp``; ours). CG-BP (Sun et al.) sizes every
server's block count so that it keeps KV cache for R concurrent requests on all its
blocks, and places ranges greedily until every block has capacity R. With clients
that run blocks, the design here is that each request's client runs the longest
prefix it can hold (``k_c`` blocks, its memory for weights plus that request's cache)
when its per-block cost is at most the median server's, and nothing otherwise, so:

block ``b`` is needed from the swarm by ``D_b`` requests (those whose prefix stops
before b), and CG-BP's greedy is run with a per-block target ``R x D_b / n`` (n jobs)
instead of R on every block: a server takes the window holding an under-served block
with the largest remaining amortised time; once every target is met, the window whose
sorted capacity/target ratios are lexicographically smallest (blocks nobody needs
count as served). Block counts reserve cache for the peak target only. Everything
else is CG-BP's (counts formula, greedy order by amortised time). ``best_of`` keeps
the better of CG-BP's and this placement by the DP's total time. Routes are then chosen per
request by the exact joint DP (:func:`splitopt.joint.place.route_jobs`), which may
run fewer client blocks than the design assumed. With a client that runs nothing the
heuristic is CG-BP on the whole model.

**Local search** (``local_search``; ours). Client-aware CG-BP is worse than CG-BP on
average because its design guesses each request's client share (the longest prefix
the client can hold, when its per-block cost is below the median server's) before
any route exists: the DP then often routes otherwise (a client prefix costs no round
trips but may be slower than the swarm, a suffix or a middle run may be better),
and the per-block targets ``R x D_b / n`` leave blocks whose design demand is zero
with no server at all, so requests whose clients cannot run them pay detours or
find no route. The local search instead scores placements by what the routing
actually does: starting from ``best_of``, it moves one server's range at a time to
the candidate range (within CG-BP's count) that most lowers the sum of the DP's
least T_r, until no move helps (or a time limit).

**Exact placement** (``brute_placement``): every assignment of one contiguous range of
at most ``m_j`` blocks (or none) to each server ``j``, with ``m_j`` CG-BP's conservative
count for the whole model (so CG-BP's placement and the heuristic's lie in the same
set); server memory is otherwise not binding (each server has room for its range and
the requests' cache; ours). Objective: the sum over jobs of the least T_r by the
per-request DP (``time``), every job routed. Tiny instances only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from splitopt.joint.brute import placements_with_caps
from splitopt.joint.model import JointCluster
from splitopt.joint.route import best_route, time_table
from splitopt.placement.cg import CGBPRR, conservative_counts
from splitopt.placement.model import Placement


def client_shares(jc: JointCluster) -> np.ndarray:
    """``k_c`` per job, the design's client prefix: the blocks its client can hold when
    the client's per-block cost (prefill + ``l_out - 1`` decode steps) is at most the
    median server's, else 0 (a slow client is left to the swarm; ours)."""
    out = []
    for job in jc.cluster.jobs:
        _, block, client = jc.costs(job)
        fast = block.size == 0 or client <= float(np.median(block))
        out.append(jc.max_client_blocks(job) if fast else 0)
    return np.array(out, dtype=np.int64)


def cgbp_placement(jc: JointCluster) -> Placement:
    """CG-BP's (client-unaware) placement of ``jc.cluster``."""
    return CGBPRR().place(jc.cluster)[0]


def block_demand(jc: JointCluster) -> np.ndarray:
    """``D_b`` per block (index b - 1): the jobs whose design client prefix stops
    before block b, i.e. that need block b from the swarm."""
    k = client_shares(jc)
    b = np.arange(1, jc.num_blocks + 1)
    return (k[None, :] < b[:, None]).sum(axis=1).astype(np.float64)


def _lex_key(values: np.ndarray) -> tuple[float, ...]:
    return tuple(np.sort(values).tolist())


def client_aware_cgbp(jc: JointCluster) -> Placement:
    """The client-aware CG-BP placement (see the module docstring): CG-BP's greedy
    with a per-block target ``R_b = R x D_b / n`` instead of one R for every block."""
    cl = jc.cluster
    L, S = cl.num_blocks, cl.num_servers
    R, s_c = CGBPRR().design(cl)
    n = max(len(cl.jobs), 1)
    target = R * block_demand(jc) / n if cl.jobs else np.full(L, float(R))
    R2 = max(math.ceil(float(target.max())), 1) if target.size else 1
    counts = conservative_counts(cl, R2, s_c)  # cache reserved for the peak demand only
    s_m = cl.model.block_bytes
    M, tau = cl.memory(), cl.decode()
    host = counts > 0
    t_tilde = np.full(S, np.inf)
    if host.any():
        worst = (cl.rtt_s + tau * counts).max(axis=0)
        t_tilde[host] = worst[host] / counts[host]
    order = np.argsort(t_tilde, kind="mergesort")
    order = order[host[order]]
    if s_c > 0:
        sessions = np.floor((M - s_m * counts) * (1 + 1e-9) / (s_c * np.maximum(counts, 1)))
    else:
        sessions = np.full(S, float(R2))
    max_t = (t_tilde[host].max() + 1.0) if host.any() else 1.0
    first = np.zeros(S, dtype=np.int64)
    Cb = np.zeros(L)
    Tb = target * max_t
    needed = target > 0
    # a block nobody needs counts as fully served in the lexicographic rule
    ratio_of = lambda c: np.where(needed, c / np.maximum(target, 1e-300), np.inf)  # noqa: E731
    for j in order:
        m = int(counts[j])
        under = Cb < target
        best_a = -1
        if under.any():
            best_sum = -1.0
            for a in range(L - m + 1):
                if under[a : a + m].any():
                    sm = float(Tb[a : a + m].sum())
                    if sm > best_sum:
                        best_sum, best_a = sm, a
        else:
            ratio = ratio_of(Cb)
            best_key = None
            for a in range(L - m + 1):
                key = _lex_key(ratio[a : a + m])
                if best_key is None or key < best_key:
                    best_key, best_a = key, a
        first[j] = best_a + 1
        gain = max_t - t_tilde[j]
        w = slice(best_a, best_a + m)
        Tb[w] -= gain * np.minimum(np.maximum(target[w] - Cb[w], 0.0), sessions[j])
        Cb[w] += sessions[j]
    return Placement(first, np.where(first > 0, counts, 0))


def best_of(jc: JointCluster) -> Placement:
    """Of CG-BP's and the client-aware placement, the one of least total time (the sum
    of the per-request DP's least T_r; CG-BP's on ties)."""
    a, b = cgbp_placement(jc), client_aware_cgbp(jc)
    return b if total_time(jc, b) < total_time(jc, a) else a


def total_time(jc: JointCluster, placement: Placement) -> float:
    """Sum over jobs of the least T_r under ``placement`` (inf if some job has no route),
    each job's best route re-scored by the evaluator."""
    total = 0.0
    for job in jc.cluster.jobs:
        ans = best_route(jc, placement, job, "time")
        if ans.status != "optimal" or ans.score is None:
            return math.inf
        total += ans.score.total_s
    return total


def _jobs_cost(jc: JointCluster, pl: Placement, jobs: tuple, stop: float = math.inf) -> float:
    """Sum over ``jobs`` of the DP's least T_r under ``pl`` (inf: some job unroutable,
    or the sum reached ``stop``)."""
    total = 0.0
    for job in jobs:
        best = np.asarray(time_table(jc, pl, job)[0])
        v = float(best.min()) if best.size else math.inf
        if not math.isfinite(v):
            return math.inf
        total += v
        if not total < stop:
            return math.inf
    return total


def local_search(
    jc: JointCluster,
    start: Placement | None = None,
    *,
    caps: np.ndarray | None = None,
    full: bool | None = None,
    sample: int | None = None,
    time_limit: float | None = None,
    seed: int = 0,
) -> Placement:
    """Improve a placement server by server (ours): each server's range is replaced by
    the candidate range that most lowers the objective of the problem the DP routes,
    the sum over jobs of the least T_r (client blocks included), until a sweep over
    all servers changes nothing, or ``time_limit`` seconds pass.

    Candidates for server j: every range of at most ``caps[j]`` blocks (``full``; the
    default where L x max cap x S is at most 2,000) or, at scale, its range shifted by
    1, 2, 4, ... blocks either way and one block shorter or longer (within the cap).
    ``caps`` default: CG-BP's conservative counts (the set :func:`brute_placement`
    searches, so the gap is measured on the same set). ``sample``: score moves on this
    many jobs drawn with ``seed`` (all jobs when ``None``), and return the start
    instead when the result is not better on all jobs (a final best-of); the start is
    ``best_of`` by default. ``time_limit`` covers the moves, not that final check.
    """
    t0 = time.perf_counter()
    cl = jc.cluster
    L, S = cl.num_blocks, cl.num_servers
    if caps is None:
        R, s_c = CGBPRR().design(cl)
        caps = conservative_counts(cl, R, s_c)
    caps = np.asarray(caps, dtype=np.int64)
    pl = start if start is not None else best_of(jc)
    first, count = pl.first.copy(), pl.count.copy()
    if full is None:
        full = L * int(caps.max(initial=0)) * S <= 2000
    jobs = cl.jobs
    if sample is not None and sample < len(jobs):
        rng = np.random.default_rng(seed)
        jobs = tuple(jobs[i] for i in sorted(rng.choice(len(jobs), sample, replace=False)))
    cur = _jobs_cost(jc, Placement(first, count), jobs)

    def candidates(j: int) -> list[tuple[int, int]]:
        cap = int(caps[j])
        if cap <= 0:
            return []
        if full:
            return [(a, m) for m in range(1, min(cap, L) + 1) for a in range(1, L - m + 2)]
        a0, m0 = int(first[j]), int(count[j])
        out: set[tuple[int, int]] = set()
        if m0 == 0:
            m0 = min(cap, L)
            out.update((a, m0) for a in range(1, L - m0 + 2, max(1, (L - m0 + 1) // 8)))
        step = 1
        while step < L:
            for a in (a0 - step, a0 + step):
                if 1 <= a <= L - m0 + 1:
                    out.add((a, m0))
            step *= 2
        for m in (m0 - 1, m0 + 1):
            if 1 <= m <= min(cap, L):
                out.add((max(1, min(a0, L - m + 1)), m))
        out.discard((a0, int(count[j])))
        return sorted(out)

    def done() -> Placement:
        out = Placement(first.copy(), count.copy())
        if jobs is cl.jobs:
            return out
        # moves were scored on a sample: keep the start unless all jobs agree (best-of)
        return out if total_time(jc, out) < total_time(jc, pl) else pl

    changed = True
    while changed:
        changed = False
        for j in range(S):
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                return done()
            a0, m0 = int(first[j]), int(count[j])
            best_move, best_cost = None, cur
            for a, m in candidates(j):
                first[j], count[j] = a, m
                c = _jobs_cost(jc, Placement(first, count), jobs, best_cost * (1 - 1e-12))
                if c < best_cost * (1 - 1e-12):
                    best_move, best_cost = (a, m), c
            first[j], count[j] = a0, m0
            if best_move is not None:
                first[j], count[j] = best_move
                cur = best_cost
                changed = True
    return done()


def all_placements(jc: JointCluster) -> Iterator[Placement]:
    """Every placement with one range of at most CG-BP's count ``m_j`` per server."""
    cl = jc.cluster
    R, s_c = CGBPRR().design(cl)
    caps = conservative_counts(cl, R, s_c)
    return placements_with_caps(cl.num_blocks, [int(c) for c in caps])


def brute_placement(jc: JointCluster) -> tuple[Placement | None, float]:
    """The placement of least total time over :func:`all_placements` (the DP's least
    T_r per job, summed), and that time as re-scored by the evaluator (inf: none)."""
    best, best_t = None, math.inf
    jobs = jc.cluster.jobs
    for pl in all_placements(jc):
        t = 0.0
        for job in jobs:
            t += float(np.min(np.asarray(time_table(jc, pl, job)[0])))
            if not t < best_t:
                break
        if t < best_t:
            best, best_t = pl, t
    if best is None:
        return None, math.inf
    return best, total_time(jc, best)


__all__ = [
    "all_placements",
    "best_of",
    "block_demand",
    "brute_placement",
    "cgbp_placement",
    "client_aware_cgbp",
    "client_shares",
    "local_search",
    "total_time",
]
