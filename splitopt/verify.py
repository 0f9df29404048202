"""Verification harness (SPEC §3): the DPs against the ILPs and brute force, request by request.

For every instance, with each request's data treated in two ways:

* **ticked**: ``dp`` == every ILP in ticked mode (same grid/tick, so the same
  integer problem) == ``brute-force`` on the ticked data (L ≤ 16). A request whose
  data are all whole numbers is ticked with tick 1 (exact); any other request
  with the default grid (:data:`splitopt.discretise.DEFAULT_GRID`).
* **real**: ``dp-exact`` == every ILP on the real data == ``brute-force`` (L ≤ 16).

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

Disagreeing instances are written to ``out_dir`` as problem files (with the
family, seed and index in their ``meta``) next to a JSON of what disagreed;
:func:`replay` re-runs the checks on such a file.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.discretise import DEFAULT_GRID, tick_problem
from splitopt.evaluate import score
from splitopt.problem import Chain, Problem, Request
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
#: often exactly at a placement's latency). Issue 9: the ILPs' tolerances and the
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
        reqs.append(Request(id=f"r{k}", chain=chain, meta={"shape": shape}))
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
        dp = check.run("dp (ticked)", "dp", sub, **opts)
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
                        "dp",
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
    dpx = check.run("dp-exact (real)", "dp-exact", problem)
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
    max_rel_diff: float = 0.0
    times: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    solvers: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    workers: int = 1
    out_dir: str | None = None

    def add(self, other: ChunkStats) -> None:
        self.instances += other.instances
        self.requests += other.requests
        self.comparisons += other.comparisons
        self.disagreements += other.disagreements
        self.max_rel_diff = max(self.max_rel_diff, other.max_rel_diff)
        for k, v in other.times.items():
            self.times[k] = self.times.get(k, 0.0) + v
        for k, n in other.calls.items():
            self.calls[k] = self.calls.get(k, 0) + n
        self.failures.extend(other.failures)

    @property
    def ok(self) -> bool:
        return self.disagreements == 0

    def render(self) -> str:
        """The summary as plain text."""
        lines = [
            f"verify: family {self.family}, seed {self.seed}, {self.workers} worker(s), "
            f"{self.wall_s:.1f} s wall",
            f"  solvers      {', '.join(self.solvers)}"
            + (f"  (not available, skipped: {', '.join(self.skipped)})" if self.skipped else ""),
            f"  instances    {self.instances}",
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
        if self.failures:
            lines.append(f"  disagreeing instances written to {self.out_dir}")
            for f in self.failures[:10]:
                lines.append(
                    f"    instance {f['index']} request {f['request']}: {f['solver']} vs "
                    f"{f['reference']} ({f['mode']}): {f['detail'].get('reason')}"
                )
        lines.append(
            "  RESULT: " + ("OK, zero disagreements" if self.ok else "DISAGREEMENTS FOUND")
        )
        return "\n".join(lines)


@dataclass
class ChunkStats:
    """What a worker returns for a chunk of instances (picklable)."""

    instances: int = 0
    requests: int = 0
    comparisons: int = 0
    disagreements: int = 0
    max_rel_diff: float = 0.0
    times: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


def _run_chunk(
    family: str,
    seed: int,
    indices: Sequence[int],
    size: str | None,
    ilps: Sequence[str],
    brute: bool,
) -> ChunkStats:
    from splitopt.formats.problem_file import problem_to_dict

    out = ChunkStats()
    for index in indices:
        problem = make_instance(family, seed, index, size)
        check = check_problem(problem, ilps, brute)
        out.instances += 1
        out.requests += len(problem)
        out.comparisons += len(check.comparisons)
        for c in check.comparisons:
            if math.isfinite(c.rel_diff):
                out.max_rel_diff = max(out.max_rel_diff, c.rel_diff)
        for k, v in check.times.items():
            out.times[k] = out.times.get(k, 0.0) + v
        for k, n in check.calls.items():
            out.calls[k] = out.calls.get(k, 0) + n
        bad = check.disagreements
        out.disagreements += len(bad)
        if bad:
            doc = problem_to_dict(
                problem, {"family": family, "seed": seed, "index": index, "size": size}
            )
            for c in bad:
                out.failures.append(
                    {
                        "index": index,
                        "request": c.request,
                        "mode": c.mode,
                        "solver": c.solver,
                        "reference": c.reference,
                        "rel_diff": c.rel_diff,
                        "detail": c.detail,
                        "problem": doc,
                    }
                )
    return out


def _resolve_solvers(solvers: Iterable[str] | None) -> tuple[list[str], bool, list[str]]:
    """(ILP names to run, whether to run brute force, unavailable ILPs skipped)."""
    if solvers is None:
        ilps = [s for s in ILP_SOLVERS if available(s)]
        return ilps, True, [s for s in ILP_SOLVERS if s not in ilps]
    names = [s.strip() for s in solvers if s.strip()]
    allowed = {*ILP_SOLVERS, "brute-force", "dp", "dp-exact"}
    for s in names:
        if s not in allowed:
            raise SolverError(
                f"verify compares exact solvers only; {s!r} is not one of "
                + ", ".join(sorted(allowed))
            )
        if not available(s):
            raise SolverError(f"solver {s!r} is not available here: install its backend")
    return [s for s in ILP_SOLVERS if s in names], "brute-force" in names, []


def _write_failures(report: VerifyReport, out_dir: Path) -> None:
    from splitopt.formats.problem_file import problem_from_dict, write_problem
    from splitopt.outputs import write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    by_index: dict[int, list[dict[str, Any]]] = {}
    for f in report.failures:
        by_index.setdefault(f["index"], []).append(f)
    for index, items in sorted(by_index.items()):
        doc = items[0]["problem"]
        stem = out_dir / f"{report.family}-s{report.seed}-i{index}"
        write_problem(problem_from_dict(doc), f"{stem}.json", meta=doc.get("meta"))
        info = [{k: v for k, v in f.items() if k != "problem"} for f in items]
        write_text(
            f"{stem}.disagreements.json",
            json.dumps(
                {"problem": f"{stem.name}.json", "disagreements": info}, indent=2, default=str
            ),
        )


def run_verify(
    family: str = "random-chain",
    n: int = 100,
    seed: int = 0,
    solvers: Iterable[str] | None = None,
    size: str | None = None,
    out_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> VerifyReport:
    """Verify the DPs on ``n`` instances of ``family`` (module docstring).

    Args:
        family: ``random-chain`` (default), ``paper-like`` or ``llm-edge``.
        n: number of instances.
        seed: run seed; instance i is fully determined by (seed, i).
        solvers: ILP names (and/or ``brute-force``) to compare with the DPs;
            default every available ILP backend plus brute force.
        size: family size (random-chain: ``None`` = the verification instance).
        out_dir: where disagreeing instances are written (default
            ``verify-failures/``, created only when something disagrees).
        workers: processes (default: min(2, CPUs)); 1 runs in this process.
            Workers are *spawned*, so a script calling this with workers > 1
            needs the usual ``if __name__ == "__main__":`` guard.
        progress: progress lines on stderr.

    Returns:
        The :class:`VerifyReport`; ``report.disagreements`` must be 0.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    ilps, brute, skipped = _resolve_solvers(solvers)
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    report = VerifyReport(family=family, seed=seed, workers=workers, skipped=skipped)
    report.solvers = ["dp", "dp-exact", *ilps] + (["brute-force"] if brute else [])
    report.out_dir = str(out_dir or "verify-failures")
    t0 = time.perf_counter()
    chunk = max(1, min(25, n // (workers * 4) or 1))
    chunks = [list(range(i, min(n, i + chunk))) for i in range(0, n, chunk)]
    last = [0.0]

    def tick(done: ChunkStats) -> None:
        report.add(done)
        now = time.perf_counter()
        if progress and (now - last[0] > 5 or report.instances == n):
            last[0] = now
            print(
                f"verify: {report.instances}/{n} instances, {report.comparisons} comparisons, "
                f"{report.disagreements} disagreements, {now - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    if workers == 1 or len(chunks) <= 1:
        for c in chunks:
            tick(_run_chunk(family, seed, c, size, ilps, brute))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futs = [pool.submit(_run_chunk, family, seed, c, size, ilps, brute) for c in chunks]
            for fut in as_completed(futs):
                tick(fut.result())
    report.failures.sort(key=lambda f: (f["index"], f["request"]))
    report.wall_s = time.perf_counter() - t0
    if report.failures:
        _write_failures(report, Path(report.out_dir))
    return report


def replay(path: str | os.PathLike, solvers: Iterable[str] | None = None) -> list[Comparison]:
    """Re-run every check on a problem file (for instance one written by a failed run);
    returns the disagreeing comparisons (empty when all agree)."""
    from splitopt.formats.problem_file import read_problem

    ilps, brute, _ = _resolve_solvers(solvers)
    return check_problem(read_problem(path), ilps, brute).disagreements
