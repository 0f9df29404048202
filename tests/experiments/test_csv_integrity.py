"""Experiment CSV integrity (docs/reliability.md): damaged rows never count as finished
nor survive finalisation; pool workers die with a SIGKILLed parent; runners are
identified by registered names, and CSVs keyed by the old import paths still resume."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import splitopt.experiments.harness as harness
from splitopt.experiments import read_csv_rows, run_experiment
from splitopt.experiments.harness import (
    Task,
    _key,
    experiment_tasks,
    list_experiments,
    run_tasks,
    runner_target,
)

ROOT = Path(__file__).resolve().parents[2]


def _finished(tmp_path: Path) -> tuple[Path, list[str]]:
    out = tmp_path / "s.csv"
    run_experiment("sleepy", out=out, workers=1, progress=False)
    return out, out.read_text(encoding="utf-8").splitlines(keepends=True)


def _count_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []
    real = harness.run_task

    def counting(task: Task):  # type: ignore[no-untyped-def]
        ran.append(task.key)
        return real(task)

    monkeypatch.setattr(harness, "run_task", counting)
    return ran


@pytest.mark.parametrize("cut", [8, 3, 1])
def test_row_cut_short_is_not_finished_and_does_not_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: int
) -> None:
    out, lines = _finished(tmp_path)
    header = lines[0].rstrip("\n").split(",")
    assert len(header) > cut
    victim = lines[5].rstrip("\n").split(",")
    lines[5] = ",".join(victim[:cut]) + "\n"  # a row cut after `cut` fields
    out.write_text("".join(lines), encoding="utf-8")
    ran = _count_runs(monkeypatch)
    with pytest.warns(RuntimeWarning, match="dropped 1 damaged row"):
        run_experiment("sleepy", out=out, workers=1, progress=False)
    assert ran == [victim[1]]  # the cut row's task ran again
    rows = read_csv_rows(out)
    assert len(rows) == 20 and len({r["key"] for r in rows}) == 20
    text = out.read_text(encoding="utf-8").splitlines()
    assert all(len(t.split(",")) == len(header) for t in text)


def test_nul_damaged_key_is_not_kept_as_a_stale_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, lines = _finished(tmp_path)
    fields = lines[7].split(",")
    key = fields[1]
    fields[1] = key[:5] + "\x00" + key[6:]
    lines[7] = ",".join(fields)
    out.write_text("".join(lines), encoding="utf-8")
    ran = _count_runs(monkeypatch)
    with pytest.warns(RuntimeWarning, match="damaged"):
        run_experiment("sleepy", out=out, workers=1, progress=False)
    assert ran == [key]
    data = out.read_text(encoding="utf-8")
    assert "\x00" not in data
    rows = read_csv_rows(out)
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in experiment_tasks("sleepy"))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_sigkill_of_the_parent_does_not_orphan_pool_workers(tmp_path: Path) -> None:
    out = tmp_path / "k.csv"
    code = (
        "import sys, tests.experiments.toy;"
        "from splitopt.cli import main;"
        f"sys.exit(main(['experiment', 'sleepy', '--out', {str(out)!r}, '--workers', '2']))"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (out.exists() and read_csv_rows(out)):
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.05)
    kids = []
    for task in Path(f"/proc/{p.pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids += [int(x) for x in (task / "children").read_text().split()]
    assert kids, "no pool workers"
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    deadline = time.monotonic() + 15
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [k for k in kids if _alive(k)]
    for k in alive:
        os.kill(k, signal.SIGKILL)
    assert alive == [], "pool workers outlived their SIGKILLed parent"


def test_runner_identity_is_a_registered_name() -> None:
    """Task keys hash the runner's registered name, not where its code lives; every
    catalogue task names a registered runner."""
    import splitopt.experiments  # noqa: F401  (registers the catalogue)

    t = Task.make("e", "split", family="random-chain", seed=1)
    assert t.target == "splitopt.experiments.runners:run_split"
    assert t.key == _key("e", "split", t.params)
    assert _key("e", "splitopt.experiments.catalog:run_split", t.params) in t.legacy_keys()
    for name in list_experiments():
        if name in ("sleepy", "smoke"):  # test-only, import paths on purpose
            continue
        for task in experiment_tasks(name, quick=True)[:50]:
            assert ":" not in task.runner, (name, task.runner)
            runner_target(task.runner)


def test_rows_keyed_by_old_import_paths_still_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV written before runners had names (keys hash the import path
    ``splitopt.experiments.catalog:run_split``) resumes: no task runs again, every row
    gets its task's new key, values unchanged."""
    params = [
        {"family": "random-chain", "seed": s, "size": "tiny", "solver": solver}
        for s in (1, 2)
        for solver in ("dp", "greedy")
    ]
    old = [Task.make("t", "splitopt.experiments.catalog:run_split", **p) for p in params]
    out = tmp_path / "old.csv"
    run_tasks("t", old, out, workers=1, progress=False)
    before = read_csv_rows(out)
    assert sorted(r["key"] for r in before) == sorted(t.key for t in old)
    new = [Task.make("t", "split", **p) for p in params]
    assert {t.key for t in new}.isdisjoint(t.key for t in old)
    ran = _count_runs(monkeypatch)
    run_tasks("t", new, out, workers=1, progress=False, keep_stale=False)
    assert ran == []
    after = read_csv_rows(out)
    assert [r["key"] for r in after] == [t.key for t in new]

    def values(rows):  # type: ignore[no-untyped-def]
        return [
            {k: v for k, v in r.items() if k != "key" and not harness.is_volatile(k)}
            for r in rows
        ]

    by_old = {r["key"]: r for r in before}
    assert values(after) == values([by_old[t.key] for t in old])
