"""``verify-placement``: the BPRR MILP on every backend against brute force.

For each of ``count`` random clusters of a cluster family
(:mod:`splitopt.families.clusters`: ``tiny``, ``wide``, ``edge``, ``huge``; instance i
of seed S is drawn from ``numpy.random.default_rng([S, i])``, so any instance can be
regenerated alone), ``bprr-brute`` and ``bprr-milp`` on each backend solve it and
their answers are compared *as scored by the evaluator*:

* both infeasible, or
* both feasible with Σ_r T_r equal to :data:`OBJ_RTOL` relative,

and each MILP answer must have status ``optimal`` or ``infeasible`` (a ``feasible``,
``time_limit`` or ``error`` status counts as a disagreement, and so does a status that
does not match the evaluator's verdict). A *false optimum* (the worst kind) is an
``optimal`` whose objective is not brute force's, or an ``infeasible`` where brute
force found an answer; the report counts them apart, and the statuses per backend.

The instances run on the experiment harness (:func:`splitopt.experiments.harness.run_tasks`:
resumable CSV, process pool or Dask, progress), as the split half's ``verify`` does;
:func:`verify_instance` is the runner (one instance -> one flat row). The module is a
command, and ``splitopt experiment verify-placement`` runs the ``tiny`` family::

    python -m splitopt.verify_placement --family wide --count 2000 --seed 0 --csv wide.csv
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitopt.errors import UsageError, UserError
from splitopt.placement.result import PlacementResult

#: Objectives agree when equal to this relative tolerance.
OBJ_RTOL = 1e-6
#: Backends compared with brute force by default.
BACKENDS: tuple[str, ...] = ("highs", "cbc", "cpsat", "scip")
#: The runner's registered name (the harness's task identity; experiments.harness).
RUNNER = "verify-placement"


def agree(a: PlacementResult, b: PlacementResult) -> bool:
    """Both infeasible, or both feasible with equal Σ_r T_r (evaluator's, relative OBJ_RTOL)."""
    if a.feasible != b.feasible:
        return False
    if not a.feasible:
        return True
    return _close(a.objective, b.objective)


def _close(x: float, y: float) -> bool:
    return abs(x - y) <= OBJ_RTOL * max(abs(x), abs(y), 1e-300)


def _proper(res: PlacementResult) -> bool:
    """An exact answer: ``optimal`` with a feasible score, or ``infeasible``."""
    return (res.status == "optimal" and res.feasible) or (
        res.status == "infeasible" and not res.feasible
    )


def false_optimum(ref: PlacementResult, res: PlacementResult) -> bool:
    """``res`` claims an exact answer (``optimal``/``infeasible``) that brute force refutes."""
    if ref.status not in ("optimal", "infeasible"):
        return False  # no reference
    if res.status == "optimal":
        return not (ref.feasible and res.feasible and _close(ref.objective, res.objective))
    if res.status == "infeasible":
        return ref.feasible
    return False


def verify_instance(
    seed: int,
    index: int,
    backends: str = ",".join(BACKENDS),
    time_limit: float | None = None,
    family: str = "tiny",
) -> dict[str, Any]:
    """Brute force and the MILP on every backend on instance ``index`` of ``seed`` in
    cluster family ``family``.

    Returns one flat row: sizes, brute force's status/objective/runtime, per backend
    its status, objective, runtime, ``ok`` (agrees and is a proper exact answer) and
    ``false`` (a false optimum), ``disagreements`` and ``false_optima`` (how many
    backends).
    """
    from splitopt.families.clusters import cluster_instance
    from splitopt.placement.brute import BPRRBrute, count_placements
    from splitopt.placement.milp import BPRRMilp

    cluster = cluster_instance(family, seed, index)
    row: dict[str, Any] = {
        "servers": cluster.num_servers,
        "blocks": cluster.num_blocks,
        "jobs": len(cluster.jobs),
        "clients": cluster.num_clients,
        "placements": count_placements(cluster),
    }
    ref = BPRRBrute().solve(cluster)
    row.update(
        brute_status=ref.status, brute_objective=ref.objective, brute_runtime_s=ref.runtime_s
    )
    bad = false = 0
    for b in [x for x in backends.split(",") if x]:
        res = BPRRMilp(time_limit=time_limit, backend=b).solve(cluster)
        ok = agree(ref, res) and _proper(res) and _proper(ref)
        fo = false_optimum(ref, res)
        bad += not ok
        false += fo
        row.update(
            {
                f"{b}_status": res.status,
                f"{b}_objective": res.objective,
                f"{b}_runtime_s": res.runtime_s,
                f"{b}_ok": ok,
                f"{b}_false": fo,
                f"{b}_message": res.message or "",
            }
        )
    row["disagreements"] = bad
    row["false_optima"] = false
    return row


def placement_tasks(
    family: str = "tiny",
    count: int = 2000,
    seed: int = 0,
    backends: Sequence[str] = BACKENDS,
    time_limit: float | None = None,
    start: int = 0,
    experiment: str = "verify-placement",
) -> list[Any]:
    """The harness tasks of instances ``start .. start + count - 1`` (of ``experiment``)."""
    from splitopt.experiments.harness import Task

    params: dict[str, Any] = {"backends": ",".join(backends)}
    if time_limit is not None:
        params["time_limit"] = float(time_limit)
    if family != "tiny":
        params["family"] = family
    return [
        Task.make(experiment, RUNNER, seed=seed, index=i, **params)
        for i in range(start, start + count)
    ]


@dataclass
class Report:
    """What :func:`run_verify` found."""

    family: str
    count: int
    seed: int
    backends: tuple[str, ...]
    comparisons: int = 0
    disagreements: int = 0
    false_optima: int = 0
    infeasible: int = 0
    task_errors: int = 0
    statuses: dict[str, Counter] = field(default_factory=dict)
    false_by_backend: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0

    def mean_runtime(self, solver: str) -> float:
        vals = [_float(r.get(f"{solver}_runtime_s")) for r in self.rows]
        vals = [v for v in vals if math.isfinite(v)]
        return sum(vals) / len(vals) if vals else math.nan

    def summary(self) -> str:
        lines = [
            f"verify-placement: family {self.family}, seed {self.seed}, {self.count} instances "
            f"({self.infeasible} infeasible), {self.comparisons} comparisons "
            f"(brute force vs bprr-milp on {', '.join(self.backends)}), "
            f"{self.disagreements} disagreements, {self.false_optima} false optima, "
            f"{self.task_errors} failed tasks, {self.wall_s:.1f} s wall",
            f"  mean runtime per instance: brute {self.mean_runtime('brute') * 1e3:.1f} ms"
            + "".join(f", {b} {self.mean_runtime(b) * 1e3:.1f} ms" for b in self.backends),
        ]
        for b in self.backends:
            st = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.get(b, {}).items()))
            lines.append(f"  {b}: {st}; false optima {self.false_by_backend.get(b, 0)}")
        for r in self.rows:
            if r.get("error"):
                lines.append(f"  FAILED instance {r['index']}: {r['error']}")
            elif _int(r.get("disagreements")):
                bad = [b for b in self.backends if not _true(r.get(f"{b}_ok"))]
                lines.append(
                    f"  DISAGREE instance {r['index']}: brute {r['brute_status']} "
                    f"{r['brute_objective']}; "
                    + "; ".join(
                        f"{b}{' FALSE' if _true(r.get(f'{b}_false')) else ''} "
                        f"{r[f'{b}_status']} {r[f'{b}_objective']} {r[f'{b}_message']}"
                        for b in bad
                    )
                )
        return "\n".join(lines)


def _float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _true(v: object) -> bool:
    """A boolean cell: ``True`` in memory, ``true`` once the harness wrote it."""
    return str(v).lower() == "true"


def _int(v: object) -> int:
    try:
        return int(v)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def summarise(
    rows: Sequence[Mapping[str, Any]], family: str, seed: int, backends: Sequence[str]
) -> Report:
    """The :class:`Report` of verification rows (as the harness's CSV holds them)."""
    rep = Report(family, len(rows), seed, tuple(backends))
    rep.rows = sorted((dict(r) for r in rows), key=lambda r: _int(r.get("index")))
    for r in rep.rows:
        if r.get("error"):
            rep.task_errors += 1
            rep.disagreements += len(backends)
            continue
        rep.comparisons += len(backends)
        rep.disagreements += _int(r.get("disagreements"))
        rep.false_optima += _int(r.get("false_optima"))
        rep.infeasible += r.get("brute_status") == "infeasible"
        for b in backends:
            rep.statuses.setdefault(b, Counter())[str(r.get(f"{b}_status"))] += 1
            rep.false_by_backend[b] = rep.false_by_backend.get(b, 0) + _true(r.get(f"{b}_false"))
    return rep


def run_verify(
    count: int = 2000,
    seed: int = 0,
    backends: Sequence[str] = BACKENDS,
    workers: int = 1,
    time_limit: float | None = None,
    start: int = 0,
    progress: bool = False,
    csv_path: str | Path | None = None,
    family: str = "tiny",
    dask: object = None,
) -> Report:
    """Verify instances ``start .. start + count - 1`` of ``seed`` in ``family`` (module
    docstring) on the experiment harness.

    With ``csv_path`` every finished instance is in that file at once (the harness's
    resumable CSV), and instances already in it are not rerun; ``None``: a temporary
    file. ``workers`` local processes (1: this process), or ``dask`` (a scheduler).
    """
    from splitopt.experiments.harness import read_csv_rows, run_tasks
    from splitopt.families.clusters import CLUSTER_FAMILIES

    if count < 1:
        raise UsageError(f"verify-placement needs at least one instance, got {count}")
    if family not in CLUSTER_FAMILIES:
        raise UsageError(f"unknown cluster family {family!r}; valid: {', '.join(CLUSTER_FAMILIES)}")
    backends = tuple(backends)
    tasks = placement_tasks(family, count, seed, backends, time_limit, start)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="splitopt-verify-placement-") as tmp:
        path = Path(csv_path) if csv_path is not None else Path(tmp) / "verify-placement.csv"
        run_tasks(
            f"verify-placement {family}",
            tasks,
            path,
            serial=workers <= 1,
            dask=dask,
            workers=max(1, workers),
            progress=progress,
        )
        by_key = {r["key"]: r for r in read_csv_rows(path)}
    rep = summarise([by_key[t.key] for t in tasks if t.key in by_key], family, seed, backends)
    rep.count = count
    rep.wall_s = time.perf_counter() - t0
    return rep


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m splitopt.verify_placement",
        description="bprr-milp (each backend) against bprr-brute on random tiny clusters",
    )
    p.add_argument("--family", default="tiny", help="tiny (default), wide, edge or huge")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="first instance index")
    p.add_argument("--backends", default=",".join(BACKENDS))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--time-limit", type=float, default=None, help="per MILP solve, seconds (default none)"
    )
    p.add_argument("--csv", help="one row per instance here (rerun to continue)")
    p.add_argument("--json", help="write the summary and the disagreeing rows here")
    p.add_argument("--dask", metavar="ADDRESS", help="run on this Dask scheduler instead")
    a = p.parse_args(argv)
    backends = tuple(b for b in a.backends.split(",") if b)
    try:
        rep = run_verify(
            a.count,
            a.seed,
            backends,
            a.workers,
            a.time_limit,
            a.start,
            True,
            a.csv,
            a.family,
            a.dask,
        )
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(rep.summary())
    if a.json:
        from splitopt.outputs import write_text

        out = {
            "family": rep.family,
            "seed": rep.seed,
            "count": rep.count,
            "start": a.start,
            "backends": list(backends),
            "comparisons": rep.comparisons,
            "disagreements": rep.disagreements,
            "false_optima": rep.false_optima,
            "false_optima_by_backend": rep.false_by_backend,
            "statuses": {b: dict(c) for b, c in rep.statuses.items()},
            "infeasible": rep.infeasible,
            "failed_tasks": rep.task_errors,
            "wall_s": rep.wall_s,
            "mean_runtime_s": {s: rep.mean_runtime(s) for s in ("brute", *backends)},
            "disagreeing_rows": [r for r in rep.rows if _int(r.get("disagreements"))],
        }
        write_text(a.json, json.dumps(out, indent=1, default=str) + "\n")
    return 1 if rep.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
