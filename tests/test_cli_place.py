"""``splitopt place``: outputs and exit codes (``main`` in process: the ``cli`` fixture)."""

from __future__ import annotations

import json

from splitopt.formats.cluster_file import read_cluster
from splitopt.formats.placement_file import read_placements
from splitopt.placement.evaluate import evaluate
from tests.conftest import DATA

CLUSTERS = DATA.parent.parent / "instances" / "clusters"


def test_place_prints_table_routes_objective_and_bound(cli) -> None:
    proc = cli("place", str(CLUSTERS / "paper-clustered.json"), "--algorithm", "cg-bprr,petals")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "== cg-bprr: feasible" in out and "== petals: feasible" in out
    assert "a100-0  1..58" in out and "routes:" in out
    assert out.count("objective: sum T_r =") == 2
    assert out.count("bound:") == 1  # petals has none


def test_place_json_is_rescored(tmp_path, cli) -> None:
    path = tmp_path / "p.json"
    cl = CLUSTERS / "tiny.json"
    proc = cli("place", str(cl), "--algorithm", "cg-bprr,petals", "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    cluster = read_cluster(cl)
    doc = json.loads(path.read_text())
    for (alg, placement, routes), row in zip(
        read_placements(path, cluster), doc["results"], strict=True
    ):
        assert row["algorithm"] == alg
        assert evaluate(cluster, placement, routes).objective == row["metrics"]["objective_s"]


def test_place_json_to_stdout(cli) -> None:
    proc = cli("place", str(CLUSTERS / "tiny.json"), "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["format"] == "splitopt-placement"
    assert "== cg-bprr" in proc.stderr


def test_place_errors_exit_2_without_output(tmp_path, cli) -> None:
    out = tmp_path / "p.json"
    bad = DATA / "broken-cluster" / "negative_rtt.json"
    proc = cli("place", str(bad), "--json", str(out))
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.count("\n") == 1 and "network.network_rtt_s[0][2]" in proc.stderr
    proc = cli("place", str(CLUSTERS / "tiny.json"), "--algorithm", "cg-bprr,nope")
    assert proc.returncode == 2 and "unknown placement algorithm 'nope'" in proc.stderr
    assert proc.stdout == ""
