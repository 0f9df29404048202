"""The discretisation study: how far the grid DP ``dp`` on the real data is from the
true optimum (``dp-exact``), and what it costs, as the grid grows.

:func:`discretisation_row` measures one (instance, grid); it is the one study
behind the paper's ``discretisation`` experiment (runner
:func:`splitopt.experiments.runners.run_discretisation`) and the script
``benchmarks/discretisation_table.py`` (:func:`discretisation_rows`).
:func:`summarise` pools the rows per (family, grid) for a table.

Definitions (per instance, over the requests feasible for both ``dp`` and ``dp-exact``):

* ``gap`` = Σω W_dp / Σω W_exact − 1 (server work is never below the optimum,
  because every ``dp`` placement is feasible on the real data);
* ``gap_max_request`` = the largest per-request W_dp / W_exact − 1;
* ``exact_share`` = share of requests where ``dp`` hits the optimum (to 1e-9 relative);
* ``lost_on_grid`` = requests feasible on the real data but not on the grid (rounding
  up can make a tight request infeasible);
* ``dp_runtime_s`` / ``exact_runtime_s`` = wall-clock seconds of the whole solve
  (best of ``repeats``, after a warm-up so JIT loading is not timed), and
  ``dp_ms_per_request`` / ``exact_ms_per_request`` the same per distinct request
  in milliseconds.

A grid of 0 stands for the solver's default (per-chain) grid
(:func:`splitopt.experiments.outcomes.grid_options`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from splitopt.experiments.outcomes import grid_options, registry_name
from splitopt.problem import Problem
from splitopt.solution import Result

#: Grid sizes (ticks per SLA) of the study.
GRIDS: tuple[int, ...] = (100, 300, 1000, 3000, 10000, 30000, 100000)
#: Objectives within this relative tolerance count as equal.
RTOL = 1e-9


def _best_solve(name: str, problem: Problem, repeats: int, **opts: Any) -> tuple[Result, float]:
    from splitopt.solvers import get_solver

    best, res = float("inf"), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        res = get_solver(registry_name(name), **opts).solve(problem)
        best = min(best, time.perf_counter() - t0)
    assert res is not None
    return res, best


_WARM = [False]


def _warm_up() -> None:
    """Load the numba kernels once per process (cache) so the first timed solve is not a compile."""
    if _WARM[0]:
        return
    from splitopt.families.random_chain import random_chain
    from splitopt.problem import Request
    from splitopt.solvers import get_solver

    rng = np.random.default_rng(0)
    reqs = [Request(id=f"w{i}", chain=random_chain(rng, 6, memory=bool(i))) for i in range(2)]
    p = Problem("warm-up", tuple(reqs))
    get_solver("dp-grid").solve(p)
    get_solver("dp-exact").solve(p)
    _WARM[0] = True


def instance_problem(family: str, seed: int, size: str) -> Problem:
    """Instance ``family`` / ``seed`` / ``size`` (:func:`splitopt.families.generate`).

    A family name ending in ``-nomem`` (e.g. ``random-chain-nomem``) is that
    family with every memory budget removed, which isolates the time grid.
    """
    from splitopt.families import generate

    if family.endswith("-nomem"):
        p = generate(family.removesuffix("-nomem"), seed, size)
        chains = [c.replace(memory_budget_bytes=None) for c in p.chains]
        return p.with_chains(chains, name=f"{p.name}-nomem")
    return generate(family, seed, size)


_EXACT: dict[int, tuple[Problem, Result, float]] = {}


def exact_solve(problem: Problem, repeats: int = 1) -> tuple[Result, float]:
    """``dp-exact`` on ``problem`` and its best wall-clock seconds (cached per process)."""
    hit = _EXACT.get(id(problem))
    if hit is not None and hit[0] is problem:
        return hit[1], hit[2]
    _warm_up()
    res, t = _best_solve("dp-exact", problem, repeats)
    if len(_EXACT) > 16:
        _EXACT.clear()
    _EXACT[id(problem)] = (problem, res, t)
    return res, t


def discretisation_row(problem: Problem, grid: int, repeats: int = 1) -> dict[str, Any]:
    """Gap of ``dp`` at ``grid`` ticks per SLA (0: default grid) to ``dp-exact`` on
    ``problem``, and both runtimes (module docstring for the columns)."""
    _warm_up()
    p = problem
    ex, t_ex = exact_solve(p, repeats)
    dp, t_dp = _best_solve("dp", p, repeats, **grid_options("dp", grid))
    w = p.weights
    f_dp, f_ex = dp.evaluation.feasible, ex.evaluation.feasible
    both = f_dp & f_ex
    wd = dp.evaluation.server_work[both]
    we = ex.evaluation.server_work[both]
    sd, se = float(np.dot(w[both], wd)), float(np.dot(w[both], we))
    per = np.where(we > 0, wd / np.where(we > 0, we, 1.0) - 1.0, np.where(wd > 0, np.inf, 0))
    equal = np.abs(wd - we) <= RTOL * np.maximum(np.abs(wd), np.abs(we))
    n = len(p.chains)
    return {
        "feasible_dp": int(f_dp.sum()),
        "feasible_exact": int(f_ex.sum()),
        "lost_on_grid": int((f_ex & ~f_dp).sum()),
        "sum_work_dp": sd,
        "sum_work_exact": se,
        "gap": (sd - se) / se if se > 0 else 0.0,
        "gap_max_request": float(per.max()) if per.size else 0.0,
        "exact_share": float(equal.mean()) if equal.size else 1.0,
        "dp_runtime_s": t_dp,
        "exact_runtime_s": t_ex,
        "dp_ms_per_request": t_dp / n * 1e3,
        "exact_ms_per_request": t_ex / n * 1e3,
    }


def discretisation_rows(
    family: str = "random-chain",
    seeds: Iterable[int] = (0,),
    size: str = "medium",
    grids: Sequence[int] = GRIDS,
    repeats: int = 1,
) -> list[dict[str, Any]]:
    """One row per (instance, grid): :func:`discretisation_row` with the instance's sizes.

    Args:
        family: instance family (``random-chain``, ``paper-like``, ``llm-edge``, or
            one of them with ``-nomem``: memory budgets removed).
        seeds: one instance per seed.
        size: family size.
        grids: grid sizes N (τ = D / N per request; 0: the default grid).
        repeats: timed solves per measurement (the best is kept).
    """
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        p = instance_problem(family, seed, size)
        layers = np.array([r.num_layers for r in p.requests])
        for grid in grids:
            rows.append(
                {
                    "family": family,
                    "seed": int(seed),
                    "size": size,
                    "grid": int(grid),
                    "requests": len(p),
                    "chains": len(p.chains),
                    "layers_min": int(layers.min()),
                    "layers_max": int(layers.max()),
                    **discretisation_row(p, grid, repeats),
                }
            )
    return rows


def summarise(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pool rows per (family, grid): pooled gap, worst request, lost requests, mean times."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["family"], r["grid"]), []).append(r)
    out = []
    for (family, grid), rs in sorted(groups.items()):
        sd = sum(r["sum_work_dp"] for r in rs)
        se = sum(r["sum_work_exact"] for r in rs)
        n_req = sum(r["feasible_exact"] for r in rs)
        out.append(
            {
                "family": family,
                "grid": grid,
                "instances": len(rs),
                "requests": sum(r["requests"] for r in rs),
                "gap": sd / se - 1.0 if se > 0 else 0.0,
                "gap_max_request": max(r["gap_max_request"] for r in rs),
                "exact_share": float(
                    np.average(
                        [r["exact_share"] for r in rs], weights=[r["feasible_dp"] or 1 for r in rs]
                    )
                ),
                "lost_on_grid": sum(r["lost_on_grid"] for r in rs),
                "lost_share": sum(r["lost_on_grid"] for r in rs) / n_req if n_req else 0.0,
                "dp_ms_per_request": float(np.mean([r["dp_ms_per_request"] for r in rs])),
                "exact_ms_per_request": float(np.mean([r["exact_ms_per_request"] for r in rs])),
            }
        )
    return out
