"""The dynamic programs.

* ``dp`` (:class:`DP`, the default solver): exact on the real data (labels with
  bounds, no ticks); given ``grid``/``tick``/``mem_grid``/``mem_tick``/``bound`` it
  is the grid DP on those ticks, as before.
* ``dp-grid`` (:class:`GridDP`): the grid DP on time (and memory) ticks, optimal on
  the ticked data. Before the exact default (splitopt 0.1), ``dp`` named this
  solver; solution files of that time (``"solver": "dp"`` without the ``exact``
  option) replay as ``dp-grid`` (:func:`splitopt.formats.solution_file.read_run`).
* ``dp-exact`` (:class:`LabelDP`): the label DP alone (the exact mode of ``dp``).
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import numpy as np

from splitopt.discretise import (
    GridError,
    TickedChain,
    default_grid,
    default_grid_capped,
    tick_chain,
)
from splitopt.evaluate import RTOL, score
from splitopt.problem import Chain, Problem
from splitopt.ragged import ChainBatch, batch_of
from splitopt.solution import Result
from splitopt.solvers import jit
from splitopt.solvers.base import ChainSolution, Solver, SolverError
from splitopt.solvers.batch import (
    INFEASIBLE,
    NOT_A_PROOF,
    STATUS_NAMES,
    passes_batch,
    solve_grid_batch,
    solve_labels_batch,
    warm_up_batch,
)
from splitopt.solvers.chain_arrays import kernel_args
from splitopt.solvers.kernels import (
    ABORT_LABELS,
    ABORT_NONE,
    LATENCY_CAPPED,
    MAX_LABELS,
    NEED_BOUNDS,
    _cardinality_count,
    cardinality_tables,
    count_bound,
    flip_search,
    grid_dp,
    grid_dp_memory,
    label_dp,
    label_ladder,
    label_passes,
    lagrange_tables,
    sla_incumbent,
    warm_up,
)
from splitopt.solvers.params import DefaultDPParams, DPParams, SolverParams

#: Refuse grids whose tables (one choice byte per state plus four float64 rows per
#: memory tick) would exceed this many bytes.
MAX_TABLE_BYTES = 4 * 2**30
#: ``dp`` solves problems with at least this many distinct chains in one batched,
#: parallel kernel call (:mod:`splitopt.solvers.batch`; same answers, tested).
BATCH_MIN_CHAINS = 64


def state_count(t: TickedChain) -> int:
    """Number of DP states (layer, location, time tick[, memory tick]) of a ticked chain."""
    n = t.client.shape[0] * 2 * (max(t.sla, -1) + 1)
    if t.memory is not None and t.budget is not None:
        n *= max(t.budget, -1) + 1
    return n


def table_bytes(layers: int, ticks: int, mem_ticks: int = 0) -> int:
    """Bytes of the grid DP's tables for ``ticks`` + 1 time and ``mem_ticks`` + 1 memory
    columns: L · 2 choice bytes and 4 float64 (two rows f, g for two locations) per column."""
    cols = (max(ticks, -1) + 1) * (max(mem_ticks, -1) + 1)
    return cols * (2 * layers + 32)


def _check_size(nbytes: int) -> None:
    if nbytes > MAX_TABLE_BYTES:
        raise SolverError(
            f"the grid DP would need {nbytes:,} bytes of tables (> {MAX_TABLE_BYTES:,}); "
            "use a coarser --grid/--tick or --mem-grid"
        )


class DPStopped(Exception):
    """A DP stopped at its label cap or deadline (``reason``: ``"labels"`` or
    ``"time"``) before it could prove optimality; ``bound``: a lower bound on the
    optimum's server work it had proven by then (``None``: none); ``incumbent``:
    the best feasible placement it knew (0/1; ``None``: none)."""

    def __init__(
        self,
        reason: str,
        labels: int = 0,
        bound: float | None = None,
        incumbent: np.ndarray | None = None,
    ) -> None:
        super().__init__(f"DP stopped ({reason}) after {labels:,} labels")
        self.reason = reason
        self.labels = labels
        self.bound = bound
        self.incumbent = incumbent


def run_grid_dp(t: TickedChain, deadline: float | None = None) -> tuple[float, np.ndarray]:
    """Run the right kernel on a ticked chain: (ticked optimum or inf, placement 0/1).

    With a memory budget the latency-only DP runs first: its optimum is a lower
    bound for the problem with the budget, so when its placement fits the
    budget it is optimal there too and the memory dimension is never built.
    """
    s, e = int(t.start_server), int(t.end_server)
    L = t.client.shape[0]
    dl = math.inf if deadline is None else float(deadline)
    _check_size(table_bytes(L, t.sla))
    best, x, stopped = grid_dp(t.client, t.server, t.up, t.down, t.work, s, e, t.sla, dl)
    if stopped:
        raise DPStopped("time")
    if t.memory is None or t.budget is None:
        return best, x
    if not np.isfinite(best) or int(t.memory[x == 0].sum()) <= t.budget:
        return best, x
    _check_size(table_bytes(L, t.sla, t.budget))
    best, x, stopped = grid_dp_memory(
        t.client, t.server, t.up, t.down, t.work, t.memory, s, e, t.sla, t.budget, dl
    )
    if stopped:
        raise DPStopped("time")
    return best, x


class _NumbaSolver(Solver):
    """Compiles (or loads from the on-disk cache) the kernels before the clock starts."""

    def prepare(self) -> None:
        warm_up()


class GridDP(_NumbaSolver):
    """Grid DP of SPEC §3 (numba): exact on the ticked data, conservative on the real data.

    Parameters (:class:`~splitopt.solvers.params.DPParams`): a
    :class:`~splitopt.discretise.Discretisation` (``grid`` ticks per SLA, default
    :func:`splitopt.discretise.default_grid`: 100 ticks per rounded item, at least
    1,000, capped so the tables fit 1 GiB, with ``dp`` then never worse than
    ``greedy``: :meth:`_safety_net`; or ``tick`` seconds; ``mem_grid`` or
    ``mem_tick`` bytes for requests with a memory budget) and ``bound`` (also solve
    the relaxed rounding to get a lower bound and, where the two meet, a proof of
    optimality).

    Status: ``optimal`` when ticking was exact (all data whole multiples of the
    ticks) or the bound meets the solution; ``feasible`` otherwise.
    """

    name = "dp-grid"
    exact = True
    description = "grid DP on time ticks (numba); optimal on the ticked data"
    params_type = DPParams
    params: DPParams

    def _tick(self, chain: Chain, relax: bool = False) -> TickedChain:
        try:
            return self.params.discretisation.tick(chain, relax)
        except GridError as exc:
            raise SolverError(str(exc)) from None

    def solve(self, problem: Problem) -> Result:
        """As :meth:`Solver.solve`; many distinct chains (and no ``bound``, no time
        limit) go through the batched kernel in one call, with the same answers."""
        p = self.params
        if len(problem.chains) < BATCH_MIN_CHAINS or p.bound or p.time_limit is not None:
            return super().solve(problem)
        self.check(problem)
        self.prepare()
        warm_up_batch()
        t0 = time.perf_counter()
        batch = batch_of(problem)
        status, _, x, exact = solve_grid_batch(batch, p.discretisation)
        off = batch.offsets.tolist()
        buf = x.tobytes()  # read-only placements that share one immutable buffer
        placements = [
            None
            if s == INFEASIBLE
            else np.frombuffer(buf, bool, count=off[i + 1] - off[i], offset=off[i])
            for i, s in enumerate(status)
        ]
        messages = [
            NOT_A_PROOF if s == INFEASIBLE and not e else None
            for s, e in zip(status, exact, strict=True)
        ]
        names = [STATUS_NAMES[s] for s in status]
        for i, sol in batch_safety_net(p, batch, exact, names, x, messages):
            names[i], placements[i], messages[i] = sol.status, sol.placement, sol.message
        runtime = time.perf_counter() - t0
        return Result.from_chains(
            problem,
            self.name,
            names,
            placements,
            runtime,
            options=self.describe_options(),
            bounds=[None] * len(placements),
            messages=messages,
        )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        deadline = None if time_limit is None else time.perf_counter() + time_limit
        t = self._tick(chain)
        try:
            sol = self._solve_ticked(chain, t, deadline)
        except DPStopped:
            sol = ChainSolution("time_limit", None, None, "time limit reached")
        return self._safety_net(chain, t, sol)

    def _solve_ticked(self, chain: Chain, t: TickedChain, deadline: float | None) -> ChainSolution:
        best, x = run_grid_dp(t, deadline)
        bound = None
        if self.params.bound:
            lb, _ = run_grid_dp(self._tick(chain, relax=True), deadline)
            bound = float(lb) if math.isfinite(lb) else math.inf
            if not math.isfinite(lb):
                return ChainSolution("infeasible", None, bound, "relaxed grid proves infeasibility")
        if not math.isfinite(best):
            if t.exact:
                return ChainSolution("infeasible", None, bound)
            return ChainSolution("infeasible", None, bound, NOT_A_PROOF)
        proven = t.exact or (bound is not None and best <= bound * (1 + RTOL) + 1e-300)
        return ChainSolution("optimal" if proven else "feasible", x == 1, bound)

    def _safety_net(self, chain: Chain, t: TickedChain, sol: ChainSolution) -> ChainSolution:
        """With the default grid (no ``grid``/``tick`` given) capped below its 100 ticks
        per rounded item (:func:`splitopt.discretise.default_grid_capped`, past about
        5,000 layers) and inexact ticks, also run ``greedy`` (O(L)) and return its
        placement when it has less server work, or when the grid found none (status
        ``feasible``, with a message). Below the cap the default grid loses at most
        1 % of the SLA to rounding and no safety net runs (it would cost more than the
        DP itself on short chains).

        Our rule: past about 5,000 layers the default grid is capped by memory
        (:data:`splitopt.discretise.AUTO_GRID_BYTES`) and rounding L + 1 transfers
        and L layer times up can eat the SLA (worse than ``greedy`` at
        L = 5,000, "infeasible" at L = 100,000), so ``dp`` is never worse than
        ``greedy``. With an explicit grid or tick ``dp`` answers for the ticked
        problem only (what ``verify`` compares).
        """
        if t.exact or self.params.discretisation.fixes_time:
            return sol
        if not default_grid_capped(chain.num_layers):
            return sol
        return self._safety_net_inexact(chain, round(chain.sla_s / t.tick_s), sol)

    @staticmethod
    def _safety_net_inexact(chain: Chain, n: int, sol: ChainSolution) -> ChainSolution:
        """:meth:`_safety_net` for a chain ticked inexactly on the default grid of ``n`` ticks."""
        if sol.status == "optimal":
            return sol
        from splitopt.solvers.baselines import Greedy

        g = Greedy().solve_chain(chain)
        if g.placement is None:
            return sol
        gw = score(chain, g.placement).server_work
        if sol.placement is not None and score(chain, sol.placement).server_work <= gw:
            return sol
        if sol.status == "time_limit":
            why = "stopped at the time limit"
        elif sol.placement is None:
            why = "found no placement"
        else:
            why = "found more server work than greedy"
        return ChainSolution(
            "feasible",
            g.placement,
            None,
            f"grid DP ({chain.num_layers:,} layers, default grid of {n:,} ticks) {why}; "
            "greedy's placement returned",
        )


def batch_safety_net(
    params: DPParams,
    batch: ChainBatch,
    exact: np.ndarray,
    names: list[str],
    x: np.ndarray,
    messages: list[str | None],
) -> list[tuple[int, ChainSolution]]:
    """:meth:`GridDP._safety_net` for the batched path (so it gives the per-chain
    path's answers): the chains of ``batch`` whose answer it replaces, as
    ``(index, ChainSolution)``; ``names``/``x`` (flat placements)/``messages`` are
    the batch's answers, not modified."""
    if params.discretisation.fixes_time:
        return []
    off = batch.offsets
    out = []
    todo = ~np.asarray(exact) & default_grid_capped(batch.num_layers)
    for i in np.flatnonzero(todo).tolist():
        if names[i] == "optimal":
            continue
        chain = batch.chain(i)
        placement = None if names[i] == "infeasible" else x[off[i] : off[i + 1]]
        sol = ChainSolution(names[i], placement, None, messages[i])
        new = GridDP._safety_net_inexact(chain, default_grid(chain.num_layers), sol)
        if new is not sol:
            out.append((i, new))
    return out


#: Under :func:`splitopt.solvers.jit.allow_interpreted` (``splitopt solve``),
#: problems with fewer than :data:`BATCH_MIN_CHAINS` distinct chains, at most this
#: many layers in all, and no time limit run the label kernels first as plain
#: Python (same code, same answers; no numba to import and no compiled kernels to
#: load, about 1-2 s) for at most :data:`INTERPRETED_BUDGET_S` seconds, then
#: compiled. Our rule: the shipped demo (120 layers) takes about 10 ms
#: interpreted; a problem the plain form cannot finish in the budget costs the
#: budget on top of numba's start-up.
INTERPRETED_MAX_LAYERS = 2048
#: Seconds of interpreted kernels before :func:`labels_result` goes compiled.
INTERPRETED_BUDGET_S = 0.25


def interpret_first(solver: Solver, problem: Problem) -> bool:
    """Whether :func:`labels_result` tries ``problem`` interpreted first (see
    :data:`INTERPRETED_MAX_LAYERS`): allowed, the label kernels not loaded yet in
    this process, small enough, no time limit."""
    return (
        jit.interpreted_allowed()
        and not label_dp.loaded
        and solver.params.time_limit is None
        and len(problem.chains) < BATCH_MIN_CHAINS
        and sum(c.num_layers for c in problem.chains) <= INTERPRETED_MAX_LAYERS
    )


def labels_result(solver: Solver, problem: Problem) -> Result:
    """The label DP on every distinct chain of ``problem`` (``dp``'s exact mode and
    ``dp-exact``): many distinct chains (and no time limit) run the latency-work
    labels of every chain in one parallel call, and only chains whose budget that
    optimum breaks go through the memory labels (:func:`_memory_labels`: their
    cheap passes in one more parallel call, then :func:`label_chain` for those
    that need the bounds; same answers). Small problems may run interpreted first
    (:func:`interpret_first`)."""
    if interpret_first(solver, problem):
        with contextlib.suppress(jit.InterpretedOverrun), jit.interpreted(INTERPRETED_BUDGET_S):
            return labels_result(solver, problem)
    if len(problem.chains) < BATCH_MIN_CHAINS or solver.params.time_limit is not None:
        return Solver.solve(solver, problem)
    solver.check(problem)
    solver.prepare()
    warm_up_batch(grid=False)
    t0 = time.perf_counter()
    batch = batch_of(problem)
    best, x, resolved = solve_labels_batch(batch, RTOL)
    # flat answers (no object per chain: Result.from_flat), as Solver.result of the
    # per-chain answers would give them
    have = np.isfinite(best)
    statuses = np.where(have, "optimal", "infeasible").astype(object)
    k = len(batch)
    bounds: list[float | None] = [None] * k
    messages: list[str | None] = [None] * k
    todo = np.flatnonzero(~np.asarray(resolved, bool))
    if todo.size:
        x = x.copy()
        off = batch.offsets
        for i in _memory_labels(batch, todo, statuses, x, have):
            sol = label_chain(problem.chains[i])
            statuses[i], bounds[i], messages[i] = sol.status, sol.bound, sol.message
            have[i] = sol.placement is not None
            x[off[i] : off[i + 1]] = False if sol.placement is None else sol.placement
    return Result.from_flat(
        problem,
        solver.name,
        statuses.tolist(),
        x,
        have,
        time.perf_counter() - t0,
        options=solver.describe_options(),
        bounds=bounds,
        messages=messages,
    )


def _memory_labels(
    batch: ChainBatch, todo: np.ndarray, statuses: np.ndarray, x: np.ndarray, have: np.ndarray
) -> list[int]:
    """The chains ``todo`` (those whose budget the latency-work optimum breaks) through
    :func:`solve_labels`' first kernel call (its cheap passes) in one parallel call
    (:func:`splitopt.solvers.batch.passes_batch`: same arguments, so the same answers
    as :func:`label_chain` where those passes decide). Fills ``statuses`` (object
    array), ``x`` (bool placements, flat) and ``have`` for those chains; returns the
    chains the passes left open (they need the bounds), for :func:`label_chain`."""
    best, xs, code = passes_batch(
        batch,
        todo,
        RTOL,
        BOUNDS_MAX_LAYERS,
        TARGET_LABELS,
        UNBOUNDED_FIRST_LABELS,
        LATENCY_FIRST_LABELS,
        MAX_LABELS,
        QUICK_AFTER_LABELS,
        QUICK_PASS_MAX_LAYERS,
    )
    done = code == ABORT_NONE
    idx, found = todo[done], np.isfinite(best[done])
    statuses[idx] = np.array(["infeasible", "optimal"], dtype=object)[found.astype(np.int64)]
    have[idx] = found
    off = batch.offsets
    seg = np.repeat(np.arange(len(batch)), np.diff(off))
    mine = np.zeros(len(batch), bool)
    mine[idx] = True
    at = mine[seg]
    x[at] = xs[at] == 1
    return todo[~done].tolist()


def labels_ragged(batch: ChainBatch) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`labels_result` on ragged arrays (the streamed path): (statuses,
    placements bool[offsets[-1]], whether each chain has one). Chains whose budget
    the latency-work optimum breaks run the memory passes in one call
    (:func:`_memory_labels`); those left to the bounds go one by one through
    :func:`label_chain`."""
    warm_up_batch(grid=False)
    best, x, resolved = solve_labels_batch(batch, RTOL)
    names = np.where(np.isfinite(best), "optimal", "infeasible").astype(object)
    have = np.isfinite(best)
    todo = np.flatnonzero(~resolved)
    if todo.size:
        x = x.copy()
        off = batch.offsets
        for i in _memory_labels(batch, todo, names, x, have):
            sol = label_chain(batch.chain(i))
            names[i] = sol.status
            have[i] = sol.placement is not None
            x[off[i] : off[i + 1]] = False if sol.placement is None else sol.placement
    return names.tolist(), x, have


#: Share of a time limit the label DP may use; its fallback (:func:`label_fallback`:
#: among others the default grid DP) gets the rest. Our choice: where the labels
#: cannot certify in time, the grid's answer (better than the coarse incumbent's
#: on near-identical blocks) is worth a fifth of the limit.
LABEL_TIME_SHARE = 0.8


def label_chain(chain: Chain, time_limit: float | None = None) -> ChainSolution:
    """The label DP on one chain (:func:`solve_labels`), with :func:`label_fallback`
    when it stops at its label cap or after :data:`LABEL_TIME_SHARE` of
    ``time_limit`` (seconds)."""
    now = time.perf_counter()
    deadline = None if time_limit is None else now + time_limit
    labels_until = None if time_limit is None else now + LABEL_TIME_SHARE * time_limit
    try:
        best, x, _ = solve_labels(chain, deadline=labels_until)
    except DPStopped as exc:
        return label_fallback(chain, exc, deadline)
    if not math.isfinite(best):
        return ChainSolution("infeasible", None)
    return ChainSolution("optimal", x == 1)


class _LabelSolver(_NumbaSolver):
    # a chain the labels cannot certify uses all it is given (labels, then the
    # fallback's local search): under a whole-problem limit each distinct chain gets
    # what is left over the chains still to solve (our choice)
    shares_time_limit = True

    def prepare(self) -> None:
        if jit.interpreting():
            return  # plain Python: nothing to load
        warm_up(grid=False)  # the bounds' grid kernels load when a chain needs them


class LabelDP(_LabelSolver):
    """Exact DP without ticks: non-dominated (latency, work[, memory]) labels per
    layer and location, pruned by the fastest completion, and with a memory budget
    by an incumbent against tick-table, knapsack and Lagrangian lower bounds.
    Optimal on the real data. The exact mode of ``dp`` (:class:`DP`), kept under
    its own name."""

    name = "dp-exact"
    exact = True
    description = "exact label-setting DP on the real data (numba); = dp without ticks"

    def solve(self, problem: Problem) -> Result:
        """As :meth:`Solver.solve` (batched where that pays: :func:`labels_result`)."""
        return labels_result(self, problem)

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        return label_chain(chain, time_limit)


class DP(_LabelSolver):
    """The default DP: exact on the real data (:class:`LabelDP`'s labels and bounds),
    certified ``optimal``. Given a discretisation or ``bound``
    (:class:`~splitopt.solvers.params.DefaultDPParams`), ``DP(...)`` builds the grid
    DP on those ticks instead (a :class:`GridDP`, named ``dp-grid`` in results: what
    ``dp --grid N`` always meant). Exact-mode results record ``"exact": true`` in
    their options, which tells them from files of the old grid ``dp``."""

    name = "dp"
    exact = True
    description = (
        "exact DP on the real data (labels with bounds, numba); with --grid/--tick: dp-grid"
    )
    params_type = DefaultDPParams
    params: DefaultDPParams

    def __new__(cls, params: SolverParams | None = None, **options: object) -> Solver:  # type: ignore[misc]
        p = params if params is not None else DefaultDPParams.from_options(cls.name, options)
        if isinstance(p, DefaultDPParams) and p.ticked:
            return GridDP(DPParams(p.time_limit, p.discretisation, p.bound))
        return super().__new__(cls)

    def solve(self, problem: Problem) -> Result:
        return labels_result(self, problem)

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        return label_chain(chain, time_limit)


def label_fallback(chain: Chain, exc: DPStopped, deadline: float | None = None) -> ChainSolution:
    """What ``dp`` answers when its label DP stops (:class:`DPStopped`): the best
    evaluator-feasible placement found by ``greedy``, the coarse
    :data:`INCUMBENT_GRID`-tick grid DP and the label DP itself (its incumbent,
    after :func:`_close_gap` where that ran), each polished by local search
    (:func:`splitopt.solvers.local_search.polish`: windows of layers re-solved
    exactly, then flips), and ``dp-grid`` (the default grid) in the time left
    (``deadline``: the whole limit's); status ``feasible`` with the label DP's
    lower bound where it had one (``optimal`` where the placement meets it); with
    none, ``time_limit`` (clock) or ``error`` (label cap). Our choice: an answer
    that says it is not proven beats refusing the whole problem."""
    from splitopt.solvers.baselines import Greedy
    from splitopt.solvers.local_search import polish

    if exc.reason == "time":
        why = "time limit reached"
    else:
        why = f"label cap of {MAX_LABELS:,} labels reached (memory bound)"
    starts: list[tuple[np.ndarray, str]] = []
    g = Greedy().solve_chain(chain).placement
    if g is not None:
        starts.append((g, "greedy"))
    with contextlib.suppress(GridError, SolverError):
        _, inc = _incumbent(chain)
        if inc is not None:
            starts.append((inc.astype(bool), f"a {INCUMBENT_GRID}-tick grid DP"))
    if exc.incumbent is not None:
        starts.append((np.asarray(exc.incumbent) == 1, "the label DP's incumbent"))
    found: list[tuple[float, np.ndarray, str]] = []
    for p, who in starts:
        w, q = polish(chain, p, _solve_window, deadline)
        found.append((w, q, f"{who}, polished by local search"))
    left = None if deadline is None else deadline - time.perf_counter()
    if left is None or left > 0:
        with contextlib.suppress(SolverError):
            d = GridDP().solve_chain(chain, left)
            if d.placement is not None and score(chain, d.placement).feasible:
                found.append((score(chain, d.placement).server_work, d.placement, "dp-grid"))
    if not found:
        return ChainSolution("time_limit" if exc.reason == "time" else "error", None, None, why)
    w, p, who = min(found, key=lambda f: f[0])
    bound = exc.bound
    if chain.memory_budget_bytes is not None and chain.num_layers <= BOUNDS_MAX_LAYERS:
        # the exact Lagrangian dual (where the labels stopped before building it)
        budget = chain.memory_budget_bytes * (1 + RTOL)
        mult, _, dual = _lagrange(chain, budget)
        if math.isfinite(dual):
            lb = dual - dual_margin(chain, budget, mult[0], dual)
            bound = lb if bound is None else max(bound, lb)
    if bound is not None and meets(w, bound):
        return ChainSolution("optimal", p, bound, f"{why}; {who} meets the lower bound")
    return ChainSolution("feasible", p, bound, f"{why}; placement of {who}")


def _solve_window(sub: Chain, deadline: float | None) -> np.ndarray | None:
    """The label DP on a window of layers for the local search
    (:func:`splitopt.solvers.local_search.window_search`): the optimal placement
    (0/1), or ``None`` where it stops at :data:`local_search.WINDOW_LABELS` labels or
    the deadline or finds none."""
    from splitopt.solvers.local_search import WINDOW_LABELS

    try:
        best, x, _ = solve_labels(sub, max_labels=WINDOW_LABELS, deadline=deadline)
    except DPStopped:
        return None
    return x if math.isfinite(best) else None


#: Longest chain for which the label DP builds its lower bounds (memory budgets only):
#: the cardinality tables are two (L + 1) × (L + 1) float64 tables (64 MB at 2,000
#: layers).
BOUNDS_MAX_LAYERS = 2000

#: Latency and memory ticks of the coarse grid DP of :func:`_incumbent` (the quick
#: incumbent's last resort and a start of :func:`label_fallback`; our choice,
#: measured by ``benchmarks/dp_speed.py``: 200 × 32 ticks halve the grid of 200 × 64
#: at no cost in labels on the shipped families and block chains).
INCUMBENT_GRID = 200
INCUMBENT_MEM_GRID = 32


def _incumbent(chain: Chain) -> tuple[float, np.ndarray | None]:
    """A feasible placement from a coarse grid DP (conservative), scored by the
    evaluator: :data:`INCUMBENT_MEM_GRID` memory ticks, twice as many where those
    find none."""
    grids = (INCUMBENT_MEM_GRID, 2 * INCUMBENT_MEM_GRID) if chain.memory_budget_bytes else (None,)
    for mem_grid in grids:
        t = tick_chain(chain, grid=INCUMBENT_GRID, mem_grid=mem_grid)
        best, x = run_grid_dp(t)
        if math.isfinite(best):
            s = score(chain, x.astype(bool))
            if s.feasible:
                return s.server_work, x
    return math.inf, None


#: Longest chain whose quick incumbent tries two-layer flips (O(L²) a round, at most
#: 2L rounds); longer chains flip one layer at a time. (Our choice, measured on the
#: chains of ``benchmarks/dp_speed.py`` and the shipped instances, CPU time: 200
#: spent 10 ms a chain on two-layer flips at 160 random layers with a budget; 64
#: halves the time of those rows and changes no other row by more than noise.)
QUICK_TWO_FLIPS_MAX_LAYERS = 64


def _quick_incumbent(
    chain: Chain, arrays: tuple[Any, ...], budget: float
) -> tuple[float, np.ndarray | None]:
    """A feasible placement for :func:`solve_labels`' targets: all layers on the
    server where that meets the SLA, else ``greedy``'s, improved by one-layer
    flips, then two-layer flips (:func:`kernels.flip_search`; microseconds),
    scored by the evaluator; :func:`_incumbent`'s (a coarse grid DP) where neither
    is feasible. (Our choice, measured by ``benchmarks/dp_speed.py``: closer than
    the coarse grid on block chains and at a tenth of its cost; one-layer flips
    first reach the same placements on its block chains at a fifth of the cost
    of two-layer flips from the start at 48-160 layers.)"""
    n = chain.num_layers
    _, sv, up, down, _, _, start, end, sla = arrays
    # all on the server meets the SLA (by the kernels' arithmetic; the evaluator
    # has the last word below)
    lat = float(sv.sum()) + (float(up[0]) if start == 0 else 0.0)
    lat += float(down[n]) if end == 0 else 0.0
    x0: np.ndarray | None = np.ones(n, np.uint8)
    if lat > sla:
        from splitopt.solvers.baselines import Greedy

        x0 = Greedy().solve_chain(chain).placement
    if x0 is not None:
        x, ok = _flip_incumbent(chain, arrays, budget, np.asarray(x0, np.uint8))
        if ok is not None:
            return ok, x
    return _incumbent(chain)


def _flip_incumbent(
    chain: Chain, arrays: tuple[Any, ...], budget: float, x0: np.ndarray
) -> tuple[np.ndarray, float | None]:
    """:func:`_quick_incumbent`'s flips from ``x0`` (uint8): (placement, its server
    work by the evaluator, ``None`` where the evaluator finds it infeasible)."""
    n = chain.num_layers
    x, _ = flip_search(*arrays, budget, x0, 1, 2 * n, math.inf)
    if n <= QUICK_TWO_FLIPS_MAX_LAYERS:
        x, _ = flip_search(*arrays, budget, x, 2, 2 * n, math.inf)
    s = score(chain, x.astype(bool))
    return x, (s.server_work if s.feasible else None)


#: With a memory budget, :func:`solve_labels` runs the labels without bounds up to
#: this many labels (after the cardinality-bounded pass; exact where it finishes;
#: our choice, measured by ``benchmarks/dp_speed.py``: the bounds cost about
#: 0.2–0.5 ms a chain to build, while near-identical blocks spend seconds on 100,000
#: unbounded labels (34 ms on 10,000, 0.8 ms on 2,000, 0.2 ms on 500 at 24 blocks)
#: that the bounded passes replace by a few dozen).
UNBOUNDED_FIRST_LABELS = 500

#: Label cap of the batched first passes' latency-first pass with a memory budget
#: (:func:`_memory_labels`; exact where it finishes and its optimum fits the
#: budget; past the cap the chain goes to :func:`label_chain`, whose own
#: latency-first pass stops at :data:`LATENCY_ONLY_FIRST_LABELS` and then runs
#: bounded (:func:`_latency_labels`); our choice, measured on the chains of
#: ``benchmarks/dp_speed.py``: random chains of 160 layers need up to 115,000
#: labels (5 ms), while 160 near-identical blocks make 2-4 million (a quarter of
#: a second) for an optimum the budget then rejects).
LATENCY_FIRST_LABELS = 150_000

#: Label cap of :func:`solve_labels`' first pass with a memory budget (placements
#: that reach the root's cardinality bound); past it, one-layer flips may still
#: reach that bound (:func:`kernels.label_passes`), else the other passes run. Our
#: choice, measured on the chains of ``benchmarks/dp_speed.py`` and the shipped
#: instances: the pass succeeds with at most 76 labels on all but one (348) of
#: the chains that are not identical blocks; chains of 48-160 identical blocks
#: need 1,000-12,000 (0.05-1.3 ms), where the flips reach the bound in 0.01-0.03 ms.
TARGET_LABELS = 400

#: With a memory budget, :func:`kernels.label_passes`' unbounded pass stops first
#: at this many labels for the quick pass (the cardinality-bounded labels again,
#: at most :data:`TARGET_LABELS`, against the work of the one-layer-flip
#: placement; optimal where they find a placement), then, where that finds none,
#: runs again from the start up to :data:`UNBOUNDED_FIRST_LABELS`; on chains of at most
#: :data:`QUICK_PASS_MAX_LAYERS` layers. Our choice, measured on the chains of
#: ``benchmarks/dp_speed.py``, the shipped instances and jittered block chains of
#: 24-48 layers: the quick pass certifies 24 near-identical blocks in 24-208
#: labels, about 20 µs, where the unbounded pass's 500 labels took 25 µs and the
#: bounds and incumbent that followed 150-180 µs; 29 of the 31 shipped chains the
#: unbounded pass decides need at most 300 labels (the demo's up to 275), which
#: thus never pay for the quick pass. It certified some jittered block chains of
#: 24-36 layers and none of 40 or 48 layers (6 each), nor any of the 6 shipped
#: chains of 34-38 layers that reach it, where its flips cost up to 0.13 ms:
#: hence at most 32 layers.
QUICK_AFTER_LABELS = 300
QUICK_PASS_MAX_LAYERS = 32

#: Most steps per multiplier of the exact dual search of
#: :func:`kernels.lagrange_tables` (a guard against rounding: it ends in finitely
#: many steps, 5-80 evaluations of the priced path in all on the benchmark chains).
LAGRANGE_STEPS = 100


def dual_margin(chain: Chain, budget: float, mult: np.ndarray, value: float) -> float:
    """A bound on the rounding error of a dual value ``value`` computed at the
    multipliers ``mult`` = (α, λ) (:func:`kernels.lagrange_tables`): the priced
    path sums at most 2L + 2 nonnegative terms whose total is value + α·SLA + λ·budget,
    then subtracts those two; each operation errs by at most one unit roundoff of
    the running magnitude (a generous 8 (L + 2) units of the largest magnitude)."""
    if not math.isfinite(value):
        return 0.0
    a, lam = float(mult[0]), float(mult[1])
    scale = abs(value) + 2.0 * (a * chain.sla_s * (1 + RTOL) + (lam * budget if lam else 0.0))
    return 8.0 * (chain.num_layers + 2) * 2.220446049250313e-16 * scale


def meets(work: float, bound: float) -> bool:
    """Whether server work ``work`` meets the proven lower bound ``bound`` to the
    evaluator's relative tolerance :data:`~splitopt.evaluate.RTOL` (what ``optimal``
    means for every solver: no placement has less work by more than that)."""
    return work <= bound + RTOL * abs(bound)


def _lagrange(chain: Chain, budget: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Multipliers, priced-rest tables and dual value of :func:`kernels.lagrange_tables`."""
    return lagrange_tables(
        *kernel_args(chain),
        budget,
        True,
        LAGRANGE_STEPS,
    )


def solve_labels(
    chain: Chain,
    bounds: bool = True,
    *,
    ub: float = math.inf,
    max_labels: int | None = None,
    deadline: float | None = None,
    latency_first: bool = True,
) -> tuple[float, np.ndarray, int]:
    """Run the label DP on a chain: (optimum or inf, placement 0/1, labels created).

    ``ub``: only placements with server work at most ``ub`` (1 + 1e-9) are
    sought (``inf`` when none is). ``max_labels`` (default :data:`MAX_LABELS`)
    caps the labels, hence memory; ``deadline`` (``time.perf_counter()``
    seconds) stops the DP. Either raises :class:`DPStopped`.

    With a memory budget, the cheap passes of :func:`label_passes` run first in
    one kernel call: with ``bounds``, the labels pruned by the cardinality bound
    against the root's own cardinality bound (optimal when they find a placement;
    chains of identical blocks do); the (latency, work) labels
    (unless ``latency_first`` is false: their optimum is optimal with the budget
    too when it fits, same argument as in :func:`run_grid_dp`); the (latency,
    work, memory) labels without bounds up to :data:`UNBOUNDED_FIRST_LABELS`, on
    chains of at most :data:`QUICK_PASS_MAX_LAYERS` layers interrupted at
    :data:`QUICK_AFTER_LABELS` by the cardinality-bounded labels against a
    one-layer-flip placement (the quick pass: optimal where they find one; short
    chains of near-identical blocks do).
    Past that, the labels are pruned against a feasible incumbent
    (:func:`_quick_incumbent`) with the lower bounds of the Lagrangian tables, the
    cardinality bound and the count-limited priced bound (:func:`_count_bound`),
    first against targets between the best root lower bound and the incumbent
    (iterative deepening: a run that finds a placement has found the optimum).
    (Two-dimensional fronts stay small; there the bounds cost more than they save.)
    """
    arrays = kernel_args(chain)
    mb = chain.memory_budget_bytes
    use_mem = mb is not None
    budget = mb * (1 + RTOL) if mb is not None else np.inf
    cap = MAX_LABELS if max_labels is None else int(max_labels)
    dl = math.inf if deadline is None else float(deadline)
    use_bounds = bounds and use_mem and chain.num_layers <= BOUNDS_MAX_LAYERS
    # without a budget (or with one every placement fits) the (latency, work) labels
    # decide alone: first unbounded up to LATENCY_ONLY_FIRST_LABELS, then bounded
    latency_only = not use_mem or float(chain.client_memory_bytes.sum()) * (1 + 1e-12) <= budget
    bound_latency = (
        bounds
        and latency_only
        and chain.num_layers <= BOUNDS_MAX_LAYERS
        and cap > LATENCY_ONLY_FIRST_LABELS
    )
    # the cheap passes in one kernel call (cardinality-bounded, latency-only,
    # unbounded memory labels: :func:`label_passes`)
    best, x, n, code = label_passes(
        *arrays,
        budget,
        use_mem,
        ub,
        latency_first,
        use_bounds,
        TARGET_LABELS,
        UNBOUNDED_FIRST_LABELS,
        LATENCY_PROBE_LABELS if cap > LATENCY_PROBE_LABELS else LATENCY_FIRST_LABELS,
        LATENCY_ONLY_FIRST_LABELS if bound_latency else cap,
        dl,
        QUICK_AFTER_LABELS if chain.num_layers <= QUICK_PASS_MAX_LAYERS else 0,
    )
    if code == ABORT_NONE:
        return best, x, n
    if bound_latency and code == ABORT_LABELS:
        return _latency_labels(chain, arrays, ub, cap, dl)
    if code == LATENCY_CAPPED:
        # the (latency, work) optimum, by the bounded labels: optimal with the
        # budget too where it fits (a relaxation's optimum that is feasible)
        try:
            w2, x2, n2 = _latency_labels(chain, arrays, ub, cap, dl)
        except DPStopped:
            pass  # the budget's own passes decide (their deadline stops them too)
        else:
            if not math.isfinite(w2) or score(chain, x2 == 1).feasible:
                return w2, x2, n2  # (none meets the SLA within ub: nor with the budget)
        code = NEED_BOUNDS
    if code != NEED_BOUNDS:
        raise DPStopped("labels" if code == ABORT_LABELS else "time", int(n))
    card = cardinality_tables(chain.server_work, chain.client_memory_bytes)
    ub0, inc = _quick_incumbent(chain, arrays, budget)
    if ub0 > ub:
        inc = None
    ub = min(ub, ub0)
    lag_mult, lag_rest, dual = _lagrange(chain, budget)
    if inc is None and dual > 2.0 * float(np.abs(chain.server_work).sum()) + 1.0:
        # a lower bound above every placement's work: no placement keeps both limits
        return math.inf, np.zeros(chain.num_layers, np.uint8), 0
    dual_lb = dual - dual_margin(chain, budget, lag_mult[0], dual)
    if inc is not None and meets(ub0, dual_lb):
        # the incumbent meets the Lagrangian lower bound: optimal, no labels needed
        # (a valid bound for any multipliers)
        return ub0, inc, 0
    cnt_alpha, cnt_rest, cnt_root = _count_bound(chain, budget, card[0])
    bound_args = (lag_mult, lag_rest, *card, cnt_alpha, cnt_rest)
    # seek placements within growing gaps over the best root lower bound first, up to
    # the incumbent (iterative deepening): a run that finds a placement has found the
    # optimum (a label it pruned cannot beat its target, which the placement meets),
    # and a tight target prunes far more than the coarse incumbent
    cnt_lb = -math.inf
    if cnt_alpha.size and math.isfinite(cnt_root):
        cnt_lb = cnt_root - dual_margin(chain, budget, np.array([cnt_alpha[0], 0.0]), cnt_root)
    lb = max(dual_lb, cnt_lb)
    if inc is not None and meets(ub0, lb):
        # the count-limited bound proves the incumbent (identical blocks: it is the
        # cardinality bound, which their optimum reaches)
        return ub0, inc, 0

    def deepen(targets: list[float], cap: int, total: int) -> tuple[float, np.ndarray, int]:
        # a run that finds nothing proves the optimum exceeds its target
        nonlocal lb
        best, x, n, abort, failed = _run_labels(
            arrays, budget, targets, cap, dl, bound_args, total
        )
        if failed:
            lb = max(lb, targets[failed - 1])
        if abort:
            raise DPStopped("labels" if abort == ABORT_LABELS else "time", int(n))
        return best, x, n

    first_total = 2**62
    if inc is not None and math.isfinite(lb) and cap > QUICK_LABELS:
        first_total = QUICK_LABELS
    root_lb = lb
    try:
        try:
            best, x, n = deepen(_targets(lb, ub, inc is not None), cap, first_total)
        except DPStopped as exc:
            if exc.reason != "labels" or first_total >= cap or inc is None:
                raise
            if lb == root_lb:
                # the labels struggle at the root's bound itself (near-identical
                # blocks under a budget: a subset sum); a placement that meets the
                # bound is optimal without them. (Where a run already proved the
                # optimum above that bound, none can meet it: the labels go on.)
                w, xs = _close_gap(chain, inc, ub, lb, dl)
                if meets(w, lb):
                    return w, xs.astype(np.uint8), int(exc.labels)
                if w < ub:
                    ub, inc = w, xs.astype(np.uint8)
            best, x, n = deepen(_targets(lb, ub, True), cap, 2**62)
    except DPStopped as exc:
        raise _stopped(exc, lb, inc) from None
    return _checked(best, x, n, inc)


def _stopped(exc: DPStopped, lb: float, inc: np.ndarray | None) -> DPStopped:
    """``exc`` carrying the lower bound proven so far and the incumbent (for
    :func:`label_fallback`)."""
    exc.bound = lb if math.isfinite(lb) else None
    exc.incumbent = inc
    return exc


def _checked(
    best: float, x: np.ndarray, n: int, inc: np.ndarray | None
) -> tuple[float, np.ndarray, int]:
    """The labels' answer, refused where they pruned every label although a
    feasible incumbent exists (a bound that was not one)."""
    if not np.isfinite(best) and inc is not None:
        raise RuntimeError("label DP pruned every label although a feasible incumbent exists")
    return best, x, n


#: Labels of the (latency, work) label DP (no budget, or one every placement fits)
#: without bounds; past them :func:`_latency_labels` prunes by the Lagrangian bound
#: against an incumbent. Our choice, measured on random chains of 48-160 layers
#: (``benchmarks/dp_speed.py``'s): they make 3,000-110,000 unbounded labels
#: (0.07-6.6 ms) where the bounded runs make 80-8,000 (0.01-0.2 ms) after
#: 0.02-0.06 ms of bounds; chains whose fronts stay small finish unbounded.
LATENCY_ONLY_FIRST_LABELS = 1_000
#: The same with a memory budget (:func:`solve_labels`' latency-first pass; past it
#: the budget's unbounded pass, then :func:`_latency_labels`).
LATENCY_PROBE_LABELS = 3_000


def _latency_labels(
    chain: Chain, arrays: tuple[Any, ...], ub: float, cap: int, dl: float
) -> tuple[float, np.ndarray, int]:
    """:func:`solve_labels`' (latency, work) labels past their unbounded first
    pass (:data:`LATENCY_ONLY_FIRST_LABELS` labels without a binding budget,
    :data:`LATENCY_PROBE_LABELS` as the latency-first pass with one): the Lagrangian lower
    bound on the SLA (:func:`kernels.lagrange_tables`, no memory term), an
    incumbent from the priced path that meets the SLA (:func:`kernels.sla_incumbent`)
    polished by one-layer flips and scored by the evaluator, then the (latency,
    work) labels pruned by that bound against the incumbent. Returns as
    :func:`solve_labels`; raises :class:`DPStopped` at the cap or deadline."""
    n_layers = chain.num_layers
    mult, rest, dual = lagrange_tables(*arrays, np.inf, False, LAGRANGE_STEPS)
    lb = dual - dual_margin(chain, math.inf, mult[0], dual) if math.isfinite(dual) else -math.inf
    inc: np.ndarray | None = None
    x0, found = sla_incumbent(*arrays, float(mult[0, 0]))
    if found:
        x1, _ = flip_search(*arrays, np.inf, x0, 1, 2 * n_layers, math.inf)
        s = score(chain, x1.astype(bool))  # the SLA alone decides here (no budget term)
        if s.latency_s <= chain.sla_s * (1 + RTOL) and s.server_work <= ub:
            ub, inc = s.server_work, x1
            if meets(ub, lb):
                return ub, inc, 0
    bound_args = (mult, rest, *_NO_BOUNDS[2:])  # no cardinality or count bounds
    # one run against the incumbent: the bound is rarely tight here (a gap of
    # 0.1-6 % on random chains), so deepening's runs below the optimum would cost
    # 3-4 times that run (our measurement on random chains of 48-160 layers)
    try:
        best, x, n, abort, _ = _run_labels(
            arrays, np.inf, [ub], cap, dl, bound_args, use_memory=False
        )
        if abort:
            raise DPStopped("labels" if abort == ABORT_LABELS else "time", int(n))
    except DPStopped as exc:
        raise _stopped(exc, lb, inc) from None
    return _checked(best, x, n, inc)


def _targets(lb: float, ub: float, have_incumbent: bool) -> list[float]:
    """Targets of :func:`solve_labels`' iterative deepening: gaps over the root's
    lower bound ``lb`` that double up to the incumbent's work ``ub``."""
    if have_incumbent and math.isfinite(lb) and lb < ub:
        return [lb + (ub - lb) * 2.0**-i for i in range(DEEPENING_STEPS, 0, -1)] + [ub]
    return [ub]


#: Labels of :func:`solve_labels`' first deepening with a memory budget, all its
#: runs together; past them it tries :func:`_close_gap`, then deepens again under
#: the full cap (our choice: a few milliseconds; chains the labels certify at all
#: mostly need far fewer, measured by ``benchmarks/dp_speed.py``).
QUICK_LABELS = 5_000
#: Seconds :func:`_close_gap` may take at most (within the deadline).
GAP_SEARCH_S = 1.0
#: :func:`_close_gap` widens its windows only while the incumbent is within this
#: relative gap of the lower bound (closer than a subset sum of near-identical
#: blocks leaves; farther, the bound is not tight and only the labels can prove).
GAP_WIDEN = 1e-6


def _close_gap(
    chain: Chain, inc: np.ndarray, w_inc: float, lb: float, deadline: float
) -> tuple[float, np.ndarray]:
    """Seek a placement whose server work meets the lower bound ``lb``
    (:func:`meets`) by :func:`splitopt.solvers.local_search.pair_search` from
    ``greedy``'s placement (its client layers in runs, which leaves the latency
    for the moves; the incumbent ``inc`` (0/1; its server work ``w_inc``, the
    evaluator's) where greedy finds none), windows
    of 8 layers first (one sweep; the rest only where that leaves the best
    within :data:`GAP_WIDEN` of ``lb``), wider (up to 18) while it stays so; at
    most :data:`GAP_SEARCH_S` seconds. Returns
    (server work, placement (bool)), the evaluator's, the better of that and
    ``inc``; our heuristic (a placement that meets the bound is a proof; one that
    does not is only a better incumbent). (Measured on 15 chains of 48-160
    near-identical blocks: from greedy, 14 meet the bound in 2-370 ms; from the
    flip-polished incumbent, 6, in 20-1,100 ms.)"""
    from splitopt.solvers.baselines import Greedy
    from splitopt.solvers.local_search import PAIR_WIDTHS, pair_search

    target = lb + RTOL * abs(lb)
    dl = min(deadline, time.perf_counter() + GAP_SEARCH_S)
    x_inc = np.asarray(inc, dtype=bool)
    g = Greedy().solve_chain(chain).placement
    if g is not None and not score(chain, g).feasible:
        g = None  # never start from (and so never return) an infeasible placement
    x = x_inc if g is None else np.asarray(g, dtype=bool)
    # one sweep of the narrowest windows first: on subset sums it leaves a gap
    # below GAP_WIDEN, elsewhere (a bound that is not tight) it stops here
    w, x = pair_search(chain, x, dl, target, PAIR_WIDTHS[:1], sweeps=1)
    if w > target and w - lb <= GAP_WIDEN * abs(w):
        for width in PAIR_WIDTHS:
            w, x = pair_search(chain, x, dl, target, (width,))
            if w <= target or w - lb > GAP_WIDEN * abs(w) or time.perf_counter() > dl:
                break
    return (w, x) if w < w_inc else (w_inc, x_inc)


_NO_BOUNDS = (
    np.zeros((0, 2)),
    np.zeros((0, 1, 2)),
    np.zeros((0, 0)),
    np.zeros((0, 0)),
    np.zeros(0),
    np.zeros((0, 1, 2, 1)),
)

#: Longest chain for which :func:`solve_labels` builds the count-limited priced
#: bound (:func:`kernels.count_priced_rest`: an L × 2 × (L + 1) float64 table,
#: 2.6 MB at 400 layers).
COUNT_BOUND_MAX_LAYERS = 400


def _count_bound(
    chain: Chain, budget: float, mem_low: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(cnt_alpha, cnt_rest, root)`` for :func:`label_dp`: the latency multiplier
    α that maximises the root's count-limited priced bound (exactly:
    :func:`kernels.count_bound`), its table and the root's bound (a lower bound
    on the optimum); empty and ``-inf`` past :data:`COUNT_BOUND_MAX_LAYERS`
    layers. (Our choice, measured by ``benchmarks/dp_speed.py``: the exact search
    takes 3-10 evaluations of the root where the golden-section search it
    replaces took 18, for a bound at least as high.)"""
    L = chain.num_layers
    if L > COUNT_BOUND_MAX_LAYERS:
        return _NO_BOUNDS[-2], _NO_BOUNDS[-1], -math.inf
    c, sv, up, down, w, _, start, end, sla = kernel_args(chain)
    k = int(_cardinality_count(0, L, budget * (1 + 1e-12), mem_low))
    a, rest, root = count_bound(c, sv, up, down, w, start, end, sla, k, LAGRANGE_STEPS)
    return np.array([a]), rest[None], float(root)


#: Targets of :func:`solve_labels`' iterative deepening: the gap between the root's
#: lower bound and the incumbent halves this many times (our choice).
DEEPENING_STEPS = 12
#: After the deepening's first run finds nothing, a run against the incumbent
#: capped at this many times that run's labels (plus 64) may end it at once
#: (:func:`kernels.label_ladder`). Our choice, measured on the chains of
#: ``benchmarks/dp_speed.py`` and the shipped instances that reach the deepening:
#: where the quick incumbent is optimal (most of them), the 12 runs below it cost
#: 4-10 times the one run at it; where it is not, an uncapped run at it can cost
#: 10-1,000 times the whole deepening.
PROBE_LABELS = 4


def _run_labels(
    arrays: tuple[Any, ...],
    budget: float,
    targets: list[float],
    cap: int,
    deadline: float,
    bound_args: tuple[Any, ...],
    total: int = 2**62,
    use_memory: bool = True,
) -> tuple[float, np.ndarray, int, int, int]:
    """The label DP with a memory budget against each of ``targets`` (ascending) in
    turn, in one :func:`kernels.label_ladder` call on the arrays of
    :func:`~splitopt.solvers.chain_arrays.kernel_args`: (best, x, labels of the last
    run, its abort code, runs that found nothing). (One call instead of one per
    target: our choice, measured by ``benchmarks/dp_speed.py``: the 13 runs of a
    24-block chain took 0.09 ms as separate calls, mostly call overhead.)"""
    kernel: Any = label_ladder  # mypy reads the Dispatcher, not the kernel's signature
    best, x, n, abort, failed = kernel(
        *arrays,
        budget,
        use_memory,
        np.asarray(targets, np.float64),
        *bound_args,
        cap,
        deadline,
        PROBE_LABELS,
        total,
    )
    return best, x, int(n), int(abort), int(failed)
