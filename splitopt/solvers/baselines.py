"""Baselines of SPEC §4: ``server-only``, ``greedy``, ``greedy-ratio``, ``best-cut``,
the greedy variants ``greedy-skip`` and ``greedy-backward`` (issue 13), and the
exhaustive ``brute-force``.

**Assumption (ours).** SplitLLM (Mudvari et al., arXiv:2410.10759) compares its
DP with "a greedy method" that no source available to us defines. ``greedy`` is
our reading of it; ``greedy-skip``, ``greedy-backward`` and ``greedy-ratio`` are
the alternatives a reader would ask about. None of them is SplitLLM's own.

Every feasibility test here goes through the evaluator (:func:`score_batch`),
so the baselines judge placements exactly as they are later scored.

For the heuristics, status ``infeasible`` means *none found*: the greedy rules
start from all-server and give up when that placement already breaks the SLA or
the budget, even if another placement would meet them.
"""

from __future__ import annotations

import numpy as np

from splitopt.evaluate import feasible_mask, score, score_batch
from splitopt.problem import Chain, Problem
from splitopt.solvers.base import ChainSolution, Solver, SolverError

#: brute-force refuses chains longer than this (2^L placements).
BRUTE_FORCE_MAX_LAYERS = 20


def prefix_placements(num_layers: int) -> np.ndarray:
    """(L + 1, L) boolean array: row k is the single cut C^k S^(L-k) (True = server)."""
    return np.arange(num_layers)[None, :] >= np.arange(num_layers + 1)[:, None]


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
        L = chain.num_layers
        # All prefixes C^k S^(L-k) at once; greedy keeps the longest feasible run from k = 0.
        x = prefix_placements(L)
        lat, _, mem = score_batch(chain, x)
        ok = feasible_mask(chain, lat, mem)
        if not ok[0]:
            return ChainSolution("infeasible", None, message="server-only is infeasible")
        k = int(np.argmin(ok)) - 1 if not ok.all() else L
        return ChainSolution("feasible", x[k])


class BestCut(Solver):
    """Best single cut: client prefix, server suffix, every cut k = 0..L tried."""

    name = "best-cut"
    description = "best single client-prefix / server-suffix cut"

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        x = prefix_placements(chain.num_layers)
        lat, work, mem = score_batch(chain, x)
        ok = feasible_mask(chain, lat, mem)
        if not ok.any():
            return ChainSolution("infeasible", None, message="no single cut is feasible")
        order = np.lexsort((lat, work))  # least work, then least latency
        k = int(order[np.argmax(ok[order])])
        return ChainSolution("feasible", x[k])


class GreedyRatio(Solver):
    """From all-server, repeatedly move to the client the server layer that saves
    the most server work per second of latency added (switch costs included),
    among the moves that keep the request feasible and save work."""

    name = "greedy-ratio"
    description = "(ours) move the layer with the best work saved per latency added while feasible"

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        L = chain.num_layers
        x = np.ones(L, dtype=bool)
        s0 = score(chain, x)
        lat0, work0 = s0.latency_s, s0.server_work
        if not s0.feasible:
            return ChainSolution("infeasible", None, message="server-only is infeasible")
        while True:
            cand = np.flatnonzero(x & (chain.server_work > 0))
            if cand.size == 0:
                break
            trial = np.repeat(x[None, :], cand.size, axis=0)
            trial[np.arange(cand.size), cand] = False
            lat, work, mem = score_batch(chain, trial)
            feas = feasible_mask(chain, lat, mem)
            if not feas.any():
                break
            saved = work0 - work
            added = lat - lat0
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(added > 0, saved / np.where(added > 0, added, 1.0), np.inf)
            ratio[~feas] = -np.inf
            # best ratio; ties: more work saved, then the lower layer index
            order = np.lexsort((cand, -saved, -ratio))
            i = int(order[0])
            x = trial[i]
            lat0, work0 = float(lat[i]), float(work[i])
        return ChainSolution("feasible", x)


class GreedySkip(Solver):
    """Greedy that skips (ours, issue 13): from all-server, visit layers 0, 1, ...,
    L-1 once each, moving a layer to the client when the request stays feasible
    and leaving it on the server (then going on) when it would not."""

    name = "greedy-skip"
    description = (
        "(ours) visit layers in forward order once, move each to the client if the "
        "request stays feasible, else skip it and continue"
    )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        x = np.ones(chain.num_layers, dtype=bool)
        if not score(chain, x).feasible:
            return ChainSolution("infeasible", None, message="server-only is infeasible")
        for layer in range(chain.num_layers):
            x[layer] = False
            if not score(chain, x).feasible:
                x[layer] = True
        return ChainSolution("feasible", x)


def suffix_placements(num_layers: int) -> np.ndarray:
    """(L + 1, L) boolean array: row k is S^(L-k) C^k, k client layers at the output end."""
    return np.arange(num_layers)[None, :] < (num_layers - np.arange(num_layers + 1))[:, None]


class GreedyBackward(Solver):
    """Greedy from the output end (ours, issue 13): from all-server, move layers
    L-1, L-2, ... to the client while the request stays feasible; stop at the
    first that would break it."""

    name = "greedy-backward"
    description = (
        "(ours) move layers to the client from the output end (L-1, L-2, ...), stop "
        "at the first that breaks feasibility"
    )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        L = chain.num_layers
        x = suffix_placements(L)
        lat, _, mem = score_batch(chain, x)
        ok = feasible_mask(chain, lat, mem)
        if not ok[0]:
            return ChainSolution("infeasible", None, message="server-only is infeasible")
        k = int(np.argmin(ok)) - 1 if not ok.all() else L
        return ChainSolution("feasible", x[k])


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
