"""Concurrent writers, signals and dead Dask workers (issue 9, group 5).

Each behaviour is checked on a family of generated cases: kill moments, signals,
duplicate patterns, cluster failures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from splitopt.errors import ExperimentError
from splitopt.experiments import read_csv_rows, run_experiment
from splitopt.experiments.harness import CsvLock, CsvLog, experiment_tasks

ROOT = Path(__file__).resolve().parents[2]


def _start(out: Path, workers: int = 1, quick: bool = True) -> subprocess.Popen:
    code = (
        "import sys, tests.experiments.toy;"
        "from splitopt.cli import main;"
        f"sys.exit(main(['experiment', 'sleepy', '--out', {str(out)!r}, "
        f"'--workers', '{workers}'{', ' + repr('--quick') if quick else ''}]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_rows(out: Path, n: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists() and len(read_csv_rows(out)) >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"run ended early: {proc.returncode} {proc.stderr.read()}")  # type: ignore[union-attr]
        time.sleep(0.02)
    pytest.fail(f"the run never wrote {n} rows")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.parametrize("kills", [(5, 40), (30,)])
def test_two_writers_killed_and_resumed_leave_one_row_per_task(
    tmp_path: Path, kills: tuple[int, ...]
) -> None:
    """Runs on one CSV: the second writer is refused while the first runs; runs are
    killed (SIGKILL) after the given row counts and resumed; the end is one row per task."""
    out = tmp_path / "shared.csv"
    n_tasks = len(experiment_tasks("sleepy", quick=True))
    for k in kills:
        first = _start(out)
        _wait_rows(out, k, first)
        second = _start(out)  # same file, while the first one writes
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2, err
        assert err.count("\n") == 1 and f"in use by pid {first.pid}" in err, err
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    last = _start(out, workers=2)  # the rest in a pool (half the sleeping)
    _, err = last.communicate(timeout=120)
    assert last.returncode == 0, err
    keys = [r["key"] for r in read_csv_rows(out)]
    assert len(keys) == len(set(keys)) == n_tasks
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob("*.lock"))


@pytest.mark.parametrize("seed", range(4))
def test_finalising_removes_duplicate_rows(tmp_path: Path, seed: int) -> None:
    """A file with duplicated rows (as unlocked writers made) ends with one row per task."""
    ref = run_experiment("sleepy", out=tmp_path / "ref.csv", workers=1, progress=False)
    rows = read_csv_rows(ref)
    rng = np.random.default_rng(seed)
    dup = [rows[i] for i in rng.integers(0, len(rows), size=int(rng.integers(1, 30)))]
    keep = rng.random(len(rows)) < 0.7
    mixed = [r for r, k in zip(rows, keep, strict=True) if k] + dup
    order = rng.permutation(len(mixed))
    out = tmp_path / "dup.csv"
    log = CsvLog(out)
    for i in order:
        log.append(mixed[i])
    run_experiment("sleepy", out=out, workers=1, progress=False)
    keys = [r["key"] for r in read_csv_rows(out)]
    assert keys == [r["key"] for r in rows]


def test_lock_refuses_in_process_and_releases(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    with CsvLock(out), pytest.raises(ExperimentError, match=f"in use by pid {os.getpid()}"):
        run_experiment("sleepy", out=out, workers=1, progress=False)
    assert not (tmp_path / "x.csv.lock").exists()
    run_experiment("sleepy", out=out, workers=1, progress=False)
    assert len(read_csv_rows(out)) == 20


@pytest.mark.parametrize(
    ("workers", "after", "sig"),
    [(2, 3, "SIGTERM"), (1, 10, "SIGTERM"), (2, 8, "SIGINT")],
)
def test_signal_stops_workers_and_leaves_no_temp_file(
    tmp_path: Path, workers: int, after: int, sig: str
) -> None:
    out = tmp_path / "sig.csv"
    proc = _start(out, workers=workers)
    _wait_rows(out, after, proc)
    kids = _children(proc.pid)
    if workers > 1:
        assert kids, "a pool run has worker processes"
    os.kill(proc.pid, getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, sig), err
    deadline = time.monotonic() + 10
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if _alive(k)], "orphaned worker processes"
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob("*.lock"))
    rows = read_csv_rows(out)
    assert out.read_text().endswith("\n")  # no torn row
    n = len(experiment_tasks("sleepy", quick=True))
    assert after <= len(rows) < n
    run_experiment("sleepy", out=out, workers=2, quick=True, progress=False)
    keys = [r["key"] for r in read_csv_rows(out)]
    assert len(keys) == len(set(keys)) == n


def _kill_worker(**_: object) -> dict[str, int]:
    os._exit(3)


@pytest.mark.parametrize("case", ["no-workers", "workers-die"])
def test_dask_without_workers_fails_clearly(tmp_path: Path, case: str) -> None:
    distributed = pytest.importorskip("dask.distributed")
    from splitopt.experiments.harness import Task, _dask

    if case == "no-workers":
        with distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster:
            t0 = time.monotonic()
            with pytest.raises(ExperimentError, match="no worker for 3 s"):
                run_experiment(
                    "sleepy",
                    out=tmp_path / "d.csv",
                    dask=cluster.scheduler_address,
                    progress=False,
                    dask_no_worker_s=3,
                )
            assert time.monotonic() - t0 < 30
        return
    with distributed.LocalCluster(
        n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        task = Task.make("boom", "tests.experiments.test_concurrency:_kill_worker", i=1)
        with (
            distributed.Client(cluster.scheduler_address) as client,
            pytest.raises(ExperimentError, match=r"workers died|no worker"),
        ):
            list(_dask([task], client, no_worker_s=20))


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "tcp://192.0.2.1:8786"])
def test_unreachable_dask_scheduler_is_a_user_error(
    tmp_path: Path, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("dask.distributed")
    import splitopt.experiments.harness as harness

    monkeypatch.setattr(harness, "DASK_CONNECT_TIMEOUT_S", 1.0)
    t0 = time.monotonic()
    with pytest.raises(ExperimentError, match="cannot reach a Dask scheduler"):
        run_experiment("sleepy", out=tmp_path / "d.csv", dask=address, progress=False)
    assert time.monotonic() - t0 < 20
    assert not (tmp_path / "d.csv.lock").exists()
