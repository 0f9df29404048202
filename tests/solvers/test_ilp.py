"""ILP baselines: the shared formulation, the four backends in both data modes,
integer scaling for CP-SAT, tolerance, time limits, broken backends, quiet stdout."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from splitopt.discretise import DEFAULT_GRID
from splitopt.evaluate import RTOL, format_placement, score
from splitopt.families.random_chain import random_chain
from splitopt.problem import Chain, Problem, Request
from splitopt.solvers import ILP_SOLVERS, SolverError, SolverUnavailable, available, get_solver
from splitopt.solvers.base import ChainSolution
from splitopt.solvers.baselines import all_placements
from splitopt.solvers.ilp_model import (
    BackendResult,
    ILPSolver,
    ResourceRow,
    SplitModel,
    build_model,
    integer_objective,
    integer_row,
)

BACKENDS = [
    pytest.param(s, marks=pytest.mark.skipif(not available(s), reason=f"{s} missing"))
    for s in ILP_SOLVERS
]


def _chains(seed: int, n: int) -> list[Chain]:
    """n seeded chains, L 1..10, integer and real data alternating."""
    rng = np.random.default_rng(seed)
    return [random_chain(rng, 1 + i % 10, integer=bool(i % 2)) for i in range(n)]


def _problem(chains: list[Chain]) -> Problem:
    return Problem("t", tuple(Request(f"r{i}", c) for i, c in enumerate(chains)))


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _chain(a, c, w, u, v, sla, m=None, budget=None, start="client", end="client") -> Chain:
    mem = np.zeros(len(a)) if m is None else np.array(m, float)
    arrays = [np.array(x, float) for x in (a, c, w, u, v)]
    return Chain(*arrays, mem, sla, budget, start, end)


# ------------------------------------------------------------------ formulation


def _model_feasible(model: SplitModel, x: np.ndarray) -> bool:
    """Feasibility of a 0/1 layer vector in the model, switch variables at their least values."""
    L = model.num_layers
    vals = np.zeros(model.num_vars)
    vals[:L] = x
    # least switch values satisfying the link rows
    for row in model.links:
        sw, rest = row.var[0], zip(row.var[1:], row.coef[1:], strict=True)
        need = row.rhs - sum(c * vals[j] for j, c in rest)
        vals[sw] = max(vals[sw], need, 0)
    if np.any(vals < model.lower) or np.any(vals > model.upper):
        return False
    for row in model.resources:
        t = np.where(row.negated, 1 - vals[row.var], vals[row.var])
        if float(np.dot(row.coef, t)) > row.rhs:
            return False
    return all(
        sum(c * vals[j] for j, c in zip(r.var, r.coef, strict=True)) >= r.rhs for r in model.cuts
    )


@pytest.mark.parametrize("seed", range(40))
def test_model_feasible_set_equals_evaluator(seed: int) -> None:
    """Enumerating every placement: model-feasible (at least switches) == evaluator-feasible."""
    rng = np.random.default_rng(seed)
    chain = random_chain(rng, 1 + seed % 7, integer=bool(seed % 2))
    model = build_model(chain, 1.0 + RTOL)
    for x in all_placements(chain.num_layers):
        assert _model_feasible(model, x.astype(float)) == score(chain, format_placement(x)).feasible


def test_model_structure_small() -> None:
    ch = _chain([1, 2], [3, 4], [5, 6], [1, 0, 2], [0, 3, 1], sla=10, start="server", end="client")
    m = build_model(ch, 1.0)
    # layer variables first; switch variables only where a switch can happen and costs time
    assert m.names[:2] == ("s0", "s1")
    # b=0: start on the server, so only down0 could be 1, and v_0 = 0; b=2: end on the client
    assert m.names[2:] == ("down1", "down2")
    assert {r.rhs for r in m.links} == {0}
    assert list(m.objective[:2]) == [5.0, 6.0]
    assert m.objective[2:].sum() == 0


def test_fixing_and_trivial_infeasibility() -> None:
    # a_0 alone exceeds the SLA: layer 0 must be on the server; c_0 too: no placement at all
    ch = _chain([5, 1], [0.5, 1], [1, 1], [0, 0, 0], [0, 0, 0], sla=2)
    m = build_model(ch, 1.0)
    assert m.lower[0] == 1 and not m.trivially_infeasible
    ch2 = _chain([5, 1], [5, 1], [1, 1], [0, 0, 0], [0, 0, 0], sla=2)
    assert build_model(ch2, 1.0).trivially_infeasible
    for name in ILP_SOLVERS:
        if available(name):
            assert get_solver(name).solve_chain(ch2).status == "infeasible"


@pytest.mark.parametrize("name", BACKENDS)
def test_variable_in_no_row(name: str) -> None:
    """Layer 1 costs nothing anywhere (PuLP then drops its variable); budget 0 fixes layer 0."""
    ch = _chain([1, 0], [1, 0], [1, 0], [0, 0, 0], [0, 0, 0], sla=5, m=[1, 0], budget=0.0)
    sol = get_solver(name).solve_chain(ch)
    assert sol.status == "optimal" and sol.placement is not None and bool(sol.placement[0])
    assert score(ch, sol.placement).feasible


def test_no_good_cut_excludes_exactly_one_placement() -> None:
    ch = _chain([1, 1, 1], [1, 1, 1], [1, 2, 3], [0] * 4, [0] * 4, sla=10)
    m = build_model(ch, 1.0)
    cut = np.array([True, False, True])
    mc = m.with_cut(cut)
    for x in all_placements(3):
        assert _model_feasible(mc, x.astype(float)) == (not np.array_equal(x, cut))


# --------------------------------------------------------------- integer scaling


@pytest.mark.parametrize("seed", range(20))
def test_integer_row_is_a_relaxation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    row = ResourceRow(
        "latency", np.arange(n), rng.random(n) * 10 ** rng.uniform(-6, 12), rng.random(n) < 0.5, 0.0
    )
    row = ResourceRow(
        row.name, row.var, row.coef, row.negated, float(row.coef.sum() * rng.random())
    )
    coefs, rhs, k = integer_row(row)
    assert all(isinstance(c, int) for c in coefs) and k > 0
    for x in itertools.product((0, 1), repeat=n):
        t = np.where(row.negated, 1 - np.array(x), np.array(x))
        real = float(np.dot(row.coef, t))
        if real <= row.rhs:  # feasible for the real row -> for the integer one
            assert int(np.dot(coefs, t)) <= rhs
        # and the rounding error is tiny relative to the right-hand side
        assert abs(real * k - np.dot(coefs, t)) <= n + 1e-6


def test_integer_row_exact_for_whole_numbers() -> None:
    row = ResourceRow("latency", np.arange(3), np.array([3.0, 4.0, 5.0]), np.zeros(3, bool), 7.5)
    assert integer_row(row) == ([3, 4, 5], 7, 1.0)


@pytest.mark.parametrize("seed", range(20))
def test_integer_objective_error_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 11))
    w = rng.random(L) * 10 ** rng.uniform(-3, 13)
    w[rng.random(L) < 0.2] = 0.0
    coefs, k, err = integer_objective(w)
    n = int(np.count_nonzero(w))
    assert err == pytest.approx(n / k) and err <= n * max(w.sum(), 1e-300) * 2.0**-51
    for x in all_placements(L):
        assert abs(np.dot(w, x) - np.dot(coefs, x) / k) <= err / 2 * (1 + 1e-12)
    # whole numbers are exact
    assert integer_objective(np.array([3.0, 0.0, 7.0])) == ([3, 0, 7], 1.0, 0.0)


# ------------------------------------------------ backends against the DPs, both modes


@pytest.mark.parametrize("name", BACKENDS)
def test_real_mode_equals_dp_exact(name: str) -> None:
    p = _problem(_chains(101, 36))
    ref = get_solver("dp-exact").solve(p)
    res = get_solver(name).solve(p)
    assert res.options["mode"] == "exact"
    assert "error" not in res.statuses and "time_limit" not in res.statuses
    assert np.array_equal(res.evaluation.feasible, ref.evaluation.feasible)
    for a, b in zip(res.work_array(), ref.work_array(), strict=True):
        assert _same(a, b)
    for rr in res:
        if rr.status == "optimal":
            assert rr.bound is not None and rr.bound <= rr.server_work * (1 + 1e-9) + 1e-9


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("integer", [True, False])
def test_ticked_mode_equals_dp(name: str, integer: bool) -> None:
    rng = np.random.default_rng(202 + integer)
    p = _problem([random_chain(rng, 1 + i % 12, integer=integer) for i in range(30)])
    opts = {"tick": 1.0} if integer else {"grid": DEFAULT_GRID}
    ref = get_solver("dp", **opts).solve(p)
    res = get_solver(name, **opts).solve(p)
    assert res.options["mode"] == "ticked"
    assert np.array_equal(res.evaluation.feasible, ref.evaluation.feasible)
    for a, b in zip(res.work_array(), ref.work_array(), strict=True):
        assert _same(a, b)
    # tick 1 on integer data loses nothing: optimal; a grid on real data: only feasible
    solved = {s for s in res.statuses if s != "infeasible"}
    assert solved == ({"optimal"} if integer else {"feasible"})
    assert all(rr.bound is None for rr in res)  # a ticked optimum is no lower bound


@pytest.mark.parametrize("name", BACKENDS)
def test_real_mode_tolerance_matches_evaluator(name: str) -> None:
    """All-client (work 0) has latency exactly 1.0; it is feasible iff 1.0 <= D (1 + RTOL)."""

    def chain(sla: float) -> Chain:
        return _chain([0.3, 0.7], [0.05, 0.1], [2.0, 1.0], [0, 0, 0], [0, 0, 0], sla)

    inside = chain(1.0 / (1 + 0.5e-9))  # 1.0 <= D (1 + 1e-9): feasible
    outside = chain(1.0 / (1 + 3e-9))  # 1.0 > D (1 + 1e-9): infeasible
    assert score(inside, "CC").feasible and not score(outside, "CC").feasible
    s = get_solver(name)
    assert format_placement(s.solve_chain(inside).placement) == "CC"
    out = s.solve_chain(outside)
    assert out.status == "optimal" and format_placement(out.placement) == "CS"


# ----------------------------------------------------------------- status logic


class _Scripted(ILPSolver):
    """A fake backend that replays a script of BackendResults (layer values given)."""

    name = "ilp-fake"
    script: list[BackendResult] = []  # noqa: RUF012

    @classmethod
    def backend_available(cls) -> bool:
        return True

    def run_model(self, model: SplitModel, time_limit: float | None) -> BackendResult:
        self.calls = getattr(self, "calls", 0) + 1
        self.last_model = model
        return self.script.pop(0)


def _vals(model_vars: int, layers: str) -> np.ndarray:
    v = np.zeros(model_vars)
    v[: len(layers)] = [ch == "S" for ch in layers]
    return v


def test_cut_loop_rejects_evaluator_infeasible_placement() -> None:
    # all-client has latency 10 > D = 9: a backend "within tolerance" proposes it first
    ch = _chain([5, 5], [1, 1], [1, 1], [0, 0, 0], [0, 0, 0], sla=9)
    s = _Scripted()
    s.script = [BackendResult("optimal", _vals(2, "CC")), BackendResult("optimal", _vals(2, "SC"))]
    sol = s.solve_chain(ch)
    assert s.calls == 2 and len(s.last_model.cuts) == 1
    assert sol == ChainSolution("optimal", "SC", sol.bound, None)


@pytest.mark.parametrize(
    ("result", "status", "placement"),
    [
        (BackendResult("feasible", _vals(2, "SS"), 1.5, "time limit reached"), "feasible", "SS"),
        (BackendResult("time_limit", None, 0.5), "time_limit", None),
        (BackendResult("infeasible"), "infeasible", None),
        (BackendResult("error", message="boom"), "error", None),
    ],
)
def test_status_mapping(result: BackendResult, status: str, placement: str | None) -> None:
    ch = _chain([1, 1], [1, 1], [1, 1], [0, 0, 0], [0, 0, 0], sla=9)
    s = _Scripted(time_limit=5)
    s.script = [result]
    sol = s.solve_chain(ch, 5.0)
    got = None if sol.placement is None else format_placement(sol.placement)
    assert (sol.status, got) == (status, placement)
    if status in ("feasible", "time_limit"):
        assert sol.bound == result.bound


@pytest.mark.parametrize("name", BACKENDS)
def test_time_limit_never_errors(name: str) -> None:
    rng = np.random.default_rng(7)
    p = _problem([random_chain(rng, 80) for _ in range(4)])
    res = get_solver(name, time_limit=0.02).solve(p)
    assert set(res.statuses) <= {"optimal", "feasible", "infeasible", "time_limit"}
    for rr in res:
        if rr.status in ("optimal", "feasible"):
            assert rr.feasible


def test_options() -> None:
    with pytest.raises(SolverError, match="not both"):
        get_solver("ilp-highs", exact=True, grid=100)
    with pytest.raises(SolverError, match="ticked mode"):
        get_solver("ilp-highs", mem_grid=64)
    with pytest.raises(SolverError, match="no option"):
        get_solver("ilp-cbc", bound=True)
    assert get_solver("ilp-cpsat", exact=True).describe_options()["mode"] == "exact"
    assert get_solver("ilp-cpsat", tick=0.5).describe_options()["mode"] == "ticked"


# --------------------------------------------------------------- broken backends


@pytest.mark.parametrize(
    ("hidden", "gone", "kept"),
    [
        ("pulp", {"ilp-cbc", "ilp-highs"}, {"ilp-cpsat", "ilp-scip"}),
        ("highspy", {"ilp-highs"}, {"ilp-cbc"}),
        ("ortools", {"ilp-cpsat", "ilp-scip"}, {"ilp-cbc"}),
    ],
)
def test_missing_backend(
    monkeypatch: pytest.MonkeyPatch, hidden: str, gone: set, kept: set
) -> None:
    if not all(available(k) for k in gone | kept):
        pytest.skip("needs every backend installed")
    for mod in [m for m in sys.modules if m == hidden or m.startswith(hidden + ".")]:
        monkeypatch.setitem(sys.modules, mod, None)
    monkeypatch.setitem(sys.modules, hidden, None)  # "import hidden" now raises ImportError
    p = _problem(_chains(5, 2))
    for name in gone:
        assert available(name) is False
        with pytest.raises(SolverUnavailable, match="not available"):
            get_solver(name).solve(p)
    for name in kept:
        assert available(name) is True


def test_broken_backend_reads_unavailable() -> None:
    class Broken(_Scripted):
        @classmethod
        def backend_available(cls) -> bool:
            raise OSError("libfoo.so: cannot open shared object file")

    assert Broken.available() is False
    with pytest.raises(SolverUnavailable, match="install"):
        Broken().solve(_problem(_chains(5, 1)))


# ------------------------------------------------------------------ quiet stdout


def test_no_solver_output_on_stdout() -> None:
    code = textwrap.dedent(
        """
        import numpy as np
        from splitopt.families.random_chain import random_chain
        from splitopt.problem import Problem, Request
        from splitopt.solvers import ILP_SOLVERS, available, get_solver
        rng = np.random.default_rng(3)
        p = Problem("q", tuple(Request(f"r{i}", random_chain(rng, 12)) for i in range(3)))
        print("before", flush=True)
        for name in ILP_SOLVERS:
            if available(name):
                get_solver(name).solve(p)
                get_solver(name, grid=200, time_limit=30).solve(p)
        print("after")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "before\nafter\n"


#: Whole-number requests whose optimum has latency exactly at the SLA, on which
#: presolve rounding once made CBC, SCIP or HiGHS miss it (``splitopt verify
#: --n 10000 --seed 7``, instances 6203, 6218, 9200, 8457, 2007).
TIGHT = [
    ([6, 7, 3, 0, 8, 5, 8, 0, 0, 8, 5, 4, 1, 3], [1, 3, 0, 3, 0, 1, 2, 3, 3, 0, 2, 2, 0, 1],
     [16, 17, 18, 0, 0, 1, 9, 17, 2, 3, 19, 3, 20, 20],
     [2, 6, 3, 0, 2, 6, 0, 1, 5, 5, 3, 4, 3, 0, 5],
     [0, 1, 2, 3, 4, 1, 3, 1, 4, 4, 4, 2, 2, 1, 0], 23,
     [5, 2, 5, 3, 0, 1, 5, 2, 2, 2, 3, 5, 1, 0], None, "client", "server"),
    ([4, 3, 0, 0], [1, 0, 1, 2], [19, 5, 14, 6], [2, 4, 0, 3, 4], [1, 4, 3, 2, 0], 6,
     [5, 5, 5, 0], 3.0, "client", "client"),
    ([3, 0, 5, 4, 6, 6, 8, 0, 2, 7, 1, 0, 2], [0, 0, 3, 0, 2, 1, 1, 0, 0, 0, 3, 0, 3],
     [9, 6, 20, 0, 14, 20, 6, 7, 7, 10, 7, 13, 2], [0, 5, 5, 1, 0, 0, 0, 1, 5, 3, 6, 0, 0, 1],
     [4, 4, 3, 1, 3, 1, 2, 1, 3, 0, 0, 0, 0, 0], 14,
     [2, 2, 1, 4, 1, 2, 1, 3, 1, 0, 2, 4, 2], 5.0, "server", "client"),
    ([9, 0, 2, 2, 6, 5, 0, 7, 0, 3, 9, 0, 3], [1, 2, 2, 3, 2, 1, 1, 3, 1, 3, 1, 3, 1],
     [0, 12, 18, 7, 0, 6, 18, 0, 15, 18, 6, 15, 13], [6, 4, 2, 6, 4, 5, 3, 2, 5, 2, 2, 3, 0, 1],
     [0, 3, 2, 0, 0, 0, 1, 0, 1, 4, 1, 0, 4, 0], 29,
     [5, 0, 2, 3, 1, 5, 0, 4, 4, 5, 1, 4, 0], None, "client", "client"),
    ([8, 8, 0], [1, 1, 1], [12, 10, 15], [1, 5, 4, 0], [0, 0, 4, 4], 6, [3, 3, 0], None,
     "server", "server"),
]  # fmt: skip


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case", range(len(TIGHT)))
def test_latency_exactly_at_sla(name: str, case: int) -> None:
    a, c, w, u, v, sla, m, budget, start, end = TIGHT[case]
    ch = _chain(a, c, w, u, v, float(sla), m, budget, start, end)
    ref = get_solver("dp-exact").solve_chain(ch)
    assert ref.placement is not None and score(ch, ref.placement).latency_s <= sla
    best = score(ch, ref.placement).server_work
    for opts in ({}, {"tick": 1.0}):
        sol = get_solver(name, **opts).solve_chain(ch)
        assert sol.status == "optimal" and sol.placement is not None, (opts, sol)
        assert score(ch, sol.placement).server_work == best, (opts, sol)


@pytest.mark.parametrize("name", BACKENDS)
def test_infeasible_request_where_cbc_crashed(name: str) -> None:
    """cbc with ``-preprocess off`` died on this infeasible request (verify seed 7,
    instance 1387); the CBC backend then retries with its defaults."""
    ch = _chain(
        [0.6477723966799046, 1.70815052601474],
        [2.004637866113365, 0.4069138146054031],
        [17.87426121164996, 0.0],
        [5.343984174946295, 3.0428939527616046, 1.1568196087592575],
        [1.5498062258598346, 1.7241103751016973, 0.0],
        3.8618243580191476,
        [1.4630401245244296, 1.900504877620014],
        2.386850985578436,
    )
    assert get_solver("dp-exact").solve_chain(ch).status == "infeasible"
    for opts in ({}, {"grid": DEFAULT_GRID}):
        assert get_solver(name, **opts).solve_chain(ch).status == "infeasible"


def test_cbc_falls_back_when_the_process_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    if not available("ilp-cbc"):
        pytest.skip("needs CBC")
    import pulp

    import splitopt.solvers.ilp_pulp as ilp_pulp
    import splitopt.solvers.milp_backends as milp_backends

    real = milp_backends.cbc_solver

    def cbc(**kwargs):  # "boom" runs /bin/false instead of cbc: the process fails
        if "boom" in kwargs.get("options", []):
            return pulp.COIN_CMD(path="/bin/false", msg=False)
        return real(**kwargs)

    monkeypatch.setattr(milp_backends, "cbc_solver", cbc)  # what solve_cbc calls
    ch = _chain([1, 1], [1, 1], [1, 2], [0, 0, 0], [0, 0, 0], sla=2)
    monkeypatch.setattr(ilp_pulp.CBC, "cbc_attempts", (("boom",), ()))
    assert format_placement(ilp_pulp.CBC().solve_chain(ch).placement) == "CC"
    monkeypatch.setattr(ilp_pulp.CBC, "cbc_attempts", (("boom",),))
    sol = ilp_pulp.CBC().solve_chain(ch)
    assert sol.status == "error" and "CBC failed (boom)" in (sol.message or "")
