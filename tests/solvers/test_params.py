"""Typed solver parameters: options <-> values, CLI flags derived from them, replay
from a solution file, refused flags, and each distinct chain scored once."""

from __future__ import annotations

import importlib
import json
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import splitopt
from splitopt.cli import build_parser, main
from splitopt.discretise import Discretisation
from splitopt.errors import SolverError
from splitopt.formats import write_problem
from splitopt.solvers import available, get_solver, list_solvers, solver_class
from splitopt.solvers.params import OPTIONS, DPParams, ILPParams, SolverParams
from tests.conftest import as_problem, random_chains

DEMO = "instances/demo/scenario.json"
evaluate_mod = importlib.import_module(
    "splitopt.evaluate"
)  # the package exports a function of that name


@st.composite
def dp_params(draw):
    grid = draw(st.none() | st.integers(1, 10**6))
    tick = None if grid is not None else draw(st.none() | st.floats(1e-9, 1e3))
    mem_grid = draw(st.none() | st.integers(1, 10**4))
    mem_tick = None if mem_grid is not None else draw(st.none() | st.floats(1.0, 1e9))
    return DPParams(
        time_limit=draw(st.none() | st.floats(1e-3, 1e4)),
        discretisation=Discretisation(grid, tick, mem_grid, mem_tick),
        bound=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None)
@given(dp_params())
def test_dp_params_round_trip_through_options_and_json(p):
    opts = json.loads(json.dumps(p.to_options()))
    assert DPParams.from_options("dp", opts) == p
    assert pickle.loads(pickle.dumps(p)) == p
    assert get_solver("dp-grid", **opts).params == p


@pytest.mark.nojit
def test_ilp_params_modes():
    assert ILPParams.from_options("ilp-highs", {}).discretisation is None
    assert ILPParams.from_options("ilp-highs", {"exact": True}).to_options() == {"mode": "exact"}
    t = ILPParams.from_options("ilp-highs", {"grid": 50, "mem_grid": 8})
    assert t.ticked and t.to_options() == {"grid": 50, "mem_grid": 8, "mode": "ticked"}
    assert ILPParams.from_options("ilp-highs", t.to_options()) == t
    for bad in ({"exact": True, "grid": 5}, {"mem_grid": 4}, {"mode": "ticked"}, {"mode": "x"}):
        with pytest.raises(SolverError):
            ILPParams.from_options("ilp-highs", bad)


@pytest.mark.nojit
def test_every_solver_refuses_options_it_does_not_take():
    for name in list_solvers():
        cls = solver_class(name)
        assert set(cls.option_names) == set(cls.params_type.options)
        for o in OPTIONS:
            if o.name not in cls.option_names:
                with pytest.raises(SolverError, match=o.name):
                    get_solver(name, **{o.name: 1 if o.kind is not bool else True})
    with pytest.raises(SolverError):
        get_solver("greedy", SolverParams(), time_limit=3)
    with pytest.raises(SolverError):
        get_solver("greedy", DPParams())
    assert get_solver("greedy", SolverParams(time_limit=2.0)).time_limit == 2.0
    with pytest.raises(SolverError):
        SolverParams(time_limit=0)


@pytest.mark.nojit
def test_cli_flags_are_derived_from_the_options():
    parser = build_parser()
    solve = next(a for a in parser._actions if a.dest == "command").choices["solve"]
    flags = {s for a in solve._actions for s in a.option_strings}
    assert {o.flag for o in OPTIONS} <= flags


def test_flag_no_listed_solver_takes_is_an_error(capsys):
    assert main(["solve", DEMO, "--solver", "greedy,best-cut", "--bound"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--bound" in err and "greedy" in err
    assert main(["solve", DEMO, "--solver", "dp-exact", "--grid", "100"]) == 2
    assert "--grid" in capsys.readouterr().err


def test_flag_applies_to_the_solvers_that_take_it(capsys, tmp_path):
    out = tmp_path / "sol.json"
    code = main(["solve", DEMO, "--solver", "dp,greedy", "--bound", "--json", str(out)])
    assert code == 0
    docs = json.loads(out.read_text())
    assert [d["options"] for d in docs] == [{"bound": True}, {}]


def test_replay_gives_the_same_result(capsys, tmp_path):
    problem = as_problem(random_chains(11, 8, integer=False), name="replay-me")
    path = tmp_path / "p.json"
    write_problem(problem, path)
    runs = [["--solver", "dp", "--grid", "300", "--bound"], ["--solver", "greedy-ratio"]]
    if available("ilp-highs"):
        runs.append(["--solver", "ilp-highs", "--tick", "0.01"])
    for flags in runs:
        sol = tmp_path / "sol.json"
        assert main(["solve", str(path), *flags, "--json", str(sol)]) == 0
        again = tmp_path / "again.json"
        code = main(["solve", str(path), "--replay", str(sol), "--json", str(again)])
        assert code == 0, capsys.readouterr()
        a, b = json.loads(sol.read_text()), json.loads(again.read_text())
        for d in (a, b):
            d.pop("runtime_s")
        assert a == b  # same solver, options, statuses, placements and figures
    # a replay that does not reproduce the file exits 1 with a one-line report
    doc = json.loads(sol.read_text())
    row = next(r for r in doc["requests"] if r["placement"])
    row["placement"] = ("C" if row["placement"][0] == "S" else "S") + row["placement"][1:]
    sol.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["solve", str(path), "--replay", str(sol)]) == 1
    assert "1 of 8 placements differ" in capsys.readouterr().out
    # --replay with solver flags is a usage error
    assert main(["solve", str(path), "--replay", str(sol), "--grid", "5"]) == 2
    bad = dict(doc, options={"colour": 3})
    sol.write_text(json.dumps(bad))
    assert main(["solve", str(path), "--replay", str(sol)]) == 2
    assert "options" in capsys.readouterr().err


def test_each_distinct_chain_is_scored_once(monkeypatch):
    chains = random_chains(2, 5, integer=True)
    problem = as_problem(chains * 4)  # 20 requests, 5 distinct chains
    calls = []
    real = evaluate_mod.score

    def counting(chain, placement):
        calls.append(chain.key)
        return real(chain, placement)

    monkeypatch.setattr(evaluate_mod, "score", counting)
    names = ["dp", "greedy", "best-cut"] + (["ilp-highs"] if available("ilp-highs") else [])
    for name in names:
        calls.clear()
        res = splitopt.solve(problem, name)
        feasible_chains = {
            problem.chains[int(j)].key
            for i, j in enumerate(problem.chain_index)
            if res.evaluation.on_server[i] is not None
        }
        # dp, greedy, best-cut: the result scores each distinct chain with a placement
        # exactly once (not once per request); the ILP hands its real-mode score along,
        # so the result scores nothing again (its cut loop's call is the only one)
        expected = 0 if name.startswith("ilp") else len(feasible_chains)
        assert sorted(calls) == sorted(feasible_chains)[: len(calls)]
        assert len(calls) == expected, name


def test_placements_are_arrays_inside_and_strings_outside():
    problem = as_problem(random_chains(3, 6, integer=True) * 2)
    res = splitopt.solve(problem, "dp")
    for rr, x, text in zip(res, res.on_server, res.placements, strict=True):
        if x is None:
            assert rr.placement is None and rr.on_server is None
            continue
        assert x.dtype == np.bool_ and not x.flags.writeable
        with pytest.raises(ValueError):
            x.setflags(write=True)
        assert isinstance(rr.placement, str) and rr.placement == text
        assert text == "".join("S" if b else "C" for b in x)
    # requests sharing a chain share one placement array
    first = {}
    for i, j in enumerate(problem.chain_index):
        x = res.evaluation.on_server[i]
        if x is not None:
            assert first.setdefault(int(j), x) is x


def test_result_figures_cannot_be_changed_afterwards():
    problem = as_problem(random_chains(4, 4, integer=True))
    res = splitopt.solve(problem, "dp-exact")
    ev = res.evaluation
    for a in (ev.latency_s, ev.server_work, ev.client_memory_bytes, ev.feasible, ev.weights):
        with pytest.raises(ValueError):
            a.setflags(write=True)


def test_a_carried_score_is_used_only_for_its_own_chain_and_placement():
    from splitopt.evaluate import Score, score
    from splitopt.solution import Result

    a, b = random_chains(6, 2, integer=True, max_layers=3)[:2]
    a = a.replace(server_work=a.server_work + 1.0)  # distinct chains
    problem = as_problem([a])
    x = np.ones(a.num_layers, dtype=bool)
    right = score(a, x)
    assert right.is_for(a, x) and not right.is_for(b, np.ones(b.num_layers, dtype=bool))
    assert not right.is_for(a, ~x)
    forged = Score(0.0, -123.0, 0.0, True)  # not made by score(): no identity
    for carried in (forged, score(b, np.ones(b.num_layers, dtype=bool))):
        res = Result.from_chains(problem, "t", ["feasible"], [x], 0.0, scores=[carried])
        assert res.evaluation.server_work[0] == right.server_work
