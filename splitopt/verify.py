"""Verification harness (SPEC §3): the DPs against the ILPs and brute force, request by request.

For every instance, with each request's data treated in two ways:

* **ticked**: ``dp-grid`` == every ILP in ticked mode (same grid/tick, so the same
  integer problem) == ``brute-force`` on the ticked data (L ≤ 16). A request whose
  data are all whole numbers is ticked with tick 1 (exact); any other request
  with the default grid (:data:`splitopt.discretise.DEFAULT_GRID`).
* **real**: ``dp`` (the default solver, exact: labels with Lagrangian, knapsack and
  tick-table bounds under memory budgets) == every ILP on the real data ==
  ``brute-force`` (L ≤ 16).

Two answers *agree* when both find no feasible placement (status
``infeasible``), or both return a placement and their server work (the
evaluator's, never the solver's own number) is equal to a relative 1e-9. A status
``error`` or ``time_limit`` is a disagreement. Every returned placement is also
checked feasible under the evaluator: on the real data (:meth:`Result.build`
turns an infeasible one into ``error``) and, for ticked answers, on the ticked data.

What one **instance** is (``random-chain``, the default): a problem of 1 to 3
requests, each with L uniform in 1..16, integer or real data with probability
1/2, drawn by :func:`splitopt.families.random_chain.random_chain` (a memory
budget half the time, start/end on the server with probability 1/4 each, SLA
0.8–2.0 × the least achievable latency so some requests are infeasible, zero
costs and ties frequent), each reshaped to one of :data:`SHAPES` (wide-range work,
sub-tick values, near-ties; :func:`shape_chain`). Instance i of seed S uses the generator
``numpy.random.default_rng([S, i])``, so any instance can be regenerated alone
(:func:`verify_instance`). For ``paper-like`` and ``llm-edge`` (or random-chain
with an explicit ``size``), instance i is ``splitopt.families.generate(family,
instance_seed(S, i), size)``.

A run goes through the experiment harness
(:func:`splitopt.experiments.harness.run_tasks`): one task per instance
(runner :func:`verify_task`), a local process pool or a Dask cluster, the
harness's progress bar, and a resumable CSV with one row per instance (its
requests, comparisons, disagreements, per-solver times and, as JSON, what
disagreed): an interrupted run continues where it stopped when rerun with the
same CSV. The report (:class:`VerifyReport`) is made from the CSV rows.

A run that compares nothing is refused (:class:`~splitopt.errors.UsageError`):
the DPs are the references, so at least one ILP or ``brute-force`` must be
compared with them (``--solvers dp,dp-grid`` compares nothing), and a run
whose instances gave no comparison at all (e.g. only ``brute-force`` on
chains longer than :data:`BRUTE_MAX_LAYERS`) is an error, not "OK".

Disagreeing instances are written to ``out_dir`` as problem files (with the
family, seed and index in their ``meta``) next to a JSON of what disagreed;
:func:`replay` re-runs the checks on such a file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.discretise import DEFAULT_GRID, tick_problem
from splitopt.errors import UsageError
from splitopt.evaluate import score
from splitopt.problem import Chain, Meta, Problem, Request
from splitopt.solution import Result
from splitopt.solvers import ILP_SOLVERS, SolverError, available, get_solver

#: Objectives agree when equal to this relative tolerance.
OBJ_RTOL = 1e-9
#: brute-force runs on requests up to this many layers.
BRUTE_MAX_LAYERS = 16
#: Requests per random-chain verification instance: 1 to MAX_REQUESTS.
MAX_REQUESTS = 3
#: Default instance size for the families other than random-chain.
DEFAULT_FAMILY_SIZE = "tiny"


# ------------------------------------------------------------------ instances


def instance_seed(seed: int, index: int) -> int:
    """The integer seed of instance ``index`` of a run with ``seed`` (independent streams)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint32)[0])


#: Data shapes of random-chain verification requests and their probabilities:
#: ``uniform`` (random_chain as drawn), ``wide`` (server work 10^3 … 10^13 in one
#: chain), ``subtick`` (some times, transfers and memory far below one tick,
#: 1e-15 … 1e-9), ``near-tie`` (work equal up to relative 1e-8 … 1e-12 steps, SLA
#: often exactly at a placement's latency). The ILPs' tolerances and the
#: grid DP's exactness test failed on the last three, which the uniform data never hit.
SHAPES: dict[str, float] = {"uniform": 0.4, "wide": 0.2, "subtick": 0.2, "near-tie": 0.2}


def shape_chain(rng: np.random.Generator, chain: Chain, shape: str) -> Chain:
    """``chain`` reshaped to one of :data:`SHAPES` (every random draw from ``rng``)."""
    L = chain.num_layers
    if shape == "uniform":
        return chain
    if shape == "wide":
        w = np.floor(10.0 ** rng.uniform(3, 13, L))
        w[rng.random(L) < 0.1] = 0.0
        return chain.replace(server_work=w)
    if shape == "subtick":

        def tiny(x: np.ndarray) -> np.ndarray:
            y = np.array(x, dtype=float)
            hit = rng.random(y.size) < 0.4
            y[hit] = 10.0 ** rng.uniform(-15, -9, int(hit.sum()))
            return y

        mem = chain.client_memory_bytes
        return chain.replace(
            client_time_s=tiny(chain.client_time_s),
            server_time_s=tiny(chain.server_time_s),
            uplink_s=tiny(chain.uplink_s),
            downlink_s=tiny(chain.downlink_s),
            client_memory_bytes=tiny(mem) if chain.memory_budget_bytes is not None else mem,
        )
    if shape == "near-tie":
        base = float(10.0 ** rng.uniform(0, 9))
        step = float(10.0 ** rng.uniform(-12, -8))
        w = base * (1.0 + step * rng.integers(0, 4, L))
        w[rng.random(L) < 0.1] = 0.0
        out = chain.replace(server_work=w)
        if rng.random() < 0.5:  # SLA exactly at the latency of a random placement
            x = rng.random(L) < 0.5
            lat = score(out, x).latency_s
            if lat > 0:
                out = out.replace(sla_s=float(lat))
        return out
    raise ValueError(f"unknown shape {shape!r}")


def verify_instance(seed: int, index: int) -> Problem:
    """Instance ``index`` of a random-chain verification run with ``seed`` (module docstring);
    each request's data shape is drawn from :data:`SHAPES` and recorded in its ``meta``."""
    from splitopt.families.random_chain import random_chain

    rng = np.random.default_rng([seed, index])
    names, probs = list(SHAPES), np.array(list(SHAPES.values()))
    reqs = []
    for k in range(int(rng.integers(1, MAX_REQUESTS + 1))):
        L = int(rng.integers(1, BRUTE_MAX_LAYERS + 1))
        integer = bool(rng.random() < 0.5)
        shape = names[int(rng.choice(len(names), p=probs / probs.sum()))]
        chain = shape_chain(rng, random_chain(rng, L, integer=integer), shape)
        reqs.append(Request(id=f"r{k}", chain=chain, meta=Meta({"shape": shape})))
    return Problem(name=f"verify-s{seed}-i{index}", requests=tuple(reqs), work_unit="FLOP")


def make_instance(family: str, seed: int, index: int, size: str | None) -> Problem:
    """Instance ``index`` of ``family`` for a run with ``seed``."""
    if family == "random-chain" and size is None:
        return verify_instance(seed, index)
    from splitopt.families import generate

    opts: dict[str, Any] = {}
    if family == "random-chain":
        opts["integer"] = bool(index % 2)
    return generate(family, instance_seed(seed, index), size or DEFAULT_FAMILY_SIZE, **opts)


def is_integral(problem: Problem, index: int) -> bool:
    """Whether request ``index``'s times, memory and budget are whole numbers (tick 1 is exact)."""
    c = problem.requests[index].chain
    arrays = [c.client_time_s, c.server_time_s, c.uplink_s, c.downlink_s]
    if c.memory_budget_bytes is not None:
        arrays += [c.client_memory_bytes, np.array([c.memory_budget_bytes])]
    vals = np.concatenate([*arrays, [c.sla_s]])
    return bool(np.all(vals == np.round(vals)) and vals.max() < 2**40)


# -------------------------------------------------------------------- checking


@dataclass
class Comparison:
    """One request-level comparison of a solver's answer with the reference."""

    request: str
    mode: str  # "ticked" or "real"
    solver: str
    reference: str
    agree: bool
    rel_diff: float
    detail: dict[str, Any]


def _answer(res: Result, i: int) -> tuple[str, bool, float, str | None]:
    ev = res.evaluation
    return res.statuses[i], bool(ev.feasible[i]), float(ev.server_work[i]), ev.placements[i]


def compare(
    a: Result, ia: int, b: Result, ib: int, ticked: Problem | None = None
) -> tuple[bool, float, str]:
    """Compare request ``ia`` of result ``a`` with request ``ib`` of the reference ``b``.

    Returns (agree, relative difference of server work (0 unless both found a
    placement; inf when only one did), reason). With ``ticked`` (a problem
    aligned with ``a``), ``a``'s placement must also be feasible on it.
    """
    sa, fa, wa, pa = _answer(a, ia)
    sb, fb, wb, _ = _answer(b, ib)
    for s, who in ((sa, a.solver), (sb, b.solver)):
        if s in ("error", "time_limit"):
            return False, math.nan, f"{who} status {s}"
    has_a = sa in ("optimal", "feasible") and fa
    has_b = sb in ("optimal", "feasible") and fb
    if has_a and ticked is not None and not score(ticked.requests[ia].chain, pa).feasible:  # type: ignore[arg-type]
        return False, math.nan, f"{a.solver} placement infeasible on the ticked data"
    if not has_a and not has_b:
        return True, 0.0, "both infeasible"
    if has_a != has_b:
        return False, math.inf, f"{a.solver} {sa} vs {b.solver} {sb}"
    scale = max(abs(wa), abs(wb))
    rel = 0.0 if scale == 0 else abs(wa - wb) / scale
    return rel <= OBJ_RTOL, rel, "objective" if rel > OBJ_RTOL else "equal"


@dataclass
class InstanceCheck:
    """The outcome of checking one instance."""

    problem: Problem
    comparisons: list[Comparison] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def disagreements(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.agree]

    def run(self, key: str, name: str, problem: Problem, **opts: Any) -> Result:
        """Solve ``problem`` with solver ``name`` and account its runtime under ``key``."""
        res = get_solver(name, **opts).solve(problem)
        self.times[key] = self.times.get(key, 0.0) + res.runtime_s
        self.calls[key] = self.calls.get(key, 0) + len(problem)
        return res

    def record(
        self,
        mode: str,
        a: Result,
        b: Result,
        pairs: Sequence[tuple[int, int]],
        ticked: Problem | None = None,
    ) -> None:
        """Compare request pairs (index in ``a``, index in ``b``) and keep the outcomes."""
        for ia, ib in pairs:
            agree, rel, reason = compare(a, ia, b, ib, ticked)
            sa, _, wa, pa = _answer(a, ia)
            sb, _, wb, pb = _answer(b, ib)
            detail = {
                "reason": reason,
                "options": a.options,
                "status": sa,
                "server_work": None if math.isnan(wa) else wa,
                "placement": pa,
                "reference_status": sb,
                "reference_server_work": None if math.isnan(wb) else wb,
                "reference_placement": pb,
                "message": None if a.messages is None else a.messages[ia],
            }
            rid = a.problem.requests[ia].id
            self.comparisons.append(Comparison(rid, mode, a.solver, b.solver, agree, rel, detail))


def check_problem(problem: Problem, ilps: Sequence[str], brute: bool = True) -> InstanceCheck:
    """Run every check of the module docstring on one problem."""
    check = InstanceCheck(problem)
    # ---- ticked: whole-number requests with tick 1, the rest with the default grid
    groups: dict[str, list[int]] = {"tick": [], "grid": []}
    for i in range(len(problem)):
        groups["tick" if is_integral(problem, i) else "grid"].append(i)
    for label, idx in groups.items():
        if not idx:
            continue
        sub = problem.subset(idx)
        opts: dict[str, Any] = {"tick": 1.0} if label == "tick" else {"grid": DEFAULT_GRID}
        tp = tick_problem(sub, **opts)
        every = [(i, i) for i in range(len(sub))]
        dp = check.run("dp-grid (ticked)", "dp-grid", sub, **opts)
        for name in ilps:
            res = check.run(f"{name} (ticked)", name, sub, **opts)
            check.record("ticked", res, dp, every, tp)
        # the DP's own placement must be feasible on the ticked data too
        for i in range(len(sub)):
            s, f, _, p = _answer(dp, i)
            if s in ("optimal", "feasible") and not (f and score(tp.requests[i].chain, p).feasible):  # type: ignore[arg-type]
                check.comparisons.append(
                    Comparison(
                        sub.ids[i],
                        "ticked",
                        "dp-grid",
                        "evaluator",
                        False,
                        math.nan,
                        {"reason": "dp placement infeasible on the ticked data", "placement": p},
                    )
                )
        small = [i for i in range(len(sub)) if sub.requests[i].num_layers <= BRUTE_MAX_LAYERS]
        if brute and small:
            bf = check.run("brute-force (ticked)", "brute-force", tp.subset(small))
            check.record("ticked", bf, dp, list(enumerate(small)))
    # ---- real data
    dpx = check.run("dp (real)", "dp", problem)
    every = [(i, i) for i in range(len(problem))]
    for name in ilps:
        res = check.run(f"{name} (real)", name, problem)
        check.record("real", res, dpx, every)
    small = [i for i in range(len(problem)) if problem.requests[i].num_layers <= BRUTE_MAX_LAYERS]
    if brute and small:
        bf = check.run("brute-force (real)", "brute-force", problem.subset(small))
        check.record("real", bf, dpx, list(enumerate(small)))
    return check


# ---------------------------------------------------------------------- report


@dataclass
class VerifyReport:
    """Summary of a verification run (what ``splitopt verify`` prints)."""

    family: str
    seed: int
    instances: int = 0
    requests: int = 0
    comparisons: int = 0
    disagreements: int = 0
    errors: int = 0
    max_rel_diff: float = 0.0
    times: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    solvers: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    error_messages: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    workers: int = 1
    out_dir: str | None = None
    csv: str | None = None
    resumed: int = 0
    dask: str | None = None

    def add_row(self, row: Mapping[str, str]) -> None:
        """Add one instance's CSV row (as :func:`verify_task` wrote it)."""
        if row.get("error"):
            self.errors += 1
            self.error_messages.append(f"instance {row.get('index')}: {row['error']}")
            return
        self.instances += int(row["instances"])
        self.requests += int(row["requests"])
        self.comparisons += int(row["comparisons"])
        self.disagreements += int(row["disagreements"])
        self.max_rel_diff = max(self.max_rel_diff, float(row["max_rel_diff"]))
        for k, v in row.items():
            if k.startswith("time: ") and v not in ("", None):
                self.times[k[6:]] = self.times.get(k[6:], 0.0) + float(v)
            elif k.startswith("calls: ") and v not in ("", None):
                self.calls[k[7:]] = self.calls.get(k[7:], 0) + int(v)
        if row.get("failures"):
            self.failures.extend(json.loads(row["failures"]))

    @property
    def ok(self) -> bool:
        return self.disagreements == 0 and self.errors == 0

    def render(self) -> str:
        """The summary as plain text."""
        lines = [
            f"verify: family {self.family}, seed {self.seed}, "
            + (f"Dask scheduler {self.dask}" if self.dask else f"{self.workers} worker(s)")
            + f", {self.wall_s:.1f} s wall",
            f"  solvers      {', '.join(self.solvers)}"
            + (f"  (not available, skipped: {', '.join(self.skipped)})" if self.skipped else ""),
            f"  instances    {self.instances}"
            + (f"  ({self.resumed} from an earlier run)" if self.resumed else ""),
            f"  requests     {self.requests}",
            f"  comparisons  {self.comparisons}",
            f"  disagreements {self.disagreements}",
            f"  max relative difference {self.max_rel_diff:.3g}",
            "  time per solver (solver's own runtime, summed over workers):",
        ]
        width = max((len(k) for k in self.times), default=10)
        for k in sorted(self.times):
            n = self.calls.get(k, 0)
            per = self.times[k] / n * 1e3 if n else math.nan
            lines.append(
                f"    {k:<{width}}  {self.times[k]:9.2f} s  {n:8d} requests  {per:8.3f} ms/request"
            )
        if self.csv:
            lines.append(f"  comparisons per instance in {self.csv}")
        if self.errors:
            lines.append(f"  instances that failed to run: {self.errors}")
            lines += [f"    {m}" for m in self.error_messages[:10]]
        if self.failures:
            lines.append(f"  disagreeing instances written to {self.out_dir}")
            for f in self.failures[:10]:
                lines.append(
                    f"    instance {f['index']} request {f['request']}: {f['solver']} vs "
                    f"{f['reference']} ({f['mode']}): {f['detail'].get('reason')}"
                )
        lines.append(
            "  RESULT: "
            + (
                "OK, zero disagreements"
                if self.ok
                else "DISAGREEMENTS FOUND"
                if self.disagreements
                else "ERRORS"
            )
        )
        return "\n".join(lines)


def verify_task(
    family: str,
    seed: int,
    index: int,
    size: str = "",
    ilps: str = "",
    brute: bool = True,
    **_: object,
) -> dict[str, Any]:
    """Check instance ``index`` of ``family`` (the harness runner of ``verify``).

    ``size`` "" is the family's verification default; ``ilps`` a comma-separated
    list. Returns the instance's row: counts, ``time: KEY`` / ``calls: KEY``
    per solver run, and ``failures`` (JSON list of disagreeing comparisons)."""
    problem = make_instance(family, seed, index, size or None)
    check = check_problem(problem, [s for s in ilps.split(",") if s], brute)
    finite = [c.rel_diff for c in check.comparisons if math.isfinite(c.rel_diff)]
    bad = check.disagreements
    row: dict[str, Any] = {
        "instances": 1,
        "requests": len(problem),
        "comparisons": len(check.comparisons),
        "disagreements": len(bad),
        "max_rel_diff": max(finite, default=0.0),
    }
    for k in sorted(check.times):
        row[f"time: {k}"] = check.times[k]
        row[f"calls: {k}"] = check.calls[k]
    failures = [
        {
            "index": index,
            "request": c.request,
            "mode": c.mode,
            "solver": c.solver,
            "reference": c.reference,
            "rel_diff": c.rel_diff,
            "detail": c.detail,
        }
        for c in bad
    ]
    row["failures"] = json.dumps(failures, default=str) if failures else ""
    return row


def _resolve_solvers(solvers: Iterable[str] | None) -> tuple[list[str], bool, list[str]]:
    """(ILP names to run, whether to run brute force, unavailable ILPs skipped).

    The DPs (``dp-grid`` ticked, ``dp`` real) are always run: they are the
    references. A selection without an ILP or brute force compares nothing and
    is refused (:class:`~splitopt.errors.UsageError`).
    """
    if solvers is None:
        ilps = [s for s in ILP_SOLVERS if available(s)]
        return ilps, True, [s for s in ILP_SOLVERS if s not in ilps]
    names = [s.strip() for s in solvers if s.strip()]
    allowed = {*ILP_SOLVERS, "brute-force", "dp", "dp-grid", "dp-exact"}
    for s in names:
        if s not in allowed:
            raise SolverError(
                f"verify compares exact solvers only; {s!r} is not one of "
                + ", ".join(sorted(allowed))
            )
        if not available(s):
            raise SolverError(f"solver {s!r} is not available here: install its backend")
    ilps, brute = [s for s in ILP_SOLVERS if s in names], "brute-force" in names
    if not ilps and not brute:
        raise UsageError(
            f"--solvers {','.join(names) or '(none)'} compares nothing: the DPs are the "
            "references, name at least one ILP or brute-force to compare with them"
        )
    return ilps, brute, []


def _write_failures(report: VerifyReport, out_dir: Path, size: str | None) -> None:
    from splitopt.formats.problem_file import write_problem
    from splitopt.outputs import write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    by_index: dict[int, list[dict[str, Any]]] = {}
    for f in report.failures:
        by_index.setdefault(int(f["index"]), []).append(f)
    for index, items in sorted(by_index.items()):
        problem = make_instance(report.family, report.seed, index, size)
        meta = {"family": report.family, "seed": report.seed, "index": index, "size": size}
        stem = out_dir / f"{report.family}-s{report.seed}-i{index}"
        write_problem(problem, f"{stem}.json", meta=meta)
        write_text(
            f"{stem}.disagreements.json",
            json.dumps(
                {"problem": f"{stem.name}.json", "disagreements": items}, indent=2, default=str
            ),
        )


def code_digest() -> str:
    """A hash of splitopt's source files: part of every verify task's key, so a
    comparisons file never lends a result of other code to a rerun."""
    import hashlib

    root = Path(__file__).resolve().parent
    h = hashlib.blake2b(digest_size=8)
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _refuse_other_settings(path: Path, rows: list[dict[str, str]], mine: dict[str, str]) -> None:
    """A comparisons file of other settings (solvers, family, seed, size) is refused:
    resuming into it would replace its rows (rows of an older code version are
    recomputed, as intended)."""
    names = {"ilps": "--solvers (ILPs)", "brute": "--solvers (brute-force)"}
    for r in rows:
        for k, v in mine.items():
            if k in r and r[k] != v:
                raise UsageError(
                    f"{path}: holds verify rows of other settings ({names.get(k, '--' + k)}: "
                    f"{r[k] or '(none)'!s}, this run: {v or '(none)'}); resuming would drop "
                    "them: give another --csv, or the same options to continue that run"
                )


def default_csv(family: str, seed: int, size: str | None) -> Path:
    """The CLI's default comparisons file: ``results/verify/FAMILY[-SIZE]-sSEED.csv``."""
    return Path("results") / "verify" / f"{family}{'-' + size if size else ''}-s{seed}.csv"


def run_verify(
    family: str = "random-chain",
    n: int = 100,
    seed: int = 0,
    solvers: Iterable[str] | None = None,
    size: str | None = None,
    out_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
    csv: str | os.PathLike | None = None,
    dask: object = None,
    dask_no_worker_s: float | None = None,
) -> VerifyReport:
    """Verify the DPs on ``n`` instances of ``family`` (module docstring).

    Args:
        family: ``random-chain`` (default), ``paper-like`` or ``llm-edge``.
        n: number of instances (at least 1).
        seed: run seed; instance i is fully determined by (seed, i).
        solvers: ILP names (and/or ``brute-force``) to compare with the DPs;
            default every available ILP backend plus brute force.
        size: family size (random-chain: ``None`` = the verification instance).
        out_dir: where disagreeing instances are written (default
            ``verify-failures/``, created only when something disagrees).
        workers: local processes (default: min(2, CPUs)); 1 runs in this process.
            Workers are *spawned*, so a script calling this with workers > 1
            needs the usual ``if __name__ == "__main__":`` guard.
        progress: the harness's progress bar.
        csv: the resumable comparisons file (one row per instance); rerunning
            with the same file continues an interrupted run. Task keys include
            :func:`code_digest`, so rows made by other code are recomputed (and
            dropped from the finished file). ``None``: a temporary file, removed
            afterwards (nothing to resume).
        dask: a Dask scheduler address (or ``Client``) to run on instead of local processes.
        dask_no_worker_s: with ``dask``, seconds without workers before giving up.

    Returns:
        The :class:`VerifyReport`; ``report.disagreements`` must be 0.

    Raises:
        UsageError: the run compares nothing.
    """
    from splitopt.experiments.harness import Task, read_csv_rows, run_tasks

    if n < 1:
        raise UsageError(f"verify needs at least one instance, got n = {n}")
    ilps, brute, skipped = _resolve_solvers(solvers)
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    report = VerifyReport(family=family, seed=seed, workers=workers, skipped=skipped)
    report.solvers = ["dp-grid", "dp", *ilps] + (["brute-force"] if brute else [])
    report.out_dir = str(out_dir or "verify-failures")
    report.dask = (
        None if dask is None else str(getattr(getattr(dask, "scheduler", None), "address", dask))
    )
    code = code_digest()
    tasks = [
        Task.make(
            "verify",
            "verify",  # registered runner name (experiments.harness)
            family=family,
            seed=seed,
            index=i,
            size=size or "",
            ilps=",".join(ilps),
            brute=brute,
            code=code,
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="splitopt-verify-") as tmp:
        path = Path(csv) if csv is not None else Path(tmp) / "verify.csv"
        report.csv = str(path) if csv is not None else None
        old = read_csv_rows(path)
        if csv is not None:
            _refuse_other_settings(
                path,
                old,
                {
                    "family": family,
                    "seed": str(seed),
                    "size": size or "",
                    "ilps": ",".join(ilps),
                    "brute": "true" if brute else "false",
                },
            )
        before = {r.get("key") for r in old}
        run_tasks(
            f"verify {family}",
            tasks,
            path,
            dask=dask,
            workers=workers,
            progress=progress,
            dask_no_worker_s=dask_no_worker_s,
            keep_stale=False,
        )
        rows = {r["key"]: r for r in read_csv_rows(path)}
    for t in tasks:
        report.resumed += t.key in before
        report.add_row(rows[t.key])
    report.failures.sort(key=lambda f: (f["index"], f["request"]))
    report.wall_s = time.perf_counter() - t0
    if report.comparisons == 0 and report.errors == 0:
        raise UsageError(
            f"verify compared nothing on {n} {family} instance(s) with "
            f"{', '.join(report.solvers)} (brute force runs on chains of at most "
            f"{BRUTE_MAX_LAYERS} layers): add an ILP"
        )
    if report.failures:
        _write_failures(report, Path(report.out_dir), size)
    return report


def replay(path: str | os.PathLike, solvers: Iterable[str] | None = None) -> list[Comparison]:
    """Re-run every check on a problem file (for instance one written by a failed run);
    returns the disagreeing comparisons (empty when all agree)."""
    from splitopt.formats.problem_file import read_problem

    ilps, brute, _ = _resolve_solvers(solvers)
    return check_problem(read_problem(path), ilps, brute).disagreements
