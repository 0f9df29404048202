"""The one ILP formulation of the split problem (SPEC §1), shared by every ILP backend.

Formulation (one request, L layers, boundaries b = 0..L)::

    s_l ∈ {0, 1}                      1 = layer l runs on the server
    s_{-1} = start, s_L = end         fixed (0 = client, 1 = server)
    up_b   ≥ s_b − s_{b−1}            client → server switch at boundary b
    down_b ≥ s_{b−1} − s_b            server → client switch at boundary b
    up_b, down_b ∈ [0, 1]             continuous suffices: their costs are ≥ 0
                                      and they appear only in "≤" rows, so at an
                                      integer s the least feasible value is the
                                      true 0/1 switch (CP-SAT makes them Boolean)
    Σ_l a_l (1 − s_l) + c_l s_l + Σ_b u_b up_b + v_b down_b ≤ D'      (latency, s)
    Σ_l m_l (1 − s_l) ≤ M'                                          (memory, bytes)
    minimise Σ_l w_l s_l                                            (server work)

Two data modes (see :class:`ILPSolver`):

* **real** (default): the request's own numbers, with D' = D (1 + RTOL) and
  M' = M (1 + RTOL), the evaluator's tolerance (:data:`splitopt.evaluate.RTOL`);
  a row whose coefficients are whole numbers gets ⌊D'⌋ + 1/2 instead (the same
  constraint, robust to presolve rounding: :func:`build_model`).
* **ticked**: the integer data of SPEC §3, built with exactly the same
  :func:`splitopt.discretise.tick_chain` call as the grid DP ``dp`` (same
  ``grid``/``tick``/``mem_grid``/``mem_tick``), so both solve the same ticked problem.

Exactness. A backend works to a floating-point feasibility tolerance (CBC,
HiGHS, SCIP: their defaults, about 1e-6 to 1e-7, on rows scaled by a power of
two to a right-hand side in [0.5, 1)) or on integers obtained by rounding coefficients *down*
(CP-SAT, see :func:`integer_row`). Either way it solves a model that is a (slight)
*relaxation* of the true one, so its optimum is a lower bound. Every placement a
backend returns is re-scored by the evaluator on the chain the model was built
from; if the evaluator finds it infeasible, a no-good cut excluding exactly that
placement is added and the model solved again (:data:`MAX_CUTS` times at most).
A placement that survives is feasible and optimal for a relaxation, hence
optimal (for CP-SAT up to the documented error of its integer objective,
:func:`integer_objective`; for every backend up to its own numerics, which is
what ``splitopt verify`` checks against the DPs and brute force). Terms that
alone exceed the right-hand side fix their variable up front (exactly: the
evaluator's sums of non-negative terms are at least as large), which also keeps
scaled coefficients ≤ 1.

The backends' default tolerances are kept on purpose: exactness comes from the
evaluator loop, not from the tolerance, and tightening them is not harmless
(HiGHS 1.12 with ``mip_feasibility_tolerance = 1e-9`` returned a non-optimal
placement as optimal on a 3-layer request in our tests).

Gap tolerances are 0 in every backend; solver output is suppressed and, around
every native solve, file descriptor 1 is pointed at ``/dev/null``
(:func:`quiet_stdout`) so that no banner reaches ``splitopt solve --json -``
(process-wide: another thread printing during a native solve is muted too).
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from splitopt.discretise import GridError
from splitopt.evaluate import RTOL, score
from splitopt.problem import Chain, Problem
from splitopt.solvers.base import ChainSolution, Solver, SolverError, SolverUnavailable
from splitopt.solvers.milp_backends import BackendResult, pow2_scale
from splitopt.solvers.params import ILPParams

#: Largest number of no-good cuts added to one request before giving up (status ``error``).
MAX_CUTS = 50
#: The ILP solvers refuse longer chains (ours: the model is built in Python, about
#: 3 L variables and 3 L rows; CBC gets it through an MPS file).
ILP_MAX_LAYERS = 10_000
#: Largest number of incumbent-fixing re-solves (:meth:`ILPSolver._tighten`).
MAX_TIGHTEN = 10
#: A backend optimum W is certified when no placement has work below W (1 − CERT_RTOL)
#: (the relative tolerance ``splitopt verify`` compares objectives with).
CERT_RTOL = 1e-9
#: Label cap of the exact optimality check (each label ~33 bytes).
CERT_MAX_LABELS = 2**22
#: CP-SAT: a non-integer resource row is scaled by a power of two K so that
#: its right-hand side is about 2**ROW_BITS, then rounded down (a relaxation).
ROW_BITS = 30
#: CP-SAT: non-integer server work is scaled by a power of two K so that the
#: total Σ w_l · K lies in [2**(OBJ_BITS − 1), 2**OBJ_BITS), then rounded to nearest.
#: The objective of any placement is then off by at most n / (2K) ≤ n · Σw · 2**-OBJ_BITS,
#: n = number of layers with w_l > 0 (see :func:`integer_objective`).
OBJ_BITS = 52


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ResourceRow:
    """Σ_i coef_i · (1 − x_i if negated_i else x_i) ≤ rhs, all coef_i > 0.

    Attributes:
        name: ``"latency"`` (seconds, or ticks) or ``"memory"`` (bytes, or memory ticks).
        var: variable index of each term.
        coef: its coefficient (> 0, in the row's unit).
        negated: whether the term is on 1 − x (layer on the client).
        rhs: the right-hand side (≥ 0, same unit).
    """

    name: str
    var: np.ndarray
    coef: np.ndarray
    negated: np.ndarray
    rhs: float

    @property
    def integral(self) -> bool:
        """Whether coefficients are whole numbers (ticked data)."""
        c = self.coef
        return bool(np.all(c == np.round(c)) and (c.size == 0 or c.max() < 2**53))

    def expanded(self) -> tuple[dict[int, float], float]:
        """The row as Σ coef'_j x_j ≤ rhs' with the constants of negated terms moved right."""
        coefs: dict[int, float] = {}
        rhs = self.rhs
        for v, c, neg in zip(
            self.var.tolist(), self.coef.tolist(), self.negated.tolist(), strict=True
        ):
            if neg:
                coefs[v] = coefs.get(v, 0.0) - c
                rhs -= c
            else:
                coefs[v] = coefs.get(v, 0.0) + c
        return coefs, rhs

    def normalised(self) -> tuple[dict[int, float], float]:
        """:meth:`expanded` times the power of two 2**-e that brings ``rhs`` (> 0 for
        every row a model keeps) into [0.5, 1), so the backends' absolute tolerances
        act as relative ones.

        A power of two, not 1 / rhs: scaling by it is exact in binary floating
        point, so whole-number rows (ticked data) stay exactly a multiple of whole
        numbers. Dividing by rhs instead turns 1/7 into an inexact decimal; CBC's
        and SCIP's presolve then scale such rows back to integers and round the
        right-hand side down, which cut off placements with latency exactly at the
        SLA in 11 of 199,040 verification comparisons before this was changed.
        """
        coefs, rhs = self.expanded()
        scale = math.ldexp(1.0, -math.frexp(self.rhs)[1])
        return {v: c * scale for v, c in coefs.items()}, rhs * scale


@dataclass(frozen=True)
class CoverRow:
    """Σ_i coef_i x_i ≥ rhs with small integer coefficients (switch links, no-good cuts)."""

    var: tuple[int, ...]
    coef: tuple[int, ...]
    rhs: int


@dataclass(frozen=True)
class SplitModel:
    """The backend-neutral ILP of one chain (module docstring).

    Variables 0..L−1 are the layers' s_l (binary); the rest are switch
    variables (continuous in [0, 1], or Boolean for CP-SAT). Bounds ``lower`` /
    ``upper`` may fix variables. The objective Σ objective_j x_j is server work
    in the instance's work unit.
    """

    num_layers: int
    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    objective: np.ndarray
    resources: tuple[ResourceRow, ...]
    links: tuple[CoverRow, ...]
    cuts: tuple[CoverRow, ...] = field(default=())

    @property
    def num_vars(self) -> int:
        return len(self.names)

    @property
    def trivially_infeasible(self) -> bool:
        """Some variable must be both 0 and 1 (a term alone breaks a row either way)."""
        return bool(np.any(self.lower > self.upper))

    def is_binary(self, j: int) -> bool:
        """Whether variable j is a layer variable (binary in every backend)."""
        return j < self.num_layers

    def with_cut(self, on_server: np.ndarray) -> SplitModel:
        """The model plus a no-good cut that excludes exactly this placement of the layers:
        Σ_{l: S} (1 − s_l) + Σ_{l: C} s_l ≥ 1."""
        x = np.asarray(on_server, dtype=bool)
        var = tuple(range(self.num_layers))
        coef = tuple(-1 if b else 1 for b in x.tolist())
        rhs = 1 - int(x.sum())
        return replace(self, cuts=(*self.cuts, CoverRow(var, coef, rhs)))

    def with_off(self, layers: np.ndarray) -> SplitModel:
        """The model with these layer variables fixed to 0 (client)."""
        upper = self.upper.copy()
        upper[np.asarray(layers, dtype=np.int64)] = 0
        upper.setflags(write=False)
        return replace(self, upper=upper)

    def placement(self, values: np.ndarray) -> np.ndarray:
        """Layer values (possibly fractional within tolerance) -> boolean placement."""
        return np.asarray(values, dtype=float)[: self.num_layers] > 0.5


def build_model(chain: Chain, slack: float) -> SplitModel:
    """The ILP of ``chain``; the right-hand sides are D · slack and M · slack.

    ``slack`` is ``1 + RTOL`` for the real data (the evaluator's tolerance) and 1
    for ticked data. A row whose coefficients are all whole numbers (ticked
    data, integer-valued real data) gets the right-hand side ⌊rhs⌋ + 1/2: the
    same constraint on its whole-number left-hand side, but half a unit away
    from every value it can take. Without this, a right-hand side equal to an
    attainable value (latency exactly at the SLA, common with whole numbers) or
    within a solver epsilon of one (D (1 + 1e-9)) was rounded the wrong way by
    CBC's, SCIP's or HiGHS's presolve in a few of 199,040 verification comparisons.
    """
    L = chain.num_layers
    start = int(chain.start == "server")
    end = int(chain.end == "server")
    names = [f"s{i}" for i in range(L)]
    lvar: list[int] = []
    lcoef: list[float] = []
    lneg: list[bool] = []
    for i in range(L):
        a, c = float(chain.client_time_s[i]), float(chain.server_time_s[i])
        if a > 0:
            lvar.append(i)
            lcoef.append(a)
            lneg.append(True)
        if c > 0:
            lvar.append(i)
            lcoef.append(c)
            lneg.append(False)
    links: list[CoverRow] = []
    for b in range(L + 1):
        prev = ("c", start) if b == 0 else ("v", b - 1)
        cur = ("c", end) if b == L else ("v", b)
        for kind, cost, hi, lo in (
            ("up", float(chain.uplink_s[b]), cur, prev),
            ("down", float(chain.downlink_s[b]), prev, cur),
        ):
            # switch ≥ hi − lo; needed only where it can be 1 and costs time
            if cost <= 0:
                continue
            if (hi[0] == "c" and hi[1] == 0) or (lo[0] == "c" and lo[1] == 1):
                continue  # hi − lo ≤ 0 always
            j = len(names)
            names.append(f"{kind}{b}")
            lvar.append(j)
            lcoef.append(cost)
            lneg.append(False)
            # hi, lo variables: switch − s_hi + s_lo ≥ 0;  hi = 1: switch + s_lo ≥ 1;
            # lo = 0: switch − s_hi ≥ 0
            var, coef = [j], [1]
            if hi[0] == "v":
                var.append(hi[1])
                coef.append(-1)
            if lo[0] == "v":
                var.append(lo[1])
                coef.append(1)
            links.append(CoverRow(tuple(var), tuple(coef), 1 if hi[0] == "c" else 0))
    n = len(names)
    lower = np.zeros(n, dtype=np.int64)
    upper = np.ones(n, dtype=np.int64)
    rows = [
        ResourceRow(
            "latency",
            np.array(lvar, dtype=np.int64),
            np.array(lcoef, dtype=np.float64),
            np.array(lneg, dtype=bool),
            float(chain.sla_s) * slack,
        )
    ]
    if chain.memory_budget_bytes is not None:
        m = chain.client_memory_bytes
        idx = np.flatnonzero(m > 0)
        rows.append(
            ResourceRow(
                "memory",
                idx.astype(np.int64),
                m[idx].astype(np.float64),
                np.ones(idx.size, dtype=bool),
                float(chain.memory_budget_bytes) * slack,
            )
        )
    rows = [
        replace(r, rhs=math.floor(r.rhs) + 0.5) if r.integral and r.rhs < 2**52 else r for r in rows
    ]
    # Fix variables whose term alone exceeds a right-hand side.
    for row in rows:
        big = row.coef > row.rhs
        for v, neg in zip(row.var[big].tolist(), row.negated[big].tolist(), strict=True):
            if neg:
                lower[v] = 1
            else:
                upper[v] = 0
    kept: list[ResourceRow] = []
    for row in rows:
        v = row.var
        alive = np.where(row.negated, lower[v] == 0, upper[v] == 1)
        if not alive.any():
            continue
        kept.append(ResourceRow(row.name, v[alive], row.coef[alive], row.negated[alive], row.rhs))
    objective = np.zeros(n)
    objective[:L] = chain.server_work
    for arr in (lower, upper, objective):
        arr.setflags(write=False)
    return SplitModel(L, tuple(names), lower, upper, objective, tuple(kept), tuple(links))


# ---------------------------------------------------------------- integer scaling


def integer_row(row: ResourceRow) -> tuple[list[int], int, float]:
    """Integer coefficients and right-hand side of a resource row for CP-SAT.

    Whole-number rows (ticked data) are used as they are, with ⌊rhs⌋. Other rows
    are scaled by a power of two K (rhs · K ≈ 2**ROW_BITS) and rounded *down*:
    Σ ⌊c K⌋ x ≤ Σ c K x ≤ rhs K implies Σ ⌊c K⌋ x ≤ ⌊rhs K⌋, so every
    placement feasible for the real row stays feasible (a relaxation; the
    evaluator re-check with no-good cuts removes what the rounding lets in).

    Returns (coefficients, right-hand side, K).
    """
    if row.integral and row.rhs < 2**53:
        return [int(c) for c in row.coef.tolist()], math.floor(row.rhs), 1.0
    k = pow2_scale(ROW_BITS, row.rhs)
    coefs = [math.floor(c * k) for c in row.coef.tolist()]
    return coefs, math.floor(row.rhs * k), k


def integer_objective(objective: np.ndarray) -> tuple[list[int], float, float]:
    """Integer objective coefficients for CP-SAT, the scale K and the error bound.

    Whole-number work with Σ w < 2**OBJ_BITS is exact (K = 1, bound 0).
    Otherwise work is scaled by the power of two K with 2**(OBJ_BITS − 1) ≤ Σ w · K
    < 2**OBJ_BITS and rounded to nearest, so for every placement x:
    |W(x) − W̃(x)/K| ≤ n / (2K) with n the number of positive coefficients; the
    placement CP-SAT proves optimal for W̃ is within n / K ≤ n · Σw · 2**(1 − OBJ_BITS)
    (= n · Σw · 2**-51 ≈ n · Σw · 4.4e-16) of the true optimum.

    Returns (coefficients, K, absolute error bound on the optimum in work units).
    """
    w = np.asarray(objective, dtype=float)
    total = float(w.sum())
    if np.all(w == np.round(w)) and total < 2**OBJ_BITS:
        return [int(x) for x in w.tolist()], 1.0, 0.0
    k = pow2_scale(OBJ_BITS, total)
    n = int(np.count_nonzero(w))
    return [round(x * k) for x in w.tolist()], k, n / k


# ----------------------------------------------------------------- stdout guard
# (quiet_stdout lives in splitopt.solvers.milp_backends, shared with the BPRR MILP)

# ---------------------------------------------------------------- backend result
# (BackendResult lives in splitopt.solvers.milp_backends, shared with the BPRR MILP)


# ---------------------------------------------------------------- shared solver


class ILPSolver(Solver):
    """Shared logic of the ILP baselines: mode selection, the cut loop, statuses.

    Parameters (:class:`~splitopt.solvers.params.ILPParams`): real data (the
    default; option ``exact``) or ticked mode with a
    :class:`~splitopt.discretise.Discretisation` that fixes the time tick
    (options ``grid`` or ``tick``, and ``mem_grid``/``mem_tick``), as ``dp``.

    Statuses: real mode ``optimal`` when the backend proves optimality; ticked
    mode ``optimal`` only where ticking lost nothing (like ``dp``), else
    ``feasible``; ``feasible`` with a bound, or ``time_limit``, when the time
    limit stops the backend. Bounds are reported in real mode only (a ticked
    optimum is not a lower bound on the real one).

    Subclasses implement :meth:`backend_available` and :meth:`run_model`.
    """

    exact = True
    params_type = ILPParams
    params: ILPParams
    #: Name of the library to install, for error messages.
    backend: ClassVar[str] = ""

    @property
    def ticked(self) -> bool:
        """Whether the model is built from ticked data (ticked mode)."""
        return self.params.ticked

    @classmethod
    def available(cls) -> bool:
        try:
            return bool(cls.backend_available())
        except Exception:  # a broken install must read as "not available"
            return False

    @classmethod
    @abstractmethod
    def backend_available(cls) -> bool:
        """Whether the backend library imports and works (may raise: read as False)."""

    @abstractmethod
    def run_model(self, model: SplitModel, time_limit: float | None) -> BackendResult:
        """Solve ``model`` with the backend (gap 0, quiet, single thread)."""

    def prepare(self) -> None:
        """Before the clock starts: compile (or load) the label-DP kernel of the
        optimality check (:meth:`_certify`), as the DP solvers do, and import the
        backend."""
        from splitopt.solvers.kernels import warm_up

        warm_up()
        self.available()  # imports the backend (no solve: a signal then would hit native code)

    def check(self, problem: Problem) -> None:
        """Refuse chains longer than :data:`ILP_MAX_LAYERS` (exit 2 in the CLI)."""
        for r in problem.requests:
            if r.chain.num_layers > ILP_MAX_LAYERS:
                raise SolverError(
                    f"solver {self.name!r} refuses request {r.id!r}: {r.chain.num_layers:,} "
                    f"layers > {ILP_MAX_LAYERS:,} (model size; use dp or dp-exact)"
                )

    def model_chain(self, chain: Chain) -> tuple[Chain, float, bool]:
        """(chain the model is built from, right-hand-side slack, ticking exact?)."""
        if not self.ticked:
            return chain, 1.0 + RTOL, True
        assert self.params.discretisation is not None
        try:
            t = self.params.discretisation.tick(chain)
        except GridError as exc:
            raise SolverError(str(exc)) from None
        return t.to_chain(), 1.0, t.exact

    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        deadline = None if time_limit is None else time.perf_counter() + time_limit
        if not self.available():
            raise SolverUnavailable(
                f"solver {self.name!r} is not available: install "
                f"{self.backend or 'its backend'} (pip install 'splitopt[ilp]')"
            )
        mchain, slack, tick_exact = self.model_chain(chain)
        model = build_model(mchain, slack)
        if model.trivially_infeasible:
            return ChainSolution(
                "infeasible", None, None if self.ticked else math.inf, "a single term breaks a row"
            )
        first = self._cut_loop(model, mchain, deadline)
        if first.status != "optimal" or first.placement is None:
            return self._finish(first, tick_exact)
        best, model = self._tighten(first, model, mchain, deadline)
        return self._finish(self._certify(best, model, mchain, deadline), tick_exact)

    def _finish(self, sol: ChainSolution, tick_exact: bool) -> ChainSolution:
        """Ticked mode: ``optimal`` only where ticking lost nothing; no bounds."""
        if not self.ticked:
            return sol
        bound = None
        status = sol.status
        if status == "optimal" and not tick_exact:
            status = "feasible"
        return ChainSolution(status, sol.placement, bound, sol.message)

    def _tighten(
        self, first: ChainSolution, model: SplitModel, mchain: Chain, deadline: float | None
    ) -> tuple[ChainSolution, SplitModel]:
        """Re-solve with every layer whose work alone exceeds the incumbent's fixed to the
        client, while that improves the incumbent (at most :data:`MAX_TIGHTEN` times).

        Exact: a placement with such a layer on the server has more work than the
        incumbent, so no better placement is cut off. It removes the large
        coefficients whose scale hid the small ones from the backend's tolerances
        (work 1e3 … 1e13 in one chain gave ``optimal`` placements up to 27×
        worse than brute force before this and :meth:`_certify`).
        """
        best = first
        work = score(mchain, first.placement).server_work  # type: ignore[arg-type]
        w = model.objective[: model.num_layers]
        for _ in range(MAX_TIGHTEN):
            new = (w > work) & (model.upper[: model.num_layers] == 1)
            if not new.any() or (deadline is not None and time.perf_counter() >= deadline):
                break
            model = model.with_off(np.flatnonzero(new))
            res = self._cut_loop(model, mchain, deadline)
            if res.placement is None:
                break
            w2 = score(mchain, res.placement).server_work
            if w2 >= work:
                break
            best, work = res, w2
            if res.status != "optimal":
                break
        return best, model

    def _certify(
        self, sol: ChainSolution, model: SplitModel, mchain: Chain, deadline: float | None
    ) -> ChainSolution:
        """Prove the backend's ``optimal`` claim or downgrade it to ``feasible``.

        The backend works to floating-point tolerances, so its claim alone is not a
        proof (module docstring). The proof: the exact label-setting search on the
        model's chain (:func:`splitopt.solvers.dp.solve_labels`, real arithmetic,
        no ticks) looks only for placements with work below the claimed optimum W
        (every label whose work exceeds W is dropped at once, so the search is
        small where the claim is right). None below W (1 − :data:`CERT_RTOL`):
        ``optimal``. One found: the backend's answer was not optimal; the model is
        re-solved once with the better work as the incumbent (:meth:`_tighten`); if the
        backend then matches it, its new placement is ``optimal``, else the exact
        check's own placement is returned, ``optimal`` (it is proven), with a
        message saying the backend's optimum was off and by how much (our choice:
        the proven answer, labelled, rather than a known-worse one). Search stopped
        (label cap :data:`CERT_MAX_LABELS`, or the time limit): the backend's
        placement, ``feasible``, "not certified".
        """
        if sol.status != "optimal" or sol.placement is None:
            return sol
        from splitopt.solvers.dp import DPStopped, solve_labels

        work = score(mchain, sol.placement).server_work
        if work <= 0:
            return sol  # nothing is below zero work
        try:
            best, x, _ = solve_labels(
                mchain, ub=work, max_labels=CERT_MAX_LABELS, deadline=deadline
            )
        except DPStopped as exc:
            why = "time limit" if exc.reason == "time" else f"{CERT_MAX_LABELS:,}-label cap"
            return ChainSolution(
                "feasible",
                sol.placement,
                sol.bound,
                f"backend claims optimal; not certified (exact check stopped at the {why})",
            )
        if not math.isfinite(best) or best >= work * (1 - CERT_RTOL):
            return sol
        # the backend's optimum is wrong (tolerances): one more try with the true incumbent
        w = model.objective[: model.num_layers]
        new = (w > best) & (model.upper[: model.num_layers] == 1)
        if new.any():
            res = self._cut_loop(model.with_off(np.flatnonzero(new)), mchain, deadline)
            if (
                res.placement is not None
                and res.status == "optimal"
                and score(mchain, res.placement).server_work <= best * (1 + CERT_RTOL)
            ):
                return ChainSolution("optimal", res.placement, float(best), res.message)
        p = np.asarray(x, dtype=bool)
        if not score(mchain, p).feasible:  # cannot happen (same tolerance); never trust it
            return ChainSolution(
                "feasible",
                sol.placement,
                float(best),
                f"backend claimed optimal with server work {work!r}; an exact check proves "
                f"{float(best)!r} (solver tolerances); downgraded",
            )
        return ChainSolution(
            "optimal",
            p,
            float(best),
            f"backend's optimum {work!r} was off by its tolerances; placement of the exact "
            f"check (label search), proven optimal: {float(best)!r}",
        )

    def _cut_loop(self, model: SplitModel, mchain: Chain, deadline: float | None) -> ChainSolution:
        """Solve, re-score with the evaluator, add a no-good cut and re-solve while the
        backend's placement is evaluator-infeasible. Status ``optimal`` here means the
        *backend* claims optimality (not yet certified: :meth:`_certify`)."""
        for _ in range(MAX_CUTS + 1):
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                return ChainSolution("time_limit", None, None, "time limit reached")
            res = self.run_model(model, left)
            bound = res.bound
            if res.status == "infeasible":
                return ChainSolution("infeasible", None, math.inf)
            if res.status == "error":
                return ChainSolution("error", None, None, res.message)
            if res.values is None:
                return ChainSolution("time_limit", None, bound, res.message or "time limit reached")
            x = model.placement(res.values)
            sc = score(mchain, x)
            if sc.feasible:
                # in real mode mchain is the chain itself: hand the score along (scored once)
                carried = None if self.ticked else sc
                if res.status == "optimal":  # the backend's claim (certified later)
                    b = sc.server_work if bound is None else bound
                    return ChainSolution("optimal", x, b, res.message, carried)
                return ChainSolution(
                    "feasible", x, bound, res.message or "time limit reached", carried
                )
            # within the backend's tolerance but not the evaluator's: exclude and re-solve
            if deadline is not None and time.perf_counter() >= deadline:
                return ChainSolution("time_limit", None, bound, "time limit reached")
            model = model.with_cut(x)
        return ChainSolution(
            "error",
            None,
            None,
            f"{MAX_CUTS} no-good cuts did not yield an evaluator-feasible placement",
        )
