"""Streamed solves under hostile conditions (docs/reliability.md): two runs on one
output, bad output paths, failed runs, damaged parts, Ctrl-C, silent or lost Dask
schedulers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pq = pytest.importorskip("pyarrow.parquet")

from splitopt.errors import DaskError, OutputError  # noqa: E402
from splitopt.formats.columnar import write_problem_columnar  # noqa: E402
from splitopt.outputs import OutputLock  # noqa: E402
from splitopt.streaming import solve_file  # noqa: E402
from tests.conftest import ROOT, as_problem, random_chains, run_cli  # noqa: E402


def _problem_file(tmp_path: Path, n: int = 40, seed: int = 4) -> Path:
    p = as_problem(random_chains(seed, n, integer=False))
    f = tmp_path / "p.parquet"
    write_problem_columnar(p, f)
    return f


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "splitopt", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(cond, timeout: float = 120.0) -> None:
    t = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < t, "timed out"
        time.sleep(0.05)


def test_second_run_on_one_output_fails_at_once_and_rows_never_mix(tmp_path: Path, cli) -> None:
    """A greedy run and a dp run to one file: the second stops with exit 2 naming the
    file and the holder's pid; the finished file is entirely the first run's."""
    f = _problem_file(tmp_path, 160)  # 80 parts: the first run holds the lock for seconds
    out = tmp_path / "s.parquet"
    first = _start("solve", str(f), "--solver", "dp", "--out", str(out), "--batch-rows", "2",
                   "--no-progress")
    _wait_for(lambda: (tmp_path / "s.parquet.lock").exists() or first.poll() is not None)
    assert first.poll() is None, first.communicate()
    t0 = time.monotonic()  # the second run: this process (not the holder), no start-up cost
    r = cli("solve", str(f), "--solver", "greedy", "--out", str(out), "--batch-rows", "2",
            "--no-progress")
    assert r.returncode == 2 and time.monotonic() - t0 < 60
    assert r.stderr.count("\n") == 1 and str(out) in r.stderr
    assert f"in use by pid {first.pid}" in r.stderr
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    ref = tmp_path / "ref.parquet"
    solve_file(str(f), str(ref), "dp", rows=2, progress=False)
    assert pq.read_table(out).select(["id", "placement"]).equals(
        pq.read_table(ref).select(["id", "placement"])
    )
    assert not (tmp_path / "s.parquet.lock").exists()


def test_lock_in_process_names_the_holder(tmp_path: Path) -> None:
    f = _problem_file(tmp_path, 10)
    out = tmp_path / "s.parquet"
    with OutputLock(out), pytest.raises(OutputError, match=f"in use by pid {os.getpid()}"):
        solve_file(str(f), str(out), progress=False)
    assert not (tmp_path / "s.parquet.parts").exists()
    solve_file(str(f), str(out), progress=False)  # released: works


def test_out_directory_refused_before_any_work(tmp_path: Path, monkeypatch) -> None:
    import splitopt.streaming as streaming

    f = _problem_file(tmp_path, 10)
    d = tmp_path / "dir"
    d.mkdir()
    monkeypatch.setattr(streaming, "solve_range", lambda *a: pytest.fail("worked first"))
    with pytest.raises(OutputError, match="is a directory"):
        solve_file(str(f), str(d), progress=False)
    assert not (tmp_path / "dir.parts").exists()
    r = run_cli("solve", str(f), "--out", str(d), "--no-progress")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "is a directory" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "p.parquet"]


def test_failed_run_leaves_no_parts(tmp_path: Path) -> None:
    """Duplicate ids are found when the parts are joined: the run fails (exit 2) and
    leaves neither OUT nor OUT.parts."""
    p = as_problem(random_chains(5, 12, integer=False))
    from splitopt.formats.columnar import problem_table
    from splitopt.ragged import ChainBatch

    ids = list(p.ids)
    ids[9] = ids[2]
    t = problem_table(ids, p.weights, ChainBatch.from_chains(list(p.chains)))
    t = t.replace_schema_metadata(
        {b"splitopt": b'{"format": "splitopt-problem", "version": 1, "name": "x", '
         b'"work_unit": "FLOP"}'}
    )
    f = tmp_path / "dup.parquet"
    pq.write_table(t, f)
    out = tmp_path / "s.parquet"
    r = run_cli("solve", str(f), "--out", str(out), "--batch-rows", "4", "--no-progress")
    assert r.returncode == 2 and "duplicate request id" in r.stderr, r.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["dup.parquet"]


@pytest.mark.parametrize("damage", ["truncate", "foreign", "short"])
def test_damaged_part_is_redone_with_a_message(tmp_path: Path, damage: str) -> None:
    f = _problem_file(tmp_path, 40)
    ref = tmp_path / "ref.parquet"
    solve_file(str(f), str(ref), rows=8, progress=False)
    out = tmp_path / "s.parquet"
    with pytest.raises(KeyboardInterrupt):
        solve_file(str(f), str(out), rows=8, progress=False, stop_after=3)
    part = tmp_path / "s.parquet.parts" / "part-000001.parquet"
    if damage == "truncate":
        part.write_bytes(part.read_bytes()[:100])
    elif damage == "foreign":
        pq.write_table(pq.read_table(f).slice(0, 8), part)  # a problem table, no totals
    else:
        t = pq.read_table(part)
        pq.write_table(t.slice(0, 5).replace_schema_metadata(t.schema.metadata), part)
    with pytest.warns(UserWarning, match=r"part-000001.parquet: .*solving its rows again"):
        head = solve_file(str(f), str(out), rows=8, progress=False)
    assert head["resumed_parts"] == 2
    assert pq.read_table(out).equals(pq.read_table(ref))
    # the CLI says so on its message line and finishes
    with pytest.raises(KeyboardInterrupt):
        solve_file(str(f), str(out), rows=8, progress=False, stop_after=2)
    (tmp_path / "s.parquet.parts" / "part-000000.parquet").write_bytes(b"garbage")
    r = run_cli("solve", str(f), "--out", str(out), "--batch-rows", "8", "--no-progress")
    assert r.returncode == 0 and "part-000000.parquet" in r.stderr, r.stderr


@pytest.mark.slow
def test_sigint_in_streamed_dp_keeps_parts_and_resumes(tmp_path: Path) -> None:
    """Ctrl-C in the streamed dp (numba kernels) is exit 130: finished parts stay,
    no OUT; the rerun resumes and equals an uninterrupted run."""
    # 80 parts: the run is seconds from its end when signalled after 3; more parts cost
    # more than linearly (the resume and the reference solve below take ~1 min at 600)
    f = _problem_file(tmp_path, 400, seed=7)
    out = tmp_path / "s.parquet"
    parts = tmp_path / "s.parquet.parts"
    p = _start("solve", str(f), "--out", str(out), "--batch-rows", "5", "--no-progress")
    _wait_for(lambda: len(list(parts.glob("part-*.parquet"))) >= 3 or p.poll() is not None)
    assert p.poll() is None
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and err.strip() == "splitopt: interrupted", err
    assert not out.exists() and len(list(parts.glob("part-*.parquet"))) >= 3
    assert not list(parts.glob(".*.tmp")) and not (tmp_path / "s.parquet.lock").exists()
    head = solve_file(str(f), str(out), rows=5, progress=False)
    assert head["resumed_parts"] >= 3
    ref = tmp_path / "ref.parquet"
    solve_file(str(f), str(ref), rows=5, progress=False)
    assert pq.read_table(out).equals(pq.read_table(ref))


# ---------------------------------------------------------------- Dask


class _FakeService:
    """A loopback TCP service that accepts and then stays silent or sends garbage."""

    def __init__(self, reply: bytes | None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.reply = reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.reply is not None:
                c.sendall(self.reply)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("reply", [None, b"\x00garbage" * 64])
def test_silent_or_garbage_dask_service_is_exit_2(tmp_path: Path, reply, monkeypatch) -> None:
    pytest.importorskip("distributed")
    import splitopt.experiments.harness as harness
    import splitopt.streaming as streaming

    monkeypatch.setattr(streaming, "DASK_CONNECT_TIMEOUT_S", 1.0)  # in-process runs
    monkeypatch.setattr(harness, "DASK_CONNECT_TIMEOUT_S", 1.0)
    f = _problem_file(tmp_path, 10)
    svc = _FakeService(reply)
    try:
        out = tmp_path / "s.parquet"
        t0 = time.monotonic()
        with pytest.raises(DaskError, match="Dask"):
            solve_file(str(f), str(out), progress=False, dask=svc.address)
        assert time.monotonic() - t0 < 30
        assert sorted(x.name for x in tmp_path.iterdir()) == ["p.parquet"]
        r = run_cli("solve", str(f), "--out", str(out), "--dask", svc.address, "--no-progress")
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert svc.address in r.stderr
        # the experiment harness: the same check, one exit-2 error within seconds
        from splitopt.errors import ExperimentError
        from splitopt.experiments import run_experiment

        t0 = time.monotonic()
        with pytest.raises(ExperimentError, match="Dask"):
            run_experiment("sleepy", out=tmp_path / "e.csv", dask=svc.address, progress=False)
        assert time.monotonic() - t0 < 30 and not (tmp_path / "e.csv.lock").exists()
    finally:
        svc.close()


@pytest.mark.slow
def test_scheduler_killed_mid_run_keeps_parts(tmp_path: Path) -> None:
    """A scheduler killed mid-run: one exit-2 line, finished parts kept, no traceback;
    the rerun (locally) resumes and equals a clean run."""
    pytest.importorskip("distributed")
    from tests.dask_cluster import DaskProcesses

    f = _problem_file(tmp_path, 320, seed=9)  # 80 parts (see the SIGINT test above)
    cluster = DaskProcesses()  # no nanny: stopping it leaves no worker process behind
    out = tmp_path / "s.parquet"
    parts = tmp_path / "s.parquet.parts"
    try:
        p = _start("solve", str(f), "--out", str(out), "--batch-rows", "4", "--no-progress",
                   "--dask", cluster.address)
        _wait_for(lambda: len(list(parts.glob("part-*.parquet"))) >= 2 or p.poll() is not None,
                  timeout=180)
        assert p.poll() is None, p.communicate()
        cluster.scheduler.kill()
        _, err = p.communicate(timeout=120)
    finally:
        cluster.close()
    assert p.returncode == 2, err
    assert err.count("\n") == 1 and "failed mid-run" in err and "Traceback" not in err, err
    kept = len(list(parts.glob("part-*.parquet")))
    assert kept >= 2 and not out.exists()
    head = solve_file(str(f), str(out), rows=4, progress=False)
    assert head["resumed_parts"] == kept
    ref = tmp_path / "ref.parquet"
    solve_file(str(f), str(ref), rows=4, progress=False)
    assert pq.read_table(out).equals(pq.read_table(ref))

