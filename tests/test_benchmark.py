"""splitopt benchmark: performance ratios and profiles by hand, a folder of files, resuming."""

from __future__ import annotations

import math
import shutil

import numpy as np

from splitopt.benchmark import profile, ratios, summary
from splitopt.experiments.harness import read_csv_rows


def test_ratios_and_profile_by_hand():
    inf = math.inf
    t = np.array([[2.0, 1.0, inf], [3.0, 6.0, 3.0], [inf, inf, inf], [0.0, 0.0, 5.0]])
    r = ratios(t)
    assert r[0].tolist() == [2.0, 1.0, inf]
    assert r[1].tolist() == [1.0, 2.0, 1.0]
    assert np.isinf(r[2]).all()  # nobody solved it: no solver gets credit
    assert r[3].tolist() == [1.0, 1.0, inf]  # best 0: only the zeros tie
    rho = profile(r, np.array([1.0, 2.0, 10.0]))
    assert rho[:, 0].tolist() == [0.5, 0.75, 0.75]
    assert rho[:, 1].tolist() == [0.5, 0.75, 0.75]
    assert rho[:, 2].tolist() == [0.25, 0.25, 0.25]


def _row(inst, solver, work, secs, repeat=0, status="optimal", error=""):
    return {
        "instance": inst,
        "solver": solver,
        "repeat": str(repeat),
        "charged_work": str(work),
        "solve_s": str(secs),
        "served": "1",
        "status": status,
        "error": error,
    }


def test_a_fast_wrong_answer_is_not_fastest():
    rows = [
        _row("p", "exact", 10.0, 1.0),
        _row("p", "quick", 12.0, 0.001),
        _row("q", "exact", 5.0, 1.0),
        _row("q", "quick", 5.0, 0.5),
        _row("q", "quick", 5.0, 0.7, repeat=1),
    ]
    s = {x["solver"]: x for x in summary(rows, ["exact", "quick"])}
    assert s["exact"]["best_work"] == 2 and s["quick"]["best_work"] == 1
    assert s["exact"]["fastest"] == 1 and s["quick"]["fastest"] == 1  # q: median 0.6 < 1
    assert s["quick"]["work_ratio"] == math.sqrt(1.2)


def test_benchmark_a_folder_writes_csv_table_and_profile(tmp_path, cli):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("problem.json", "scenario.json", "cluster.json"):  # the cluster is skipped
        shutil.copy(f"tests/data/docs-examples/{name}", folder / name)
    out = tmp_path / "b.csv"
    args = ["benchmark", str(folder), "--solvers", "dp-exact,greedy", "--repeats", "2"]
    args += ["--out", str(out), "--workers", "1", "--no-progress"]
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    rows = read_csv_rows(out)
    assert len(rows) == 2 * 2 * 2 and not any(r["error"] for r in rows)
    assert {r["solver"] for r in rows} == {"dp-exact", "greedy"}
    assert "work ratio" in proc.stdout and "dp-exact" in proc.stdout
    png = out.with_suffix(".profile.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stamps = sorted(r["timestamp"] for r in rows)
    again = cli(*args)  # resumed: nothing is recomputed
    assert again.returncode == 0, again.stderr
    assert sorted(r["timestamp"] for r in read_csv_rows(out)) == stamps


def test_benchmark_bad_inputs_are_one_line(tmp_path, cli):
    proc = cli("benchmark", str(tmp_path / "nope"), "--out", str(tmp_path / "b.csv"))
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr
    proc = cli(
        "benchmark",
        "tests/data/docs-examples",
        "--solvers",
        "nonsense",
        "--out",
        str(tmp_path / "b.csv"),
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
