"""The runners of the experiments' tasks (module-level, so any worker process
can import them by name): each regenerates its instance from (family, seed,
size, ...) and returns one row of outcome columns.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

from splitopt.experiments.harness import Scalar
from splitopt.experiments.instances import instance, sub_instance
from splitopt.experiments.outcomes import (
    data_mode,
    describe,
    latency_columns,
    placement_changes,
    placement_columns,
    service_times,
    solved,
    split_outcomes,
)
from splitopt.experiments.protocol import PROTOCOL_SETTINGS
from splitopt.scenario.cost_models import CALIBRATED, COST_MODELS, figures_id

#: The splitters of the queueing experiment.
SPLITTERS: tuple[str, ...] = ("server-only", "greedy", "dp")


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
    return {**describe(p), **model_columns(family, options), **split_outcomes(p, solver, grid)}


def model_columns(family: str, options: str = "") -> dict[str, Scalar]:
    """``cost_model`` and ``cost_figures`` (:func:`~splitopt.scenario.cost_models.figures_id`)
    of a scenario family's instance built with ``options`` (none for random chains)."""
    if family == "random-chain":
        return {}
    opts = json.loads(options) if options else {}
    model = opts.get("cost_model") or (opts.get("setting") or {}).get("cost_model") or CALIBRATED
    return {"cost_model": model, "cost_figures": figures_id(model)}


#: Column prefixes of the two cost models in ``calibration-impact`` rows.
MODEL_PREFIX: dict[str, str] = {"calibrated": "cal_", "uncalibrated-roofline": "uncal_"}
#: The solvers whose placements ``calibration-impact`` describes.
IMPACT_SOLVERS: tuple[str, ...] = ("dp", "greedy")


def run_calibration_impact(
    family: str,
    seed: int,
    size: str,
    setting: str,
    solver: str = "dp",
    group_by: str = "",
    group: str = "all",
    **_: Scalar,
) -> dict[str, Scalar]:
    """One (sub-)instance of a protocol setting costed by both cost models: the
    outcome columns of :func:`split_outcomes`, :func:`placement_columns` and
    :func:`latency_columns` under each (prefixed ``cal_`` / ``uncal_``), then
    :func:`placement_changes` between them (unprefixed). Same draws under both
    models; each model's SLAs come from its own latencies by the same rule, so
    request i is the same request."""
    kw = PROTOCOL_SETTINGS[setting][2]
    row: dict[str, Scalar] = {}
    problems = {}
    for model in COST_MODELS:
        options = json.dumps({"setting": {**kw, "cost_model": model}}, sort_keys=True)
        p = sub_instance(family, seed, size, options, group_by, group)
        problems[model] = p
        if model == CALIBRATED:
            row.update(describe(p))
        pre = MODEL_PREFIX[model]
        row[f"{pre}cost_figures"] = figures_id(model)
        cols = {
            **split_outcomes(p, solver),
            **placement_columns(p, IMPACT_SOLVERS),
            **latency_columns(p),
        }
        row.update({f"{pre}{k}": v for k, v in cols.items()})
    a, b = (problems[m] for m in COST_MODELS)
    for s in IMPACT_SOLVERS:
        row.update(placement_changes(solved(b, s), solved(a, s), s))
    return row


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
        **model_columns(family, options),
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


def run_speed(
    solver: str,
    layers: int,
    grid: int,
    requests: int,
    seed: int,
    repeats: int = 1,
    time_limit: float = 60.0,
    mode: str = "",
    **_: Scalar,
) -> dict[str, Scalar]:
    """Runtime of ``solver`` on ``requests`` random chains of ``layers`` layers
    (no memory budget) under the speed protocol
    (:func:`splitopt.experiments.speed.time_chains`): each request solved
    alone, best of ``repeats``, after a warm-up. ``grid``: ticks per SLA in
    ticked mode; ``mode`` (default: ``dp`` ticked, the others real data).

    ``solve_runtime_s`` is the summed per-request time in seconds."""
    from splitopt.experiments.speed import random_chains, time_chains
    from splitopt.solvers import available

    if not available(solver):
        raise RuntimeError(f"solver {solver} is not available here")
    chains = random_chains(layers, requests, seed, memory=False)
    mode = mode or data_mode(solver)
    d = time_chains(solver, chains, mode, grid, repeats, time_limit)
    works = [w for w in d["works"] if w is not None]
    total_s = sum(d["times_ms"]) / 1e3
    return {
        "mode": mode,
        "solve_runtime_s": total_s,
        "runtime_per_request_s": total_s / requests,
        "median_ms": float(np.median(d["times_ms"])),
        "objective": float(sum(works)),
        "feasible": len(works),
        "time_limited": d["time_limited"],
    }


def run_discretisation(
    family: str, seed: int, size: str, grid: int, options: str = "", **_: Scalar
) -> dict[str, Scalar]:
    """One row of the discretisation study
    (:func:`splitopt.experiments.discretisation.discretisation_row`): gap of the
    grid DP at ``grid`` ticks per SLA (0: default grid) against the exact label DP."""
    from splitopt.experiments.discretisation import discretisation_row

    p = instance(family, seed, size, options)
    return {**describe(p), **model_columns(family, options), **discretisation_row(p, grid)}
