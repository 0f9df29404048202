"""The dynamic programs: ``dp`` (grid DP on ticks) and ``dp-exact`` (labels, no ticks)."""

from __future__ import annotations

import math

import numpy as np

from splitopt.discretise import GridError, TickedChain, tick_chain
from splitopt.evaluate import RTOL, format_placement
from splitopt.problem import Chain
from splitopt.solvers.base import ChainSolution, Solver, SolverError
from splitopt.solvers.kernels import grid_dp, grid_dp_memory, label_dp

#: Refuse grids whose backtracking table would exceed this many bytes.
MAX_TABLE_BYTES = 4 * 2**30


def state_count(t: TickedChain) -> int:
    """Number of DP states (layer, location, time tick[, memory tick]) of a ticked chain."""
    n = t.client.shape[0] * 2 * (max(t.sla, -1) + 1)
    if t.memory is not None:
        n *= max(t.budget, -1) + 1
    return n


def run_grid_dp(t: TickedChain) -> tuple[float, np.ndarray]:
    """Run the right kernel on a ticked chain: (ticked optimum or inf, placement 0/1)."""
    if state_count(t) > MAX_TABLE_BYTES:
        raise SolverError(
            f"the grid DP would need {state_count(t):,} states (> {MAX_TABLE_BYTES:,}); "
            "use a coarser --grid/--tick or --mem-grid"
        )
    s, e = int(t.start_server), int(t.end_server)
    if t.memory is None:
        return grid_dp(t.client, t.server, t.up, t.down, t.work, s, e, t.sla)
    return grid_dp_memory(t.client, t.server, t.up, t.down, t.work, t.memory, s, e, t.sla, t.budget)


class GridDP(Solver):
    """Grid DP of SPEC §3 (numba): exact on the ticked data, conservative on the real data.

    Options: ``grid`` (ticks per SLA, default :data:`splitopt.discretise.DEFAULT_GRID`)
    or ``tick`` (seconds); ``mem_grid`` or ``mem_tick`` (bytes) for requests with
    a memory budget; ``bound`` (also solve the relaxed rounding to get a lower
    bound and, where the two meet, a proof of optimality).

    Status: ``optimal`` when ticking was exact (all data whole multiples of the
    ticks) or the bound meets the solution; ``feasible`` otherwise.
    """

    name = "dp"
    exact = True
    description = "grid DP on time ticks (numba); optimal on the ticked data"
    option_names = ("grid", "tick", "mem_grid", "mem_tick", "bound")

    def _tick(self, chain: Chain, relax: bool = False) -> TickedChain:
        o = self.options
        try:
            return tick_chain(
                chain, o.get("grid"), o.get("tick"), o.get("mem_grid"), o.get("mem_tick"), relax
            )
        except GridError as exc:
            raise SolverError(str(exc)) from None

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        t = self._tick(chain)
        best, x = run_grid_dp(t)
        bound = None
        if self.options.get("bound"):
            lb, _ = run_grid_dp(self._tick(chain, relax=True))
            bound = float(lb) if math.isfinite(lb) else math.inf
            if not math.isfinite(lb):
                return ChainSolution("infeasible", None, bound, "relaxed grid proves infeasibility")
        if not math.isfinite(best):
            if t.exact:
                return ChainSolution("infeasible", None, bound)
            return ChainSolution(
                "infeasible", None, bound, "no placement feasible on the grid (not a proof)"
            )
        proven = t.exact or (bound is not None and best <= bound * (1 + RTOL) + 1e-300)
        return ChainSolution("optimal" if proven else "feasible", format_placement(x), bound)


class LabelDP(Solver):
    """Exact DP without ticks: non-dominated (latency, work[, memory]) labels per
    layer and location, pruned by the fastest completion. Optimal on the real data."""

    name = "dp-exact"
    exact = True
    description = "exact label-setting DP on the real data (numba)"

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        best, x, _ = solve_labels(chain)
        if not math.isfinite(best):
            return ChainSolution("infeasible", None)
        return ChainSolution("optimal", format_placement(x))


def solve_labels(chain: Chain) -> tuple[float, np.ndarray, int]:
    """Run the label DP on a chain: (optimum or inf, placement 0/1, labels created)."""
    use_mem = chain.memory_budget_bytes is not None
    budget = chain.memory_budget_bytes * (1 + RTOL) if use_mem else np.inf
    return label_dp(
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
    )
