"""The experiments of issue 5, (a)–(f), and the runners their tasks call.

Each experiment yields :class:`~splitopt.experiments.harness.Task` objects
whose runner is one of the ``run_*`` functions below (module-level, so any
worker process can import them). Runners regenerate their instance from
(family, seed, size), which keeps tasks tiny; a per-process cache avoids
regenerating or re-solving the same instance for every row.

Quick sizes (``--quick``) are chosen so that all experiments together run in a
few minutes on two cores.

Definitions used in every row:
- ``reduction``: 1 − Σω W(x) / Σω W(S…S) over the requests feasible for both
  the solver and server-only (:func:`splitopt.metrics.summarize`).
- ``gain_work_<B>``: (W_B − W_A) / W_B over the requests feasible for both A (the
  row's solver) and baseline B; ``gain_tput_<B>`` = W_B / W_A − 1 on the same
  requests (:func:`splitopt.metrics.gain`). ``sum_work_common_<B>`` and
  ``sum_base_common_<B>`` hold the two sums, so tables can pool repetitions.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from splitopt.discretise import Discretisation
from splitopt.experiments.harness import Scalar, Task, experiment
from splitopt.problem import Chain, Problem, Request

#: Baselines every split row is compared with (server-only gives the reduction).
COMPARE: tuple[str, ...] = ("greedy", "greedy-ratio", "best-cut")
SPLITTERS: tuple[str, ...] = ("server-only", "greedy", "dp")
_RUNNERS = "splitopt.experiments.catalog"


def col(name: str) -> str:
    """A solver name as a column-name fragment (``greedy-ratio`` -> ``greedy_ratio``)."""
    return name.replace("-", "_")


# ---------------------------------------------------------------- instances and caching


@lru_cache(maxsize=16)
def instance(family: str, seed: int, size: str, options: str = "") -> Problem:
    """The family's seeded instance; ``options`` is a JSON object of generator options."""
    from splitopt.families import generate

    opts = json.loads(options) if options else {}
    override = opts.pop("override", None)
    if override:
        return overridden_instance(family, seed, size, override)
    return generate(family, seed, size, **opts)


def overridden_instance(family: str, seed: int, size: str, override: dict[str, Any]) -> Problem:
    """A family instance with every request class's ``prompt_tokens``,
    ``output_tokens`` or ``client`` set to one value, SLAs recalibrated.

    The override is a typed change of the family's table
    (:meth:`~splitopt.families.scenario_family.ScenarioFamily.replace`): the
    instance is drawn as usual, the override applied to every class, and the
    SLAs drawn from one fixed stream (``sla_stream``), so each class keeps where
    its SLA sits between its fastest and its all-client latency: only the
    overridden quantity changes. Token counts are capped by the model's context.
    """
    from splitopt.families import get_scenario_family

    return get_scenario_family(family).replace(sla_stream=7919, **override).generate(seed, size)


def _group_indices(problem: Problem, group_by: str, group: str) -> list[int]:
    if not group_by or group == "all":
        return list(range(len(problem)))
    return [
        i
        for i, r in enumerate(problem.requests)
        if r.meta is not None and str(r.meta.get(group_by)) == group
    ]


def group_values(problem: Problem, key: str) -> list[str]:
    """Distinct ``meta[key]`` values of an instance, as strings, sorted (numbers numerically)."""
    vals = {r.meta.get(key) for r in problem.requests if r.meta is not None and key in r.meta}
    vals.discard(None)

    def sort_key(v: Any) -> tuple[int, float, str]:
        return (0, float(v), "") if isinstance(v, (int, float)) else (1, 0.0, str(v))

    return [str(v) for v in sorted(vals, key=sort_key)]


def _transform(chain: Chain, sla_scale: float, uplink_scale: float, memory_frac: float) -> Chain:
    changes: dict[str, object] = {}
    if sla_scale != 1.0:
        changes["sla_s"] = chain.sla_s * sla_scale
    if uplink_scale != 1.0:
        changes["uplink_s"] = chain.uplink_s * uplink_scale
    if memory_frac >= 0:
        changes["memory_budget_bytes"] = float(memory_frac * chain.client_memory_bytes.sum())
    return chain.replace(**changes) if changes else chain


@lru_cache(maxsize=16)
def sub_instance(
    family: str,
    seed: int,
    size: str,
    options: str = "",
    group_by: str = "",
    group: str = "all",
    sla_scale: float = 1.0,
    uplink_scale: float = 1.0,
    memory_frac: float = -1.0,
) -> Problem:
    """The requests of one group of an instance, with the sweep transforms applied.

    ``sla_scale`` multiplies each SLA; ``uplink_scale`` multiplies each uplink
    transfer time (bandwidth divided by it, when delays are negligible);
    ``memory_frac`` ≥ 0 sets each client memory budget to that fraction of the
    memory all layers would need on the client (−1: keep the instance's budgets).
    """
    base = instance(family, seed, size, options)
    idx = _group_indices(base, group_by, group)
    if not idx:
        raise ValueError(f"no request of {family} seed {seed} has {group_by} = {group!r}")
    p = base.subset(idx, name=f"{base.name}[{group_by}={group}]" if group_by else base.name)
    if sla_scale != 1.0 or uplink_scale != 1.0 or memory_frac >= 0:
        p = p.with_chains([_transform(c, sla_scale, uplink_scale, memory_frac) for c in p.chains])
    return p


_SOLVED: dict[tuple, Any] = {}


def grid_column(grid: int) -> Discretisation:
    """The discretisation of a CSV ``grid`` column: N ticks per SLA, where the
    column's ``0`` labels the per-chain default (``Discretisation()``). The one place
    this CSV label is read; solvers see only :class:`Discretisation`."""
    return Discretisation() if not grid else Discretisation(grid=int(grid))


def solved(problem: Problem, solver: str, discretisation: Discretisation | None = None) -> Any:
    """``solver``'s :class:`~splitopt.solution.Result` for ``problem`` (cached per process);
    ``discretisation`` applies to ``dp`` (``None``: the default)."""
    from splitopt.solvers import get_solver

    d = discretisation if discretisation is not None and solver == "dp" else Discretisation()
    key = (id(problem), solver, d)
    hit = _SOLVED.get(key)
    if hit is not None and hit[0] is problem:
        return hit[1]
    opts: dict[str, object] = d.to_options() if solver == "dp" else {}
    res = get_solver(solver, **opts).solve(problem)
    if len(_SOLVED) > 64:
        _SOLVED.clear()
    _SOLVED[key] = (problem, res)
    return res


def describe(problem: Problem) -> dict[str, Scalar]:
    """Descriptor columns of a (sub-)instance: sizes, SLA, and every scalar ``meta`` key
    (its value when all requests share it, ``lo..hi`` for differing numbers,
    ``k values`` for differing strings)."""
    chains = problem.chains
    layers = [c.num_layers for c in chains]
    slas = [r.chain.sla_s for r in problem.requests]
    row: dict[str, Scalar] = {
        "requests": len(problem),
        "distinct_chains": len(chains),
        "layers_mean": float(np.mean(layers)),
        "layers_max": int(max(layers)),
        "sla_s_mean": float(np.mean(slas)),
        # the SLAs as the chains hold them (after any sweep transform)
        "sla_s_range": f"{min(slas)}..{max(slas)}" if min(slas) < max(slas) else slas[0],
        "work_unit": problem.work_unit,
        "weight_total": float(problem.weights.sum()),
        "memory_budgeted": sum(r.chain.memory_budget_bytes is not None for r in problem.requests),
    }
    keys: dict[str, None] = {}
    for r in problem.requests:
        if r.meta:
            keys.update(dict.fromkeys(r.meta))
    for k in keys:
        vals = [r.meta.get(k) for r in problem.requests if r.meta is not None]
        vals = [v for v in vals if v is not None and isinstance(v, (str, int, float, bool))]
        if not vals:
            continue
        uniq = sorted(set(vals), key=str)
        if len(uniq) == 1:
            row[f"meta_{k}"] = uniq[0]
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in uniq):
            row[f"meta_{k}"] = f"{min(uniq)}..{max(uniq)}"
        else:
            row[f"meta_{k}"] = f"{len(uniq)} values"
    return row


def split_outcomes(problem: Problem, solver: str, grid: int = 0) -> dict[str, Scalar]:
    """Outcome columns of ``solver`` on ``problem``: feasibility counts, work,
    reduction versus server-only and gains over each baseline of :data:`COMPARE`."""
    from splitopt.metrics import gain, summarize

    res = solved(problem, solver, grid_column(grid))
    s = summarize(res)
    so = solved(problem, "server-only")
    ev, so_ev = res.evaluation, so.evaluation
    both = ev.feasible & so_ev.feasible
    w = ev.weights
    statuses = res.statuses
    row: dict[str, Scalar] = {
        "feasible": s.feasible,
        "infeasible": s.infeasible,
        "optimal": sum(st == "optimal" for st in statuses),
        "errors": sum(st == "error" for st in statuses),
        "server_work": s.objective,
        "server_only_work": s.server_only_work,
        "server_only_infeasible": s.server_only_infeasible,
        "reduction": s.reduction_vs_server_only,
        "common_server_only": int(both.sum()),
        "sum_work_common_server_only": float(np.dot(w[both], ev.server_work[both])),
        "sum_base_common_server_only": float(np.dot(w[both], so_ev.server_work[both])),
        "mean_latency_s": s.mean_latency_s,
        "solve_runtime_s": res.runtime_s,
    }
    for b in COMPARE:
        br = solved(problem, b)
        g = gain(res, br)
        common = res.evaluation.feasible & br.evaluation.feasible
        c = col(b)
        row[f"feasible_{c}"] = int(br.evaluation.feasible.sum())
        row[f"gain_work_{c}"] = g.work_gain
        row[f"gain_tput_{c}"] = g.throughput_gain
        row[f"common_{c}"] = g.common
        row[f"sum_work_common_{c}"] = float(np.dot(w[common], ev.server_work[common]))
        row[f"sum_base_common_{c}"] = float(np.dot(w[common], br.evaluation.server_work[common]))
    return row


# ---------------------------------------------------------------- runners


def run_split(
    family: str,
    seed: int,
    size: str,
    solver: str,
    group_by: str = "",
    group: str = "all",
    grid: int = 0,
    sla_scale: float = 1.0,
    uplink_scale: float = 1.0,
    memory_frac: float = -1.0,
    options: str = "",
    **_: Scalar,
) -> dict[str, Scalar]:
    """One solver on one (sub-)instance: descriptors + :func:`split_outcomes`.
    Extra keyword parameters (``sweep``, ``repetition``) only label the row."""
    p = sub_instance(
        family, seed, size, options, group_by, group, sla_scale, uplink_scale, memory_frac
    )
    return {**describe(p), **split_outcomes(p, solver, grid)}


def service_times(
    problem: Problem, splitter: str, capacity: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-request server work under ``splitter``, its service time W / capacity
    (seconds) and whether the request is feasible for it."""
    res = solved(problem, splitter)
    work = np.asarray(res.evaluation.server_work, dtype=float)
    return work, work / capacity, np.asarray(res.evaluation.feasible, dtype=bool)


@lru_cache(maxsize=8)
def _sim_setup(family: str, seed: int, size: str, options: str, capacity: float) -> dict[str, Any]:
    """The classes feasible for every splitter, their probabilities and service times."""
    from splitopt.experiments.simulation import DEFAULT_CAPACITY

    p = instance(family, seed, size, options)
    cap = capacity if capacity > 0 else DEFAULT_CAPACITY[p.work_unit]
    per = {s: service_times(p, s, cap) for s in SPLITTERS}
    keep = np.logical_and.reduce([per[s][2] for s in SPLITTERS])
    w = p.weights
    probs = w[keep] / w[keep].sum()
    return {
        "problem": p,
        "capacity": cap,
        "keep": keep,
        "probs": probs,
        "service": {s: per[s][1][keep] for s in SPLITTERS},
        "so_mean_service": float(np.dot(probs, per["server-only"][1][keep])),
    }


def run_simulation(
    family: str,
    seed: int,
    size: str,
    splitter: str,
    mode: str,
    rate_norm: float = 0.0,
    customers: int = 100_000,
    sim_seed: int = 0,
    wait_factor: float = 10.0,
    capacity: float = 0.0,
    options: str = "",
    **_: Scalar,
) -> dict[str, Scalar]:
    """Queueing run of experiment (d).

    ``mode="rate"``: simulate at λ = rate_norm / E[S_server-only] (so rate_norm = 1
    saturates the server under server-only). ``mode="sustainable"``: the highest
    sustainable rate, threshold θ = ``wait_factor`` × E[S_server-only].
    ``capacity`` in work units per second (0: the default of
    :data:`~splitopt.experiments.simulation.DEFAULT_CAPACITY`).
    """
    from splitopt.experiments import simulation as sim

    st = _sim_setup(family, seed, size, options, capacity)
    s, p = st["service"][splitter], st["probs"]
    so_es = st["so_mean_service"]
    threshold = wait_factor * so_es
    row: dict[str, Scalar] = {
        **describe(st["problem"]),
        "classes_used": int(st["keep"].sum()),
        "classes_dropped": int((~st["keep"]).sum()),
        "capacity_per_s": st["capacity"],
        "mean_service_s": float(np.dot(p, s)),
        "so_mean_service_s": so_es,
        "threshold_s": threshold,
        "rate_util_per_s": 1.0 / float(np.dot(p, s)),
    }
    if mode == "rate":
        rate = rate_norm / so_es
        r = sim.simulate(s, p, rate, customers, sim_seed)
        row.update(
            rate_per_s=rate,
            utilisation=r.utilisation,
            stable=r.utilisation < 1,
            mean_wait_s=r.mean_wait_s,
            p95_wait_s=r.p95_wait_s,
            mean_sojourn_s=r.mean_sojourn_s,
            pk_mean_wait_s=sim.mg1_mean_wait(rate, s, p),
        )
    elif mode == "sustainable":
        rate, _bound = sim.sustainable_rate(s, p, threshold, customers, sim_seed)
        row.update(sustainable_rate_per_s=rate, sustainable_rate_norm=rate * so_es)
    else:
        raise ValueError(f"unknown simulation mode {mode!r}")
    return row


_WARM: set[str] = set()


def _random_problem(layers: int, requests: int, seed: int) -> Problem:
    from splitopt.families.random_chain import random_chain

    rng = np.random.default_rng(seed)
    reqs = [
        Request(id=f"r{i}", chain=random_chain(rng, layers, memory=False)) for i in range(requests)
    ]
    return Problem(name=f"speed-L{layers}-n{requests}-s{seed}", requests=tuple(reqs))


def run_speed(
    solver: str,
    layers: int,
    grid: int,
    requests: int,
    seed: int,
    repeats: int = 1,
    time_limit: float = 60.0,
    **_: Scalar,
) -> dict[str, Scalar]:
    """Runtime of ``solver`` on ``requests`` random chains of ``layers`` layers
    (``grid`` ticks per SLA for grid solvers). Best of ``repeats`` solves, seconds;
    a warm-up solve first so JIT compilation is not timed."""
    from splitopt.solvers import available, get_solver

    if not available(solver):
        raise RuntimeError(f"solver {solver} is not available here")
    opts: dict[str, object] = {"time_limit": time_limit}
    if solver == "dp":
        opts["grid"] = grid
    if solver not in _WARM:
        get_solver(solver, **opts).solve(_random_problem(6, 2, 12345))
        _WARM.add(solver)
    problem = _random_problem(layers, requests, seed)
    best = math.inf
    res = None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        res = get_solver(solver, **opts).solve(problem)
        best = min(best, time.perf_counter() - t0)
    assert res is not None
    return {
        "solve_runtime_s": best,
        "runtime_per_request_s": best / requests,
        "objective": res.objective,
        "feasible": int(res.evaluation.feasible.sum()),
        "time_limited": sum(s == "time_limit" for s in res.statuses),
        "status": res.status,
    }


def run_discretisation(
    family: str, seed: int, size: str, grid: int, options: str = "", **_: Scalar
) -> dict[str, Scalar]:
    """Discretisation gap of the grid DP at ``grid`` ticks per SLA against the
    exact label DP, on the requests feasible for both: (W_dp − W_exact) / W_exact;
    also how many requests are feasible exactly but not on the grid."""
    p = instance(family, seed, size, options)
    dp = solved(p, "dp", grid_column(grid))
    ex = solved(p, "dp-exact")
    both = dp.evaluation.feasible & ex.evaluation.feasible
    w = p.weights
    wd = float(np.dot(w[both], dp.evaluation.server_work[both]))
    we = float(np.dot(w[both], ex.evaluation.server_work[both]))
    per = np.where(
        ex.evaluation.server_work[both] > 0,
        dp.evaluation.server_work[both] / np.maximum(ex.evaluation.server_work[both], 1e-300) - 1,
        0.0,
    )
    return {
        **describe(p),
        "feasible_dp": int(dp.evaluation.feasible.sum()),
        "feasible_exact": int(ex.evaluation.feasible.sum()),
        "lost_on_grid": int((ex.evaluation.feasible & ~dp.evaluation.feasible).sum()),
        "gap": (wd - we) / we if we > 0 else 0.0,
        "gap_max_request": float(per.max()) if per.size else 0.0,
        "dp_runtime_s": dp.runtime_s,
        "exact_runtime_s": ex.runtime_s,
    }


# ---------------------------------------------------------------- the experiments


def _family_groups(family: str, seed: int, size: str, key: str) -> list[str]:
    return group_values(instance(family, seed, size), key)


def _headline_tasks(
    name: str, seed: int, repetitions: int, quick: bool, solvers: tuple[str, ...]
) -> Iterator[Task]:
    size = "small" if quick else "medium"
    for rep in range(repetitions):
        s = seed + rep
        groups = [*_family_groups("paper-like", s, size, "model_family"), "all"]
        for g in groups:
            for solver in solvers:
                yield Task.make(
                    name,
                    f"{_RUNNERS}:run_split",
                    family="paper-like",
                    seed=s,
                    size=size,
                    repetition=rep,
                    group_by="model_family",
                    group=g,
                    solver=solver,
                )


@experiment(
    "reduction", "(a) server-work reduction versus server-only per model family (paper-like)"
)
def reduction(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Every splitter's reduction versus server-only, per model family and overall."""
    yield from _headline_tasks(
        "reduction",
        seed,
        repetitions,
        quick,
        ("dp", "dp-exact", "greedy", "greedy-ratio", "best-cut"),
    )


@experiment(
    "gain", "(b) gain of the DP over greedy, greedy-ratio and best-cut per family (paper-like)"
)
def gain_experiment(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """The DP's (grid and exact) gain over each baseline, per model family and overall."""
    yield from _headline_tasks("gain", seed, repetitions, quick, ("dp", "dp-exact"))


#: Sweep values of experiment (c). Scales are relative to the instance's own values.
SWEEPS: dict[str, tuple[str, list[float]]] = {
    "sla": ("sla_scale", [0.5, 0.75, 1.0, 1.5, 2.0, 3.0]),
    "uplink": ("uplink_scale", [4.0, 2.0, 1.0, 0.5, 0.25, 0.125]),
    "memory": ("memory_frac", [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]),
}
#: Sweeps that rebuild the instance with one descriptor set for every request
#: (see :func:`overridden_instance`); device values are llm-edge client names.
OVERRIDE_SWEEPS: dict[str, tuple[str, list[Any]]] = {
    "prompt": ("prompt_tokens", [16, 64, 256, 1024, 4096]),
    "output": ("output_tokens", [1, 8, 32, 128, 512]),
    "device": (
        "client",
        [
            "pi5-wifi5",
            "phone-lte",
            "phone-5g",
            "orin-nano-wifi5",
            "laptop-m2-wifi6",
            "laptop-m3-wifi6",
            "rtx3060-1gbe",
            "rtx4090-1gbe",
            "agx-orin-1gbe",
        ],
    ),
}
SWEEP_SOLVERS: tuple[str, ...] = ("dp", "greedy", "best-cut")


@experiment(
    "sweeps", "(c) sweeps of prompt/output length, SLA, uplink, client device and memory (llm-edge)"
)
def sweeps(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Reduction and gains as one parameter varies. SLA, uplink and memory are
    varied by transforming every request; prompt length, output length and client
    device by rebuilding the instance with that descriptor fixed for every
    request (SLAs recalibrated, see :func:`overridden_instance`)."""
    size = "small" if quick else "medium"
    for rep in range(repetitions):
        s = seed + rep
        for sweep, (param, values) in SWEEPS.items():
            for v in values:
                for solver in SWEEP_SOLVERS:
                    yield Task.make(
                        "sweeps",
                        f"{_RUNNERS}:run_split",
                        sweep=sweep,
                        family="llm-edge",
                        seed=s,
                        size=size,
                        repetition=rep,
                        solver=solver,
                        value=float(v),
                        **{param: float(v)},
                    )
        for sweep, (key, values) in OVERRIDE_SWEEPS.items():
            for v in values:
                for solver in SWEEP_SOLVERS:
                    yield Task.make(
                        "sweeps",
                        f"{_RUNNERS}:run_split",
                        sweep=sweep,
                        family="llm-edge",
                        seed=s,
                        size=size,
                        repetition=rep,
                        solver=solver,
                        value=v,
                        options=json.dumps({"override": {key: v}}, sort_keys=True),
                    )


@experiment(
    "throughput", "(d) server queueing: waits versus arrival rate, sustainable rates (paper-like)"
)
def throughput(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """M/G/1 simulation of the server under server-only, greedy and DP splits."""
    size = "small" if quick else "medium"
    customers = 50_000 if quick else 400_000
    rates = (
        [round(0.1 * k, 2) for k in range(1, 31)]
        if not quick
        else [
            0.1,
            0.2,
            0.3,
            0.4,
            0.5,
            0.6,
            0.7,
            0.8,
            0.9,
            0.95,
            1.0,
            1.1,
            1.2,
            1.3,
            1.4,
            1.5,
        ]
    )
    for rep in range(repetitions):
        s = seed + rep
        for splitter in SPLITTERS:
            common = dict(
                family="paper-like",
                seed=s,
                size=size,
                repetition=rep,
                splitter=splitter,
                customers=customers,
                sim_seed=s,
            )
            yield Task.make(
                "throughput", f"{_RUNNERS}:run_simulation", mode="sustainable", **common
            )
            for r in rates:
                yield Task.make(
                    "throughput", f"{_RUNNERS}:run_simulation", mode="rate", rate_norm=r, **common
                )


SPEED_SOLVERS: tuple[str, ...] = ("dp", "dp-exact", "ilp-highs", "ilp-cbc", "ilp-cpsat", "ilp-scip")


@experiment(
    "runtime", "(e) runtime scaling with layers, grid size and number of requests", serial=True
)
def runtime(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Wall-clock seconds of each exact solver on random chains (no memory budget).

    ``dp`` runs on ``grid`` ticks per SLA; ``dp-exact`` and the ILPs solve the
    real data (the ILPs' default exact mode). One axis varies at a time around
    32 layers, grid 1000, 4 requests."""
    from splitopt.solvers import available

    layers = [8, 16, 32, 64, 128, 256] if quick else [8, 16, 32, 64, 128, 256, 512]
    grids = (
        [100, 300, 1000, 3000, 10000, 30000]
        if quick
        else [100, 300, 1000, 3000, 10000, 30000, 100000]
    )
    counts = [1, 4, 16, 64] if quick else [1, 4, 16, 64, 256]
    ilp_max = 64 if quick else 256
    repeats = 1 if quick else 3
    solvers = [s for s in SPEED_SOLVERS if s in ("dp", "dp-exact") or available(s)]
    for rep in range(repetitions):
        s = seed + rep
        for axis, values in (("layers", layers), ("grid", grids), ("requests", counts)):
            for v in values:
                for solver in solvers:
                    if axis == "grid" and solver != "dp":
                        continue
                    if solver.startswith("ilp") and axis in ("layers", "requests") and v > ilp_max:
                        continue
                    if solver.startswith("ilp") and axis == "requests" and quick and v > 16:
                        continue
                    params: dict[str, Scalar] = {"layers": 32, "grid": 1000, "requests": 4}
                    params[axis] = v
                    yield Task.make(
                        "runtime",
                        f"{_RUNNERS}:run_speed",
                        axis=axis,
                        solver=solver,
                        seed=s,
                        repetition=rep,
                        repeats=repeats,
                        **params,
                    )


@experiment("discretisation", "(f) discretisation gap of the grid DP against the exact DP")
def discretisation(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Gap of ``dp`` at grid N against ``dp-exact`` on random-chain and llm-edge instances."""
    # 0 = the solver's default grid (100 (2L + 1) ticks, see splitopt.discretise.default_grid)
    grids = [10, 30, 100, 300, 1000, 3000, 10000, 0]
    size = "small" if quick else "medium"
    for rep in range(repetitions):
        for family in ("random-chain", "llm-edge"):
            for g in grids:
                yield Task.make(
                    "discretisation",
                    f"{_RUNNERS}:run_discretisation",
                    family=family,
                    seed=seed + rep,
                    size=size,
                    repetition=rep,
                    grid=g,
                )


@experiment("smoke", "a tiny random-chain experiment for tests: dp and baselines on 3 seeds")
def smoke(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Cheap rows (random-chain tiny) used by the harness tests."""
    for rep in range(repetitions):
        for k in range(3):
            for solver in ("dp", "greedy", "best-cut"):
                yield Task.make(
                    "smoke",
                    f"{_RUNNERS}:run_split",
                    family="random-chain",
                    seed=seed + 10 * rep + k,
                    size="tiny",
                    repetition=rep,
                    solver=solver,
                )


def run_sleepy(index: int, delay: float = 0.0, **_: Scalar) -> dict[str, Scalar]:
    """Test runner: waits ``delay`` seconds and returns a value derived from ``index``."""
    time.sleep(delay)
    return {"value": index * index, "half": index / 2}


@experiment("sleepy", "test-only: rows that take a while, to test kill-and-resume")
def sleepy(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """``20 × repetitions`` rows of 0.1 s each."""
    for i in range(20 * repetitions):
        yield Task.make("sleepy", f"{_RUNNERS}:run_sleepy", index=seed + i, delay=0.1)
