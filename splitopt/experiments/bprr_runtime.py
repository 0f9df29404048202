"""Algorithm runtimes, the MILP lower bound and the ablations of the BPRR reproduction
(the paper's Table VIII, and "the MILP (offline) as the lower bound").

Three experiments in the harness (CSV rows, resumable):

* ``bprr-runtime`` (serial: timings) — per (scenario, lambda, l_out, run, algorithm) the
  wall time of one policy's *placement step* (``prepare``: cg-bp with the paper's rule
  for R, petals, gbp-cr with its c search + GCA, sim-opt's R search) or of the exact
  MILP (``bprr-milp`` on HiGHS with R = the paper's design R concurrent requests, time
  limited; ``bprr-milp-1`` with one request per class), and per-request *routing*
  times (ws-rr on cg-bp, petals routing on petals, jffc on gbp-cr's chains).
  Placement steps: median of ``repeats`` timed calls after one untimed warm-up call
  (numba's cached kernels loaded, sim-opt's memo cleared before every call). Routing:
  a 100-request run's time (the paper's N_R; the least over ``repeats`` samples of 20
  runs) divided by 100: per request, an upper bound on the routing decision, as it
  includes the run's set-up and the simulator's event bookkeeping. Also recorded: the
  marginal time (t(100) - t(1)) / 99, which removes the set-up but is below the timer's
  resolution on a loaded machine for the fast paths (it can come out <= 0).
* ``bprr-bound`` — per (scenario, l_out, run) the MILP lower bound: the BPRR MILP with
  one request of each class alone (exact, scored by the evaluator), and the no-wait
  bound of :func:`splitopt.placement.online.lower_bound_time` beside it.
* ``bprr-ablation`` — the paper's ablations (PETALS with CG-BP's order, with CG-BP's
  block counts, with WS-RR routing) beside PETALS and CG-BP + WS-RR; a quick-sized
  subset of ``bprr-tables`` for ``make paper``.

Why the MILP with one request is a lower bound (ours). Every policy here keeps one
placement for the whole run and admits a request only when its cache fits on every
server of its route, so at its admission the route satisfies s_m m_j + s_c k_j <= M_j
(the MILP's memory row with this request alone), hosts contiguous ranges within the
caps and visits each server once. Its service time is the evaluator's T_r on that route,
which is the MILP's objective for that one request; so T_r >= OPT_1(class), and
per-token time = (wait + T_r) / l_out >= OPT_1 / l_out for every request of every
policy, with or without the authors' delays. The no-wait bound is a relaxation of the
same problem (servers may be used twice), so no-wait <= MILP bound. The MILP with R
concurrent requests (the offline problem, ``bprr-milp`` rows) is *not* a lower bound of
the online metric: online, fewer than R requests are usually in the system and each
can then take a faster route; it is reported as a reference only.

    python -m splitopt.experiments.bprr_runtime --quick     # the three CSVs
    python -m splitopt.experiments.bprr_report --quick      # tables, LaTeX, macros
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from splitopt.experiments.harness import Task, experiment
from splitopt.experiments.online import NUM_SERVERS, SCENARIOS, _cluster, rate_tasks

_RUNTIME = "bprr-runtime"  # registered names (experiments.harness)
_BOUND = "bprr-bound"

#: Placement steps timed (the policy whose ``prepare`` is timed).
PLACEMENT_ALGOS = {
    "cg-bp": "cg-bp+ws-rr",
    "petals": "petals+petals",
    "gbp-cr+gca": "gbp-cr+jffc",
    "sim-opt": "sim-opt+ws-rr",
}
#: Routings timed per request, with the placement they run on.
ROUTING_ALGOS = {"ws-rr": "cg-bp+ws-rr", "petals-routing": "petals+petals", "jffc": "gbp-cr+jffc"}
MILP_ALGOS = ("bprr-milp", "bprr-milp-1")
ALGORITHMS = (*PLACEMENT_ALGOS, *MILP_ALGOS, *ROUTING_ALGOS)
RUNTIME_RATES = (0.1, 0.5)
#: Requests of the two runs whose difference gives the marginal routing time.
ROUTING_N = (1, 100)
#: The MILP's time limit (s) for R concurrent requests: quick / full.
MILP_TIME_LIMIT = {True: 15.0, False: 60.0}
#: The MILP's time limit (s) for one request alone (it proves optimality in < 1 s here).
MILP1_TIME_LIMIT = 60.0
#: ... in the bound rows (s): only a proved optimum bounds anything, and the limit is a
#: wall time, so it is wide enough for a loaded machine (on 2 cores shared with a load
#: of 15 the 60 s limit left 17 of 80 solves unproved); it only guards a stuck solve.
BOUND_TIME_LIMIT = 900.0


def _median_time(fn: Any, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(statistics.median(ts))


def _batch_min_time(fn: Any, repeats: int, batch: int = 20) -> float:
    """Seconds per call: the least over ``repeats`` samples of ``batch`` calls each (the
    minimum is the usual estimate for short calls on a shared machine)."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        best = min(best, (time.perf_counter() - t0) / batch)
    return best


def _milp_jobs(classes: tuple, n: int) -> list:
    """``n`` concurrent requests, the classes taken in turn (ours)."""
    return [classes[i % len(classes)] for i in range(n)]


def solve_milp(cluster: Any, jobs: list, time_limit: float) -> dict[str, Any]:
    """The BPRR MILP (HiGHS) on ``jobs``; status, wall time and the evaluator's mean
    per-token time (only the evaluator's score is reported, never the solver's)."""
    from splitopt.errors import SolverError
    from splitopt.placement.milp import BPRRMilp

    t0 = time.perf_counter()
    try:
        res = BPRRMilp(time_limit=time_limit).solve(cluster.with_jobs(jobs))
    except SolverError as exc:  # more hop arcs than the MILP builds
        return {"status": "refused", "message": str(exc), "wall_s": math.nan}
    wall = time.perf_counter() - t0
    feasible = res.feasible and res.status in ("optimal", "feasible")
    return {
        "status": res.status,
        "wall_s": wall,
        "per_token": float(res.score.mean_per_token_s) if feasible and res.score else math.nan,
        "total_s": float(res.objective) if feasible else math.nan,
    }


def runtime_row(
    scenario: str,
    rate: float,
    l_out: int,
    algorithm: str,
    run: int,
    repeats: int = 5,
    milp_time_limit: float = 60.0,
    num_requests: int = 100,
) -> dict[str, Any]:
    """One timing row (seconds); see the module docstring for what is timed."""
    from splitopt.placement import online as on
    from splitopt.placement.simulate import Workload

    cluster = _cluster(scenario, run, l_out, NUM_SERVERS)
    wl = Workload.from_cluster(cluster, rate_per_s=rate, num_requests=num_requests)
    R = on.design_R(cluster, wl)
    row: dict[str, Any] = {"R": R, "servers": cluster.num_servers}
    if algorithm in PLACEMENT_ALGOS:
        policy = PLACEMENT_ALGOS[algorithm]

        def once() -> None:
            on._SIM_OPT_CACHE.clear()
            on.prepare(cluster, wl, policy, run)

        once()  # warm-up (numba cache, imports)
        row["wall_s"] = _median_time(once, repeats)
        prep = on.prepare(cluster, wl, policy, run)
        for key in ("R", "c", "chains"):
            if key in prep.info:
                row[f"chosen_{key}"] = prep.info[key]
        row["status"] = "ok"
    elif algorithm in MILP_ALGOS:
        n = R if algorithm == "bprr-milp" else len(wl.classes)
        limit = milp_time_limit if algorithm == "bprr-milp" else MILP1_TIME_LIMIT
        out = solve_milp(cluster, _milp_jobs(wl.classes, n), limit)
        row.update({"requests": n, "time_limit_s": limit})
        row.update(out)
        row.pop("message", None)
    elif algorithm in ROUTING_ALGOS:
        prep = on.prepare(cluster, wl, ROUTING_ALGOS[algorithm], run)
        times = []
        waits = []
        for n in ROUTING_N:
            w = Workload(rate, n, wl.classes)
            on.run_prepared(cluster, w, prep, run)  # warm-up
            times.append(
                _batch_min_time(lambda w=w: on.run_prepared(cluster, w, prep, run), repeats)
            )
            waits.append(float(np.mean(on.run_prepared(cluster, w, prep, run).wait)))
        row["run_one_s"] = times[0]
        row["run_s"] = times[1]
        row["wall_s"] = times[1] / ROUTING_N[1]
        row["marginal_s"] = (times[1] - times[0]) / (ROUTING_N[1] - ROUTING_N[0])
        row["wait_mean"] = waits[1]
        row["status"] = "ok"
    else:
        from splitopt.errors import ExperimentError

        raise ExperimentError(f"unknown algorithm {algorithm!r}; valid: {', '.join(ALGORITHMS)}")
    return row


@experiment(
    "bprr-runtime",
    "BPRR Table VIII: placement and MILP wall times, per-request routing times",
    serial=True,
)
def bprr_runtime(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Runs seed.. (2 quick, 10 full) x repetitions per (scenario, lambda, algorithm),
    l_out = 128; the MILP with R requests on the clustered scenario's first run only
    when quick (one solve per lambda; its cluster is the same in every run)."""
    runs = (2 if quick else 10) * repetitions
    for scenario in SCENARIOS:
        for rate in RUNTIME_RATES:
            for algorithm in ALGORITHMS:
                for r in range(seed, seed + runs):
                    if (
                        algorithm == "bprr-milp"
                        and quick
                        and (scenario != "clustered" or r != seed)
                    ):
                        continue
                    yield Task.make(
                        "bprr-runtime",
                        _RUNTIME,
                        scenario=scenario,
                        rate=rate,
                        l_out=128,
                        algorithm=algorithm,
                        run=r,
                        repeats=3 if quick else 5,
                        milp_time_limit=MILP_TIME_LIMIT[quick],
                    )


def bound_row(scenario: str, l_out: int, run: int, num_requests: int = 100) -> dict[str, Any]:
    """The per-token lower bounds of one run (s): ``milp_bound`` (the MILP with each
    class alone, evaluator-scored, averaged over the run's sampled classes) and
    ``nowait_bound`` (the relaxation). The class draw of a run does not depend on the
    rate (the arrival gaps take the same number of random draws), so one row serves
    both rates."""
    from splitopt.placement.online import lower_bound_time
    from splitopt.placement.simulate import Workload

    cluster = _cluster(scenario, run, l_out, NUM_SERVERS)
    wl = Workload.from_cluster(cluster, rate_per_s=0.1, num_requests=num_requests)
    _, cls = wl.sample(run)
    milp, nowait, statuses, wall = [], [], [], 0.0
    for job in wl.classes:
        out = solve_milp(cluster, [job], BOUND_TIME_LIMIT)
        statuses.append(out["status"])
        wall += out["wall_s"]
        # only a proved optimum bounds anything
        milp.append(out["total_s"] / job.l_out if out["status"] == "optimal" else math.nan)
        nowait.append(lower_bound_time(cluster, job) / job.l_out)
    m, nw = np.array(milp), np.array(nowait)
    return {
        "milp_status": "optimal" if all(s == "optimal" for s in statuses) else ",".join(statuses),
        "milp_bound": float(m[cls].mean()),
        "nowait_bound": float(nw[cls].mean()),
        "milp_wall_s": wall,
        "classes": len(wl.classes),
    }


@experiment("bprr-bound", "BPRR: the MILP lower bound (each request class alone) per run")
def bprr_bound(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """The runs of ``bprr-tables`` (5 quick, 10 full) x repetitions per (scenario, l_out)."""
    from splitopt.experiments.online import L_OUTS, TABLE_RUNS

    runs = TABLE_RUNS[1 if quick else 0] * repetitions
    for scenario in SCENARIOS:
        for l_out in L_OUTS:
            for r in range(seed, seed + runs):
                yield Task.make("bprr-bound", _BOUND, scenario=scenario, l_out=l_out, run=r)


ABLATION_POLICIES = (
    "petals+petals",
    "petals-cg-order+petals",
    "petals-cg-counts+petals",
    "petals-cg-order-paper+petals",
    "petals-cg-counts-paper+petals",
    "petals+ws-rr",
    "cg-bp+ws-rr",
)


@experiment("bprr-ablation", "BPRR ablations: PETALS with CG-BP's order / counts / WS-RR")
def bprr_ablation(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """5 runs quick (10 full, as ``bprr-tables``) x repetitions; clustered and AboveNet
    (quick), every scenario (full); lambda in {0.1, 0.5}, l_out = 128, no constant delays."""
    from splitopt.experiments.online import TABLE_RUNS

    runs = range(seed, seed + TABLE_RUNS[1 if quick else 0] * repetitions)
    scenarios = ("clustered", "abvt") if quick else SCENARIOS
    cells = [(sc, rate) for sc in scenarios for rate in (0.1, 0.5)]
    yield from rate_tasks("bprr-ablation", cells, ABLATION_POLICIES, runs)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from splitopt.experiments.harness import run

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--outdir", default="paper/generated")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument(
        "--experiment",
        action="append",
        choices=("bprr-runtime", "bprr-bound", "bprr-ablation"),
        help="which to run (default: all three)",
    )
    args = ap.parse_args(argv)
    names = args.experiment or ["bprr-bound", "bprr-ablation", "bprr-runtime"]
    suffix = "-quick" if args.quick else ""
    for name in names:
        out = f"{args.outdir}/{name.replace('-', '_')}{suffix}.csv"
        if name == "bprr-runtime" and args.quick:
            out = f"{args.outdir}/bprr_runtime.csv"  # the paper's generated table
        run(name, seed=0, quick=args.quick, out=out, workers=args.workers)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
