"""``joint-milp``: an exact MILP of the joint model (placement of block ranges on the
swarm's servers and one route per job over its own client and the swarm).

Formulation (ours; block-indexed, not BPRR's flow on hops). S servers, L blocks,
jobs r; per job its client device (``C``)::

    st_jb, h_jb ∈ {0,1}           server j's range starts at / hosts block b
    Σ_b st_jb ≤ 1,  st_jb ≤ h_jb,  h_jb ≤ h_j(b-1) + st_jb      one contiguous range
    Σ_b h_jb ≤ U_j                 U_j: the evaluator's block limit (L, cap, memory)
    x_rbd ∈ {0,1}                  block b of job r runs on device d (a server or C)
    Σ_d x_rbd = 1                  every block runs once
    x_rbj ≤ h_jb                   only where hosted
    x_rbj − x_r(b+1)j + h_j(b+1) − x_r(b+1)C ≤ 1
                                   a visit that stops before the end of j's range
                                   hands the next block to the client (the hop rule)
    v_rbj ≥ x_rbj − x_r(b−1)j      a visit to j starts at b (round trips paid)
    Σ_b x_rbC ≤ K_r                the client's memory (weights + this job's cache)
    s_m Σ_b h_jb + Σ_r s_c(r) Σ_b x_rbj ≤ M_j (1 + RTOL)      server memory (13b)

The hop rule of :mod:`splitopt.joint.model` in block form: a visit is a maximal run
of blocks on one server; it may start anywhere in the server's range and must run
to its end unless the client runs the next block (a route ending at block L ends
any visit). Two visits to the same server in a row are impossible in the model
(the first must end at its range's end), so runs and visits are the same thing.

Objectives (``objective``):

* ``time``: Σ_r T_r, T_r = Σ_j (C1_rj Σ_b v_rbj + C2_rj Σ_b x_rbj) + c_r Σ_b x_rbC with
  the per-request costs of :meth:`JointCluster.costs` (prefill plus ``l_out − 1``
  decode steps): the many-server MILP's objective with client blocks;
* ``swarm-work``: Σ_r Σ_b Σ_j x_rbj (blocks on the swarm) subject to T_r ≤ SLA_r
  (1 + RTOL) per job (no tie-break by time: any answer of least swarm work).

Exactness. As in :mod:`splitopt.placement.milp`: floating-point backends (HiGHS,
CBC, SCIP) get the knapsack rows (server memory, SLA) scaled by a power of two
(right-hand side in [0.5, 1)) and the objective scaled so its largest coefficient is
about 1; CP-SAT gets those rows scaled to about 2**30 with coefficients rounded down
(a relaxation) and the objective scaled to about 2**48 and rounded to nearest. Every
answer is decoded, scored by the one evaluator
(:func:`splitopt.joint.evaluate.score_answer`), and a knapsack row the evaluator
finds violated is tightened by the violation and the model solved again
(:data:`MAX_CUTS` times at most). No backend's ``optimal`` is trusted: every
``optimal`` or ``infeasible`` claim goes through the exact search of
:mod:`splitopt.joint.exact` (independent of this model): proved -> ``optimal`` /
``infeasible``; a better answer found -> that answer, ``optimal``, with a message
saying the backend's was off; the search stopped (placement cap, time limit) ->
``feasible`` ("not certified"). ``certify=False`` skips the search (then the status
is the backend's claim on the evaluator's answer, for the verification harness that
compares it with brute force).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from splitopt import interrupts
from splitopt.errors import SolverError, SolverUnavailable, UsageError
from splitopt.evaluate import RTOL
from splitopt.joint.evaluate import AnswerScore, score_answer
from splitopt.joint.model import CLIENT, TIME_OBJECTIVES, JointCluster, JointRoute, Segment
from splitopt.joint.route import OBJECTIVES
from splitopt.placement.evaluate import block_limits
from splitopt.placement.model import Placement
from splitopt.solvers.milp_backends import BackendResult, pow2_scale, quiet_stdout, solve_scip

#: Backends (as :data:`splitopt.placement.milp.BACKENDS`).
BACKENDS: tuple[str, ...] = ("highs", "cbc", "cpsat", "scip")
#: Most tightenings of violated knapsack rows per solve.
MAX_CUTS = 20
#: Largest model built (variables); larger instances are refused (ours).
MAX_VARS = 200_000
#: CP-SAT: objective scaled to about 2**OBJ_BITS; knapsack rows to about 2**ROW_BITS.
OBJ_BITS = 48
ROW_BITS = 30


@dataclass
class _Model:
    """A MILP in plain arrays: variables (bounds, integrality), structural rows with
    small integer coefficients, knapsack rows with float coefficients, an objective."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[tuple[list[int], list[int], float, float]] = field(default_factory=list)
    #: knapsack rows: (key, vars, float coefs, limit): Σ coef x ≤ limit
    knap: list[tuple[tuple, list[int], list[float], float]] = field(default_factory=list)
    cost: dict[int, float] = field(default_factory=dict)

    def var(self, lo: float = 0.0, hi: float = 1.0) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        return len(self.lower) - 1

    def row(self, var: list[int], coef: list[int], lo: float, hi: float) -> None:
        self.rows.append((var, coef, lo, hi))

    @property
    def n(self) -> int:
        return len(self.lower)


@dataclass
class _Built:
    model: _Model
    h: dict[tuple[int, int], int]  # (server, block) -> var
    x: dict[tuple[int, int, int], int]  # (job, block, device) -> var (device CLIENT = -1)
    empty: bool  # some (job, block) has no device at all: infeasible


def build(
    jc: JointCluster,
    objective: str,
    sla_s: Sequence[float] | None,
    placement: Placement | None = None,
) -> _Built:
    """The MILP of ``jc`` (only ``placement`` if given: its ranges fixed)."""
    cl = jc.cluster
    L, S = cl.num_blocks, cl.num_servers
    U = block_limits(cl)
    s_m = cl.model.block_bytes
    M = _Model()
    h: dict[tuple[int, int], int] = {}
    st: dict[tuple[int, int], int] = {}
    hosts = [j for j in range(S) if U[j] > 0]
    for j in hosts:
        if placement is not None:
            a, m = int(placement.first[j]), int(placement.count[j])
            for b in range(1, L + 1):
                on = 1.0 if m > 0 and a <= b <= a + m - 1 else 0.0
                h[j, b] = M.var(on, on)
                s_on = 1.0 if m > 0 and b == a else 0.0
                st[j, b] = M.var(s_on, s_on)
        else:
            for b in range(1, L + 1):
                h[j, b] = M.var()
                st[j, b] = M.var()
        M.row([st[j, b] for b in range(1, L + 1)], [1] * L, -math.inf, 1)
        M.row([h[j, b] for b in range(1, L + 1)], [1] * L, -math.inf, U[j])
        for b in range(1, L + 1):
            M.row([st[j, b], h[j, b]], [1, -1], -math.inf, 0)
            if b == 1:
                M.row([h[j, b], st[j, b]], [1, -1], -math.inf, 0)
            else:
                M.row([h[j, b], h[j, b - 1], st[j, b]], [1, -1, -1], -math.inf, 0)
    x: dict[tuple[int, int, int], int] = {}
    empty = False
    mem_vars: dict[int, tuple[list[int], list[float]]] = {
        j: ([h[j, b] for b in range(1, L + 1)], [s_m] * L) for j in hosts
    }
    for r, job in enumerate(cl.jobs):
        visit, block, cc = jc.costs(job)
        s_c = cl.model.cache_bytes(job.l_in, job.l_out)
        K = jc.max_client_blocks(job)
        srv = [
            j
            for j in hosts
            if math.isfinite(visit[j])
            and math.isfinite(block[j])
            and s_m + s_c <= cl.servers[j].memory_bytes * (1.0 + RTOL)
        ]
        client_ok = K > 0 and math.isfinite(cc)
        tvars: list[int] = []
        tcoef: list[float] = []
        for b in range(1, L + 1):
            if client_ok:
                x[r, b, CLIENT] = M.var()
            for j in srv:
                x[r, b, j] = M.var()
            here = [x[k] for k in ((r, b, d) for d in (CLIENT, *srv)) if k in x]
            if not here:
                empty = True
            else:
                M.row(here, [1] * len(here), 1, 1)
        for j in srv:
            for b in range(1, L + 1):
                M.row([x[r, b, j], h[j, b]], [1, -1], -math.inf, 0)
                v = M.var()
                prev = [x[r, b - 1, j]] if b > 1 else []
                M.row([v, x[r, b, j], *prev], [1, -1, *([1] * len(prev))], 0, math.inf)
                if b < L:
                    cvar = [x[r, b + 1, CLIENT]] if client_ok else []
                    M.row(
                        [x[r, b, j], x[r, b + 1, j], h[j, b + 1], *cvar],
                        [1, -1, 1, *([-1] * len(cvar))],
                        -math.inf,
                        1,
                    )
                mem_vars[j][0].append(x[r, b, j])
                mem_vars[j][1].append(s_c)
                tvars += [v, x[r, b, j]]
                tcoef += [float(visit[j]), float(block[j])]
                if objective == "time":
                    M.cost[v] = M.cost.get(v, 0.0) + float(visit[j])
                    M.cost[x[r, b, j]] = M.cost.get(x[r, b, j], 0.0) + float(block[j])
                else:
                    M.cost[x[r, b, j]] = 1.0
        if client_ok:
            cvars = [x[r, b, CLIENT] for b in range(1, L + 1)]
            M.row(cvars, [1] * L, -math.inf, K)
            tvars += cvars
            tcoef += [float(cc)] * L
            if objective == "time":
                for c in cvars:
                    M.cost[c] = float(cc)
        if objective == "swarm-work":
            assert sla_s is not None
            M.knap.append((("sla", r), tvars, tcoef, float(sla_s[r]) * (1.0 + RTOL)))
        if M.n > MAX_VARS:
            raise UsageError(
                f"joint-milp: the model needs more than {MAX_VARS:,} variables; "
                "use a heuristic on this cluster"
            )
    for j in hosts:
        vs, cs = mem_vars[j]
        M.knap.append((("mem", j), vs, cs, cl.servers[j].memory_bytes * (1.0 + RTOL)))
    return _Built(M, h, x, empty)


# ---------------------------------------------------------------- backends


def _float_knap(
    M: _Model, limits: dict[tuple, float]
) -> list[tuple[list[int], list[float], float, float]]:
    out = []
    for key, vs, cs, _ in M.knap:
        lim = limits[key]
        if lim < 0:
            out.append((vs, [1.0] * len(vs), -math.inf, -1.0))  # infeasible row
            continue
        k = pow2_scale(-1, lim) if lim > 0 else pow2_scale(0, max(cs, default=1.0) or 1.0)
        out.append((vs, [c * k for c in cs], -math.inf, lim * k))
    return out


def _obj_scale(M: _Model) -> float:
    big = max((abs(c) for c in M.cost.values()), default=0.0)
    return pow2_scale(0, big) if big > 0 else 1.0


def _all_rows(M: _Model, limits: dict[tuple, float]) -> list[tuple[list[int], list, float, float]]:
    return [*M.rows, *_float_knap(M, limits)]


def _run_highs(M: _Model, limits: dict[tuple, float], tl: float | None) -> BackendResult:
    from splitopt.solvers.milp_backends import highs_rows_model, solve_highs

    k = _obj_scale(M)
    cost = np.zeros(M.n)
    for v, c in M.cost.items():
        cost[v] = c * k
    h, _ = highs_rows_model(M.lower, M.upper, np.ones(M.n, dtype=bool), cost, _all_rows(M, limits))
    if tl is not None:
        h.setOptionValue("time_limit", float(max(tl, 0.01)))
    return solve_highs(h, k)


def _run_cbc(M: _Model, limits: dict[tuple, float], tl: float | None) -> BackendResult:
    from splitopt.placement.milp import CBC_ATTEMPTS
    from splitopt.solvers.milp_backends import pulp_rows_problem, solve_cbc

    k = _obj_scale(M)
    rows = _all_rows(M, limits)

    def make() -> tuple[Any, Any]:
        return pulp_rows_problem(
            "joint",
            M.lower,
            M.upper,
            [True] * M.n,
            [(v, c * k) for v, c in M.cost.items()],
            rows,
        )

    return solve_cbc(make, CBC_ATTEMPTS, tl)


def _run_scip(M: _Model, limits: dict[tuple, float], tl: float | None) -> BackendResult:
    from ortools.linear_solver import pywraplp

    s = pywraplp.Solver.CreateSolver("SCIP")
    if s is None:
        return BackendResult("error", message="OR-Tools was built without SCIP")
    k = _obj_scale(M)
    xs = [s.IntVar(M.lower[i], M.upper[i], f"x{i}") for i in range(M.n)]
    inf = s.infinity()
    for vs, cs, lo, hi in _all_rows(M, limits):
        ct = s.Constraint(-inf if lo == -math.inf else lo, inf if hi == math.inf else hi)
        for v, c in zip(vs, cs, strict=True):
            ct.SetCoefficient(xs[v], float(ct.GetCoefficient(xs[v])) + float(c))
    obj = s.Objective()
    for v, c in M.cost.items():
        if c:
            obj.SetCoefficient(xs[v], c * k)
    obj.SetMinimization()
    return solve_scip(s, xs, k, tl)


def _run_cpsat(M: _Model, limits: dict[tuple, float], tl: float | None) -> BackendResult:
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    xs = [m.new_int_var(int(M.lower[i]), int(M.upper[i]), f"x{i}") for i in range(M.n)]
    for vs, cs, lo, hi in M.rows:
        expr = sum(c * xs[v] for v, c in zip(vs, cs, strict=True))
        if lo == hi:
            m.add(expr == int(hi))
            continue
        if hi != math.inf:
            m.add(expr <= math.floor(hi))
        if lo != -math.inf:
            m.add(expr >= math.ceil(lo))
    for key, kvs, kcs, _ in M.knap:
        lim = limits[key]
        if lim < 0:
            m.add(sum(xs[v] for v in kvs) <= -1)
            continue
        kk = pow2_scale(ROW_BITS, lim) if lim > 0 else 1.0
        coefs: dict[int, int] = {}
        for v, c in zip(kvs, kcs, strict=True):
            coefs[v] = coefs.get(v, 0) + math.floor(c * kk)  # rounded down: a relaxation
        m.add(sum(c * xs[v] for v, c in coefs.items() if c) <= math.floor(lim * kk))
    total = sum(abs(c) for c in M.cost.values())
    k = pow2_scale(OBJ_BITS, total) if total > 0 else 1.0
    m.minimize(sum(round(c * k) * xs[v] for v, c in M.cost.items() if round(c * k)))
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = 1
    p.log_search_progress = False
    p.log_to_stdout = False
    p.relative_gap_limit = 0.0
    p.absolute_gap_limit = 0.0
    p.presolve_inclusion_work_limit = 0
    if tl is not None:
        p.max_time_in_seconds = float(max(tl, 0.01))
    p.catch_sigint_signal = False
    with quiet_stdout(), interrupts.stoppable(solver.stop_search):
        st = solver.solve(m)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        vals = np.array([solver.value(x) for x in xs], dtype=float)
        if st == cp_model.OPTIMAL:
            return BackendResult("optimal", vals)
        return BackendResult("feasible", vals, message="time limit reached")
    if st == cp_model.INFEASIBLE:
        return BackendResult("infeasible")
    if st == cp_model.UNKNOWN:
        return BackendResult("time_limit", message="time limit reached, no incumbent")
    return BackendResult("error", message=f"CP-SAT status {solver.status_name(st)}")


_RUNNERS = {"highs": _run_highs, "cbc": _run_cbc, "cpsat": _run_cpsat, "scip": _run_scip}


def backend_available(backend: str) -> bool:
    """Whether ``backend``'s library is installed (as the many-server MILP's test)."""
    from splitopt.placement.milp import BPRRMilp

    try:
        return bool(BPRRMilp(backend=backend).available())
    except Exception:
        return False


# ---------------------------------------------------------------- decode


def decode(
    jc: JointCluster, built: _Built, values: np.ndarray
) -> tuple[Placement, tuple[JointRoute, ...]]:
    """The placement and routes of a backend's (rounded) values."""
    cl = jc.cluster
    L, S = cl.num_blocks, cl.num_servers
    first = np.zeros(S, dtype=np.int64)
    count = np.zeros(S, dtype=np.int64)
    for j in range(S):
        on = [b for b in range(1, L + 1) if (j, b) in built.h and values[built.h[j, b]] > 0.5]
        if on:
            first[j] = on[0]
            count[j] = on[-1] - on[0] + 1
    routes = []
    for r in range(len(cl.jobs)):
        devs = []
        for b in range(1, L + 1):
            cand = [(values[v], d) for (rr, bb, d), v in built.x.items() if rr == r and bb == b]
            devs.append(max(cand)[1] if cand else CLIENT)
        segs: list[Segment] = []
        for b, d in enumerate(devs, start=1):
            if segs and segs[-1].device == d and segs[-1].last == b - 1:
                segs[-1] = Segment(d, segs[-1].first, b)
            else:
                segs.append(Segment(d, b, b))
        routes.append(tuple(segs))
    return Placement(first, count), tuple(routes)


# ---------------------------------------------------------------- the solver


@dataclass(frozen=True)
class JointResult:
    """The joint MILP's answer, scored by the evaluator.

    ``status``: ``optimal`` (proved: certified by the exact search), ``feasible``
    (an answer the evaluator accepts, not proved optimal), ``infeasible`` (proved),
    ``time_limit`` (no answer in time) or ``error``. ``value``: the objective by the
    evaluator (sum of T_r in s, or swarm blocks; inf without an answer);
    ``backend_status``: what the backend claimed; ``certificate``: the exact search's
    outcome (``proved``, ``improved``, ``stopped`` or ``not run``).
    """

    status: str
    objective: str
    placement: Placement | None
    routes: tuple[JointRoute, ...]
    score: AnswerScore | None
    value: float
    backend: str
    backend_status: str
    certificate: str
    runtime_s: float
    message: str | None = None


class JointMilp:
    """The joint MILP (see the module docstring) on one backend.

    Args:
        backend: ``highs`` (default), ``cbc``, ``cpsat`` or ``scip``.
        time_limit: seconds for building, every solve and the certificate (None: none).
        certify: run the exact search on the backend's claim (default True).
    """

    name: ClassVar[str] = "joint-milp"

    def __init__(
        self, backend: str = "highs", time_limit: float | None = None, certify: bool = True
    ) -> None:
        if backend not in BACKENDS:
            raise SolverError(
                f"joint-milp: unknown backend {backend!r}; choose from {', '.join(BACKENDS)}"
            )
        if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
            raise SolverError(f"joint-milp: time_limit must be > 0 seconds, got {time_limit!r}")
        self.backend = backend
        self.time_limit = time_limit
        self.certify = certify

    def solve(
        self,
        jc: JointCluster,
        objective: str = "time",
        sla_s: Sequence[float] | None = None,
        placement: Placement | None = None,
    ) -> JointResult:
        """Place and route ``jc`` (or only route, with ``placement`` fixed)."""
        if objective not in OBJECTIVES:
            raise UsageError(
                f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}"
            )
        if objective not in TIME_OBJECTIVES:
            raise UsageError(
                f"joint-milp does not optimise {objective!r}; choose from "
                f"{', '.join(TIME_OBJECTIVES)} (throughput: a placement algorithm such as "
                "cg-bprr, then the exact DP routes)"
            )
        if objective == "swarm-work":
            if sla_s is None or len(sla_s) != len(jc.cluster.jobs):
                raise UsageError("objective 'swarm-work' needs one SLA (s) per job")
        else:
            sla_s = None
        if not backend_available(self.backend):
            raise SolverUnavailable(f"joint-milp: backend {self.backend!r} is not installed")
        t0 = time.perf_counter()
        deadline = None if self.time_limit is None else t0 + self.time_limit
        built = build(jc, objective, sla_s, placement)
        M = built.model
        limits = {key: lim for key, _, _, lim in M.knap}
        notes: list[str] = []
        ans: BackendResult
        pl: Placement | None = None
        routes: tuple[JointRoute, ...] = ()
        sc: AnswerScore | None = None
        if built.empty:
            ans = BackendResult("infeasible", message="a block no device of a job can run")
        else:
            for _ in range(MAX_CUTS + 1):
                left = None if deadline is None else deadline - time.perf_counter()
                if left is not None and left <= 0:
                    ans = BackendResult("time_limit", message="time limit reached")
                    break
                if M.n == 0:  # nothing to decide (no server can host, no job)
                    ans = BackendResult("optimal", np.zeros(0))
                else:
                    ans = _RUNNERS[self.backend](M, limits, left)
                if ans.values is None:
                    break
                vals = np.round(ans.values)
                pl, routes = decode(jc, built, vals)
                sc = score_answer(jc, pl, routes, sla_s)
                if sc.feasible:
                    break
                cut = self._tighten(jc, built, vals, limits, sla_s)
                if not cut:
                    break
                notes.append("a knapsack row tightened after the evaluator rejected an answer")
            else:  # pragma: no cover - tolerance loop exhausted
                notes.append(f"{MAX_CUTS} tightenings did not settle the answer")
        value = sc.objective(objective) if sc is not None else math.inf
        have = sc is not None and sc.feasible
        bstat = ans.status
        if ans.message:
            notes.append(ans.message)
        status = bstat if bstat in ("optimal", "feasible", "infeasible", "time_limit") else "error"
        if status in ("optimal", "feasible") and not have:
            status, value = "error", math.inf
            notes.append(f"evaluator rejects the answer: {sc.reason if sc else 'none'}")
        cert = "not run"
        if self.certify and bstat in ("optimal", "infeasible", "error"):
            from splitopt.joint.exact import search

            target = value if have else math.inf
            ex = search(jc, objective, sla_s, target=target, placement=placement, deadline=deadline)
            cert = ex.outcome
            if ex.outcome == "proved":
                status = "optimal" if have else "infeasible"
            elif ex.outcome == "improved":
                notes.append(
                    f"the backend's answer ({value:.9g}) was off: the exact search found "
                    f"{ex.value:.9g}"
                )
                assert ex.placement is not None
                pl, routes = ex.placement, ex.routes
                sc = score_answer(jc, pl, routes, sla_s)
                value, status = sc.objective(objective), "optimal"
            else:
                notes.append(f"not certified: {ex.reason}")
                status = "feasible" if have else ("time_limit" if bstat != "error" else "error")
        elif not self.certify and status == "optimal":
            notes.append("backend's claim, not certified")
        return JointResult(
            status,
            objective,
            pl if have or status == "optimal" else None,
            routes if have or status == "optimal" else (),
            sc if have or status == "optimal" else None,
            value,
            self.backend,
            bstat,
            cert,
            time.perf_counter() - t0,
            "; ".join(notes) or None,
        )

    @staticmethod
    def _tighten(
        jc: JointCluster,
        built: _Built,
        vals: np.ndarray,
        limits: dict[tuple, float],
        sla_s: Sequence[float] | None,
    ) -> bool:
        """Lower each violated knapsack row's limit by its violation (exact sums of the
        decoded answer); False if no knapsack row is violated (the decoded answer
        breaks a structural row: a backend bug, reported as ``error``)."""
        cut = False
        for key, vs, cs, lim0 in built.model.knap:
            used = math.fsum(c * vals[v] for v, c in zip(vs, cs, strict=True))
            if used > lim0:
                limits[key] = min(limits[key], lim0 - (used - lim0)) - abs(lim0) * 1e-12
                cut = True
        return cut


__all__ = ["BACKENDS", "JointMilp", "JointResult", "build", "decode"]
