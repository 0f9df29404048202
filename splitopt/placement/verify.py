"""``verify-placement``: the BPRR MILP on every backend against brute force.

For each of ``count`` tiny random clusters (:func:`tiny_cluster`; instance i of
seed S uses ``numpy.random.default_rng([S, i])``, so any instance can be
regenerated alone), ``bprr-brute`` and ``bprr-milp`` on each backend solve it and
their answers are compared *as scored by the evaluator*:

* both infeasible, or
* both feasible with Σ_r T_r equal to :data:`OBJ_RTOL` relative,

and each MILP answer must have status ``optimal`` or ``infeasible`` (a
``feasible``, ``time_limit`` or ``error`` status counts as a disagreement, and so
does a status that does not match the evaluator's verdict).

:func:`verify_instance` is one instance -> one flat dict of scalars (usable as a
harness runner, ``"splitopt.placement.verify:verify_instance"``);
:func:`run_verify` runs many in a process pool and summarises; the module is also
a command::

    python -m splitopt.placement.verify --count 2000 --seed 0 --workers 2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.placement.result import PlacementResult

#: Objectives agree when equal to this relative tolerance.
OBJ_RTOL = 1e-6
#: Backends compared with brute force by default.
BACKENDS: tuple[str, ...] = ("highs", "cbc", "cpsat", "scip")

_TIME_GRID = (0.0, 0.01, 0.02, 0.05)


def tiny_cluster(
    rng: np.random.Generator,
    name: str = "tiny",
    max_servers: int = 4,
    max_blocks: int = 5,
    max_jobs: int = 3,
) -> Cluster:
    """A random tiny cluster: 2-4 servers, 2-5 blocks, 1-3 jobs from 1-2 clients
    (the upper ends are the ``max_*`` arguments).

    Memory is drawn so that it sometimes binds (and sometimes makes the instance
    infeasible): every server gets s_m times 1..L blocks plus a random share of
    the cache all jobs would need on all blocks; one in four servers has a block
    cap. Memory units: small whole numbers (60 %), the same times 2**30 (20 %),
    or times an irrational-looking factor (20 %, non-integral rows). Times come from a
    small grid half the time (ties) and are uniform otherwise.
    """
    S = int(rng.integers(2, max_servers + 1))
    L = int(rng.integers(2, max_blocks + 1))
    R = int(rng.integers(1, max_jobs + 1))
    return sized_cluster(rng, S, L, R, name)


def sized_cluster(rng: np.random.Generator, S: int, L: int, R: int, name: str = "sized") -> Cluster:
    """A random cluster of S servers, L blocks and R jobs, drawn as in :func:`tiny_cluster`."""
    C = int(rng.integers(1, 3))
    mode = int(rng.choice(3, p=[0.6, 0.2, 0.2]))
    unit = (1.0, float(2**30), 1.37e9 / 3.0)[mode]
    s_m = int(rng.integers(1, 5))
    per_token = int(rng.integers(0, 3))
    jobs = tuple(
        Job(int(rng.integers(0, C)), int(rng.integers(1, 5)), int(rng.integers(1, 5)), f"r{r}")
        for r in range(R)
    )
    cache = sum(per_token * (j.l_in + j.l_out) for j in jobs)
    grid = rng.random() < 0.5

    def t(scale: float) -> float:
        if grid:
            return float(rng.choice(_TIME_GRID)) * scale
        return float(rng.uniform(0.0, 0.05)) * scale

    servers = []
    for j in range(S):
        mem = s_m * int(rng.integers(1, L + 1)) + int(rng.integers(0, cache * L + 1))
        cap = int(rng.integers(1, L + 1)) if rng.random() < 0.25 else None
        servers.append(
            Server(
                f"s{j}",
                mem * unit,
                decode_s=t(1.0) + 0.001,
                prefill_s0=t(2.0),
                prefill_s1=t(0.02),
                max_blocks=cap,
            )
        )
    rtt = np.array([[t(2.0) for _ in range(S)] for _ in range(C)])
    prefill = rtt + np.array([[t(1.0) for _ in range(S)] for _ in range(C)])
    per_tok = np.array([[t(0.01) for _ in range(S)] for _ in range(C)])
    return Cluster(
        name,
        BlockModel(L, s_m * unit, per_token * unit, name="tiny"),
        tuple(servers),
        tuple(f"c{c}" for c in range(C)),
        rtt,
        prefill,
        per_tok,
        jobs,
    )


def instance(seed: int, index: int) -> Cluster:
    """Instance ``index`` of ``seed`` (independent of every other instance)."""
    return tiny_cluster(np.random.default_rng([seed, index]), f"tiny-{seed}-{index}")


def agree(a: PlacementResult, b: PlacementResult) -> bool:
    """Both infeasible, or both feasible with equal Σ_r T_r (evaluator's, relative OBJ_RTOL)."""
    if a.feasible != b.feasible:
        return False
    if not a.feasible:
        return True
    x, y = a.objective, b.objective
    return abs(x - y) <= OBJ_RTOL * max(abs(x), abs(y), 1e-300)


def _proper(res: PlacementResult) -> bool:
    """An exact answer: ``optimal`` with a feasible score, or ``infeasible``."""
    return (res.status == "optimal" and res.feasible) or (
        res.status == "infeasible" and not res.feasible
    )


def verify_instance(
    seed: int, index: int, backends: str = ",".join(BACKENDS), time_limit: float | None = None
) -> dict[str, Any]:
    """Brute force and the MILP on every backend on instance ``index`` of ``seed``.

    Returns one flat row: sizes, brute force's status/objective/runtime, per backend
    its status, objective, runtime and ``ok`` (agrees and is a proper exact answer),
    and ``disagreements`` (how many backends did not agree).
    """
    from splitopt.placement.brute import BPRRBrute, count_placements
    from splitopt.placement.milp import BPRRMilp

    cluster = instance(seed, index)
    row: dict[str, Any] = {
        "seed": seed,
        "index": index,
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
    bad = 0
    for b in [x for x in backends.split(",") if x]:
        res = BPRRMilp(time_limit=time_limit, backend=b).solve(cluster)
        ok = agree(ref, res) and _proper(res) and _proper(ref)
        bad += not ok
        row.update(
            {
                f"{b}_status": res.status,
                f"{b}_objective": res.objective,
                f"{b}_runtime_s": res.runtime_s,
                f"{b}_ok": ok,
                f"{b}_message": res.message or "",
            }
        )
    row["disagreements"] = bad
    return row


def _chunk(args: tuple[int, Sequence[int], str, float | None]) -> list[dict[str, Any]]:
    seed, indices, backends, time_limit = args
    return [verify_instance(seed, i, backends, time_limit) for i in indices]


@dataclass
class Report:
    """What :func:`run_verify` found."""

    count: int
    seed: int
    backends: tuple[str, ...]
    comparisons: int = 0
    disagreements: int = 0
    infeasible: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0

    def mean_runtime(self, solver: str) -> float:
        vals = [float(r[f"{solver}_runtime_s"]) for r in self.rows]
        return float(np.mean(vals)) if vals else math.nan

    def summary(self) -> str:
        lines = [
            f"verify-placement: seed {self.seed}, {self.count} instances "
            f"({self.infeasible} infeasible), {self.comparisons} comparisons "
            f"(brute force vs bprr-milp on {', '.join(self.backends)}), "
            f"{self.disagreements} disagreements, {self.wall_s:.1f} s wall",
            f"  mean runtime per instance: brute {self.mean_runtime('brute') * 1e3:.1f} ms"
            + "".join(f", {b} {self.mean_runtime(b) * 1e3:.1f} ms" for b in self.backends),
        ]
        for r in self.rows:
            if r["disagreements"]:
                bad = [b for b in self.backends if not r[f"{b}_ok"]]
                lines.append(
                    f"  DISAGREE instance {r['index']}: brute {r['brute_status']} "
                    f"{r['brute_objective']!r}; "
                    + "; ".join(
                        f"{b} {r[f'{b}_status']} {r[f'{b}_objective']!r} {r[f'{b}_message']}"
                        for b in bad
                    )
                )
        return "\n".join(lines)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of an earlier (possibly interrupted) run, with their types restored."""
    import csv

    out = []
    with path.open(newline="") as fh:
        for raw in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for k, v in raw.items():
                if k.endswith("_ok"):
                    row[k] = v == "True"
                elif k in ("seed", "index", "disagreements") or k in (
                    "servers",
                    "blocks",
                    "jobs",
                    "clients",
                    "placements",
                ):
                    row[k] = int(v)
                elif k.endswith(("_objective", "_runtime_s")):
                    row[k] = float(v)
                else:
                    row[k] = v
            out.append(row)
    return out


def run_verify(
    count: int = 2000,
    seed: int = 0,
    backends: Sequence[str] = BACKENDS,
    workers: int = 1,
    time_limit: float | None = None,
    start: int = 0,
    progress: bool = False,
    csv_path: str | Path | None = None,
) -> Report:
    """Verify instances ``start .. start + count - 1`` of ``seed`` (see the module docstring).

    With ``csv_path`` every finished instance is appended to that file at once, and
    instances already in it (an interrupted run with the same seed) are not rerun.
    """
    import csv

    t0 = time.perf_counter()
    names = ",".join(backends)
    indices = list(range(start, start + count))
    rows: list[dict[str, Any]] = []
    path = None if csv_path is None else Path(csv_path)
    if path is not None and path.exists() and path.stat().st_size:
        wanted = set(indices)
        rows = [r for r in _read_rows(path) if r["seed"] == seed and r["index"] in wanted]
        done = {r["index"] for r in rows}
        indices = [i for i in indices if i not in done]
    writer = None
    fh = None
    if path is not None:
        new = not path.exists() or not path.stat().st_size
        fh = path.open("a", newline="")
        if not new:
            writer = csv.DictWriter(fh, list(_read_rows(path)[0]) if rows else [])

    def record(part: list[dict[str, Any]]) -> None:
        nonlocal writer
        rows.extend(part)
        if fh is not None:
            if writer is None or not writer.fieldnames:
                writer = csv.DictWriter(fh, list(part[0]))
                writer.writeheader()
            writer.writerows(part)
            fh.flush()
        if progress:
            bad = sum(int(r["disagreements"]) for r in rows)
            print(
                f"  {len(rows)}/{count} instances, {bad} disagreements, "
                f"{time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    try:
        if workers <= 1:
            for i in indices:
                record(_chunk((seed, [i], names, time_limit)))
        elif indices:
            size = max(1, min(5, len(indices) // (workers * 4) or 1))
            chunks = [indices[i : i + size] for i in range(0, len(indices), size)]
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                futs = [pool.submit(_chunk, (seed, c, names, time_limit)) for c in chunks]
                for fut in as_completed(futs):
                    record(fut.result())
    finally:
        if fh is not None:
            fh.close()
    rows.sort(key=lambda r: int(r["index"]))
    rep = Report(count, seed, tuple(backends), rows=rows)
    rep.comparisons = len(rows) * len(backends)
    rep.disagreements = sum(int(r["disagreements"]) for r in rows)
    rep.infeasible = sum(r["brute_status"] == "infeasible" for r in rows)
    rep.wall_s = time.perf_counter() - t0
    return rep


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m splitopt.placement.verify",
        description="bprr-milp (each backend) against bprr-brute on tiny random clusters",
    )
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="first instance index")
    p.add_argument("--backends", default=",".join(BACKENDS))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--time-limit", type=float, default=None, help="per MILP solve, seconds (default none)"
    )
    p.add_argument("--csv", help="append one row per instance here (and resume from it)")
    p.add_argument("--json", help="write the summary and the disagreeing rows here")
    a = p.parse_args(argv)
    backends = tuple(b for b in a.backends.split(",") if b)
    rep = run_verify(a.count, a.seed, backends, a.workers, a.time_limit, a.start, True, a.csv)
    print(rep.summary())
    if a.json:
        out = {
            "seed": rep.seed,
            "count": rep.count,
            "start": a.start,
            "backends": list(backends),
            "comparisons": rep.comparisons,
            "disagreements": rep.disagreements,
            "infeasible": rep.infeasible,
            "wall_s": rep.wall_s,
            "mean_runtime_s": {s: rep.mean_runtime(s) for s in ("brute", *backends)},
            "disagreeing_rows": [r for r in rep.rows if r["disagreements"]],
        }
        Path(a.json).write_text(json.dumps(out, indent=1, default=str))
    return 1 if rep.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
