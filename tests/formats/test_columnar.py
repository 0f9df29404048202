"""Columnar (Parquet) problems and solutions, streamed solve, resume, Dask."""

from __future__ import annotations

import itertools
import json
import math
import re
from fractions import Fraction

import numpy as np
import pytest

pq = pytest.importorskip("pyarrow.parquet")
import pyarrow as pa  # noqa: E402

from splitopt.errors import InputError  # noqa: E402
from splitopt.formats.columnar import (  # noqa: E402
    ColumnarProblem,
    problem_table,
    write_problem_columnar,
)
from splitopt.ragged import ChainBatch  # noqa: E402
from splitopt.solvers import get_solver  # noqa: E402
from splitopt.streaming import (  # noqa: E402
    evaluate_file,
    partials,
    solve_file,
    validate_file,
)
from tests.conftest import as_problem, random_chains, run_cli  # noqa: E402


def _problem(n=40, seed=4):
    return as_problem(
        random_chains(seed, n // 2, integer=False) + random_chains(seed + 1, n // 2, integer=True)
    )


def test_roundtrip(tmp_path):
    p = _problem()
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    back = ColumnarProblem(f).read()
    assert back.requests == p.requests
    assert back.name == p.name


def test_compiled_scenario_keeps_meta(tmp_path, cli):
    """Request meta (model, client, network, …) and the file's meta survive Parquet."""
    from splitopt.formats.read import compile_file

    scenario = "tests/data/scenario/good/mixed.json"
    f = tmp_path / "c.parquet"
    r = cli("compile", scenario, "-o", str(f))
    assert r.returncode == 0, r.stderr
    ref = compile_file(scenario)
    assert any(q.meta for q in ref.requests)
    cp = ColumnarProblem(f)
    assert cp.read().requests == ref.requests  # equality includes meta
    assert cp.meta["compiled_from"] == scenario
    j = tmp_path / "c.json"
    assert cli("compile", scenario, "-o", str(j)).returncode == 0
    assert json.loads(j.read_text())["meta"]["compiled_from"] == cp.meta["compiled_from"]


def _solution_rows(path):
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("solver", ["dp", "greedy"])
def test_streamed_solve_equals_in_memory(tmp_path, solver):
    p = _problem()
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    out = tmp_path / "s.parquet"
    head = solve_file(str(f), str(out), solver, rows=7, progress=False)
    ref = get_solver(solver).solve(p)
    rows = _solution_rows(out)
    assert [r["id"] for r in rows] == list(p.ids)
    assert [r["placement"] for r in rows] == list(ref.placements)
    assert [r["status"] for r in rows] == list(ref.statuses)
    w = np.array([np.nan if r["server_work"] is None else r["server_work"] for r in rows])
    assert np.array_equal(w, ref.evaluation.server_work, equal_nan=True)
    assert head["objective"] == pytest.approx(ref.objective, rel=1e-12)
    assert not (tmp_path / "s.parquet.parts").exists()
    # the metadata holds what a JSON solution document's head holds
    from splitopt.metrics import summarize

    meta = json.loads(pq.read_schema(out).metadata[b"splitopt"])
    assert meta == head
    assert (meta["status"], meta["work_unit"], meta["batch_rows"]) == (ref.status, "FLOP", 7)
    s = summarize(ref)
    for k in ("requests", "feasible", "infeasible", "server_only_infeasible"):
        assert meta["summary"][k] == getattr(s, k)
    for k in ("server_only_work", "reduction_vs_server_only"):
        assert meta["summary"][k] == pytest.approx(getattr(s, k), rel=1e-12)
    ev = evaluate_file(str(f), str(out), rows=9)
    assert ev["objective"] == pytest.approx(ref.objective, rel=1e-12)
    assert ev["broken"] == 0
    # parts of 7 and 9 rows, yet the totals are the exactly rounded sums over all rows
    ws = np.array([q.weight for q in p.requests])
    feas = np.isfinite(w) & np.array([r["feasible"] for r in rows], bool)
    exact = math.fsum((ws[feas] * w[feas]).tolist())
    assert head["objective"] == exact
    assert ev["objective"] == exact


def test_partials_are_exact_and_combine_in_any_order():
    rng = np.random.default_rng(3)
    # magnitudes over 30 decades and cancellation: a plain or pairwise sum loses bits
    x = rng.standard_normal(3000) * 10.0 ** rng.integers(-15, 15, 3000)
    x = np.concatenate([x, -x[:1000], [1e300, -1e300, 1.0]])
    w = rng.uniform(0.5, 2.0, x.size)
    terms = (w * x).tolist()
    exact = float(sum((Fraction(t) for t in terms), Fraction(0)))
    assert math.fsum(partials(w, x)) == exact
    cuts = [0, 17, 1500, 2999, x.size]
    pieces = [partials(w[a:b], x[a:b]) for a, b in itertools.pairwise(cuts)]
    for order in (pieces, pieces[::-1]):
        assert math.fsum(v for p in order for v in p) == exact
    assert partials(w[:0], x[:0]) == []


def test_resume_after_interruption(tmp_path):
    p = _problem(60)
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    full = tmp_path / "full.parquet"
    solve_file(str(f), str(full), rows=8, progress=False)
    out = tmp_path / "s.parquet"
    with pytest.raises(KeyboardInterrupt):
        solve_file(str(f), str(out), rows=8, progress=False, stop_after=3)
    assert not out.exists()
    assert len(list((tmp_path / "s.parquet.parts").glob("part-*.parquet"))) == 3
    head = solve_file(str(f), str(out), rows=8, progress=False)
    assert head["resumed_parts"] == 3
    assert pq.read_table(out).equals(pq.read_table(full))
    a = json.loads(pq.read_schema(out).metadata[b"splitopt"])
    b = json.loads(pq.read_schema(full).metadata[b"splitopt"])
    for k in ("objective", "statuses", "num_feasible", "requests"):
        assert a[k] == b[k]


def test_resume_restarts_when_options_change(tmp_path):
    p = _problem(30)
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    out = tmp_path / "s.parquet"
    with pytest.raises(KeyboardInterrupt):
        solve_file(str(f), str(out), rows=8, progress=False, stop_after=1)
    head = solve_file(str(f), str(out), options={"grid": 50}, rows=8, progress=False)
    assert head["resumed_parts"] == 0


def _bad_file(tmp_path, mutate):
    p = _problem(12)
    b = ChainBatch.from_chains(list(p.chains))
    t = problem_table(list(p.ids), p.weights, b)
    t = mutate(t)
    head = {"format": "splitopt-problem", "version": 1, "name": "x", "work_unit": "FLOP"}
    t = t.replace_schema_metadata({b"splitopt": json.dumps(head).encode()})
    f = tmp_path / "bad.parquet"
    pq.write_table(t, f)
    return f


def _set(t, name, i, value):
    col = t.column(name).to_pylist()
    col[i] = value
    return t.set_column(
        t.schema.get_field_index(name), name, pa.array(col, t.schema.field(name).type)
    )


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda t: _set(t, "sla_s", 5, -1.0), "row 5, column sla_s"),
        (lambda t: _set(t, "uplink_s", 3, [0.0]), "row 3, column uplink_s"),
        (
            lambda t: _set(t, "server_work", 7, [float("nan")] * len(t.column("server_work")[7])),
            "row 7, column server_work[0]",
        ),
        (lambda t: _set(t, "start", 2, "cloud"), "row 2, column start"),
        (lambda t: _set(t, "id", 4, "r0"), "row 4, column id"),
        (lambda t: t.append_column("colour", pa.array(["x"] * t.num_rows)), "column colour"),
        (lambda t: t.drop_columns(["sla_s"]), "column sla_s"),
        (
            lambda t: t.append_column("meta", pa.array(['{"a": 1}'] * 3 + ["[1]"] * 9)),
            "row 3, column meta",
        ),
        (
            lambda t: t.append_column("meta", pa.array([None] * 10 + ["{x"] * 2)),
            "row 10, column meta",
        ),
    ],
)
def test_errors_name_file_row_and_column(tmp_path, mutate, where, cli):
    f = _bad_file(tmp_path, mutate)
    with pytest.raises(InputError, match=re.escape(where)):
        validate_file(str(f), rows=5)
    r = cli("validate", str(f))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and str(f) in r.stderr and where in r.stderr


def test_cli_generate_solve_evaluate(tmp_path, cli):
    f = tmp_path / "g.parquet"
    r = cli("generate", "random-chain", "--seed", "3", "-o", str(f))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "sol.parquet"
    r = cli("solve", str(f), "--out", str(out), "--no-progress", "--batch-rows", "6")
    assert r.returncode == 0, r.stderr
    r2 = cli("evaluate", str(f), str(out))
    assert r2.returncode == 0 and "0 placement(s) break" in r2.stdout
    r3 = cli("solve", str(f), "--json", "-")  # in memory, like a JSON problem
    assert r3.returncode == 0, r3.stderr
    doc = json.loads(r3.stdout)
    assert [q["placement"] for q in doc["requests"]] == [
        q["placement"] for q in _solution_rows(out)
    ]


def _main(capsys, *argv):
    from splitopt.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_columnar_json_replay_and_unsupported(tmp_path, capsys):
    """--json (in memory), --replay of a columnar or JSON solution, and one exit-2 line
    for the combinations that do not exist."""
    p = _problem(30)
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    sol = tmp_path / "s.parquet"
    assert _main(capsys, "solve", f, "--out", sol, "--no-progress", "--batch-rows", 7)[0] == 0
    js = tmp_path / "s.json"
    code, out, _ = _main(capsys, "solve", f, "--solver", "dp,greedy", "--json", js)
    assert code == 0 and "dp" in out and "greedy" in out  # the comparison table
    docs = json.loads(js.read_text())
    assert [q["placement"] for q in docs[0]["requests"]] == [
        q["placement"] for q in _solution_rows(sol)
    ]
    # streamed replay of a columnar solution
    code, out, _ = _main(capsys, "solve", f, "--replay", sol, "--no-progress")
    assert code == 0 and "gives the same placements (30 requests)" in out
    again = tmp_path / "again.parquet"
    code, out, _ = _main(capsys, "solve", f, "--replay", sol, "--out", again, "--no-progress")
    assert code == 0 and pq.read_table(again).select(["id", "placement"]).equals(
        pq.read_table(sol).select(["id", "placement"])
    )
    t = pq.read_table(sol)
    pl = t.column("placement").to_pylist()
    k = next(i for i, x in enumerate(pl) if x is not None)
    pl[k] = "".join("C" if c == "S" else "S" for c in pl[k])
    bad = tmp_path / "bad.parquet"
    pq.write_table(t.set_column(2, "placement", pa.array(pl, pa.string())), bad)
    code, out, _ = _main(capsys, "solve", f, "--replay", bad, "--no-progress")
    assert code == 1 and f"1 of 30 placements differ (first: request {p.ids[k]!r})" in out
    # replay of a JSON solution on a columnar problem: in memory
    one = tmp_path / "one.json"
    assert _main(capsys, "solve", f, "--json", one)[0] == 0
    code, out, _ = _main(capsys, "solve", f, "--replay", one)
    assert code == 0 and "gives the same placements" in out
    # evaluate: a JSON solution against a columnar problem works (in memory)
    code, out, _ = _main(capsys, "evaluate", f, one)
    assert code == 0, out
    # unsupported combinations: exit 2, one line, saying what to do
    pj = tmp_path / "p.json"
    from splitopt.formats.problem_file import write_problem

    write_problem(p, pj)
    for argv, words in [
        (("solve", f), "give --out FILE.parquet"),
        (("solve", f, "--out", tmp_path / "x.parquet", "--json", "-"), "drop --out/--dask"),
        (("solve", f, "--out", tmp_path / "x.parquet", "--per-request"), "drop --out/--dask"),
        (("solve", f, "--replay", one, "--out", tmp_path / "x.parquet"), "drop --out/--dask"),
        (("solve", f, "--replay", sol, "--solver", "dp"), "drop --solver"),
        (("solve", pj, "--replay", sol), "replays a columnar problem"),
        (("evaluate", pj, sol), "against the columnar problem"),
        (("evaluate", f, sol, "--json", "-"), "totals only"),
    ]:
        code, out, err = _main(capsys, *argv)
        assert code == 2, (argv, out, err)
        assert err.count("\n") == 1 and words in err, (argv, err)
        assert "Traceback" not in err
    assert not (tmp_path / "x.parquet").exists()


def test_dask_local_cluster_identical(tmp_path):
    distributed = pytest.importorskip("distributed")
    p = _problem(40)
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    local = tmp_path / "local.parquet"
    solve_file(str(f), str(local), rows=6, progress=False)
    out = tmp_path / "dask.parquet"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        solve_file(str(f), str(out), rows=6, progress=False, dask=client)
        ev_dask = evaluate_file(str(f), str(out), rows=7, dask=client)
    assert pq.read_table(out).equals(pq.read_table(local))
    assert ev_dask == evaluate_file(str(f), str(local), rows=7)
    assert ev_dask["broken"] == 0


def test_cli_dask_address_identical(tmp_path):
    """``splitopt solve/evaluate … --dask tcp://…`` (a separate process, the address as
    a user gives it) against a LocalCluster: the same file as the local solve."""
    distributed = pytest.importorskip("distributed")
    p = _problem(40)
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    local = tmp_path / "local.parquet"
    solve_file(str(f), str(local), rows=6, progress=False)
    out = tmp_path / "dask.parquet"
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        addr = cluster.scheduler_address
        assert addr.startswith("tcp://")
        r = run_cli(
            "solve", str(f), "--out", str(out), "--no-progress", "--batch-rows", "6", "--dask", addr
        )
        assert r.returncode == 0, r.stderr
        ev = run_cli("evaluate", str(f), str(out), "--dask", addr)
        assert ev.returncode == 0, ev.stderr
        # the ranges went through this scheduler
        prefixes = cluster.scheduler.task_prefixes
        assert {"remote_range", "remote_evaluate"} <= set(prefixes)
    assert pq.read_table(out).equals(pq.read_table(local))
    assert "0 placement(s) break" in ev.stdout
    ref = get_solver("dp").solve(p)
    assert [x["placement"] for x in _solution_rows(out)] == list(ref.placements)


def test_detected_by_magic_without_suffix(tmp_path):
    from splitopt.formats.columnar import is_columnar

    p = _problem(4)
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    g = tmp_path / "problem.bin"
    g.write_bytes(f.read_bytes())
    assert is_columnar(g)
    assert not is_columnar(tmp_path / "absent.json")
    assert ColumnarProblem(g).read().requests == p.requests
