"""Local search for ``dp``'s fallback: improve a feasible placement.

Where the exact label DP cannot finish in its time limit (chains of many
near-identical blocks, whose memory budget makes the problem a subset sum),
``dp`` answers with its best heuristic placement (:func:`splitopt.solvers.dp.label_fallback`).
This module polishes that placement (:func:`polish`), our heuristic:

* :func:`flip_search`: best-improvement local search over moves that flip the
  location of one, two or three layers (client ↔ server), keeping the SLA and the
  memory budget; the latency change is exact (switches at the touched boundaries
  recomputed);
* :func:`window_search`: large-neighbourhood search whose neighbourhoods are
  windows of :data:`WINDOW` consecutive layers, each re-solved *exactly* by the
  label DP with the rest of the placement fixed (the window's SLA and budget are
  what the fixed layers leave). A window of two dozen near-identical blocks has
  hundreds of thousands of client sets, enough to fill the memory budget to a
  millionth, which single flips cannot.

Every answer is rescored by the evaluator; the result is never worse than the start.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from splitopt.evaluate import RTOL, score
from splitopt.problem import Chain
from splitopt.solvers.chain_arrays import kernel_args
from splitopt.solvers.kernels import flip_search, pair_sweeps

#: How :func:`window_search` solves a window exactly: (window chain, deadline in
#: ``time.perf_counter()`` seconds or ``None``) -> its optimal placement (0/1) or
#: ``None`` (none found in time). ``dp`` passes its label DP; a parameter rather
#: than an import, so that this module and :mod:`splitopt.solvers.dp` do not import
#: each other.
WindowSolver = Callable[[Chain, float | None], np.ndarray | None]

#: Layers per window of :func:`window_search` and its label cap per window (our
#: choice, measured on chains of 48-160 near-identical blocks: windows of 16 layers
#: under 20,000 labels reach within 1e-6 of what HiGHS finds in 10 s in 10-100 ms;
#: windows of 24 can take a second each). :func:`polish` then tries
#: :data:`WIDE_WINDOW`.
WINDOW = 16
WIDE_WINDOW = 24
WINDOW_LABELS = 20_000
#: Most sweeps of :func:`window_search` over the chain (each gains or it stops).
MAX_SWEEPS = 50

#: Largest move :func:`improve` tries (layers flipped at once; :func:`flip_search`).
#: Three-layer flips cost O(L³) a round (4 M moves at 160 layers), tried only when
#: smaller ones are stuck and on chains of at most :data:`THREE_FLIPS_MAX_LAYERS`
#: layers; two-layer flips on at most :data:`TWO_FLIPS_MAX_LAYERS`; at most
#: 4 L rounds (our choices: a search without a deadline stays within seconds).
MAX_FLIPS = 3
THREE_FLIPS_MAX_LAYERS = 200
TWO_FLIPS_MAX_LAYERS = 1000


def _flips(n: int) -> int:
    """Largest move for a chain of ``n`` layers (:data:`MAX_FLIPS` and the limits)."""
    if n <= THREE_FLIPS_MAX_LAYERS:
        return MAX_FLIPS
    return 2 if n <= TWO_FLIPS_MAX_LAYERS else 1


def improve(
    chain: Chain, placement: np.ndarray, deadline: float | None = None
) -> tuple[float, np.ndarray]:
    """:func:`flip_search` on a chain from a feasible placement (bool, ``True`` =
    server): (server work by the evaluator, placement), the start's where the search
    finds nothing better the evaluator confirms."""
    start_work = score(chain, placement).server_work
    mb = chain.memory_budget_bytes
    x, _ = flip_search(
        *kernel_args(chain),
        math.inf if mb is None else mb * (1 + RTOL),
        np.asarray(placement, dtype=np.uint8),
        _flips(chain.num_layers),
        4 * chain.num_layers,
        math.inf if deadline is None else float(deadline),
    )
    s = score(chain, x.astype(bool))
    if s.feasible and s.server_work < start_work:
        return s.server_work, x.astype(bool)
    return start_work, np.asarray(placement, dtype=bool)


def _window_chain(chain: Chain, x: np.ndarray, a: int, b: int) -> Chain | None:
    """Layers a..b-1 as a chain of their own, the rest of ``x`` (bool, ``True`` =
    server) fixed: it starts where layer a - 1 runs and ends where layer b runs; its
    SLA and memory budget are what the fixed layers leave (so that with the label
    DP's own tolerance it keeps the whole chain's). ``None`` when nothing is left."""
    L = chain.num_layers
    t = np.where(x, chain.server_time_s, chain.client_time_s)
    prev = np.concatenate([[chain.start == "server"], x])
    nxt = np.concatenate([x, [chain.end == "server"]])
    sw = np.where(~prev & nxt, chain.uplink_s, 0.0) + np.where(prev & ~nxt, chain.downlink_s, 0.0)
    fixed = float(t[:a].sum() + t[b:].sum() + sw[:a].sum() + sw[b + 1 :].sum())
    sla = (chain.sla_s * (1 + RTOL) - fixed) / (1 + RTOL)
    budget = None
    if chain.memory_budget_bytes is not None:
        used = float(np.where(x, 0.0, chain.client_memory_bytes)[np.r_[0:a, b:L]].sum())
        budget = (chain.memory_budget_bytes * (1 + RTOL) - used) / (1 + RTOL)
        if budget < 0:
            return None
    if sla < 1e-9:
        return None
    return Chain(
        chain.client_time_s[a:b],
        chain.server_time_s[a:b],
        chain.server_work[a:b],
        chain.uplink_s[a : b + 1],
        chain.downlink_s[a : b + 1],
        chain.client_memory_bytes[a:b],
        sla,
        budget,
        "server" if bool(prev[a]) else "client",
        "server" if bool(nxt[b]) else "client",
    )


def window_search(
    chain: Chain,
    placement: np.ndarray,
    solve: WindowSolver,
    deadline: float | None = None,
    width: int = WINDOW,
) -> tuple[float, np.ndarray]:
    """Large-neighbourhood search from a feasible placement (bool, ``True`` = server):
    sweep windows of ``width`` layers (half-overlapping), re-solve each exactly with
    the rest fixed (``solve``: the label DP, ``dp``'s ``_solve_window``), keep what
    the evaluator confirms is better; repeat until a sweep gains nothing, after
    :data:`MAX_SWEEPS` sweeps or past ``deadline`` (``time.perf_counter()``
    seconds). Returns (server work, placement)."""
    n = chain.num_layers
    x = np.asarray(placement, dtype=bool).copy()
    cur = score(chain, x).server_work
    if n <= width:
        return cur, x
    dl = math.inf if deadline is None else float(deadline)
    stride = max(1, width // 2)
    starts = [*range(0, n - width, stride), n - width]
    improved = True
    sweeps = 0
    while improved and sweeps < MAX_SWEEPS:
        improved = False
        sweeps += 1
        for a in starts:
            if time.perf_counter() > dl:
                return cur, x
            b = a + width
            sub = _window_chain(chain, x, a, b)
            if sub is None:
                continue
            y = solve(sub, deadline)
            if y is None:
                continue
            cand = x.copy()
            cand[a:b] = y == 1
            s = score(chain, cand)
            if s.feasible and s.server_work < cur - 1e-13 * abs(cur):
                x, cur = cand, s.server_work
                improved = True
    return cur, x


#: Widths of the windows of :func:`pair_search`, tried in turn while the target is
#: not met (2^width placements a window; our choice, measured on chains of 48-160
#: near-identical blocks: narrow windows are cheap and often enough, wider ones
#: find finer fills; at 48 blocks with 10 % jitter, seeds 0-15, 13 met the bound,
#: with windows up to 14 layers (1), 16 (5), 18 (5) and 20 (2), and in the other 3
#: the first sweep left a gap over :data:`~splitopt.solvers.dp.GAP_WIDEN`, where
#: only the labels can prove; at 80 blocks, seeds 0-7, all 8 with windows up to
#: 12 or 14 layers, in 7-27 ms), and how many of the second
#: window's placements a move tries per placement of the first
#: (:func:`kernels.pair_sweeps`).
PAIR_WIDTHS = (8, 10, 12, 14, 16, 18, 20)
#: A width whose window tables (32 bytes for each of a window's 2^width
#: placements, :func:`kernels.pair_sweeps`) would exceed this many bytes is skipped
#: (our choice: 128 MiB lets the four windows of 20 layers of a 48-layer chain run;
#: longer chains stop at 18).
PAIR_TABLE_BYTES = 128 * 2**20
PAIR_SCAN = 8
#: Most sweeps of one width of :func:`pair_search` over its pairs of windows.
PAIR_SWEEPS = 20


def pair_search(
    chain: Chain,
    placement: np.ndarray,
    deadline: float | None = None,
    target: float = -math.inf,
    widths: tuple[int, ...] = PAIR_WIDTHS,
    sweeps: int = PAIR_SWEEPS,
) -> tuple[float, np.ndarray]:
    """From a feasible placement (bool), re-place two windows of layers at once, the rest fixed
    (:func:`kernels.pair_sweeps`: a meet in the middle over both windows'
    placements), with windows of each width of ``widths`` in turn (half-overlapping;
    chains shorter than two windows skip that width), until ``deadline`` or once
    the server work is at most ``target``. Our heuristic for chains whose memory
    budget makes the problem a subset sum (near-identical blocks): moves spanning
    two distant places in the chain fill the budget far more finely than one
    window or a few flips. At most ``sweeps`` sweeps per width. Returns (server
    work by the evaluator, placement); never worse than the start."""
    n = chain.num_layers
    x = np.asarray(placement, dtype=bool).copy()
    cur = score(chain, x).server_work
    dl = math.inf if deadline is None else float(deadline)
    args = kernel_args(chain)
    mb = chain.memory_budget_bytes
    budget = math.inf if mb is None else mb * (1 + RTOL)
    for width in widths:
        if cur <= target or time.perf_counter() > dl:
            break
        if n < 2 * width + 1:
            continue
        stride = max(1, width // 2)
        win_a = np.array([*range(0, n - width, stride), n - width], np.int64)
        if win_a.size * 32 * 2**width > PAIR_TABLE_BYTES:
            continue
        y, moves = pair_sweeps(
            *args, budget, x.astype(np.uint8), win_a, width, PAIR_SCAN, sweeps, target, dl
        )
        if moves:
            s = score(chain, y == 1)
            if s.feasible and s.server_work < cur:
                x, cur = y == 1, s.server_work
    return cur, x


def polish(
    chain: Chain, placement: np.ndarray, solve: WindowSolver, deadline: float | None = None
) -> tuple[float, np.ndarray]:
    """From a feasible placement (bool): :func:`window_search` with :data:`WINDOW`
    layers, then :func:`improve` (flips), then the same with :data:`WIDE_WINDOW`
    layers, until ``deadline``: (server work, placement). (Windows first: flips
    alone spend the latency on scattered single client layers.)"""
    x = np.asarray(placement, dtype=bool)
    for width in (WINDOW, WIDE_WINDOW):
        _, x = window_search(chain, x, solve, deadline, width)
        w, x = improve(chain, x, deadline)
    return w, x


__all__ = [
    "MAX_FLIPS",
    "WIDE_WINDOW",
    "WINDOW",
    "flip_search",
    "improve",
    "pair_search",
    "polish",
    "window_search",
]
