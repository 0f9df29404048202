"""``experiment --dask`` when the Dask scheduler dies mid-run (docs/reliability.md):
one exit-2 line, no traceback, the finished rows kept, a rerun resumes; and no process
this command started outlives it (the user's Dask workers are theirs).

A real scheduler and worker run as subprocesses (``dask scheduler``/``dask worker``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from splitopt.experiments import read_csv_rows, run_experiment
from splitopt.experiments.harness import experiment_tasks
from tests.dask_cluster import DaskProcesses

pytest.importorskip("distributed")
LINUX = Path("/proc/self/task").exists()
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _descendants(pid: int) -> list[int]:
    """Pids of every live process below ``pid`` (Linux ``/proc``)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                kids = [int(x) for x in (task / "children").read_text().split()]
                out += kids
                todo += kids
    return out


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _experiment(out: Path, *extra: str) -> subprocess.Popen:
    code = (
        "import sys, tests.experiments.toy;"
        "from splitopt.cli import main;"
        f"sys.exit(main(['experiment', 'sleepy', '--quick', '--out', {str(out)!r}, "
        f"*{list(extra)!r}]))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_rows(out: Path, p: subprocess.Popen, at_least: int, timeout: float = 60) -> None:
    t_end = time.monotonic() + timeout
    while not (out.exists() and len(read_csv_rows(out)) >= at_least):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < t_end, "no rows in time"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason="needs Linux /proc")
def test_scheduler_killed_mid_experiment_keeps_rows_and_resumes(tmp_path: Path) -> None:
    """SIGKILL of the scheduler part-way: exit 2, one line, no traceback; the rows
    written so far stay; the command leaves no process of its own; a rerun (without
    Dask) runs only the missing tasks and the finished file holds every task once."""
    out = tmp_path / "e.csv"
    cluster = DaskProcesses()
    try:
        p = _experiment(out, "--dask", cluster.address)
        _wait_rows(out, p, 10)
        ours = _descendants(p.pid)
        cluster.scheduler.kill()
        _, err = p.communicate(timeout=60)
    finally:
        cluster.close()
    assert p.returncode == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "failed mid-run" in err and "rerun to resume" in err, err
    assert [k for k in ours if _alive(k)] == []
    kept = {r["key"] for r in read_csv_rows(out)}
    total = {t.key for t in experiment_tasks("sleepy", quick=True)}
    assert 10 <= len(kept) < len(total) and kept <= total
    assert not Path(f"{out}.lock").exists()

    import tests.experiments.toy as toy

    calls: list[int] = []
    real = toy.run_sleepy

    def counting(index: int, delay: float = 0.0, **kw: object) -> dict:
        calls.append(index)
        return real(index, 0.0, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(toy, "run_sleepy", counting)
        run_experiment("sleepy", out=out, quick=True, workers=1, progress=False)
    assert len(calls) == len(total) - len(kept)  # resumed: the kept rows did not run again
    rows = read_csv_rows(out)
    assert sorted(r["key"] for r in rows) == sorted(total)


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    """One scheduler and worker for the tests that do not kill them."""
    c = DaskProcesses()
    yield c
    c.close()


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason="needs Linux /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_killed_dask_experiment_leaves_no_process_of_its_own(
    tmp_path: Path, how: str, cluster: DaskProcesses
) -> None:
    """The command killed while its tasks run on Dask: nothing it started stays; the
    user's scheduler and worker are untouched (they are theirs)."""
    out = tmp_path / "e.csv"
    p = _experiment(out, "--dask", cluster.address)
    _wait_rows(out, p, 5)
    ours = _descendants(p.pid)
    p.send_signal(getattr(signal, how))
    _, err = p.communicate(timeout=60)
    time.sleep(0.5)
    assert [k for k in ours if _alive(k)] == []
    assert cluster.scheduler.poll() is None and cluster.worker.poll() is None
    if how == "SIGINT":
        assert p.returncode == 130 and err.strip() == "splitopt: interrupted", err
    else:
        assert p.returncode == -signal.SIGKILL
    assert len(read_csv_rows(out)) >= 5
