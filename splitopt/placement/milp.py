"""``bprr-milp``: the exact MILP of joint block placement and request routing (BPRR).

Source: T. Sun, T. He, B. Ji, P. Parag, "Optimizing Resource Allocation for
Geographically-Distributed Inference by Large Language Models", arXiv:2512.21884,
formulation (13) with the McCormick rows (9)-(12), as implemented by the authors in
``BPRR_MILP_general.m`` (GitHub ``TingyangSunJeff/LLM_inference_simulator``, commit
3f78053; helpers ``construct_routing_topology.m``, ``total_inference_time.m``). The
code below is ours; the formulation follows that file except where marked.

Formulation (S servers, L blocks, jobs r ∈ R; per job its own dummy source "s",
which ends at block 0, and dummy sink "t", which starts at block L + 1)::

    a_j ∈ {1..L}, m_j ∈ {0..U_j}            first block and count of server j
    a_j + m_j ≤ L + 1                        (13d)
    f^r_ij ∈ {0, 1}                          arc i → j used by job r, on the arcs
                                             s → j, i → j (i ≠ j), j → t
    Σ_out f − Σ_in f = 1 at s, −1 at t, 0 at every server        (13c)
    α = f^r_ij a_j,  γ = f^r_ij m_j,  β = f^r_ij a_i,  δ = f^r_ij m_i   (9)-(12),
                                             McCormick rows, exact for binary f
    α ≤ a_i + m_i       (hop: a_j ≤ a_i + m_i when f = 1)                (13e)
    β + δ ≤ a_j + m_j − 1  (hop: a_i + m_i ≤ a_j + m_j − 1 when f = 1)  (13f)
    κ^r_ij = α + γ − β − δ = f (a_j + m_j − a_i − m_i)   blocks job r runs at j
    s_m m_j + Σ_r s_c(r) Σ_i κ^r_ij ≤ M_j                          (13b)
    minimise Σ_r Σ_{i→j, j a server} C1(r, j) f^r_ij + C2(r, j) κ^r_ij      (13a)

    C1(r, j) = t^I_cj(l_in) + (l_out − 1) t_cj,   C2(r, j) = τ^I_j(l_in) + (l_out − 1) τ_j

so the objective is Σ_r T_r of SPEC-PLACEMENT P1 exactly. Along a route the end
a + m strictly increases (13f), so no flow can cycle and every route visits a
server at most once.

Where we deviate from ``BPRR_MILP_general.m`` (none changes the optimum of P1):

* Objective: the file minimises l_c Σ (t_cj + k_j τ_j) (decode only, l_c tokens,
  one s_c for all requests); we use P1's T_r with the prefill terms, l_out − 1
  decode steps, and per-request s_c(r) — our model, SPEC-PLACEMENT P1.
* m_j ≥ 0 (the file has lower bound 1 on m_j: every server hosts a block). P1
  allows m_j = 0; the hop rows then forbid every arc into j.
* Dummy ends are constants, not variables fixed by rows: for s, a = 0 and m = 1 so
  β = 0, δ = f (the file's rows (10), (12) for an S-client force exactly this);
  for t, a = L + 1 and m = 1, so the arc i → t needs only (L + 1) f ≤ a_i + m_i.
  Products for arcs into t are not created (they carry no cost and no memory).
* McCormick rows use the true bounds a_j ∈ [1, L] and m_j ∈ [0, U_j], U_j =
  min(L, cap_j, ⌊M_j / s_m⌋) (the file uses [0, L] / [0, L + 1]); the integer
  solutions are the same, the relaxation is tighter. Servers with U_j = 0 get
  no arcs. The cap on blocks per server (MIG: 4) is ours to add; the file has none.
* Strengthening (ours, option ``strengthen``, on by default): three families of
  valid rows that cut off no integer solution: κ ≥ f (a hop used runs at least one
  block), the hop rule in product form α ≤ β + δ (f a_j ≤ f (a_i + m_i), i.e.
  κ ≤ f m_j), and Σ κ = L per job (a route runs every block exactly once). Without
  them the LP bound is negative (κ = α + γ − β − δ is free in the relaxation) and
  HiGHS needed ~10x longer on a 3-server, 4-block, 2-job instance.
* Gap 0 and no solver time cap by default (the file: Gurobi, relative gap 1e-4,
  200 s).
* Unclear in the source: the file declares only f, a, m integer and α..δ
  continuous; we do the same on the floating-point backends (exact, as α..δ are
  products of binaries and integers), and make them integers for CP-SAT.

Exactness. Floating-point backends (HiGHS, CBC, SCIP) accept rows violated by up
to their feasibility tolerance. Memory rows are therefore scaled by a power of two
(right-hand side in [0.5, 1)) and, when every coefficient is a whole number, their
right-hand side is put halfway between the largest attainable value ≤ M_j (1 + RTOL)
(a multiple of the coefficients' gcd g) and the next one (g ⌊M'/g⌋ + g/2): the same
integer constraint, robust to tolerances. Every answer is decoded (rounded), scored
by the evaluator, and if a memory row was violated beyond the evaluator's RTOL its
right-hand side is lowered by the violation and the model solved again
(:data:`MAX_CUTS` times at most).

Certification. None of that makes a backend's ``optimal`` a proof: the objective
is scaled by its largest coefficient, so one very slow server pushed the
differences between good answers below the backends' tolerances (``optimal``
answers up to 5x the optimum on wide-range data), and memories within 1e-8 of a
load made the tightening loop fail (``error``). Every ``optimal`` and
``infeasible`` claim, and every answer the loop could not settle, therefore goes
through the one certificate of the many-server half
(:func:`splitopt.placement.certify.certify`, an exact search independent of this
model that looks only for answers below the claim): proved -> ``optimal`` /
``infeasible``; a better answer found and proved -> that answer, ``optimal``, with
a message saying the backend's was off; the search stopped (node or work cap, time
limit) -> ``feasible`` ("not certified"), or the backend's ``infeasible`` kept with
that note. The time limit covers building the model, every solve and the
certificate. Arcs a job can never use (its cache for one block plus one block
exceed the server's memory, or a time or byte figure overflows to infinity) are
not built: exact, and the backends never see an infinite coefficient.

CP-SAT needs integers: α..δ become integer variables; memory rows with whole
coefficients are used as they are (right-hand side ⌊M_j (1 + RTOL)⌋), others are
scaled by a power of two (right-hand side ≈ 2**30) and every coefficient rounded
down (a relaxation, κ ≥ 0 at every feasible point; the evaluator loop above makes
it exact). The objective is scaled by a power of two K (Σ|C1| + L Σ|C2| ≈
2**48) and rounded to nearest: the answer CP-SAT proves optimal is within
``2 · err`` seconds of the true optimum, err = Σ_groups (max value)/(2K), which is
≲ 1e-12 relative for the sizes this MILP can solve (reported in ``message``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from splitopt import interrupts
from splitopt.errors import SolverError, SolverUnavailable
from splitopt.placement.certify import certify
from splitopt.placement.evaluate import RTOL, PlacementScore, block_limits, evaluate
from splitopt.placement.model import Cluster, Placement, Route
from splitopt.placement.result import PlacementResult
from splitopt.solvers.milp_backends import BackendResult, quiet_stdout, solve_scip
from splitopt.solvers.milp_backends import pow2_scale as _pow2_scale

#: Largest number of memory-row tightenings (evaluator re-checks) per solve.
MAX_CUTS = 20
#: Largest model built: jobs × (H + 1) × H hop arcs (H = servers that can host a block).
#: Each arc brings about five variables and twenty rows, and building is plain Python that
#: no time limit can interrupt (about 2 s at this size); larger clusters are refused
#: (exit 2). Our limit: far above what proves optimal within 60 s (README).
MAX_ARCS = 20_000
#: ``optimal`` needs the evaluator's objective and the model's to agree to this.
MATCH_RTOL = 1e-6
#: CP-SAT: objective scaled so that Σ|C1| + L Σ|C2| ≈ 2**OBJ_BITS, then rounded.
OBJ_BITS = 48
#: CP-SAT: a non-integral memory row is scaled so its right-hand side ≈ 2**ROW_BITS.
ROW_BITS = 30
#: CBC command-line options, tried in turn while the cbc process dies (as
#: :attr:`splitopt.solvers.ilp_pulp.CBC.cbc_attempts`, plus ``cuts off``: CBC's cut
#: generators made tiny BPRR models 5-10x slower, e.g. 3.9 s -> 0.7 s, same optimum).
CBC_ATTEMPTS: tuple[tuple[str, ...], ...] = (("preprocess off", "cuts off"), ("cuts off",))
#: SCIP settings for speed only (gap stays 0): at most 5 separation rounds at the root
#: and none below; unlimited rounds took 16-20 s on 3-server models that then solve in
#: 0.4-0.7 s (same optimum).
SCIP_SPEED = "separating/maxrounds = 0\nseparating/maxroundsroot = 5\n"
#: Backend option values accepted by :class:`BPRRMilp`.
BACKENDS: tuple[str, ...] = ("highs", "cbc", "cpsat", "scip")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Group:
    """``coef · Σ_i sign_i x_{var_i}``: a cost or memory coefficient on a product sum."""

    coef: float
    var: tuple[int, ...]
    sign: tuple[int, ...]
    #: largest value Σ sign x can take (1 for an arc, L for blocks on a hop)
    top: int


@dataclass(frozen=True)
class Row:
    """``lo ≤ Σ coef_i x_{var_i} ≤ hi`` with small integer coefficients."""

    var: tuple[int, ...]
    coef: tuple[int, ...]
    lo: float
    hi: float

    def __post_init__(self) -> None:  # one coefficient per variable
        merged: dict[int, int] = {}
        for v, c in zip(self.var, self.coef, strict=True):
            merged[v] = merged.get(v, 0) + c
        object.__setattr__(self, "var", tuple(v for v, c in merged.items() if c))
        object.__setattr__(self, "coef", tuple(c for c in merged.values() if c))


@dataclass(frozen=True)
class MemoryRow:
    """(13b) at one server: ``block_bytes · m + Σ groups ≤ limit`` (bytes).

    ``limit`` is M_j (1 + RTOL), the evaluator's test. ``unit`` is the gcd of the
    coefficients when they are all whole numbers (attainable left-hand sides are
    then multiples of it), else ``None``.
    """

    server: int
    m_var: int
    block_bytes: float
    groups: tuple[Group, ...]
    limit: float
    unit: float | None

    @property
    def floor_feasible(self) -> float:
        """The least right-hand side that still admits every feasible point."""
        if self.unit:
            return self.unit * math.floor(self.limit / self.unit)
        return self.limit

    @property
    def relaxed_rhs(self) -> float:
        """The right-hand side used first (half a unit of room for whole-number rows)."""
        if self.unit:
            return self.floor_feasible + self.unit / 2
        return self.limit


@dataclass(frozen=True, eq=False)
class BPRRModel:
    """The backend-neutral MILP of one cluster (module docstring).

    ``arcs[r]`` lists ``(tail, head, f)`` for job r: tail −1 is the source, head S
    the sink, ``f`` the arc's variable index.
    """

    num_servers: int
    num_blocks: int
    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray  # integer on the floating-point backends (CP-SAT: all)
    objective: tuple[Group, ...]
    rows: tuple[Row, ...]
    memory: tuple[MemoryRow, ...]
    a_var: tuple[int, ...]
    m_var: tuple[int, ...]
    arcs: tuple[tuple[tuple[int, int, int], ...], ...]

    @property
    def num_vars(self) -> int:
        return len(self.names)

    def objective_vector(self) -> np.ndarray:
        """Dense objective coefficients (seconds)."""
        c = np.zeros(self.num_vars)
        for g in self.objective:
            for v, s in zip(g.var, g.sign, strict=True):
                c[v] += g.coef * s
        return c

    def objective_value(self, x: np.ndarray) -> float:
        """The model's objective (seconds) at the point ``x``."""
        return float(self.objective_vector() @ np.asarray(x, dtype=float))

    def decode(self, x: np.ndarray) -> tuple[Placement, tuple[Route, ...]]:
        """Round a solver's point to a placement and one route per job.

        Raises :class:`ValueError` if the arcs chosen do not form one path from
        source to sink per job.
        """
        x = np.asarray(x, dtype=float)
        a = np.rint(x[list(self.a_var)]).astype(np.int64)
        m = np.rint(x[list(self.m_var)]).astype(np.int64)
        placement = Placement(np.where(m > 0, a, 0), m)
        routes = []
        S = self.num_servers
        for r, arcs in enumerate(self.arcs):
            nxt: dict[int, list[int]] = {}
            for tail, head, f in arcs:
                if x[f] > 0.5:
                    nxt.setdefault(tail, []).append(head)
            node, route = -1, []
            for _ in range(S + 1):
                heads = nxt.get(node, [])
                if len(heads) != 1:
                    raise ValueError(f"job {r}: {len(heads)} arcs leave node {node}")
                node = heads[0]
                if node == S:
                    break
                route.append(node)
            else:
                raise ValueError(f"job {r}: the arcs chosen do not reach the sink")
            routes.append(tuple(route))
        return placement, tuple(routes)


def _whole(x: float) -> bool:
    return float(x).is_integer() and abs(x) < 2**53


class BuildStopped(Exception):
    """:func:`build_model` passed its deadline."""


def build_model(
    cluster: Cluster,
    strengthen: bool = True,
    deadline: float | None = None,
    upper_bound: float | None = None,
) -> BPRRModel:
    """The MILP (module docstring) of ``cluster`` and its jobs.

    ``strengthen`` adds our valid rows (module docstring, "Strengthening"); without
    it the rows are those of the source file. ``deadline`` (a ``time.perf_counter()``
    value): raise :class:`BuildStopped` once it has passed (checked per source arc),
    so that a time limit covers building too. ``upper_bound`` (seconds, Σ_r T_r of
    some feasible answer): a hop whose least time (one block) alone exceeds it is
    not built, as no answer at least as good can use it (times are non-negative);
    this removes a very slow server's coefficients, which otherwise set the
    objective's scale (:func:`objective_scale`).
    """
    cap = math.inf if upper_bound is None else upper_bound * (1.0 + 1e-9)
    S, L = cluster.num_servers, cluster.num_blocks
    U = block_limits(cluster)
    names: list[str] = []
    lower: list[float] = []
    upper: list[float] = []
    integer: list[bool] = []

    def var(name: str, lo: float, up: float, is_int: bool) -> int:
        names.append(name)
        lower.append(lo)
        upper.append(up)
        integer.append(is_int)
        return len(names) - 1

    rows: list[Row] = []
    inf = math.inf

    def mccormick(w: int, f: int, x: int, xl: int, xu: int) -> None:
        """w = f · x for binary f and x ∈ [xl, xu]: the four McCormick rows."""
        rows.append(Row((w, f), (1, -xu), -inf, 0))  # w ≤ xu f
        rows.append(Row((w, x, f), (1, -1, -xl), -inf, -xl))  # w ≤ x + xl (f − 1)
        rows.append(Row((w, f), (1, -xl), 0, inf))  # w ≥ xl f
        rows.append(Row((w, x, f), (1, -1, -xu), -xu, inf))  # w ≥ x + xu (f − 1)

    a = [var(f"a{j}", 1, L, True) for j in range(S)]
    m = [var(f"m{j}", 0, U[j], True) for j in range(S)]
    for j in range(S):
        rows.append(Row((a[j], m[j]), (1, 1), -inf, L + 1))  # (13d)
    hosts = [j for j in range(S) if U[j] > 0]
    objective: list[Group] = []
    mem_groups: dict[int, list[Group]] = {j: [] for j in hosts}
    all_arcs = []
    s_m_ = cluster.model.block_bytes
    for r, job in enumerate(cluster.jobs):
        c, l_in, l_out = job.client, job.l_in, job.l_out
        s_c = cluster.model.cache_bytes(l_in, l_out)
        # overflow-safe and exact: a server where this job's cache for one block plus
        # one block exceed the memory (or where a figure is not finite, e.g. a cache of
        # 1e306 B/token x 200 tokens) gets no arc: the evaluator would refuse any route
        # through it (s_m m + s_c k + other jobs >= s_m + s_c in floating point too)
        usable = [
            j
            for j in hosts
            if math.isfinite(s_c)
            and s_m_ + s_c <= cluster.servers[j].memory_bytes * (1.0 + RTOL)
            and math.isfinite(
                cluster.prefill_rtt(c, j, l_in) + (l_out - 1) * float(cluster.rtt_s[c, j])
            )
            and math.isfinite(
                cluster.servers[j].prefill_s(l_in) + (l_out - 1) * cluster.servers[j].decode_s
            )
            and cluster.prefill_rtt(c, j, l_in)
            + (l_out - 1) * float(cluster.rtt_s[c, j])
            + cluster.servers[j].prefill_s(l_in)
            + (l_out - 1) * cluster.servers[j].decode_s
            <= cap
        ]
        arcs: list[tuple[int, int, int]] = []
        out_of: dict[int, list[int]] = {}
        into: dict[int, list[int]] = {}
        hops: list[Group] = []  # κ of every arc into a server

        def strong(
            f: int,
            k: Group,
            hop_lhs: tuple[int, ...],
            hop_coef: tuple[int, ...],
            hops: list[Group] = hops,
        ) -> None:
            """Our valid rows: κ ≥ f (a used hop runs ≥ 1 block) and the hop rule in
            product form f a_j ≤ f (a_i + m_i), i.e. κ ≤ f m_j."""
            hops.append(k)
            if strengthen:
                rows.append(Row((*k.var, f), (*k.sign, -1), 0, inf))
                rows.append(Row(hop_lhs, hop_coef, -inf, 0))

        def arc(
            tail: int,
            head: int,
            r: int = r,
            arcs: list[tuple[int, int, int]] = arcs,
            out_of: dict[int, list[int]] = out_of,
            into: dict[int, list[int]] = into,
        ) -> int:
            f = var(f"f{r}_{tail}_{head}", 0, 1, True)
            arcs.append((tail, head, f))
            out_of.setdefault(tail, []).append(f)
            into.setdefault(head, []).append(f)
            return f

        def cost(
            j: int, f: int, k: Group, c: int = c, l_in: int = l_in, l_out: int = l_out
        ) -> None:
            srv = cluster.servers[j]
            c1 = cluster.prefill_rtt(c, j, l_in) + (l_out - 1) * float(cluster.rtt_s[c, j])
            c2 = srv.prefill_s(l_in) + (l_out - 1) * srv.decode_s
            if c1:
                objective.append(Group(c1, (f,), (1,), 1))
            if c2:
                objective.append(Group(c2, k.var, k.sign, k.top))

        for j in usable:  # source → j: a_s = 0, m_s = 1
            f = arc(-1, j)
            al = var(f"alpha{r}_s_{j}", 0, L, False)
            ga = var(f"gamma{r}_s_{j}", 0, U[j], False)
            mccormick(al, f, a[j], 1, L)
            mccormick(ga, f, m[j], 0, U[j])
            rows.append(Row((al,), (1,), -inf, 1))  # (13e): a_j ≤ 1
            rows.append(Row((f, a[j], m[j]), (1, -1, -1), -inf, -1))  # (13f): 1 ≤ a_j + m_j − 1
            k = Group(1.0, (al, ga, f), (1, 1, -1), L)
            strong(f, k, (al, f), (1, -1))
            cost(j, f, k)
            if s_c:
                mem_groups[j].append(Group(s_c, k.var, k.sign, k.top))
        for i in usable:
            interrupts.check()  # a signal stops building too
            if deadline is not None and time.perf_counter() > deadline:
                raise BuildStopped
            for j in usable:
                if i == j:
                    continue
                f = arc(i, j)
                al = var(f"alpha{r}_{i}_{j}", 0, L, False)
                ga = var(f"gamma{r}_{i}_{j}", 0, U[j], False)
                be = var(f"beta{r}_{i}_{j}", 0, L, False)
                de = var(f"delta{r}_{i}_{j}", 0, U[i], False)
                mccormick(al, f, a[j], 1, L)
                mccormick(ga, f, m[j], 0, U[j])
                mccormick(be, f, a[i], 1, L)
                mccormick(de, f, m[i], 0, U[i])
                rows.append(Row((al, a[i], m[i]), (1, -1, -1), -inf, 0))  # (13e)
                rows.append(Row((be, de, a[j], m[j]), (1, 1, -1, -1), -inf, -1))  # (13f)
                k = Group(1.0, (al, ga, be, de), (1, 1, -1, -1), L)
                strong(f, k, (al, be, de), (1, -1, -1))
                cost(j, f, k)
                if s_c:
                    mem_groups[j].append(Group(s_c, k.var, k.sign, k.top))
        for i in usable:  # i → sink: a_t = L + 1, so a_i + m_i = L + 1
            f = arc(i, S)
            rows.append(Row((f, a[i], m[i]), (L + 1, -1, -1), -inf, 0))  # (13e)
        if strengthen:  # ours: the blocks a route processes add up to L
            var_ = tuple(v for k in hops for v in k.var)
            sign = tuple(sg for k in hops for sg in k.sign)
            if var_:
                rows.append(Row(var_, sign, L, L))
        # (13c) flow conservation
        src = out_of.get(-1, [])
        rows.append(Row(tuple(src), (1,) * len(src), 1, 1))
        snk = into.get(S, [])
        rows.append(Row(tuple(snk), (1,) * len(snk), 1, 1))
        for j in usable:
            ins, outs = into.get(j, []), out_of.get(j, [])
            rows.append(Row((*ins, *outs), (1,) * len(ins) + (-1,) * len(outs), 0, 0))
        all_arcs.append(tuple(arcs))
    memory: list[MemoryRow] = []
    s_m = cluster.model.block_bytes
    for j in hosts:
        groups = tuple(mem_groups[j])
        if not groups:
            continue  # s_m m_j ≤ M_j is the bound U_j
        limit = cluster.servers[j].memory_bytes * (1.0 + RTOL)
        coefs = [s_m, *(g.coef for g in groups)]
        unit: float | None = None
        if all(_whole(x) for x in coefs) and limit < 2**52:
            unit = float(math.gcd(*(int(x) for x in coefs if x))) or None
        memory.append(MemoryRow(j, m[j], s_m, groups, limit, unit))
    lo = np.array(lower, dtype=float)
    up = np.array(upper, dtype=float)
    it = np.array(integer, dtype=bool)
    for arr in (lo, up, it):
        arr.setflags(write=False)
    return BPRRModel(
        S,
        L,
        tuple(names),
        lo,
        up,
        it,
        tuple(objective),
        tuple(rows),
        tuple(memory),
        tuple(a),
        tuple(m),
        tuple(all_arcs),
    )


def _memory_coefs(row: MemoryRow) -> dict[int, float]:
    out: dict[int, float] = {row.m_var: row.block_bytes} if row.block_bytes else {}
    for g in row.groups:
        for v, s in zip(g.var, g.sign, strict=True):
            out[v] = out.get(v, 0.0) + g.coef * s
    return out


def _check(deadline: float | None, i: int) -> None:
    """Every 4096th ``i``: raise :class:`BuildStopped` once ``deadline`` has passed,
    :class:`~splitopt.interrupts.Interrupted` once a signal asked the run to stop."""
    if i & 4095:
        return
    interrupts.check()
    if deadline is not None and time.perf_counter() > deadline:
        raise BuildStopped


def _deadline(time_limit: float | None) -> float | None:
    return None if time_limit is None else time.perf_counter() + time_limit


def _left(deadline: float | None) -> float | None:
    """Seconds left for the native solve (after building); :class:`BuildStopped` if none."""
    if deadline is None:
        return None
    left = deadline - time.perf_counter()
    if left <= 0:
        raise BuildStopped
    return left


def float_rows(
    model: BPRRModel, rhs: dict[int, float], deadline: float | None = None
) -> list[tuple[list[int], list[float], float, float]]:
    """Every row as (vars, coefs, lo, hi) for the floating-point backends.

    Memory rows use ``rhs[server]`` and are scaled by the power of two that brings
    it into [0.5, 1) (exact in binary floating point). ``deadline``: as
    :func:`build_model`.
    """
    out = []
    for i, r in enumerate(model.rows):
        _check(deadline, i)
        out.append((list(r.var), [float(c) for c in r.coef], r.lo, r.hi))
    for row in model.memory:
        b = rhs[row.server]
        scale = math.ldexp(1.0, -math.frexp(b)[1]) if b > 0 else 1.0
        coefs = _memory_coefs(row)
        out.append((list(coefs), [c * scale for c in coefs.values()], -math.inf, b * scale))
    return out


def objective_scale(model: BPRRModel) -> float:
    """A power of two K with the largest objective coefficient · K ≈ 1.

    One very slow server (a decoy no good answer uses) then pushes the other
    coefficients, and the differences between good answers, below the backends'
    tolerances (``optimal`` answers up to 5x off on wide-range data). Scaling by the
    median instead made HiGHS and CBC 5-25x slower on those clusters (huge
    coefficients in the LP), so the scale stays; such hops are dropped before the
    model is built where a heuristic answer bounds the optimum (``upper_bound`` of
    :func:`build_model`), and the certificate (:mod:`splitopt.placement.certify`)
    decides optimality.
    """
    big = max((abs(g.coef) for g in model.objective), default=0.0)
    return _pow2_scale(0, big) if big > 0 else 1.0


# ---------------------------------------------------------------- backends


def _run_highs(model: BPRRModel, rhs: dict[int, float], time_limit: float | None) -> BackendResult:
    from splitopt.solvers.milp_backends import highs_rows_model, solve_highs

    deadline = _deadline(time_limit)
    k = objective_scale(model)
    rows = float_rows(model, rhs, deadline)
    h, nonzeros = highs_rows_model(
        model.lower,
        model.upper,
        model.integer,
        model.objective_vector() * k,
        rows,
        lambda t: _check(deadline, t),
    )
    left = _left(deadline)  # the limit covers building: the solve gets what is left
    if left is not None:
        h.setOptionValue("time_limit", float(left))

    # a large model runs in a child process that a signal kills: HiGHS checks its
    # interrupt callback too rarely (not within the root node's LP) to stop in time
    return interrupts.isolated(lambda: solve_highs(h, k), nonzeros)


def _run_cbc(model: BPRRModel, rhs: dict[int, float], time_limit: float | None) -> BackendResult:
    from splitopt.solvers.milp_backends import pulp_rows_problem, solve_cbc

    deadline = _deadline(time_limit)
    k = objective_scale(model)
    cost = model.objective_vector() * k
    rows = float_rows(model, rhs, deadline)

    def build() -> tuple[Any, Any]:
        # PuLP builds in Python: 1 min near the arc cap, so the deadline is checked per row
        return pulp_rows_problem(
            "bprr",
            model.lower,
            model.upper,
            model.integer,
            list(enumerate(cost)),
            rows,
            lambda t: _check(deadline, t),
        )

    # solve_cbc counts build() against the time it is given
    return solve_cbc(build, CBC_ATTEMPTS, _left(deadline))


def _run_scip(model: BPRRModel, rhs: dict[int, float], time_limit: float | None) -> BackendResult:
    from ortools.linear_solver import pywraplp

    deadline = _deadline(time_limit)
    s = pywraplp.Solver.CreateSolver("SCIP")
    if s is None:
        return BackendResult("error", message="OR-Tools was built without SCIP")
    k = objective_scale(model)
    xs = []
    for i in range(model.num_vars):
        lo, up = float(model.lower[i]), float(model.upper[i])
        xs.append(s.IntVar(lo, up, f"x{i}") if model.integer[i] else s.NumVar(lo, up, f"x{i}"))
    inf = s.infinity()
    for t, (v, c, lo, hi) in enumerate(float_rows(model, rhs, deadline)):
        _check(deadline, t)
        ct = s.Constraint(-inf if lo == -math.inf else lo, inf if hi == math.inf else hi)
        for vi, ci in zip(v, c, strict=True):
            ct.SetCoefficient(xs[vi], ci)
    obj = s.Objective()
    for i, c in enumerate(model.objective_vector().tolist()):
        if c:
            obj.SetCoefficient(xs[i], c * k)
    obj.SetMinimization()
    return solve_scip(s, xs, k, _left(deadline), SCIP_SPEED)


def cpsat_objective(model: BPRRModel) -> tuple[dict[int, int], float, float]:
    """Integer objective for CP-SAT: (coefficients, scale K, error bound err in seconds).

    Each group's coefficient is scaled by K and rounded to nearest, so any point's
    objective is off by at most err = Σ_groups top/(2K); the point CP-SAT proves
    optimal is within 2 err of the true optimum.
    """
    total = sum(abs(g.coef) * g.top for g in model.objective)
    k = _pow2_scale(OBJ_BITS, total) if total > 0 else 1.0
    coefs: dict[int, int] = {}
    err = 0.0
    for g in model.objective:
        c = round(g.coef * k)
        err += g.top * abs(c - g.coef * k) / k
        for v, s in zip(g.var, g.sign, strict=True):
            coefs[v] = coefs.get(v, 0) + c * s
    return coefs, k, err


def cpsat_memory_row(row: MemoryRow, rhs: float) -> tuple[dict[int, int], int]:
    """Integer memory row for CP-SAT: whole coefficients as they are (⌊rhs⌋),
    others scaled by a power of two and rounded down (a relaxation)."""
    k = 1.0 if row.unit or rhs <= 0 else _pow2_scale(ROW_BITS, rhs)
    out: dict[int, int] = {}
    if row.block_bytes:
        out[row.m_var] = math.floor(row.block_bytes * k)
    for g in row.groups:
        c = math.floor(g.coef * k)
        for v, s in zip(g.var, g.sign, strict=True):
            out[v] = out.get(v, 0) + c * s
    return out, math.floor(rhs * k)


def _run_cpsat(model: BPRRModel, rhs: dict[int, float], time_limit: float | None) -> BackendResult:
    from ortools.sat.python import cp_model

    deadline = _deadline(time_limit)
    m = cp_model.CpModel()
    xs = [
        m.new_int_var(int(model.lower[i]), int(model.upper[i]), f"x{i}")
        for i in range(model.num_vars)
    ]
    for t, r in enumerate(model.rows):
        _check(deadline, t)
        expr = sum(c * xs[v] for v, c in zip(r.var, r.coef, strict=True))
        if r.lo == r.hi:
            m.add(expr == int(r.hi))
            continue
        if r.hi != math.inf:
            m.add(expr <= math.floor(r.hi))
        if r.lo != -math.inf:
            m.add(expr >= math.ceil(r.lo))
    for row in model.memory:
        coefs, b = cpsat_memory_row(row, rhs[row.server])
        m.add(sum(c * xs[v] for v, c in coefs.items() if c) <= b)
    coefs, k, err = cpsat_objective(model)
    m.minimize(sum(c * xs[v] for v, c in coefs.items() if c))
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = 1
    p.log_search_progress = False
    p.log_to_stdout = False
    p.relative_gap_limit = 0.0
    p.absolute_gap_limit = 0.0
    p.presolve_inclusion_work_limit = 0  # or-tools issue #5293 (see splitopt.solvers.ilp_ortools)
    left = _left(deadline)
    if left is not None:
        p.max_time_in_seconds = float(left)
    p.catch_sigint_signal = False  # the interrupt policy owns Ctrl-C (splitopt.interrupts)
    with quiet_stdout(), interrupts.stoppable(solver.stop_search):
        st = solver.solve(m)
    note = f"CP-SAT objective rounded: optimum certified to {2 * err:.3g} s"
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best_bound = solver.best_objective_bound
        bound = best_bound / k - err if math.isfinite(best_bound) else None
        values = np.array([solver.value(x) for x in xs], dtype=float)
        if st == cp_model.OPTIMAL:
            return BackendResult("optimal", values, bound, note)
        return BackendResult("feasible", values, bound, f"time limit reached; {note}")
    if st == cp_model.INFEASIBLE:
        return BackendResult("infeasible")
    if st == cp_model.UNKNOWN:
        return BackendResult("time_limit", None, None, "time limit reached, no incumbent")
    return BackendResult("error", message=f"CP-SAT status {solver.status_name(st)}")


def _available(backend: str) -> bool:
    try:
        if backend == "highs":
            import highspy  # noqa: F401

            return True
        if backend == "cbc":
            from splitopt.solvers.milp_backends import cbc_solver as _cbc

            return bool(_cbc(msg=False).available())
        if backend == "cpsat":
            from ortools.sat.python import cp_model

            return cp_model.CpSolver is not None
        if backend == "scip":
            from ortools.linear_solver import pywraplp

            return pywraplp.Solver.CreateSolver("SCIP") is not None
    except Exception:  # a broken install reads as "not available"
        return False
    return False


def _timed(run: Any) -> Any:
    """A backend runner whose model building passed its time limit answers ``time_limit``."""

    def timed(model: BPRRModel, rhs: dict[int, float], time_limit: float | None) -> BackendResult:
        try:
            return run(model, rhs, time_limit)
        except BuildStopped:
            return BackendResult(
                "time_limit", message="time limit reached while building the model"
            )

    return timed


_RUNNERS = {
    "highs": _timed(_run_highs),
    "cbc": _timed(_run_cbc),
    "cpsat": _timed(_run_cpsat),
    "scip": _timed(_run_scip),
}
_LIBRARY = {
    "highs": "highspy",
    "cbc": "pulp (bundled CBC)",
    "cpsat": "ortools",
    "scip": "ortools (with SCIP)",
}


# ---------------------------------------------------------------- the algorithm


def _join(notes: Sequence[str | None], *more: str) -> str | None:
    parts = [n for n in (*notes, *more) if n]
    return "; ".join(parts) or None


class BPRRMilp:
    """The BPRR MILP (module docstring) on one backend, gap 0.

    Options:
        time_limit (float, seconds): wall-clock limit for the whole method:
            building the model, all re-solves and the certificate; ``None``
            (default) = none.
        backend (str): ``highs`` (default), ``cbc``, ``cpsat`` or ``scip``.
        strengthen (bool): add our valid rows (default ``True``; ``False`` = the
            rows of the source file only, much slower to prove optimal).

    Statuses: ``optimal`` (evaluator-feasible and proved by the certificate,
    :mod:`splitopt.placement.certify`), ``infeasible`` (proved by the certificate,
    or the backend's proof on the relaxed model where the certificate stopped:
    ``message`` says so), ``feasible`` (an evaluator-feasible answer without a
    proof: time limit or certificate stopped; ``message`` says which),
    ``time_limit`` (no answer in time) or ``error`` (the backend failed).
    """

    name: ClassVar[str] = "bprr-milp"
    exact: ClassVar[bool] = True
    description: ClassVar[str] = (
        "BPRR MILP of Sun et al. (flow variables, McCormick products), gap 0; HiGHS by default"
    )
    default_backend: ClassVar[str] = "highs"

    def __init__(
        self,
        time_limit: float | None = None,
        backend: str | None = None,
        strengthen: bool = True,
        **options: Any,
    ) -> None:
        if options:
            raise SolverError(
                f"algorithm {self.name!r}: unknown option(s) {', '.join(sorted(options))}; "
                "valid: time_limit, backend, strengthen"
            )
        if time_limit is not None:
            try:
                time_limit = float(time_limit)
            except (TypeError, ValueError):
                raise SolverError(
                    f"algorithm {self.name!r}: time_limit must be a number, got {time_limit!r}"
                ) from None
            if not time_limit > 0:
                raise SolverError(f"algorithm {self.name!r}: time_limit must be > 0")
        b = (backend or self.default_backend).lower()
        if b not in BACKENDS:
            raise SolverError(
                f"algorithm {self.name!r}: unknown backend {backend!r}; "
                f"valid: {', '.join(BACKENDS)}"
            )
        if backend is not None and type(self) is not BPRRMilp and b != self.default_backend:
            raise SolverError(f"algorithm {self.name!r} runs on {self.default_backend} only")
        self.time_limit = time_limit
        self.backend = b
        self.strengthen = bool(strengthen)

    @classmethod
    def available(cls) -> bool:
        return _available(cls.default_backend)

    def options(self) -> dict[str, Any]:
        return {
            "time_limit": self.time_limit,
            "backend": self.backend,
            "gap": 0.0,
            "strengthen": self.strengthen,
        }

    def solve(self, cluster: Cluster) -> PlacementResult:
        """Solve the MILP of ``cluster`` (its jobs); the answer is scored by the evaluator
        and a backend's ``optimal`` or ``infeasible`` is checked by the certificate
        (:mod:`splitopt.placement.certify`). ``time_limit`` bounds all of it: building,
        the solves and the certificate."""
        if not _available(self.backend):
            raise SolverUnavailable(
                f"algorithm {self.name!r} is not available: install {_LIBRARY[self.backend]} "
                "(pip install 'splitopt[ilp]')"
            )
        hosts = sum(1 for u in block_limits(cluster) if u > 0)
        arcs = len(cluster.jobs) * (hosts + 1) * hosts
        if arcs > MAX_ARCS:
            raise SolverError(
                f"{self.name}: {len(cluster.jobs)} jobs x {hosts + 1}·{hosts} hops = "
                f"{arcs:,} arcs, "
                f"more than the {MAX_ARCS:,} the MILP builds; use cg-bprr or petals"
            )
        t0 = time.perf_counter()
        deadline = None if self.time_limit is None else t0 + self.time_limit

        def done(
            status: str,
            placement: Placement | None = None,
            routes: Sequence[Route] = (),
            bound: float | None = None,
            message: str | None = None,
        ) -> PlacementResult:
            return PlacementResult.build(
                cluster,
                self.name,
                status,
                placement,
                routes,
                bound=bound,
                runtime_s=time.perf_counter() - t0,
                options=self.options(),
                message=message,
            )

        upper = self._upper_bound(cluster)
        try:
            model = build_model(cluster, self.strengthen, deadline, upper)
        except BuildStopped:
            return done("time_limit", message="time limit reached while building the model")
        out = self._solve_model(cluster, model, deadline)
        status, placement, routes, bound, notes = out
        # the certificate (module splitopt.placement.certify) decides every exact claim
        if status in ("optimal", "infeasible", "undecided"):
            claim = math.inf
            if placement is not None:
                claim = evaluate(cluster, placement, routes).objective
            cert = certify(cluster, claim, deadline)
            where = f"certificate: {cert.nodes:,} nodes"
            if cert.outcome == "proved":
                if placement is None:
                    return done("infeasible", bound=math.inf, message=_join(notes, where))
                return done("optimal", placement, routes, claim, _join(notes, where))
            if cert.outcome == "improved":
                msg = (
                    f"backend's answer {claim!r} was not optimal (solver tolerances); "
                    f"the certificate's answer is, proven: {cert.objective!r}"
                )
                return done(
                    "optimal", cert.placement, cert.routes, cert.objective, _join(notes, msg, where)
                )
            # stopped: no proof
            if cert.placement is not None:
                placement, routes = cert.placement, cert.routes
                notes.append(f"the certificate found a better answer {cert.objective!r}")
            what = {"optimal": "optimal", "infeasible": "infeasible", "undecided": "no answer"}
            why = f"backend claims {what[status]}; not certified ({cert.reason})"
            if placement is not None:
                return done("feasible", placement, routes, None, _join(notes, why))
            if status == "infeasible":
                # the backend proved the relaxed model infeasible: keep its claim, say so
                return done("infeasible", bound=math.inf, message=_join(notes, why))
            if cert.reason == "time limit":
                return done("time_limit", message=_join(notes, why))
            return done("error", message=_join(notes, why))
        return done(status, placement, routes, bound, _join(notes))

    @staticmethod
    def _upper_bound(cluster: Cluster) -> float | None:
        """Σ_r T_r of the ``cg-bprr`` heuristic's answer (evaluator-scored), if feasible:
        hops slower than that alone are not built (:func:`build_model`)."""
        from splitopt.placement.cg import CGBPRR

        try:
            res = CGBPRR().solve(cluster)
        except Exception:  # a heuristic's failure only loses the bound
            return None
        return float(res.objective) if res.feasible and math.isfinite(res.objective) else None

    def _solve_model(
        self, cluster: Cluster, model: BPRRModel, deadline: float | None
    ) -> tuple[str, Placement | None, tuple[Route, ...], float | None, list[str]]:
        """The backend's answer, re-scored: (status, placement, routes, bound, notes).

        Status ``optimal`` and ``infeasible`` are the backend's claims (not yet
        certified), ``undecided`` means the backend failed on tolerances (memory rows
        tightened to infeasibility, or no evaluator-feasible answer after
        :data:`MAX_CUTS` tightenings): the certificate decides those too.
        """
        rhs = {row.server: row.relaxed_rhs for row in model.memory}
        relaxed = True
        run = _RUNNERS[self.backend]
        notes: list[str] = []
        cuts = 0
        for _ in range(MAX_CUTS + 1):
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                return "time_limit", None, (), None, ["time limit reached"]
            res = run(model, rhs, left)
            if res.status == "infeasible":
                if relaxed:
                    return "infeasible", None, (), math.inf, notes
                notes.append("infeasible only after tightening memory rows")
                return "undecided", None, (), None, notes
            if res.status == "error":
                return "error", None, (), None, [res.message or "backend error"]
            if res.values is None:
                return "time_limit", None, (), res.bound, [res.message or "time limit reached"]
            try:
                placement, routes = model.decode(res.values)
            except ValueError as exc:
                notes.append(f"cannot decode the {self.backend} answer: {exc}")
                return "undecided", None, (), None, notes
            score = evaluate(cluster, placement, routes)
            if score.feasible:
                break
            bad = self._tighten(model, score, rhs)
            cuts += 1
            if not bad:  # rejected for another reason (cannot happen: the rows are P1's)
                notes.append(f"backend answer rejected by the evaluator: {score.reason}")
                return "undecided", None, (), None, notes
            relaxed = relaxed and all(rhs[row.server] >= row.floor_feasible for row in model.memory)
            if deadline is not None and time.perf_counter() >= deadline:
                return "time_limit", None, (), res.bound, ["time limit reached"]
        else:
            notes.append(f"{MAX_CUTS} memory-row tightenings gave no evaluator-feasible answer")
            return "undecided", None, (), None, notes
        if res.message:
            notes.append(res.message)
        if cuts:
            notes.append(f"{cuts} memory-row tightening(s)")
        if res.status != "optimal":
            return "feasible", placement, routes, res.bound, notes
        milp_obj = model.objective_value(res.values)
        if not abs(score.objective - milp_obj) <= MATCH_RTOL * max(
            abs(score.objective), abs(milp_obj), 1e-300
        ):
            notes.append(f"evaluator objective {score.objective!r} != MILP objective {milp_obj!r}")
        if not relaxed:
            notes.append("memory rows tightened below the largest feasible value")
        # the backend claims optimal; the certificate decides (whatever the notes say)
        return "optimal", placement, routes, res.bound, notes

    @staticmethod
    def _tighten(model: BPRRModel, score: PlacementScore, rhs: dict[int, float]) -> list[int]:
        """Lower the right-hand side of every memory row the evaluator found violated
        (by the violation, at least half a unit); the servers tightened."""
        if not score.placement_ok or not all(js.feasible for js in score.jobs):
            return []
        out = []
        for row in model.memory:
            j = row.server
            used = float(score.memory_used[j])
            if score.memory_ok[j] or used <= row.limit:
                continue
            if row.unit and rhs[j] > row.floor_feasible:
                # whole-number row: every feasible value is ≤ floor_feasible < used
                rhs[j] = row.floor_feasible
            else:
                rhs[j] = min(rhs[j], used) - max(used - row.limit, (row.unit or 0.0) / 2)
            out.append(j)
        return out


class BPRRMilpHiGHS(BPRRMilp):
    """The BPRR MILP on HiGHS (highspy, in process; mip_rel_gap = mip_abs_gap = 0)."""

    name = "bprr-milp-highs"
    description = "BPRR MILP of Sun et al., HiGHS (highspy), gap 0"
    default_backend = "highs"


class BPRRMilpCBC(BPRRMilp):
    """The BPRR MILP on CBC (through PuLP, the bundled CBC; gap 0)."""

    name = "bprr-milp-cbc"
    description = "BPRR MILP of Sun et al., CBC through PuLP, gap 0"
    default_backend = "cbc"


class BPRRMilpCPSAT(BPRRMilp):
    """The BPRR MILP on OR-Tools CP-SAT (integer scaling in the module docstring)."""

    name = "bprr-milp-cpsat"
    description = "BPRR MILP of Sun et al., OR-Tools CP-SAT (objective scaled to integers), gap 0"
    default_backend = "cpsat"


class BPRRMilpSCIP(BPRRMilp):
    """The BPRR MILP on SCIP (through OR-Tools' pywraplp; gap 0)."""

    name = "bprr-milp-scip"
    description = "BPRR MILP of Sun et al., SCIP through OR-Tools, gap 0"
    default_backend = "scip"


__all__ = [
    "BACKENDS",
    "MATCH_RTOL",
    "MAX_CUTS",
    "BPRRMilp",
    "BPRRMilpCBC",
    "BPRRMilpCPSAT",
    "BPRRMilpHiGHS",
    "BPRRMilpSCIP",
    "BPRRModel",
    "build_model",
]
