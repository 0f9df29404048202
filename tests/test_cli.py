"""The command line: outputs and exit codes. One test runs ``python -m splitopt`` in a
subprocess; the rest call the same ``main`` in process (the ``cli`` fixture), which
checks the same outputs and codes without a second of imports per call."""

from __future__ import annotations

import json

import pytest

import splitopt
from splitopt.families import generate
from splitopt.formats import write_problem
from splitopt.solvers.baselines import brute_force
from tests.conftest import DATA, run_cli

BROKEN = DATA / "broken"
EXPECTED: dict[str, str] = json.loads((BROKEN / "expected.json").read_text())


@pytest.fixture(scope="module")
def int_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "int.json"
    write_problem(generate("random-chain", 8, "small", integer=True), path)
    return path


def test_solve_tick1_json_is_brute_force_optimum(int_file):
    proc = run_cli("solve", str(int_file), "--solver", "dp", "--tick", "1", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # stdout holds the JSON and nothing else
    # dp given ticks is the grid DP, named dp-grid in its results
    assert doc["format"] == "splitopt-solution" and doc["solver"] == "dp-grid"
    problem = splitopt.read(str(int_file))
    for r, row in zip(problem, doc["requests"], strict=True):
        best, _ = brute_force(r.chain)
        if best == float("inf"):
            assert row["status"] == "infeasible" and row["placement"] is None
        else:
            assert row["status"] == "optimal" and row["server_work"] == best


def test_solve_table_compares_solvers(handmade, cli):
    proc = cli("solve", str(handmade), "--solver", "dp,greedy,best-cut,server-only")
    assert proc.returncode == 0, proc.stderr
    for word in ("dp", "greedy", "best-cut", "server-only", "reduction", "vs greedy"):
        assert word in proc.stdout
    # compact by default: every line fits 100 columns, no legend (a hint instead)
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100
    assert "served: requests whose" not in proc.stdout and "--explain" in proc.stdout
    wide = cli(
        "solve", str(handmade), "--solver", "dp,greedy,best-cut,server-only", "--wide", "--explain"
    )
    assert wide.returncode == 0, wide.stderr
    for word in ("charged", "vs greedy: both (n)", "served, greedy not", "served:"):
        assert word in wide.stdout
    assert wide.stdout.count("served: requests whose placement") == 1  # the legend, once


@pytest.mark.parametrize(
    "name",
    [
        "malformed.json",
        "negative_uplink.json",
        "boundary_array_of_length_L.json",
        "unknown_version.json",
        "duplicate_id.json",
        "bad_start.json",
    ],
)
def test_broken_input_exit_2_one_line(name, tmp_path, cli):
    out = tmp_path / "sol.json"
    proc = cli("solve", str(BROKEN / name), "--json", str(out))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and EXPECTED[name] in proc.stderr
    assert str(BROKEN / name) in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_every_broken_file_fails_validate(cli):
    # validate reads every file kind: a problem's requests labelled "splitopt-solution"
    # are checked as a solution's (and lack their placements)
    expect = {**EXPECTED, "unknown_format.json": "requests[0].placement: missing field"}
    for name, expected in expect.items():
        proc = cli("validate", str(BROKEN / name))
        assert proc.returncode == 2, name
        assert expected in proc.stderr and "Traceback" not in proc.stderr, (name, proc.stderr)


def test_usage_errors_exit_2(handmade, cli):
    assert cli("solve", str(handmade), "--solver", "nope").returncode == 2
    p = cli("solve", str(handmade), "--grid", "10", "--tick", "1")
    assert p.returncode == 2 and "not allowed with" in p.stderr
    assert cli("solve", str(handmade), "--grid", "-3").returncode == 2
    assert cli("frobnicate").returncode == 2
    p = cli("solve", "no/such/file.json")
    assert p.returncode == 2 and "no such file" in p.stderr


def test_validate_ok(handmade, cli):
    proc = cli("validate", str(handmade))
    assert proc.returncode == 0 and "5 requests" in proc.stdout


def test_evaluate_round_trip_and_tampered_solution(handmade, tmp_path, cli):
    sol = tmp_path / "s.json"
    assert (
        cli("solve", str(handmade), "--solver", "dp-exact", "--json", str(sol)).returncode == 0
    )
    proc = cli("evaluate", str(handmade), str(sol), "--json", "-")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["objective"] == 44
    bad = json.loads(sol.read_text())
    bad["requests"][0]["placement"] = "CCC"  # breaks the SLA
    bad["objective"] = 0
    sol.write_text(json.dumps(bad))
    doc = json.loads(cli("evaluate", str(handmade), str(sol), "--json", "-").stdout)
    assert doc["requests"][0]["status"] == "error" and doc["requests"][0]["feasible"] is False
    bad["requests"][0]["placement"] = "CC"  # wrong length
    sol.write_text(json.dumps(bad))
    proc = cli("evaluate", str(handmade), str(sol))
    assert proc.returncode == 2 and "has 2 layers, the request has 3" in proc.stderr


def test_solvers_lists_availability(cli):
    proc = cli("solvers")
    assert proc.returncode == 0
    for name in splitopt.list_solvers():
        assert name in proc.stdout


def test_greedy_descriptions_say_they_are_ours():
    from splitopt.solvers import solver_class

    for name in ("greedy", "greedy-skip", "greedy-backward", "greedy-ratio"):
        assert solver_class(name).description.startswith("(ours"), name
    assert "undefined greedy" in solver_class("greedy").description


def test_generate_is_deterministic(tmp_path, cli):
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    # two processes (two string-hash seeds): the same bytes
    assert run_cli("generate", "random-chain", "--seed", "4", "-o", str(a)).returncode == 0
    assert run_cli("generate", "random-chain", "--seed", "4", "-o", str(b)).returncode == 0
    assert cli("generate", "random-chain", "--seed", "5", "-o", str(c)).returncode == 0
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert cli("generate", "no-family", "--seed", "1", "-o", str(c)).returncode == 2


def test_brute_force_refusal_is_exit_2(tmp_path, cli):
    path = tmp_path / "long.json"
    write_problem(generate("random-chain", 1, "large"), path)
    proc = cli("solve", str(path), "--solver", "brute-force")
    assert proc.returncode == 2 and "refuses" in proc.stderr
