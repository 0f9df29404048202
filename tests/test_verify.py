"""The verification harness: zero disagreements on real solvers, and it does
catch (and write out, and replay) a solver that is wrong."""

from __future__ import annotations

import json

import numpy as np
import pytest

import splitopt.verify as verify
from splitopt.evaluate import score
from splitopt.formats.problem_file import read_problem
from splitopt.problem import Chain
from splitopt.solvers import ILP_SOLVERS, SolverError, available, get_solver
from splitopt.solvers.base import ChainSolution
from splitopt.verify import replay, run_verify, verify_instance

HAVE_ALL = all(available(s) for s in ILP_SOLVERS)
needs_all = pytest.mark.skipif(not HAVE_ALL, reason="needs every ILP backend")


def test_instances_are_seeded_and_mixed() -> None:
    a = [verify_instance(5, i) for i in range(60)]
    b = [verify_instance(5, i) for i in range(60)]
    assert [p.chains[0].key for p in a] == [p.chains[0].key for p in b]
    assert verify_instance(6, 0).chains[0].key != a[0].chains[0].key
    chains = [c for p in a for c in p.chains]
    sizes = {len(p) for p in a}
    assert sizes == {1, 2, 3}
    assert all(1 <= c.num_layers <= 16 for c in chains)
    integral = [verify.is_integral(p, i) for p in a for i in range(len(p))]
    assert 0 < sum(integral) < len(integral)  # both integer and real data
    assert any(c.memory_budget_bytes is not None for c in chains)
    assert any(c.memory_budget_bytes is None for c in chains)
    assert any(c.start == "server" for c in chains) and any(c.end == "server" for c in chains)


@needs_all
def test_zero_disagreements_all_backends_both_modes() -> None:
    rep = run_verify(n=40, seed=2024, workers=1, progress=False)
    assert rep.disagreements == 0, rep.render()
    assert rep.instances == 40 and rep.requests >= 40
    # per request: 4 ILPs ticked + brute ticked + 4 ILPs real + brute real = 10 comparisons
    assert rep.comparisons == 10 * rep.requests
    for name in ILP_SOLVERS:
        assert rep.calls[f"{name} (ticked)"] == rep.requests
        assert rep.calls[f"{name} (real)"] == rep.requests
    text = rep.render()
    assert "disagreements 0" in text and "ilp-scip (real)" in text and "OK" in text


@needs_all
def test_process_pool() -> None:
    rep = run_verify(n=6, seed=9, workers=2, progress=False, solvers=["ilp-highs", "brute-force"])
    assert rep.disagreements == 0 and rep.instances == 6 and rep.workers == 2
    assert rep.comparisons == 4 * rep.requests  # highs + brute, ticked and real


def _wrong_highs(**opts):
    """ilp-highs, except that it answers all-server whenever that is feasible."""
    from splitopt.solvers.ilp_pulp import HiGHS

    class WrongHiGHS(HiGHS):
        def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
            p = "S" * chain.num_layers
            if score(chain, p).feasible:
                return ChainSolution("optimal", p)
            return super().solve_chain(chain, time_limit)

    return WrongHiGHS(**opts)


@pytest.mark.skipif(not available("ilp-highs"), reason="needs HiGHS")
def test_disagreements_are_caught_written_and_replayable(monkeypatch, tmp_path) -> None:
    real = verify.get_solver

    def fake(name, **opts):
        real_mode = "grid" not in opts and "tick" not in opts
        return _wrong_highs(**opts) if name == "ilp-highs" and real_mode else real(name, **opts)

    monkeypatch.setattr(verify, "get_solver", fake)
    out = tmp_path / "fails"
    rep = run_verify(n=12, seed=1, workers=1, progress=False, solvers=["ilp-highs"], out_dir=out)
    assert rep.disagreements > 0
    assert "DISAGREEMENTS FOUND" in rep.render()
    bad = {f["solver"] for f in rep.failures}
    assert bad == {"ilp-highs"} and {f["mode"] for f in rep.failures} == {"real"}
    problems = sorted(out.glob("*-i*[0-9].json"))
    assert problems, list(out.iterdir())
    info = json.loads(problems[0].with_suffix(".disagreements.json").read_text())
    assert info["disagreements"][0]["reference"] == "dp"
    p = read_problem(problems[0])
    assert p.name.startswith("verify-s1-i")
    # replaying with the wrong solver reproduces it; with the real one it is gone
    assert replay(problems[0], solvers=["ilp-highs"])
    monkeypatch.setattr(verify, "get_solver", real)
    assert replay(problems[0], solvers=["ilp-highs"]) == []


def test_compare_rules() -> None:
    p = verify_instance(3, 4)
    ref = get_solver("dp").solve(p)
    i = int(np.argmax(ref.evaluation.feasible))
    assert verify.compare(ref, i, ref, i) == (True, 0.0, "equal") or not ref.evaluation.feasible[i]
    so = get_solver("server-only").solve(p)
    for j in range(len(p)):
        agree, rel, _ = verify.compare(so, j, ref, j)
        w_so, w_ref = so.evaluation.server_work[j], ref.evaluation.server_work[j]
        if so.evaluation.feasible[j] and w_so > w_ref * (1 + 1e-9):
            assert not agree and rel > 1e-9


def test_bad_solver_names() -> None:
    with pytest.raises(SolverError, match="exact solvers"):
        run_verify(n=1, solvers=["greedy"], progress=False)


@needs_all
@pytest.mark.parametrize("family", ["llm-edge", "paper-like"])
def test_other_families(family: str) -> None:
    try:
        verify.make_instance(family, 0, 0, None)
    except (ImportError, AttributeError) as exc:  # family not there yet
        pytest.skip(f"{family}: {exc}")
    rep = run_verify(family, n=1, seed=0, workers=1, progress=False, solvers=["ilp-highs"])
    assert rep.disagreements == 0, rep.render()
    assert rep.requests > 0 and rep.comparisons >= 2 * rep.requests


# ------------------------------------------------- discretisation and speed rows


def test_discretisation_rows_gap_shrinks() -> None:
    from splitopt.experiments.discretisation import discretisation_rows, summarise

    rows = discretisation_rows("random-chain", seeds=[0], size="tiny", grids=[10, 100, 10000])
    assert [r["grid"] for r in rows] == [10, 100, 10000]
    for r in rows:
        # every dp placement is feasible on the real data, so never below the optimum
        assert r["gap"] >= -1e-12 and r["gap_max_request"] >= -1e-12
        assert r["feasible_dp"] + r["lost_on_grid"] == r["feasible_exact"]
    assert rows[0]["gap"] >= rows[-1]["gap"] and rows[0]["lost_on_grid"] >= rows[-1]["lost_on_grid"]
    s10, _, s10k = summarise(rows)
    assert s10["grid"] == 10 and s10k["exact_share"] >= s10["exact_share"]


@needs_all
def test_speed_rows_equal_objectives() -> None:
    from splitopt.experiments.speed import speed_rows, summarise

    rows = speed_rows(["random-chain"], layers=[6], requests=3, seed=1, modes=("ticked", "real"))
    names = {(r["solver"], r["mode"]) for r in rows}
    assert ("dp-grid", "ticked") in names and ("dp", "real") in names
    assert {("ilp-highs", "ticked"), ("ilp-cpsat", "real")} <= names
    assert all(r["equal"] == r["requests"] == 3 for r in rows)
    (t,) = summarise(rows)
    assert t["dp/real ÷ dp"] == 1.0 and t["all_equal"] and t["ilp-scip/real"] > 0
