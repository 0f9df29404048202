"""Ticks: the integer problem the grid DP solves exactly (SPEC §3).

With a time tick τ (seconds) every time is rounded *up* to whole ticks and the
SLA *down*; with a memory tick μ (bytes), memory use likewise up and the budget
down. A placement feasible for the ticked chain is therefore feasible for the
real one. A small relative guard (``GUARD``) keeps float noise such as
0.30000000000000004 / 0.1 from adding a tick; it is far below the evaluator's
tolerance, so the conservative property holds to that tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from splitopt.errors import GridError
from splitopt.problem import Chain, Problem

#: Default grid: GRID_PER_ITEM ticks per rounded item, at least DEFAULT_GRID, and at most
#: what keeps the grid DP's tables within AUTO_GRID_BYTES.
#: A placement rounds L layer times and at most L + 1 transfers, each up by less than
#: one tick, so N = 100 (2L + 1) caps the conservative loss at 1 % of the SLA.
#: Checked by the discretisation study (README, ``splitopt experiment discretisation``).
GRID_PER_ITEM = 100
#: Smallest default grid (ticks per SLA).
DEFAULT_GRID = 1000
#: Memory the default grid may give the grid DP's tables (bytes; ours): the grid grows
#: with L until L · 2 · (N + 1) choice bytes plus 32 (N + 1) bytes of float rows reach
#: this. Past L ≈ 5,000 the 1 % rule no longer fits (N ≈ 2^30 / 2L); ``dp`` then
#: also tries ``greedy`` and keeps the better placement (:class:`splitopt.solvers.dp.GridDP`).
AUTO_GRID_BYTES = 2**30
#: Memory ticks per budget when the memory data have no usable common integer granule.
DEFAULT_MEM_GRID = 256
#: Largest budget, in granules, for which the exact integer memory tick is used.
EXACT_MEM_MAX = 4096
#: Relative guard against float noise when rounding to ticks.
GUARD = 1e-10


def ceil_ticks(values: np.ndarray, tick: float, cap: int = 2**52) -> np.ndarray:
    """⌈x / τ⌉ with the float guard, as int64, clamped to ``cap``.

    Clamping to (ticked limit + 1) changes nothing: an item that alone exceeds
    the limit can never be chosen either way, and int64 sums cannot overflow.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = np.ceil(np.asarray(values) / tick * (1.0 - GUARD))
    return np.minimum(x, float(cap)).astype(np.int64)


def _floor_array(values: np.ndarray, tick: float, cap: int = 2**52) -> np.ndarray:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = np.floor(np.asarray(values) / tick * (1.0 + GUARD))
    return np.minimum(x, float(cap)).astype(np.int64)


def floor_ticks(value: float, tick: float) -> int:
    """⌊x / τ⌋ with the float guard (at most 2^52)."""
    x = value / tick * (1.0 + GUARD)
    return math.floor(min(x, 2.0**52))


def ticks_exact(values: np.ndarray, ticks: np.ndarray, tick: float, cap: int) -> bool:
    """Whether rounding ``values`` to ``ticks`` (what :func:`ceil_ticks` returned) lost
    nothing: every value is its tick count times τ to a relative 1e-9, or was
    clamped at ``cap`` because it alone exceeds the limit either way.

    The test is on the ticks actually used, not on x / τ being near a whole number:
    a transfer of 1e-12 s with τ = 4 ms is 2.5e-10 ticks, "whole" to 1e-9, yet
    rounding makes it one tick (``dp`` said optimal 5 where 0 is optimal).
    """
    x = np.asarray(values, dtype=float)
    n = np.asarray(ticks)
    with np.errstate(over="ignore", invalid="ignore"):
        close = np.abs(n * tick - x) <= 1e-9 * np.abs(x)
        clamped = (n >= cap) & (x >= cap * tick)
    return bool(np.all(close | clamped))


def _is_whole(x: np.ndarray) -> bool:
    return bool(np.all(np.abs(x - np.round(x)) <= 1e-9 * np.maximum(1.0, np.abs(x))))


@dataclass(frozen=True)
class TickedChain:
    """A chain in integer ticks, ready for the grid DP kernels.

    Attributes:
        client, server: â_l, ĉ_l (int64, length L).
        up, down: û_b, v̂_b (int64, length L + 1).
        work: w_l, unchanged (float64).
        memory: m̂_l in memory ticks (int64), or ``None`` when memory is unconstrained.
        sla: D̂ in ticks; budget: M̂ in memory ticks (``None`` when memory is unconstrained).
        tick_s, mem_tick_bytes: τ and μ (``None`` when memory is unconstrained).
        exact: whether ticking lost nothing (all data whole multiples of the ticks),
            so that the ticked optimum is the real optimum.
    """

    client: np.ndarray
    server: np.ndarray
    up: np.ndarray
    down: np.ndarray
    work: np.ndarray
    memory: np.ndarray | None
    sla: int
    budget: int | None
    start_server: bool
    end_server: bool
    tick_s: float
    mem_tick_bytes: float | None
    exact: bool

    def to_chain(self) -> Chain:
        """The ticked data as an ordinary :class:`Chain` (for ILPs and brute force).

        A ticked SLA of 0 becomes 0.5 (the same integer constraint, as chains need D > 0).
        """
        mem = self.memory if self.memory is not None else np.zeros_like(self.work)
        return Chain(
            client_time_s=self.client.astype(np.float64),
            server_time_s=self.server.astype(np.float64),
            server_work=self.work,
            uplink_s=self.up.astype(np.float64),
            downlink_s=self.down.astype(np.float64),
            client_memory_bytes=mem.astype(np.float64),
            sla_s=float(self.sla) if self.sla > 0 else 0.5,
            memory_budget_bytes=None if self.budget is None else float(self.budget),
            start="server" if self.start_server else "client",
            end="server" if self.end_server else "client",
        )


def default_grid(num_layers: int) -> int:
    """The default grid for a chain of ``num_layers`` layers: 100 (2L + 1) ticks per SLA
    (:data:`GRID_PER_ITEM`), capped so the DP's tables fit :data:`AUTO_GRID_BYTES`,
    never below :data:`DEFAULT_GRID`."""
    fits = AUTO_GRID_BYTES // (2 * num_layers + 32) - 1
    return int(max(min(GRID_PER_ITEM * (2 * num_layers + 1), fits), DEFAULT_GRID))


def default_grid_capped(num_layers: np.ndarray | int) -> np.ndarray | bool:
    """Whether :func:`default_grid` is below its 100 ticks per rounded item (capped by
    :data:`AUTO_GRID_BYTES`): then its bound of ≤ 1 % of the SLA lost to rounding no
    longer holds, and ``dp`` also runs ``greedy`` as a safety net (vectorised over
    ``num_layers``)."""
    L = np.asarray(num_layers, dtype=np.int64)
    fits = AUTO_GRID_BYTES // (2 * L + 32) - 1
    capped = np.maximum(fits, DEFAULT_GRID) < GRID_PER_ITEM * (2 * L + 1)
    return bool(capped) if capped.ndim == 0 else capped


def time_tick(chain: Chain, grid: int | None = None, tick: float | None = None) -> float:
    """τ for a chain: ``tick`` if given, else D / ``grid`` (default :func:`default_grid`)."""
    if grid is not None and tick is not None:
        raise GridError("give a grid size or a tick, not both")
    if tick is not None:
        if not (tick > 0 and math.isfinite(tick)):
            raise GridError(f"tick must be a positive number of seconds, got {tick!r}")
        return float(tick)
    n = default_grid(chain.num_layers) if grid is None else grid
    if int(n) != n or n < 1:
        raise GridError(f"grid must be a positive integer, got {grid!r}")
    return chain.sla_s / int(n)


def memory_tick(
    chain: Chain, mem_grid: int | None = None, mem_tick: float | None = None
) -> tuple[float, bool] | None:
    """μ for a chain with a budget, and whether it is exact; ``None`` when memory
    does not constrain (no budget, or no layer needs client memory).

    Default: when all m_l and M are whole numbers whose greatest common divisor
    g leaves M / g <= :data:`EXACT_MEM_MAX`, μ = g (exact); otherwise
    μ = M / :data:`DEFAULT_MEM_GRID` (conservative).
    """
    if chain.memory_budget_bytes is None or not np.any(chain.client_memory_bytes > 0):
        return None
    if mem_grid is not None and mem_tick is not None:
        raise GridError("give a memory grid or a memory tick, not both")
    budget = chain.memory_budget_bytes
    m = chain.client_memory_bytes
    if budget > 0 and budget / DEFAULT_MEM_GRID == 0.0:
        return budget, False  # subnormal budget: one tick
    if mem_tick is not None:
        if not (mem_tick > 0 and math.isfinite(mem_tick)):
            raise GridError(f"memory tick must be a positive number of bytes, got {mem_tick!r}")
        mu = float(mem_tick)
    elif mem_grid is not None:
        if int(mem_grid) != mem_grid or mem_grid < 1:
            raise GridError(f"memory grid must be a positive integer, got {mem_grid!r}")
        mu = budget / int(mem_grid) if budget > 0 else 1.0
    else:
        vals = np.append(m[m > 0], budget)
        if budget == 0:
            mu = 1.0
        elif _is_whole(vals) and vals.max() < 2**62:
            g = int(np.gcd.reduce(np.round(vals).astype(np.int64)))
            mu = float(g) if g > 0 and budget / g <= EXACT_MEM_MAX else budget / DEFAULT_MEM_GRID
        else:
            mu = budget / DEFAULT_MEM_GRID
    with np.errstate(over="ignore", invalid="ignore"):
        exact = _is_whole(m / mu)
    return mu, exact


def tick_chain(
    chain: Chain,
    grid: int | None = None,
    tick: float | None = None,
    mem_grid: int | None = None,
    mem_tick: float | None = None,
    relax: bool = False,
) -> TickedChain:
    """Round a chain to ticks (SPEC §3); the arguments are those of :class:`Discretisation`.

    With ``relax=True`` the rounding goes the other way (usage down, SLA and
    budget up by the evaluator's tolerance): every placement feasible for the
    real chain is feasible for this relaxed one, so its optimum is a lower
    bound on the real optimum.
    """
    tau = time_tick(chain, grid, tick)
    times = (chain.client_time_s, chain.server_time_s, chain.uplink_s, chain.downlink_s)
    rnd = _floor_array if relax else ceil_ticks
    slack = 1.0 + 2e-9 if relax else 1.0
    sla = floor_ticks(chain.sla_s * slack, tau)
    a, c, u, v = ticked = [rnd(x, tau, sla + 1) for x in times]
    exact = all(ticks_exact(x, n, tau, sla + 1) for x, n in zip(times, ticked, strict=True))
    mem = memory_tick(chain, mem_grid, mem_tick)
    budget: int | None
    if mem is None:
        memory, budget, mu = None, None, None
    else:
        mu, mem_exact = mem
        budget = floor_ticks(chain.memory_budget_bytes * slack, mu)  # type: ignore[operator]
        memory = rnd(chain.client_memory_bytes, mu, budget + 1)
        mem_ok = ticks_exact(chain.client_memory_bytes, memory, mu, budget + 1)
        exact = exact and mem_exact and mem_ok
    return TickedChain(
        client=a,
        server=c,
        up=u,
        down=v,
        work=chain.server_work,
        memory=memory,
        sla=sla,
        budget=budget,
        start_server=chain.start == "server",
        end_server=chain.end == "server",
        tick_s=tau,
        mem_tick_bytes=mu,
        exact=exact,
    )


def _positive(name: str, value: object, integer: bool) -> None:
    ok = False
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        ok = bool(math.isfinite(value) and value > 0)
        if ok and integer:
            ok = bool(int(value) == value)
    if not ok:
        kind = "a positive integer" if integer else "a positive number"
        raise GridError(f"{name} must be {kind}, got {value!r}")


@dataclass(frozen=True)
class Discretisation:
    """How chains are rounded to ticks: one frozen, serialisable value
    shared by ``dp``, the ILPs in ticked mode, :func:`tick_problem` and ``verify``.

    Attributes:
        grid: N, time ticks per SLA (τ = D / N); or
        tick_s: τ, a fixed time tick in seconds (not both).
        mem_grid: memory ticks per budget (μ = M / mem_grid); or
        mem_tick_bytes: μ, a fixed memory tick in bytes (not both).

    ``None`` is the one encoding of "the per-chain default": τ = D /
    :func:`default_grid` (L) and μ from :func:`memory_tick`'s rule. So
    ``Discretisation()`` is the default discretisation (there is no ``0``).
    Invalid values raise :class:`~splitopt.errors.GridError`.
    """

    grid: int | None = None
    tick_s: float | None = None
    mem_grid: int | None = None
    mem_tick_bytes: float | None = None

    def __post_init__(self) -> None:
        if self.grid is not None and self.tick_s is not None:
            raise GridError("give a grid size or a tick, not both")
        if self.mem_grid is not None and self.mem_tick_bytes is not None:
            raise GridError("give a memory grid or a memory tick, not both")
        for name, integer in (
            ("grid", True),
            ("tick_s", False),
            ("mem_grid", True),
            ("mem_tick_bytes", False),
        ):
            v = getattr(self, name)
            if v is not None:
                _positive(name, v, integer)
                object.__setattr__(self, name, int(v) if integer else float(v))

    @property
    def is_default(self) -> bool:
        """Whether every setting is the per-chain default."""
        return self == Discretisation()

    @property
    def fixes_time(self) -> bool:
        """Whether a grid or a tick is given (the ILPs' ticked mode needs one)."""
        return self.grid is not None or self.tick_s is not None

    def tick(self, chain: Chain, relax: bool = False) -> TickedChain:
        """:func:`tick_chain` with these settings."""
        return tick_chain(chain, self.grid, self.tick_s, self.mem_grid, self.mem_tick_bytes, relax)

    def time_tick(self, chain: Chain) -> float:
        """τ for ``chain`` (seconds)."""
        return time_tick(chain, self.grid, self.tick_s)

    def to_options(self) -> dict[str, Any]:
        """The settings that are not default, under the option names of solvers and the
        CLI (``grid``, ``tick``, ``mem_grid``, ``mem_tick``): JSON-ready."""
        out = {
            "grid": self.grid,
            "tick": self.tick_s,
            "mem_grid": self.mem_grid,
            "mem_tick": self.mem_tick_bytes,
        }
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_options(
        cls,
        grid: int | None = None,
        tick: float | None = None,
        mem_grid: int | None = None,
        mem_tick: float | None = None,
    ) -> Discretisation:
        """Inverse of :meth:`to_options`."""
        return cls(grid=grid, tick_s=tick, mem_grid=mem_grid, mem_tick_bytes=mem_tick)

    def __str__(self) -> str:
        opts = self.to_options()
        return ", ".join(f"{k}={v}" for k, v in opts.items()) or "default grid"


#: Option names of :meth:`Discretisation.to_options`.
DISCRETISATION_OPTIONS: tuple[str, ...] = ("grid", "tick", "mem_grid", "mem_tick")


def tick_problem(
    problem: Problem,
    discretisation: Discretisation | None = None,
    **options: Any,
) -> Problem:
    """The ticked problem: every distinct chain rounded to ticks (integer data).

    Give a :class:`Discretisation`, or its options (``grid=``, ``tick=``,
    ``mem_grid=``, ``mem_tick=``); neither means the default.
    """
    if discretisation is not None and options:
        raise GridError("give a Discretisation or its options, not both")
    d = discretisation if discretisation is not None else Discretisation.from_options(**options)
    chains = [d.tick(c).to_chain() for c in problem.chains]
    return problem.with_chains(chains, name=f"{problem.name} (ticked)")
