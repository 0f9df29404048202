"""The label kernels run as plain Python (:mod:`splitopt.solvers.jit`): the same
answers as compiled, the budget that hands over to the compiled form, and a
one-file ``splitopt solve`` of a small problem that never imports numba."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from splitopt.families import generate
from splitopt.solvers import get_solver, jit
from splitopt.solvers.baselines import brute_force
from splitopt.solvers.dp import interpret_first, labels_result
from splitopt.solvers.kernels import label_dp, warm_up
from tests.conftest import ROOT, as_problem, random_chains


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.statuses == b.statuses
    assert a.placements == b.placements
    assert np.array_equal(a.work_array(), b.work_array(), equal_nan=True)


def _problems() -> list:  # type: ignore[type-arg]
    chains = random_chains(11, 10, integer=False, max_layers=12)
    budgeted = [
        c.replace(memory_budget_bytes=f * float(c.client_memory_bytes.sum()))
        for c, f in zip(
            random_chains(12, 10, integer=False, max_layers=12), [0.2, 0.5] * 5, strict=True
        )
    ]
    return [
        as_problem(chains, name="random"),
        as_problem(budgeted, name="random-budget"),
        generate("random-chain", 3, "small"),
        generate("llm-edge", 1, "tiny"),
        generate("paper-like", 1, "tiny"),
    ]


@pytest.mark.parametrize("name", ["dp", "dp-exact"])
def test_interpreted_kernels_give_the_compiled_answers(name: str) -> None:
    solver = get_solver(name)
    for problem in _problems():
        compiled = solver.solve(problem)
        with jit.interpreted(600.0):
            plain = solver.solve(problem)
        _same(plain, compiled)


def test_interpreted_dp_agrees_with_brute_force() -> None:
    chains = random_chains(13, 8, integer=False, max_layers=9)
    chains += [
        c.replace(memory_budget_bytes=0.4 * float(c.client_memory_bytes.sum())) for c in chains
    ]
    with jit.interpreted(600.0):
        res = get_solver("dp").solve(as_problem(chains))
    for i, c in enumerate(chains):
        ref = brute_force(c)[0]
        w = res.work_array()[i]
        if math.isinf(ref):
            assert res.statuses[i] == "infeasible"
        else:
            assert res.statuses[i] == "optimal"
            assert abs(w - ref) <= 1e-9 * max(abs(ref), 1e-300)


def test_an_overrun_hands_over_to_the_compiled_kernels() -> None:
    problem = _problems()[1]
    solver = get_solver("dp")
    compiled = solver.solve(problem)
    with pytest.raises(jit.InterpretedOverrun), jit.interpreted(0.0):
        solver.solve(problem)
    # labels_result's own fallback: a zero budget overruns, the compiled run answers
    import splitopt.solvers.dp as dp

    old = dp.INTERPRETED_BUDGET_S
    dp.INTERPRETED_BUDGET_S = 0.0
    try:
        with jit.allow_interpreted():
            _same(labels_result(solver, problem), compiled)
    finally:
        dp.INTERPRETED_BUDGET_S = old


def test_the_rule_only_where_allowed_small_and_untimed() -> None:
    warm_up(grid=False)  # the compiled label kernels are loaded in this process
    small = _problems()[0]
    dp = get_solver("dp")
    assert label_dp.loaded
    with jit.allow_interpreted():
        assert not interpret_first(dp, small)  # compiled kernels already loaded
    assert not jit.interpreted_allowed()


_FRESH = """
import sys
import numpy as np
from splitopt.solvers import get_solver
from splitopt.solvers.dp import interpret_first
from splitopt.solvers.jit import allow_interpreted
from splitopt.formats.read import read_any
p = read_any("instances/demo/scenario.json")
dp = get_solver("dp")
from splitopt.problem import Problem, Request
from tests.conftest import random_chains
chains = random_chains(1, 64, integer=False)
many = Problem("many", tuple(Request(f"r{i}", c) for i, c in enumerate(chains)))
c = random_chains(2, 1, integer=False)[0]
long = Problem("long", (Request("r", c.replace(**{k: np.resize(getattr(c, k), n) for k, n in [
    ("client_time_s", 2049), ("server_time_s", 2049), ("server_work", 2049),
    ("client_memory_bytes", 2049), ("uplink_s", 2050), ("downlink_s", 2050)]})),))
assert long.chains[0].num_layers == 2049
with allow_interpreted():
    assert interpret_first(dp, p)
    assert not interpret_first(get_solver("dp", time_limit=5.0), p)
    assert not interpret_first(dp, many)  # 64 distinct chains: the batched kernels
    assert not interpret_first(dp, long)  # more than 2,048 layers
assert not interpret_first(dp, p)  # not allowed outside
from splitopt.cli import main
assert main(["solve", "instances/demo/scenario.json", "--json", "-"]) == 0
assert "numba" not in sys.modules, "numba imported"
"""


def test_one_file_solve_of_the_demo_never_imports_numba() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FRESH], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert '"status": "optimal"' in out.stdout or '"optimal"' in out.stdout


def test_batched_kernels_with_prange_run_interpreted_too() -> None:
    # >= BATCH_MIN_CHAINS distinct chains: the parallel (prange) batch kernel
    chains = random_chains(14, 70, integer=False, max_layers=6)
    problem = as_problem(chains, name="batch")
    solver = get_solver("dp")
    compiled = solver.solve(problem)
    with jit.interpreted(600.0):
        plain = solver.solve(problem)
    _same(plain, compiled)


def test_a_kernel_keeps_its_name_docs_and_pickles_by_reference() -> None:
    import pickle

    assert label_dp.__name__ == "label_dp" and "label-setting" in (label_dp.__doc__ or "")
    assert pickle.loads(pickle.dumps(label_dp)) is label_dp
    assert label_dp.plain is not label_dp.py_func  # its own namespace of plain kernels
    assert label_dp.plain.__code__ is label_dp.py_func.__code__
