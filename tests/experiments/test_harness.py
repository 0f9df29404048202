"""Experiment harness: resume after a kill, identical rows serial / process pool / Dask."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from splitopt.experiments import list_experiments, read_csv_rows, run_experiment
from splitopt.experiments.harness import CsvLog, Task, comparable, experiment_tasks


def _rows(path: Path) -> list[dict[str, str]]:
    return read_csv_rows(path)


def _header(path: Path) -> list[str]:
    with path.open() as f:
        return next(csv.reader(f))


def test_registry_lists_the_catalogue() -> None:
    names = list_experiments()
    for n in ("reduction", "gain", "sweeps", "throughput", "runtime", "discretisation"):
        assert n in names


def test_task_key_is_stable_and_order_free() -> None:
    a = Task.make("x", "m:f", seed=1, solver="dp")
    b = Task("x", "m:f", (("solver", "dp"), ("seed", 1)))
    assert a.key == b.key and len(a.key) == 16
    assert Task.make("x", "m:f", seed=2, solver="dp").key != a.key


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    ref = run_experiment("sleepy", out=tmp_path / "ref.csv", workers=1, progress=False)
    out = tmp_path / "killed.csv"
    code = (
        "import tests.experiments.toy;from splitopt.experiments import run_experiment;"
        f"run_experiment('sleepy', out={str(out)!r}, workers=1, progress=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and len(_rows(out)) >= 5:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the run never wrote 5 rows")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    partial = _rows(out)
    assert 5 <= len(partial) < 20, "the kill should land mid-run"
    # A torn last line, as a writer killed mid-row leaves, must be cut off on resume.
    with out.open("a") as f:
        f.write("sleepy,deadbeef,99,12")
    run_experiment("sleepy", out=out, workers=1, progress=False)
    rows = _rows(out)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == 20
    assert {r["key"] for r in partial} <= set(keys)
    assert comparable(rows) == comparable(_rows(ref))
    assert _header(out) == _header(ref)
    # Rerunning a finished file does nothing.
    before = out.read_text()
    run_experiment("sleepy", out=out, workers=1, progress=False)
    assert out.read_text() == before


def test_errors_are_rows(tmp_path: Path) -> None:
    log = CsvLog(tmp_path / "e.csv")
    from splitopt.experiments.harness import run_task

    row = run_task(
        Task.make(
            "t",
            "splitopt.experiments.runners:run_split",
            family="nope",
            seed=0,
            size="tiny",
            solver="dp",
        )
    )
    assert row["error"] and "nope" in str(row["error"])
    log.append(row)
    assert _rows(tmp_path / "e.csv")[0]["error"] == row["error"]


def test_process_pool_and_serial_give_identical_rows(tmp_path: Path) -> None:
    serial = run_experiment("smoke", out=tmp_path / "serial.csv", workers=1, progress=False)
    pool = run_experiment("smoke", out=tmp_path / "pool.csv", workers=2, progress=False)
    a, b = _rows(serial), _rows(pool)
    assert len(a) == len(experiment_tasks("smoke")) and not any(r["error"] for r in a)
    assert comparable(a) == comparable(b)
    assert _header(serial) == _header(pool)
    assert [r["key"] for r in a] == [r["key"] for r in b]  # final files are in task order


def test_dask_local_cluster_gives_identical_rows(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    serial = run_experiment("smoke", out=tmp_path / "serial.csv", workers=1, progress=False)
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        path = run_experiment(
            "smoke", out=tmp_path / "dask.csv", dask=cluster.scheduler_address, progress=False
        )
    assert comparable(_rows(path)) == comparable(_rows(serial))
    assert _header(path) == _header(serial)


def test_no_import_circle_inside_experiments() -> None:
    """The modules of splitopt.experiments (imports at any depth, the package's
    __init__ aside) form no cycle, and the harness imports none of the catalogue's modules."""
    import ast

    import networkx as nx

    import splitopt.experiments as pkg

    folder = Path(pkg.__file__).parent
    graph = nx.DiGraph()
    for f in folder.glob("*.py"):
        if f.stem == "__init__":
            continue
        mod = f"splitopt.experiments.{f.stem}"
        graph.add_node(mod)
        for node in ast.walk(ast.parse(f.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                if n.startswith("splitopt.experiments.") and (folder / f"{n[21:]}.py").exists():
                    graph.add_edge(mod, n)
    assert nx.is_directed_acyclic_graph(graph), list(nx.simple_cycles(graph))
    code = (folder / "harness.py").read_text()
    assert 'import_module("splitopt.experiments' not in code  # no dynamic import either
    below_harness = nx.descendants(graph, "splitopt.experiments.harness")
    assert not below_harness & {
        "splitopt.experiments.catalog",
        "splitopt.experiments.runners",
        "splitopt.experiments.instances",
        "splitopt.experiments.outcomes",
    }
