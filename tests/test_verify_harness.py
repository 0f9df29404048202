"""``verify`` through the experiment harness: refuses runs that compare nothing,
resumes from its CSV after an interruption, runs on Dask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from splitopt.errors import UsageError
from splitopt.experiments.harness import read_csv_rows
from splitopt.solvers import available
from splitopt.verify import run_verify

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "solvers", [["dp"], ["dp-exact"], ["dp", "dp-exact"], [], [" "], ["dp-exact", "dp", "dp"]]
)
def test_a_selection_without_ilp_or_brute_force_is_refused(solvers: list[str]) -> None:
    with pytest.raises(UsageError, match="compares nothing"):
        run_verify(n=1, solvers=solvers, workers=1, progress=False)


@pytest.mark.parametrize("seed", range(3))
def test_a_run_whose_instances_give_no_comparison_is_refused(seed: int) -> None:
    # brute force runs on chains of at most 16 layers; llm-edge chains are longer
    with pytest.raises(UsageError, match="compared nothing"):
        run_verify("llm-edge", n=2, seed=seed, solvers=["brute-force"], workers=1, progress=False)


@pytest.mark.parametrize("bad", ["0", "-3"])
def test_cli_refuses_empty_runs_with_one_line(tmp_path: Path, bad: str, cli) -> None:
    for args in (["--solvers", "dp,dp-exact", "--n", "3"], ["--n", bad]):
        p = cli("verify", *args, "--csv", str(tmp_path / "v.csv"), cwd=tmp_path)
        assert p.returncode == 2 and "RESULT" not in p.stdout, p.stderr
        if args[0] == "--solvers":
            assert p.stderr.count("\n") == 1 and "compares nothing" in p.stderr, p.stderr
        else:  # argparse's usage message
            assert "positive integer" in p.stderr


def _report_numbers(text: str) -> dict[str, str]:
    keep = ("instances", "requests", "comparisons", "disagreements")
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in keep and parts[0] not in out:
            out[parts[0]] = parts[1]
    return out


@pytest.mark.skipif(not available("ilp-highs"), reason="needs HiGHS")
@pytest.mark.parametrize("after", [4])
def test_interrupted_verify_continues_from_its_csv(tmp_path: Path, after: int) -> None:
    csv = tmp_path / "v.csv"
    args = ["verify", "--n", "16", "--seed", "5", "--solvers", "ilp-highs,brute-force"]
    args += ["--workers", "1", "--csv", str(csv), "--out", str(tmp_path / "fails")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "splitopt", *args]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(read_csv_rows(csv)) < after:
        assert proc.poll() is None, "verify ended before it was interrupted"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    done = len(read_csv_rows(csv))
    assert after <= done < 16
    rerun = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"({done} from an earlier run)" in rerun.stdout
    ref = run_verify(n=16, seed=5, solvers=["ilp-highs", "brute-force"], workers=1, progress=False)
    got = _report_numbers(rerun.stdout)
    assert got == {
        "instances": "16",
        "requests": str(ref.requests),
        "comparisons": str(ref.comparisons),
        "disagreements": "0",
    }
    keys = [r["key"] for r in read_csv_rows(csv)]
    assert len(keys) == len(set(keys)) == 16


@pytest.mark.skipif(not available("ilp-highs"), reason="needs HiGHS")
def test_verify_on_a_local_dask_cluster_matches_the_pool() -> None:
    distributed = pytest.importorskip("dask.distributed")
    kw = dict(n=8, seed=11, solvers=["ilp-highs", "brute-force"], progress=False)
    pool = run_verify(workers=2, **kw)  # type: ignore[arg-type]
    with distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        dask = run_verify(dask=cluster.scheduler_address, **kw)  # type: ignore[arg-type]
    assert dask.disagreements == pool.disagreements == 0
    assert (dask.instances, dask.requests, dask.comparisons) == (
        pool.instances,
        pool.requests,
        pool.comparisons,
    )
    assert dask.calls == pool.calls


@pytest.mark.skipif(not available("ilp-highs"), reason="needs HiGHS")
def test_rows_of_other_code_are_recomputed_not_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import splitopt.verify as verify

    csv = tmp_path / "v.csv"
    kw = dict(n=3, seed=2, solvers=["ilp-highs"], workers=1, progress=False, csv=csv)
    first = run_verify(**kw)  # type: ignore[arg-type]
    assert first.resumed == 0 and {r["code"] for r in read_csv_rows(csv)} == {verify.code_digest()}
    again = run_verify(**kw)  # type: ignore[arg-type]
    assert again.resumed == 3 and again.comparisons == first.comparisons
    monkeypatch.setattr(verify, "code_digest", lambda: "0123456789abcdef")
    changed = run_verify(**kw)  # type: ignore[arg-type]
    assert changed.resumed == 0 and changed.comparisons == first.comparisons
    rows = read_csv_rows(csv)
    assert len(rows) == 3 and {r["code"] for r in rows} == {"0123456789abcdef"}
