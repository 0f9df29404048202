"""The dynamic programs: ``dp`` (grid DP on ticks) and ``dp-exact`` (labels, no ticks)."""

from __future__ import annotations

import math
import time

import numpy as np

from splitopt.discretise import GridError, TickedChain, tick_chain
from splitopt.evaluate import RTOL, score
from splitopt.problem import Chain, Problem
from splitopt.ragged import batch_of
from splitopt.solution import Result
from splitopt.solvers.base import ChainSolution, Solver, SolverError
from splitopt.solvers.batch import (
    INFEASIBLE,
    NOT_A_PROOF,
    STATUS_NAMES,
    solve_grid_batch,
    solve_labels_batch,
    warm_up_batch,
)
from splitopt.solvers.kernels import (
    grid_dp,
    grid_dp_memory,
    label_dp,
    remaining_work_bound,
    warm_up,
)
from splitopt.solvers.params import DPParams

#: Refuse grids whose backtracking table would exceed this many bytes.
MAX_TABLE_BYTES = 4 * 2**30
#: ``dp`` solves problems with at least this many distinct chains in one batched,
#: parallel kernel call (:mod:`splitopt.solvers.batch`; same answers, tested).
BATCH_MIN_CHAINS = 64


def state_count(t: TickedChain) -> int:
    """Number of DP states (layer, location, time tick[, memory tick]) of a ticked chain."""
    n = t.client.shape[0] * 2 * (max(t.sla, -1) + 1)
    if t.memory is not None:
        n *= max(t.budget, -1) + 1
    return n


def _check_size(states: int) -> None:
    if states > MAX_TABLE_BYTES:
        raise SolverError(
            f"the grid DP would need {states:,} states (> {MAX_TABLE_BYTES:,}); "
            "use a coarser --grid/--tick or --mem-grid"
        )


def run_grid_dp(t: TickedChain) -> tuple[float, np.ndarray]:
    """Run the right kernel on a ticked chain: (ticked optimum or inf, placement 0/1).

    With a memory budget the latency-only DP runs first: its optimum is a lower
    bound for the problem with the budget, so when its placement fits the
    budget it is optimal there too and the memory dimension is never built.
    """
    s, e = int(t.start_server), int(t.end_server)
    _check_size(t.client.shape[0] * 2 * (max(t.sla, -1) + 1))
    if t.memory is not None:
        best, x = grid_dp(t.client, t.server, t.up, t.down, t.work, s, e, t.sla)
        if not np.isfinite(best) or int(t.memory[x == 0].sum()) <= t.budget:
            return best, x
    _check_size(state_count(t))
    if t.memory is None:
        return grid_dp(t.client, t.server, t.up, t.down, t.work, s, e, t.sla)
    return grid_dp_memory(t.client, t.server, t.up, t.down, t.work, t.memory, s, e, t.sla, t.budget)


class _NumbaSolver(Solver):
    """Compiles (or loads from the on-disk cache) the kernels before the clock starts."""

    def prepare(self) -> None:
        warm_up()


class GridDP(_NumbaSolver):
    """Grid DP of SPEC §3 (numba): exact on the ticked data, conservative on the real data.

    Parameters (:class:`~splitopt.solvers.params.DPParams`): a
    :class:`~splitopt.discretise.Discretisation` (``grid`` ticks per SLA, default
    :func:`splitopt.discretise.default_grid`: 100 ticks per rounded item, 1,000 to
    20,000, or ``tick`` seconds; ``mem_grid`` or ``mem_tick`` bytes for requests
    with a memory budget) and ``bound`` (also solve the relaxed rounding to get a
    lower bound and, where the two meet, a proof of optimality).

    Status: ``optimal`` when ticking was exact (all data whole multiples of the
    ticks) or the bound meets the solution; ``feasible`` otherwise.
    """

    name = "dp"
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
        runtime = time.perf_counter() - t0
        return Result.from_chains(
            problem,
            self.name,
            [STATUS_NAMES[s] for s in status],
            placements,
            runtime,
            options=self.describe_options(),
            bounds=[None] * len(placements),
            messages=messages,
        )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        t = self._tick(chain)
        best, x = run_grid_dp(t)
        bound = None
        if self.params.bound:
            lb, _ = run_grid_dp(self._tick(chain, relax=True))
            bound = float(lb) if math.isfinite(lb) else math.inf
            if not math.isfinite(lb):
                return ChainSolution("infeasible", None, bound, "relaxed grid proves infeasibility")
        if not math.isfinite(best):
            if t.exact:
                return ChainSolution("infeasible", None, bound)
            return ChainSolution("infeasible", None, bound, NOT_A_PROOF)
        proven = t.exact or (bound is not None and best <= bound * (1 + RTOL) + 1e-300)
        return ChainSolution("optimal" if proven else "feasible", x == 1, bound)


class LabelDP(_NumbaSolver):
    """Exact DP without ticks: non-dominated (latency, work[, memory]) labels per
    layer and location, pruned by the fastest completion. Optimal on the real data."""

    name = "dp-exact"
    exact = True
    description = "exact label-setting DP on the real data (numba)"

    def solve(self, problem: Problem) -> Result:
        """As :meth:`Solver.solve`; many distinct chains (and no time limit) run the
        latency-work labels of every chain in one parallel call, and only chains whose
        budget that optimum breaks go through the per-chain memory labels (same answers)."""
        if len(problem.chains) < BATCH_MIN_CHAINS or self.params.time_limit is not None:
            return super().solve(problem)
        self.check(problem)
        self.prepare()
        warm_up_batch()
        t0 = time.perf_counter()
        batch = batch_of(problem)
        best, x, resolved = solve_labels_batch(batch, RTOL)
        off = batch.offsets.tolist()
        buf = x.tobytes()
        answers: list[ChainSolution] = []
        for i, chain in enumerate(problem.chains):
            if not resolved[i]:
                answers.append(self.solve_chain(chain))
            elif not math.isfinite(best[i]):
                answers.append(ChainSolution("infeasible", None))
            else:
                xi = np.frombuffer(buf, bool, count=off[i + 1] - off[i], offset=off[i])
                answers.append(ChainSolution("optimal", xi))
        runtime = time.perf_counter() - t0
        return Result.from_chains(
            problem,
            self.name,
            [a.status for a in answers],
            [a.placement for a in answers],
            runtime,
            options=self.describe_options(),
            bounds=[a.bound for a in answers],
            messages=[a.message for a in answers],
        )

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        best, x, _ = solve_labels(chain)
        if not math.isfinite(best):
            return ChainSolution("infeasible", None)
        return ChainSolution("optimal", x == 1)


#: Ticks per SLA of the lower-bound table and the incumbent's grid in :func:`solve_labels`.
BOUND_TICKS = 1000
INCUMBENT_GRID = 200


def _incumbent(chain: Chain) -> tuple[float, np.ndarray | None]:
    """A feasible placement from a coarse grid DP (conservative), scored by the evaluator."""
    t = tick_chain(chain, grid=INCUMBENT_GRID, mem_grid=64 if chain.memory_budget_bytes else None)
    best, x = run_grid_dp(t)
    if not math.isfinite(best):
        return math.inf, None
    s = score(chain, x.astype(bool))
    return (s.server_work, x) if s.feasible else (math.inf, None)


def _bound_inputs(chain: Chain) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Lower-bound table (floor-rounded ticks), its tick, knapsack order and suffix work."""
    t = tick_chain(chain, grid=BOUND_TICKS, relax=True)
    table = remaining_work_bound(
        t.client, t.server, t.up, t.down, chain.server_work, int(t.end_server), BOUND_TICKS
    )
    L = chain.num_layers
    w, m = chain.server_work, chain.client_memory_bytes
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(m > 0, w / np.where(m > 0, m, 1.0), np.inf)
    order = np.full((L, max(L - 1, 1)), -1, dtype=np.int64)
    for layer in range(L - 1):
        ks = np.arange(layer + 1, L)
        ks = ks[np.argsort(-ratio[ks], kind="stable")]
        order[layer, : ks.size] = ks
    suffix = np.concatenate([np.cumsum(w[::-1])[::-1][1:], [0.0]])
    return table, t.tick_s, order, suffix


def solve_labels(chain: Chain, bounds: bool = True) -> tuple[float, np.ndarray, int]:
    """Run the label DP on a chain: (optimum or inf, placement 0/1, labels created).

    With a memory budget the (latency, work) labels run first; when their
    optimum fits the budget it is optimal with the budget too (same argument as
    in :func:`run_grid_dp`), else the (latency, work, memory) labels run.
    With ``bounds`` (default) the (latency, work, memory) labels are also
    pruned against a feasible incumbent from a coarse grid DP, using the lower
    bounds of :func:`remaining_work_bound` and a fractional knapsack. (Two-
    dimensional fronts stay small; there the bounds cost more than they save.)
    """
    use_mem = chain.memory_budget_bytes is not None
    budget = chain.memory_budget_bytes * (1 + RTOL) if use_mem else np.inf
    if use_mem:
        best, x, n = solve_labels(chain.replace(memory_budget_bytes=None), bounds=False)
        if not np.isfinite(best) or chain.client_memory_bytes[x == 0].sum() <= budget:
            return best, x, n
    if bounds and use_mem:
        ub, inc = _incumbent(chain)
        table, tick, order, suffix = _bound_inputs(chain)
    else:
        ub, inc = math.inf, None
        table, tick = np.zeros((1, 2, 0)), 0.0
        order, suffix = np.full((1, 1), -1, dtype=np.int64), np.zeros(1)
    best, x, n = label_dp(
        chain.client_time_s,
        chain.server_time_s,
        chain.uplink_s,
        chain.downlink_s,
        chain.server_work,
        chain.client_memory_bytes,
        int(chain.start == "server"),
        int(chain.end == "server"),
        chain.sla_s * (1 + RTOL),
        budget,
        use_mem,
        ub,
        table,
        tick,
        order,
        suffix,
    )
    if not np.isfinite(best) and inc is not None:
        raise RuntimeError("label DP pruned every label although a feasible incumbent exists")
    return best, x, n
