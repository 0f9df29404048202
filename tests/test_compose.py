"""Outputs that compose: what one command writes, the commands that read that kind accept."""

from __future__ import annotations

import json

PROBLEM = "tests/data/docs-examples/problem.json"


def test_replay_of_a_multi_solver_file(tmp_path, cli):
    sol = tmp_path / "multi.json"
    proc = cli("solve", PROBLEM, "--solver", "dp-exact,greedy,dp", "--json", str(sol))
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(sol.read_text()), list)
    again = cli("solve", PROBLEM, "--replay", str(sol))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("gives the same placements") == 3
    # a changed placement is found (exit 1), in whichever document it is
    doc = json.loads(sol.read_text())
    doc[1]["requests"][0]["placement"] = "SSS"
    sol.write_text(json.dumps(doc))
    bad = cli("solve", PROBLEM, "--replay", str(sol))
    assert bad.returncode == 1
    assert "placements differ" in bad.stdout and bad.stdout.count("same placements") == 2


def test_replay_list_for_another_instance_is_one_line_exit_2(tmp_path, cli):
    sol = tmp_path / "multi.json"
    assert cli("solve", PROBLEM, "--solver", "greedy,dp", "--json", str(sol)).returncode == 0
    doc = json.loads(sol.read_text())
    for d in doc:
        d["instance"] = "other"
    sol.write_text(json.dumps(doc))
    proc = cli("solve", PROBLEM, "--replay", str(sol))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "no solution for instance 'three-layer-example'" in proc.stderr


def test_evaluate_keeps_certified_statuses_and_flags_broken_ones(tmp_path, cli):
    sol = tmp_path / "s.json"
    assert cli("solve", PROBLEM, "--solver", "dp-exact", "--json", str(sol)).returncode == 0
    out = tmp_path / "e.json"
    proc = cli("evaluate", PROBLEM, str(sol), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(out.read_text())["requests"]}
    assert rows["photo-caption"]["status"] == "optimal"  # was shown as "feasible"
    assert rows["too-tight"]["status"] == "infeasible"
    assert rows["too-tight"]["reason"]["code"] == "sla-below-fastest"
    # a placement that breaks the memory budget is an error whatever the file says
    doc = json.loads(sol.read_text())
    doc["requests"][0]["placement"] = "CCC"
    sol.write_text(json.dumps(doc))
    proc = cli("evaluate", PROBLEM, str(sol), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(out.read_text())["requests"]}
    assert rows["photo-caption"]["status"] == "error"
    assert "1 placement(s) break" in proc.stdout


def test_verify_csv_of_other_solvers_is_refused_not_dropped(tmp_path, cli):
    import pytest

    from splitopt.errors import UsageError
    from splitopt.experiments.harness import read_csv_rows
    from splitopt.solvers import available
    from splitopt.verify import run_verify

    if not available("ilp-highs"):
        pytest.skip("needs HiGHS")
    csv = tmp_path / "v.csv"
    kw = dict(n=2, seed=3, workers=1, progress=False, csv=csv, out_dir=tmp_path / "f")
    run_verify(solvers=["ilp-highs"], **kw)  # type: ignore[arg-type]
    before = read_csv_rows(csv)
    assert len(before) == 2
    with pytest.raises(UsageError, match="other settings"):
        run_verify(solvers=["brute-force"], **kw)  # type: ignore[arg-type]
    assert read_csv_rows(csv) == before  # untouched
    proc = cli(
        "verify",
        "--n",
        "2",
        "--seed",
        "3",
        "--solvers",
        "brute-force",
        "--csv",
        str(csv),
        "--out",
        str(tmp_path / "f"),
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "give another --csv" in proc.stderr


def test_simulate_says_why_petals_serves_nothing(tmp_path, cli):
    out = tmp_path / "sim.json"
    proc = cli(
        "simulate",
        "tests/data/docs-examples/cluster.json",
        "--policy",
        "cg-bp+ws-rr,petals",
        "--seeds",
        "2",
        "--requests",
        "10",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "inf" not in proc.stdout and "nan" not in proc.stdout
    assert "hosts no copy of block(s)" in proc.stdout
    doc = json.loads(out.read_text())
    assert "hosts no copy" in doc["notes"]["petals+petals"]
    assert "cg-bp+ws-rr" not in doc["notes"]
