"""The SplitLLM experiments, (a)–(f): each yields the
:class:`~splitopt.experiments.harness.Task` objects of its runs; the runners
are in :mod:`splitopt.experiments.runners`, instances in
:mod:`splitopt.experiments.instances`, outcome columns in
:mod:`splitopt.experiments.outcomes`. Importing this module registers the
experiments with the harness (:func:`splitopt.experiments.harness.experiment`).

Quick sizes (``--quick``) are chosen so that all experiments together run in a
few minutes on two cores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from splitopt.experiments.confirmatory import run_confirmatory
from splitopt.experiments.harness import Scalar, Task, experiment
from splitopt.experiments.instances import family_groups
from splitopt.experiments.protocol import PROTOCOL_SETTINGS
from splitopt.experiments.runners import (
    SPLITTERS,
    run_calibration_impact,
    run_discretisation,
    run_simulation,
    run_speed,
    run_split,
)
from splitopt.experiments.speed import SOLVERS as SPEED_SOLVERS

#: Tasks name their runner through this module (which re-exports the runners of
#: :mod:`splitopt.experiments.runners`), so task keys, and with them the rows of
#: existing result files, stay what they were before the runners moved.
__all__ = [
    "run_calibration_impact",
    "run_confirmatory",
    "run_discretisation",
    "run_simulation",
    "run_speed",
    "run_split",
]


# ---------------------------------------------------------------- the experiments


def _headline_tasks(
    name: str, seed: int, repetitions: int, quick: bool, solvers: tuple[str, ...]
) -> Iterator[Task]:
    size = "small" if quick else "medium"
    for rep in range(repetitions):
        s = seed + rep
        groups = [*family_groups("paper-like", s, size, "model_family"), "all"]
        for g in groups:
            for solver in solvers:
                yield Task.make(
                    name,
                    "split",
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


#: The DP of the protocol's headline (every baseline is in its rows' columns).
PROTOCOL_SOLVER = "dp"


@experiment(
    "protocol",
    "pre-registered SplitLLM protocol (paper/PROTOCOL.md): setting P and its four declared sweeps",
)
def protocol(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """The DP on paper-like instances of setting P and of each sweep point, per
    model family and overall; every row carries the full accounting (served,
    only-DP, charged work) against every baseline (:mod:`splitopt.experiments.outcomes`)."""
    size = "small" if quick else "medium"
    for rep in range(repetitions):
        s = seed + rep
        for setting, (sweep, _, kw) in PROTOCOL_SETTINGS.items():
            options = json.dumps({"setting": kw}, sort_keys=True)
            groups = [*family_groups("paper-like", s, size, "model_family"), "all"]
            for g in groups:
                yield Task.make(
                    "protocol",
                    "split",
                    setting=setting,
                    sweep=sweep,
                    family="paper-like",
                    seed=s,
                    size=size,
                    repetition=rep,
                    group_by="model_family",
                    group=g,
                    solver=PROTOCOL_SOLVER,
                    options=options,
                )


#: The settings ``calibration-impact`` runs under both cost models: the protocol's
#: setting P (registered with the uncalibrated model) and the shipped paper-like
#: family (memory budgets on: the exploratory headline of experiments (a), (b)).
IMPACT_SETTINGS: tuple[str, ...] = ("P", "memory-on")


@experiment(
    "calibration-impact",
    "SplitLLM comparison under the calibrated and the pre-calibration uncalibrated cost model "
    "(protocol P and the shipped paper-like family), side by side",
)
def calibration_impact(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """The DP on the instances of protocol setting P and of the shipped family,
    each costed by both cost models (one row holds both), per model family and
    overall: the protocol's accounting under each, where the layers go and how
    many placements change (:func:`splitopt.experiments.runners.run_calibration_impact`).
    Sizes and seeds as the protocol: small, seeds 0-2 quick; medium, 0-9 full."""
    size = "small" if quick else "medium"
    for rep in range(repetitions):
        s = seed + rep
        groups = [*family_groups("paper-like", s, size, "model_family"), "all"]
        for setting in IMPACT_SETTINGS:
            for g in groups:
                yield Task.make(
                    "calibration-impact",
                    "calibration-impact",
                    setting=setting,
                    family="paper-like",
                    seed=s,
                    size=size,
                    repetition=rep,
                    group_by="model_family",
                    group=g,
                    solver=PROTOCOL_SOLVER,
                )


@experiment(
    "confirmatory",
    "confirmatory SplitLLM study (paper/PROTOCOL.md): setting P under both cost models, "
    "per-class charged work of the DP and every baseline (registered: --seed 1000 "
    "--repetitions 600)",
)
def confirmatory(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Setting P on seeds ``seed`` .. ``seed + repetitions - 1`` (the registration:
    1000-1599), one task per seed and cost model; rows keep per-class charged works
    for the two-level bootstrap of :mod:`splitopt.experiments.confirmatory`.
    ``quick`` (size small) is not part of the registration."""
    from splitopt.scenario.cost_models import COST_MODELS

    size = "small" if quick else "medium"
    for rep in range(repetitions):
        for model in COST_MODELS:
            yield Task.make(
                "confirmatory",
                "confirmatory",
                setting="P",
                family="paper-like",
                seed=seed + rep,
                size=size,
                repetition=rep,
                cost_model=model,
            )


#: Sweep values of experiment (c). Scales are relative to the instance's own values.
SWEEPS: dict[str, tuple[str, list[float]]] = {
    "sla": ("sla_scale", [0.5, 0.75, 1.0, 1.5, 2.0, 3.0]),
    "uplink": ("uplink_scale", [4.0, 2.0, 1.0, 0.5, 0.25, 0.125]),
    "memory": ("memory_frac", [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]),
}
#: Sweeps that rebuild the instance with one descriptor set for every request
#: (see :func:`splitopt.experiments.instances.overridden_instance`); device values
#: are llm-edge client names.
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
    request (SLAs recalibrated, see :func:`splitopt.experiments.instances.overridden_instance`)."""
    size = "small" if quick else "medium"
    for rep in range(repetitions):
        s = seed + rep
        for sweep, (param, values) in SWEEPS.items():
            for v in values:
                for solver in SWEEP_SOLVERS:
                    yield Task.make(
                        "sweeps",
                        "split",
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
                        "split",
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
            common: dict[str, Any] = dict(
                family="paper-like",
                seed=s,
                size=size,
                repetition=rep,
                splitter=splitter,
                customers=customers,
                sim_seed=s,
            )
            yield Task.make(
                "throughput", "simulation", mode="sustainable", **common
            )
            for r in rates:
                yield Task.make(
                    "throughput", "simulation", mode="rate", rate_norm=r, **common
                )


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
                        "speed",
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
                    "discretisation",
                    family=family,
                    seed=seed + rep,
                    size=size,
                    repetition=rep,
                    grid=g,
                )


# The many-server online reproduction lives in its own modules; importing them
# registers ``bprr-tables`` and ``bprr-load`` (online), the BPRR Figs 7-10 sweeps
# (``bprr-sweep-servers``, ``-eta``, ``-rate``, ``-lout``; bprr_sweeps), and the runtimes
# (Table VIII), the MILP lower bound and the ablations: ``bprr-runtime``, ``bprr-bound``,
# ``bprr-ablation`` (bprr_runtime); the joint model's DP checks ``joint-verify`` (joint_verify).
from splitopt.experiments import bprr_runtime as _bprr_runtime  # noqa: E402,F401
from splitopt.experiments import bprr_sweeps as _bprr_sweeps  # noqa: E402,F401
from splitopt.experiments import joint_verify as _joint_verify  # noqa: E402,F401
from splitopt.experiments import online as _online  # noqa: E402,F401


@experiment(
    "verify-placement",
    "bprr-milp on every backend == bprr-brute on tiny clusters (2,000 per repetition; quick: 50)",
)
def verify_placement(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """One row per tiny cluster ``(seed, index)``: brute force and the MILP on each
    backend, each scored by the evaluator; the ``disagreements`` column must be 0."""
    from splitopt.verify_placement import placement_tasks

    count = 50 if quick else 2000
    yield from placement_tasks("tiny", count * repetitions, seed)


@experiment(
    "verify-placement-wide",
    "bprr-milp on every backend vs bprr-brute on the wide-range cluster families "
    "(wide, edge, huge: 700 each per repetition, 10 s per solve; quick: 20 each)",
)
def verify_placement_wide(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """As ``verify-placement`` on :mod:`splitopt.families.clusters`' ``wide``, ``edge``
    and ``huge`` families; the ``false_optima`` column must be 0 (time limits are
    disagreements, not false claims). The 10 s limit per solve is ours."""
    from splitopt.verify_placement import BACKENDS, placement_tasks

    count = 20 if quick else 700
    for family in ("wide", "edge", "huge"):
        yield from placement_tasks(
            family, count * repetitions, seed, BACKENDS, 10.0, experiment="verify-placement-wide"
        )


# The SplitLLM comparison on the Azure trace's token lengths (``split-traces``).
from splitopt.experiments import split_traces as _split_traces  # noqa: E402,F401
