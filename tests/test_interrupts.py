"""The interrupt policy (splitopt.interrupts, docs/reliability.md): real SIGINT/SIGTERM
sent to a running ``splitopt`` process during a native call (numba kernels, HiGHS,
CP-SAT, SCIP) gives exit 130/143 within seconds, one line on stderr, and no output
written as finished (no file, no temporary file, no lock left)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: Seconds a signalled run may take to exit (the grace period is 3 s).
EXIT_WITHIN_S = 20.0


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "splitopt", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _signal_after(p: subprocess.Popen, ready, sig: int, timeout: float = 120.0):
    """Wait until ``ready()`` (or the process ended), send ``sig``; (rc, stderr, seconds
    from the signal to the exit)."""
    t_end = time.monotonic() + timeout
    while not ready() and p.poll() is None and time.monotonic() < t_end:
        time.sleep(0.1)
    assert p.poll() is None, f"ended before the signal: {p.returncode} {p.stderr.read()}"
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        pytest.fail(f"no exit 60 s after signal {sig}: {err}")
    return p.returncode, err, time.monotonic() - t0


def _after(seconds: float):
    t = time.monotonic() + seconds
    return lambda: time.monotonic() >= t


def _no_litter(folder: Path, name: str) -> None:
    left = sorted(p.name for p in folder.iterdir() if p.name.startswith((name, f".{name}")))
    assert left == [], left


def hard_cluster(path: Path, seed: int = 3, size: int = 24) -> Path:
    """A cluster whose BPRR MILP takes minutes for every backend (24 servers, 24 blocks)."""
    rng = random.Random(seed)
    servers = [
        {
            "id": f"s{i}",
            "memory_bytes": rng.uniform(2.2e9, 9e9),
            "decode_s": rng.uniform(0.002, 0.03),
            "prefill_s0": rng.uniform(0.02, 0.3),
            "prefill_s1": rng.uniform(1e-5, 3e-4),
        }
        for i in range(size)
    ]
    clients = [f"c{i}" for i in range(4)]
    doc = {
        "format": "splitopt-cluster",
        "version": 1,
        "name": "hard",
        "model": {
            "num_blocks": size,
            "block_bytes": 1e9,
            "cache_bytes_per_token": 1e5,
            "name": "m",
            "hidden_size": 512,
        },
        "servers": servers,
        "clients": clients,
        "network": {
            "kind": "matrix",
            "network_rtt_s": [[rng.uniform(0.001, 0.2) for _ in servers] for _ in clients],
            "overheads": {"preset": "paper"},
        },
        "workload": {"jobs": [{"client": c, "l_in": 20, "l_out": 128} for c in clients]},
    }
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "sig"),
    [
        ("bprr-milp-cpsat", signal.SIGINT),  # CP-SAT used to swallow it: exit 0 "feasible"
        ("bprr-milp-highs", signal.SIGINT),  # HiGHS used to ignore it for minutes
        ("bprr-milp-scip", signal.SIGTERM),  # SCIP used to swallow it too
    ],
)
def test_place_milp_stops_on_signal(tmp_path: Path, algorithm: str, sig: int) -> None:
    cluster = hard_cluster(tmp_path / "hard.json")
    out = tmp_path / "out.json"
    p = _start("place", str(cluster), "--algorithm", algorithm, "--json", str(out))
    rc, err, took = _signal_after(p, _after(6.0), sig)
    assert rc == 128 + sig, err
    assert err.strip() == "splitopt: interrupted", err
    assert took < EXIT_WITHIN_S
    _no_litter(tmp_path, "out.json")


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["ilp-cpsat", "ilp-highs"])
def test_split_ilp_stops_on_sigint(tmp_path: Path, solver: str) -> None:
    """The split half's ILPs (CP-SAT swallowed Ctrl-C, HiGHS through PuLP ignored it)."""
    out = tmp_path / "sol.json"
    p = _start(  # three instances: ~12 s of solving, so the signal lands mid-solve
        "solve",
        "instances/llm-edge/llm-edge-medium-s3.json",
        "instances/random-chain/random-chain-medium-s3.json",
        "instances/paper-like/paper-like-medium-s3.json",
        "--solver",
        solver,
        "--json",
        str(out),
    )
    rc, err, took = _signal_after(p, _after(5.0), signal.SIGINT)
    assert rc == 130, err
    assert took < EXIT_WITHIN_S
    _no_litter(tmp_path, "sol.json")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_simulate_numba_kernel_stops_on_signal(tmp_path: Path, sig: int) -> None:
    """Ctrl-C in the simulator's numba kernel used to crash (SIGSEGV, or exit 1
    ``SystemError: CPUDispatcher(...) returned a result with an exception set``)."""
    out = tmp_path / "sim.json"
    p = _start(
        "simulate", "instances/clusters/tiny.json", "--requests", "3000000", "--seeds", "4",
        "--json", str(out),
    )
    rc, err, took = _signal_after(p, _after(5.0), sig)
    assert rc == 128 + sig, err
    assert "Error" not in err and err.strip() == "splitopt: interrupted", err
    assert took < EXIT_WITHIN_S
    _no_litter(tmp_path, "sim.json")


def test_run_guarded_in_process() -> None:
    """A signal during run_guarded raises Interrupted with the signal's exit code; a
    registered stop is called; a later run starts clean."""
    from splitopt import interrupts

    stopped = []

    def work() -> str:
        with interrupts.stoppable(lambda: stopped.append(1)):
            os.kill(os.getpid(), signal.SIGTERM)
            t = time.monotonic() + 5
            while not stopped and time.monotonic() < t:
                time.sleep(0.01)
        interrupts.check()
        return "finished"

    with pytest.raises(interrupts.Interrupted) as info:
        interrupts.run_guarded(work)
    assert info.value.exit_code == 143 and stopped == [1]
    assert interrupts.requested() is None and not interrupts.abandoned()
    assert interrupts.run_guarded(lambda: "ok") == "ok"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


# ---------------------------------------------------------------- isolated native solves

LINUX = Path("/proc/self/task").exists()


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not LINUX, reason="forks only on Linux")
def test_isolated_runs_in_a_child_and_hands_back_value_or_error() -> None:
    from splitopt import interrupts

    big = interrupts.ISOLATE_MIN_NONZEROS
    assert interrupts.isolated(os.getpid, big - 1) == os.getpid()  # small: in-process
    child = interrupts.isolated(os.getpid, big)
    assert child != os.getpid()
    assert not _alive(child)  # reaped
    with pytest.raises(ZeroDivisionError):
        interrupts.isolated(lambda: 1 / 0, big)
    with pytest.raises(RuntimeError, match="signal 9"):
        interrupts.isolated(lambda: os.kill(os.getpid(), signal.SIGKILL), big)


@pytest.mark.skipif(not LINUX, reason="forks only on Linux")
def test_isolated_child_is_killed_by_a_stop_request(tmp_path: Path) -> None:
    """A signal (request_stop) kills the child at once: Interrupted, nothing left."""
    from splitopt import interrupts

    pid_file = tmp_path / "pid"

    def slow() -> int:
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)
        return 1

    def stop_soon() -> None:
        while not pid_file.exists():
            time.sleep(0.01)
        interrupts.request_stop(signal.SIGINT)

    import threading

    t = threading.Thread(target=stop_soon)
    t.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(interrupts.Interrupted):
            interrupts.isolated(slow, interrupts.ISOLATE_MIN_NONZEROS)
    finally:
        interrupts.reset()
        t.join()
    assert time.monotonic() - t0 < 10  # not the child's 60 s
    assert not _alive(int(pid_file.read_text()))


@pytest.mark.skipif(not LINUX, reason="needs Linux /proc and PR_SET_PDEATHSIG")
def test_isolated_child_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = (
        "import os, time; from splitopt import interrupts\n"
        "def slow():\n"
        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)\n"
        "interrupts.isolated(slow, interrupts.ISOLATE_MIN_NONZEROS)\n"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    t_end = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert p.poll() is None and time.monotonic() < t_end
        time.sleep(0.05)
    child = int(pid_file.read_text())
    p.kill()
    p.wait(30)
    t_end = time.monotonic() + 10
    while _alive(child) and time.monotonic() < t_end:
        time.sleep(0.05)
    if _alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the solver child outlived its SIGKILLed parent")


@pytest.mark.skipif(not LINUX, reason="forks only on Linux")
def test_highs_isolated_and_in_process_agree(tmp_path: Path, monkeypatch) -> None:
    """Both HiGHS paths (placement MILP, split ILP) answer the same in a child process."""
    pytest.importorskip("highspy")
    import splitopt
    from splitopt import interrupts
    from splitopt.formats.cluster_file import read_cluster
    from splitopt.placement import get_algorithm
    from tests.conftest import as_problem, random_chains

    cluster = read_cluster(str(hard_cluster(tmp_path / "c.json", seed=5, size=4)))
    problem = as_problem(random_chains(3, 4, integer=False))

    def answers() -> tuple:
        r = get_algorithm("bprr-milp-highs").solve(cluster)
        s = splitopt.solve(problem, "ilp-highs")
        return (
            r.status,
            r.objective,
            r.placement,
            [(q.status, q.placement, q.server_work) for q in s.requests],
        )

    in_process = answers()
    forks = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(interrupts, "ISOLATE_MIN_NONZEROS", 0)
    monkeypatch.setattr(os, "fork", counting_fork)
    assert repr(answers()) == repr(in_process)  # repr: NaN work of unserved requests
    assert len(forks) >= 2  # both halves ran in children


@pytest.mark.skipif(not LINUX, reason="forks only on Linux")
def test_isolated_child_never_inherits_a_held_lock(monkeypatch) -> None:
    """A fork while another thread holds the policy's lock (e.g. a Dask worker's other
    task registering a stop): the child's own stoppable() must not wait for it forever."""
    import threading

    from splitopt import interrupts

    holding, forked, release = threading.Event(), threading.Event(), threading.Event()
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.set()
        return pid

    def hold() -> None:
        with interrupts._lock:
            holding.set()
            release.wait(30)

    def in_child() -> int:
        with interrupts.stoppable(lambda: None):
            return 7

    box: dict = {}

    def run() -> None:
        box["value"] = interrupts.isolated(in_child, interrupts.ISOLATE_MIN_NONZEROS)

    monkeypatch.setattr(os, "fork", fork)
    h = threading.Thread(target=hold)
    h.start()
    holding.wait(10)
    t = threading.Thread(target=run)
    t.start()
    forked.wait(10)
    release.set()  # the parent goes on; the child has its copy of the lock
    h.join()
    t.join(15)
    if t.is_alive():  # the child deadlocked: kill it through the policy
        interrupts.request_stop(signal.SIGINT)
        t.join(10)
        interrupts.reset()
        pytest.fail("the forked child waited forever for a lock held at the fork")
    assert box["value"] == 7
