"""Baselines of SPEC §4: ``server-only``, ``greedy``, ``greedy-ratio``, ``best-cut``,
the greedy variants ``greedy-skip`` and ``greedy-backward``, and the
exhaustive ``brute-force``.

**Assumption (ours).** SplitLLM (Mudvari et al., arXiv:2410.10759) compares its
DP with "a greedy method" that no source available to us defines. ``greedy`` is
our reading of it; ``greedy-skip``, ``greedy-backward`` and ``greedy-ratio`` are
the alternatives a reader would ask about. None of them is SplitLLM's own.

Every feasibility test here goes through the evaluator (:func:`score`,
:func:`score_batch`), so the baselines judge placements exactly as they are later
scored; ``greedy``, ``best-cut`` and ``greedy-ratio`` pre-select with prefix sums or
neighbour deltas (O(L) memory) and let the evaluator confirm their pick.

For the heuristics, status ``infeasible`` means *none found*: the greedy rules
start from all-server and give up when that placement already breaks the SLA or
the budget, even if another placement would meet them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from splitopt.batch_evaluate import feasible_rows, score_rows
from splitopt.evaluate import BATCH_MIN_CHAINS, RTOL, feasible_mask, score, score_batch
from splitopt.problem import Chain, Problem
from splitopt.ragged import ChainBatch, batch_of, segment_rows
from splitopt.solution import Result
from splitopt.solvers.base import ChainSolution, Solver, SolverError

#: brute-force refuses chains longer than this (2^L placements).
BRUTE_FORCE_MAX_LAYERS = 20


def prefix_placements(num_layers: int) -> np.ndarray:
    """(L + 1, L) boolean array: row k is the single cut C^k S^(L-k) (True = server).

    O(L²) memory: for tests and small chains; the solvers use :func:`prefix_scores`.
    """
    return np.arange(num_layers)[None, :] >= np.arange(num_layers + 1)[:, None]


def cut_placement(num_layers: int, k: int) -> np.ndarray:
    """The single cut C^k S^(L-k) (True = server)."""
    return np.arange(num_layers) >= k


def prefix_scores(chain: Chain) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latency (s), server work and client memory (bytes) of every single cut
    C^k S^(L-k), k = 0..L, by prefix sums in O(L) time and memory.

    Summed in another order than the evaluator, so a cut within rounding of the SLA
    may be judged differently; callers re-check their pick with :func:`score`.
    """
    L = chain.num_layers
    zero = np.zeros(1)
    a = np.concatenate([zero, np.cumsum(chain.client_time_s)])  # Σ_{l<k} a_l
    c = np.concatenate([zero, np.cumsum(chain.server_time_s)])
    w = np.concatenate([zero, np.cumsum(chain.server_work)])
    m = np.concatenate([zero, np.cumsum(chain.client_memory_bytes)])
    k = np.arange(L + 1)
    # numpy booleans: ``~`` on a Python bool is integer inversion (deprecated in 3.12)
    start, end = np.bool_(chain.start == "server"), np.bool_(chain.end == "server")
    up, down = chain.uplink_s, chain.downlink_s
    x0 = k == 0  # layer 0 on the server
    last = k < L  # layer L-1 on the server
    trans = np.where(~start & x0, up[0], 0.0) + np.where(start & ~x0, down[0], 0.0)
    inner = (k >= 1) & (k <= L - 1)
    trans = trans + np.where(inner, up[np.clip(k, 0, L)], 0.0)
    trans = trans + np.where(~last & end, up[L], 0.0) + np.where(last & ~end, down[L], 0.0)
    lat = a + (c[L] - c) + trans
    return lat, w[L] - w, m


class ServerOnly(Solver):
    """Every layer on the server."""

    name = "server-only"
    description = "every layer on the server"

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        x = np.ones(chain.num_layers, dtype=bool)
        if not score(chain, x).feasible:
            return ChainSolution("infeasible", None, message="server-only breaks the SLA or budget")
        return ChainSolution("feasible", x)


class Greedy(Solver):
    """Our reading of SplitLLM's undefined greedy (an assumption, see the module
    docstring): from all-server, move layers 0, 1, 2, ... to the client while the
    request stays feasible; stop at the first that would break it."""

    name = "greedy"
    description = (
        "(ours: our reading of SplitLLM's undefined greedy) move layers to the client "
        "in forward order, stop at the first that breaks feasibility"
    )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        # All prefixes C^k S^(L-k) at once (O(L)); greedy keeps the longest feasible run
        # from k = 0, confirmed (and at rounding edges corrected) by the evaluator.
        return longest_feasible_run(chain, prefix_scores(chain), cut_placement)

    def solve(self, problem: Problem) -> Result:
        """As :meth:`Solver.solve`; many distinct chains (no time limit) at once
        (:func:`greedy_flat`: the same answers, without one step per chain)."""
        if len(problem.chains) < BATCH_MIN_CHAINS or self.time_limit is not None:
            return super().solve(problem)
        t0 = time.perf_counter()
        statuses, x, have, messages = greedy_flat(batch_of(problem))
        return Result.from_flat(
            problem,
            self.name,
            statuses,
            x,
            have,
            time.perf_counter() - t0,
            options=self.describe_options(),
            bounds=[None] * len(statuses),
            messages=messages,
        )


def greedy_flat(batch: ChainBatch) -> tuple[list[str], np.ndarray, np.ndarray, list[str | None]]:
    """:meth:`Greedy.solve_chain` of every chain of ``batch`` at once, chains of one
    length together, with the same arithmetic (prefix sums as :func:`prefix_scores`,
    confirmation by the evaluator's expressions, :func:`score_rows`): (statuses,
    placements bool[offsets[-1]], whether each chain has one, messages)."""
    n = len(batch)
    x_flat = np.zeros(int(batch.offsets[-1]), bool)
    have = np.zeros(n, bool)
    lengths = batch.num_layers
    for L in np.unique(lengths).tolist():
        idx = np.flatnonzero(lengths == L)
        layer = np.arange(L)

        def fits(
            rows: np.ndarray, cut: np.ndarray, L: int = L, layer: np.ndarray = layer
        ) -> np.ndarray:
            x = layer[None, :] >= cut[:, None]
            lat, _, mem = score_rows(batch, rows, L, x)
            return feasible_rows(batch, rows, lat, mem, RTOL)

        ok0 = fits(idx, np.zeros(idx.shape[0], np.int64))
        g = idx[ok0]
        off, boff = batch.offsets, batch.boundary_offsets

        def seg(
            values: np.ndarray, width: int, o: np.ndarray = off, g: np.ndarray = g
        ) -> np.ndarray:
            # chains g's segments (a view where g is every chain, all of length L)
            return segment_rows(values, o, g, width)

        zero = np.zeros((g.shape[0], 1))
        a = np.concatenate([zero, np.cumsum(seg(batch.client_time_s, L), axis=1)], axis=1)
        c = np.concatenate([zero, np.cumsum(seg(batch.server_time_s, L), axis=1)], axis=1)
        m = np.concatenate([zero, np.cumsum(seg(batch.client_memory_bytes, L), axis=1)], axis=1)
        kk = np.arange(L + 1)
        start = batch.start_server[g][:, None]
        end = batch.end_server[g][:, None]
        up, down = seg(batch.uplink_s, L + 1, boff), seg(batch.downlink_s, L + 1, boff)
        x0 = kk == 0
        last = kk < L
        trans = np.where(~start & x0, up[:, :1], 0.0) + np.where(start & ~x0, down[:, :1], 0.0)
        inner = (kk >= 1) & (kk <= L - 1)
        trans = trans + np.where(inner, up, 0.0)
        trans = (
            trans
            + np.where(~last & end, up[:, L : L + 1], 0.0)
            + np.where(last & ~end, down[:, L : L + 1], 0.0)
        )
        lat = a + (c[:, L : L + 1] - c) + trans
        ok = feasible_rows(batch, g, lat, m, RTOL)
        k = np.where(ok.all(axis=1), L, np.argmin(ok, axis=1) - 1)
        k = np.maximum(k, 0)
        act = np.flatnonzero(k > 0)  # back off while the evaluator refuses the cut
        while act.size:
            bad = ~fits(g[act], k[act])
            act = act[bad]
            k[act] -= 1
            act = act[k[act] > 0]
        act = np.flatnonzero(k < L)  # and forward while it accepts the next one
        while act.size:
            good = fits(g[act], k[act] + 1)
            act = act[good]
            k[act] += 1
            act = act[k[act] < L]
        placed = layer[None, :] >= k[:, None]
        if g.shape[0] * L == x_flat.shape[0]:  # only then g is every chain, in order
            x_flat[:] = placed.ravel()
        else:
            x_flat[off[g][:, None] + layer] = placed
        have[g] = True
    statuses = np.where(have, "feasible", "infeasible").tolist()
    messages: list[str | None] = [None if h else "server-only is infeasible" for h in have.tolist()]
    return statuses, x_flat, have, messages


def longest_feasible_run(
    chain: Chain,
    scores: tuple[np.ndarray, np.ndarray, np.ndarray],
    placement: Callable[[int, int], np.ndarray],
) -> ChainSolution:
    """The greedy rules' pick: the largest k such that ``placement(L, 0..k)`` are all
    feasible, from ``scores`` (latency, work, memory of k = 0..L, O(L) sums in another
    order than the evaluator) and confirmed, at rounding edges corrected, by it."""
    L = chain.num_layers

    def fits(k: int) -> bool:
        return score(chain, placement(L, k)).feasible

    if not fits(0):
        return ChainSolution("infeasible", None, message="server-only is infeasible")
    lat, _, mem = scores
    ok = feasible_mask(chain, lat, mem)
    k = max(int(np.argmin(ok)) - 1 if not ok.all() else L, 0)
    while k > 0 and not fits(k):
        k -= 1
    while k < L and fits(k + 1):
        k += 1
    return ChainSolution("feasible", placement(L, k))


class BestCut(Solver):
    """Best single cut: client prefix, server suffix, every cut k = 0..L tried."""

    name = "best-cut"
    description = "best single client-prefix / server-suffix cut"

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        lat, work, mem = prefix_scores(chain)  # O(L) memory, not the (L + 1) x L cuts
        ok = feasible_mask(chain, lat, mem)
        order = np.lexsort((lat, work))  # least work, then least latency
        for k in order[ok[order]].tolist():  # the first the evaluator confirms
            x = cut_placement(chain.num_layers, int(k))
            if score(chain, x).feasible:
                return ChainSolution("feasible", x)
        return ChainSolution("infeasible", None, message="no single cut is feasible")


class GreedyRatio(Solver):
    """From all-server, repeatedly move to the client the server layer that saves
    the most server work per second of latency added (switch costs included),
    among the moves that keep the request feasible and save work."""

    name = "greedy-ratio"
    description = "(ours) move the layer with the best work saved per latency added while feasible"

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        """O(L) per move (at most L moves): each move's latency change is computed from
        its neighbours, and only the chosen move is re-scored by the evaluator. With a
        time limit, the placement reached so far (feasible) is returned when it runs out."""
        deadline = None if time_limit is None else time.perf_counter() + time_limit
        L = chain.num_layers
        x = np.ones(L, dtype=bool)
        s0 = score(chain, x)
        lat0, mem0 = s0.latency_s, s0.client_memory_bytes
        if not s0.feasible:
            return ChainSolution("infeasible", None, message="server-only is infeasible")
        a, c, w, m = (
            chain.client_time_s,
            chain.server_time_s,
            chain.server_work,
            chain.client_memory_bytes,
        )
        up, down = chain.uplink_s, chain.downlink_s
        start, end = chain.start == "server", chain.end == "server"
        sla = chain.sla_s * (1.0 + RTOL)
        budget = (
            np.inf if chain.memory_budget_bytes is None else chain.memory_budget_bytes * (1 + RTOL)
        )
        idx = np.arange(L)
        while True:
            if deadline is not None and time.perf_counter() >= deadline:
                return ChainSolution("feasible", x, None, "time limit reached")
            prev = np.concatenate([[start], x[:-1]])  # x_{i-1}
            nxt = np.concatenate([x[1:], [end]])  # x_{i+1}
            # latency added by moving layer i (now on the server) to the client
            added = (
                a
                - c
                + np.where(prev, down[:-1], 0.0)
                - np.where(prev, 0.0, up[:-1])
                + np.where(nxt, up[1:], 0.0)
                - np.where(nxt, 0.0, down[1:])
            )
            feas = x & (w > 0) & (lat0 + added <= sla) & (mem0 + m <= budget)
            moved = False
            while feas.any():
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(added > 0, w / np.where(added > 0, added, 1.0), np.inf)
                ratio = np.where(feas, ratio, -np.inf)
                # best ratio; ties: more work saved, then the lower layer index
                top = feas & (ratio == ratio.max())
                top &= w == w[top].max()
                i = int(idx[top][0])
                trial = x.copy()
                trial[i] = False
                st = score(chain, trial)
                if st.feasible:  # the evaluator has the last word
                    x = trial
                    lat0, mem0 = st.latency_s, st.client_memory_bytes
                    moved = True
                    break
                feas[i] = False
            if not moved:
                break
        return ChainSolution("feasible", x)


#: greedy-skip: running totals within this relative distance of a limit are re-checked
#: by the evaluator (their rounding error is far below it: L·2⁻⁵² relative).
EDGE = 1e-6


class GreedySkip(Solver):
    """Greedy that skips (ours): from all-server, visit layers 0, 1, ...,
    L-1 once each, moving a layer to the client when the request stays feasible
    and leaving it on the server (then going on) when it would not."""

    name = "greedy-skip"
    description = (
        "(ours) visit layers in forward order once, move each to the client if the "
        "request stays feasible, else skip it and continue"
    )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        """O(L): each move's latency change comes from its neighbours; only a move whose
        running totals land within :data:`EDGE` of a limit is decided by the evaluator
        (so the answer is the evaluator's, not the running sum's). With a time limit the
        placement reached so far (feasible) is returned when it runs out."""
        deadline = None if time_limit is None else time.perf_counter() + time_limit
        L = chain.num_layers
        x = np.ones(L, dtype=bool)
        s0 = score(chain, x)
        if not s0.feasible:
            return ChainSolution("infeasible", None, message="server-only is infeasible")
        lat, mem = s0.latency_s, s0.client_memory_bytes
        a, c, m = chain.client_time_s, chain.server_time_s, chain.client_memory_bytes
        up, down = chain.uplink_s, chain.downlink_s
        start, end = chain.start == "server", chain.end == "server"
        sla = chain.sla_s * (1.0 + RTOL)
        budget = (
            np.inf if chain.memory_budget_bytes is None else chain.memory_budget_bytes * (1 + RTOL)
        )

        def crossing(b: int, left: bool, right: bool) -> float:
            """Transfer cost at boundary b between locations left, right (True = server)."""
            if left == right:
                return 0.0
            return float(up[b] if right else down[b])

        for layer in range(L):
            if deadline is not None and layer % 1024 == 0 and time.perf_counter() >= deadline:
                return ChainSolution("feasible", x, None, "time limit reached")
            left = bool(x[layer - 1]) if layer > 0 else start
            right = bool(x[layer + 1]) if layer < L - 1 else end
            before = crossing(layer, left, True) + crossing(layer + 1, True, right)
            after = crossing(layer, left, False) + crossing(layer + 1, False, right)
            new_lat = lat + float(a[layer]) - float(c[layer]) + after - before
            new_mem = mem + float(m[layer])
            x[layer] = False
            near = abs(new_lat - sla) <= EDGE * max(sla, 1e-300) or (
                budget < np.inf and abs(new_mem - budget) <= EDGE * max(budget, 1e-300)
            )
            # near a limit the evaluator decides; elsewhere the running totals do
            ok = score(chain, x).feasible if near else (new_lat <= sla and new_mem <= budget)
            if ok:
                lat, mem = new_lat, new_mem
            else:
                x[layer] = True
        return ChainSolution("feasible", x)


def suffix_placements(num_layers: int) -> np.ndarray:
    """(L + 1, L) boolean array: row k is S^(L-k) C^k, k client layers at the output end.

    O(L²) memory: for tests and small chains; the solvers use :func:`suffix_scores`.
    """
    return np.arange(num_layers)[None, :] < (num_layers - np.arange(num_layers + 1))[:, None]


def suffix_placement(num_layers: int, k: int) -> np.ndarray:
    """S^(L-k) C^k (True = server)."""
    return np.arange(num_layers) < num_layers - k


def suffix_scores(chain: Chain) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latency (s), server work and client memory (bytes) of every S^(L-k) C^k,
    k = 0..L, by prefix sums in O(L) time and memory (the mirror of
    :func:`prefix_scores`; callers re-check their pick with :func:`score`)."""
    L = chain.num_layers
    zero = np.zeros(1)
    a = np.concatenate([zero, np.cumsum(chain.client_time_s)])
    c = np.concatenate([zero, np.cumsum(chain.server_time_s)])
    w = np.concatenate([zero, np.cumsum(chain.server_work)])
    m = np.concatenate([zero, np.cumsum(chain.client_memory_bytes)])
    j = L - np.arange(L + 1)  # first client layer; j = L: all on the server
    # numpy booleans: ``~`` on a Python bool is integer inversion (deprecated in 3.12)
    start, end = np.bool_(chain.start == "server"), np.bool_(chain.end == "server")
    up, down = chain.uplink_s, chain.downlink_s
    x0 = j > 0  # layer 0 on the server
    last = j >= L  # layer L-1 on the server
    trans = np.where(~start & x0, up[0], 0.0) + np.where(start & ~x0, down[0], 0.0)
    inner = (j >= 1) & (j <= L - 1)
    trans = trans + np.where(inner, down[np.clip(j, 0, L)], 0.0)
    trans = trans + np.where(~last & end, up[L], 0.0) + np.where(last & ~end, down[L], 0.0)
    lat = (a[L] - a[j]) + c[j] + trans
    return lat, w[j], m[L] - m[j]


class GreedyBackward(Solver):
    """Greedy from the output end (ours): from all-server, move layers
    L-1, L-2, ... to the client while the request stays feasible; stop at the
    first that would break it."""

    name = "greedy-backward"
    description = (
        "(ours) move layers to the client from the output end (L-1, L-2, ...), stop "
        "at the first that breaks feasibility"
    )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        # All suffixes S^(L-k) C^k at once (O(L)), as greedy does for prefixes.
        return longest_feasible_run(chain, suffix_scores(chain), suffix_placement)


class BruteForce(Solver):
    """Enumerate all 2^L placements (L <= 20); least work, then least latency."""

    name = "brute-force"
    exact = True
    description = f"enumerate every placement (L <= {BRUTE_FORCE_MAX_LAYERS})"

    def check(self, problem: Problem) -> None:
        for r in problem.requests:
            if r.chain.num_layers > BRUTE_FORCE_MAX_LAYERS:
                raise SolverError(
                    f"brute-force refuses request {r.id!r}: {r.chain.num_layers} layers "
                    f"> {BRUTE_FORCE_MAX_LAYERS} (2^L placements)"
                )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        _, x = brute_force(chain)
        if x is None:
            return ChainSolution("infeasible", None)
        return ChainSolution("optimal", x)


def all_placements(num_layers: int) -> np.ndarray:
    """(2^L, L) boolean array of every placement, True = server."""
    codes = np.arange(2**num_layers, dtype=np.int64)
    return ((codes[:, None] >> np.arange(num_layers - 1, -1, -1)) & 1).astype(bool)


def brute_force(chain: Chain) -> tuple[float, np.ndarray | None]:
    """(optimum, placement as a boolean array) by enumeration; (inf, None) when infeasible."""
    L = chain.num_layers
    if L > BRUTE_FORCE_MAX_LAYERS:
        raise SolverError(f"brute-force refuses {L} layers > {BRUTE_FORCE_MAX_LAYERS}")
    best, best_lat, best_x = np.inf, np.inf, None
    # chunks of at most 2^16 placements keep memory small
    chunk_bits = min(L, 16)
    base = all_placements(chunk_bits)
    high_bits = L - chunk_bits
    for hi in range(2**high_bits):
        prefix = ((hi >> np.arange(high_bits - 1, -1, -1)) & 1).astype(bool)
        x = np.concatenate([np.broadcast_to(prefix, (base.shape[0], high_bits)), base], axis=1)
        lat, work, mem = score_batch(chain, x)
        ok = feasible_mask(chain, lat, mem)
        if not ok.any():
            continue
        idx = np.flatnonzero(ok)
        j = idx[np.lexsort((lat[idx], work[idx]))[0]]
        if work[j] < best or (work[j] == best and lat[j] < best_lat):
            best, best_lat, best_x = float(work[j]), float(lat[j]), x[j].copy()
    return best, best_x
