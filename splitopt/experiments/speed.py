"""The speed protocol of the exact solvers: one for the README table
(``benchmarks/speed_table.py``), the paper's runtime experiment
(:func:`splitopt.experiments.runners.run_speed`) and the benchmarks.

Protocol (:func:`time_chains`): the solver is built once with its options and
warmed up on small chains with and without a memory budget (JIT cache load,
backend imports), then solves the requests one at a time with
``solve_chain``; each request's time is the best of ``repeats`` wall-clock
measurements in milliseconds (one thread). The evaluator scores every answer.

Pairs that solve the *same* problem, so that objectives must be equal:

* ``dp-grid`` (grid ``grid``) and each ILP in ticked mode with the same grid;
* ``dp`` (the default, exact; or ``dp-exact``, the same labels) and each ILP on
  the real data.

:func:`speed_rows` returns one dict per (instance, solver, mode) with the
median time and how many requests reached the reference objective
(``equal``); :func:`summarise` turns them into table rows (one per family and
layer count) with ratios to ``dp`` on the real data (``dp-grid`` where ``dp`` was
not timed).

Instances: ``random-chain`` — ``requests`` random chains of exactly L layers
(real data, no memory budget) for each L in ``layers`` (:func:`random_chains`);
``random-chain+mem`` — the same with a client memory budget on every request
(the grid DP then also ticks memory, 256 ticks per budget by default, and its
table grows by that factor); ``llm-edge`` — the family's instances (real LLM
block chains with memory budgets) at ``size`` and at block and sub-layer
granularity, grouped by L.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from splitopt.discretise import DEFAULT_GRID
from splitopt.evaluate import score
from splitopt.experiments.outcomes import grid_options
from splitopt.problem import Chain

#: Exact solvers compared (ILPs are skipped when their backend is missing).
SOLVERS: tuple[str, ...] = ("dp", "dp-grid", "ilp-highs", "ilp-cbc", "ilp-cpsat", "ilp-scip")
#: Objectives within this relative tolerance count as equal.
RTOL = 1e-9


def random_chains(layers: int, requests: int, seed: int, memory: bool | None = None) -> list[Chain]:
    """``requests`` random real-data chains of exactly ``layers`` layers
    (``memory``: with a client memory budget, without, or ``None``: drawn)."""
    from splitopt.families.random_chain import random_chain

    rng = np.random.default_rng([seed, layers, 2 if memory is None else int(memory)])
    return [random_chain(rng, layers, memory=memory) for _ in range(requests)]


def llm_edge_chains(seed: int, size: str, granularity: str) -> list[Chain]:
    """The distinct chains of an ``llm-edge`` instance."""
    from splitopt.families.llm_edge import generate

    return list(generate(seed, size, granularity=granularity).chains)


def _work(chain: Chain, placement: str | np.ndarray | None) -> float | None:
    if placement is None:
        return None
    s = score(chain, placement)
    return s.server_work if s.feasible else None


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= RTOL * max(abs(a), abs(b))


_WARM: set[tuple[str, tuple[tuple[str, object], ...]]] = set()


def time_chains(
    solver: str,
    chains: Sequence[Chain],
    mode: str | None = None,
    grid: int = DEFAULT_GRID,
    repeats: int = 1,
    time_limit: float | None = 60.0,
    repeat_below_s: float = math.inf,
    min_time_s: float = 0.0,
) -> dict[str, Any]:
    """The speed protocol (module docstring): ``solver`` on each chain alone.

    Args:
        solver: a registered solver name.
        chains: the requests, solved one at a time.
        mode: ``ticked`` or ``real`` (default: ``dp`` ticked, the others real;
            see :func:`splitopt.experiments.outcomes.grid_options`).
        grid: ticks per SLA in ticked mode (0: the solver's default grid).
        repeats: timed solves per chain, the best is kept.
        time_limit: seconds per chain.
        repeat_below_s: a chain is solved again (up to ``repeats`` times) only
            while its solves take less than this many seconds (default: always),
            so that slow solves, those stopped by the time limit among them, run
            once.
        min_time_s: past ``repeats``, a chain is solved again (under the same
            rule) while its solves so far took less than this many seconds in
            all (default 0: no more), so that sub-millisecond solves are timed
            once the processor has left the idle state it may be in after a
            slower solver's run (a factor of 1.5-2 on the first few milliseconds
            of a shared machine; our measurement).

    Returns:
        ``times_ms`` (per chain), ``works`` (the evaluator's server work of
        each answer, ``None`` when infeasible or none), ``statuses`` and
        ``time_limited`` (chains the time limit stopped), ``bounds`` (the
        solver's lower bound on each chain's server work, ``None``: none).
    """
    from splitopt.solvers import get_solver

    opts = grid_options(solver, grid, mode)
    s = get_solver(solver, **opts)
    warm_key = (solver, tuple(sorted(opts.items())))
    if warm_key not in _WARM:  # both DP kernels (with and without memory), imports
        for c in random_chains(6, 2, 12345, True) + random_chains(6, 2, 12345, False):
            s.solve_chain(c)
        _WARM.add(warm_key)
    times: list[float] = []
    works: list[float | None] = []
    statuses: list[str] = []
    bounds: list[float | None] = []
    limited = 0
    for c in chains:
        best = float("inf")
        sol = None
        n = 0
        spent = 0.0
        while n < max(1, repeats) or spent < min_time_s:
            t0 = time.perf_counter()
            sol = s.solve_chain(c, time_limit)
            took = time.perf_counter() - t0
            best = min(best, took * 1e3)
            n += 1
            spent += took
            if took >= repeat_below_s:
                break
        assert sol is not None
        times.append(best)
        works.append(_work(c, sol.placement))
        statuses.append(sol.status)
        bounds.append(sol.bound)
        limited += sol.status == "time_limit" or "time limit" in (sol.message or "")
    return {
        "times_ms": times,
        "works": works,
        "statuses": statuses,
        "time_limited": limited,
        "bounds": bounds,
    }


def time_solvers(
    chains: Sequence[Chain],
    solvers: Sequence[str] = SOLVERS,
    grid: int = DEFAULT_GRID,
    modes: Sequence[str] = ("ticked", "real"),
    time_limit: float | None = 60.0,
    repeats: int = 1,
) -> dict[tuple[str, str], dict[str, Any]]:
    """:func:`time_chains` for every (solver, mode); {(solver, mode): {times_ms, equal, n, ...}}.

    ``dp`` runs in ticked mode only and ``dp-exact`` in real mode only; ILPs in
    each of ``modes``. ``equal`` counts requests whose server work equals the
    reference's (``dp`` for ticked, ``dp-exact`` for real); ``time_limited`` the
    requests where ``time_limit`` (seconds per request) stopped the solver (their
    time counts as measured, i.e. about the limit).
    """
    from splitopt.solvers import available

    plan: list[tuple[str, str]] = []
    for s in solvers:
        if s == "dp-grid":
            plan.append((s, "ticked"))
        elif s in ("dp", "dp-exact"):
            plan.append((s, "real"))
        elif available(s):
            plan += [(s, m) for m in modes]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    ref: dict[str, list[float | None]] = {}
    for name, mode in plan:
        d = time_chains(name, chains, mode, grid, repeats, time_limit)
        out[(name, mode)] = d
        if name in ("dp", "dp-grid") or (name == "dp-exact" and mode not in ref):
            ref[mode] = d["works"]
    for (_name, mode), d in out.items():
        r = ref.get(mode)
        d["equal"] = (
            None if r is None else sum(_same(a, b) for a, b in zip(d["works"], r, strict=True))
        )
        d["n"] = len(d["works"])
    return out


def speed_rows(
    families: Iterable[str] = ("random-chain", "random-chain+mem", "llm-edge"),
    layers: Sequence[int] = (12, 24, 48, 80),
    requests: int = 20,
    seed: int = 0,
    solvers: Sequence[str] = SOLVERS,
    grid: int = DEFAULT_GRID,
    llm_size: str = "tiny",
    modes: Sequence[str] = ("ticked",),
    time_limit: float | None = 10.0,
) -> list[dict[str, Any]]:
    """One row per (family, layer count, solver, mode): median ms per request, equal objectives.

    Args:
        families: ``random-chain``, ``random-chain+mem`` and/or ``llm-edge``.
        layers: random-chain layer counts L.
        requests: random-chain requests per L.
        seed: instance seed.
        solvers: exact solvers to time.
        grid: ticks per SLA for ``dp`` and the ticked ILPs.
        llm_size: llm-edge family size (its chains are grouped by L, block and
            sub-layer granularity).
        modes: ILP data modes to time (``ticked``: the problem ``dp`` solves, so
            objectives must be equal; ``real``: the problem ``dp-exact`` solves).
        time_limit: seconds per request and solver.
    """
    groups: list[tuple[str, int, list[Chain]]] = []
    for fam in families:
        if fam in ("random-chain", "random-chain+mem"):
            for L in layers:
                groups.append((fam, L, random_chains(L, requests, seed, fam.endswith("+mem"))))
        elif fam == "llm-edge":
            chains = llm_edge_chains(seed, llm_size, "block") + llm_edge_chains(
                seed, llm_size, "sublayer"
            )
            by_l: dict[int, list[Chain]] = {}
            for c in chains:
                by_l.setdefault(c.num_layers, []).append(c)
            for L in sorted(by_l):
                groups.append((fam, L, by_l[L]))
        else:
            raise ValueError(f"unknown family {fam!r} for the speed comparison")
    rows = []
    for fam, L, chains in groups:
        res = time_solvers(chains, solvers, grid, modes, time_limit)
        for (name, mode), d in res.items():
            rows.append(
                {
                    "family": fam,
                    "layers": L,
                    "requests": d["n"],
                    "solver": name,
                    "mode": mode,
                    "grid": grid if mode == "ticked" else None,
                    "median_ms": statistics.median(d["times_ms"]),
                    "mean_ms": statistics.fmean(d["times_ms"]),
                    "equal": d["equal"],
                    "time_limited": d["time_limited"],
                    "feasible": sum(w is not None for w in d["works"]),
                }
            )
    return rows


def summarise(rows: Iterable[dict[str, Any]], bucket: bool = True) -> list[dict[str, Any]]:
    """Table rows per (family, L): median ms of each (solver, mode) and its ratio to ``dp``.

    With ``bucket``, llm-edge layer counts are pooled into ranges (weighted by
    requests) so the table stays short. Keys: ``family``, ``layers``,
    ``requests``, ``<solver>/<mode>`` (ms) and ``<solver>/<mode> ÷ dp``, plus
    ``all_equal`` (every ILP matched its reference objective on every request)
    and ``time_limited`` (solves stopped by the time limit).
    """
    rows = list(rows)
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        L = r["layers"]
        label = str(L)
        if bucket and r["family"] == "llm-edge":
            lo = 0 if L < 24 else 24 if L < 48 else 48 if L < 80 else 80
            label = {0: "<24", 24: "24-47", 48: "48-79", 80: "80+"}[lo]
        key = (r["family"], label)
        t = table.setdefault(key, {"family": r["family"], "layers": label, "_acc": {}, "_eq": True})
        acc = t["_acc"].setdefault(f"{r['solver']}/{r['mode']}", [])
        acc.append((r["median_ms"], r["requests"]))
        if r["equal"] is not None and r["equal"] != r["requests"]:
            t["_eq"] = False
        t["_tl"] = t.get("_tl", 0) + r.get("time_limited", 0)
    out = []
    for key in sorted(table, key=lambda k: (k[0], _order(k[1]))):
        t = table[key]
        row: dict[str, Any] = {"family": t["family"], "layers": t["layers"]}
        meds = {}
        for col, vals in t["_acc"].items():
            meds[col] = float(np.average([v for v, _ in vals], weights=[n for _, n in vals]))
        ref = "dp/real" if "dp/real" in t["_acc"] else "dp-grid/ticked"
        row["requests"] = sum(n for _, n in t["_acc"].get(ref, [(0, 0)]))
        base = meds.get(ref)
        for col, v in meds.items():
            row[col] = v
            row[f"{col} ÷ dp"] = v / base if base else None
        row["all_equal"] = t["_eq"]
        row["time_limited"] = t["_tl"]
        out.append(row)
    return out


def _order(label: str) -> int:
    digits = "".join(ch for ch in label.split("-")[0] if ch.isdigit())
    return int(digits) if digits else 0
