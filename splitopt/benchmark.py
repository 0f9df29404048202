"""``splitopt benchmark``: chosen solvers on your own instances, with a performance profile.

Instances are problem or scenario files, folders of them (searched recursively for
``*.json`` files whose ``format`` is ``splitopt-problem`` or ``splitopt-scenario``, and
``*.parquet`` problems), or ``--n`` seeded instances of a family. Each (instance,
solver, repeat) is one task of the experiment harness
(:mod:`splitopt.experiments.harness`), so the tidy CSV is resumable (rerun the same
command; finished rows are kept; a file of another benchmark is refused) and the
tasks run on a local process pool or a Dask cluster.

Every answer is re-scored by the evaluator. Per row: ``status``, ``requests``,
``served``, ``work`` (Σ ω W over served requests), ``charged_work`` (unserved requests
charged their all-server work, so solvers that serve different requests compare),
``solve_s`` (the solver's own wall time).

The summary and the **performance profile** follow Dolan & Moré (Math. Program. 91,
2002): for measure ``t[p, s]`` (charged work, or median solve time over repeats) of
solver ``s`` on instance ``p``, the ratio ``r[p, s] = t[p, s] / min_s t[p, s]``, and the
profile ``ρ_s(τ) = |{p : r[p, s] ≤ τ}| / |P|``. A failed run (an error, status
``error``) has ratio ∞. For the time profile, a run whose charged work is above the
best by more than a relative 1e-9 counts as failed as well (ours: a fast wrong answer
is not a win).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from splitopt.errors import UsageError

EXPERIMENT = "benchmark"
RUNNER = "splitopt.benchmark:run_one"
#: relative tolerance of "as good as the best" charged work
RTOL = 1e-9
PROBLEM_FORMATS = ("splitopt-problem", "splitopt-scenario")


@dataclass(frozen=True)
class Instance:
    """One instance: a file (``path``) or a family member (``family``, ``seed``, ``index``)."""

    label: str
    path: str = ""
    digest: str = ""
    family: str = ""
    size: str = ""
    seed: int = 0
    index: int = 0


def _digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()


def _is_problem_file(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    try:
        with path.open("rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
        if '"format"' not in head:
            doc = json.loads(path.read_text())
            return isinstance(doc, dict) and doc.get("format") in PROBLEM_FORMATS
        return any(f'"{fmt}"' in head for fmt in PROBLEM_FORMATS)
    except (OSError, ValueError):
        return False


def collect(paths: Sequence[str]) -> list[Instance]:
    """The instances of files and folders (folders: recursively, problem/scenario files)."""
    out: list[Instance] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(
                f
                for f in path.rglob("*")
                if f.is_file() and f.suffix.lower() in (".json", ".parquet", ".pq")
            )
            files = [f for f in found if _is_problem_file(f)]
            if not files:
                raise UsageError(f"{p}: no problem or scenario file in this folder")
        elif path.is_file():
            files = [path]
        else:
            raise UsageError(f"{p}: no such file or folder")
        out += [Instance(str(f), str(f), _digest(f)) for f in files]
    return out


def family_instances(family: str, n: int, seed: int, size: str) -> list[Instance]:
    """``n`` seeded instances of ``family`` (instance i uses seed ``seed + i``)."""
    from splitopt.families import FAMILIES

    if family not in FAMILIES:
        raise UsageError(f"unknown family {family!r}; valid: {', '.join(FAMILIES)}")
    return [
        Instance(f"{family}-{size}-s{seed + i}", family=family, size=size, seed=seed + i, index=i)
        for i in range(n)
    ]


def tasks(instances: Sequence[Instance], solvers: Sequence[str], repeats: int) -> list:
    """One harness task per (instance, solver, repeat)."""
    from splitopt.experiments.harness import Task

    return [
        Task.make(
            EXPERIMENT,
            RUNNER,
            instance=inst.label,
            path=inst.path,
            digest=inst.digest,
            family=inst.family,
            size=inst.size,
            seed=inst.seed,
            solver=solver,
            repeat=r,
        )
        for inst in instances
        for solver in solvers
        for r in range(repeats)
    ]


def run_one(
    instance: str,
    path: str,
    digest: str,
    family: str,
    size: str,
    seed: int,
    solver: str,
    repeat: int,
) -> dict:
    """Solve one instance with one solver; the row's figures are the evaluator's."""
    from splitopt.metrics import charged_work
    from splitopt.solvers import get_solver

    if path:
        from splitopt.formats.read import read_any

        problem = read_any(path)
    else:
        from splitopt.families import generate

        problem = generate(family, int(seed), size or "small")
    s = get_solver(solver)
    t0 = time.perf_counter()
    result = s.solve(problem)
    solve_s = time.perf_counter() - t0
    ev = result.evaluation
    served = int(np.count_nonzero(ev.feasible))
    work = float(np.dot(ev.weights, np.where(ev.feasible, ev.server_work, 0.0)))
    return {
        "status": result.status,
        "requests": len(problem.requests),
        "served": served,
        "work": work,
        "charged_work": charged_work(result),
        "solve_s": solve_s,
        "work_unit": problem.work_unit,
    }


def run(
    instances: Sequence[Instance],
    solvers: Sequence[str],
    out: str,
    *,
    repeats: int = 1,
    dask: object = None,
    workers: int | None = None,
    progress: bool = True,
) -> list[dict[str, str]]:
    """Run (or resume) the benchmark into the CSV ``out``; its rows for these tasks."""
    from splitopt.experiments.harness import read_csv_rows, run_tasks
    from splitopt.solvers import get_solver

    if not instances:
        raise UsageError("benchmark: no instance given (files, folders or --family)")
    if repeats < 1:
        raise UsageError(f"--repeats must be >= 1, got {repeats}")
    for s in solvers:
        get_solver(s)  # unknown names fail before any work
    ts = tasks(instances, solvers, repeats)
    run_tasks(
        "benchmark", ts, out, serial=True, dask=dask, workers=workers, progress=progress
    )
    keys = {t.key for t in ts}
    return [r for r in read_csv_rows(out) if r.get("key") in keys]


def _float(x: str | None) -> float:
    try:
        return float(x) if x not in (None, "") else math.nan
    except ValueError:
        return math.nan


def measures(
    rows: Iterable[dict[str, str]], solvers: Sequence[str], raw: bool = False
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(instances, charged work [P, S], median solve time [P, S]); failures are ``inf``,
    and so are the times of answers worse than the best (unless ``raw``)."""
    by: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in rows:
        by.setdefault((r["instance"], r["solver"]), []).append(r)
    names = sorted({i for i, _ in by})
    work = np.full((len(names), len(solvers)), np.inf)
    secs = np.full((len(names), len(solvers)), np.inf)
    for p, inst in enumerate(names):
        for s, solver in enumerate(solvers):
            rs = by.get((inst, solver), [])
            ok = [r for r in rs if not r.get("error") and r.get("status") != "error"]
            if not ok:
                continue
            work[p, s] = _float(ok[0]["charged_work"])
            secs[p, s] = float(np.median([_float(r["solve_s"]) for r in ok]))
    if raw:
        return names, work, secs
    # a time only counts when the answer is as good as the best one
    best = np.min(work, axis=1, initial=np.inf, where=np.isfinite(work))[:, None]
    worse = work > best * (1 + RTOL) + 1e-300
    secs = np.where(worse, np.inf, secs)
    return names, work, secs


def ratios(t: np.ndarray) -> np.ndarray:
    """Performance ratios t / min over solvers, per instance (∞ where failed or all failed)."""
    best = np.min(t, axis=1, initial=np.inf, where=np.isfinite(t))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(np.isfinite(t), t / best, np.inf)
        r = np.where(best == 0, np.where(t == 0, 1.0, np.inf), r)
    return r


def profile(r: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """ρ_s(τ): the fraction of instances with ratio ≤ τ, shape [len(taus), S]."""
    if r.shape[0] == 0:
        return np.zeros((len(taus), r.shape[1]))
    return (r[None, :, :] <= taus[:, None, None]).mean(axis=1)


def summary(rows: Sequence[dict[str, str]], solvers: Sequence[str]) -> list[dict]:
    """Per solver: instances, failures, requests served, geometric mean of the charged
    work ratio to the best (units cancel, so instances of any work unit mix), wins (as
    good as the best charged work), fastest (time ratio 1), geometric mean solve time."""
    names, work, secs = measures(rows, solvers)
    raw = measures(rows, solvers, raw=True)[2]
    rw, rt = ratios(work), ratios(secs)
    served: dict[str, int] = {}
    for r in rows:
        if r.get("repeat") in ("0", 0) and not r.get("error"):
            served[r["solver"]] = served.get(r["solver"], 0) + int(_float(r["served"]))
    out = []
    for s, solver in enumerate(solvers):
        ok = np.isfinite(work[:, s])
        t = raw[:, s][np.isfinite(raw[:, s]) & (raw[:, s] > 0)]
        w = rw[:, s][np.isfinite(rw[:, s]) & (rw[:, s] > 0)]
        out.append(
            {
                "solver": solver,
                "instances": len(names),
                "failed": int((~ok).sum()),
                "served": served.get(solver, 0),
                "work_ratio": float(np.exp(np.log(w).mean())) if w.size else math.nan,
                "best_work": int((rw[:, s] <= 1 + RTOL).sum()),
                "fastest": int((rt[:, s] == 1).sum()),
                "geomean_solve_s": float(np.exp(np.log(t).mean())) if t.size else math.nan,
            }
        )
    return out


def plot_profiles(rows: Sequence[dict[str, str]], solvers: Sequence[str], target: str) -> None:
    """Two Dolan–Moré profiles side by side (charged work; solve time) into ``target``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from splitopt.outputs import replace_file

    names, work, secs = measures(rows, solvers)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, t, what in ((axes[0], work, "charged server work"), (axes[1], secs, "solve time")):
        r = ratios(t)
        finite = r[np.isfinite(r)]
        top = max(2.0, float(finite.max()) * 1.1) if finite.size else 2.0
        taus = np.unique(np.concatenate([[1.0], np.geomspace(1.0, top, 200), finite]))
        rho = profile(r, taus)
        styles = ("-", "--", ":", "-.")
        for s, solver in enumerate(solvers):
            ax.step(
                taus,
                rho[:, s],
                where="post",
                label=solver,
                linestyle=styles[s % len(styles)],
                linewidth=2.2 - 0.3 * (s % 4),
            )
        ax.set_xscale("log")
        ax.set_xlim(1.0, top)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel(f"τ (ratio to the best {what})")
        ax.set_ylabel("fraction of instances with ratio ≤ τ")
        ax.set_title(f"Performance profile: {what} ({len(names)} instances)")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(loc="lower right", fontsize="small")
    fmt = Path(target).suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "pdf", "svg"):
        raise UsageError(f"--plot {target}: give a .png, .pdf or .svg file")
    replace_file(target, lambda fh: fig.savefig(fh, format=fmt, dpi=150), binary=True)
    plt.close(fig)


__all__ = [
    "Instance",
    "collect",
    "family_instances",
    "measures",
    "plot_profiles",
    "profile",
    "ratios",
    "run",
    "run_one",
    "summary",
    "tasks",
]
